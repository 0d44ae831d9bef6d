"""Inherent risk (vendor_risk/scoring/inherent.py): computed by hand, explained, monotonic;
unknown is not low: what neither the inventory nor the intake says counts at its worst value
and is named."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vendor_risk.core.scoring.inherent import (
    FACTOR_WORDS,
    SENSITIVITY,
    VOLUME,
    Access,
    Profile,
    Tier,
    inherent_risk,
)

# What the intake declares of a vendor that gets no data and no access of ours (the answers
# "None" to the data sensitivity, data volume and access questions).
NOTHING_HELD = (("access", 0.0), ("data_sensitivity", 0.0), ("data_volume", 0.0))
NO_DATA = (("data_sensitivity", 0.0), ("data_volume", 0.0))


def test_a_vendor_holding_nothing_that_we_can_replace_easily_is_low():
    risk = inherent_risk(Profile(criticality="low", substitutability="easy", declared=NOTHING_HELD))
    assert risk.score == 0
    assert risk.tier is Tier.low
    assert risk.floor is None
    assert risk.missing == ()


# ---- unknown is not low ----------------------------------------------------------------------


def test_a_critical_vendor_with_nothing_recorded_is_not_low_and_names_what_is_missing():
    # Registered as critical, nothing recorded yet, no intake: version 1 read that as nothing
    # held (18.5, low); every unknown fact now counts at its worst value.
    blank = Profile(criticality="critical", substitutability="moderate", records=0)
    assert (inherent_risk(blank, 1).score, inherent_risk(blank, 1).tier) == (18.5, Tier.low)

    risk = inherent_risk(blank)
    points = {c.factor: c.points for c in risk.contributors}
    assert points == {
        "data_sensitivity": 30,  # not known: counted as critical, 30 x 1
        "data_volume": 15,  # not known: counted as more than a million, 15 x 1
        "access": 30,  # not known: counted as admin into production, 30 x 1
        "criticality": 15,  # critical, 15 x 1
        "substitutability": 3.5,  # moderate, 10 x 0.35
    }
    assert risk.score == 93.5
    assert risk.tier is Tier.critical
    assert risk.missing == ("data", "records", "access")
    assert risk.incomplete
    details = {c.factor: c.detail for c in risk.contributors}
    assert details["data_sensitivity"] == "most sensitive data held: not known, counted as critical"
    assert details["access"] == (
        "strongest access held: not known, counted as admin access into production"
    )


def test_each_missing_fact_takes_its_worst_value_by_hand():
    # Data known (a high-sensitivity category, 22.5), records known (500: 15 x 0.25 = 3.75),
    # only the access unknown: 30 points, and the floor of admin into production.
    access_unknown = inherent_risk(Profile("low", "easy", 3, 500))
    assert access_unknown.missing == ("access",)
    assert access_unknown.score == 22.5 + 3.75 + 30
    assert access_unknown.tier is Tier.high  # 56.25 bands high already
    alone = inherent_risk(Profile("low", "easy", declared=NO_DATA))
    assert (alone.score, alone.tier) == (30, Tier.high)  # banded medium, lifted by the floor
    assert alone.floor == "access not known, counted as admin into production: at least high"

    # A holding without a record count: the volume counts as more than a million (15), not
    # the middle (7.5) version 1 took, whatever was counted elsewhere.
    uncounted = Profile("low", "easy", 1, None, (Access("read", "staging"),), records_counted=200)
    risk = inherent_risk(uncounted)
    assert risk.missing == ("records",)
    assert {c.factor: c.points for c in risk.contributors}["data_volume"] == 15
    assert risk.score == 7.5 + 15 + 30 * 0.4 * 0.6  # low data, volume, read into staging
    assert inherent_risk(uncounted, 1).score == 7.5 + 7.5 + 7.2

    # No data category recorded, the access known: data 30 and records 15 (and the floor of
    # critical data, which the score already passes).
    data_unknown = inherent_risk(Profile("low", "easy", access=(Access("read", "staging"),)))
    assert data_unknown.missing == ("data", "records")
    assert data_unknown.score == 30 + 15 + 7.2


def test_a_revoked_credential_records_the_access_and_the_intake_can_say_none():
    revoked_only = inherent_risk(Profile("low", "easy", declared=NO_DATA, credentials_recorded=1))
    assert revoked_only.missing == ()
    assert revoked_only.score == 0
    declared_none = inherent_risk(Profile("low", "easy", declared=NOTHING_HELD))
    assert declared_none.missing == () and declared_none.score == 0
    assert {c.factor: c.detail for c in declared_none.contributors}["access"] == (
        "strongest access held: declared in the intake (0% of its points)"
    )


def test_the_intake_answers_the_volume_and_a_counted_part_still_counts():
    # One holding of 2,000,000 records, another without a count: at least 2,000,000 (1.0)
    # beats the intake's "1,001 to 100,000" (0.5); a smaller count loses to it.
    big = Profile(
        "low",
        "easy",
        2,
        None,
        (Access("read", "staging"),),
        declared=(("data_volume", 0.5),),
        records_counted=2_000_000,
    )
    volume = {c.factor: c for c in inherent_risk(big).contributors}["data_volume"]
    assert (volume.points, volume.detail) == (15, "records held: at least 2,000,000")
    small = Profile(
        "low",
        "easy",
        2,
        None,
        (Access("read", "staging"),),
        declared=(("data_volume", 0.5),),
        records_counted=10,
    )
    volume = {c.factor: c for c in inherent_risk(small).contributors}["data_volume"]
    assert volume.points == 7.5 and "declared in the intake" in volume.detail
    assert inherent_risk(big).missing == inherent_risk(small).missing == ()


def test_scored_by_hand():
    risk = inherent_risk(
        Profile(
            criticality="high",  # 15 x 0.7 = 10.5
            substitutability="hard",  # 10 x 0.7 = 7
            max_sensitivity=3,  # high: 30 x 0.75 = 22.5
            records=50_000,  # up to 100,000: 15 x 0.5 = 7.5
            access=(Access("write", "staging"),),  # 30 x 0.7 x 0.6 = 12.6
        )
    )
    points = {c.factor: c.points for c in risk.contributors}
    assert points == {
        "criticality": 10.5,
        "substitutability": 7.0,
        "data_sensitivity": 22.5,
        "data_volume": 7.5,
        "access": 12.6,
    }
    assert risk.score == 60.1
    assert risk.tier is Tier.high


def test_admin_credentials_into_production_force_at_least_high():
    risk = inherent_risk(
        Profile(
            criticality="low",
            substitutability="easy",
            access=(Access("admin", "production"),),
            declared=NO_DATA,
        )
    )
    assert risk.score == 30
    assert risk.tier is Tier.high
    assert risk.floor == "admin credentials into production: at least high"


def test_holding_critical_data_forces_at_least_medium():
    risk = inherent_risk(
        Profile(
            criticality="low",
            substitutability="easy",
            max_sensitivity=4,
            records=10,
            declared=(("access", 0.0),),
        )
    )
    assert risk.score == pytest.approx(33.75)  # 30 + 3.75: medium by its band already
    assert risk.tier is Tier.medium
    small = inherent_risk(
        Profile(
            criticality="low",
            substitutability="easy",
            max_sensitivity=4,
            records=0,
            declared=(("access", 0.0),),
        )
    )
    assert small.tier is Tier.medium


def test_unknown_volume_of_sensitive_data_is_not_taken_as_none():
    unknown = inherent_risk(Profile("low", "easy", max_sensitivity=2, records=None))
    none = inherent_risk(Profile("low", "easy", max_sensitivity=2, records=0))
    assert unknown.score > none.score


profiles = st.builds(
    Profile,
    criticality=st.sampled_from(["low", "medium", "high", "critical"]),
    substitutability=st.sampled_from(["easy", "moderate", "hard", "none"]),
    max_sensitivity=st.integers(0, 4),
    records=st.none() | st.integers(0, 10**8),
    access=st.lists(
        st.builds(
            Access,
            st.sampled_from(["read", "write", "admin"]),
            st.sampled_from(["production", "staging", "development", "corporate"]),
        ),
        max_size=4,
    ).map(tuple),
    declared=st.dictionaries(
        st.sampled_from(sorted(FACTOR_WORDS)), st.sampled_from([0.0, 0.25, 0.7, 1.0])
    ).map(lambda d: tuple(sorted(d.items()))),
    records_counted=st.integers(0, 10**7),
    credentials_recorded=st.integers(0, 2),
).map(
    # As the inventory builds them: no holding, no record counted.
    lambda p: p if p.max_sensitivity else dataclasses.replace(p, records_counted=0)
)


@given(profiles)
def test_the_contributors_add_up_to_the_score(profile):
    for version in (1, 2):
        risk = inherent_risk(profile, version)
        assert sum(c.points for c in risk.contributors) == pytest.approx(risk.score)
        assert 0 <= risk.score <= 100


@given(profiles)
def test_no_two_factors_read_alike(profile):
    # An explanation lists the factors side by side: two alike read as one reason given twice.
    details = [c.detail for c in inherent_risk(profile).contributors]
    assert len(set(details)) == len(details)
    for c in inherent_risk(profile).contributors:
        assert c.detail.startswith(FACTOR_WORDS[c.factor] + ": ")


def _within_declared(profile: Profile, factor: str, fraction: float) -> bool:
    declared = dict(profile.declared).get(factor)
    return declared is None or fraction <= declared


def _count(profile: Profile, data, least: int) -> int | None:
    """A record count for a holding, no larger than the intake declared: a larger one would
    record a second fact (the volume), which may rightly raise the score."""
    lows = [0, *(bound + 1 for bound, _ in VOLUME)]
    highs = [*(bound for bound, _ in VOLUME), 10**8]
    fractions = [*(fraction for _, fraction in VOLUME), 1.0]
    allowed = [
        (max(low, least), high)
        for low, high, fraction in zip(lows, highs, fractions, strict=True)
        if _within_declared(profile, "data_volume", fraction) and max(low, least) <= high
    ]
    if not allowed:
        return None
    low, high = data.draw(st.sampled_from(allowed), label="volume band")
    return data.draw(st.none() | st.integers(low, high), label="records")


def _recorded(profile: Profile, fact: str, data) -> Profile:
    """``profile`` with ``fact`` recorded in the inventory, or declared in the intake. What
    else the intake declares still holds: recording one fact records no other."""
    if data.draw(st.booleans(), label="declared"):
        factor = {"data": "data_sensitivity", "records": "data_volume", "access": "access"}[fact]
        fraction = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), label="fraction")
        return dataclasses.replace(profile, declared=(*profile.declared, (factor, fraction)))
    if fact == "access":
        grants = data.draw(
            st.lists(
                st.builds(
                    Access,
                    st.sampled_from(["read", "write", "admin"]),
                    st.sampled_from(["production", "staging"]),
                ),
                max_size=2,
            ),
            label="grants",
        )
        return dataclasses.replace(
            profile, access=tuple(grants), credentials_recorded=max(1, len(grants))
        )
    if fact == "data":  # a first holding, its count as the intake allows (or not given)
        level = data.draw(st.integers(1, 4), label="sensitivity")
        records = _count(profile, data, 0)
        counted = records or 0
        return dataclasses.replace(
            profile, max_sensitivity=level, records=records, records_counted=counted
        )
    # The count of every holding (records): of the holdings recorded, or of a first one no more
    # sensitive than the intake declared.
    level = profile.max_sensitivity or data.draw(
        st.sampled_from(
            [
                n
                for n in range(1, 5)
                if _within_declared(profile, "data_sensitivity", SENSITIVITY[n])
            ]
        ),
        label="sensitivity",
    )
    records = data.draw(st.integers(profile.records_counted, 10**8), label="records")
    return dataclasses.replace(
        profile, max_sensitivity=level, records=records, records_counted=records
    )


@given(profiles, st.data())
def test_recording_a_missing_fact_never_raises_the_score_or_the_tier(profile, data):
    # The cautious value is the worst: leaving a fact unknown never pays, whatever it is.
    unknown = inherent_risk(profile)
    for fact in unknown.missing:
        known = inherent_risk(_recorded(profile, fact, data))
        assert fact not in known.missing
        assert known.score <= unknown.score, (fact, known.contributors)
        assert known.tier.rank <= unknown.tier.rank, (fact, known.floor)


@given(profiles, st.builds(Access, st.just("admin"), st.just("production")))
def test_adding_a_credential_never_lowers_the_tier(profile, grant):
    more = dataclasses.replace(profile, access=(*profile.access, grant))
    assert inherent_risk(more).score >= inherent_risk(profile).score
    assert inherent_risk(more).tier.rank >= inherent_risk(profile).tier.rank


INTAKE = """
format: 1
id: intake-test
title: Intake
version: 1
audience: internal
sections:
  - id: dependence
    title: Dependence
    questions:
      - id: criticality
        type: single_choice
        text: How critical?
        inherent: criticality
        options:
          - {value: low, label: Low, score: 1}
          - {value: critical, label: Critical, score: 0}
      - id: outage
        type: single_choice
        text: How long could we do without it?
        inherent: criticality
        options:
          - {value: weeks, label: Weeks, score: 1}
          - {value: hours, label: Hours, score: 0.3}
      - id: data
        type: yes_no
        text: Does it hold our data?
      - id: sensitivity
        type: single_choice
        text: How sensitive?
        inherent: data_sensitivity
        show_if: {question: data, equals: "yes"}
        options:
          - {value: low, label: Low, score: 0.75}
          - {value: critical, label: Critical, score: 0}
