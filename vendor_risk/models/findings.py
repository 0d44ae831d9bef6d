"""Findings, their notes and files, risk acceptances."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type

# ---- findings, risk acceptances, review decisions -----------------------------------------------


class FindingSeverity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class FindingStatus(StrEnum):
    open = "open"
    in_remediation = "in_remediation"
    resolved = "resolved"
    accepted = "accepted"  # a risk acceptance is in force (it reopens the finding when it ends)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def vendor_label(self) -> str:
        """The status as the vendor reads it in the portal: "accepted" alone could read as
        their fix accepted, when it means that we accepted the risk."""
        return "risk accepted by us" if self is FindingStatus.accepted else self.label


class FindingSource(StrEnum):
    critical_answer = "critical_answer"  # a failing answer to a critical question
    rule = "rule"  # a finding rule of the questionnaire (VSAQ tips) whose condition holds
    manual = "manual"  # written by a risk officer


class Finding(SQLModel, table=True):
    """A weakness to remediate. Automatic findings carry ``rule_key`` (``critical:<question>``
    or ``rule:<id>``), unique per request, so computing them again never duplicates one."""

    __table_args__ = (
        sa.UniqueConstraint("request_id", "rule_key", name="uq_finding_request_rule"),
        sa.Index("ix_finding_vendor_status", "vendor_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    question_id: str | None = Field(default=None, max_length=100)
    source: FindingSource = Field(sa_type=enum_type(FindingSource, "finding_source"))
    rule_key: str | None = Field(default=None, max_length=120)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    remediation: str = Field(default="", sa_type=sa.Text)
    severity: FindingSeverity = Field(
        sa_type=enum_type(FindingSeverity, "finding_severity"), index=True
    )
    status: FindingStatus = Field(
        default=FindingStatus.open, sa_type=enum_type(FindingStatus, "finding_status"), index=True
    )
    # Shown in the vendor's portal, where its contacts answer with notes and files (automatic
    # findings always are; a risk officer may keep a manual one internal).
    visible_to_vendor: bool = Field(default=True)
    # Who remediates (a name or an address, at the vendor or with us).
    owner: str = Field(default="", max_length=200)
    due_on: date | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class FindingNote(SQLModel, table=True):
    """A remediation note on a finding: by the vendor's contacts, or by staff."""

    __tablename__ = "finding_note"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True, ondelete="CASCADE")
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")


class FindingFile(SQLModel, table=True):
    """Evidence of a remediation, stored like answers' evidence (services.evidence)."""

    __tablename__ = "finding_file"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=64, unique=True)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    content_type: str = Field(max_length=100)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    uploaded_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )


class RiskAcceptance(SQLModel, table=True):
    """A finding's risk accepted until ``expires_on``: with a justification and an approver.
    When it expires (or is withdrawn) ``ended_at`` is set and the finding reopens."""

    __tablename__ = "risk_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True, ondelete="CASCADE")
    justification: str = Field(sa_type=sa.Text)
    approver_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_on: date = Field(index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_reason: str = Field(default="", max_length=200)
