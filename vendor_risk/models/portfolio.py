"""The portfolio's aggregates and its figures day by day: kept up to date, never
recomputed per page view.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow

# ---- portfolio aggregates: kept up to date, never recomputed per page view ---------------------


class PortfolioState(SQLModel, table=True):
    """One row (id 1). Database triggers on every inventory table add one to
    ``inventory_version`` in the transaction that changes the inventory (imports and cascades
    included); the aggregates below are fresh while ``computed_version`` equals it."""

    __tablename__ = "portfolio_state"

    id: int = Field(default=1, primary_key=True)
    inventory_version: int = Field(default=0, sa_type=sa.BigInteger)
    computed_version: int | None = Field(default=None, sa_type=sa.BigInteger)
    computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Credentials per rotation status (services.inventory.RotationStatus) at computed_at.
    rotation_counts: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # The scoring parameters' version (core.scoring.parameters) the stored inherent scores
    # were computed with: while it holds, a vendor whose profile did not change keeps its score.
    parameters_version: int | None = Field(default=None)


class VendorReach(SQLModel, table=True):
    """A vendor's blast radius in figures and its inherent-risk tier, as last computed."""

    __tablename__ = "vendor_reach"

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    systems_despite_controls: int = Field(index=True)
    systems_if_controls_fail: int
    categories_despite_controls: int
    # The highest sensitivity (0: none, 1 low .. 4 critical) of the data reached despite controls.
    max_sensitivity: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    inherent_score: float
    inherent_tier: str = Field(max_length=16, index=True)
    # What inherent risk was computed from (scoring.inherent.Profile as a dict): scores are
    # computed again from it without reading the inventory.
    profile: dict = Field(
        default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"server_default": "{}"}
    )
    # The systems the vendor's breach reaches, despite the controls and if they fail: bitsets
    # indexed by system id, zlib-compressed (services.portfolio.reach). An inventory change
    # finds from them the vendors whose reach can change; concentration counts them.
    reach_despite: bytes = Field(
        default=b"", sa_type=sa.LargeBinary, sa_column_kwargs={"server_default": ""}
    )
    reach_if_fail: bytes = Field(
        default=b"", sa_type=sa.LargeBinary, sa_column_kwargs={"server_default": ""}
    )


class PortfolioChange(SQLModel, table=True):
    """What an inventory change touched, one row per touched vendor, system or credential
    (``kind``; ``all`` when the change reaches too far to follow, such as a network zone or
    a data category's sensitivity), written by database triggers on the inventory tables in
    the transaction that changes them (imports and cascades included). The portfolio's update
    (services.portfolio.incremental) recomputes what they touch and deletes the rows it read."""

    __tablename__ = "portfolio_change"

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    kind: str = Field(max_length=16)
    ref_id: int = Field(default=0)


class SystemReach(SQLModel, table=True):
    """How many vendors' breach (each alone) reaches a system: concentration."""

    __tablename__ = "system_reach"

    system_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    vendors_despite_controls: int = Field(index=True)
    vendors_if_controls_fail: int


# ---- dashboards: the portfolio's risk, day by day ----------------------------------------------


class PortfolioDay(SQLModel, table=True):
    """The portfolio's risk figures as they stood at the last write of a day: the dashboard's
    tier, status and heat-map widgets read the latest row (never the 50,000 ratings), its trend
    the rows of past days. Written by services.portfolio_history whenever ratings are written,
    a vendor's status changes or a vendor is deleted. Tiers are effective ones (a risk
    officer's override counts); vendors without a rating count as "unrated"."""

    __tablename__ = "portfolio_day"

    day: date = Field(primary_key=True)  # UTC
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    vendors: int  # every vendor, rated or not
    rated: int
    mean_residual: float | None = Field(default=None)  # of the rated vendors
    # Effective residual tier -> vendors.
    tier_counts: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # Inherent tier -> effective residual tier -> vendors (those with both).
    heat: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # Vendor status -> effective residual tier or "unrated" -> vendors.
    status_tiers: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # Rated vendors whose rating is incomplete, and per missing fact (scoring.MISSING_WORDS
    # key -> vendors); rated vendors with a provisional rating beside theirs.
    incomplete: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    missing: dict = Field(
        default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"server_default": "{}"}
    )
    provisional: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class OpenFindingDay(SQLModel, table=True):
    """Findings still to remediate (open or in remediation) per severity and UTC day opened:
    what the dashboard counts by severity and age, kept by database triggers on ``finding`` in
    the transaction that changes a finding, however it changes (the trigger's statuses are
    services.findings.UNRESOLVED). A count falls to 0 rather than being deleted."""

    __tablename__ = "open_finding_day"

    severity: str = Field(max_length=16, primary_key=True)
    created_on: date = Field(primary_key=True)
    n: int = Field(default=0)


# Indexes the migrations create on PostgreSQL alone, which the models do not describe (a GIN
# trigram index on vendor.name_key, revision 8b2c3d4e5f62): autogenerate leaves them alone.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_vendor_name_key_trgm"})


def autogenerate_includes(_object, name, type_, reflected, _compare_to) -> bool:
    """Alembic's include_object: everything but the PostgreSQL-only indexes."""
    return not (type_ == "index" and reflected and name in POSTGRESQL_ONLY_INDEXES)


# The dashboards read the top vendors by blast radius in this index's order.
sa.Index(
    "ix_vendor_reach_blast_radius",
    VendorReach.systems_despite_controls,
    VendorReach.systems_if_controls_fail,
)
