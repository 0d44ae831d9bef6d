"""Residual risk: the vendor's rating once its controls are counted (0 to 100, higher is
riskier), banded into the same tiers as inherent risk (docs/scoring.md, "Residual risk").

What the relationship could do (inherent risk) and what a breach reaches (exposure) make the
base; the vendor's controls remove up to a fraction of it, never all of it, since controls fail
too ("assume breach")::

    base     = 0.6 x inherent + 0.4 x exposure
    residual = base x (1 - 0.6 x control / 100)

Without a control score (no questionnaire answered yet) the controls are unknown and count as 0.
Floors: a critical question failing or unanswered keeps the tier at least high (the cap on the
rating), and admin credentials into production keep it at least medium, however good the
answers. A stored :meth:`Residual.inputs` is enough for :func:`reproduce` to compute the same
result again.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from .control import ControlScore, SectionTotals, control_score
from .exposure import Exposure, exposure_from
from .inherent import InherentRisk, Profile, admin_in_production, inherent_risk
from .parameters import PARAMETERS_VERSION, check_version
from .points import Contributor, apportion
from .tiers import Tier, band

INHERENT_SHARE = 0.6  # of the base; exposure takes the rest
EXPOSURE_SHARE = 1 - INHERENT_SHARE
# The part of the base that a perfect control score removes.
CONTROL_REDUCTION = 0.6


@dataclass(frozen=True)
class Reason:
    """One driver of the rating in plain words, for an executive summary. ``points`` are
    residual points: what an inherent or exposure fact adds to the residual score after the
    controls' reduction, or what a weak answer keeps the controls from removing."""

    source: str  # inherent, exposure or controls
    points: float
    text: str


@dataclass(frozen=True)
class Residual:
    score: float
    tier: Tier
    contributors: tuple[Contributor, ...]  # inherent, exposure, controls (negative)
    floor: str | None  # why the tier was lifted above its band, if it was
    inherent: InherentRisk
    control: ControlScore | None
    exposure: Exposure
    parameters_version: int = PARAMETERS_VERSION

    def inputs(self) -> dict[str, Any]:
        """Everything the score was computed from, JSON-ready: store it beside the score and
        :func:`reproduce` gives this result again."""
        return score_inputs(
            self.inherent.profile.to_dict(),
            None if self.control is None else [t.to_dict() for t in self.control.totals],
            self.exposure.inputs(),
            self.parameters_version,
        )

    def top_reasons(self, n: int = 5) -> tuple[Reason, ...]:
        """The ``n`` biggest drivers of the rating across inherent risk, exposure and the
        answers, biggest first (only those worth a hundredth of a point or more; equal ones in
        the order they come: ``nlargest`` is a stable sort cut short, without sorting every
        answer of a long questionnaire)."""
        worth = (r for r in _reasons(self) if r[0] >= 0.01)
        return tuple(
            Reason(source, points, text)
            for points, source, text in heapq.nlargest(n, worth, key=itemgetter(0))
        )


def score_inputs(
    profile: dict[str, Any],
    control: list[dict[str, Any]] | None,
    exposure: dict[str, int],
    parameters_version: int = PARAMETERS_VERSION,
) -> dict[str, Any]:
    """The stored form of a residual's inputs (:meth:`Residual.inputs`, read back by
    :func:`reproduce`) from the stored forms of its parts: ``Profile.to_dict``, the
    ``SectionTotals.to_dict`` of each section (None: no control score) and
    ``Exposure.inputs``. A caller holding them as stored can tell whether a score's inputs
    changed without computing it."""
    return {
        "parameters_version": parameters_version,
        "profile": profile,
        "control": control,
        "exposure": exposure,
    }


def _control_fraction(control: ControlScore | None) -> float:
    """The control score from 0 to 1; 0 when there is none: unknown controls protect nothing."""
    if control is None or control.score is None:
        return 0.0
    return control.score / 100


def _base(inherent: InherentRisk, exposure: Exposure) -> float:
    return INHERENT_SHARE * inherent.score + EXPOSURE_SHARE * exposure.score


