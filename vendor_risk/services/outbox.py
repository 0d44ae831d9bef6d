"""The outbox queue: the worker that sends queued emails, and what the outbox pages show.

``mail.send_mail`` queues a message in the transaction of the action that caused it; the worker
(``flask --app app outbox send``, or the thread ``quickstart`` runs) sends what is due with
:func:`deliver_due`. Several workers, or several app processes each with a thread, may run at
once: a worker first *claims* a message with one conditional UPDATE (a lease until
``claimed_until``), commits, and only then talks to the SMTP server, so two workers never send
the same message. A worker that dies mid-send leaves a lease that runs out after
:data:`LEASE`, and the message is tried again then (at least once, never twice at once).

A failed attempt is retried after a growing delay (:data:`BACKOFF`); after
``VR_OUTBOX_MAX_ATTEMPTS`` attempts, or at once when the server refuses the message for good
(a 5xx reply), it is failed: admins see it (a banner on their home page, the outbox) and may
send it again (:func:`retry_now`). Every attempt is recorded (``outbox_attempt``).

Unlike other services, :func:`deliver_due` commits: its unit of work is one message, whose
lease must be visible to the other workers before the SMTP server is contacted, and whose
outcome must be saved as soon as the server answered. No transaction is open while it talks to
the server (on SQLite a transaction holds the write lock).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import (
    AttemptOutcome,
    AuditAction,
    OutboxAttempt,
    OutboxMessage,
    OutboxStatus,
    Role,
)
from . import ValidationFailed, audit, mail
from .audit import Actor
from .pages import Page, one_page

# The delay before the 2nd, 3rd... attempt; the last one repeats when more attempts are allowed.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
# How long a claimed message is one worker's: well beyond an SMTP conversation, each of whose
# steps VR_SMTP_TIMEOUT bounds.
LEASE = timedelta(minutes=10)
BATCH = 100  # messages claimed per pass at most


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _permanent(exc: Exception) -> bool:
    """The server refused the message for good (a 5xx reply): trying again changes nothing.
    A refused login is not counted: the operator fixes the settings and the retries go on."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


# ---- the worker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What one pass of the worker did."""

    sent: int = 0
    kept: int = 0
    retrying: int = 0
    failed: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (recipient, error)

    @property
    def total(self) -> int:
        return self.sent + self.kept + self.retrying + len(self.failed)


def _due(now: datetime):
    return sa.and_(
        OutboxMessage.status == OutboxStatus.queued,
        OutboxMessage.next_attempt_at <= now,
        sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(session: Session, message_id: int, *, now: datetime) -> bool:
    """Take the lease of a due message: True when this session got it. One conditional
    UPDATE, so of two workers racing for the same message exactly one changes the row (on
    PostgreSQL the second waits for the first to commit, then finds the lease taken; SQLite
    has one writer at a time). Commit before sending."""
    result = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(now))
        .values(claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def deliver_due(session: Session, *, now: datetime | None = None, limit: int = BATCH) -> Delivery:
    """Send every queued message that is due at ``now`` (default: the current time), each in
    units of work of its own (claim, commit, send, record, commit). Returns what happened.
    Without ``now`` each claim takes the time it happens at, so that a long pass never takes
    a lease that has run out already."""
    ids = session.scalars(
        sa.select(OutboxMessage.id)
        .where(_due(now or utcnow()))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    session.commit()
    sent = kept = retrying = 0
    failed: list[tuple[str, str]] = []
    for message_id in ids:
        at = now or utcnow()
        got = claim(session, message_id, now=at)
        session.commit()
        if not got:
            continue  # another worker has it
        outcome, error, recipient = _attempt(session, message_id, now=at)
        if outcome is AttemptOutcome.sent:
            sent += 1
        elif outcome is AttemptOutcome.kept:
            kept += 1
        elif outcome is AttemptOutcome.retry:
            retrying += 1
        else:
            failed.append((recipient, error))
    return Delivery(sent, kept, retrying, tuple(failed))


def _attempt(
    session: Session, message_id: int, *, now: datetime
) -> tuple[AttemptOutcome, str, str]:
    """One attempt at a claimed message; the outcome is saved (committed)."""
    message = session.get(OutboxMessage, message_id)
    to, subject, body = message.recipient, message.subject, message.body
    session.commit()  # no transaction while the SMTP server is talked to
    cfg = current_app.config
    error = ""
    if mail.smtp_configured():
        try:
            mail.smtp_send(mail.build_message(to, subject, body))
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            error = mail.error_text(exc)
            permanent = _permanent(exc)
        else:
            mail.log.info("email sent to %s: %s", to, subject)
            return _record(session, message_id, AttemptOutcome.sent, "", now), "", to
    elif cfg["ENV"] == "production":
        # As before the queue: failed, and its text not kept (nothing will send it here).
        error = mail.NO_SMTP_IN_PRODUCTION
        mail.log.error("email to %s %s", to, error)
        return _record(session, message_id, AttemptOutcome.failed, error, now, wipe=True), error, to
    else:
        mail.log.info(
            "no SMTP server configured: email kept in the outbox\nTo: %s\nSubject: %s\n\n%s",
            to,
            subject,
            body,
        )
        return _record(session, message_id, AttemptOutcome.kept, "", now), "", to
    message = session.get(OutboxMessage, message_id)
    attempts = message.attempt_count + 1
    if permanent or attempts >= cfg["OUTBOX_MAX_ATTEMPTS"]:
        mail.log.warning("email to %s failed for good: %s", to, error)
        outcome = AttemptOutcome.failed
    else:
        mail.log.warning(
            "email to %s not sent (attempt %d), tried again in %s: %s",
            to,
            attempts,
            retry_delay(attempts),
            error,
        )
        outcome = AttemptOutcome.retry
    return _record(session, message_id, outcome, error, now), error, to


def _record(
    session: Session,
    message_id: int,
    outcome: AttemptOutcome,
    error: str,
    now: datetime,
    *,
    wipe: bool = False,
) -> AttemptOutcome:
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    message.attempt_count += 1
    message.claimed_until = None
    message.error = error
    if outcome is AttemptOutcome.sent:
        message.status = OutboxStatus.sent
        message.sent_at = now
        message.body = mail.NOT_KEPT  # the token, if any, now exists only in the message
    elif outcome is AttemptOutcome.kept:
        message.status = OutboxStatus.kept
    elif outcome is AttemptOutcome.retry:
        message.next_attempt_at = now + retry_delay(message.attempt_count)
    else:
        message.status = OutboxStatus.failed
        if wipe:
            message.body = mail.NOT_KEPT
    session.add(
        OutboxAttempt(message_id=message_id, attempted_at=now, outcome=outcome, error=error)
    )
    session.commit()
    return outcome


# ---- admins: failures, Retry now ------------------------------------------------------------


def failed_count(session: Session) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.failed)
    )


