"""Questionnaire requests: creating, sending and moving them through their statuses, the
staff's list, and the reminders.

A request for a vendor questionnaire is sent to contacts by email: every address listed gets an
invite (an existing contact of the vendor redeeming it simply logs in), so there is one way in,
whatever accounts exist. An internal questionnaire (the intake) has no contacts: staff fill it
in the app. Overdue is not stored: :func:`overdue_clause` says it in SQL, as
``request_status.is_overdue`` says it in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...db import today_utc, utcnow
from ...models import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Invite,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    Role,
    User,
    Vendor,
    VendorStatus,
)
from .. import ValidationFailed, audit, mail
from ..accounts import users as accounts
from ..assessments import scoring
from ..audit import Actor
from ..pages import Page, enum_rank, one_page, sort_order
from . import answers, invites
from .library import latest_versions
from .request_status import AWAITING_REVIEW, AWAITING_VENDOR, is_overdue, transition

# ---- creating and cancelling ----------------------------------------------------------------

MAX_CONTACTS = 20
VENDOR_AUDIENCE = "vendor"


def parse_contacts(lines: list[str]) -> tuple[list[str], list[str]]:
    """The normalised addresses of ``lines`` (blank lines skipped, duplicates dropped) and a
    message for every bad line, numbered as the person typed them."""
    emails: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            email = accounts.check_email(text)
        except ValidationFailed as exc:
            reason = " ".join(exc.errors["email"])
            problems.append(f"Line {number}: “{text[:100]}” is not an email address ({reason})")
            continue
        if email not in emails:
            emails.append(email)
    if len(emails) > MAX_CONTACTS:
        problems.append(f"List at most {MAX_CONTACTS} contacts; more can be invited later.")
    return emails, problems


@dataclass(frozen=True)
class _Checked:
    errors: dict[str, list[str]]
    vendor: Vendor | None
    version: QuestionnaireVersion | None
    audience: str | None
    emails: list[str]


def _check(
    session: Session,
    *,
    vendor_id: int | None,
    version_id: int | None,
    due_on: date | None,
    contact_emails: list[str],
) -> _Checked:
    errors: dict[str, list[str]] = {}
    vendor = session.get(Vendor, vendor_id) if vendor_id is not None else None
    if vendor is None:
        errors["vendor_id"] = ["Choose one of the listed vendors."]
    elif vendor.status is VendorStatus.offboarded:
        errors["vendor_id"] = [f"{vendor.name} is offboarded: it cannot be sent questionnaires."]
    version = audience = None
    if version_id is not None:
        row = session.execute(
            sa.select(QuestionnaireVersion, Questionnaire.audience)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(QuestionnaireVersion.id == version_id)
        ).first()
        if row is not None:
            version, audience = row
    if version is None:
        errors["version_id"] = ["Choose one of the listed questionnaires."]
    if due_on is not None and due_on < today_utc():
        errors["due_on"] = ["The due date cannot be in the past."]
    elif due_on is None and audience == VENDOR_AUDIENCE:
        errors["due_on"] = ["Give the vendor a due date."]
    emails, problems = parse_contacts(contact_emails)
    if audience == VENDOR_AUDIENCE:
        if not emails and not problems:
            problems = ["Enter at least one contact's email address, one per line."]
    elif audience is not None and (emails or problems):
        problems = ["This questionnaire is filled in by our staff in the app: list no contacts."]
    if problems:
        errors["contact_emails"] = problems
    return _Checked(errors, vendor, version, audience, emails)


def request_problems(
    session: Session,
    *,
    vendor_id: int | None,
    version_id: int | None,
    due_on: date | None,
    contact_emails: list[str],
) -> dict[str, list[str]]:
    """Everything wrong with a new request, per field (empty: acceptable)."""
    return _check(
        session,
        vendor_id=vendor_id,
        version_id=version_id,
        due_on=due_on,
        contact_emails=contact_emails,
    ).errors


def create_request(
    session: Session,
    *,
    vendor_id: int,
    version_id: int,
    due_on: date | None,
    contact_emails: list[str],
    actor: Actor,
) -> QuestionnaireRequest:
    """Create the request, prefill it from the vendor's previous accepted one, mark it sent
    and invite every contact by email. ValidationFailed per field, nothing written. The emails
    are queued in the outbox, which sends them after the commit (and retries a failure): the
    request stands whatever the mail server does."""
    checked = _check(
        session,
        vendor_id=vendor_id,
        version_id=version_id,
        due_on=due_on,
        contact_emails=contact_emails,
    )
    if checked.errors:
        raise ValidationFailed(checked.errors)
    version = checked.version
    request = QuestionnaireRequest(
        vendor_id=vendor_id,
        version_id=version_id,
        due_on=due_on,
        question_count=version.question_count,
        created_by_id=actor.user_id,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        AuditAction.request_created,
        actor=actor,
        object_type="request",
        object_id=request.id,
        vendor_id=vendor_id,
        details={
            "questionnaire_version_id": version.id,
            "title": version.title,
            "due_on": due_on.isoformat() if due_on else None,
            "contacts": checked.emails,
        },
    )
    carried = answers.prefill_from_previous(session, request)
    transition(
        session,
        request,
        RequestStatus.sent,
        actor=actor,
        details={"audience": checked.audience, "carried_over": carried},
    )
    for email in checked.emails:
        invites.invite_contact(
            session, vendor_id=vendor_id, email=email, request_id=request.id, actor=actor
        )
    return request


def invite_more(
    session: Session, request: QuestionnaireRequest, contact_emails: list[str], *, actor: Actor
) -> list[Invite]:
    """Invite further contacts to a request waiting for the vendor (a wrong address, a
    colleague): the same checks as at creation, per line."""
    emails, problems = parse_contacts(contact_emails)
    if not emails and not problems:
        problems = ["Enter at least one email address, one per line."]
    if problems:
        raise ValidationFailed({"contact_emails": problems})
    return [
        invites.invite_contact(
            session, vendor_id=request.vendor_id, email=email, request_id=request.id, actor=actor
        )
        for email in emails
    ]


def cancel(session: Session, request: QuestionnaireRequest, *, actor: Actor) -> int:
    """Cancel the request (TransitionRefused once accepted or cancelled) and revoke its
    invitations that could still be used; returns how many were revoked. Answers it had
    submitted no longer count anywhere: its vendor is rescored."""
    transition(session, request, RequestStatus.cancelled, actor=actor)
    scoring.request_closed(session, request)
    live = invites.live_invites_of_request(session, request.id)
    for invite in live:
        invites.revoke(session, invite, actor=actor, reason="request cancelled")
    return len(live)


def get_request(
    session: Session, request_id: int, *, for_update: bool = False
) -> QuestionnaireRequest | None:
    query = sa.select(QuestionnaireRequest).where(QuestionnaireRequest.id == request_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def questionnaire_choices(session: Session) -> list[tuple[QuestionnaireVersion, str]]:
    """The latest version of every questionnaire with its audience, vendor ones first."""
    return [
        (version, audience)
        for audience in (VENDOR_AUDIENCE, "internal")
        for version in latest_versions(session, audience=audience)
    ]


# ---- the staff's list -----------------------------------------------------------------------

REQUEST_SORTS = ("due_on", "vendor", "questionnaire", "status", "sent_at", "progress")
# Whose move it is: the list's "waiting" filter.
WAITING = {"vendor": AWAITING_VENDOR, "review": AWAITING_REVIEW}


def overdue_clause(today: date) -> sa.ColumnElement[bool]:
    """``request_status.is_overdue`` in SQL: past its due date and still waiting for the
    vendor."""
    return sa.and_(
        QuestionnaireRequest.due_on.is_not(None),
        QuestionnaireRequest.due_on < today,
        QuestionnaireRequest.status.in_(sorted(AWAITING_VENDOR)),
    )


def due_soon_clause(today: date, days: int) -> sa.ColumnElement[bool]:
    """Still waiting for the vendor and due within ``days`` days from today (not overdue
    yet): what is about to become overdue."""
    return sa.and_(
        QuestionnaireRequest.due_on >= today,
        QuestionnaireRequest.due_on <= today + timedelta(days=days),
        QuestionnaireRequest.status.in_(sorted(AWAITING_VENDOR)),
    )


@dataclass(frozen=True)
class RequestRow:
    id: int
    vendor_id: int
    vendor_name: str
    title: str
    version_number: int
    audience: str
    status: RequestStatus
    due_on: date | None
    answered_count: int
    question_count: int
    overdue: bool
    sent_at: datetime | None

    @property
    def progress(self) -> int:
        """Answered, in percent."""
        if not self.question_count:
            return 0
        return min(100, round(100 * self.answered_count / self.question_count))


def _progress_ratio() -> sa.ColumnElement:
    return sa.case(
        (QuestionnaireRequest.question_count == 0, 0.0),
        else_=sa.cast(QuestionnaireRequest.answered_count, sa.Float)
        / QuestionnaireRequest.question_count,
    )


def search_requests(
    session: Session,
    *,
    vendor_id: int | None = None,
    status: RequestStatus | None = None,
    overdue: bool = False,
    waiting: str | None = None,
    due_within: int | None = None,
    page: int = 1,
    sort: str = "due_on",
    descending: bool = False,
    today: date | None = None,
) -> Page[RequestRow]:
    """One page of requests, with their vendor and questionnaire, in one statement.
    ``waiting``: a key of :data:`WAITING`; ``due_within``: see :func:`due_soon_clause`."""
    today = today or today_utc()
    late = overdue_clause(today)
    query = request_rows(today)
    if vendor_id is not None:
        query = query.where(QuestionnaireRequest.vendor_id == vendor_id)
    if status is not None:
        query = query.where(QuestionnaireRequest.status == status)
    if overdue:
        query = query.where(late)
    if waiting is not None:
        query = query.where(QuestionnaireRequest.status.in_(sorted(WAITING[waiting])))
    if due_within is not None:
        query = query.where(due_soon_clause(today, due_within))
    key = {
        "due_on": QuestionnaireRequest.due_on,
        "vendor": sa.func.lower(Vendor.name),
        "questionnaire": sa.func.lower(QuestionnaireVersion.title),
        "status": enum_rank(QuestionnaireRequest.status, RequestStatus),
        "sent_at": QuestionnaireRequest.sent_at,
        "progress": _progress_ratio(),
    }[sort]
    nullable = sort in {"due_on", "sent_at"}
    query = query.order_by(
        *sort_order(key, descending, QuestionnaireRequest.id.desc(), nullable=nullable)
    )
    return one_page(session, query, page, lambda row: RequestRow(*row[:12]))


def request_rows(today: date) -> sa.Select:
    """The columns of a :class:`RequestRow` with the joins they need: the request list's
    statement and the dashboards' before their filters."""
    return (
        sa.select(
            QuestionnaireRequest.id,
            QuestionnaireRequest.vendor_id,
            Vendor.name,
            QuestionnaireVersion.title,
            QuestionnaireVersion.number,
            Questionnaire.audience,
            QuestionnaireRequest.status,
            QuestionnaireRequest.due_on,
            QuestionnaireRequest.answered_count,
            QuestionnaireRequest.question_count,
            # Read as a bool on SQLite too, which gives CASE's result as 0 or 1.
            sa.type_coerce(sa.case((overdue_clause(today), True), else_=False), sa.Boolean).label(
                "overdue"
            ),
            QuestionnaireRequest.sent_at,
        )
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
    )


