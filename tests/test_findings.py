"""Findings and risk acceptances: the lifecycle, automatic findings (once per cause), manual
findings, notes and files, accepting a risk and its expiry reopening the finding (by the
command and by opening a page), what vendors see (their own vendor's visible findings only),
procurement reading but never writing, the audit trail of every step, and hostile input.

Findings are made through services.findings as the scoring and the pages make them, and acted
on through the pages. The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import add, count, events, get, login_as, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.core.questionnaire import loader
from vendor_risk.core.questionnaire.conditions import triggered_findings
from vendor_risk.core.scoring.control import control_score_of
from vendor_risk.db import db, today_utc
from vendor_risk.models import (
    AuditEvent,
    Finding,
    FindingFile,
    FindingNote,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    RiskAcceptance,
    Role,
    User,
)
from vendor_risk.services import findings
from vendor_risk.services.audit import Actor, verify_chain
from vendor_risk.services.questionnaires import library as questionnaires
from vendor_risk.services.questionnaires.library import questionnaire_of

QUESTIONNAIRE = """
format: 1
id: findings-check
title: Access
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    questions:
      - id: mfa
        type: single_choice
        text: How do your <strong>support staff</strong> sign in?
        critical: true
        options:
          - {value: keys, label: Security keys, score: 1}
          - {value: password, label: A password only, score: 0}
      - id: har
        type: yes_no
        text: Do you remove session tokens from HAR files customers send?
    findings:
      - id: tokens-kept
        when: {question: har, equals: "no"}
        severity: critical
        title: Session tokens kept in support files
        why: An attacker who reaches the support system replays them.
