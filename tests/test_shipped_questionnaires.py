"""The questionnaires vendor-risk ships (questionnaires/*.yaml) load cleanly and say what the
brief promises: an intake feeding inherent risk, a baseline of 80 to 120 questions covering the
incident's lessons, a short questionnaire for vendors that hold our credentials."""

from pathlib import Path

import pytest

from vendor_risk.core.questionnaire.loader import load
from vendor_risk.core.questionnaire.model import Audience

SHIPPED = Path(__file__).resolve().parent.parent / "questionnaires"


def shipped(name: str):
    result = load(SHIPPED / f"{name}.yaml")
    assert result.ok, "\n".join(map(str, result.problems))
    return result.questionnaire


@pytest.mark.parametrize("name", ["intake", "baseline-security", "vendor-credentials"])
def test_each_shipped_file_loads_without_a_problem(name):
    questionnaire = shipped(name)
    assert questionnaire.id == name
    assert questionnaire.content_hash() == shipped(name).content_hash()  # stable


def test_the_intake_is_internal_and_informs_every_inherent_risk_factor():
    intake = shipped("intake")
    assert intake.audience is Audience.internal
    factors = {str(q.inherent) for q in intake.questions if q.inherent is not None}
    assert factors == {
        "criticality",
        "substitutability",
        "data_sensitivity",
        "data_volume",
        "access",
    }


def test_the_baseline_asks_80_to_120_questions_with_critical_ones_and_references():
    baseline = shipped("baseline-security")
    answerable = [q for q in baseline.questions if str(q.type) != "info"]
    assert 80 <= len(answerable) <= 120
    critical = {q.id for q in answerable if q.critical}
    assert 8 <= len(critical) <= 15
    assert {"iam-mfa-workforce", "iam-mfa-admins", "sup-har-sanitisation"} <= critical
    scored = [q for q in answerable if q.scored]
    referenced = [q for q in scored if q.controls.nist_csf or q.controls.iso27001]
    assert len(referenced) >= 0.8 * len(scored)
    texts = " ".join(q.text.lower() for q in answerable)
    for lesson in ("phishing-resistant", "har file", "session token", "service account"):
        assert lesson in texts, lesson


def test_the_credentials_questionnaire_is_short_and_vendor_facing():
    focused = shipped("vendor-credentials")
    assert focused.audience is Audience.vendor
    assert 15 <= len(focused.questions) <= 25
