"""Notifications: what each user is told about, and how each wants to hear of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type


class EventType(StrEnum):
    """Each event that notifies someone; the value is stored (notifications, preferences)."""

    # Vendor contacts of the vendor concerned.
    request_returned = "request_returned"
    request_accepted = "request_accepted"
    finding_shared = "finding_shared"
    finding_due_soon = "finding_due_soon"
    # Risk officers.
    submission_waiting = "submission_waiting"
    acceptance_expiring = "acceptance_expiring"
    incident_opened = "incident_opened"
    # The owner of a credential on an incident's rotation checklist.
    credential_to_rotate = "credential_to_rotate"
    # Procurement.
    request_overdue = "request_overdue"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    EventType.request_returned: "A questionnaire returned to you for clarification",
    EventType.request_accepted: "A questionnaire you submitted accepted",
    EventType.finding_shared: "A finding for your company to remediate",
    EventType.finding_due_soon: "A finding's due date within 7 days",
    EventType.submission_waiting: "A questionnaire submitted, waiting for review",
    EventType.acceptance_expiring: "A risk acceptance expiring within 14 days",
    EventType.incident_opened: "An incident opened",
    EventType.credential_to_rotate: "A credential you own to rotate after an incident",
    EventType.request_overdue: "A questionnaire request overdue",
}


class Delivery(StrEnum):
    """How a user hears of an event. The notification is recorded in the app in every case."""

    email = "email"  # an email at once
    digest = "digest"  # gathered in one email a day
    in_app = "in_app"  # in the app only

    @property
    def label(self) -> str:
        return {
            Delivery.email: "Email at once",
            Delivery.digest: "Daily digest email",
            Delivery.in_app: "In the app only",
        }[self]


class Notification(SQLModel, table=True):
    """One thing one user is told. ``dedupe_key`` (unique per user) makes the time-based
    events idempotent: the same event about the same object is recorded once."""

    __table_args__ = (
        # The header's unread count on every page: one probe of this index.
        sa.Index("ix_notification_user_id_read_at", "user_id", "read_at"),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_id_dedupe_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    event: EventType = Field(sa_type=enum_type(EventType, "notification_event"))
    title: str = Field(max_length=300)
    text: str = Field(default="", sa_type=sa.Text)
    # The object's page: an endpoint of the app and its values (a link, never a token).
    endpoint: str = Field(max_length=100)
    link_values: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    dedupe_key: str | None = Field(default=None, max_length=200)
    delivery: Delivery = Field(sa_type=enum_type(Delivery, "notification_delivery"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When it went out by email (at once, or in a digest); digests gather those still None.
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class NotificationPreference(SQLModel, table=True):
    """A user's choice for one event type; without a row, :data:`DEFAULT_DELIVERY`."""

    __tablename__ = "notification_preference"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    event: EventType = Field(
        sa_type=enum_type(EventType, "notification_preference_event"), primary_key=True
    )
    delivery: Delivery = Field(sa_type=enum_type(Delivery, "notification_preference_delivery"))


DEFAULT_DELIVERY = Delivery.email
