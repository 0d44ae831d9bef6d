"""Findings: weaknesses a vendor has to remediate, and risk acceptances, in one place.

A finding is opened automatically (a failing answer to a critical question, a finding rule of
the questionnaire whose condition holds) or by hand by a risk officer. Its life:

    open -> in remediation -> resolved -> (reopened) open
    open or in remediation -> accepted, only by :func:`accept_risk` (a justification, the
    acting risk officer as approver, an expiry date)
    accepted -> open, only when the acceptance ends: withdrawn (:func:`end_acceptance`) or
    expired (:func:`expire_acceptances`, which runs by itself: see its docstring)

Vendor contacts see their vendor's findings that are visible to vendors (automatic ones always
are; a risk officer may keep a manual one internal), and answer them with notes and files.
Every change is audited in the caller's transaction; services flush, the caller commits.
Dates are UTC days, like every due date of the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.orm import Session, aliased
from werkzeug.datastructures import FileStorage

from ...core.questionnaire.markup import plain
from ...core.questionnaire.model import FindingRule
from ...core.scoring.control import AnswerStatus, CriticalFailure
from ...core.secret_detection import secret_problem
from ...db import today_utc, utcnow
from ...models import (
    AuditAction,
    Finding,
    FindingFile,
    FindingNote,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    QuestionnaireRequest,
    RiskAcceptance,
    Role,
    User,
    Vendor,
)
from .. import EditConflict, ValidationFailed, audit, uploads
from ..audit import Actor
from ..pages import Page, enum_rank, one_page

S = FindingStatus
# The moves :func:`change_status` makes. Accepting is :func:`accept_risk`'s alone, and an
# accepted finding reopens only when its acceptance ends.
NEXT: dict[FindingStatus, frozenset[FindingStatus]] = {
    S.open: frozenset({S.in_remediation, S.resolved}),
    S.in_remediation: frozenset({S.open, S.resolved}),
    S.resolved: frozenset({S.open}),
    S.accepted: frozenset(),
}
# Still to remediate: counted as open on dashboards, and overdue past their due date.
UNRESOLVED = frozenset({S.open, S.in_remediation})
ACCEPTABLE = UNRESOLVED

TITLE_MAX = 300
TEXT_MAX = 10_000
OWNER_MAX = 200
TITLE_ELLIPSIS = "…"
FINDING_FIELDS = (
    "title",
    "description",
    "remediation",
    "severity",
    "owner",
    "due_on",
    "visible_to_vendor",
)
# The free-text fields, with their longest length; checked for secret-looking text too.
TEXT_LIMITS = {
    "title": TITLE_MAX,
    "description": TEXT_MAX,
    "remediation": TEXT_MAX,
    "owner": OWNER_MAX,
}
FINDING_SORTS = ("due_on", "severity", "created_at", "status", "vendor", "title")
# What an automatic finding asks of the vendor (a risk officer may rewrite it).
AUTOMATIC_REMEDIATION = (
    "Put the control in place, then tell us what changed in a note on this finding and attach "
    "evidence (a policy, a screenshot of the setting, an audit report)."
)
ENDED_EXPIRED = "expired"
ENDED_WITHDRAWN = "withdrawn"
# Who ends acceptances that expired when nobody in particular did (a page view, cron).
EXPIRY_ACTOR = Actor.system("acceptance-expiry")


# ---- the lifecycle -------------------------------------------------------------------------


class TransitionRefused(ValueError):
    """The finding cannot go from its status to the one asked for (the message says why)."""


def may_move(current: FindingStatus, to: FindingStatus) -> bool:
    return to in NEXT[current]


def check_move(current: FindingStatus, to: FindingStatus) -> None:
    """Refuse a move :data:`NEXT` does not allow, saying what to do instead."""
    if may_move(current, to):
        return
    if to is S.accepted and current in ACCEPTABLE:
        raise TransitionRefused(
            "Accepting a risk needs a justification and an expiry date: use “Accept the risk”."
        )
    if current is S.accepted:
        raise TransitionRefused(
            "The risk of this finding is accepted: end the acceptance to reopen it."
        )
    raise TransitionRefused(f"A finding that is {current.label} cannot become {to.label}.")


def is_overdue(status: FindingStatus, due_on: date | None, today: date) -> bool:
    """Past its due date and still to remediate (resolved and accepted findings never are)."""
    return due_on is not None and due_on < today and status in UNRESOLVED


def _check_version(finding: Finding, expected: int | None, values: Mapping[str, Any]) -> None:
    """Refuse a form opened on an older version of the finding (None: no check). The caller
    loaded the finding locked (:func:`get_finding` with ``for_update``)."""
    if expected is None or finding.version == expected:
        return
    differs = [
        name.replace("_", " ")
        for name, value in values.items()
        if hasattr(finding, name) and getattr(finding, name) != value
    ]
    raise EditConflict(
        {
            "": [
                "Someone else changed this finding after you opened this page, so nothing was "
                "saved."
                + (f" Theirs differs from yours in: {', '.join(differs)}." if differs else "")
                + " Read it again, then repeat your change if it still applies."
            ]
        },
        finding.version,
    )


def _changed(finding: Finding) -> None:
    """Every change bumps the version that forms carry (optimistic locking)."""
    finding.version = (finding.version or 0) + 1
    finding.updated_at = utcnow()


def _record(
    session: Session,
    action: AuditAction,
    finding: Finding,
    *,
    actor: Actor,
    **details: Any,
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        object_type="finding",
        object_id=finding.id,
        vendor_id=finding.vendor_id,
        details={"title": finding.title, **details},
    )


# ---- due dates -----------------------------------------------------------------------------


def due_days(config: Mapping[str, Any]) -> dict[FindingSeverity, int]:
    """Days to remediate per severity, from the settings ``FINDING_DUE_DAYS_<SEVERITY>``."""
    return {s: int(config[f"FINDING_DUE_DAYS_{s.name.upper()}"]) for s in FindingSeverity}


def _default_due_on(severity: FindingSeverity, today: date) -> date:
    return today + timedelta(days=due_days(current_app.config)[severity])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


# ---- automatic findings --------------------------------------------------------------------


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


# ---- manual findings -----------------------------------------------------------------------


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def finding_problems(
    values: Mapping[str, Any], *, finding: Finding | None = None, today: date | None = None
) -> dict[str, list[str]]:
    """What is wrong with a finding's fields, by field: required title and severity, lengths,
    secret-looking text, a due date in the past (when set or changed), and an automatic
    finding made internal (vendors always see those). ``finding``: the one being edited."""
    today = today or today_utc()
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    title = values.get("title")
    if not isinstance(title, str) or not title.strip():
        add("title", "Enter a title: the weakness in a few words.")
    for name, limit in TEXT_LIMITS.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            add(name, f"Keep it within {limit:,} characters ({len(value):,}).")
        elif isinstance(value, str) and (found := secret_problem(value)):
            add(name, found)
    if not isinstance(values.get("severity"), FindingSeverity):
        add("severity", "Choose a severity.")
    due_on = values.get("due_on")
    if finding is not None and due_on is None:
        add("due_on", "Enter a due date.")
    changed = finding is None or due_on != finding.due_on
    if isinstance(due_on, date) and changed and due_on < today:
        add("due_on", "The due date is in the past: choose today or a later day.")
    automatic = finding is not None and finding.source is not FindingSource.manual
    if automatic and values.get("visible_to_vendor") is False:
        add(
            "visible_to_vendor",
            "Findings opened by the vendor's answers are always shown to the vendor.",
        )
    return problems


def _checked(
    values: Mapping[str, Any], *, finding: Finding | None, today: date | None
) -> dict[str, Any]:
    unknown = set(values) - set(FINDING_FIELDS)
    if unknown:
        raise ValueError(f"not fields of a finding: {sorted(unknown)}")
    cleaned = {
        name: _clean(value) if name in TEXT_LIMITS and isinstance(value, str) else value
        for name, value in values.items()
    }
    problems = finding_problems(cleaned, finding=finding, today=today)
    if problems:
        raise ValidationFailed(problems)
    return cleaned


def create_finding(
    session: Session,
    vendor_id: int,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    today: date | None = None,
) -> Finding:
    """A finding written by a risk officer (:data:`FINDING_FIELDS`). Without a due date it
    is due after the days its severity allows. Audited."""
    today = today or today_utc()
    if session.get(Vendor, vendor_id) is None:
        raise ValidationFailed({"vendor_id": ["Choose one of the listed vendors."]})
    cleaned = _checked(values, finding=None, today=today)
    cleaned["due_on"] = cleaned.get("due_on") or _default_due_on(cleaned["severity"], today)
    finding = Finding(
        vendor_id=vendor_id,
        source=FindingSource.manual,
        created_by_id=actor.user_id,
        **cleaned,
    )
    session.add(finding)
    session.flush()
    _record(
        session,
        AuditAction.finding_opened,
        finding,
        actor=actor,
        source=FindingSource.manual.value,
        severity=finding.severity.value,
        visible_to_vendor=finding.visible_to_vendor,
    )
    return finding


def update_finding(
    session: Session,
    finding: Finding,
    values: Mapping[str, Any],
    *,
    expected_version: int | None,
    actor: Actor,
    today: date | None = None,
) -> list[str]:
    """Save a risk officer's edit; returns the names of the fields changed (nothing changed:
    nothing recorded). A form opened on an older version is an :class:`EditConflict`."""
    cleaned = _checked(values, finding=finding, today=today)
    _check_version(finding, expected_version, cleaned)
    changed = [name for name, value in cleaned.items() if getattr(finding, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(finding, name, cleaned[name])
    _changed(finding)
    session.flush()
    _record(session, AuditAction.finding_updated, finding, actor=actor, changed=changed)
    return changed


def change_status(
    session: Session,
    finding: Finding,
    to: FindingStatus,
    *,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Move the finding along :data:`NEXT` (:class:`TransitionRefused` otherwise). Resolving
    stamps ``resolved_at``; reopening clears it. Audited."""
    _check_version(finding, expected_version, {})
    check_move(finding.status, to)
    before = finding.status
    finding.status = to
    finding.resolved_at = utcnow() if to is S.resolved else None
    _changed(finding)
    session.flush()
    _record(
        session,
        AuditAction.finding_updated,
        finding,
        actor=actor,
        status={"from": before.value, "to": to.value},
    )


