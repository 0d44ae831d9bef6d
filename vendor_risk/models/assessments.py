"""Assessments: per-request totals, score snapshots, the current rating, review decisions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type

# ---- scoring: per-request totals, score snapshots, the current rating -------------------------


class RequestScore(SQLModel, table=True):
    """A request's answers reduced to per-section totals (scoring.control.section_totals),
    rewritten with every answer saved, so rescoring reads one row per request instead of its
    answers."""

    __tablename__ = "request_score"

    request_id: int = Field(
        foreign_key="questionnaire_request.id", primary_key=True, ondelete="CASCADE"
    )
    totals: list = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoreTrigger(StrEnum):
    """What made the app compute a vendor's score again."""

    submitted = "submitted"  # a request was submitted
    answers_changed = "answers_changed"  # an answer changed after submission (review, import)
    accepted = "accepted"  # a risk officer accepted a request: its answers count, settled
    cancelled = "cancelled"  # a submitted request was cancelled: its answers count no more
    decision = "decision"  # a review decision was recorded
    inventory_changed = "inventory_changed"  # credentials, data, MFA, criticality...
    parameters_changed = "parameters_changed"  # the scoring method's version changed
    rescore = "rescore"  # asked for: the rescore command or a risk officer

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class VendorScore(SQLModel, table=True):
    """One computation of a vendor's scores, kept for ever: the history is the trend. ``inputs``
    is everything the computation read (scoring.residual.Residual.inputs), so the score can be
    reproduced, and explained again (services.scoring.explain) whenever it is shown."""

    __tablename__ = "vendor_score"
    __table_args__ = (sa.Index("ix_vendor_score_vendor_computed", "vendor_id", "computed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    # The request whose answers count (the latest submitted or accepted); None before any.
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    trigger: ScoreTrigger = Field(sa_type=enum_type(ScoreTrigger, "score_trigger"))
    parameters_version: int
    inherent_score: float
    inherent_tier: str = Field(max_length=16)
    control_score: float | None = Field(default=None)
    exposure_score: float
    residual_score: float
    residual_tier: str = Field(max_length=16)
    critical_failures: int = Field(default=0)
    # The facts the rating misses (scoring.MISSING_WORDS keys separated by spaces, in that
    # order; "" when complete), each counted at its cautious value: services.scoring.missing_text.
    missing: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    # The rating with the answers no risk officer has accepted yet (None: none awaiting).
    provisional_score: float | None = Field(default=None)
    provisional_tier: str | None = Field(default=None, max_length=16)
    inputs: dict = Field(default_factory=dict, sa_type=sa.JSON)


class VendorRating(SQLModel, table=True):
    """Each vendor's current rating: the latest score's figures (for lists and dashboards to
    filter and sort with an index), and a risk officer's override kept beside them, never in
    their place."""

    __tablename__ = "vendor_rating"

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    score_id: int = Field(foreign_key="vendor_score.id", ondelete="CASCADE")
    computed_at: datetime = Field(sa_type=UTCDateTime)
    parameters_version: int = Field(index=True)
    # SHA-256 of the score's inputs: a computation from the same inputs adds no snapshot.
    inputs_digest: str = Field(max_length=64)
    control_score: float | None = Field(default=None)
    exposure_score: float
    residual_score: float = Field(index=True)
    residual_tier: str = Field(max_length=16, index=True)
    critical_failures: int = Field(default=0)
    # As in its score: the facts it misses ("" when complete), which the vendor list filters
    # on, and the provisional rating beside it.
    missing: str = Field(
        default="", max_length=100, index=True, sa_column_kwargs={"server_default": ""}
    )
    provisional_score: float | None = Field(default=None)
    provisional_tier: str | None = Field(default=None, max_length=16)
    override_tier: str | None = Field(default=None, max_length=16)
    override_reason: str = Field(default="", sa_type=sa.Text)
    override_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    override_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DecisionKind(StrEnum):
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class AssessmentDecision(SQLModel, table=True):
    """A risk officer's decision on a vendor's assessment, with the rating it was taken on and
    the next reassessment date the tier gives."""

    __tablename__ = "assessment_decision"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    score_id: int | None = Field(default=None, foreign_key="vendor_score.id", ondelete="SET NULL")
    decision: DecisionKind = Field(sa_type=enum_type(DecisionKind, "decision_kind"))
    rationale: str = Field(sa_type=sa.Text)
    conditions: str = Field(default="", sa_type=sa.Text)
    tier: str = Field(max_length=16)  # the tier the decision was taken on (override included)
    next_review: date | None = Field(default=None)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
