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

from .. import audit
from ..audit import Actor
from ..db import utcnow
from ..models import (
    AuditAction,
    ScoreTrigger,
    User,
    VendorRating,
    VendorScore,
)
from ..scoring import Contributor, Reason, Tier
from ..secret_guard import secret_problem
from . import ValidationFailed, portfolio_history, scoring

OVERRIDE_REASON_MIN = 10
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
    """One figure of the rating and the contributors whose points add up to it."""

    score: float | None
    tier: Tier | None
    contributors: tuple[Contributor, ...]
    floor: str | None = None  # why the tier was lifted above its band

    @property
    def total(self) -> float:
        """The contributors' points added up: the score, shown under them as the proof."""
        return round(sum(c.points for c in self.contributors), 2)


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
class Rating:
    score_id: int
    computed_at: datetime
    trigger: ScoreTrigger
    parameters_version: int
    residual: Part
    inherent: Part
    control: Part | None  # None: no questionnaire counts yet
    exposure: Part
    sections: tuple[Section, ...]
    critical_failures: tuple[CriticalFailure, ...]
    reasons: tuple[Reason, ...]
    override: Override | None

    @property
    def tier(self) -> Tier:
        """The computed tier."""
        return self.residual.tier

    @property
    def effective_tier(self) -> Tier:
        return self.override.tier if self.override else self.residual.tier


@dataclass(frozen=True)
class HistoryRow:
    score_id: int
    computed_at: datetime
    trigger: ScoreTrigger
    residual_score: float
    residual_tier: Tier
    control_score: float | None
    exposure_score: float


@dataclass(frozen=True)
class RiskPage:
    rating: Rating | None
    history: tuple[HistoryRow, ...]
    more_history: bool  # older scores exist than those shown


def _contributors(items: Sequence[Mapping[str, Any]]) -> tuple[Contributor, ...]:
    return tuple(Contributor(c["factor"], c["points"], c["detail"]) for c in items)


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


def _counted_requests(session: Session, vendor_id: int) -> dict[str, int]:
    """Questionnaire key -> the vendor's request whose answers count (where they are)."""
    return scoring.counted_requests(session, vendor_id)


def _failures(
    session: Session, score: VendorScore, control: Mapping[str, Any]
) -> tuple[CriticalFailure, ...]:
    """The score's critical failures, each with the request whose review page shows the
    answer (with several questionnaires counted, each failure's own)."""
    failures = control.get("critical_failures", [])
    if not failures:
        return ()
    keys = _failure_keys(score.inputs)
    requests = _counted_requests(session, score.vendor_id)
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
    override = None
    if rating.override_tier:
        override = Override(
            Tier(rating.override_tier), rating.override_reason, overrider or "", rating.override_at
        )
    return Rating(
        score_id=score.id,
        computed_at=score.computed_at,
        trigger=score.trigger,
        parameters_version=score.parameters_version,
        residual=Part(
            score.residual_score,
            Tier(score.residual_tier),
            _contributors(explained["residual"]),
            explained.get("floor"),
        ),
        inherent=Part(
            score.inherent_score,
            Tier(score.inherent_tier),
            _contributors(explained["inherent"]),
            explained.get("inherent_floor"),
        ),
        control=None
        if control is None
        else Part(score.control_score, None, _contributors(control["contributors"])),
        exposure=Part(score.exposure_score, None, _contributors(explained["exposure"])),
        sections=tuple(
            Section(s["title"], s["score"], s["points"])
            for s in (control or {}).get("sections", [])
        ),
        critical_failures=() if control is None else _failures(session, score, control),
        reasons=tuple(Reason(r["source"], r["points"], r["text"]) for r in explained["reasons"]),
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
