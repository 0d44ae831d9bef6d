"""Risk acceptance: accepting a finding's risk until an expiry date, withdrawing it, and its
expiry (which reopens the finding)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ...db import today_utc, utcnow
from ...models import AuditAction, Finding, RiskAcceptance
from .. import ValidationFailed
from ..audit import Actor
from .fields import _clean, _text_problem
from .lifecycle import ACCEPTABLE, S, TransitionRefused, _changed, _check_version, _record

ENDED_EXPIRED = "expired"
ENDED_WITHDRAWN = "withdrawn"
# Who ends acceptances that expired when nobody in particular did (a page view, cron).
EXPIRY_ACTOR = Actor.system("acceptance-expiry")


def _acceptance_in_force(session: Session, finding: Finding) -> RiskAcceptance | None:
    return session.scalar(
        sa.select(RiskAcceptance)
        .where(RiskAcceptance.finding_id == finding.id, RiskAcceptance.ended_at.is_(None))
        .order_by(RiskAcceptance.id.desc())
        .limit(1)
        .with_for_update()
    )


def acceptance_problems(
    justification: str, expires_on: date | None, *, today: date, max_days: int
) -> dict[str, list[str]]:
    """A justification (no secret-looking text) and an expiry after today, at most
    ``max_days`` ahead (``FINDING_ACCEPTANCE_MAX_DAYS``): a risk is never accepted for good."""
    problems: dict[str, list[str]] = {}
    problem = _text_problem(
        justification, required="Write why the risk is acceptable until the expiry."
    )
    if problem:
        problems["justification"] = [problem]
    latest = today + timedelta(days=max_days)
    if expires_on is None:
        problems["expires_on"] = ["Enter the day the acceptance expires."]
    elif expires_on <= today:
        problems["expires_on"] = ["The expiry must be after today."]
    elif expires_on > latest:
        problems["expires_on"] = [
            f"A risk is accepted for at most {max_days} days: choose {latest.isoformat()} "
            "or earlier."
        ]
    return problems


def accept_risk(
    session: Session,
    finding: Finding,
    *,
    justification: str,
    expires_on: date | None,
    expected_version: int | None,
    actor: Actor,
    today: date | None = None,
) -> RiskAcceptance:
    """Accept the finding's risk until ``expires_on``, approved by the acting risk officer
    (``actor``; the area lets only risk officers write). Only an open finding or one in
    remediation can be accepted. Audited."""
    today = today or today_utc()
    if actor.user_id is None:
        raise ValueError("a risk acceptance needs a person as approver")
    justification = _clean(justification or "")
    max_days = int(current_app.config["FINDING_ACCEPTANCE_MAX_DAYS"])
    problems = acceptance_problems(justification, expires_on, today=today, max_days=max_days)
    if problems:
        raise ValidationFailed(problems)
    _check_version(finding, expected_version, {})
    if finding.status not in ACCEPTABLE:
        raise TransitionRefused(
            f"A finding that is {finding.status.label} cannot have its risk accepted."
        )
    acceptance = RiskAcceptance(
        finding_id=finding.id,
        justification=justification,
        approver_id=actor.user_id,
        expires_on=expires_on,
    )
    session.add(acceptance)
    before = finding.status
    finding.status = S.accepted
    _changed(finding)
    session.flush()
    _record(
        session,
        AuditAction.risk_accepted,
        finding,
        actor=actor,
        acceptance=acceptance.id,
        expires_on=expires_on.isoformat(),
        justification=justification,
        status={"from": before.value, "to": S.accepted.value},
    )
    return acceptance


def end_acceptance(
    session: Session, finding: Finding, *, expected_version: int | None, actor: Actor
) -> RiskAcceptance:
    """Withdraw the acceptance in force: the finding is open again. Audited."""
    _check_version(finding, expected_version, {})
    acceptance = _acceptance_in_force(session, finding) if finding.status is S.accepted else None
    if acceptance is None:
        raise TransitionRefused("No risk acceptance is in force on this finding.")
    acceptance.ended_at = utcnow()
    acceptance.ended_reason = ENDED_WITHDRAWN
    finding.status = S.open
    _changed(finding)
    session.flush()
    _record(
        session,
        AuditAction.risk_acceptance_ended,
        finding,
        actor=actor,
        acceptance=acceptance.id,
        reason=ENDED_WITHDRAWN,
        expires_on=acceptance.expires_on.isoformat(),
    )
    return acceptance


def _due_to_expire(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(RiskAcceptance.ended_at.is_(None), RiskAcceptance.expires_on < today)


def acceptances_due(session: Session, today: date) -> bool:
    """Whether an acceptance expired and was not ended yet: an index probe on ``expires_on``,
    so a page can afford to ask before it takes the write lock."""
    return bool(session.scalar(sa.select(sa.exists().where(_due_to_expire(today)))))


@dataclass(frozen=True)
class ExpiredAcceptance:
    acceptance_id: int
    finding_id: int
    vendor_id: int
    title: str
    expires_on: date


def expire_acceptances(
    session: Session, today: date, *, actor: Actor = EXPIRY_ACTOR
) -> list[ExpiredAcceptance]:
    """End every acceptance that expired (``expires_on`` before ``today``, a UTC day) and is
    not ended yet, and reopen its finding. Two UPDATE statements whatever their number (the
    acceptances found through the index on ``expires_on``), then one audit event each
    (``finding.risk_acceptance_ended``, reason "expired").

    It happens by itself: the findings pages (staff and portal) run it first, and so does
    ``flask --app app findings expire`` (for cron). Running it twice, or at the same moment
    (the UPDATE takes the rows: the second one finds none left), ends nothing twice."""
    now = utcnow()
    ended = session.execute(
        sa.update(RiskAcceptance)
        .where(_due_to_expire(today))
        .values(ended_at=now, ended_reason=ENDED_EXPIRED)
        .returning(RiskAcceptance.id, RiskAcceptance.finding_id, RiskAcceptance.expires_on)
        .execution_options(synchronize_session="fetch")
    ).all()
    if not ended:
        return []
    finding_ids = sorted({row.finding_id for row in ended})
    session.execute(
        sa.update(Finding)
        .where(Finding.id.in_(finding_ids), Finding.status == S.accepted)
        .values(status=S.open, version=Finding.version + 1, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    findings = {
        f.id: f for f in session.scalars(sa.select(Finding).where(Finding.id.in_(finding_ids)))
    }
    expired = []
    for row in sorted(ended, key=lambda r: r.id):
        finding = findings[row.finding_id]
        _record(
            session,
            AuditAction.risk_acceptance_ended,
            finding,
            actor=actor,
            acceptance=row.id,
            reason=ENDED_EXPIRED,
            expires_on=row.expires_on.isoformat(),
        )
        expired.append(
            ExpiredAcceptance(row.id, finding.id, finding.vendor_id, finding.title, row.expires_on)
        )
    return expired
