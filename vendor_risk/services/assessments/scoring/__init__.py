"""Scores kept up to date: each vendor's residual risk, computed by the pure scoring package
(docs/scoring.md) from what the app already keeps current, and stored with its history.

What a score reads, and where it comes from:

- inherent risk and exposure: the portfolio aggregates (``vendor_reach``: the vendor's profile,
  its blast-radius counts and the most sensitive data reached), recomputed after any inventory
  change (services.portfolio);
- the control score: per-section totals of the answers (``request_score``), stored when a
  request is submitted (answers are read-only from then on, until a reviewer returns it and the
  vendor submits again). The vendor's latest *accepted* request of each scored questionnaire
  counts in the rating; its latest submitted one (not cancelled; returned ones too, with the
  answers last submitted), when no risk officer has accepted it yet, counts in the
  provisional rating shown beside it (a vendor's own answers are provisional until accepted);
  the sections of several questionnaires count together.

So rescoring reads one row per vendor and one per counted request, never the answers. Whether
a vendor's score changed is known before computing it: its inputs are those rows' documents as
stored, whose digest is compared with its rating's, and only the vendors whose inputs changed
are computed.

When scores are computed again: a request submitted (again), accepted or cancelled; a review
decision; the aggregates refreshed after an inventory change (only the vendors whose profile
or reach changed, and those not scored yet); a scoring method of another version than the
stored ratings'; and on demand (``flask --app app rescore``). Each computation whose inputs
differ from the vendor's current rating's is kept as a snapshot (``vendor_score``: the history
is the trend) and becomes the current rating (``vendor_rating``); one from the same inputs adds
nothing, unless it comes from an event worth a point in the history (a submission, an
acceptance, a decision).

A vendor without aggregates yet (added since the last refresh) is scored at the next refresh.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.blast_radius.engine import ReachCounts
from ....core.questionnaire import model as qmodel
from ....core.scoring import (
    PARAMETERS_VERSION,
    Residual,
    SectionTotals,
    exposure_inputs,
    reproduce,
    score_inputs,
    section_totals,
)
from ....core.scoring.inherent import declared_from
from ....db import utcnow
from ....models import (
    Answer,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestScore,
    RequestStatus,
    ScoreTrigger,
    Vendor,
    VendorRating,
    VendorReach,
    VendorScore,
)
from ... import portfolio_history

# Triggers that add a snapshot even when the inputs did not change.
ALWAYS_RECORDED = frozenset({ScoreTrigger.submitted, ScoreTrigger.accepted, ScoreTrigger.decision})
BATCH = 1000  # vendors read and written per round
REASONS = 5  # the top reasons an explanation names


# ---- a request's totals ---------------------------------------------------------------------


def store_totals(
    session: Session, request: QuestionnaireRequest, questionnaire: qmodel.Questionnaire
) -> tuple[SectionTotals, ...] | None:
    """Reduce the request's answers to per-section totals and store them; None (and nothing
    stored) for a questionnaire that scores nothing or is filled by our staff (the intake)."""
    if questionnaire.audience is not qmodel.Audience.vendor or not questionnaire.scored:
        return None
    rows = session.execute(
        sa.select(Answer.question_id, Answer.value, Answer.comment).where(
            Answer.request_id == request.id
        )
    ).all()
    totals = section_totals(
        questionnaire,
        {row.question_id: row.value for row in rows},
        {row.question_id: row.comment for row in rows},
    )
    stored = session.get(RequestScore, request.id)
    if stored is None:
        stored = RequestScore(request_id=request.id)
        session.add(stored)
    stored.totals = [t.to_dict() for t in totals]
    stored.updated_at = utcnow()
    session.flush()
    return totals


def _counted(vendor_ids: Sequence[int] | None, *columns) -> sa.Subquery:
    """Every counted request of the vendors, with ``columns``: a request counts once it was
    submitted (it has totals) and while it is not cancelled, returned ones included, whose last
    submitted answers count until the vendor submits again. ``rank`` 1 marks the latest of
    each vendor and questionnaire, ``accepted`` the accepted ones, and an accepted one whose
    ``accepted_rank`` is 1 is the latest accepted (the answers that count in the rating)."""
    accepted = QuestionnaireRequest.status == RequestStatus.accepted
    partition = (QuestionnaireRequest.vendor_id, QuestionnaireVersion.questionnaire_id)
    newest = (QuestionnaireRequest.submitted_at.desc(), QuestionnaireRequest.id.desc())
    query = (
        sa.select(
            QuestionnaireRequest.id.label("request_id"),
            QuestionnaireRequest.vendor_id,
            Questionnaire.key,
            accepted.label("accepted"),
            *columns,
            sa.func.row_number().over(partition_by=partition, order_by=newest).label("rank"),
            # The accepted ones so far, newest first: 1 on the latest accepted. The same window
            # as the rank's, so that the database sorts the requests once for both.
            sa.func.sum(sa.case((accepted, 1), else_=0))
            .over(partition_by=partition, order_by=newest, rows=(None, 0))
            .label("accepted_rank"),
        )
        .join(RequestScore, RequestScore.request_id == QuestionnaireRequest.id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireRequest.status != RequestStatus.cancelled)
    )
    if vendor_ids is not None:
        query = query.where(QuestionnaireRequest.vendor_id.in_(vendor_ids))
    return query.subquery()


def _counting(counted: sa.Subquery) -> sa.ColumnElement[bool]:
    """The rows that count somewhere: the latest request, and the latest accepted one."""
    return sa.or_(counted.c.rank == 1, sa.and_(counted.c.accepted, counted.c.accepted_rank == 1))


@dataclass(frozen=True)
class Counted:
    """A vendor's requests whose answers count, by questionnaire key."""

    latest: dict[str, int]  # the latest submitted (accepted or not): the provisional rating's
    accepted: dict[str, int]  # the latest accepted: the rating's

    @property
    def awaiting(self) -> dict[str, int]:
        """The latest requests no risk officer has accepted yet: provisional answers."""
        return {key: rid for key, rid in self.latest.items() if self.accepted.get(key) != rid}