"""
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HOSTILE = "<script>alert(1)</script>"
SECRET = "The admin token is ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
S = FindingStatus


def actor_of(user) -> Actor:
    return Actor(label=user.email, user_id=user.id)


@pytest.fixture
def world(app, make_vendor, make_user):
    vendor_a = make_vendor("Keystone Identity")
    vendor_b = make_vendor("Harbor Payroll")
    return {
        "vendor_a": vendor_a,
        "vendor_b": vendor_b,
        "officer": make_user(Role.risk_officer),
        "procurement": make_user(Role.procurement),
        "contact_a": make_user(Role.vendor_contact, vendor_id=vendor_a),
        "contact_b": make_user(Role.vendor_contact, vendor_id=vendor_b),
    }


def new_finding(app, world, vendor: str = "a", **values) -> int:
    """A manual finding written by the risk officer, through the service."""
    fields = {
        "title": "Support staff sign in with passwords",
        "severity": FindingSeverity.high,
        "description": "Support staff reach customer tenants with a password only.",
        "remediation": "Enforce security keys for support staff.",
        "owner": "it-security@keystone.example",
        "due_on": None,
        "visible_to_vendor": True,
    } | values
    with app.test_request_context():
        created = findings.create_finding(
            db.session, world[f"vendor_{vendor}"], fields, actor=actor_of(world["officer"])
        )
        db.session.commit()
        return created.id


def map_rows(app, model) -> list:
    with app.app_context():
        rows = db.session.scalars(sa.select(model).order_by(model.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def status_of(app, finding_id: int) -> FindingStatus:
    return get(app, Finding, finding_id).status


def hidden(response, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', response.get_data(True))
    assert match, f"no field {name}"
    return html.unescape(match.group(1))


def flashed_error(response) -> str:
    found = re.findall(r'class="flash flash-error"[^>]*>([^<]*)<', response.get_data(True))
    return " ".join(html.unescape(m) for m in found)


def field_errors(response) -> str:
    found = re.findall(r'<p class="error"[^>]*>([^<]*)<', response.get_data(True))
    return " ".join(html.unescape(m) for m in found)


def page_of(client, finding_id: int):
    response = client.get(f"/findings/{finding_id}")
    assert response.status_code == 200
    return response


def version_on(page) -> str:
    """The version of the finding the page shows, from any of its forms (each carries it)."""
    match = re.search(r'name="[a-z]+-version"[^>]*value="(\d+)"', page.get_data(True))
    assert match, "no form with a version"
    return match.group(1)


def move(client, finding_id: int, to: FindingStatus, page=None):
    page = page or page_of(client, finding_id)
    return client.post(
        f"/findings/{finding_id}/status",
        data={"move-status": to.value, "move-version": version_on(page)},
    )


def accept(client, finding_id: int, *, justification: str, expires_on: str, page=None):
    page = page or page_of(client, finding_id)
    return client.post(
        f"/findings/{finding_id}/accept",
        data={
            "accept-justification": justification,
            "accept-expires_on": expires_on,
            "accept-version": version_on(page),
        },
    )


def in_days(days: int) -> str:
    return (today_utc() + timedelta(days=days)).isoformat()


def accepted_in_the_past(app, world, finding_id: int, *, expired_days_ago: int) -> int:
    """An acceptance given long ago, whose expiry is ``expired_days_ago`` days before today
    (0: it expires today)."""
    long_ago = today_utc() - timedelta(days=100)
    with app.test_request_context():
        acceptance = findings.accept_risk(
            db.session,
            findings.get_finding(db.session, finding_id),
            justification="Compensating control: support access is logged and reviewed.",
            expires_on=today_utc() - timedelta(days=expired_days_ago),
            expected_version=None,
            actor=actor_of(world["officer"]),
            today=long_ago,
        )
        db.session.commit()
        return acceptance.id


@pytest.fixture
def officer(client, world):
    login_as(client, world["officer"])
    return world["officer"]


# ---- the lifecycle -----------------------------------------------------------------------------

ALLOWED = {
    (S.open, S.in_remediation),
    (S.open, S.resolved),
    (S.in_remediation, S.open),
    (S.in_remediation, S.resolved),
    (S.resolved, S.open),
}


def bring_to(app, world, client, finding_id: int, status: FindingStatus) -> None:
    """Walk a new finding to ``status`` the way a risk officer would."""
    if status is S.accepted:
        response = accept(client, finding_id, justification="Low exposure.", expires_on=in_days(30))
    elif status is not S.open:
        response = move(client, finding_id, status)
    else:
        return
    assert response.status_code == 302
    assert status_of(app, finding_id) is status


@pytest.mark.parametrize("to", list(FindingStatus))
@pytest.mark.parametrize("start", list(FindingStatus))
def test_every_status_change_is_allowed_or_refused_with_the_reason(
    app, client, world, officer, start, to
):
    finding_id = new_finding(app, world)
    bring_to(app, world, client, finding_id, start)
    updates = len(events(app, "finding.updated"))

    response = move(client, finding_id, to)

    if (start, to) in ALLOWED:
        assert response.status_code == 302
        assert status_of(app, finding_id) is to
        [event] = events(app, "finding.updated")[updates:]
        assert event.details["status"] == {"from": start.value, "to": to.value}
        assert event.actor == officer.email and event.vendor_id == world["vendor_a"]
        return
    assert response.status_code == 409
    assert status_of(app, finding_id) is start
    assert len(events(app, "finding.updated")) == updates
    message = flashed_error(response)
    if to is S.accepted and start in {S.open, S.in_remediation}:
        assert "Accept the risk" in message
    elif start is S.accepted:
        assert "end the acceptance to reopen it" in message
    else:
        assert f"cannot become {to.label}" in message


def test_resolving_stamps_the_day_and_reopening_clears_it(app, client, world, officer):
    finding_id = new_finding(app, world)
    move(client, finding_id, S.resolved)
    assert get(app, Finding, finding_id).resolved_at is not None
    page = text(page_of(client, finding_id))
    assert "Resolved" in page and "Reopen" in page
    move(client, finding_id, S.open)
    assert get(app, Finding, finding_id).resolved_at is None


def test_a_status_change_from_a_page_opened_before_another_change_is_refused(
    app, client, world, officer
):
    finding_id = new_finding(app, world)
    stale = page_of(client, finding_id)
    assert move(client, finding_id, S.in_remediation).status_code == 302
    response = move(client, finding_id, S.resolved, page=stale)
    assert response.status_code == 409
    assert "Someone else changed this finding" in flashed_error(response)
    assert status_of(app, finding_id) is S.in_remediation


# ---- automatic findings ----------------------------------------------------------------------


@pytest.fixture
def assessed(app, world):
    """Keystone's request of the questionnaire above, and its questionnaire."""
    with app.app_context():
        parsed = loader.parse(QUESTIONNAIRE, "findings-check.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="findings-check.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        version_id = stored.version.id
    [request_id] = add(
        app,
        QuestionnaireRequest(
            vendor_id=world["vendor_a"], version_id=version_id, status=RequestStatus.submitted
        ),
    )
    return request_id


def compute(app, request_id: int, answers: dict) -> list[int]:
    """Open the findings of these answers, as the scoring does: returns the ids opened now."""
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        questionnaire = questionnaire_of(db.session.get(QuestionnaireVersion, request.version_id))
        score = control_score_of(questionnaire, answers, {})
        opened = findings.open_automatic(
            db.session,
            request,
            score.critical_failures,
            triggered_findings(questionnaire, answers),
            actor=Actor.system("scoring"),
        )
        db.session.commit()
        return [f.id for f in opened]


def test_failing_answers_open_one_finding_per_cause_and_never_twice(app, world, assessed):
    opened = compute(app, assessed, {"mfa": "password", "har": "no"})
    assert len(opened) == 2
    rows = {f.rule_key: f for f in map(lambda i: get(app, Finding, i), opened)}
    critical, rule = rows["critical:mfa"], rows["rule:tokens-kept"]
    # The critical question: high, titled with its text without markup.
    assert critical.source is FindingSource.critical_answer and critical.question_id == "mfa"
    assert critical.severity is FindingSeverity.high
    assert critical.title == "How do your support staff sign in?"
    assert critical.due_on == today_utc() + timedelta(days=60)
    # The rule: its own severity, title and reason.
    assert rule.source is FindingSource.rule and rule.severity is FindingSeverity.critical
    assert rule.title == "Session tokens kept in support files"
    assert rule.description == "An attacker who reaches the support system replays them."
    assert rule.due_on == today_utc() + timedelta(days=30)
    assert critical.visible_to_vendor and rule.visible_to_vendor
    assert critical.status is S.open and rule.status is S.open
    assert {e.details["cause"] for e in events(app, "finding.opened")} == set(rows)

    # Computing again opens nothing, whatever became of the findings meanwhile.
    with app.app_context():
        db.session.get(Finding, critical.id).status = S.resolved
        db.session.commit()
    assert compute(app, assessed, {"mfa": "password", "har": "no"}) == []
    assert count(app, Finding) == 2
    assert len(events(app, "finding.opened")) == 2


def test_a_finding_whose_cause_is_gone_stays_as_it_is(app, world, assessed):
    compute(app, assessed, {"mfa": "password", "har": "yes"})
    assert compute(app, assessed, {"mfa": "keys", "har": "no"}) != []  # the rule, now
    rows = {f.rule_key: f.status for f in map_rows(app, Finding)}
    assert rows == {"critical:mfa": S.open, "rule:tokens-kept": S.open}


def test_due_days_per_severity_come_from_the_settings(app, world, assessed):
    app.config["FINDING_DUE_DAYS_HIGH"] = 7
    [finding_id] = compute(app, assessed, {"mfa": "password", "har": "yes"})
    assert get(app, Finding, finding_id).due_on == today_utc() + timedelta(days=7)


def test_good_answers_open_nothing(app, world, assessed):
    assert compute(app, assessed, {"mfa": "keys", "har": "yes"}) == []
    assert count(app, Finding) == 0


# ---- manual findings -------------------------------------------------------------------------


def finding_form(vendor_id, /, **values) -> dict:
    return {
        "vendor_id": str(vendor_id),
        "title": "No review of support access",
        "severity": "medium",
        "description": "Nobody reviews who has support access.",
        "remediation": "Review support access every quarter.",
        "owner": "Dana at Keystone",
        "due_on": "",
        "visible_to_vendor": "y",
    } | values


def test_a_risk_officer_opens_a_finding_for_a_vendor(app, client, world, officer):
    form = client.get(f"/findings/new?vendor_id={world['vendor_b']}").get_data(as_text=True)
    assert 'name="vendor_id-name"' in form and 'value="Harbor Payroll"' in form

    response = client.post("/findings/new", data=finding_form(world["vendor_b"]))
    assert response.status_code == 302
    [finding] = map_rows(app, Finding)
    assert response.headers["Location"].endswith(f"/findings/{finding.id}")
    assert finding.vendor_id == world["vendor_b"] and finding.source is FindingSource.manual
    assert finding.severity is FindingSeverity.medium and finding.visible_to_vendor
    # No due date given: today plus the days its severity allows.
    assert finding.due_on == today_utc() + timedelta(days=90)
    [event] = events(app, "finding.opened")
    assert event.details["source"] == "manual" and event.actor == officer.email

    page = text(page_of(client, finding.id))
    assert "No review of support access" in page and "Harbor Payroll" in page
    assert "Review support access every quarter." in page and "Dana at Keystone" in page


def test_an_internal_finding_is_marked_in_the_list(app, client, world, officer):
    data = {k: v for k, v in finding_form(world["vendor_a"]).items() if k != "visible_to_vendor"}
    assert client.post("/findings/new", data=data).status_code == 302
    assert not map_rows(app, Finding)[0].visible_to_vendor
    assert "internal" in text(client.get("/findings/"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Enter a title"),
        ({"severity": "dire"}, "severity", "Choose one of the listed options."),
        ({"vendor_id": "999"}, "vendor_id", "Choose one of the listed options."),
        ({"due_on": "2001-01-01"}, "due_on", "The due date is in the past"),
        ({"description": SECRET}, "description", "looks like a secret"),
        ({"remediation": "x" * 10_001}, "remediation", "within 10,000 characters"),
    ],
)
def test_a_refused_finding_saves_nothing_and_says_why(
    app, client, world, officer, changes, field, message
):
    response = client.post("/findings/new", data=finding_form(world["vendor_a"], **changes))
    assert response.status_code == 400
    assert message in field_errors(response)
    assert count(app, Finding) == 0


def test_editing_a_finding_keeps_a_colleagues_change(app, client, world, officer):
    finding_id = new_finding(app, world)
    stale = client.get(f"/findings/{finding_id}/edit")
    fresh = client.get(f"/findings/{finding_id}/edit")

    def save(page, **changes):
        data = {
            "title": "Support staff sign in with passwords",
            "severity": "high",
            "description": "",
            "remediation": "",
            "owner": "",
            "due_on": in_days(20),
            "visible_to_vendor": "y",
            "version": hidden(page, "version"),
        } | changes
        return client.post(f"/findings/{finding_id}/edit", data=data)

    assert save(fresh, severity="critical").status_code == 302
    [edit] = events(app, "finding.updated")
    assert "severity" in edit.details["changed"]

    response = save(stale, severity="low")
    assert response.status_code == 400
    assert "Someone else changed this finding" in flashed_error(response)
    assert get(app, Finding, finding_id).severity is FindingSeverity.critical
    # Saving again is a deliberate choice to replace theirs.
    assert save(response, severity="low").status_code == 302
    assert get(app, Finding, finding_id).severity is FindingSeverity.low


def test_findings_from_answers_always_stay_visible_to_the_vendor(app, client, world, assessed):
    login_as(client, world["officer"])
    [finding_id] = compute(app, assessed, {"mfa": "password", "har": "yes"})
    page = client.get(f"/findings/{finding_id}/edit")
    data = {
        "title": "Passwords only",
        "severity": "high",
        "due_on": in_days(10),
        "version": hidden(page, "version"),
    }
    response = client.post(f"/findings/{finding_id}/edit", data=data)
    assert response.status_code == 400
    assert "always shown to the vendor" in field_errors(response)
    assert get(app, Finding, finding_id).visible_to_vendor


# ---- risk acceptance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("justification", "expires_on", "message"),
    [
        ("", in_days(30), "Write why the risk is acceptable"),
        ("Compensating controls.", "", "Enter the day the acceptance expires."),
        ("Compensating controls.", in_days(0), "The expiry must be after today."),
        ("Compensating controls.", in_days(366), "at most 365 days"),
        (SECRET, in_days(30), "looks like a secret"),
    ],
)
def test_an_acceptance_needs_a_justification_and_an_expiry_within_the_limit(
    app, client, world, officer, justification, expires_on, message
):
    finding_id = new_finding(app, world)
    response = accept(client, finding_id, justification=justification, expires_on=expires_on)
    assert response.status_code == 400
    assert message in field_errors(response)
    assert status_of(app, finding_id) is S.open
    assert count(app, RiskAcceptance) == 0


