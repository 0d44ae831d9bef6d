"""Reading the audit trail (writing it is ``vendor_risk.audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import AuditEvent


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # pass as ``before`` for the next (older) page


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
    query = sa.select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        escaped = actor.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(sa.func.lower(AuditEvent.actor).like(f"%{escaped}%", escape="\\"))
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if since:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(since, time(), UTC))
    if until:
        query = query.where(AuditEvent.occurred_at <= datetime.combine(until, time.max, UTC))
    if before:
        query = query.where(AuditEvent.seq < before)
    rows = session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)).all()
    events = list(rows[:limit])
    next_before = events[-1].seq if len(rows) > limit else None
    return AuditPage(events, next_before)
