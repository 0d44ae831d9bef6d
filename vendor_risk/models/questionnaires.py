"""Questionnaires: immutable versions, requests, invites, answers, evidence."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type

# ---- questionnaires: immutable versions, requests, invites, answers, evidence ----------------


class Questionnaire(SQLModel, table=True):
    """A questionnaire by its stable key (the file's ``id``); its content lives in versions."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=300)  # of the latest version
    audience: str = Field(max_length=16)  # vendor or internal
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuestionnaireVersion(SQLModel, table=True):
    """One content of a questionnaire, never changed once stored: a request points at the
    version it was sent with forever. ``definition`` is the normalised document
    (vendor_risk.questionnaire.model.Questionnaire.to_document)."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),
        sa.UniqueConstraint(
            "questionnaire_id", "content_hash", name="uq_questionnaire_version_content_hash"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    questionnaire_id: int = Field(foreign_key="questionnaire.id", ondelete="RESTRICT")
    number: int  # 1, 2, 3... per questionnaire, in the order stored
    author_version: int  # the file's own ``version``
    content_hash: str = Field(max_length=64)  # SHA-256 of the canonical JSON
    title: str = Field(max_length=300)
    question_count: int
    definition: dict = Field(sa_type=sa.JSON)
    source: str = Field(max_length=300)  # a file name, "vsaq:FILE" or "edited in the app"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )


class RequestStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    in_progress = "in_progress"
    submitted = "submitted"
    under_review = "under_review"
    returned = "returned"  # returned for clarification
    accepted = "accepted"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return (
            "returned for clarification"
            if self is RequestStatus.returned
            else (self.value.replace("_", " "))
        )


class QuestionnaireRequest(SQLModel, table=True):
    """A questionnaire version sent to a vendor (or filled internally, for the intake)."""

    __tablename__ = "questionnaire_request"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="RESTRICT")
    version_id: int = Field(foreign_key="questionnaire_version.id", ondelete="RESTRICT")
    status: RequestStatus = Field(
        default=RequestStatus.draft,
        sa_type=enum_type(RequestStatus, "request_status"),
        index=True,
    )
    due_on: date | None = Field(default=None, index=True)
    # Answers carried over from this earlier accepted request of the same vendor (reassessment).
    previous_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    # Kept up to date with each answer saved, so lists show progress without reading answers.
    answered_count: int = Field(default=0)
    question_count: int = Field(default=0)  # answerable questions of the version
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # The day the last reminder went out: at most one a day per request.
    last_reminded_on: date | None = Field(default=None)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Invite(SQLModel, table=True):
    """A single-use link to a vendor's requests, sent by email. Only the SHA-256 of its
    256-bit token is stored: the link itself exists only in the message."""

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", index=True, ondelete="CASCADE"
    )
    email: str = Field(max_length=320, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    sent_count: int = Field(default=0)
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Answer(SQLModel, table=True):
    """One answer of a request, saved on its own as it is given (autosave). ``version`` grows
    with each save: a save based on an older version is a conflict, never an overwrite."""

    request_id: int = Field(
        foreign_key="questionnaire_request.id", primary_key=True, ondelete="CASCADE"
    )
    question_id: str = Field(max_length=100, primary_key=True)
    # The normalised answer (vendor_risk.questionnaire.conditions.validate_answer); None: cleared.
    value: dict | list | str | int | float | None = Field(default=None, sa_type=sa.JSON)
    comment: str = Field(default="", sa_type=sa.Text)
    version: int = Field(default=1)
    carried_over: bool = Field(default=False)  # prefilled from the previous accepted request
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # Review: what the reviewer asks the vendor (shown to them) and notes vendors never see.
    clarification: str = Field(default="", sa_type=sa.Text)
    internal_note: str = Field(default="", sa_type=sa.Text)


class Evidence(SQLModel, table=True):
    """A file uploaded as evidence for an answer: stored outside static under a random name,
    served only as an attachment to that vendor's contacts and staff."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="questionnaire_request.id", index=True, ondelete="CASCADE")
    question_id: str = Field(max_length=100)
    filename: str = Field(max_length=255)  # as uploaded, cleaned; shown and sent back
    stored_name: str = Field(max_length=64, unique=True)  # random; the file on disk
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    content_type: str = Field(max_length=100)  # detected from the content, not the name
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    uploaded_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )


# What the dashboards filter and sort on, beyond the columns' own indexes: the response times
# of the last 90 days, and the requests under way by status and due date (counted from the
# index alone).
sa.Index("ix_questionnaire_request_submitted_at", QuestionnaireRequest.submitted_at)
sa.Index(
    "ix_questionnaire_request_status_due_on",
    QuestionnaireRequest.status,
    QuestionnaireRequest.due_on,
)
