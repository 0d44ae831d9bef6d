"""Inherent risk: how much harm the relationship could do before any control is counted.

It reads what the vendor holds and how much we depend on it: the most sensitive data category it
holds and how many records, the strongest access its credentials give (admin into production
weighs most), the business criticality and how hard the vendor is to replace. Each factor gives
points; the points add up to a score from 0 to 100, banded into a tier; floors then lift the
tier where one fact alone is serious enough (admin credentials into production).

Unknown is not low (version 2): a fact that neither the inventory nor the intake gives (no data
category recorded and none declared, a holding without a record count, no credential recorded
and no access declared) counts as its worst value, floors included, and is named in the
result's ``missing``: recording the fact can only lower the score or leave it as it is.

Every result carries its contributors, whose points add up to the score, so the tier can be
explained to the vendor and to an auditor. The parameters are versioned: a stored result names
the version that produced it, and :func:`inherent_risk` computes any version this code
implements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, NamedTuple

from ..questionnaire.conditions import answer_score, visible_questions
from ..questionnaire.model import Questionnaire
from .parameters import PARAMETERS_VERSION, check_version
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
# Each factor in words: every contributor's detail starts with them, so that no two factors
# ever read alike (an explanation lists them side by side).
FACTOR_WORDS = {
    "data_sensitivity": "most sensitive data held",
    "data_volume": "records held",
    "access": "strongest access held",
    "criticality": "business criticality",
    "substitutability": "substitutability",
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

# The facts a rating can miss (version 2), in the order they are named, with what each is
# about in words, and the factor each one's cautious value goes to.
MISSING_WORDS = {
    "data": "the data it holds",
    "records": "how many records it holds",
    "access": "the access its credentials give",
}
MISSING_FACTOR = {"data": "data_sensitivity", "records": "data_volume", "access": "access"}
# The cautious value of each missing fact: its factor's worst, in words. Unknown counts as the
# worst answer, as an unanswered question does in the control score: leaving a fact out never
# pays, and recording it can only lower the rating.
CAUTIOUS = {
    "data": (1.0, "counted as critical"),
    "records": (1.0, "counted as more than 1,000,000"),
    "access": (1.0, "counted as admin access into production"),
}


@dataclass(frozen=True)
class Access:
    """One active credential the vendor holds: its privilege and the target's environment."""

    privilege: str
    environment: str