def test_accepting_a_risk_records_the_approver_and_the_expiry(app, client, world, officer):
    finding_id = new_finding(app, world)
    move(client, finding_id, S.in_remediation)
    response = accept(
        client, finding_id, justification="Support access is logged.", expires_on=in_days(365)
    )
    assert response.status_code == 302
    assert status_of(app, finding_id) is S.accepted
    with app.app_context():
        acceptance = db.session.scalar(sa.select(RiskAcceptance))
        assert acceptance.approver_id == officer.id
        assert acceptance.expires_on == today_utc() + timedelta(days=365)
        assert acceptance.ended_at is None
    [event] = events(app, "finding.risk_accepted")
    assert event.details["expires_on"] == in_days(365) and event.actor == officer.email

    page = text(page_of(client, finding_id))
    assert f"Risk accepted until {in_days(365)}" in page
    assert f"Approved by {name_of(app, officer)}" in page
    assert "Support access is logged." in page
    # A second acceptance, or accepting a resolved finding, is refused.
    again = accept(client, finding_id, justification="Again.", expires_on=in_days(10))
    assert again.status_code == 409
    assert count(app, RiskAcceptance) == 1


def name_of(app, user) -> str:
    return get(app, User, user.id).name


def test_a_resolved_finding_cannot_be_accepted(app, client, world, officer):
    finding_id = new_finding(app, world)
    move(client, finding_id, S.resolved)
    page = page_of(client, finding_id)
    assert "Accept the risk" not in text(page)
    response = client.post(
        f"/findings/{finding_id}/accept",
        data={
            "accept-justification": "Why not.",
            "accept-expires_on": in_days(10),
            "accept-version": version_on(page),
        },
    )
    assert response.status_code == 409
    assert "cannot have its risk accepted" in flashed_error(response)
    assert status_of(app, finding_id) is S.resolved


