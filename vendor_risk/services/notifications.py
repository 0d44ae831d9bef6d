"""Notifications: who is told what, in the app always, and by email at once or in a daily digest
as each user prefers.

Services emit events with :func:`notify` in the caller's transaction (so a rolled-back action
notifies nobody); the email, when the user wants it at once, is handed to ``mail.send_mail``
in that same transaction. Recipients are chosen by one function per kind of person
(:func:`staff_with_role`, :func:`vendor_contacts`, :func:`staff_owning`): a vendor contact is
only ever chosen through their own vendor. The events of one action each have a function
below (``request_returned`` ...), called by the service that performs the action; the
time-based ones (due soon, expiring, overdue) come from ``services/notifications_due.py``.

Texts and titles name objects (a vendor, a questionnaire, a finding's title), never a secret or
an invitation token; links are an endpoint and its values, made absolute from the configured
base URL (``mail.absolute_url``) in emails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from ..db import utcnow
from ..models import (
    DEFAULT_DELIVERY,
    AuditAction,
    Credential,
    Delivery,
    EventType,
    Finding,
    Incident,
    IncidentCredential,
    Notification,
    NotificationPreference,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Role,
    System,
    User,
    Vendor,
)
from . import audit, mail
from .accounts import users as accounts
from .audit import Actor
from .pages import Page, one_page

TITLE_MAX = 300

# Who each event is for, as the preferences page groups them.
EVENTS_FOR: dict[Role, tuple[EventType, ...]] = {
    Role.vendor_contact: (
        EventType.request_returned,
        EventType.request_accepted,
        EventType.finding_shared,
        EventType.finding_due_soon,
    ),
    Role.risk_officer: (
        EventType.submission_waiting,
        EventType.acceptance_expiring,
        EventType.incident_opened,
        EventType.credential_to_rotate,
    ),
    Role.procurement: (EventType.request_overdue, EventType.credential_to_rotate),
    Role.admin: (),
}


# ---- recipients: one function per kind of person ---------------------------------------------
# A user may hold several roles: ``accounts.staff_with_role`` is the one place that says who
# holds a role (primary or additional).


def staff_with_role(session: Session, role: Role) -> list[User]:
    """The active users holding ``role`` (a staff role: vendor contacts are chosen by vendor)."""
    if role is Role.vendor_contact:
        raise ValueError("vendor contacts are chosen by their vendor: use vendor_contacts()")
    return accounts.staff_with_role(session, role)


def vendor_contacts(session: Session, vendor_id: int) -> list[User]:
    """The active contacts of one vendor, and nobody else's."""
    return list(
        session.scalars(
            sa.select(User)
            .where(
                User.role == Role.vendor_contact,
                User.vendor_id == vendor_id,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


# The roles that may open an incident's page: a credential's owner is told only if they can.
INCIDENT_READERS = (Role.procurement, Role.risk_officer)


def staff_owning(session: Session, owners: Iterable[str]) -> dict[str, User]:
    """The active staff users (who can open an incident's page) whose email address is one of
    ``owners`` (a credential's owner is free text: an address matches, a name does not), by
    normalised address. Vendor contacts never match: an incident is internal."""
    addresses = {owner.strip().lower() for owner in owners if owner and "@" in owner}
    if not addresses:
        return {}
    users = session.scalars(
        sa.select(User).where(User.email.in_(sorted(addresses)), User.active.is_(True))
    )
    return {user.email: user for user in users if not user.roles.isdisjoint(INCIDENT_READERS)}


# ---- preferences -----------------------------------------------------------------------------


def events_for(roles: Iterable[Role]) -> tuple[EventType, ...]:
    """The events that concern someone holding ``roles`` (each once, in the usual order)."""
    held = frozenset(roles)
    return tuple(
        dict.fromkeys(e for role in Role if role in held for e in EVENTS_FOR.get(role, ()))
    )


def preferences_of(session: Session, user_id: int) -> dict[EventType, Delivery]:
    """Every event type with the user's choice (the default where they made none)."""
    chosen = {
        row.event: row.delivery
        for row in session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    return {event: chosen.get(event, DEFAULT_DELIVERY) for event in EventType}


def set_preferences(
    session: Session, user: User, choices: Mapping[EventType, Delivery], *, actor: Actor
) -> list[str]:
    """Save the user's choices; returns the event types changed (audited when any)."""
    current = preferences_of(session, user.id)
    changed = {event: delivery for event, delivery in choices.items() if current[event] != delivery}
    if not changed:
        return []
    for event, delivery in changed.items():
        session.merge(NotificationPreference(user_id=user.id, event=event, delivery=delivery))
    session.flush()
    audit.record(
        session,
        AuditAction.notification_preferences_changed,
        actor=actor,
        object_type="user",
        object_id=user.id,
        details={event.value: delivery.value for event, delivery in changed.items()},
    )
    return [event.value for event in changed]


# ---- recording (and emailing) a notification -------------------------------------------------


def link_url(notification: Notification, *, absolute: bool = False) -> str | None:
    """The notification's link (a path of this app, or with ``absolute`` an address on the
    configured base URL for an email); None when its endpoint no longer exists."""
    try:
        if absolute:
            return mail.absolute_url(notification.endpoint, **notification.link_values)
        return url_for(notification.endpoint, **notification.link_values)
    except BuildError:
        return None


def _email_now(session: Session, user: User, notification: Notification) -> None:
    body = mail.render_body(
        "notify_event.txt",
        name=user.name,
        title=notification.title,
        text=notification.text,
        link=link_url(notification, absolute=True),
        preferences=mail.absolute_url("notifications.preferences"),
    )
    mail.send_mail(session, to=user.email, subject=notification.title, body=body)
    notification.emailed_at = utcnow()


def notify(
    session: Session,
    *,
    event: EventType,
    users: Iterable[User],
    title: str,
    text: str,
    link: tuple[str, Mapping[str, Any]],
    key: str | None = None,
) -> list[Notification]:
    """Tell each of ``users`` (once each, active ones only) about ``event``: a notification in
    the app, and an email at once for those who prefer it. With ``key``, a user already told
    under that key is not told again (the time-based events run every day). Flushes; returns
    the notifications recorded."""
    endpoint, values = link
    recipients = {user.id: user for user in users if user.active}
    if key is not None and recipients:
        told = set(
            session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.dedupe_key == key, Notification.user_id.in_(sorted(recipients))
                )
            )
        )
        recipients = {uid: user for uid, user in recipients.items() if uid not in told}
    if not recipients:
        return []
    chosen = {
        (row.user_id): row.delivery
        for row in session.scalars(
            sa.select(NotificationPreference).where(
                NotificationPreference.user_id.in_(sorted(recipients)),
                NotificationPreference.event == event,
            )
        )
    }
    recorded = []
    for user_id, user in recipients.items():
        notification = Notification(
            user_id=user_id,
            event=event,
            title=mail.one_line(title, TITLE_MAX),
            text=text.strip(),
            endpoint=endpoint,
            link_values=dict(values),
            dedupe_key=key,
            delivery=chosen.get(user_id, DEFAULT_DELIVERY),
        )
        session.add(notification)
        recorded.append((user, notification))
    session.flush()
    for user, notification in recorded:
        if notification.delivery is Delivery.email:
            _email_now(session, user, notification)
    session.flush()
    return [notification for _user, notification in recorded]


# ---- the events of the actions -------------------------------------------------------------


def _vendor_name(session: Session, vendor_id: int) -> str:
    return session.scalar(sa.select(Vendor.name).where(Vendor.id == vendor_id)) or "your company"


def _request_facts(session: Session, request: QuestionnaireRequest) -> tuple[str, bool]:
    """The questionnaire's title, and whether vendors fill it (an internal one, the intake, is
    never shown to a vendor's contacts)."""
    version = session.get(QuestionnaireVersion, request.version_id)
    return version.title, (version.definition or {}).get("audience", "vendor") == "vendor"


@dataclass(frozen=True)
class Clarification:
    number: str
    question: str
    text: str


def request_returned(
    session: Session, request: QuestionnaireRequest, asked: Sequence[Clarification]
) -> list[Notification]:
    """The vendor's contacts: their questionnaire came back with these questions to work on."""
    title, for_vendor = _request_facts(session, request)
    if not for_vendor:
        return []
    lines = [f"{c.number} {c.question}\n   Asked: {c.text}" for c in asked]
    return notify(
        session,
        event=EventType.request_returned,
        users=vendor_contacts(session, request.vendor_id),
        title=f"Questionnaire returned for clarification: {title}",
        text=(
            f'The reviewers returned "{title}" with {len(asked)} '
            f"question{'' if len(asked) == 1 else 's'} to work on:\n\n"
            + "\n".join(lines)
            + "\n\nAnswer them, then submit the questionnaire again."
        ),
        link=("portal.fill", {"request_id": request.id}),
    )


def request_accepted(session: Session, request: QuestionnaireRequest) -> list[Notification]:
    """The vendor's contacts: the questionnaire they submitted was accepted."""
    title, for_vendor = _request_facts(session, request)
    if not for_vendor:
        return []
    return notify(
        session,
        event=EventType.request_accepted,
        users=vendor_contacts(session, request.vendor_id),
        title=f"Questionnaire accepted: {title}",
        text=f'The reviewers accepted your answers to "{title}". Nothing more is needed.',
        link=("portal.fill", {"request_id": request.id}),
    )


def submission_waiting(session: Session, request: QuestionnaireRequest) -> list[Notification]:
    """Risk officers: a questionnaire was submitted (again) and waits for review."""
    title, _for_vendor = _request_facts(session, request)
    vendor = _vendor_name(session, request.vendor_id)
    again = ", again after a return for clarification" if request.reviewed_at else ""
    return notify(
        session,
        event=EventType.submission_waiting,
        users=staff_with_role(session, Role.risk_officer),
        title=f"Waiting for review: {title} ({vendor})",
        text=(
            f'{vendor} submitted "{title}"{again}: it waits for review '
            f"({request.answered_count} of {request.question_count} questions answered)."
        ),
        link=("review.request_view", {"request_id": request.id}),
    )


def findings_shared(session: Session, findings: Iterable[Finding]) -> list[Notification]:
    """Each finding's vendor's contacts (only that vendor's): a finding for them to remediate.
    Findings kept internal are skipped."""
    recorded = []
    contacts: dict[int, list[User]] = {}
    for finding in findings:
        if not finding.visible_to_vendor:
            continue
        if finding.vendor_id not in contacts:
            contacts[finding.vendor_id] = vendor_contacts(session, finding.vendor_id)
        due = f" It is due on {finding.due_on.isoformat()}." if finding.due_on else ""
        recorded += notify(
            session,
            event=EventType.finding_shared,
            users=contacts[finding.vendor_id],
            title=f"Finding to remediate: {finding.title}",
            text=(
                f"A {finding.severity.value} finding was raised for your company: "
                f"{finding.title}.{due} Answer it with a note or a file on its page."
            ),
            link=("portal.finding", {"finding_id": finding.id}),
            key=f"finding_shared:{finding.id}",
        )
    return recorded


def incident_opened(session: Session, incident: Incident) -> list[Notification]:
    """Risk officers: an incident was opened. The owners of the credentials on its rotation
    checklist (those whose owner is the address of a procurement or risk officer user): which
    of theirs to rotate."""
    vendor = _vendor_name(session, incident.vendor_id)
    link = ("incidents.incident", {"incident_id": incident.id})
    recorded = notify(
        session,
        event=EventType.incident_opened,
        users=staff_with_role(session, Role.risk_officer),
        title=f"Incident opened: {incident.title} ({vendor})",
        text=(
            f"An incident was opened for {vendor}: {incident.title}. Breach began "
            f"{incident.started_at.date().isoformat()}, detected "
            f"{incident.detected_at.date().isoformat()}. Its rotation checklist lists the "
            "credentials to rotate."
        ),
        link=link,
    )
    rows = session.execute(
        sa.select(Credential.name, Credential.owner, System.name.label("system"))
        .join(IncidentCredential, IncidentCredential.credential_id == Credential.id)
        .join(System, System.id == Credential.system_id)
        .where(IncidentCredential.incident_id == incident.id)
        .order_by(Credential.name)
    ).all()
    owners = staff_owning(session, (row.owner for row in rows))
    for email, user in owners.items():
        mine = [row for row in rows if row.owner.strip().lower() == email]
        listed = "\n".join(f"- {row.name} (opens {row.system})" for row in mine)
        recorded += notify(
            session,
            event=EventType.credential_to_rotate,
            users=[user],
            title=f"Credentials you own to rotate: incident {incident.title}",
            text=(
                f"The incident at {vendor} puts {len(mine)} credential"
                f"{'' if len(mine) == 1 else 's'} you own on its rotation checklist:\n"
                f"{listed}\n\nRotate or revoke each, then mark it on the checklist."
            ),
            link=link,
        )
    return recorded


# ---- the user's list -------------------------------------------------------------------------


def unread_count(session: Session, user_id: int) -> int:
    """The header's count: one probe of the (user_id, read_at) index."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def inbox(session: Session, user_id: int, *, page: int = 1) -> Page[Notification]:
    """The user's notifications, newest first."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return one_page(session, query, page, lambda row: row[0])


def own_notification(session: Session, user_id: int, notification_id: int) -> Notification | None:
    """One of the user's own notifications; another user's is None (a 404), like a missing one."""
    return session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


def mark_read(notification: Notification, *, now: datetime | None = None) -> bool:
    """Mark it read; False when it already was."""
    if notification.read_at is not None:
        return False
    notification.read_at = now or utcnow()
    return True


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session="fetch")
    ).rowcount


