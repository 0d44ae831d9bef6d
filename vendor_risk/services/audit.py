"""The audit trail: append-only, hash-chained events written in the caller's transaction.

Each event's hash is SHA-256 over a canonical JSON of its fields and the previous event's hash.
Database triggers (see the migration) reject UPDATE and DELETE; :func:`verify_chain` recomputes
every hash and names the first record that does not match.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import AuditAction, AuditEvent, AuditOutcome

GENESIS_HASH = "0" * 64
# Any detail whose key looks like it could carry a credential is dropped before it is stored.
_SENSITIVE_KEY = re.compile(
    r"pass|secret|token|code|otp|key|hash|credential|authori[sz]ation|cookie|session|pin|bearer",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
# An arbitrary constant: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_ID = 0x5652_4155_4449_54  # "VRAUDIT"


@dataclass(frozen=True)
class Actor:
    """Who does something: a user (id and email) or the system, and from which address."""

    label: str
    user_id: int | None = None
    ip: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label)


def redact(details: dict | None) -> dict:
    def clean(key: str, value):
        if _SENSITIVE_KEY.search(key):
            return REDACTED
        if isinstance(value, dict):
            return {k: clean(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(key, v) for v in value]
        return value

    return {k: clean(k, v) for k, v in (details or {}).items()}


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: AuditEvent) -> str:
    payload = {
        "seq": event.seq,
        "occurred_at": _timestamp(event.occurred_at),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "vendor_id": event.vendor_id,
        "outcome": str(event.outcome),
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    action: AuditAction,
    *,
    actor: Actor,
    outcome: AuditOutcome = AuditOutcome.success,
    object_type: str | None = None,
    object_id: object = None,
    vendor_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (flushed, not committed)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK_ID)))
    # SQLite: every transaction began with BEGIN IMMEDIATE, so this writer is alone.
    last = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor=actor.label[:320],
        action=str(action),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        vendor_id=vendor_id,
        outcome=outcome,
        ip=actor.ip,
        details=redact(details),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    last_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


@dataclass(frozen=True)
class _Unreadable:
    seq: int
    error: str


def _load(session: Session, query) -> list[AuditEvent]:
    return list(session.scalars(query).all())


def _events(session: Session, batch: int = 1000) -> Iterator[AuditEvent | _Unreadable]:
    """Every event in order, in batches; a row whose columns cannot even be decoded (text
    where a timestamp or JSON should be) comes out as :class:`_Unreadable`."""
    after = 0
    while True:
        query = sa.select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
        try:
            rows = _load(session, query.limit(batch))
        except (ValueError, TypeError, sa.exc.StatementError):
            session.rollback()
            seqs = session.scalars(
                sa.select(AuditEvent.seq)
                .where(AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            ).all()
            for seq in seqs:
                try:
                    rows = _load(session, sa.select(AuditEvent).where(AuditEvent.seq == seq))
                except (ValueError, TypeError, sa.exc.StatementError) as exc:
                    session.rollback()
                    yield _Unreadable(seq, type(exc).__name__)
                    return
                yield from rows
            rows = []
            if not seqs:
                return
            after = seqs[-1]
            continue
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in order; report the first event that was altered, removed or inserted."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _events(session):
        if isinstance(event, _Unreadable):
            return ChainReport(checked, event.seq, f"unreadable record ({event.error})")
        if event.seq != expected_seq:
            return ChainReport(
                checked, expected_seq, f"missing (the next event found is #{event.seq})"
            )
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "previous hash does not match the record before")
        if event_hash(event) != event.hash:
            return ChainReport(checked, event.seq, "contents do not match the stored hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked, last_hash=expected_prev)