@dataclass(frozen=True)
class RequestDetail:
    request: QuestionnaireRequest
    vendor: Vendor
    version: QuestionnaireVersion
    audience: str
    created_by: str
    overdue: bool
    invites: list[invites.InviteRow]
    # The vendor's contacts with an account (who can answer already): (name, email).
    contacts: list[tuple[str, str]]

    @property
    def internal(self) -> bool:
        return self.audience != VENDOR_AUDIENCE

    @property
    def progress(self) -> int:
        count = self.request.question_count
        return min(100, round(100 * self.request.answered_count / count)) if count else 0


def request_detail(session: Session, request_id: int) -> RequestDetail | None:
    """What the request's page shows, in a handful of queries whatever the invites."""
    row = session.execute(
        sa.select(QuestionnaireRequest, Vendor, QuestionnaireVersion, Questionnaire.audience)
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireRequest.id == request_id)
    ).first()
    if row is None:
        return None
    request, vendor, version, audience = row
    creator = (
        session.scalar(sa.select(User.name).where(User.id == request.created_by_id))
        if request.created_by_id
        else None
    )
    contacts = session.execute(
        sa.select(User.name, User.email)
        .where(
            User.vendor_id == vendor.id,
            User.role == Role.vendor_contact,
            User.active.is_(True),
        )
        .order_by(User.email)
    ).all()
    return RequestDetail(
        request=request,
        vendor=vendor,
        version=version,
        audience=audience,
        created_by=creator or "",
        overdue=is_overdue(request.status, request.due_on, today_utc()),
        invites=invites.invites_of_request(session, request.id),
        contacts=[tuple(c) for c in contacts],
    )