def test_withdrawing_an_acceptance_reopens_the_finding(app, client, world, officer):
    finding_id = new_finding(app, world)
    accept(client, finding_id, justification="Low exposure.", expires_on=in_days(30))
    page = page_of(client, finding_id)
    response = client.post(
        f"/findings/{finding_id}/end-acceptance", data={"end-version": hidden(page, "end-version")}
    )
    assert response.status_code == 302
    assert status_of(app, finding_id) is S.open
    with app.app_context():
        acceptance = db.session.scalar(sa.select(RiskAcceptance))
        assert acceptance.ended_at is not None and acceptance.ended_reason == "withdrawn"
    [event] = events(app, "finding.risk_acceptance_ended")
    assert event.details["reason"] == "withdrawn" and event.actor == officer.email
    # Nothing left to withdraw.
    again = client.post(
        f"/findings/{finding_id}/end-acceptance",
        data={"end-version": version_on(page_of(client, finding_id))},
    )
    assert again.status_code == 409
    assert "No risk acceptance is in force" in flashed_error(again)


def test_the_expire_command_reopens_findings_whose_acceptance_expired(app, world):
    expired = new_finding(app, world, title="Expired yesterday")
    today = new_finding(app, world, title="Expires today")
    accepted_in_the_past(app, world, expired, expired_days_ago=1)
    accepted_in_the_past(app, world, today, expired_days_ago=0)

    result = app.test_cli_runner().invoke(args=["findings", "expire"])
    assert result.exit_code == 0, result.output
    assert f"Finding #{expired} reopened: Expired yesterday" in result.output
    assert "1 risk acceptance expired" in result.output
    assert status_of(app, expired) is S.open
    assert status_of(app, today) is S.accepted  # it holds through its last day
    [event] = events(app, "finding.risk_acceptance_ended")
    assert event.details["reason"] == "expired" and event.object_id == str(expired)
    assert event.actor.startswith("cli:")

    again = app.test_cli_runner().invoke(args=["findings", "expire"])
    assert "0 risk acceptances expired" in again.output
    assert len(events(app, "finding.risk_acceptance_ended")) == 1


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("officer", "/findings/"),
        ("procurement", "/findings/{id}"),
        ("contact_a", "/portal/"),
        ("contact_a", "/portal/findings/{id}"),
    ],
)
def test_opening_a_findings_page_reopens_findings_whose_acceptance_expired(
    app, client, world, who, path
):
    finding_id = new_finding(app, world)
    accepted_in_the_past(app, world, finding_id, expired_days_ago=3)
    login_as(client, world[who])

    response = client.get(path.format(id=finding_id))
    assert response.status_code == 200
    assert status_of(app, finding_id) is S.open
    [event] = events(app, "finding.risk_acceptance_ended")
    assert event.details["reason"] == "expired" and event.actor == "acceptance-expiry"
    with app.app_context():
        assert db.session.scalar(sa.select(RiskAcceptance.ended_reason)) == "expired"


