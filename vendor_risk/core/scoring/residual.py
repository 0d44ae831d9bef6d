"""Residual risk: the vendor's rating once its controls are counted (0 to 100, higher is
riskier), banded into the same tiers as inherent risk (docs/scoring.md, "Residual risk").

What the relationship could do (inherent risk) and what a breach reaches (exposure) make the
base; the vendor's controls remove up to a fraction of it, never all of it, since controls fail
too ("assume breach")::

    base     = 0.6 x inherent + 0.4 x exposure
    residual = base x (1 - 0.6 x control / 100)

Without a control score (no questionnaire accepted yet) the controls are unknown and count as
0. Floors: a critical question failing or unanswered keeps the tier at least high (the cap on
the rating), and admin credentials into production (held, or assumed while the vendor's access
is unknown) keep it at least medium, however good the answers.

The control score that counts is the one of accepted requests (version 2): the answers no
risk officer has accepted yet give a *provisional* rating, computed the same way and carried
beside the one that counts (:attr:`Residual.provisional`), never in its place.

One explanation (:attr:`Residual.lines`): every contributor of inherent risk, exposure and the
control score, with its points in its own part and its weighted share of the residual score;
the shares add up to the residual score, and the top reasons are the lines with the largest
shares. A stored :meth:`Residual.inputs` is enough for :func:`reproduce` to compute the same
result again.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .control import ControlScore, SectionTotals, control_score
from .exposure import Exposure, exposure_from
from .inherent import (
    InherentRisk,
    Profile,
    admin_in_production,
    assumed_admin_in_production,
    inherent_risk,
)
from .parameters import PARAMETERS_VERSION, check_version
from .points import Contributor, apportion
from .tiers import Tier, band

INHERENT_SHARE = 0.6  # of the base; exposure takes the rest
EXPOSURE_SHARE = 1 - INHERENT_SHARE
# The part of the base that a perfect control score removes.
CONTROL_REDUCTION = 0.6


@dataclass(frozen=True)
class Line:
    """One line of the explanation: a fact in words, its points in its own part and its
    weighted share of the residual score.

    ``points`` are those of the part the line belongs to: inherent risk (0 to 100), exposure
    (0 to 100) or the control score (0 to 100, higher is better); None for the controls when
    there is no control score. ``share`` is what the line adds to the residual score, in
    residual points: 0.6 x its inherent points, 0.4 x its exposure points, or minus the part of
    the base its control points remove (a section removes risk, the cap on the control score
    gives some back). The shares of all lines add up to the residual score."""

    source: str  # inherent, exposure or controls
    factor: str
    text: str
    points: float | None
    share: float


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
    # The control score with the answers not accepted yet counted (version 2; None when there
    # are none): the provisional rating's, shown beside this one, which is the one that counts.
    provisional_control: ControlScore | None = None

    @functools.cached_property
    def provisional(self) -> Residual | None:
        """The rating with the answers awaiting acceptance counted, explained; None when none
        await. Worked out when asked for, as the explanation: rescoring stores its figures
        only (:meth:`provisional_figures`)."""
        if self.provisional_control is None:
            return None
        return _residual(self.inherent, self.provisional_control, self.exposure)

    def provisional_figures(self) -> tuple[float, Tier] | None:
        """The provisional rating's score and tier, computed as :attr:`provisional` computes
        them, without its explanation; None when no answers await acceptance."""
        if self.provisional_control is None:
            return None
        _, score, tier, _ = _figures(self.inherent, self.provisional_control, self.exposure)
        return score, tier

    @property
    def missing(self) -> tuple[str, ...]:
        """The facts the rating misses (inherent.MISSING_WORDS keys): incomplete if any."""
        return self.inherent.missing

    @property
    def incomplete(self) -> bool:
        return bool(self.inherent.missing)

    def inputs(self) -> dict[str, Any]:
        """Everything the score was computed from, JSON-ready: store it beside the score and
        :func:`reproduce` gives this result again."""
        return score_inputs(
            self.inherent.profile.to_dict(),
            _totals(self.control),
            self.exposure.inputs(),
            self.parameters_version,
            provisional=_totals(self.provisional_control),
        )

    # Worked out when asked for: rescoring a portfolio stores the figures only, and the pages
    # explain a score from its stored inputs.
    @functools.cached_property
    def lines(self) -> tuple[Line, ...]:
        """Every line of the explanation: inherent risk's factors, exposure's, then the control
        score's sections and its cap; their shares add up to the score."""
        return tuple(_lines(self))

    def top_reasons(self, n: int = 5) -> tuple[Line, ...]:
        """The ``n`` lines that add the most to the score, biggest first (only those adding a
        hundredth of a point or more; equal ones in the order of :attr:`lines`: ``nlargest``
        is a stable sort cut short)."""
        adding = (line for line in self.lines if line.share >= 0.01)
        return tuple(heapq.nlargest(n, adding, key=attrgetter("share")))


def _totals(control: ControlScore | None) -> list[dict[str, Any]] | None:
    return None if control is None else [t.to_dict() for t in control.totals]


