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

from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

from ..questionnaire.conditions import answer_score, visible_questions
from ..questionnaire.model import Questionnaire
from .parameters import PARAMETERS_VERSION
from .points import Contributor
from .tiers import Tier, band

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
SENSITIVITY_NAMES = {0: "no data held", 1: "low", 2: "medium", 3: "high", 4: "critical"}
PRIVILEGE = {"read": 0.4, "write": 0.7, "admin": 1.0}
# Access into non-production systems counts for this fraction of the same access into production.
NON_PRODUCTION = 0.6
CRITICALITY = {"low": 0.0, "medium": 0.35, "high": 0.7, "critical": 1.0}
SUBSTITUTABILITY = {"easy": 0.0, "moderate": 0.35, "hard": 0.7, "none": 1.0}
# Records held: up to each bound, that fraction of the factor's points.
VOLUME = ((0, 0.0), (1_000, 0.25), (100_000, 0.5), (1_000_000, 0.75))


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
    # What procurement declared in the intake, factor by factor (a WEIGHTS key -> the risk
    # fraction 0..1 of the answer, see declared_from): each factor counts the higher of the
    # inventory's fraction and this one.
    declared: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the app stores it with the portfolio aggregates and every score)."""
        return {
            "criticality": self.criticality,
            "substitutability": self.substitutability,
            "max_sensitivity": self.max_sensitivity,
            "records": self.records,
            "access": [
                {"privilege": a.privilege, "environment": a.environment} for a in self.access
            ],
            "declared": dict(self.declared),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        return cls(
            criticality=data["criticality"],
            substitutability=data["substitutability"],
            max_sensitivity=data["max_sensitivity"],
            records=data["records"],
            access=tuple(Access(a["privilege"], a["environment"]) for a in data["access"]),
            declared=tuple(sorted(data.get("declared", {}).items())),
        )


@dataclass(frozen=True)
class InherentRisk:
    score: float
    tier: Tier
    contributors: tuple[Contributor, ...]
    floor: str | None = None  # why the tier was lifted above its band, if it was
    parameters_version: int = PARAMETERS_VERSION
    _: KW_ONLY
    # What it was computed from: a residual score stores it so that it can be reproduced.
    profile: Profile


def _volume(records: int | None, max_sensitivity: int) -> tuple[float, str]:
    if records is None:
        # Unknown volume of sensitive data: assume the middle, not zero.
        return (0.5, "records held not known") if max_sensitivity else (0.0, "no data held")
    for bound, fraction in VOLUME:
        if records <= bound:
            return fraction, f"{records:,} records held"
    return 1.0, f"{records:,} records held"


def _access(access: Iterable[Access]) -> tuple[float, str]:
    best, detail = 0.0, "no credentials held"
    for grant in access:
        fraction = PRIVILEGE.get(grant.privilege, 1.0)
        if grant.environment != "production":
            fraction *= NON_PRODUCTION
        if fraction > best:
            best, detail = fraction, f"{grant.privilege} access into {grant.environment}"
    return best, detail


def admin_in_production(profile: Profile) -> bool:
    """Whether the vendor holds an admin credential into production: the one fact that lifts
    the inherent tier to high, and keeps the residual tier from falling below medium."""
    return any(g.privilege == "admin" and g.environment == "production" for g in profile.access)


def inherent_risk(profile: Profile) -> InherentRisk:
    volume, volume_detail = _volume(profile.records, profile.max_sensitivity)
    access, access_detail = _access(profile.access)
    fractions = {
        "data_sensitivity": (
            SENSITIVITY[profile.max_sensitivity],
            f"most sensitive data held: {SENSITIVITY_NAMES[profile.max_sensitivity]}",
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
    for factor, fraction in profile.declared:
        if fraction > fractions[factor][0]:
            fractions[factor] = (fraction, f"declared in the intake: {fraction:.0%} of the risk")
    contributors = tuple(
        Contributor(factor, round(WEIGHTS[factor] * fraction, 2), detail)
        for factor, (fraction, detail) in fractions.items()
    )
    score = round(sum(c.points for c in contributors), 2)
    tier, floor = band(score), None
    if admin_in_production(profile) and tier.rank < Tier.high.rank:
        tier, floor = Tier.high, "admin credentials into production: at least high"
    elif profile.max_sensitivity == 4 and tier.rank < Tier.medium.rank:
        tier, floor = Tier.medium, "holds critical data: at least medium"
    return InherentRisk(score, tier, contributors, floor, profile=profile)


def declared_from(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, float]:
    """The risk the intake's answers declare, factor by factor: for each question tagged with
    an inherent factor and answered, 1 minus the answer's score (its options score 1 for the
    least risky answer); the highest per factor. Hidden and unanswered questions declare
    nothing."""
    declared: dict[str, float] = {}
    for question in visible_questions(questionnaire, answers):
        if question.inherent is None:
            continue
        score = answer_score(question, answers.get(question.id))
        if score is None:
            continue
        factor = question.inherent.value
        declared[factor] = max(declared.get(factor, 0.0), round(1 - score, 4))
    return declared