# ---- reminders ------------------------------------------------------------------------------

# "Remind now" on a request's page: at most once in this many minutes per request.
REMIND_NOW_MINUTES = 15


@dataclass(frozen=True)
class Reminder:
    """The reminder of one request: to whom it was queued (empty: nobody to remind, the
    request needs a contact)."""

    request_id: int
    vendor_name: str
    title: str
    due_on: date | None
    overdue: bool
    queued_to: tuple[str, ...]


def _recipients(session: Session, requests: list[QuestionnaireRequest]) -> dict[int, list]:
    """Request id -> [(email, invite or None)]: the vendor's active contacts (they log in),
    then the addresses of invites still waiting to be used (they get a fresh link), each once.
    Two queries for all the requests."""
    vendor_ids = {r.vendor_id for r in requests}
    contacts = session.execute(
        sa.select(User.vendor_id, User.email)
        .where(
            User.vendor_id.in_(vendor_ids),
            User.role == Role.vendor_contact,
            User.active.is_(True),
        )
        .order_by(User.email)
    ).all()
    pending = session.scalars(
        sa.select(Invite)
        .where(
            Invite.request_id.in_([r.id for r in requests]),
            Invite.revoked_at.is_(None),
            Invite.redeemed_at.is_(None),
            Invite.expires_at > utcnow(),
        )
        .order_by(Invite.email)
        .with_for_update()
    ).all()
    result: dict[int, list] = {}
    for request in requests:
        seen: set[str] = set()
        people: list = []
        for vendor_id, email in contacts:
            if vendor_id == request.vendor_id and email not in seen:
                seen.add(email)
                people.append((email, None))
        for invite in pending:
            if invite.request_id == request.id and invite.email not in seen:
                seen.add(invite.email)
                people.append((invite.email, invite))
        result[request.id] = people
    return result


