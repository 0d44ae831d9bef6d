"""The outbox: every email, a durable queue that the outbox worker sends (services/outbox.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type


class OutboxStatus(StrEnum):
    """Where a message is. A message waiting for a retry is ``queued`` with attempts behind it."""

    queued = "queued"  # waiting for the worker: a first try, or a retry at next_attempt_at
    sent = "sent"  # accepted by the SMTP server; its body is no longer kept
    kept = "kept"  # development without SMTP: logged and kept here whole, never sent
    failed = "failed"  # for good (too many attempts, refused, no SMTP in production)


class OutboxMessage(SQLModel, table=True):
    """An email, queued in the transaction of the action that caused it and sent later by the
    outbox worker. Its body is held until it is sent (it may carry an invitation link), then
    replaced by "(not kept)"; without SMTP settings in development it is kept whole."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = Field(default="", sa_type=sa.Text)  # the last attempt's error
    status: OutboxStatus = Field(
        default=OutboxStatus.queued,
        sa_type=enum_type(OutboxStatus, "outbox_status"),
        sa_column_kwargs={"server_default": "queued"},
    )
    # The user whose action caused the email (None: a command, the system).
    sender_id: int | None = Field(
        default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL"
    )
    attempt_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When the worker may try next (queued messages only).
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A worker's lease: until then the message is that worker's to send.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


# The worker's query: the queued messages that are due, oldest due first.
sa.Index(
    "ix_outbox_message_status_next_attempt_at",
    OutboxMessage.status,
    OutboxMessage.next_attempt_at,
)


class AttemptOutcome(StrEnum):
    sent = "sent"
    kept = "kept"
    retry = "retry"  # failed, tried again later
    failed = "failed"  # failed for good


class OutboxAttempt(SQLModel, table=True):
    """One try at sending a message: when, and what came of it."""

    __tablename__ = "outbox_attempt"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id", index=True, ondelete="CASCADE")
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    outcome: AttemptOutcome = Field(sa_type=enum_type(AttemptOutcome, "outbox_attempt_outcome"))
    error: str = Field(default="", sa_type=sa.Text)
