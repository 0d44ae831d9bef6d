"""The portfolio's aggregates: each vendor's blast radius in figures and inherent tier, and how
many vendors reach each system (concentration).

They are computed by the engine (docs/blast-radius.md) and stored, so that lists sort and filter
by them with an index, and pages only read them. Database triggers on the inventory tables bump
``portfolio_state.inventory_version`` and record what each change touched
(``portfolio_change``) in the transaction that changes the inventory; :func:`update_pending`
(a background job after every inventory change, or ``flask --app app portfolio update``)
recomputes the vendors whose reach a change can concern, found from the stored reach, and
:func:`refresh` (``portfolio refresh``, and hourly: reach depends on the date too, as
credentials expire) recomputes every vendor. Both write only the rows that differ.

The computation reads the inventory in one snapshot without the write lock, and takes the
write lock only to store the results: the change rows it read are deleted then, those recorded
meanwhile stay for the next update.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import zlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ...core.blast_radius import engine
from ...core.collection import collection_paused
from ...core.scoring import inherent
from ...core.scoring.parameters import PARAMETERS_VERSION
from ...db import snapshot
from ...models import (
    Credential,
    CredentialCopy,
    PortfolioChange,
    PortfolioState,
    System,
    SystemReach,
    Vendor,
    VendorReach,
)
from ..assessments import scoring
from ..blast_radius import load_for_vendors
from ..inventory import RotationStatus, rotation_status

MAX_AGE = timedelta(hours=1)
STATE_ID = 1
# Past this many vendors concerned by the pending changes, one pass over every vendor costs
# less than reading theirs one by one (and an IN list stays within SQLite's limits).
MOST_VENDORS_UPDATED = 5_000
BATCH = 500


@dataclass(frozen=True)
class Freshness:
    inventory_version: int
    computed_version: int | None
    computed_at: datetime | None
    # Inventory changes recorded and not yet counted in the aggregates.
    pending: bool = False

    @property
    def computed(self) -> bool:
        return self.computed_at is not None

    @property
    def updating(self) -> bool:
        """What the pages say: changes are waiting for the background update."""
        return self.pending or not self.computed

    def fresh(self, now: datetime) -> bool:
        return (
            not self.pending
            and self.computed_version is not None
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
    pending = session.scalar(sa.select(sa.exists().where(PortfolioChange.id.is_not(None))))
    if row is None:  # emptied by hand: everything is to be computed
        return Freshness(0, None, None, True)
    return Freshness(*row, pending=bool(pending))


@dataclass(frozen=True)
class Aggregates:
    version: int
    vendors: list[dict]
    systems: list[dict]
    rotation_counts: dict[str, int] | None  # None: unchanged (no credential changed)
    # The vendors computed again (None: every vendor), and the change rows read.
    vendor_ids: frozenset[int] | None = None
    change_ids: tuple[int, ...] = ()
    # Each vendor's profile as JSON text, to compare with the stored one.
    profile_texts: dict[int, str] = field(default_factory=dict)


def _profiles(session: Session, inventory: engine.Inventory) -> dict[int, inherent.Profile]:
    """What inherent risk reads of each vendor: the inventory (the data it holds, directly or in
    a system it operates; its access, by credential, as operator or through its software) plus
    two fields of the vendor."""
    wanted = inventory.vendors
    query = sa.select(Vendor.id, Vendor.criticality, Vendor.substitutability, Vendor.declared_risk)
    if len(wanted) <= MOST_VENDORS_UPDATED:
        query = query.where(Vendor.id.in_(sorted(wanted)))
    dependence = {
        row.id: (str(row.criticality), str(row.substitutability), row.declared_risk or {})
        for row in session.connection().execute(query)
        if row.id in wanted
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


# ---- the stored reach: which systems each vendor's breach reaches ---------------------------


def encode_reach(systems: int) -> bytes:
    """A bitset of system ids, compressed: reach if controls fail is most of the systems (long
    runs of ones), despite controls a few (long runs of zeros)."""
    return zlib.compress(systems.to_bytes((systems.bit_length() + 7) // 8, "little"), 1)


def decode_reach(stored: bytes | None) -> int:
    return int.from_bytes(zlib.decompress(stored), "little") if stored else 0


def _concentration(reach: Iterable[tuple[bytes, bytes]], system_ids: Collection[int]) -> list[dict]:
    """How many vendors reach each system, counted over the vendors' stored reach: the engine's
    concentration (each vendor's breach alone), without walking the graph again."""
    import numpy as np  # only the portfolio's computation needs it: not at start-up

    width = (max(system_ids, default=0) + 8) // 8
    totals = [np.zeros(width * 8, dtype=np.int64), np.zeros(width * 8, dtype=np.int64)]
    pairs = iter(reach)
    while chunk := list(islice(pairs, 4096)):
        for view in (0, 1):
            matrix = np.frombuffer(
                b"".join(
                    zlib.decompress(pair[view])[:width].ljust(width, b"\0")
                    if pair[view]
                    else bytes(width)
                    for pair in chunk
                ),
                dtype=np.uint8,
            ).reshape(len(chunk), width)
            totals[view] += np.unpackbits(matrix, axis=1, bitorder="little").sum(
                axis=0, dtype=np.int64
            )
    return [
        {
            "system_id": system_id,
            "vendors_despite_controls": int(totals[0][system_id]),
            "vendors_if_controls_fail": int(totals[1][system_id]),
        }
        for system_id in sorted(system_ids)
    ]


# ---- computing ---------------------------------------------------------------------------


def _stored_inherent(session: Session, vendor_ids: Collection[int] | None) -> dict[int, tuple]:
    """vendor -> (profile as stored, inherent score, tier), while the stored scores were
    computed with today's parameters (otherwise nothing: every score is computed again)."""
    version = session.scalar(
        sa.select(PortfolioState.parameters_version).where(PortfolioState.id == STATE_ID)
    )
    if version != PARAMETERS_VERSION:
        return {}
    query = sa.select(
        VendorReach.vendor_id,
        _profile_text(session),
        VendorReach.inherent_score,
        VendorReach.inherent_tier,
    )
    if vendor_ids is not None:
        query = query.where(VendorReach.vendor_id.in_(sorted(vendor_ids)))
    return {row[0]: row[1:] for row in session.connection().execute(query)}


def _profile_text(session: Session) -> sa.ColumnElement:
    """The stored profile as the JSON text written (PostgreSQL's ``json`` keeps it as is),
    never decoded: a full refresh compares 50,000 of them with the texts it computed, and
    psycopg decoding each into a dict cost about a second."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(VendorReach.profile, sa.Text())
    return sa.type_coerce(VendorReach.profile, sa.String())


def _same_profile(stored, profile: dict, text: str) -> bool:
    # The text as written (_profile_text); a decoded value compares as a value.
    return stored == text if isinstance(stored, str) else stored == profile


def _vendor_rows(session: Session, inventory: engine.Inventory, now: datetime) -> list[dict]:
    profiles = _profiles(session, inventory)
    stored = _stored_inherent(session, None if len(profiles) > MOST_VENDORS_UPDATED else profiles)
    reach = engine.reach_for_all_vendors(inventory, as_of=now)
    rows, texts = [], {}
    for vendor_id, found in reach.items():
        figures, max_sensitivity = found.figures
        profile = profiles[vendor_id].to_dict()
        text = texts[vendor_id] = json.dumps(profile)
        before = stored.get(vendor_id)
        if before is not None and _same_profile(before[0], profile, text):
            score, tier = before[1], before[2]
        else:
            risk = inherent.inherent_risk(profiles[vendor_id])
            score, tier = risk.score, str(risk.tier)
        rows.append(
            {
                "vendor_id": vendor_id,
                "systems_despite_controls": figures.systems_despite_controls,
                "systems_if_controls_fail": figures.systems_if_controls_fail,
                "categories_despite_controls": figures.categories_despite_controls,
                "max_sensitivity": max_sensitivity,
                "inherent_score": score,
                "inherent_tier": tier,
                "profile": profile,
                "reach_despite": encode_reach(found.systems_despite_controls),
                "reach_if_fail": encode_reach(found.systems_if_controls_fail),
            }
        )
    return rows, texts


def _pending_changes(session: Session) -> list[tuple[int, str, int]]:
    query = sa.select(PortfolioChange.id, PortfolioChange.kind, PortfolioChange.ref_id)
    return [tuple(row) for row in session.execute(query.order_by(PortfolioChange.id))]


def _rotation_counts(session: Session, now: datetime) -> dict[str, int]:
    status = rotation_status(now)
    return {
        key: n for key, n in session.execute(sa.select(status, sa.func.count()).group_by(status))
    }


def compute(
    session: Session,
    now: datetime,
    vendor_ids: Collection[int] | None = None,
    *,
    processes: int = 1,
) -> Aggregates:
    """Every aggregate of these vendors (None: every vendor), from one consistent read of the
    inventory (no write lock held); concentration counts every vendor, the others by their
    stored reach. ``processes`` > 1 computes every vendor in that many chunks at once
    (:func:`_vendor_rows_in_chunks`)."""
    with snapshot(session):
        version = freshness(session).inventory_version
        change_ids = tuple(change[0] for change in _pending_changes(session))
        aggregates = _compute_in_snapshot(
            session, now, version, change_ids, vendor_ids, processes=processes
        )
    return aggregates


def _compute_in_snapshot(
    session: Session,
    now: datetime,
    version: int,
    change_ids: tuple[int, ...],
    vendor_ids: Collection[int] | None,
    *,
    rotation: bool = True,
    processes: int = 1,
) -> Aggregates:
    with collection_paused():
        if vendor_ids is None and processes > 1:
            vendors, texts, system_ids = _vendor_rows_in_chunks(session, now, processes)
        else:
            vendors, texts, system_ids = _vendor_rows_of(session, vendor_ids, now)
    reach = [(row["reach_despite"], row["reach_if_fail"]) for row in vendors]
    systems = None
    if vendor_ids is not None:
        systems = _concentration_after(session, vendors, vendor_ids, system_ids)
    if systems is None:
        kept = {}
        if vendor_ids is not None:
            kept = {
                vendor_id: (despite, if_fail)
                for vendor_id, despite, if_fail in session.connection().execute(
                    sa.select(
                        VendorReach.vendor_id, VendorReach.reach_despite, VendorReach.reach_if_fail
                    )
                )
                if vendor_id not in vendor_ids
            }
        systems = _concentration([*reach, *kept.values()], system_ids)
    return Aggregates(
        version,
        vendors,
        systems,
        _rotation_counts(session, now) if rotation else None,
        None if vendor_ids is None else frozenset(vendor_ids),
        change_ids,
        texts,
    )


def _vendor_rows_of(
    session: Session, vendor_ids: Collection[int] | None, now: datetime
) -> tuple[list[dict], dict[int, str], list[int]]:
    """The rows of these vendors (None: every vendor), their profiles' texts, every system."""
    inventory = load_for_vendors(session, vendor_ids)
    vendors, texts = _vendor_rows(session, inventory, now)
    return vendors, texts, list(inventory.systems)


# ---- every vendor in chunks, in processes of their own ----------------------------------------

# What a forked chunk needs of its parent: the app (the configuration, the database's URL).
_FORKED: dict[str, Any] = {}
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?")


def _vendor_rows_in_chunks(
    session: Session, now: datetime, processes: int
) -> tuple[list[dict], dict[int, str], list[int]]:
    """Every vendor's rows, the vendors split into ``processes`` chunks of consecutive ids: one
    computed here, the others each in a process forked from this one, all at once. Each vendor's
    figures depend on its own rows and on every system and stored credential
    (engine.reach_for_all_vendors), which each chunk reads.

    On PostgreSQL the chunks read the snapshot of this transaction (pg_export_snapshot). On
    SQLite each chunk reads the database as it is when it starts, never older than this
    transaction's snapshot: a change committed meanwhile may be counted by a chunk, and its
    record stays pending (only the changes this transaction read are deleted), so the next
    update counts it again."""
    ids = session.connection().execute(sa.select(Vendor.id).order_by(Vendor.id)).scalars().all()
    size = max(1, -(-len(ids) // processes))
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    if len(chunks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _vendor_rows_of(session, None, now)  # (no fork on Windows: one process)
    exported = None
    if session.get_bind().dialect.name == "postgresql":
        exported = session.connection().exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    _FORKED["app"] = current_app._get_current_object()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(chunks) - 1, mp_context=context) as pool:
            pending = [pool.submit(_rows_of_chunk, chunk, now, exported) for chunk in chunks[1:]]
            vendors, texts, system_ids = _vendor_rows_of(session, chunks[0], now)
            for future in pending:
                chunk_vendors, chunk_texts, _ = future.result()
                vendors.extend(chunk_vendors)
                texts.update(chunk_texts)
    finally:
        _FORKED.clear()
    return vendors, texts, system_ids


def _rows_of_chunk(
    vendor_ids: list[int], now: datetime, exported: str | None
) -> tuple[list[dict], dict[int, str], list[int]]:
    """In a forked process: the chunk's rows, read through a new connection of its own (the
    parent's connections are left untouched: the process ends without closing them)."""
    from ...db import configure_engine, db

    app = _FORKED["app"]
    with app.app_context():
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
        configure_engine(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        with Session(engine) as session:
            if exported is None:
                with snapshot(session):
                    return _vendor_rows_of(session, vendor_ids, now)
            if not _SNAPSHOT_ID.fullmatch(exported):
                raise ValueError(f"not a snapshot id: {exported!r}")
            connection = session.connection(
                execution_options={
                    "isolation_level": "REPEATABLE READ",
                    "postgresql_readonly": True,
                }
            )
            connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{exported}'")
            try:
                return _vendor_rows_of(session, vendor_ids, now)
            finally:
                session.rollback()


def _concentration_after(
    session: Session, vendors: list[dict], vendor_ids: Collection[int], system_ids
) -> list[dict] | None:
    """Concentration after these vendors were computed again: the stored counts, less each
    one's stored reach, plus its new reach (None when a vendor was deleted, its stored reach
    gone with it: then every vendor's reach is counted)."""
    before = {}
    for batch in _batches(vendor_ids):
        before.update(
            (vendor_id, (despite, if_fail))
            for vendor_id, despite, if_fail in session.connection().execute(
                sa.select(
                    VendorReach.vendor_id, VendorReach.reach_despite, VendorReach.reach_if_fail
                ).where(VendorReach.vendor_id.in_(batch))
            )
        )
    after = {row["vendor_id"]: (row["reach_despite"], row["reach_if_fail"]) for row in vendors}
    if any(vendor_id not in before and vendor_id not in after for vendor_id in vendor_ids):
        return None
    counts: dict[int, list[int]] = {
        system_id: [despite, if_fail]
        for system_id, despite, if_fail in session.connection().execute(
            sa.select(
                SystemReach.system_id,
                SystemReach.vendors_despite_controls,
                SystemReach.vendors_if_controls_fail,
            )
        )
    }
    nothing = (b"", b"")
    for vendor_id in vendor_ids:
        old, new = before.get(vendor_id, nothing), after.get(vendor_id, nothing)
        for view in (0, 1):
            was, now = decode_reach(old[view]), decode_reach(new[view])
            for bits, step in ((now & ~was, 1), (was & ~now, -1)):
                while bits:
                    lowest = bits & -bits
                    counts.setdefault(lowest.bit_length() - 1, [0, 0])[view] += step
                    bits ^= lowest
    return [
        {
            "system_id": system_id,
            "vendors_despite_controls": counts.get(system_id, (0, 0))[0],
            "vendors_if_controls_fail": counts.get(system_id, (0, 0))[1],
        }
        for system_id in sorted(system_ids)
    ]


# ---- storing -----------------------------------------------------------------------------


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


def _batches(ids: Iterable[int], size: int = BATCH) -> Iterable[list[int]]:
    ordered = iter(sorted(ids))
    while batch := list(islice(ordered, size)):
        yield batch


def _runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids as (first, last) runs of consecutive ids: the changes read are deleted by
    range, never those recorded meanwhile by another transaction (a gap in the ids read)."""
    runs: list[list[int]] = []
    for id_ in sorted(ids):
        if runs and id_ == runs[-1][1] + 1:
            runs[-1][1] = id_
        else:
            runs.append([id_, id_])
    return [(first, last) for first, last in runs]


def _delete_changes(session: Session, change_ids: Iterable[int]) -> None:
    for first, last in _runs(change_ids):
        session.execute(sa.delete(PortfolioChange).where(PortfolioChange.id.between(first, last)))


SCORED_COLUMNS = (
    "systems_despite_controls",
    "systems_if_controls_fail",
    "categories_despite_controls",
    "max_sensitivity",
    "inherent_score",
    "inherent_tier",
)


def _stored_vendor_rows(session: Session, vendor_ids: Collection[int] | None) -> dict[int, tuple]:
    columns = [getattr(VendorReach, name) for name in SCORED_COLUMNS]
    query = sa.select(
        VendorReach.vendor_id,
        *columns,
        _profile_text(session),
        VendorReach.reach_despite,
        VendorReach.reach_if_fail,
    )
    if vendor_ids is not None:
        query = query.where(VendorReach.vendor_id.in_(sorted(vendor_ids)))
    return {row[0]: tuple(row[1:]) for row in session.connection().execute(query)}


def store(session: Session, aggregates: Aggregates, now: datetime) -> bool:
    """Write the aggregates that differ from those stored; False (nothing written) if someone
    stored aggregates of a later version meanwhile. Rescores the vendors whose figures or
    profile changed."""
    state = _lock_state(session)
    if state.computed_version is not None and state.computed_version > aggregates.version:
        return False
    stored = _stored_vendor_rows(session, aggregates.vendor_ids)
    rescore, rewrite = set(), []
    for row in aggregates.vendors:
        before = stored.get(row["vendor_id"])
        scored = tuple(row[name] for name in SCORED_COLUMNS)
        profile = row["profile"]
        if (
            before is None
            or before[:6] != scored
            or not _same_profile(before[6], profile, aggregates.profile_texts[row["vendor_id"]])
        ):
            rescore.add(row["vendor_id"])
            rewrite.append(row)
        elif (before[7], before[8]) != (row["reach_despite"], row["reach_if_fail"]):
            rewrite.append(row)
    for batch in _batches(row["vendor_id"] for row in rewrite):
        session.execute(sa.delete(VendorReach).where(VendorReach.vendor_id.in_(batch)))
    if rewrite:
        session.execute(sa.insert(VendorReach.__table__), rewrite)
    if aggregates.vendor_ids is None:  # vendors deleted since: their rows go too
        gone = set(stored) - {row["vendor_id"] for row in aggregates.vendors}
        for batch in _batches(gone):
            session.execute(sa.delete(VendorReach).where(VendorReach.vendor_id.in_(batch)))
    _store_systems(session, aggregates.systems)
    _delete_changes(session, aggregates.change_ids)
    state.computed_version = aggregates.version
    state.computed_at = now
    if aggregates.rotation_counts is not None:
        state.rotation_counts = aggregates.rotation_counts
    state.parameters_version = PARAMETERS_VERSION
    session.flush()
    scoring.after_aggregates(session, rescore, now)
    return True


def _store_systems(session: Session, systems: list[dict]) -> None:
    stored = {
        row[0]: tuple(row[1:])
        for row in session.connection().execute(
            sa.select(
                SystemReach.system_id,
                SystemReach.vendors_despite_controls,
                SystemReach.vendors_if_controls_fail,
            )
        )
    }
    changed = [
        row
        for row in systems
        if stored.get(row["system_id"])
        != (row["vendors_despite_controls"], row["vendors_if_controls_fail"])
    ]
    gone = set(stored) - {row["system_id"] for row in systems}
    for batch in _batches({row["system_id"] for row in changed} | gone):
        session.execute(sa.delete(SystemReach).where(SystemReach.system_id.in_(batch)))
    if changed:
        session.execute(sa.insert(SystemReach.__table__), changed)


def refresh(session: Session, now: datetime | None = None, *, processes: int = 1) -> Aggregates:
    """Compute and store every aggregate (every vendor), in ``processes`` chunks at once (from
    a process with no other thread: the command line); the caller commits."""
    now = now or datetime.now(UTC)
    # Collection paused throughout: the rows of 50,000 vendors stay alive from the computation
    # to the store, and each collection would walk them all (0.4 s for the concentration's
    # list alone, a second in all, on a cold process).
    with collection_paused():
        aggregates = compute(session, now, processes=processes)
        store(session, aggregates, now)
    return aggregates


def refresh_if_old(session: Session, now: datetime | None = None) -> Aggregates | None:
    """The periodic job: a full refresh when the last one is older than MAX_AGE (reach depends
    on the date: credentials expire), else nothing. The caller commits."""
    now = now or datetime.now(UTC)
    state = freshness(session)
    if state.computed_at is not None and now - state.computed_at < MAX_AGE:
        return None
    return refresh(session, now)


# ---- the incremental update ----------------------------------------------------------------


def _concerned_vendors(
    session: Session, changes: list[tuple[int, str, int]]
) -> frozenset[int] | None:
    """The vendors whose aggregates the changes can concern (None: every vendor):

    - a vendor touched (its row, data, software, a credential it held or holds, a system it
      operated or operates);
    - a credential touched: its holder, and as a system touched each system storing it;
    - a system touched (its row, data, copies stored in it, the federations it grants as an
      identity provider): every vendor whose stored reach if controls fail includes it, which
      contains the reach despite controls and every holder of a credential opening it;
    - ``all`` (network zones, a data category's sensitivity): every vendor.
    """
    kinds: dict[str, set[int]] = defaultdict(set)
    for _, kind, ref_id in changes:
        kinds[kind].add(ref_id)
    if "all" in kinds:
        return None
    vendors = set(kinds["vendor"])
    systems = set(kinds["system"])
    for batch in _batches(kinds["credential"]):
        vendors.update(
            session.scalars(
                sa.select(Credential.holder_vendor_id).where(
                    Credential.id.in_(batch), Credential.holder_vendor_id.is_not(None)
                )
            )
        )
        systems.update(
            session.scalars(
                sa.select(CredentialCopy.system_id).where(CredentialCopy.credential_id.in_(batch))
            )
        )
    if systems:
        mask = sum(1 << system_id for system_id in systems)
        for vendor_id, stored in session.connection().execute(
            sa.select(VendorReach.vendor_id, VendorReach.reach_if_fail)
        ):
            if decode_reach(stored) & mask:
                vendors.add(vendor_id)
                if len(vendors) > MOST_VENDORS_UPDATED:
                    return None
    if len(vendors) > MOST_VENDORS_UPDATED:
        return None
    return frozenset(vendors)


@dataclass(frozen=True)
class Update:
    changes: int
    vendors: int | None  # computed again (None: every vendor)
    systems: int


def update_pending(session: Session, now: datetime | None = None) -> Update | None:
    """Bring the aggregates up to date with the changes recorded since the last computation,
    recomputing only the vendors they can concern (:func:`_concerned_vendors`); every vendor
    when the aggregates were never computed. None when nothing is pending. Deletes the changes
    it read, not those recorded meanwhile; the caller commits."""
    now = now or datetime.now(UTC)
    with collection_paused():  # as refresh
        return _update_pending(session, now)


def _update_pending(session: Session, now: datetime) -> Update | None:
    with snapshot(session):
        state = freshness(session)
        changes = _pending_changes(session)
        unread = not changes and state.computed_version is not None
        if not unread:
            vendor_ids = (
                None if state.computed_version is None else _concerned_vendors(session, changes)
            )
            aggregates = _compute_in_snapshot(
                session,
                now,
                state.inventory_version,
                tuple(change[0] for change in changes),
                vendor_ids,
                # Rotation statuses change with credentials (and with time: the hourly
                # refresh).
                rotation=vendor_ids is None or any(kind == "credential" for _, kind, _ in changes),
            )
    if unread:
        if state.computed_version >= state.inventory_version:
            return None
        # The inventory moved and no change was recorded: only what the aggregates never read
        # changed (a name, an owner, notes: the triggers record the rest). They hold for that
        # version as they are (never lowered: a later one may have been stored meanwhile).
        locked = _lock_state(session)
        if (
            locked.computed_version is not None
            and locked.computed_version < state.inventory_version
        ):
            locked.computed_version = state.inventory_version
        return Update(0, 0, 0)
    store(session, aggregates, now)
    return Update(
        len(changes), None if vendor_ids is None else len(vendor_ids), len(aggregates.systems)
    )


def ensure_fresh(session: Session) -> Freshness:
    """For the command line: the pending changes counted (or everything when an hour passed),
    committed. Pages never call it: they read what is stored."""
    now = datetime.now(UTC)
    if refresh_if_old(session, now) is None:
        update_pending(session, now)
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
