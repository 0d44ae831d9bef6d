"""The portfolio's aggregates: each vendor's blast radius in figures and inherent tier, and how
many vendors reach each system (concentration).

They are computed for the whole portfolio at once by the engine (docs/blast-radius.md) and
stored, so that lists sort and filter by them with an index. Triggers on the inventory tables
bump ``portfolio_state.inventory_version`` in every transaction that changes the inventory; the
aggregates are fresh while they were computed from that version, and less than
``MAX_AGE`` ago (reach depends on the date too: credentials expire). :func:`ensure_fresh`
recomputes them when they are not, once, whoever asks first; ``flask --app app portfolio
refresh`` does it from cron.

The computation reads the inventory in one snapshot without the write lock, and takes the
write lock only to store the results: a change committed in between leaves the aggregates
stale, and the next reader computes again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.blast_radius import engine
from ...core.scoring import inherent
from ...db import snapshot
from ...models import PortfolioState, System, SystemReach, Vendor, VendorReach
from ..assessments import scoring
from ..blast_radius import load_inventory
from ..inventory import RotationStatus, rotation_status

MAX_AGE = timedelta(hours=1)
STATE_ID = 1


@dataclass(frozen=True)
class Freshness:
    inventory_version: int
    computed_version: int | None
    computed_at: datetime | None

    def fresh(self, now: datetime) -> bool:
        return (
            self.computed_version == self.inventory_version
            and self.computed_at is not None
            and now - self.computed_at < MAX_AGE
        )


def freshness(session: Session) -> Freshness:
    row = session.execute(
        sa.select(
            PortfolioState.inventory_version,
            PortfolioState.computed_version,
            PortfolioState.computed_at,
        ).where(PortfolioState.id == STATE_ID)
    ).first()
    if row is None:  # emptied by hand: everything is to be computed
        return Freshness(0, None, None)
    return Freshness(*row)


@dataclass(frozen=True)
class Aggregates:
    version: int
    vendors: list[dict]
    systems: list[dict]
    rotation_counts: dict[str, int]


def _profiles(session: Session, inventory: engine.Inventory) -> dict[int, inherent.Profile]:
    """What inherent risk reads of each vendor: the inventory (the data it holds, directly or in
    a system it operates; its access, by credential, as operator or through its software) plus
    two fields of the vendor."""
    dependence = {
        row.id: (str(row.criticality), str(row.substitutability), row.declared_risk or {})
        for row in session.execute(
            sa.select(Vendor.id, Vendor.criticality, Vendor.substitutability, Vendor.declared_risk)
        )
    }
    access: dict[int, list[inherent.Access]] = defaultdict(list)
    for vendor_id, credential_ids in inventory.credentials_held_by.items():
        for cid in credential_ids:
            credential = inventory.credentials[cid]
            if credential.status == "active":
                environment = inventory.systems[credential.system_id].environment
                access[vendor_id].append(inherent.Access(credential.privilege, environment))
    # A vendor that operates a system for us (SaaS) holds the system's data and has
    # administrator access to it; software it supplies runs with its privilege there.
    operated: dict[int, list] = defaultdict(list)
    for vendor_id, system_ids in inventory.systems_operated_by.items():
        for system_id in system_ids:
            system = inventory.systems[system_id]
            operated[vendor_id].extend(system.holdings)
            access[vendor_id].append(inherent.Access("admin", system.environment))
    for supply in inventory.software:
        environment = inventory.systems[supply.system_id].environment
        access[supply.vendor_id].append(inherent.Access(supply.privilege, environment))
    profiles = {}
    for vendor in inventory.vendors.values():
        holdings = [*vendor.holdings, *operated.get(vendor.id, ())]
        levels = [inventory.categories[h.category_id].sensitivity for h in holdings]
        counts = [h.records for h in holdings]
        counted = sum(n for n in counts if n is not None)
        criticality, substitutability, declared = dependence.get(
            vendor.id, ("medium", "moderate", {})
        )
        profiles[vendor.id] = inherent.Profile(
            criticality=criticality,
            substitutability=substitutability,
            max_sensitivity=max(levels, default=0),
            records=None if None in counts else counted,
            access=tuple(access.get(vendor.id, ())),
            declared=tuple(sorted(declared.items())),
            records_counted=counted,
            # Revoked ones too: the vendor's access was recorded, it has none left.
            credentials_recorded=len(inventory.credentials_held_by.get(vendor.id, ())),
        )
    return profiles


def compute(session: Session, now: datetime) -> Aggregates:
    """Every aggregate, from one consistent read of the inventory (no write lock held)."""
    with snapshot(session):
        version = freshness(session).inventory_version
        inventory = load_inventory(session)
        profiles = _profiles(session, inventory)
        status = rotation_status(now)
        rotation_counts = {
            key: n
            for key, n in session.execute(sa.select(status, sa.func.count()).group_by(status))
        }
    figures = engine.reach_figures_for_all_vendors(inventory, as_of=now)
    concentration = engine.concentration(inventory, as_of=now)
    vendors = []
    for vendor_id, (reach, max_sensitivity) in figures.items():
        risk = inherent.inherent_risk(profiles[vendor_id])
        vendors.append(
            {
                "vendor_id": vendor_id,
                "systems_despite_controls": reach.systems_despite_controls,
                "systems_if_controls_fail": reach.systems_if_controls_fail,
                "categories_despite_controls": reach.categories_despite_controls,
                "max_sensitivity": max_sensitivity,
                "inherent_score": risk.score,
                "inherent_tier": str(risk.tier),
                "profile": profiles[vendor_id].to_dict(),
            }
        )
    systems = [
        {
            "system_id": system_id,
            "vendors_despite_controls": figures.vendors_despite_controls,
            "vendors_if_controls_fail": figures.vendors_if_controls_fail,
        }
        for system_id, figures in concentration.items()
    ]
    return Aggregates(version, vendors, systems, rotation_counts)


def _lock_state(session: Session) -> PortfolioState:
    """The state row, locked on PostgreSQL so that two writers of the aggregates take turns
    (SQLite's write lock already makes them)."""
    state = session.scalars(
        sa.select(PortfolioState).where(PortfolioState.id == STATE_ID).with_for_update()
    ).first()
    if state is None:
        state = PortfolioState(id=STATE_ID, inventory_version=0, rotation_counts={})
        session.add(state)
        session.flush()
    return state


def store(session: Session, aggregates: Aggregates, now: datetime) -> bool:
    """Replace the stored aggregates; False (nothing written) if someone stored aggregates of
    the same or a later version meanwhile."""
    state = _lock_state(session)
    if state.computed_version is not None and state.computed_version > aggregates.version:
        return False
    changed = _changed_vendors(session, aggregates.vendors)
    session.execute(sa.delete(VendorReach))
    session.execute(sa.delete(SystemReach))
    if aggregates.vendors:
        session.execute(sa.insert(VendorReach), aggregates.vendors)
    if aggregates.systems:
        session.execute(sa.insert(SystemReach), aggregates.systems)
    state.computed_version = aggregates.version
    state.computed_at = now
    state.rotation_counts = aggregates.rotation_counts
    session.flush()
    scoring.after_aggregates(session, changed, now)
    return True


def _changed_vendors(session: Session, vendors: list[dict]) -> set[int]:
    """The vendors whose stored aggregates differ from these (or have none): their scores are
    to be computed again."""
    columns = [getattr(VendorReach, name) for name in vendors[0]] if vendors else []
    stored = (
        {row.vendor_id: row._asdict() for row in session.execute(sa.select(*columns))}
        if columns
        else {}
    )
    return {row["vendor_id"] for row in vendors if stored.get(row["vendor_id"]) != row}


def refresh(session: Session, now: datetime | None = None) -> Aggregates:
    """Compute and store every aggregate; the caller commits."""
    now = now or datetime.now(UTC)
    aggregates = compute(session, now)
    store(session, aggregates, now)
    return aggregates


def ensure_fresh(session: Session, *, before_writing=None) -> Freshness:
    """Recompute the aggregates if the inventory changed since (or an hour passed), and
    commit them. ``before_writing`` runs between the read and the write (a view passes
    ``expect_writes`` so a GET takes SQLite's write lock only then)."""
    now = datetime.now(UTC)
    state = freshness(session)
    if state.fresh(now):
        return state
    aggregates = compute(session, now)
    if before_writing is not None:
        before_writing(session)
    store(session, aggregates, now)
    session.commit()
    return freshness(session)


# ---- reading them --------------------------------------------------------------------------


@dataclass(frozen=True)
class SuperNode:
    vendor_id: int
    name: str
    status: str
    criticality: str
    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int
    inherent_tier: str


def super_nodes(session: Session, limit: int = 20) -> list[SuperNode]:
    """Vendors ranked by blast radius: systems reached despite controls, then if they fail."""
    query = (
        sa.select(
            Vendor.id,
            Vendor.name,
            Vendor.status,
            Vendor.criticality,
            VendorReach.systems_despite_controls,
            VendorReach.systems_if_controls_fail,
            VendorReach.categories_despite_controls,
            VendorReach.inherent_tier,
        )
        .join(VendorReach, VendorReach.vendor_id == Vendor.id)
        .where(VendorReach.systems_if_controls_fail > 0)
        .order_by(
            VendorReach.systems_despite_controls.desc(),
            VendorReach.systems_if_controls_fail.desc(),
            Vendor.name,
        )
        .limit(limit)
    )
    return [
        SuperNode(row.id, row.name, str(row.status), str(row.criticality), *row[4:])
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class Concentrated:
    system_id: int
    name: str
    environment: str
    mfa_required: bool
    vendors_despite_controls: int
    vendors_if_controls_fail: int


def concentration(session: Session, limit: int = 20) -> list[Concentrated]:
    """Systems ranked by how many vendors' breach reaches them."""
    query = (
        sa.select(
            System.id,
            System.name,
            System.environment,
            System.mfa_required,
            SystemReach.vendors_despite_controls,
            SystemReach.vendors_if_controls_fail,
        )
        .join(SystemReach, SystemReach.system_id == System.id)
        .where(SystemReach.vendors_if_controls_fail > 0)
        .order_by(
            SystemReach.vendors_despite_controls.desc(),
            SystemReach.vendors_if_controls_fail.desc(),
            System.name,
        )
        .limit(limit)
    )
    return [
        Concentrated(row.id, row.name, str(row.environment), row.mfa_required, *row[4:])
        for row in session.execute(query)
    ]


def rotation_counts(session: Session) -> dict[RotationStatus, int]:
    """Credentials per rotation status, as of the last computation, most urgent first."""
    stored = session.scalar(
        sa.select(PortfolioState.rotation_counts).where(PortfolioState.id == STATE_ID)
    )
    return {status: (stored or {}).get(status.value, 0) for status in RotationStatus}


def tier_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        sa.select(VendorReach.inherent_tier, sa.func.count()).group_by(VendorReach.inherent_tier)
    )
    counts = dict.fromkeys((str(t) for t in reversed(inherent.Tier)), 0)
    counts.update({tier: n for tier, n in rows})
    return counts