def _remind(
    session: Session,
    request: QuestionnaireRequest,
    vendor_name: str,
    title: str,
    people: list,
    *,
    today: date,
    actor: Actor,
    manual: bool = False,
) -> Reminder:
    """Queue the reminder of one request to each of ``people``, with a link straight to it:
    the portal's page of the request for a contact who joined, a fresh invitation link (the
    previous one stops working) for an address invited that never joined. Audited."""
    overdue = is_overdue(request.status, request.due_on, today)
    queued = []
    for email, invite in people:
        link = (
            invites.reissue_for_reminder(session, invite)
            if invite is not None
            else mail.absolute_url("portal.fill", request_id=request.id)
        )
        body = mail.render_body(
            "reminder.txt",
            vendor=vendor_name,
            questionnaire=title,
            due_on=request.due_on,
            overdue=overdue,
            progress=(request.answered_count, request.question_count),
            link=link,
            invitation=invite is not None,
            invite_expires_on=invite.expires_at.date() if invite else None,
        )
        if request.due_on is None:
            when = "is waiting for your answers"
        elif overdue:
            when = f"was due on {request.due_on}"
        else:
            when = f"is due on {request.due_on}"
        message = mail.send_mail(
            session,
            to=email,
            subject=f"Reminder: “{title}” ({vendor_name}) {when}",
            body=body,
            sender_id=actor.user_id,
        )
        if invite is not None:
            invites.reminder_queued(session, invite, actor=actor, message_id=message.id)
        queued.append(email)
    if queued:
        request.last_reminded_on = today
        audit.record(
            session,
            AuditAction.reminder_sent,
            actor=actor,
            object_type="request",
            object_id=request.id,
            vendor_id=request.vendor_id,
            details={
                "queued_to": queued,
                "due_on": request.due_on.isoformat() if request.due_on else None,
                "overdue": overdue,
                **({"manual": True} if manual else {}),
            },
        )
    session.flush()
    return Reminder(request.id, vendor_name, title, request.due_on, overdue, tuple(queued))


