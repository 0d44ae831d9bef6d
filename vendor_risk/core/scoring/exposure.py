"""Exposure: how much of our inventory a breach of the vendor reaches (0 to 100), from the
blast radius (docs/scoring.md, "Exposure").

Inherent risk counts what the vendor holds; exposure counts where that leads in our systems:
systems and data reached through the credentials it holds and the secrets stored along the way.
Reach despite controls weighs most: it is what an attacker gets with the vendor's credentials as
they are today. Reach if the controls fail (MFA bypassed, as with stolen session tokens) still
counts, for less: it is one failed barrier away.

Each count earns points on a saturating curve, ``points x (1 - 0.5 ** (count / half))``: the
first system reached matters, each further one adds less, and a thousand reach the ceiling. More
reach never lowers exposure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..blast_radius.engine import ReachCounts
from .inherent import SENSITIVITY, SENSITIVITY_NAMES
from .parameters import PARAMETERS_VERSION
from .points import Contributor, apportion


class Curve(NamedTuple):
    points: float  # the ceiling, reached by very large counts
    half: float  # the count that earns half the points


# The three counts of the blast radius (ReachCounts' fields) and their curves.
REACH_CURVES: Mapping[str, Curve] = {
    "systems_despite_controls": Curve(45, 5),
    "categories_despite_controls": Curve(20, 3),
    "systems_if_controls_fail": Curve(15, 10),
}
# Points of the most sensitive data category reached despite controls, times inherent.SENSITIVITY.
SENSITIVITY_POINTS = 20.0
_WORDS = {
    "systems_despite_controls": ("system", "systems", "reachable despite controls"),
    "categories_despite_controls": (
        "data category",
        "data categories",
        "reachable despite controls",
    ),
    "systems_if_controls_fail": ("system", "systems", "reachable if controls fail"),
}


@dataclass(frozen=True)
class Exposure:
    score: float  # 0 to 100, higher is more exposed
    contributors: tuple[Contributor, ...]
    counts: ReachCounts
    max_sensitivity: int = 0
    parameters_version: int = PARAMETERS_VERSION

    def inputs(self) -> dict[str, int]:
        """What it was computed from, JSON-ready: :func:`exposure_from` computes it again."""
        return exposure_inputs(self.counts, self.max_sensitivity)


def exposure_inputs(counts: ReachCounts, max_sensitivity: int) -> dict[str, int]:
    """The stored form of exposure's inputs, for a caller that holds them before computing
    (to tell whether they changed since the last score)."""
    return {**counts._asdict(), "max_sensitivity": max_sensitivity}


def saturating(count: int, curve: Curve) -> float:
    """The points ``count`` earns on ``curve``: monotone, 0 at 0, approaching the ceiling."""
    return curve.points * (1 - 0.5 ** (count / curve.half))


def _count_words(factor: str, count: int) -> str:
    one, many, where = _WORDS[factor]
    return f"{count:,} {one if count == 1 else many} {where}"


def exposure_score(counts: ReachCounts, max_sensitivity: int = 0) -> Exposure:
    """Exposure from the blast-radius counts of one vendor and the highest sensitivity (0 none to
    4 critical, as inherent.SENSITIVITY) of the data categories its breach reaches despite
    controls; the app stores that sensitivity with the portfolio aggregates, beside the counts.
    """
    if min(counts) < 0:
        raise ValueError(f"reach counts cannot be negative: {counts}")
    if max_sensitivity not in SENSITIVITY:
        raise ValueError(f"sensitivity must be 0 to 4, not {max_sensitivity!r}")
    reached = counts._asdict()
    factors = [
        (factor, saturating(reached[factor], curve), _count_words(factor, reached[factor]))
        for factor, curve in REACH_CURVES.items()
    ]
    level = SENSITIVITY_NAMES[max_sensitivity] if max_sensitivity else "none"
    factors.append(
        (
            "data_sensitivity",
            SENSITIVITY_POINTS * SENSITIVITY[max_sensitivity],
            f"most sensitive data reachable despite controls: {level}",
        )
    )
    points = apportion([exact for _, exact, _ in factors])
    return Exposure(
        score=round(sum(points), 2),
        contributors=tuple(
            Contributor(factor, part, detail)
            for (factor, _, detail), part in zip(factors, points, strict=True)
        ),
        counts=counts,
        max_sensitivity=max_sensitivity,
    )


def exposure_from(inputs: Mapping[str, Any]) -> Exposure:
    """The exposure of stored :meth:`Exposure.inputs`."""
    counts = ReachCounts(**{name: inputs[name] for name in ReachCounts._fields})
    return exposure_score(counts, inputs["max_sensitivity"])