def score_inputs(
    profile: dict[str, Any],
    control: list[dict[str, Any]] | None,
    exposure: dict[str, int],
    parameters_version: int = PARAMETERS_VERSION,
    *,
    provisional: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The stored form of a residual's inputs (:meth:`Residual.inputs`, read back by
    :func:`reproduce`) from the stored forms of its parts: ``Profile.to_dict``, the
    ``SectionTotals.to_dict`` of each section counted (None: no control score), those with
    the answers awaiting acceptance counted (``provisional``; None: none awaiting, version 2
    on) and ``Exposure.inputs``. A caller holding them as stored can tell whether a score's
    inputs changed without computing it."""
    inputs = {
        "parameters_version": parameters_version,
        "profile": profile,
        "control": control,
        "exposure": exposure,
    }
    if parameters_version >= 2:
        inputs["provisional"] = provisional
    return inputs


def _control_fraction(control: ControlScore | None) -> float:
    """The control score from 0 to 1; 0 when there is none: unknown controls protect nothing."""
    if control is None or control.score is None:
        return 0.0
    return control.score / 100


def _base(inherent: InherentRisk, exposure: Exposure) -> float:
    return INHERENT_SHARE * inherent.score + EXPOSURE_SHARE * exposure.score


def _controls_words(control: ControlScore | None) -> str:
    if control is None or control.score is None:
        return "no control score yet: the controls count as none and remove nothing"
    removed = round(CONTROL_REDUCTION * control.score, 2)
    return f"control score {control.score:g} of 100 removes {removed:g}% of the risk"


def _floor(
    score: float, control: ControlScore | None, inherent: InherentRisk
) -> tuple[Tier, str | None]:
    tier = band(score)
    if control is not None and control.critical_failures and tier.rank < Tier.high.rank:
        return Tier.high, "critical question failing or unanswered: at least high"
    if assumed_admin_in_production(inherent) and tier.rank < Tier.medium.rank:
        if admin_in_production(inherent.profile):
            return Tier.medium, "admin credentials into production: at least medium"
        return Tier.medium, "access not known, counted as admin into production: at least medium"
    return tier, None


def _figures(
    inherent: InherentRisk, control: ControlScore | None, exposure: Exposure
) -> tuple[tuple[float, ...], float, Tier, str | None]:
    """The residual's three parts in points, its score, tier and floor: the figures, without
    the words."""
    base = _base(inherent, exposure)
    exact = (
        INHERENT_SHARE * inherent.score,
        EXPOSURE_SHARE * exposure.score,
        -base * CONTROL_REDUCTION * _control_fraction(control),
    )
    points = apportion(exact)
    score = round(sum(points), 2)
    return (points, score, *_floor(score, control, inherent))


def _residual(
    inherent: InherentRisk,
    control: ControlScore | None,
    exposure: Exposure,
    provisional: ControlScore | None = None,
) -> Residual:
    points, score, tier, floor = _figures(inherent, control, exposure)
    details = (
        f"inherent risk {inherent.score:g} ({inherent.tier}) x {INHERENT_SHARE:g}",
        f"exposure {exposure.score:g} x {EXPOSURE_SHARE:g}",
        _controls_words(control),
    )
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
        parameters_version=inherent.parameters_version,
        provisional_control=provisional,
    )


def residual_risk(
    inherent: InherentRisk,
    control: ControlScore | None,
    exposure: Exposure,
    *,
    provisional: ControlScore | None = None,
) -> Residual:
    """The residual risk of a vendor, its tier and its explanation. ``control`` is the control
    score that counts (accepted requests); ``provisional`` the one with the answers awaiting
    acceptance counted too, when there are any: its rating is carried as
    :attr:`Residual.provisional` and changes nothing of the rating that counts."""
    return _residual(inherent, control, exposure, provisional)


def _part_lines(
    source: str, contributors: Sequence[Contributor], scale: float, total: float
) -> Iterator[Line]:
    """A part's contributors as lines, each share ``scale`` x its points, apportioned so that
    the shares add up to ``total``, the part's contributor to the residual score."""
    shares = apportion([scale * c.points for c in contributors], total)
    for c, share in zip(contributors, shares, strict=True):
        yield Line(source, c.factor, c.detail, c.points, share)


def _lines(residual: Residual) -> Iterator[Line]:
    inherent, exposure, controls = residual.contributors
    yield from _part_lines(
        "inherent", residual.inherent.contributors, INHERENT_SHARE, inherent.points
    )
    yield from _part_lines(
        "exposure", residual.exposure.contributors, EXPOSURE_SHARE, exposure.points
    )
    control = residual.control
    if control is None or control.score is None:
        yield Line("controls", "controls", controls.detail, None, controls.points)
        return
    # Each control point removes this many residual points: a hundredth of the part of the
    # base a perfect score removes.
    per_point = -_base(residual.inherent, residual.exposure) * CONTROL_REDUCTION / 100
    yield from _part_lines("controls", control.contributors, per_point, controls.points)


def _control(totals: Sequence[Mapping[str, Any]] | None) -> ControlScore | None:
    if totals is None:
        return None
    return control_score([SectionTotals.from_dict(t) for t in totals])


def reproduce(inputs: Mapping[str, Any]) -> Residual:
    """The residual risk of stored :meth:`Residual.inputs`, computed again by the method of
    the version they name; ValueError when this code does not implement it."""
    version = check_version(inputs.get("parameters_version"))
    return residual_risk(
        inherent_risk(Profile.from_dict(inputs["profile"]), version),
        _control(inputs["control"]),
        exposure_from(inputs["exposure"]),
        provisional=_control(inputs.get("provisional")),
    )
