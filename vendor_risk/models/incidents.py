"""Incidents: a recorded breach of a vendor and its rotation checklist."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type

# ---- incidents: a recorded breach of a vendor and its rotation checklist ------------------------


class IncidentStatus(StrEnum):
    open = "open"
    closed = "closed"


class Incident(SQLModel, table=True):
    """A vendor was breached: when it began, when we found out, and how the rotation ended.

    The breach start and detection are known to the day (midnight UTC); the other moments are
    recorded to the second."""

    __table_args__ = (
        sa.CheckConstraint("detected_at >= started_at", name="detected_after_start"),
        sa.CheckConstraint(
            "(status = 'open' AND closed_at IS NULL AND closed_by_id IS NULL"
            " AND exception_reason IS NULL) OR (status = 'closed' AND closed_at IS NOT NULL)",
            name="closed_consistently",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="RESTRICT")
    title: str = Field(max_length=200)
    started_at: datetime = Field(sa_type=UTCDateTime)  # when the breach began
    detected_at: datetime = Field(sa_type=UTCDateTime)
    notes: str = Field(default="", sa_type=sa.Text)
    status: IncidentStatus = Field(
        default=IncidentStatus.open,
        sa_type=enum_type(IncidentStatus, "incident_status"),
        index=True,
    )
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # Why a risk officer closed it with credentials still in the rotation gap (None otherwise).
    exception_reason: str | None = Field(default=None, sa_type=sa.Text)


class ChecklistReason(StrEnum):
    """Why a credential is on an incident's rotation checklist."""

    # Either way the attacker has it: it is in the rotation gap until dealt with.
    held = "held"  # the breached vendor holds it
    stored = "stored"  # a copy is stored in a system the breach reaches


class ChecklistAction(StrEnum):
    pending = "pending"
    rotated = "rotated"
    revoked = "revoked"


class IncidentCredential(SQLModel, table=True):
    """One line of an incident's rotation checklist, made from the blast radius when the
    incident was opened. Its primary key leads with incident_id: that is the index the
    incident page reads the checklist by."""

    __tablename__ = "incident_credential"
    __table_args__ = (
        sa.CheckConstraint(
            "(action = 'pending' AND acted_at IS NULL AND acted_by_id IS NULL)"
            " OR (action <> 'pending' AND acted_at IS NOT NULL)",
            name="acted_consistently",
        ),
    )

    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    # RESTRICT: a credential on a checklist is not deleted (revoke it instead).
    credential_id: int = Field(
        foreign_key="credential.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    reason: ChecklistReason = Field(sa_type=enum_type(ChecklistReason, "checklist_reason"))
    # The reached systems that kept a copy, by name as they were when the incident was opened.
    stored_in: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    action: ChecklistAction = Field(
        default=ChecklistAction.pending, sa_type=enum_type(ChecklistAction, "checklist_action")
    )
    acted_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    acted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
