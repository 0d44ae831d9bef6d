"""Inherent risk: how much harm the relationship could do before any control is counted.

It reads what the vendor holds and how much we depend on it: the most sensitive data category it
holds and how many records, the strongest access its credentials give (admin into production
weighs most), the business criticality and how hard the vendor is to replace. Each factor gives
points; the points add up to a score from 0 to 100, banded into a tier; floors then lift the
tier where one fact alone is serious enough (admin credentials into production).

Every result carries its contributors, whose points add up to the score, so the tier can be
explained to the vendor and to an auditor. The parameters are versioned: a stored result names
the version that produced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

PARAMETERS_VERSION = 1

# Points at stake per factor (they sum to 100).
WEIGHTS = {
    "data_sensitivity": 30,
    "data_volume": 15,
    "access": 30,
    "criticality": 15,
    "substitutability": 10,
}
# Fraction of the factor's points for each value.
SENSITIVITY = {0: 0.0, 1: 0.25, 2: 0.5, 3: 0.75, 4: 1.0}  # none, low .. critical
PRIVILEGE = {"read": 0.4, "write": 0.7, "admin": 1.0}
# Access into non-production systems counts for this fraction of the same access into production.
NON_PRODUCTION = 0.6
CRITICALITY = {"low": 0.0, "medium": 0.35, "high": 0.7, "critical": 1.0}
SUBSTITUTABILITY = {"easy": 0.0, "moderate": 0.35, "hard": 0.7, "none": 1.0}
# Records held: up to each bound, that fraction of the factor's points.
VOLUME = ((0, 0.0), (1_000, 0.25), (100_000, 0.5), (1_000_000, 0.75))


class Tier(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


# Lowest score of each tier.
BANDS = ((70.0, Tier.critical), (45.0, Tier.high), (20.0, Tier.medium), (0.0, Tier.low))


@dataclass(frozen=True)
class Access:
    """One active credential the vendor holds: its privilege and the target's environment."""

    privilege: str
    environment: str


@dataclass(frozen=True)
class Profile:
    criticality: str
    substitutability: str
    max_sensitivity: int = 0  # 0: holds no data; 1 (low) to 4 (critical)
    records: int | None = None  # records held, all categories; None: not known
    access: tuple[Access, ...] = ()


@dataclass(frozen=True)
class Contributor:
    factor: str
    points: float
    detail: str


@dataclass(frozen=True)
class InherentRisk:
    score: float
    tier: Tier
    contributors: tuple[Contributor, ...]
    floor: str | None = None  # why the tier was lifted above its band, if it was
    parameters_version: int = PARAMETERS_VERSION


def _volume(records: int | None, max_sensitivity: int) -> tuple[float, str]:
    if records is None:
        # Unknown volume of sensitive data: assume the middle, not zero.
        return (0.5, "records held not known") if max_sensitivity else (0.0, "no data held")
    for bound, fraction in VOLUME:
        if records <= bound:
            return fraction, f"{records:,} records held"
    return 1.0, f"{records:,} records held"


def _access(access: Iterable[Access]) -> tuple[float, str, bool]:
    best, detail, admin_in_production = 0.0, "no credentials held", False
    for grant in access:
        fraction = PRIVILEGE.get(grant.privilege, 1.0)
        if grant.environment != "production":
            fraction *= NON_PRODUCTION
        admin_in_production |= grant.privilege == "admin" and grant.environment == "production"
        if fraction > best:
            best, detail = fraction, f"{grant.privilege} access into {grant.environment}"
    return best, detail, admin_in_production


def _band(score: float) -> Tier:
    return next(tier for lowest, tier in BANDS if score >= lowest)


def inherent_risk(profile: Profile) -> InherentRisk:
    volume, volume_detail = _volume(profile.records, profile.max_sensitivity)
    access, access_detail, admin_in_production = _access(profile.access)
    sensitivity_names = {0: "no data held", 1: "low", 2: "medium", 3: "high", 4: "critical"}
    fractions = {
        "data_sensitivity": (
            SENSITIVITY[profile.max_sensitivity],
            f"most sensitive data held: {sensitivity_names[profile.max_sensitivity]}",
        ),
        "data_volume": (volume, volume_detail),
        "access": (access, access_detail),
        "criticality": (
            CRITICALITY[profile.criticality],
            f"business criticality {profile.criticality}",
        ),
        "substitutability": (
            SUBSTITUTABILITY[profile.substitutability],
            f"substitutability {profile.substitutability}",
        ),
    }
    contributors = tuple(
        Contributor(factor, round(WEIGHTS[factor] * fraction, 2), detail)
        for factor, (fraction, detail) in fractions.items()
    )
    score = round(sum(c.points for c in contributors), 2)
    tier, floor = _band(score), None
    if admin_in_production and tier.rank < Tier.high.rank:
        tier, floor = Tier.high, "admin credentials into production: at least high"
    elif profile.max_sensitivity == 4 and tier.rank < Tier.medium.rank:
        tier, floor = Tier.medium, "holds critical data: at least medium"
    return InherentRisk(score, tier, contributors, floor)