def counted_requests(session: Session, vendor_id: int) -> Counted:
    """The vendor's requests whose answers count, by questionnaire key."""
    counted = _counted([vendor_id])
    latest, accepted = {}, {}
    for row in session.execute(sa.select(counted).where(_counting(counted))):
        if row.rank == 1:
            latest[row.key] = row.request_id
        if row.accepted and row.accepted_rank == 1:
            accepted[row.key] = row.request_id
    return Counted(latest, accepted)


class CountedTotals(NamedTuple):
    """What a vendor's control scores are computed from: the stored totals (JSON text, see
    :func:`_sections`) by questionnaire key. A named tuple: one per vendor of every round."""

    request_id: int  # the latest counted request: the one a snapshot names
    accepted: list[tuple[str, str]]  # of the latest accepted request of each questionnaire
    # Of the latest request of each questionnaire, when one of them is not accepted yet
    # (None: nothing awaits a risk officer, the provisional rating is the rating).
    provisional: list[tuple[str, str]] | None


def counted_totals(
    session: Session, vendor_ids: Sequence[int] | None = None
) -> dict[int, CountedTotals]:
    """For each vendor with a counted request, the totals of its accepted requests and of its
    latest ones (:class:`CountedTotals`). One statement."""
    counted = _counted(vendor_ids, QuestionnaireRequest.submitted_at, _text(RequestScore.totals))
    c = counted.c
    rows = session.execute(
        sa.select(
            c.vendor_id, c.key, c.request_id, c.submitted_at, c.totals, c.rank, c.accepted_rank
        )
        .add_columns(c.accepted)
        .where(_counting(counted))
        .order_by(c.vendor_id, c.key)
    )
    accepted: dict[int, list[tuple[str, str]]] = defaultdict(list)
    latest: dict[int, list[tuple[str, str]]] = defaultdict(list)
    awaiting: set[int] = set()
    newest: dict[int, tuple[datetime, int]] = {}
    # Plain tuples unpacked: a round reads a thousand vendors' rows or more.
    for vendor_id, key, request_id, submitted_at, totals, rank, accepted_rank, is_accepted in rows:
        if is_accepted and accepted_rank == 1:
            accepted[vendor_id].append((key, totals))
        if rank != 1:
            continue
        latest[vendor_id].append((key, totals))
        if not is_accepted:
            awaiting.add(vendor_id)
        moment = (submitted_at, request_id)
        if vendor_id not in newest or moment > newest[vendor_id]:
            newest[vendor_id] = moment
    return {
        vendor_id: CountedTotals(
            newest[vendor_id][1],
            accepted.get(vendor_id, []),
            found if vendor_id in awaiting else None,
        )
        for vendor_id, found in latest.items()
    }


def _text(column: sa.ColumnElement) -> sa.ColumnElement[str]:
    """A JSON column read as its text, decoded only when its vendor's turn comes: a round's
    documents decoded at once outlive several garbage collections and reach the oldest
    generation, whose full collections then cost a tenth of a large rescoring."""
    return sa.cast(column, sa.Text).label(column.key)


