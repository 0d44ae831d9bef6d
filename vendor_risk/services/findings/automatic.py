"""Findings opened by the answers themselves: a failing critical question, a finding rule of
the questionnaire whose condition holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.questionnaire.markup import plain
from ...core.questionnaire.model import FindingRule
from ...core.scoring.control import AnswerStatus, CriticalFailure
from ...db import today_utc
from ...models import AuditAction, Finding, FindingSeverity, FindingSource, QuestionnaireRequest
from ..audit import Actor
from .fields import TITLE_ELLIPSIS, TITLE_MAX
from .lifecycle import _default_due_on, _record

# What an automatic finding asks of the vendor (a risk officer may rewrite it).
AUTOMATIC_REMEDIATION = (
    "Put the control in place, then tell us what changed in a note on this finding and attach "
    "evidence (a policy, a screenshot of the setting, an audit report)."
)


@dataclass(frozen=True)
class _Cause:
    rule_key: str
    source: FindingSource
    question_id: str | None
    severity: FindingSeverity
    title: str
    description: str


def _title(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= TITLE_MAX:
        return text
    return text[: TITLE_MAX - len(TITLE_ELLIPSIS)].rstrip() + TITLE_ELLIPSIS


def _failure_cause(failure: CriticalFailure) -> _Cause:
    """A critical question failing: high severity, titled with the question (plain text
    already: scoring.control gives it so)."""
    why = (
        "This critical question has no answer we can count (no answer, or not applicable "
        "without a justification)"
        if failure.status is AnswerStatus.unanswered
        else "The answer to this critical question does not meet our requirement"
    )
    return _Cause(
        rule_key=f"critical:{failure.question_id}",
        source=FindingSource.critical_answer,
        question_id=failure.question_id,
        severity=FindingSeverity.high,
        title=_title(failure.text),
        description=f"{why}: “{failure.text}”.",
    )


def _rule_cause(rule: FindingRule) -> _Cause:
    return _Cause(
        rule_key=f"rule:{rule.id}",
        source=FindingSource.rule,
        question_id=None,
        severity=FindingSeverity(rule.severity.value),
        title=_title(plain(rule.title)),
        description=plain(rule.why),
    )


def open_automatic(
    session: Session,
    request: QuestionnaireRequest,
    failures: Iterable[CriticalFailure],
    rules: Iterable[FindingRule],
    *,
    actor: Actor,
    today: date | None = None,
) -> list[Finding]:
    """Open one finding per critical failure (``critical:<question id>``) and per finding
    rule whose condition holds (``rule:<rule id>``) of ``request``, visible to the vendor, due
    after the days its severity allows (``FINDING_DUE_DAYS_*``); returns those opened now.

    Computing the findings of a request again never duplicates one: a cause that already has
    its finding for this request is skipped, whatever that finding's status (the unique key
    on request and rule key also holds against a computation running at the same moment). A
    finding whose cause is gone on a later computation of the same request (the answer was
    improved during review) is left as it is: closing it is a risk officer's decision, on
    the vendor's notes and evidence. A new request of the same vendor (a reassessment) gets
    findings of its own.
    """
    today = today or today_utc()
    causes = {c.rule_key: c for c in (*map(_failure_cause, failures), *map(_rule_cause, rules))}
    if not causes:
        return []
    existing = set(
        session.scalars(
            sa.select(Finding.rule_key).where(
                Finding.request_id == request.id, Finding.rule_key.in_(sorted(causes))
            )
        )
    )
    opened = []
    for key in sorted(causes.keys() - existing):
        cause = causes[key]
        finding = Finding(
            vendor_id=request.vendor_id,
            request_id=request.id,
            question_id=cause.question_id,
            source=cause.source,
            rule_key=cause.rule_key,
            title=cause.title,
            description=cause.description,
            remediation=AUTOMATIC_REMEDIATION,
            severity=cause.severity,
            visible_to_vendor=True,
            due_on=_default_due_on(cause.severity, today),
            created_by_id=actor.user_id,
        )
        try:
            with session.begin_nested():
                session.add(finding)
        except sa.exc.IntegrityError:
            continue  # opened by a computation of the same request running at the same moment
        _record(
            session,
            AuditAction.finding_opened,
            finding,
            actor=actor,
            source=cause.source.value,
            cause=key,  # not rule_key: the audit trail redacts any *key* detail
            request=request.id,
            severity=cause.severity.value,
        )
        opened.append(finding)
    return opened