def may_retry(message: OutboxMessage) -> bool:
    """Failed, or waiting for a retry, and its body still held (the outbox before the queue
    kept no body of an email it could not send)."""
    waiting = message.status is OutboxStatus.queued and message.attempt_count > 0
    return (message.status is OutboxStatus.failed or waiting) and message.body != mail.NOT_KEPT


def retry_now(session: Session, message: OutboxMessage, *, actor: Actor) -> None:
    """Queue a failed message (or one waiting for a retry) for the worker's next pass, with a
    new series of attempts; audited. ValidationFailed when it cannot be sent again."""
    session.refresh(message, with_for_update=True)
    if not may_retry(message):
        if message.body == mail.NOT_KEPT and message.status is OutboxStatus.failed:
            reason = "Its text was not kept: send the invitation or reminder again instead."
        else:
            reason = f"It is {state_label(message)}."
        raise ValidationFailed({"": [f"This email cannot be sent again. {reason}"]})
    was = message.status
    message.status = OutboxStatus.queued
    message.attempt_count = 0
    message.next_attempt_at = utcnow()
    message.claimed_until = None
    session.flush()
    audit.record(
        session,
        AuditAction.email_retried,
        actor=actor,
        object_type="email",
        object_id=message.id,
        details={"to": message.recipient, "was": was.value},
    )


# ---- the outbox pages -----------------------------------------------------------------------


def state_label(message: OutboxMessage) -> str:
    """How the outbox pages describe a message."""
    if message.status is OutboxStatus.queued:
        if message.attempt_count:
            return f"retrying at {message.next_attempt_at:%Y-%m-%d %H:%M} UTC"
        return "queued"
    if message.status is OutboxStatus.kept:
        return "kept here"
    return message.status.value


def badge(message: OutboxMessage) -> str:
    """The badge's colour class of a state."""
    return {
        OutboxStatus.sent: "ok",
        OutboxStatus.failed: "danger",
        OutboxStatus.queued: "warn" if message.attempt_count else "info",
    }.get(message.status, "info")


def body_shown(message: OutboxMessage, role: Role) -> bool:
    """Whether a page shows the text of a message: only one kept whole in development (a
    queued or failed one is held until sent, and may carry an invitation link), and never to
    a vendor contact, whose colleague's invitation link would let them take the account."""
    return message.status is OutboxStatus.kept and role is not Role.vendor_contact


def search_outbox(
    session: Session,
    *,
    page: int = 1,
    sender_id: int | None = None,
    status: OutboxStatus | str | None = None,
) -> Page[OutboxMessage]:
    """The outbox, newest first: every message, or those one user's actions caused, or
    those in one state."""
    query = sa.select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    if sender_id is not None:
        query = query.where(OutboxMessage.sender_id == sender_id)
    if status:
        query = query.where(OutboxMessage.status == OutboxStatus(status))
    return one_page(session, query, page, lambda row: row[0])


def get_message(
    session: Session, message_id: int, *, sender_id: int | None = None
) -> OutboxMessage | None:
    """A message; with ``sender_id``, only one that user caused (another's is not found)."""
    query = sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
    if sender_id is not None:
        query = query.where(OutboxMessage.sender_id == sender_id)
    return session.scalar(query)


def attempts_of(session: Session, message_id: int) -> list[OutboxAttempt]:
    return list(
        session.scalars(
            sa.select(OutboxAttempt)
            .where(OutboxAttempt.message_id == message_id)
            .order_by(OutboxAttempt.attempted_at, OutboxAttempt.id)
        )
    )