def _sections(totals: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The stored totals (``SectionTotals.to_dict`` documents) of each questionnaire, their
    sections prefixed by its key so that two questionnaires' sections never mix. Kept as
    stored: they are part of a score's inputs as they are, so an unchanged vendor is
    recognised without converting them."""
    sections = []
    for key, text in totals:
        for section in json.loads(text):
            section["section_id"] = f"{key}/{section['section_id']}"
            sections.append(section)
    return sections


# ---- computing and storing scores -----------------------------------------------------------


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


def explain(score: VendorScore) -> dict:
    """A stored score explained, from its inputs computed again (``reproduce``): the
    explanation is not stored, since it is what the inputs give, and writing it with every
    snapshot made rescoring the portfolio a third slower."""
    return explanation(reproduce(score.inputs))


def _contributors(items) -> list[dict]:
    return [{"factor": c.factor, "points": c.points, "detail": c.detail} for c in items]


def _lines(lines) -> list[dict]:
    return [
        {
            "source": line.source,
            "factor": line.factor,
            "text": line.text,
            "points": line.points,
            "share": line.share,
        }
        for line in lines
    ]


def explanation(residual: Residual) -> dict:
    """What a page or a report shows of a score, JSON-ready: the residual's three parts, the
    floors, the sections, the critical failures, the lines of the one explanation (every
    contributor of inherent risk, exposure and the control score, each with its points in its
    part and its weighted share of the residual score) and the top ones, the facts the rating
    misses, and the provisional rating beside it."""
    control = residual.control
    provisional = residual.provisional
    return {
        "residual": _contributors(residual.contributors),
        "floor": residual.floor,
        "inherent_floor": residual.inherent.floor,
        "control": None
        if control is None
        else {
            "sections": [
                {"id": s.section_id, "title": s.title, "score": s.score, "points": s.points}
                for s in control.sections
            ],
            "critical_failures": [f.to_dict() for f in control.critical_failures],
            "uncapped": control.uncapped,
        },
        "lines": _lines(residual.lines),
        "reasons": _lines(residual.top_reasons(REASONS)),
        "missing": list(residual.missing),
        "provisional": None
        if provisional is None
        else {
            "score": provisional.score,
            "tier": str(provisional.tier),
            "floor": provisional.floor,
            "control_score": None if provisional.control is None else provisional.control.score,
            "critical_failures": 0
            if provisional.control is None
            else len(provisional.control.critical_failures),
        },
    }


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


# ---- the events that rescore ---------------------------------------------------------------


def request_submitted(
    session: Session,
    request: QuestionnaireRequest,
    questionnaire: qmodel.Questionnaire,
    *,
    again: bool,
) -> tuple[SectionTotals, ...] | None:
    """A request was submitted (``again``: after a return for clarification): store its totals
    and rescore its vendor. Returns the totals (None for a questionnaire that scores nothing),
    from which the caller opens findings. An intake declares the vendor's inherent-risk
    factors: they are written on the vendor, which makes the portfolio aggregates stale, and
    the vendor is rescored when they are computed again."""
    if questionnaire.audience is qmodel.Audience.internal:
        _declare(session, request, questionnaire)
    totals = store_totals(session, request, questionnaire)
    if totals is not None:
        trigger = ScoreTrigger.answers_changed if again else ScoreTrigger.submitted
        rescore(session, [request.vendor_id], trigger=trigger)
    return totals


def request_closed(session: Session, request: QuestionnaireRequest) -> None:
    """A request was accepted (its answers now count in the rating, no longer provisionally)
    or cancelled (they no longer count at all): rescore its vendor, when its answers were
    counted (a scored vendor questionnaire submitted at least once)."""
    trigger = {
        RequestStatus.accepted: ScoreTrigger.accepted,
        RequestStatus.cancelled: ScoreTrigger.cancelled,
    }[request.status]
    if session.get(RequestScore, request.id) is not None:
        rescore(session, [request.vendor_id], trigger=trigger)


def _declare(
    session: Session, request: QuestionnaireRequest, questionnaire: qmodel.Questionnaire
) -> None:
    if not any(q.inherent is not None for q in questionnaire.questions):
        return
    values = dict(
        session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.request_id == request.id)
        ).all()
    )
    vendor = session.get(Vendor, request.vendor_id)
    declared = declared_from(questionnaire, values)
    if vendor.declared_risk != declared:
        vendor.declared_risk = declared
        session.flush()


def after_aggregates(session: Session, changed: Iterable[int], now: datetime) -> Rescored:
    """After the portfolio aggregates were stored: rescore the vendors whose profile or reach
    changed, those not scored yet, and those scored by another version of the method."""
    changed = set(changed) | set(unscored(session))
    outdated_ids = set(outdated(session)) - changed
    result = rescore(session, changed, trigger=ScoreTrigger.inventory_changed, now=now)
    if outdated_ids:
        again = rescore(session, outdated_ids, trigger=ScoreTrigger.parameters_changed, now=now)
        result = Rescored(result.vendors + again.vendors, result.recorded + again.recorded)
    return result


# ---- reading ---------------------------------------------------------------------------------


def rating_of(session: Session, vendor_id: int) -> tuple[VendorRating, VendorScore] | None:
    """The vendor's current rating and the score it comes from."""
    row = session.execute(
        sa.select(VendorRating, VendorScore)
        .join(VendorScore, VendorScore.id == VendorRating.score_id)
        .where(VendorRating.vendor_id == vendor_id)
    ).first()
    return None if row is None else (row[0], row[1])


def history(session: Session, vendor_id: int, limit: int = 50) -> list[VendorScore]:
    """The vendor's scores, newest first."""
    return list(
        session.scalars(
            sa.select(VendorScore)
            .where(VendorScore.vendor_id == vendor_id)
            .order_by(VendorScore.computed_at.desc(), VendorScore.id.desc())
            .limit(limit)
        )
    )


def tier_counts(session: Session) -> dict[str, int]:
    """Vendors per residual tier (computed, not overridden)."""
    return dict(
        session.execute(
            sa.select(VendorRating.residual_tier, sa.func.count()).group_by(
                VendorRating.residual_tier
            )
        ).all()
    )