def _text_problem(text: str, *, required: str) -> str | None:
    if not text:
        return required
    if len(text) > TEXT_MAX:
        return f"Keep it within {TEXT_MAX:,} characters ({len(text):,})."
    return secret_problem(text)


def add_note(session: Session, finding: Finding, body: str, *, actor: Actor) -> FindingNote:
    """A remediation note by staff or by one of the vendor's contacts (who reach only the
    findings :func:`finding_for_contact` gives them). Audited, without its text."""
    body = _clean(body or "")
    if problem := _text_problem(body, required="Write the note first."):
        raise ValidationFailed({"body": [problem]})
    note = FindingNote(finding_id=finding.id, body=body, author_id=actor.user_id)
    session.add(note)
    session.flush()
    _record(
        session,
        AuditAction.finding_note_added,
        finding,
        actor=actor,
        note=note.id,
        length=len(body),
    )
    return note


def add_file(
    session: Session, finding: Finding, file_storage: FileStorage, *, actor: Actor
) -> FindingFile:
    """Evidence of a remediation, checked and stored like answers' evidence (size, type by
    content, random stored name, SHA-256), or refused with the reason at ``file``. Audited."""
    try:
        received = uploads.receive_file(session, file_storage)
    except uploads.FileRefused as exc:
        raise ValidationFailed({"file": [str(exc)]}) from None
    stored = FindingFile(
        finding_id=finding.id,
        filename=received.filename,
        stored_name=received.stored_name,
        sha256=received.sha256,
        size=received.size,
        content_type=received.content_type,
        uploaded_by_id=actor.user_id,
    )
    session.add(stored)
    session.flush()
    _record(
        session,
        AuditAction.finding_file_uploaded,
        finding,
        actor=actor,
        file=stored.id,
        filename=received.filename,
        size=received.size,
        sha256=received.sha256,
        content_type=received.content_type,
    )
    return stored


