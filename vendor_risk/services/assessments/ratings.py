"""A vendor's rating as its Risk tab shows it, and a risk officer's override of its tier.

The scores themselves are services.scoring's: computed, stored as snapshots and kept current
in ``vendor_rating``. This module reads them for the page (plain values: the contributors of
each part in points, which add up to its score) and writes the override, which sits beside the
computed tier in its own columns and never replaces it: a rescore writes only the computed
columns, so an override outlives any number of rescores until a risk officer clears it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.scoring import MISSING_WORDS, Line, Tier
from ...core.secret_detection import secret_problem
from ...db import utcnow
from ...models import AuditAction, ScoreTrigger, User, VendorRating, VendorScore
from .. import ValidationFailed, audit, portfolio_history
from ..audit import Actor
from . import scoring

OVERRIDE_REASON_MIN = 10
SOURCES = ("inherent", "exposure", "controls")  # the parts of the explanation's lines
HISTORY_SHOWN = 50
NO_RATING = (
    "This vendor has no rating yet: nothing was done. Its rating is computed with the "
    "portfolio's aggregates; open its Risk tab again once they are."
)


def effective_tier(rating: VendorRating) -> Tier:
    """The tier decisions and reassessments follow: the override when there is one."""
    return Tier(rating.override_tier or rating.residual_tier)


# ---- the page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One figure of the rating and the lines whose points add up to it; each line carries
    its weighted share of the residual score too, the same figure the top reasons show."""

    score: float | None
    tier: Tier | None
    lines: tuple[Line, ...]
    floor: str | None = None  # why the tier was lifted above its band

    @property
    def total(self) -> float:
        """The lines' points added up: the score, shown under them as the proof."""
        return round(sum(line.points or 0.0 for line in self.lines), 2)

    @property
    def share(self) -> float:
        """The lines' weighted shares added up: what the part adds to the residual score."""
        return round(sum(line.share for line in self.lines), 2)


@dataclass(frozen=True)
class Section:
    title: str
    score: float | None  # None: no counted question
    points: float  # what it adds to the control score


@dataclass(frozen=True)
class CriticalFailure:
    question_id: str
    text: str
    section: str
    answered: bool  # answered with a failing answer (else: unanswered)
    request_id: int | None  # the request on whose review page the answer is


@dataclass(frozen=True)
class Override:
    tier: Tier
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Missing:
    """A fact the rating misses, counted at its cautious value (docs/scoring.md)."""

    key: str  # scoring.MISSING_WORDS
    words: str


@dataclass(frozen=True)
class Provisional:
    """The rating with the answers no risk officer has accepted yet: beside the rating that
    counts, never in its place."""

    score: float
    tier: Tier
    floor: str | None
    control_score: float | None
    critical_failures: int
    requests: tuple[int, ...]  # awaiting acceptance: their review pages


@dataclass(frozen=True)
class Rating:
    score_id: int
    computed_at: datetime
    trigger: ScoreTrigger
    parameters_version: int
    residual: Part  # its lines: the inherent, exposure and controls parts
    inherent: Part
    control: Part | None  # None: no accepted questionnaire counts yet
    exposure: Part
    sections: tuple[Section, ...]
    critical_failures: tuple[CriticalFailure, ...]
    reasons: tuple[Line, ...]  # the lines that add the most to the residual score
    missing: tuple[Missing, ...]
    provisional: Provisional | None
    override: Override | None

    @property
    def tier(self) -> Tier:
        """The computed tier."""
        return self.residual.tier

    @property
    def effective_tier(self) -> Tier:
        return self.override.tier if self.override else self.residual.tier

    @property
    def incomplete(self) -> bool:
        return bool(self.missing)


@dataclass(frozen=True)
class HistoryRow:
    score_id: int
    computed_at: datetime
    trigger: ScoreTrigger
    residual_score: float
    residual_tier: Tier
    control_score: float | None
    exposure_score: float
    missing: tuple[Missing, ...]
    provisional_score: float | None
    provisional_tier: Tier | None


@dataclass(frozen=True)
class RiskPage:
    rating: Rating | None
    history: tuple[HistoryRow, ...]
    more_history: bool  # older scores exist than those shown


