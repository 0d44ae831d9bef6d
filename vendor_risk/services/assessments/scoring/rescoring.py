"""Computing and storing scores: each vendor's inputs read from the rows kept current, their
digest compared with its rating's, and a snapshot and a rating written for those that
changed, a batch of vendors at a time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.blast_radius.engine import ReachCounts
from ....core.scoring import PARAMETERS_VERSION, exposure_inputs, reproduce, score_inputs
from ....db import utcnow
from ....models import ScoreTrigger, VendorRating, VendorReach, VendorScore
from ... import portfolio_history
from .counted import _sections, _text, counted_totals

# Triggers that add a snapshot even when the inputs did not change.
ALWAYS_RECORDED = frozenset({ScoreTrigger.submitted, ScoreTrigger.accepted, ScoreTrigger.decision})
BATCH = 1000  # vendors read and written per round


@dataclass(frozen=True)
class Rescored:
    vendors: int  # vendors computed
    recorded: int  # snapshots added (inputs changed, or an event worth a point)


def _inputs(
    reach: sa.Row, totals: list[dict[str, Any]], provisional: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """What the vendor's score is computed from, straight from the rows read: the profile
    and the totals as stored, which are the documents ``Residual.inputs`` gives back, so the
    digest is the one the computed score would give and nothing is computed to compare."""
    counts = ReachCounts(
        reach.systems_despite_controls,
        reach.systems_if_controls_fail,
        reach.categories_despite_controls,
    )
    return score_inputs(
        json.loads(reach.profile),
        totals or None,
        exposure_inputs(counts, reach.max_sensitivity),
        provisional=provisional,
    )


# One encoder for every fingerprint: json.dumps with options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(inputs: dict[str, Any]) -> tuple[str, str]:
    """A score's inputs as canonical JSON (sorted keys, no spaces) and its SHA-256 digest: the
    digest tells whether a vendor's inputs changed since its rating, the text is what a new
    snapshot stores (serialised once for both)."""
    text = _CANONICAL.encode(inputs)
    return text, hashlib.sha256(text.encode()).hexdigest()


def rescore(
    session: Session,
    vendor_ids: Iterable[int] | None,
    *,
    trigger: ScoreTrigger,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Rescored:
    """Compute the scores of these vendors (None: every vendor with aggregates) and store them,
    in the caller's transaction, ``BATCH`` vendors a round: a few statements per round whatever
    their number. ``progress`` is called with the number of vendors done after each round."""
    now = now or utcnow()
    if vendor_ids is None:
        ids = list(
            session.scalars(sa.select(VendorReach.vendor_id).order_by(VendorReach.vendor_id))
        )
    else:
        ids = sorted(set(vendor_ids))
    done = recorded = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        recorded += _rescore_batch(session, chunk, trigger, now)
        done += len(chunk)
        if progress is not None:
            progress(len(chunk))
    portfolio_history.record_day(session, now)
    return Rescored(done, recorded)


def _reaches(session: Session, vendor_ids: Sequence[int]) -> list[sa.Row]:
    """The vendors' aggregates beside their current rating's digest and version (None when
    not rated yet): what deciding whether a score changed needs, in one statement."""
    return list(
        session.execute(
            sa.select(
                VendorReach.vendor_id,
                VendorReach.systems_despite_controls,
                VendorReach.systems_if_controls_fail,
                VendorReach.categories_despite_controls,
                VendorReach.max_sensitivity,
                _text(VendorReach.profile),
                VendorRating.inputs_digest,
                VendorRating.parameters_version,
            )
            .outerjoin(VendorRating, VendorRating.vendor_id == VendorReach.vendor_id)
            .where(VendorReach.vendor_id.in_(vendor_ids))
        )
    )


class _SerialisedJSON(sa.types.TypeDecorator):
    """A JSON column's value given as the JSON text already made (the column type's own
    serialisation skipped, its SQL kept, e.g. PostgreSQL's cast to json): a score's inputs are
    stored as the canonical text their digest was computed from, not serialised again."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> None:
        return None


_SCORES = VendorScore.__table__
_INSERT_SCORES = sa.insert(_SCORES).values(
    inputs=sa.bindparam("inputs_json", type_=_SerialisedJSON())
)
# SQLite: one multi-row INSERT per 100 rows, giving back the ids. Rows come back in any
# order: each names its vendor (asking for the order makes SQLite insert one row per statement).
_INSERT_SCORES_RETURNING = _INSERT_SCORES.returning(
    _SCORES.c.id, _SCORES.c.vendor_id
).execution_options(insertmanyvalues_page_size=100)
# PostgreSQL: the ids drawn from the column's sequence first, in one statement.
_NEXT_SCORE_IDS = sa.select(
    sa.func.nextval(sa.func.pg_get_serial_sequence(_SCORES.name, _SCORES.c.id.name))
).select_from(sa.func.generate_series(1, sa.bindparam("n")))