"""


def test_the_intake_declares_the_highest_risk_of_each_factor():
    from vendor_risk.core.questionnaire import loader
    from vendor_risk.core.scoring.inherent import declared_from

    intake = loader.parse(INTAKE, "intake.yaml").questionnaire
    answers = {"criticality": "low", "outage": "hours", "data": "no", "sensitivity": "critical"}
    # The worst answer of the factor; a hidden question declares nothing.
    assert declared_from(intake, answers) == {"criticality": 0.7}
    assert declared_from(intake, {**answers, "data": "yes"}) == {
        "criticality": 0.7,
        "data_sensitivity": 1.0,
    }
    assert declared_from(intake, {}) == {}


def test_a_declared_factor_counts_when_higher_than_the_inventory():
    inventory_only = Profile(criticality="medium", substitutability="easy", max_sensitivity=2)
    declared = Profile(
        criticality="medium",
        substitutability="easy",
        max_sensitivity=2,
        declared=(("criticality", 1.0), ("data_sensitivity", 0.25)),
    )
    before = {c.factor: c for c in inherent_risk(inventory_only).contributors}
    after = {c.factor: c for c in inherent_risk(declared).contributors}
    assert after["criticality"].points == 15  # declared critical beats the inventory's medium
    assert "declared in the intake" in after["criticality"].detail
    assert after["data_sensitivity"] == before["data_sensitivity"]  # the inventory's is higher
    assert Profile.from_dict(declared.to_dict()) == declared