# ---- one run at a time ------------------------------------------------------------------------

RUN_DUE_LOCK = 0x5652_4E4F_5449_4659  # "VRNOTIFY"
DIGEST_LOCK = 0x5652_4449_4745_5354  # "VRDIGEST"


def one_run_at_a_time(session: Session, lock_id: int) -> None:
    """Two runs of a command at once (two cron hosts, a manual run during cron's) would both
    find the same things untold: on PostgreSQL the second waits here for the first to commit,
    then finds them told. SQLite's write lock (BEGIN IMMEDIATE) already serialises them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))


# ---- the daily digest ------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    email: str
    count: int
    delivered: bool


def send_digests(session: Session, *, today: date) -> list[Digest]:
    """One email per user gathering their digest notifications not emailed yet, oldest first;
    each is stamped emailed, so running it again sends nothing more. Users who left (disabled)
    get none: their notifications stay in the app. Flushes."""
    one_run_at_a_time(session, DIGEST_LOCK)
    rows = session.execute(
        sa.select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.delivery == Delivery.digest,
            Notification.emailed_at.is_(None),
            User.active.is_(True),
        )
        .order_by(Notification.user_id, Notification.created_at, Notification.id)
    ).all()
    by_user: dict[int, tuple[User, list[Notification]]] = {}
    for notification, user in rows:
        by_user.setdefault(user.id, (user, []))[1].append(notification)
    sent = []
    now = utcnow()
    for user, items in by_user.values():
        body = mail.render_body(
            "notify_digest.txt",
            name=user.name,
            today=today,
            items=[(n, link_url(n, absolute=True)) for n in items],
            inbox=mail.absolute_url("notifications.index"),
            preferences=mail.absolute_url("notifications.preferences"),
        )
        noun = "notification" if len(items) == 1 else "notifications"
        message = mail.send_mail(
            session,
            to=user.email,
            subject=f"vendor-risk: {len(items)} {noun} ({today.isoformat()})",
            body=body,
        )
        if mail.delivered(message):  # a failure is tried again by the next run
            for notification in items:
                notification.emailed_at = now
        sent.append(Digest(user.email, len(items), mail.delivered(message)))
    session.flush()
    return sent