def test_pages_with_nothing_expired_write_nothing(app, client, world, officer):
    finding_id = new_finding(app, world)
    accept(client, finding_id, justification="Low exposure.", expires_on=in_days(1))
    before = len(events(app, "finding.risk_acceptance_ended"))
    client.get("/findings/")
    assert len(events(app, "finding.risk_acceptance_ended")) == before
    assert status_of(app, finding_id) is S.accepted


# ---- notes and files -------------------------------------------------------------------------


def upload(client, path: str, data: bytes, name: str):
    return client.post(
        path, data={"file-file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def files_on_disk(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def test_the_vendor_answers_with_notes_and_evidence(app, client, world):
    finding_id = new_finding(app, world)
    login_as(client, world["contact_a"])
    base = f"/portal/findings/{finding_id}"

    response = client.post(f"{base}/notes", data={"note-body": "Keys are enforced since May."})
    assert response.status_code == 302
    response = upload(client, f"{base}/files", PDF, "../../policy.pdf")
    assert response.status_code == 302
    [stored] = map_rows(app, FindingFile)
    assert stored.filename == "policy.pdf" and stored.content_type == "application/pdf"
    assert len(stored.sha256) == 64 and stored.stored_name != "policy.pdf"
    assert [p.name for p in files_on_disk(app)] == [stored.stored_name]

    page = text(client.get(base))
    assert "Keys are enforced since May." in page and "policy.pdf" in page
    with client.get(f"{base}/files/{stored.id}") as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["Content-Security-Policy"].startswith("default-src 'none'")

    # Staff read them, marked as the vendor's, and answer on the same finding.
    login_as(client, world["officer"])
    staff_page = text(page_of(client, finding_id))
    assert "Keys are enforced since May." in staff_page and "(vendor)" in staff_page
    with client.get(f"/findings/{finding_id}/files/{stored.id}") as download:
        assert download.data == PDF
    assert (
        client.post(
            f"/findings/{finding_id}/notes", data={"note-body": "Thanks: send the policy too."}
        ).status_code
        == 302
    )
    login_as(client, world["contact_a"])
    assert "Thanks: send the policy too." in text(client.get(base))

    assert [e.details["note"] for e in events(app, "finding.note_added")] == [
        n.id for n in map_rows(app, FindingNote)
    ]
    assert events(app, "finding.file_uploaded")[0].details["sha256"] == stored.sha256
    assert len(events(app, "finding.file_downloaded")) == 2


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 64, "fix.pdf", "fix.pdf is not a PDF file"),
        (PDF, "fix.exe", "files of this type are not accepted"),
        (b"", "empty.pdf", "empty.pdf is empty"),
        (PDF, "", "Choose a file to upload."),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(app, client, world, data, name, message):
    finding_id = new_finding(app, world)
    login_as(client, world["contact_a"])
    response = upload(client, f"/portal/findings/{finding_id}/files", data, name)
    assert response.status_code == 400
    assert message in field_errors(response)
    assert count(app, FindingFile) == 0
    assert files_on_disk(app) == []
    assert events(app, "finding.file_uploaded") == []


def test_files_may_be_as_large_as_evidence_whatever_the_request_limit(app, client, world):
    app.config |= {"MAX_CONTENT_LENGTH": 1024, "EVIDENCE_MAX_BYTES": 4096}
    finding_id = new_finding(app, world)
    login_as(client, world["contact_a"])
    path = f"/portal/findings/{finding_id}/files"
    assert upload(client, path, PDF + b"%" * 3000, "large.pdf").status_code == 302
    too_large = upload(client, path, PDF + b"%" * 5000, "huge.pdf")
    assert too_large.status_code == 400
    assert "Files are limited to 4 KB each" in field_errors(too_large)
    assert [f.filename for f in map_rows(app, FindingFile)] == ["large.pdf"]
    # Other forms keep the app's limit.
    note = client.post(f"/portal/findings/{finding_id}/notes", data={"note-body": "x" * 2000})
    assert note.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write the note first."), (SECRET, "looks like a secret"), ("x" * 10_001, "10,000")],
)
def test_refused_notes_save_nothing(app, client, world, body, message):
    finding_id = new_finding(app, world)
    login_as(client, world["contact_a"])
    response = client.post(f"/portal/findings/{finding_id}/notes", data={"note-body": body})
    assert response.status_code == 400
    assert message in field_errors(response)
    assert count(app, FindingNote) == 0


