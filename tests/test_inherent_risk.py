"""Inherent risk (vendor_risk/scoring/inherent.py): computed by hand, explained, monotonic."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vendor_risk.scoring.inherent import Access, Profile, Tier, inherent_risk


def test_a_vendor_holding_nothing_that_we_can_replace_easily_is_low():
    risk = inherent_risk(Profile(criticality="low", substitutability="easy"))
    assert risk.score == 0
    assert risk.tier is Tier.low
    assert risk.floor is None


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
        )
    )
    assert risk.score == 30
    assert risk.tier is Tier.high
    assert risk.floor == "admin credentials into production: at least high"


def test_holding_critical_data_forces_at_least_medium():
    risk = inherent_risk(
        Profile(criticality="low", substitutability="easy", max_sensitivity=4, records=10)
    )
    assert risk.score == pytest.approx(33.75)  # 30 + 3.75: medium by its band already
    assert risk.tier is Tier.medium
    small = inherent_risk(
        Profile(criticality="low", substitutability="easy", max_sensitivity=4, records=0)
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
)


@given(profiles)
def test_the_contributors_add_up_to_the_score(profile):
    risk = inherent_risk(profile)
    assert sum(c.points for c in risk.contributors) == pytest.approx(risk.score)
    assert 0 <= risk.score <= 100


@given(profiles, st.builds(Access, st.just("admin"), st.just("production")))
def test_adding_a_credential_never_lowers_the_tier(profile, grant):
    more = Profile(
        profile.criticality,
        profile.substitutability,
        profile.max_sensitivity,
        profile.records,
        (*profile.access, grant),
    )
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
    from vendor_risk.questionnaire import loader
    from vendor_risk.scoring.inherent import declared_from

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