def missing_of(text: str | None) -> tuple[Missing, ...]:
    """The missing facts of a stored rating (``missing`` as stored) in words."""
    return tuple(Missing(key, MISSING_WORDS[key]) for key in scoring.missing_facts(text))


def _lines(items: Sequence[Mapping[str, Any]]) -> tuple[Line, ...]:
    return tuple(Line(i["source"], i["factor"], i["text"], i["points"], i["share"]) for i in items)


def _residual_lines(items: Sequence[Mapping[str, Any]]) -> tuple[Line, ...]:
    """The residual's three parts as lines: their points are their shares."""
    return tuple(
        Line("residual", c["factor"], c["detail"], c["points"], c["points"]) for c in items
    )


def _failure_keys(inputs: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(section, question) -> the key of the questionnaire it failed in. The stored totals
    carry the section ids prefixed by the questionnaire's key (services.scoring), the failures
    their own section ids: the key is what tells two questionnaires' failures apart."""
    keys = {}
    for totals in inputs.get("control") or ():
        key, _, section_id = totals["section_id"].rpartition("/")
        for failure in totals.get("critical_failures", ()):
            keys.setdefault((section_id, failure["question_id"]), key)
    return keys


def _failures(
    score: VendorScore, control: Mapping[str, Any], counted: scoring.Counted
) -> tuple[CriticalFailure, ...]:
    """The score's critical failures, each with the request whose review page shows the
    answer (with several questionnaires counted, each failure's own)."""
    failures = control.get("critical_failures", [])
    if not failures:
        return ()
    keys = _failure_keys(score.inputs)
    # A rating of version 1 counted the latest submitted requests, of version 2 accepted ones.
    requests = counted.latest if score.parameters_version < 2 else counted.accepted
    titles = {s["id"].rpartition("/")[2]: s["title"] for s in control.get("sections", [])}
    found = []
    for f in failures:
        key = keys.get((f["section_id"], f["question_id"]))
        found.append(
            CriticalFailure(
                question_id=f["question_id"],
                text=f["text"],
                section=titles.get(f["section_id"], f["section_id"]),
                answered=f["status"] == "answered",
                request_id=requests.get(key, score.request_id),
            )
        )
    return tuple(found)


def _rating(
    session: Session, rating: VendorRating, score: VendorScore, overrider: str | None
) -> Rating:
    explained = scoring.explain(score)
    control = explained.get("control")
    lines = _lines(explained["lines"])
    of = {source: tuple(line for line in lines if line.source == source) for source in SOURCES}
    counted = scoring.counted_requests(session, score.vendor_id)
    override = None
    if rating.override_tier:
        override = Override(
            Tier(rating.override_tier), rating.override_reason, overrider or "", rating.override_at
        )
    provisional = explained.get("provisional")
    return Rating(
        score_id=score.id,
        computed_at=score.computed_at,
        trigger=score.trigger,
        parameters_version=score.parameters_version,
        residual=Part(
            score.residual_score,
            Tier(score.residual_tier),
            _residual_lines(explained["residual"]),
            explained.get("floor"),
        ),
        inherent=Part(
            score.inherent_score,
            Tier(score.inherent_tier),
            of["inherent"],
            explained.get("inherent_floor"),
        ),
        control=None if control is None else Part(score.control_score, None, of["controls"]),
        exposure=Part(score.exposure_score, None, of["exposure"]),
        sections=tuple(
            Section(s["title"], s["score"], s["points"])
            for s in (control or {}).get("sections", [])
        ),
        critical_failures=() if control is None else _failures(score, control, counted),
        reasons=_lines(explained["reasons"]),
        missing=tuple(Missing(key, MISSING_WORDS[key]) for key in explained.get("missing", ())),
        provisional=None
        if provisional is None
        else Provisional(
            score=provisional["score"],
            tier=Tier(provisional["tier"]),
            floor=provisional["floor"],
            control_score=provisional["control_score"],
            critical_failures=provisional["critical_failures"],
            requests=tuple(sorted(counted.awaiting.values())),
        ),
        override=override,
    )


def risk_page(session: Session, vendor_id: int) -> RiskPage:
    """The vendor's current rating explained, and its history newest first (the latest
    ``HISTORY_SHOWN``)."""
    found = scoring.rating_of(session, vendor_id)
    rating = None
    if found is not None:
        current, score = found
        overrider = (
            session.scalar(sa.select(User.name).where(User.id == current.override_by_id))
            if current.override_by_id
            else None
        )
        rating = _rating(session, current, score, overrider)
    scores = scoring.history(session, vendor_id, limit=HISTORY_SHOWN + 1)
    history = tuple(
        HistoryRow(
            s.id,
            s.computed_at,
            s.trigger,
            s.residual_score,
            Tier(s.residual_tier),
            s.control_score,
            s.exposure_score,
            missing_of(s.missing),
            s.provisional_score,
            Tier(s.provisional_tier) if s.provisional_tier else None,
        )
        for s in scores[:HISTORY_SHOWN]
    )
    return RiskPage(rating, history, len(scores) > HISTORY_SHOWN)


# ---- the override --------------------------------------------------------------------------


def override_problems(tier: Tier | None, reason: str | None) -> dict[str, list[str]]:
    """What is wrong with an override, per field: a tier, and a reason an auditor can read."""
    errors: dict[str, list[str]] = {}
    if tier is None:
        errors["override_tier"] = ["Choose the tier the vendor should have."]
    text = (reason or "").strip()
    if len(text) < OVERRIDE_REASON_MIN:
        errors["override_reason"] = [
            f"Give the reason in at least {OVERRIDE_REASON_MIN} characters: it is shown beside "
            "the computed rating and kept in the audit trail."
        ]
    elif found := secret_problem(text):
        errors["override_reason"] = [found]
    return errors


def locked_rating(session: Session, vendor_id: int) -> VendorRating:
    """The vendor's rating, locked until the transaction ends (a rescore racing the override
    waits, then writes only its own columns); ValidationFailed when there is none."""
    rating = session.scalar(
        sa.select(VendorRating).where(VendorRating.vendor_id == vendor_id).with_for_update()
    )
    if rating is None:
        raise ValidationFailed({"": [NO_RATING]})
    return rating


def set_override(
    session: Session, vendor_id: int, *, tier: Tier | None, reason: str | None, actor: Actor
) -> VendorRating:
    """Set (or replace) the override of the vendor's tier, audited with the tiers before and
    after and the reason. ValidationFailed per field; under "" when the vendor has no rating."""
    errors = override_problems(tier, reason)
    if errors:
        raise ValidationFailed(errors)
    rating = locked_rating(session, vendor_id)
    before = effective_tier(rating)
    rating.override_tier = tier.value
    rating.override_reason = (reason or "").strip()
    rating.override_by_id = actor.user_id
    rating.override_at = utcnow()
    session.flush()
    audit.record(
        session,
        AuditAction.rating_overridden,
        actor=actor,
        object_type="vendor_rating",
        object_id=vendor_id,
        vendor_id=vendor_id,
        details={
            "from": before.value,
            "to": tier.value,
            "computed": rating.residual_tier,
            "reason": rating.override_reason,
        },
    )
    # The dashboards count effective tiers: an override moves a vendor there at once.
    portfolio_history.record_day(session, utcnow())
    return rating


def clear_override(session: Session, vendor_id: int, *, actor: Actor) -> VendorRating:
    """Back to the computed tier, audited with the override that ends. ValidationFailed
    (under "") when there is no override to clear."""
    rating = locked_rating(session, vendor_id)
    if rating.override_tier is None:
        raise ValidationFailed({"": ["This vendor's tier is not overridden: nothing to clear."]})
    details = {
        "from": rating.override_tier,
        "to": rating.residual_tier,
        "reason": rating.override_reason,
    }
    rating.override_tier = None
    rating.override_reason = ""
    rating.override_by_id = None
    rating.override_at = None
    session.flush()
    audit.record(
        session,
        AuditAction.rating_override_cleared,
        actor=actor,
        object_type="vendor_rating",
        object_id=vendor_id,
        vendor_id=vendor_id,
        details=details,
    )
    portfolio_history.record_day(session, utcnow())
    return rating