# ---- what vendors see ------------------------------------------------------------------------


def test_contacts_reach_only_their_vendors_visible_findings(app, client, world):
    own = new_finding(app, world, title="Own finding")
    internal = new_finding(app, world, title="Internal finding", visible_to_vendor=False)
    other = new_finding(app, world, vendor="b", title="Other vendor's finding")
    with app.app_context():
        for finding_id in (own, internal, other):
            db.session.add(
                FindingFile(
                    finding_id=finding_id,
                    filename="x.pdf",
                    stored_name=f"{finding_id:064d}",
                    sha256="0" * 64,
                    size=1,
                    content_type="application/pdf",
                )
            )
        db.session.commit()
        rows = db.session.execute(sa.select(FindingFile.finding_id, FindingFile.id)).all()
        file_ids = {finding_id: file_id for finding_id, file_id in rows}
    login_as(client, world["contact_a"])

    listed = text(client.get("/portal/findings"))
    assert "Own finding" in listed
    assert "Internal finding" not in listed and "Other vendor's finding" not in listed
    home = text(client.get("/portal/"))
    assert "Findings to remediate" in home and "Own finding" in home
    assert "Internal finding" not in home and "Other vendor's finding" not in home

    for finding_id in (internal, other):
        base = f"/portal/findings/{finding_id}"
        assert client.get(base).status_code == 404
        assert client.post(f"{base}/notes", data={"note-body": "hello"}).status_code == 404
        assert upload(client, f"{base}/files", PDF, "fix.pdf").status_code == 404
        assert client.get(f"{base}/files/{file_ids[finding_id]}").status_code == 404
        # Another finding's file through one's own finding: 404 as well.
        assert client.get(f"/portal/findings/{own}/files/{file_ids[finding_id]}").status_code == 404
    assert count(app, FindingNote) == 0 and count(app, FindingFile) == 3

    login_as(client, world["contact_b"])
    assert client.get(f"/portal/findings/{own}").status_code == 404
    assert "Other vendor's finding" in text(client.get("/portal/findings"))


def test_vendors_never_see_the_acceptances_reasoning(app, client, world, officer):
    finding_id = new_finding(app, world)
    accept(client, finding_id, justification="INTERNAL-REASONING", expires_on=in_days(30))
    login_as(client, world["contact_a"])
    page = text(client.get(f"/portal/findings/{finding_id}"))
    assert "accepted" in page
    assert "INTERNAL-REASONING" not in page and world["officer"].email not in page


def test_resolved_findings_leave_the_portal_home_but_stay_listed(app, client, world, officer):
    finding_id = new_finding(app, world, title="Fixed already")
    move(client, finding_id, S.resolved)
    login_as(client, world["contact_a"])
    assert "Fixed already" not in text(client.get("/portal/"))
    assert "Nothing to remediate" in text(client.get("/portal/"))
    assert "Fixed already" in text(client.get("/portal/findings"))


# ---- procurement reads, never writes ---------------------------------------------------------