def _insert_snapshots(session: Session, snapshots: list[dict[str, Any]]) -> dict[int, int]:
    """Insert the snapshots; their ids by vendor.

    On PostgreSQL the ids are drawn from the sequence beforehand and the rows sent as one
    single-row INSERT executed many times, which psycopg pipelines and parses once. A
    multi-row INSERT with RETURNING (what SQLAlchemy would send) is parsed again by psycopg for
    every statement, its thousand placeholders too many for its statement cache: that parsing
    was a fifth of a full rescoring there."""
    if session.get_bind().dialect.name != "postgresql":
        ids = session.execute(_INSERT_SCORES_RETURNING, snapshots).all()
        return {vendor_id: score_id for score_id, vendor_id in ids}
    ids = session.scalars(_NEXT_SCORE_IDS, {"n": len(snapshots)}).all()
    for snapshot, score_id in zip(snapshots, ids, strict=True):
        snapshot["id"] = score_id
    session.execute(_INSERT_SCORES, snapshots)
    return {snapshot["vendor_id"]: snapshot["id"] for snapshot in snapshots}


def _snapshot(
    vendor_id: int,
    request_id: int | None,
    inputs: dict[str, Any],
    inputs_json: str,
    trigger: ScoreTrigger,
    now: datetime,
) -> dict[str, Any]:
    """A ``vendor_score`` row (its JSON as text): the score computed from ``inputs`` by
    ``reproduce``, so that every stored score is, by construction, what its inputs give
    again."""
    residual = reproduce(inputs)
    control = residual.control
    provisional = residual.provisional_figures()
    return {
        "vendor_id": vendor_id,
        "request_id": request_id,
        "computed_at": now,
        "trigger": trigger,
        "parameters_version": residual.parameters_version,
        "inherent_score": residual.inherent.score,
        "inherent_tier": str(residual.inherent.tier),
        "control_score": None if control is None else control.score,
        "exposure_score": residual.exposure.score,
        "residual_score": residual.score,
        "residual_tier": str(residual.tier),
        "critical_failures": 0 if control is None else len(control.critical_failures),
        "missing": missing_text(residual.missing),
        "provisional_score": None if provisional is None else provisional[0],
        "provisional_tier": None if provisional is None else str(provisional[1]),
        "inputs_json": inputs_json,
    }


def missing_text(missing: Sequence[str]) -> str:
    """The facts a rating misses as stored in ``vendor_score.missing`` and
    ``vendor_rating.missing``: their keys (scoring.MISSING_WORDS) separated by spaces, "" for a
    complete rating, so that lists filter, group and show them without decoding anything."""
    return " ".join(missing)


def missing_facts(text: str | None) -> tuple[str, ...]:
    """The keys of :func:`missing_text` back."""
    return tuple((text or "").split())


def _rescore_batch(
    session: Session, vendor_ids: Sequence[int], trigger: ScoreTrigger, now: datetime
) -> int:
    counted = counted_totals(session, vendor_ids)
    snapshots, ratings = [], []
    for reach in _reaches(session, vendor_ids):
        found = counted.get(reach.vendor_id)
        if found is None:
            request_id, inputs = None, _inputs(reach, [], None)
        else:
            provisional = None if found.provisional is None else _sections(found.provisional)
            request_id = found.request_id
            inputs = _inputs(reach, _sections(found.accepted), provisional)
        text, digest = fingerprint(inputs)
        # A rating stands when both its inputs and its method's version are the current
        # ones: a rating stamped with another version is outdated even if its digest matches.
        # Deciding needs no computation: only the vendors whose inputs changed are computed.
        current = (reach.inputs_digest, reach.parameters_version)
        if current == (digest, PARAMETERS_VERSION) and trigger not in ALWAYS_RECORDED:
            continue
        snapshots.append(_snapshot(reach.vendor_id, request_id, inputs, text, trigger, now))
        ratings.append((reach.vendor_id, digest, reach.inputs_digest is not None))
    if not snapshots:
        return 0
    by_vendor = _insert_snapshots(session, snapshots)
    updates, inserts = [], []
    for (vendor_id, digest, exists), snapshot in zip(ratings, snapshots, strict=True):
        row = {
            "vendor_id": vendor_id,
            "score_id": by_vendor[vendor_id],
            "computed_at": now,
            "parameters_version": snapshot["parameters_version"],
            "inputs_digest": digest,
            "control_score": snapshot["control_score"],
            "exposure_score": snapshot["exposure_score"],
            "residual_score": snapshot["residual_score"],
            "residual_tier": snapshot["residual_tier"],
            "critical_failures": snapshot["critical_failures"],
            "missing": snapshot["missing"],
            "provisional_score": snapshot["provisional_score"],
            "provisional_tier": snapshot["provisional_tier"],
        }
        (updates if exists else inserts).append(row)
    if updates:
        session.execute(sa.update(VendorRating), updates)
    if inserts:
        session.execute(sa.insert(VendorRating), inserts)
    session.flush()
    return len(snapshots)


def outdated(session: Session) -> list[int]:
    """Vendors whose rating was computed by another version of the scoring method."""
    return list(
        session.scalars(
            sa.select(VendorRating.vendor_id).where(
                VendorRating.parameters_version != PARAMETERS_VERSION
            )
        )
    )


def unscored(session: Session) -> list[int]:
    """Vendors with aggregates and no rating yet."""
    return list(
        session.scalars(
            sa.select(VendorReach.vendor_id)
            .outerjoin(VendorRating, VendorRating.vendor_id == VendorReach.vendor_id)
            .where(VendorRating.vendor_id.is_(None))
        )
    )
