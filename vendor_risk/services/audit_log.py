"""Reading the audit trail (writing it is ``vendor_risk.audit``): the admin's page, the
objects its events name, and the trail's export as CSV or JSON Lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import AuditAction, AuditEvent
from . import audit

# Rows read per query while an export streams: memory stays flat however long the trail.
EXPORT_BATCH = 500


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # pass as ``before`` for the next (older) page


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page filters by; an export keeps the same."""

    action: str | None = None
    actor: str | None = None
    actor_id: int | None = None
    outcome: str | None = None
    since: date | None = None
    until: date | None = None

    def described(self) -> dict[str, str]:
        """The filters set, as text (what the export's own audit event records)."""
        return {k: str(v) for k, v in asdict(self).items() if v not in (None, "")}


def _where(query: sa.Select, filters: AuditFilters) -> sa.Select:
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        escaped = (
            filters.actor.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        query = query.where(sa.func.lower(AuditEvent.actor).like(f"%{escaped}%", escape="\\"))
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        query = query.where(
            AuditEvent.occurred_at <= datetime.combine(filters.until, time.max, UTC)
        )
    return query


def search(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    actor_id: int | None = None,
    outcome: str | None = None,
    since: date | None = None,
    until: date | None = None,
    before: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """Newest first, by keyset on the sequence number (fast at any depth)."""
    filters = AuditFilters(action, actor, actor_id, outcome, since, until)
    query = _where(sa.select(AuditEvent), filters)
    if before:
        query = query.where(AuditEvent.seq < before)
    rows = session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)).all()
    events = list(rows[:limit])
    next_before = events[-1].seq if len(rows) > limit else None
    return AuditPage(events, next_before)


# ---- the objects the events name -----------------------------------------------------------


def existing(session: Session, wanted: Mapping[type, Iterable[int]]) -> dict[type, dict[int, Any]]:
    """Of the ids asked for each model, the rows that still exist (one query per model), so a
    page links only to objects that are still there."""
    found: dict[type, dict[int, Any]] = {}
    for model, ids in wanted.items():
        ids = sorted(set(ids))
        if not ids:
            continue
        rows = session.scalars(sa.select(model).where(model.id.in_(ids))).all()
        found[model] = {row.id: row for row in rows}
    return found


# ---- the export ----------------------------------------------------------------------------

# The columns of an exported event, in order: the stored fields, hashes included, so that a
# reader can check the chain of what was exported.
EXPORT_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "actor_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "vendor_id",
    "ip",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class AuditExport:
    """An export decided: the events up to ``up_to`` matching the filters, ``rows`` of them.
    The trail only grows, so streaming them later gives exactly these rows."""

    filters: AuditFilters
    up_to: int
    rows: int


def start_export(
    session: Session, filters: AuditFilters, *, export_format: str, actor: audit.Actor
) -> AuditExport:
    """Count what the export holds and audit it (who, which filters, how many rows), before a
    single row is sent. Flushes; the caller commits."""
    last = session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0
    counted = _where(sa.select(sa.func.count()).select_from(AuditEvent), filters)
    rows = session.scalar(counted.where(AuditEvent.seq <= last)) or 0
    audit.record(
        session,
        AuditAction.audit_exported,
        actor=actor,
        details={"format": export_format, "filters": filters.described(), "rows": rows},
    )
    return AuditExport(filters, last, rows)


def export_rows(
    session: Session, export: AuditExport, *, batch: int | None = None
) -> Iterator[dict[str, Any]]:
    """The exported events oldest first, as plain values, read ``batch`` rows per query
    (:data:`EXPORT_BATCH` by default); each query's transaction ends before the rows are
    handed on, so a slow download holds none."""
    batch = batch or EXPORT_BATCH
    after = 0
    while True:
        query = _where(sa.select(AuditEvent), export.filters).where(
            AuditEvent.seq > after, AuditEvent.seq <= export.up_to
        )
        events = session.scalars(query.order_by(AuditEvent.seq).limit(batch)).all()
        rows = [exported_event(event) for event in events]
        session.rollback()  # read only: ends the transaction (and its snapshot)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1]["seq"]


def exported_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "actor_id": event.actor_id,
        "action": event.action,
        "outcome": str(event.outcome),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "vendor_id": event.vendor_id,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