def test_procurement_reads_findings_but_every_write_is_refused(app, client, world):
    finding_id = new_finding(app, world)
    with app.app_context():
        db.session.add(
            FindingFile(
                finding_id=finding_id,
                filename="x.pdf",
                stored_name="f" * 64,
                sha256="0" * 64,
                size=len(PDF),
                content_type="application/pdf",
            )
        )
        db.session.commit()
        file_id = db.session.scalar(sa.select(FindingFile.id))
    Path(app.config["EVIDENCE_DIR"]).mkdir(parents=True, exist_ok=True)
    (Path(app.config["EVIDENCE_DIR"]) / ("f" * 64)).write_bytes(PDF)
    login_as(client, world["procurement"])

    assert "Support staff sign in with passwords" in text(client.get("/findings/"))
    page = client.get(f"/findings/{finding_id}")
    assert page.status_code == 200
    assert '<form method="post"' not in page.get_data(as_text=True).split("Log out")[-1]
    with client.get(f"/findings/{finding_id}/files/{file_id}") as download:
        assert download.data == PDF
    assert 'href="/findings/"' in client.get("/procurement/").get_data(as_text=True)

    writes = [
        ("GET", "/findings/new", {}),
        ("POST", "/findings/new", finding_form(world["vendor_a"])),
        ("GET", f"/findings/{finding_id}/edit", {}),
        ("POST", f"/findings/{finding_id}/edit", {"title": "Changed", "version": "1"}),
        (
            "POST",
            f"/findings/{finding_id}/status",
            {"move-status": "resolved", "move-version": "1"},
        ),
        (
            "POST",
            f"/findings/{finding_id}/accept",
            {"accept-justification": "x", "accept-expires_on": in_days(9), "accept-version": "1"},
        ),
        ("POST", f"/findings/{finding_id}/end-acceptance", {"end-version": "1"}),
        ("POST", f"/findings/{finding_id}/notes", {"note-body": "A note."}),
        ("POST", f"/findings/{finding_id}/files", {}),
    ]
    for method, path, data in writes:
        assert client.open(path, method=method, data=data).status_code == 403, (method, path)
    assert len(events(app, "access.denied")) == len(writes)
    assert count(app, Finding) == 1 and count(app, FindingNote) == 0
    assert count(app, RiskAcceptance) == 0
    finding = get(app, Finding, finding_id)
    assert finding.status is S.open and finding.title == "Support staff sign in with passwords"


def test_risk_officers_find_findings_in_their_navigation(client, officer):
    page = client.get("/risk/").get_data(as_text=True)
    assert 'href="/findings/"' in page and ">Findings<" in page


# ---- lists and counts ------------------------------------------------------------------------


def finding_row(world, *, vendor="a", days_old=0, due_in=30, **fields) -> Finding:
    return Finding(
        vendor_id=world[f"vendor_{vendor}"],
        source=FindingSource.manual,
        title=fields.pop("title", f"Finding {days_old} days old"),
        severity=fields.pop("severity", FindingSeverity.medium),
        created_at=datetime.now(UTC) - timedelta(days=days_old),
        due_on=None if due_in is None else today_utc() + timedelta(days=due_in),
        **fields,
    )


def listed_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'href="/findings/(\d+)"', response.get_data(True))]


def test_the_list_filters_by_status_severity_vendor_overdue_and_age(app, client, world, officer):
    ids = add(
        app,
        finding_row(world, title="Overdue one", due_in=-1, severity=FindingSeverity.critical),
        finding_row(world, title="Old one", days_old=120, vendor="b"),
        finding_row(world, title="Middle one", days_old=45, status=S.in_remediation),
        finding_row(world, title="Resolved late", due_in=-5, status=S.resolved),
    )
    overdue, old, middle, resolved = ids

    # The soonest due first.
    assert listed_ids(client.get("/findings/")) == [resolved, overdue, old, middle]
    assert listed_ids(client.get("/findings/?overdue=y")) == [overdue]
    assert listed_ids(client.get("/findings/?severity=critical")) == [overdue]
    assert listed_ids(client.get(f"/findings/?vendor_id={world['vendor_b']}")) == [old]
    assert listed_ids(client.get("/findings/?status=in_remediation")) == [middle]
    assert listed_ids(client.get("/findings/?age=91%2B")) == [old]
    assert listed_ids(client.get("/findings/?age=31-90")) == [middle]
    assert set(listed_ids(client.get("/findings/?age=0-30"))) == {overdue, resolved}
    by_severity = listed_ids(client.get("/findings/?sort=severity&direction=desc"))
    assert by_severity[0] == overdue
    page = text(client.get("/findings/?overdue=y"))
    assert "overdue" in page and "1 finding." in page
    for bad in ("status=dire", "age=7", "sort=secret", "page=0", "vendor_id=x"):
        assert client.get(f"/findings/?{bad}").status_code == 400, bad


def statements_for(app, client, path: str) -> int:
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200
    return len(seen)


def test_list_pages_cost_the_same_statements_whatever_the_rows(app, client, world, officer):
    add(app, finding_row(world))
    few = statements_for(app, client, "/findings/")
    add(app, *(finding_row(world, days_old=n, vendor="ab"[n % 2]) for n in range(70)))
    assert statements_for(app, client, "/findings/") == few
    assert "71 findings: 1 to 50 shown, page 1 of 2." in text(client.get("/findings/"))
    assert "51 to 71 shown" in text(client.get("/findings/?page=2"))

    login_as(client, world["contact_a"])
    few = statements_for(app, client, "/portal/findings")
    add(app, *(finding_row(world) for _ in range(10)))
    assert statements_for(app, client, "/portal/findings") == few