def _controls_words(control: ControlScore | None) -> str:
    if control is None or control.score is None:
        return "no control score yet (no questionnaire answered): controls count as none"
    removed = round(CONTROL_REDUCTION * control.score, 2)
    return f"control score {control.score:g} of 100 removes {removed:g}% of the risk"


def _floor(score: float, control: ControlScore | None, profile: Profile) -> tuple[Tier, str | None]:
    tier = band(score)
    if control is not None and control.critical_failures and tier.rank < Tier.high.rank:
        return Tier.high, "critical question failing or unanswered: at least high"
    if admin_in_production(profile) and tier.rank < Tier.medium.rank:
        return Tier.medium, "admin credentials into production: at least medium"
    return tier, None


def residual_risk(
    inherent: InherentRisk, control: ControlScore | None, exposure: Exposure
) -> Residual:
    """The residual risk of a vendor, its tier and its explanation."""
    base = _base(inherent, exposure)
    exact = (
        INHERENT_SHARE * inherent.score,
        EXPOSURE_SHARE * exposure.score,
        -base * CONTROL_REDUCTION * _control_fraction(control),
    )
    points = apportion(exact)
    details = (
        f"inherent risk {inherent.score:g} ({inherent.tier}) x {INHERENT_SHARE:g}",
        f"exposure {exposure.score:g} x {EXPOSURE_SHARE:g}",
        _controls_words(control),
    )
    score = round(sum(points), 2)
    tier, floor = _floor(score, control, inherent.profile)
    return Residual(
        score=score,
        tier=tier,
        contributors=tuple(
            Contributor(factor, part, detail)
            for factor, part, detail in zip(
                ("inherent", "exposure", "controls"), points, details, strict=True
            )
        ),
        floor=floor,
        inherent=inherent,
        control=control,
        exposure=exposure,
    )


def _control_reasons(control: ControlScore | None, at_stake: float) -> Iterator[tuple[float, str]]:
    """What each weakness keeps the controls from removing, in points (not rounded) and
    words: ``at_stake`` residual points are removed by a perfect control score, each control
    point lost keeps a hundredth of them."""
    if control is None or control.score is None:
        yield at_stake, _controls_words(control)
        return
    for answer in control.answers:
        yield at_stake * answer.points_lost / 100, f"{answer.text} ({answer.answer})"
    if not control.answers:  # only the sums: explain by section
        for section in (s for s in control.sections if s.share):
            lost = 100 * section.share - section.points
            yield at_stake * lost / 100, f"{section.title}: {section.score:g} of 100"
    for cap in (c for c in control.contributors if c.factor == "critical_cap"):
        yield at_stake * -cap.points / 100, cap.detail


def _reasons(residual: Residual) -> Iterator[tuple[float, str, str]]:
    """Every driver of the rating as (points, source, text): plain tuples, since only the few
    biggest become a :class:`Reason` (a questionnaire of 300 answers gives 300 of them)."""
    kept = 1 - CONTROL_REDUCTION * _control_fraction(residual.control)
    for c in residual.inherent.contributors:
        yield round(INHERENT_SHARE * c.points * kept, 2), "inherent", c.detail
    for c in residual.exposure.contributors:
        yield round(EXPOSURE_SHARE * c.points * kept, 2), "exposure", c.detail
    at_stake = _base(residual.inherent, residual.exposure) * CONTROL_REDUCTION
    for points, text in _control_reasons(residual.control, at_stake):
        yield round(points, 2), "controls", text


def reproduce(inputs: Mapping[str, Any]) -> Residual:
    """The residual risk of stored :meth:`Residual.inputs`, computed again; ValueError when
    they name a parameters version this code does not implement."""
    check_version(inputs.get("parameters_version"))
    profile = Profile.from_dict(inputs["profile"])
    control = (
        None
        if inputs["control"] is None
        else control_score([SectionTotals.from_dict(totals) for totals in inputs["control"]])
    )
    return residual_risk(inherent_risk(profile), control, exposure_from(inputs["exposure"]))