@dataclass(frozen=True)
class Profile:
    criticality: str
    substitutability: str
    max_sensitivity: int = 0  # 0: no data category recorded; 1 (low) to 4 (critical)
    # Records held, all categories; None: some holding recorded without a count.
    records: int | None = None
    access: tuple[Access, ...] = ()
    # What procurement declared in the intake, factor by factor (a WEIGHTS key -> the risk
    # fraction 0..1 of the answer, see declared_from): each factor counts the higher of the
    # inventory's fraction and this one; a factor the inventory does not know counts this one.
    declared: tuple[tuple[str, float], ...] = ()
    # Read from version 2 on. The sum of the record counts that are given, when ``records`` is
    # None: what is known of the volume despite the holdings without a count.
    records_counted: int = 0
    # Credentials recorded as held, whatever their status: any (even revoked) says that the
    # vendor's access was recorded; none leaves it unknown unless the intake declares it.
    credentials_recorded: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the app stores it with the portfolio aggregates and every score)."""
        return {
            "criticality": self.criticality,
            "substitutability": self.substitutability,
            "max_sensitivity": self.max_sensitivity,
            "records": self.records,
            "records_counted": self.records_counted,
            "access": [
                {"privilege": a.privilege, "environment": a.environment} for a in self.access
            ],
            "credentials_recorded": self.credentials_recorded,
            "declared": dict(self.declared),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Also a profile stored by version 1, which knew neither count."""
        return cls(
            criticality=data["criticality"],
            substitutability=data["substitutability"],
            max_sensitivity=data["max_sensitivity"],
            records=data["records"],
            access=tuple(Access(a["privilege"], a["environment"]) for a in data["access"]),
            declared=tuple(sorted(data.get("declared", {}).items())),
            records_counted=data.get("records_counted", 0),
            credentials_recorded=data.get("credentials_recorded", 0),
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
    # The facts neither the inventory nor the intake gives (MISSING_WORDS keys, in its order),
    # each counted at its cautious value: the rating is incomplete while any is missing.
    missing: tuple[str, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.missing)


class _Factor(NamedTuple):
    fraction: float
    detail: str


def _volume(records: int | None, max_sensitivity: int) -> _Factor:
    if records is None:
        # Unknown volume of sensitive data (version 1): assume the middle, not zero.
        return (
            _Factor(0.5, "records held: not known")
            if max_sensitivity
            else _Factor(0.0, "records held: no data held")
        )
    return _Factor(_volume_fraction(records), f"records held: {records:,}")


def _volume_fraction(records: int) -> float:
    for bound, fraction in VOLUME:
        if records <= bound:
            return fraction
    return 1.0


def _access(access: Iterable[Access]) -> _Factor:
    best, detail = 0.0, "strongest access held: no active credential"
    for grant in access:
        fraction = PRIVILEGE.get(grant.privilege, 1.0)
        if grant.environment != "production":
            fraction *= NON_PRODUCTION
        if fraction > best:
            best = fraction
            detail = f"strongest access held: {grant.privilege} access into {grant.environment}"
    return _Factor(best, detail)


def _declared(factor: str, fraction: float) -> _Factor:
    return _Factor(
        fraction, f"{FACTOR_WORDS[factor]}: declared in the intake ({fraction:.0%} of its points)"
    )


def _dependence(profile: Profile) -> dict[str, _Factor]:
    """The two factors every way of registering a vendor gives (a default is never the best
    value): never unknown."""
    return {
        "criticality": _Factor(
            CRITICALITY[profile.criticality], f"business criticality: {profile.criticality}"
        ),
        "substitutability": _Factor(
            SUBSTITUTABILITY[profile.substitutability],
            f"substitutability: {profile.substitutability}",
        ),
    }


def _sensitivity(level: int) -> _Factor:
    return _Factor(SENSITIVITY[level], f"most sensitive data held: {SENSITIVITY_NAMES[level]}")


def _factors_v1(profile: Profile) -> tuple[dict[str, _Factor], tuple[str, ...]]:
    """Version 1: what the inventory does not record counts as nothing held; the intake can
    only raise a factor."""
    factors = {
        "data_sensitivity": _sensitivity(profile.max_sensitivity),
        "data_volume": _volume(profile.records, profile.max_sensitivity),
        "access": _access(profile.access),
        **_dependence(profile),
    }
    for factor, fraction in profile.declared:
        if fraction > factors[factor].fraction:
            factors[factor] = _declared(factor, fraction)
    return factors, ()


def _access_recorded(profile: Profile) -> bool:
    return bool(profile.access) or profile.credentials_recorded > 0


def unknown_facts(profile: Profile) -> tuple[str, ...]:
    """The facts of MISSING_WORDS the inventory does not record (the intake aside), in order.
    An intake that says the vendor gets no data of ours says how many records too: none."""
    holds_data = profile.max_sensitivity > 0
    facts = []
    if not holds_data:
        facts.append("data")
        if dict(profile.declared).get("data_sensitivity") != 0.0:
            facts.append("records")
    elif profile.records is None:
        facts.append("records")
    if not _access_recorded(profile):
        facts.append("access")
    return tuple(facts)


def _known_part(fact: str, profile: Profile) -> _Factor:
    """What the inventory does record of an unknown fact: the records counted so far, when
    some holding has no count; nothing otherwise."""
    if fact == "records" and profile.max_sensitivity:
        counted = profile.records_counted
        return _Factor(_volume_fraction(counted), f"records held: at least {counted:,}")
    return _Factor(0.0, "")


# The factor each missing fact counts as, made once.
_CAUTIOUS_FACTORS = {
    fact: _Factor(fraction, f"{FACTOR_WORDS[MISSING_FACTOR[fact]]}: not known, {words}")
    for fact, (fraction, words) in CAUTIOUS.items()
}


def _factors_v2(profile: Profile) -> tuple[dict[str, _Factor], tuple[str, ...]]:
    """Version 2: what the inventory records counts as in version 1 (the intake's declaration
    when higher); a fact it does not record counts as the intake declares it (or as what the
    inventory does know of it, when higher), and at its cautious value, named as missing, when
    the intake does not say either."""
    factors, _ = _factors_v1(profile)
    unknown = unknown_facts(profile)
    if not unknown:  # most vendors, most rescores
        return factors, ()
    declared = dict(profile.declared)
    missing = []
    for fact in unknown:
        factor = MISSING_FACTOR[fact]
        said = declared.get(factor)
        if said is None:
            missing.append(fact)
            factors[factor] = _CAUTIOUS_FACTORS[fact]
        else:
            known = _known_part(fact, profile)
            factors[factor] = known if known.fraction > said else _declared(factor, said)
    return factors, tuple(missing)


# Each version's way of turning a profile into factors (and the facts it misses).
_FACTORS: Mapping[int, Callable[[Profile], tuple[dict[str, _Factor], tuple[str, ...]]]] = {
    1: _factors_v1,
    2: _factors_v2,
}


def admin_in_production(profile: Profile) -> bool:
    """Whether the vendor holds an admin credential into production: the one fact that lifts
    the inherent tier to high, and keeps the residual tier from falling below medium."""
    return any(g.privilege == "admin" and g.environment == "production" for g in profile.access)


def assumed_admin_in_production(risk: InherentRisk) -> bool:
    """Whether the rating counts admin access into production: held, or assumed because the
    vendor's access is not known (version 2), so that recording it never raises the tier."""
    return admin_in_production(risk.profile) or "access" in risk.missing


def _floor(score: float, profile: Profile, missing: tuple[str, ...]) -> tuple[Tier, str | None]:
    tier = band(score)
    if tier.rank < Tier.high.rank:
        if admin_in_production(profile):
            return Tier.high, "admin credentials into production: at least high"
        if "access" in missing:
            return Tier.high, "access not known, counted as admin into production: at least high"
    if tier.rank < Tier.medium.rank:
        if profile.max_sensitivity == 4:
            return Tier.medium, "holds critical data: at least medium"
        if "data" in missing:
            return Tier.medium, "data held not known, counted as critical: at least medium"
    return tier, None


def inherent_risk(profile: Profile, version: int = PARAMETERS_VERSION) -> InherentRisk:
    """The inherent risk of ``profile`` by the method of ``version`` (the current one unless
    a stored score of an earlier version is reproduced)."""
    factors, missing = _FACTORS[check_version(version)](profile)
    contributors = tuple(
        Contributor(factor, round(weight * factors[factor].fraction, 2), factors[factor].detail)
        for factor, weight in WEIGHTS.items()
    )
    score = round(sum(c.points for c in contributors), 2)
    tier, floor = _floor(score, profile, missing)
    return InherentRisk(score, tier, contributors, floor, version, profile=profile, missing=missing)


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