def record_file_download(
    session: Session, finding: Finding, stored: FindingFile, *, actor: Actor
) -> None:
    """Audit who fetched a finding's file; 404 when its bytes are gone, before recording."""
    if not uploads.path_of(stored).is_file():
        abort(404)
    _record(
        session,
        AuditAction.finding_file_downloaded,
        finding,
        actor=actor,
        file=stored.id,
        filename=stored.filename,
    )


# ---- risk acceptance -----------------------------------------------------------------------


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


# ---- finding one ---------------------------------------------------------------------------


def get_finding(session: Session, finding_id: int, *, for_update: bool = False) -> Finding | None:
    """Any finding (staff see every vendor's). ``for_update``: locked (PostgreSQL) and read
    again, for a change compared with the version its form carries."""
    query = sa.select(Finding).where(Finding.id == finding_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def finding_for_contact(session: Session, user: User, finding_id: int) -> Finding | None:
    """A finding of the contact's vendor that vendors may see; None for any other (another
    vendor's, or an internal one: 404)."""
    if user.vendor_id is None:
        return None
    return session.scalar(
        sa.select(Finding).where(
            Finding.id == finding_id,
            Finding.vendor_id == user.vendor_id,
            Finding.visible_to_vendor.is_(True),
        )
    )


def file_of(session: Session, finding: Finding, file_id: int) -> FindingFile | None:
    """One file of this finding (None for another finding's: the caller found the finding
    through the query that confines its user)."""
    return session.scalar(
        sa.select(FindingFile).where(
            FindingFile.id == file_id, FindingFile.finding_id == finding.id
        )
    )


@dataclass(frozen=True)
class NoteView:
    id: int
    body: str
    created_at: datetime
    author: str
    from_vendor: bool  # written by one of the vendor's contacts


@dataclass(frozen=True)
class FileView:
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    from_vendor: bool


@dataclass(frozen=True)
class AcceptanceView:
    id: int
    justification: str
    approver: str
    accepted_at: datetime
    expires_on: date
    ended_at: datetime | None
    ended_reason: str

    @property
    def in_force(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class FindingDetail:
    """One finding with its notes and files (oldest first) and acceptances (newest first)."""

    id: int
    vendor_id: int
    vendor_name: str
    request_id: int | None
    question_id: str | None
    source: FindingSource
    title: str
    description: str
    remediation: str
    severity: FindingSeverity
    status: FindingStatus
    visible_to_vendor: bool
    owner: str
    due_on: date | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    resolved_at: datetime | None
    version: int
    overdue: bool
    notes: tuple[NoteView, ...]
    files: tuple[FileView, ...]
    acceptances: tuple[AcceptanceView, ...]

    @property
    def acceptance(self) -> AcceptanceView | None:
        """The acceptance in force, if any."""
        return next((a for a in self.acceptances if a.in_force), None)

    @property
    def moves(self) -> tuple[FindingStatus, ...]:
        """The statuses a risk officer may move it to from here (acceptance apart)."""
        return tuple(s for s in FindingStatus if may_move(self.status, s))

    @property
    def acceptable(self) -> bool:
        return self.status in ACCEPTABLE


def _name(user_name: str | None) -> str:
    return user_name or "someone no longer known"


def finding_detail(
    session: Session, finding: Finding, *, today: date | None = None
) -> FindingDetail:
    """Everything a finding's page shows, in four statements (the finding, its notes, files
    and acceptances, each with the people's names). ``finding`` was found through the query
    that confines the user (staff: any; a contact: :func:`finding_for_contact`)."""
    today = today or today_utc()
    creator = aliased(User)
    head = session.execute(
        sa.select(Vendor.name, creator.name)
        .select_from(Finding)
        .join(Vendor, Vendor.id == Finding.vendor_id)
        .outerjoin(creator, creator.id == Finding.created_by_id)
        .where(Finding.id == finding.id)
    ).one()
    notes = session.execute(
        sa.select(FindingNote, User.name, User.role)
        .outerjoin(User, User.id == FindingNote.author_id)
        .where(FindingNote.finding_id == finding.id)
        .order_by(FindingNote.created_at, FindingNote.id)
    ).all()
    files = session.execute(
        sa.select(FindingFile, User.name, User.role)
        .outerjoin(User, User.id == FindingFile.uploaded_by_id)
        .where(FindingFile.finding_id == finding.id)
        .order_by(FindingFile.id)
    ).all()
    acceptances = session.execute(
        sa.select(RiskAcceptance, User.name)
        .outerjoin(User, User.id == RiskAcceptance.approver_id)
        .where(RiskAcceptance.finding_id == finding.id)
        .order_by(RiskAcceptance.id.desc())
    ).all()
    return FindingDetail(
        id=finding.id,
        vendor_id=finding.vendor_id,
        vendor_name=head[0],
        request_id=finding.request_id,
        question_id=finding.question_id,
        source=finding.source,
        title=finding.title,
        description=finding.description,
        remediation=finding.remediation,
        severity=finding.severity,
        status=finding.status,
        visible_to_vendor=finding.visible_to_vendor,
        owner=finding.owner,
        due_on=finding.due_on,
        created_at=finding.created_at,
        created_by=head[1],
        updated_at=finding.updated_at,
        resolved_at=finding.resolved_at,
        version=finding.version,
        overdue=is_overdue(finding.status, finding.due_on, today),
        notes=tuple(
            NoteView(n.id, n.body, n.created_at, _name(name), role is Role.vendor_contact)
            for n, name, role in notes
        ),
        files=tuple(
            FileView(
                f.id,
                f.filename,
                f.size,
                f.content_type,
                f.sha256,
                f.uploaded_at,
                _name(name),
                role is Role.vendor_contact,
            )
            for f, name, role in files
        ),
        acceptances=tuple(
            AcceptanceView(
                a.id,
                a.justification,
                _name(name),
                a.accepted_at,
                a.expires_on,
                a.ended_at,
                a.ended_reason,
            )
            for a, name in acceptances
        ),
    )


# ---- lists ---------------------------------------------------------------------------------


class AgeBucket(StrEnum):
    """How long a finding has been open, in days since it was opened (UTC days)."""

    recent = "0-30"
    months = "31-90"
    old = "91+"

    @property
    def label(self) -> str:
        return f"{self.value} days"

    @property
    def bounds(self) -> tuple[int, int | None]:
        """The first and last age in days it holds (None: no upper end)."""
        return _AGE_BOUNDS[self]


_AGE_BOUNDS: dict[AgeBucket, tuple[int, int | None]] = {
    AgeBucket.recent: (0, 30),
    AgeBucket.months: (31, 90),
    AgeBucket.old: (91, None),
}


def _age_condition(bucket: AgeBucket, today: date) -> sa.ColumnElement[bool]:
    """Opened on a day whose age falls in ``bucket``, as a range of ``created_at`` (indexed)."""
    first, last = bucket.bounds
    conditions = []
    if first > 0:
        conditions.append(Finding.created_at < _midnight(today - timedelta(days=first - 1)))
    if last is not None:
        conditions.append(Finding.created_at >= _midnight(today - timedelta(days=last)))
    return sa.and_(sa.true(), *conditions)


def _overdue_condition(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(Finding.due_on < today, Finding.status.in_(sorted(UNRESOLVED)))


@dataclass(frozen=True)
class FindingRow:
    id: int
    vendor_id: int
    vendor_name: str
    title: str
    severity: FindingSeverity
    status: FindingStatus
    source: FindingSource
    visible_to_vendor: bool
    owner: str
    due_on: date | None
    created_at: datetime
    age_days: int
    overdue: bool
    accepted_until: date | None  # the expiry of the acceptance in force


def _listed() -> sa.Select:
    """Findings with their vendor's name and the expiry of the acceptance in force: one row
    per finding (the latest expiry, should two ever be in force)."""
    in_force = (
        sa.select(
            RiskAcceptance.finding_id.label("finding_id"),
            sa.func.max(RiskAcceptance.expires_on).label("expires_on"),
        )
        .where(RiskAcceptance.ended_at.is_(None))
        .group_by(RiskAcceptance.finding_id)
        .subquery()
    )
    return (
        sa.select(
            Finding.id,
            Finding.vendor_id,
            Vendor.name.label("vendor_name"),
            Finding.title,
            Finding.severity,
            Finding.status,
            Finding.source,
            Finding.visible_to_vendor,
            Finding.owner,
            Finding.due_on,
            Finding.created_at,
            in_force.c.expires_on.label("accepted_until"),
        )
        .join(Vendor, Vendor.id == Finding.vendor_id)
        .outerjoin(in_force, in_force.c.finding_id == Finding.id)
    )


def _row_maker(today: date):
    def row(r: Any) -> FindingRow:
        return FindingRow(
            id=r.id,
            vendor_id=r.vendor_id,
            vendor_name=r.vendor_name,
            title=r.title,
            severity=r.severity,
            status=r.status,
            source=r.source,
            visible_to_vendor=r.visible_to_vendor,
            owner=r.owner,
            due_on=r.due_on,
            created_at=r.created_at,
            age_days=max(0, (today - r.created_at.astimezone(UTC).date()).days),
            overdue=is_overdue(r.status, r.due_on, today),
            accepted_until=r.accepted_until,
        )

    return row


def sort_order(sort: str, descending: bool) -> list[sa.ColumnElement]:
    columns: dict[str, sa.ColumnElement] = {
        "due_on": Finding.due_on,
        "severity": enum_rank(Finding.severity, FindingSeverity),
        "created_at": Finding.created_at,
        "status": enum_rank(Finding.status, FindingStatus),
        "vendor": sa.func.lower(Vendor.name),
        "title": sa.func.lower(Finding.title),
    }
    column = columns[sort]
    ordered = column.desc() if descending else column.asc()
    # Findings without a due date come last either way: they are nobody's deadline.
    if sort == "due_on":
        ordered = ordered.nulls_last()
    return [ordered, Finding.id.desc() if descending else Finding.id]


def search_findings(
    session: Session,
    *,
    status: FindingStatus | None = None,
    severity: FindingSeverity | None = None,
    vendor_id: int | None = None,
    overdue: bool = False,
    to_remediate: bool = False,
    age: AgeBucket | None = None,
    sort: str = "due_on",
    descending: bool = False,
    page: int = 1,
    today: date | None = None,
) -> Page[FindingRow]:
    """The staff's list of findings, filtered and sorted (:data:`FINDING_SORTS`); one
    statement a page. ``overdue``: past due and still to remediate; ``to_remediate``: open or
    in remediation (what :func:`open_counts` counts); ``age``: since opened."""
    if sort not in FINDING_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    today = today or today_utc()
    query = _listed()
    if status is not None:
        query = query.where(Finding.status == status)
    if severity is not None:
        query = query.where(Finding.severity == severity)
    if vendor_id is not None:
        query = query.where(Finding.vendor_id == vendor_id)
    if overdue:
        query = query.where(_overdue_condition(today))
    if to_remediate:
        query = query.where(Finding.status.in_(sorted(UNRESOLVED)))
    if age is not None:
        query = query.where(_age_condition(age, today))
    return one_page(session, query.order_by(*sort_order(sort, descending)), page, _row_maker(today))


def _of_contact(user: User) -> sa.ColumnElement[bool]:
    """The findings a contact may see: their vendor's, visible to vendors (none without a
    vendor)."""
    if user.vendor_id is None:
        return sa.false()
    return sa.and_(Finding.vendor_id == user.vendor_id, Finding.visible_to_vendor.is_(True))


def findings_of_contact(
    session: Session, user: User, *, page: int = 1, today: date | None = None
) -> Page[FindingRow]:
    """Every finding the contact's vendor may see, those to remediate first, then by due
    date; one statement a page."""
    today = today or today_utc()
    query = (
        _listed()
        .where(_of_contact(user))
        .order_by(
            sa.case((Finding.status.in_(sorted(UNRESOLVED)), 0), else_=1),
            Finding.due_on.asc().nulls_last(),
            Finding.id,
        )
    )
    return one_page(session, query, page, _row_maker(today))


def open_for_contact(
    session: Session, user: User, *, today: date | None = None, limit: int = 20
) -> list[FindingRow]:
    """The contact's vendor's findings still to remediate, the soonest due first (for the
    portal's home page; the findings page lists them all)."""
    today = today or today_utc()
    query = (
        _listed()
        .where(_of_contact(user), Finding.status.in_(sorted(UNRESOLVED)))
        .order_by(Finding.due_on.asc().nulls_last(), Finding.id)
        .limit(limit)
    )
    return [_row_maker(today)(r) for r in session.execute(query)]


@dataclass(frozen=True)
class OpenCounts:
    """Findings still to remediate (open or in remediation) by severity and age bucket."""

    cells: Mapping[tuple[FindingSeverity, AgeBucket], int]

    def count(self, severity: FindingSeverity, bucket: AgeBucket) -> int:
        return self.cells.get((severity, bucket), 0)

    def of_severity(self, severity: FindingSeverity) -> int:
        return sum(self.count(severity, b) for b in AgeBucket)

    def of_age(self, bucket: AgeBucket) -> int:
        return sum(self.count(s, bucket) for s in FindingSeverity)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


def open_counts(session: Session, today: date) -> OpenCounts:
    """For the dashboard: findings still to remediate by severity x age (0-30, 31-90, 91+
    days since opened); one statement."""
    bucket = sa.case(
        *((_age_condition(b, today), b.value) for b in AgeBucket if b.bounds[1] is not None),
        else_=AgeBucket.old.value,
    )
    inner = (
        sa.select(Finding.severity.label("severity"), bucket.label("bucket"))
        .where(Finding.status.in_(sorted(UNRESOLVED)))
        .subquery()
    )
    rows = session.execute(
        sa.select(inner.c.severity, inner.c.bucket, sa.func.count()).group_by(
            inner.c.severity, inner.c.bucket
        )
    )
    return OpenCounts({(FindingSeverity(sev), AgeBucket(b)): n for sev, b, n in rows})
