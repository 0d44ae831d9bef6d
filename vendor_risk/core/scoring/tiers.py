"""Tiers: the bands every risk score (inherent and residual) falls into, in one place so that
the two are read the same way and a tier means the same reassessment cadence whichever score
gave it."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


# Looked up, not searched for in list(Tier): every score asks for ranks several times.
_RANKS = {tier: rank for rank, tier in enumerate(Tier)}
# Lowest score of each tier.
BANDS = ((70.0, Tier.critical), (45.0, Tier.high), (20.0, Tier.medium), (0.0, Tier.low))


def band(score: float) -> Tier:
    """The tier whose band holds ``score`` (0 to 100), before any floor."""
    return next(tier for lowest, tier in BANDS if score >= lowest)