def _reminder_rows(session: Session):
    return (
        sa.select(QuestionnaireRequest, Vendor.name, QuestionnaireVersion.title)
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(
            Questionnaire.audience == VENDOR_AUDIENCE,
            QuestionnaireRequest.status.in_(sorted(AWAITING_VENDOR)),
        )
    )


def send_reminders(
    session: Session, *, today: date, within_days: int, actor: Actor | None = None
) -> list[Reminder]:
    """Queue a reminder to the contacts of every vendor questionnaire waiting for the vendor
    and due within ``within_days`` (or overdue), at most once a day per request: a second run
    the same day queues nothing. The outbox worker sends them."""
    actor = actor or Actor.system("reminders")
    rows = session.execute(
        _reminder_rows(session)
        .where(
            QuestionnaireRequest.due_on.is_not(None),
            QuestionnaireRequest.due_on <= today + timedelta(days=within_days),
            sa.or_(
                QuestionnaireRequest.last_reminded_on.is_(None),
                QuestionnaireRequest.last_reminded_on < today,
            ),
        )
        .order_by(QuestionnaireRequest.due_on, QuestionnaireRequest.id)
        # Two runs at once (cron on two machines): the second waits, then finds them reminded.
        .with_for_update(of=QuestionnaireRequest)
    ).all()
    if not rows:
        return []
    people = _recipients(session, [request for request, _, _ in rows])
    return [
        _remind(session, request, vendor_name, title, people[request.id], today=today, actor=actor)
        for request, vendor_name, title in rows
    ]


def last_reminded_at(session: Session, request_id: int) -> datetime | None:
    """When the request was last reminded, from the audit trail (by a person or by cron)."""
    return session.scalar(
        sa.select(AuditEvent.occurred_at)
        .where(
            AuditEvent.action == str(AuditAction.reminder_sent),
            AuditEvent.object_type == "request",
            AuditEvent.object_id == str(request_id),
            AuditEvent.outcome == AuditOutcome.success,
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )


def remind_now(
    session: Session, request_id: int, *, actor: Actor, now: datetime | None = None
) -> Reminder:
    """Staff's "Remind now": the same reminder as the daily one, queued at once to the
    request's contacts, at most once in :data:`REMIND_NOW_MINUTES` per request. None when the
    request is not found; ValidationFailed when it is not waiting for a vendor, was reminded
    a moment ago, or has nobody to remind."""
    now = now or utcnow()
    found = session.execute(
        _reminder_rows(session)
        .where(QuestionnaireRequest.id == request_id)
        .with_for_update(of=QuestionnaireRequest)
    ).first()
    if found is None:
        raise ValidationFailed(
            {"": ["Only a vendor questionnaire waiting for the vendor can be reminded."]}
        )
    request, vendor_name, title = found
    last = last_reminded_at(session, request.id)
    if last is not None and now - last < timedelta(minutes=REMIND_NOW_MINUTES):
        again = last + timedelta(minutes=REMIND_NOW_MINUTES)
        raise ValidationFailed(
            {
                "": [
                    f"A reminder was queued at {last:%H:%M} UTC: the next one can be sent "
                    f"from {again:%H:%M} UTC."
                ]
            }
        )
    people = _recipients(session, [request])[request.id]
    if not people:
        raise ValidationFailed(
            {"": ["Nobody to remind: invite a contact of the vendor to this request first."]}
        )
    return _remind(
        session,
        request,
        vendor_name,
        title,
        people,
        today=now.date(),
        actor=actor,
        manual=True,
    )