def test_open_counts_by_severity_and_age(app, world):
    high, medium = FindingSeverity.high, FindingSeverity.medium
    add(
        app,
        finding_row(world, severity=high, days_old=0),
        finding_row(world, severity=high, days_old=30),
        finding_row(world, severity=high, days_old=31, status=S.in_remediation),
        finding_row(world, severity=medium, days_old=90),
        finding_row(world, severity=medium, days_old=91, vendor="b"),
        finding_row(world, severity=high, days_old=5, status=S.resolved),
        finding_row(world, severity=high, days_old=5, status=S.accepted),
    )
    with app.app_context():
        counts = findings.open_counts(db.session, today_utc())
    buckets = findings.AgeBucket
    assert counts.count(high, buckets.recent) == 2
    assert counts.count(high, buckets.months) == 1
    assert counts.count(medium, buckets.months) == 1
    assert counts.count(medium, buckets.old) == 1
    assert counts.count(FindingSeverity.critical, buckets.recent) == 0
    assert counts.of_severity(high) == 3 and counts.of_age(buckets.old) == 1
    assert counts.total == 5


# ---- the audit trail -------------------------------------------------------------------------


def test_every_step_is_in_the_audit_trail_and_the_chain_holds(app, client, world, officer):
    assert client.post("/findings/new", data=finding_form(world["vendor_a"])).status_code == 302
    finding_id = map_rows(app, Finding)[0].id
    move(client, finding_id, S.in_remediation)
    client.post(f"/findings/{finding_id}/notes", data={"note-body": "Chased them."})
    upload(client, f"/findings/{finding_id}/files", PDF, "plan.pdf")
    file_id = map_rows(app, FindingFile)[0].id
    client.get(f"/findings/{finding_id}/files/{file_id}").close()
    accept(client, finding_id, justification="Until the new system.", expires_on=in_days(60))
    page = page_of(client, finding_id)
    client.post(
        f"/findings/{finding_id}/end-acceptance", data={"end-version": hidden(page, "end-version")}
    )

    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "finding", AuditEvent.object_id == str(finding_id))
            .order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(db.session).ok
    assert actions == [
        "finding.opened",
        "finding.updated",
        "finding.note_added",
        "finding.file_uploaded",
        "finding.file_downloaded",
        "finding.risk_accepted",
        "finding.risk_acceptance_ended",
    ]


# ---- hostile input ---------------------------------------------------------------------------

MARKUP = [HOSTILE, '"><img src=x onerror=alert(1)>']
hostile = st.text(max_size=200) | st.sampled_from([*MARKUP, "\x00", "' OR 1=1 --", "%00"])
fuzz = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_safe(response, *values):
    assert response.status_code < 500
    page = response.get_data(as_text=True)
    for value in values:
        if value in MARKUP:
            assert value not in page


@fuzz
@given(
    title=hostile,
    severity=hostile,
    description=hostile,
    owner=hostile,
    due_on=hostile | st.dates().map(date.isoformat),
    vendor=st.sampled_from(["a", "x", ""]),
)
def test_the_finding_form_survives_hostile_input(
    app, world, title, severity, description, owner, due_on, vendor
):
    client = app.test_client()
    login_as(client, world["officer"])
    vendor_id = {"a": str(world["vendor_a"]), "x": vendor, "": ""}[vendor]
    data = finding_form(
        vendor_id, title=title, severity=severity, description=description, owner=owner
    ) | {"due_on": due_on}
    response = client.post("/findings/new", data=data)
    assert_safe(response, title, description, owner)
    if response.status_code == 302:
        assert_safe(client.get(response.headers["Location"]), title, description, owner)


@fuzz
@given(body=hostile, justification=hostile, expires_on=hostile, status=hostile)
def test_the_finding_page_forms_survive_hostile_input(
    app, world, body, justification, expires_on, status
):
    finding_id = new_finding(app, world)
    client = app.test_client()
    login_as(client, world["officer"])
    base = f"/findings/{finding_id}"
    assert_safe(client.post(f"{base}/notes", data={"note-body": body}), body)
    assert_safe(
        client.post(
            f"{base}/accept",
            data={
                "accept-justification": justification,
                "accept-expires_on": expires_on,
                "accept-version": "1",
            },
        ),
        justification,
    )
    assert_safe(client.post(f"{base}/status", data={"move-status": status, "move-version": "1"}))
    assert_safe(client.get(base), body, justification)
    contact = app.test_client()
    login_as(contact, world["contact_a"])
    assert_safe(contact.post(f"/portal{base}/notes", data={"note-body": body}), body)
    assert_safe(contact.get(f"/portal{base}"), body)


@fuzz
@given(status=hostile, severity=hostile, vendor_id=hostile, age=hostile, sort=hostile)
def test_the_list_filters_survive_hostile_input(app, world, status, severity, vendor_id, age, sort):
    client = app.test_client()
    login_as(client, world["procurement"])
    query = {"status": status, "severity": severity, "vendor_id": vendor_id, "age": age}
    assert_safe(client.get("/findings/", query_string=query | {"sort": sort}))
