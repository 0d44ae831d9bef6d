"""No dead ends on a vendor's page: sending a questionnaire from it and landing back on its
Activity tab, the tab's lists (requests, findings, incidents, decisions) with their links and
empty states, adding a credential, a data category, a system or a vendor from a tab and coming
back to that tab, and a forged ``next`` ignored.

Emails go to a real SMTP server on loopback (aiosmtpd). The suite runs on SQLite, and on
PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import add, count, deliver, login_as, text

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, today_utc
from vendor_risk.models import (
    AssessmentDecision,
    Credential,
    DataCategory,
    DecisionKind,
    Finding,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    Incident,
    QuestionnaireRequest,
    RiskAcceptance,
    Role,
    System,
    Vendor,
    VendorStatus,
)
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import library as questionnaires
from vendor_risk.services.vendor_activity import ACTIVITY_SHOWN

QUESTIONNAIRE = """
format: 1
id: short-security
title: Short security
version: 1
audience: vendor
sections:
  - id: one
    title: One
    questions:
      - id: mfa
        type: yes_no
        text: Do you use MFA?
"""


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(**smtp_server.config, BASE_URL="http://vr.test")


@pytest.fixture
def world(app, make_vendor, make_user):
    vendor = make_vendor("Keystone Identity")
    with app.app_context():
        parsed = loader.parse(QUESTIONNAIRE, "short.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="short.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        version = stored.version.id
    return {
        "vendor": vendor,
        "version": version,
        "procurement": make_user(Role.procurement),
        "officer": make_user(Role.risk_officer),
    }


def hrefs(response) -> list[str]:
    """The links of the page's main content, as a browser follows them."""
    body = response.get_data(as_text=True)
    main = body[body.index("<main") :]
    return [html.unescape(h) for h in re.findall(r'<a [^>]*href="([^"#]*)', main)]


def link_to(response, start: str) -> str:
    found = [h for h in hrefs(response) if h.startswith(start)]
    assert found, f"no link to {start}"
    return found[0]


def hidden_next(response) -> str:
    match = re.search(r'name="next" value="([^"]*)"', response.get_data(as_text=True))
    assert match, "no next field"
    return html.unescape(match.group(1))


def cancel_link(response) -> str:
    match = re.search(r'<a href="([^"]*)">Cancel</a>', response.get_data(as_text=True))
    assert match, "no Cancel link"
    return html.unescape(match.group(1))


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


# ---- sending a questionnaire from the vendor's page -------------------------------------------


def test_send_questionnaire_from_the_vendor_page_ends_on_its_activity_tab(
    app, client, world, smtp_server
):
    login_as(client, world["procurement"])
    vendor = world["vendor"]
    tab = f"/inventory/vendors/{vendor}/activity"

    profile = client.get(f"/inventory/vendors/{vendor}")
    assert "Send questionnaire" in text(profile)
    form_page = client.get(link_to(profile, "/requests/new"))
    assert form_page.status_code == 200
    # The vendor is chosen already, and the form knows where it came from.
    assert 'value="Keystone Identity"' in text(form_page)
    assert hidden_next(form_page) == tab
    assert cancel_link(form_page) == tab

    response = client.post(
        "/requests/new",
        data={
            "vendor_id": str(vendor),
            "version_id": str(world["version"]),
            "due_on": (today_utc() + timedelta(days=14)).isoformat(),
            "contact_emails": "jane@keystone.example",
            "next": hidden_next(form_page),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == tab
    assert count(app, QuestionnaireRequest) == 1
    assert smtp_server.messages == []  # queued by the page, sent by the outbox worker
    deliver(app)
    assert [m["To"] for m in smtp_server.messages] == ["jane@keystone.example"]

    activity = client.get(tab)
    page = words(activity)
    assert "Request created and sent to the vendor." in page
    assert "Short security version 1 sent" in page
    with app.app_context():
        request_id = db.session.scalars(sa.select(QuestionnaireRequest.id)).one()
    assert f"/requests/{request_id}" in hrefs(activity)


@pytest.mark.parametrize("forged", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_a_forged_next_to_another_site_is_ignored(app, client, world, forged):
    login_as(client, world["procurement"])
    page = client.get("/requests/new", query_string={"vendor_id": world["vendor"], "next": forged})
    assert 'name="next"' not in page.get_data(as_text=True)
    assert "evil.example" not in page.get_data(as_text=True)
    response = client.post(
        "/requests/new",
        data={
            "vendor_id": str(world["vendor"]),
            "version_id": str(world["version"]),
            "due_on": (today_utc() + timedelta(days=14)).isoformat(),
            "contact_emails": "jane@keystone.example",
            "next": forged,
        },
    )
    assert response.status_code == 302
    assert re.fullmatch(r"/requests/\d+", response.headers["Location"])

    [system] = add(app, System(name="Jira"))
    response = client.post(
        "/inventory/credentials/new", data=credential_form(system, world["vendor"], next=forged)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inventory/credentials"


# ---- the Activity tab --------------------------------------------------------------------------


def fill_activity(app, world, *, findings: int = 1) -> dict:
    """One of each kind for the vendor (and a finding and an incident of another vendor, never
    shown)."""
    vendor, officer = world["vendor"], world["officer"].id
    now = datetime.now(UTC)
    [other] = add(app, Vendor(name="Harbor Payroll"))
    made = add(
        app,
        *(
            Finding(
                vendor_id=vendor,
                source=FindingSource.manual,
                title=f"Shared admin account {n}",
                severity=FindingSeverity.high,
                due_on=today_utc() + timedelta(days=30 + n),
            )
            for n in range(findings)
        ),
        Finding(
            vendor_id=other,
            source=FindingSource.manual,
            title="Harbor's own finding",
            severity=FindingSeverity.low,
        ),
        Incident(
            vendor_id=other,
            title="Harbor payroll leak",
            started_at=now - timedelta(days=9),
            detected_at=now - timedelta(days=8),
            opened_by_id=officer,
        ),
        Incident(
            vendor_id=vendor,
            title="Support system breach",
            started_at=now - timedelta(days=3),
            detected_at=now - timedelta(days=1),
            opened_by_id=officer,
        ),
        AssessmentDecision(
            vendor_id=vendor,
            decision=DecisionKind.approved_with_conditions,
            rationale="Keys for admins by March.",
            tier="high",
            decided_by_id=officer,
        ),
    )
    finding_ids, incident = made[:findings], made[-2]
    add(
        app,
        RiskAcceptance(
            finding_id=finding_ids[0],
            justification="Replaced next quarter.",
            approver_id=officer,
            expires_on=today_utc() + timedelta(days=60),
        ),
    )
    with app.app_context():
        db.session.get(Finding, finding_ids[0]).status = FindingStatus.accepted
        db.session.commit()
    return {"findings": finding_ids, "incident": incident}


def test_the_activity_tab_lists_each_kind_with_its_link(app, client, world):
    made = fill_activity(app, world)
    login_as(client, world["officer"])
    vendor = world["vendor"]
    response = client.get(f"/inventory/vendors/{vendor}/activity")
    assert response.status_code == 200
    page = words(response)
    links = hrefs(response)

    assert "Shared admin account 0 high accepted until" in page
    assert f"/findings/{made['findings'][0]}" in links
    assert "Harbor's own finding" not in page and "Harbor payroll leak" not in page
    assert "Support system breach open" in page
    assert f"/incidents/{made['incident']}" in links
    assert "approved with conditions high" in page
    assert f"/inventory/vendors/{vendor}/risk" in links
    # The risk acceptance, in force, with its finding.
    assert "Approved by Shared admin account 0 in force" in page
    # No questionnaire yet: the empty state says how to start, with this vendor chosen.
    assert "No questionnaire sent to Keystone Identity yet." in page
    assert f"/requests/new?vendor_id={vendor}&next=/inventory/vendors/{vendor}/activity" in links


def test_an_offboarded_vendor_offers_no_questionnaire(app, client, world, make_vendor):
    gone = make_vendor("Gone Ltd", status=VendorStatus.offboarded)
    login_as(client, world["procurement"])
    response = client.get(f"/inventory/vendors/{gone}/activity")
    assert "No questionnaire sent to Gone Ltd yet." in words(response)
    assert not [h for h in hrefs(response) if h.startswith("/requests/new")]


def test_an_empty_activity_tab_says_how_to_start_each_list(app, client, world):
    vendor = world["vendor"]
    login_as(client, world["officer"])
    page = words(client.get(f"/inventory/vendors/{vendor}/activity"))
    assert "No questionnaire sent to Keystone Identity yet. Send a questionnaire" in page
    assert "No finding for Keystone Identity." in page and "record a finding" in page
    assert "No incident recorded for Keystone Identity. If it is breached, record an incident" in (
        page
    )
    assert "No decision on Keystone Identity yet. Once its questionnaire is accepted" in page
    assert "No risk accepted for Keystone Identity." in page

    # Procurement may not write findings: told who does, with no link that would answer 403.
    login_as(client, world["procurement"])
    response = client.get(f"/inventory/vendors/{vendor}/activity")
    page = words(response)
    assert "or when a risk officer records one" in page
    assert not [h for h in hrefs(response) if h.startswith("/findings/new")]


@pytest.mark.parametrize("who", ["procurement", "officer"])
def test_every_link_of_the_activity_tab_opens_for_its_reader(app, client, world, who):
    fill_activity(app, world)
    login_as(client, world[who])
    response = client.get(f"/inventory/vendors/{world['vendor']}/activity")
    for href in set(hrefs(response)):
        if href.startswith("/"):
            assert client.get(href).status_code == 200, href


def test_long_lists_are_capped_with_a_link_to_the_filtered_list(app, client, world):
    fill_activity(app, world, findings=ACTIVITY_SHOWN + 2)
    login_as(client, world["procurement"])
    vendor = world["vendor"]
    response = client.get(f"/inventory/vendors/{vendor}/activity")
    page = words(response)
    total = ACTIVITY_SHOWN + 2
    assert f"{ACTIVITY_SHOWN} of {total} findings shown. See all {total} findings" in page
    assert f"/findings/?vendor_id={vendor}" in hrefs(response)
    assert page.count("Shared admin account") == ACTIVITY_SHOWN + 1  # and the acceptance
    # The filtered list of incidents the tab links to holds only this vendor's.
    assert f"/incidents/?vendor_id={vendor}" in hrefs(response)
    listed = words(client.get(f"/incidents/?vendor_id={vendor}"))
    assert "Support system breach" in listed and "Harbor payroll leak" not in listed
    assert "Harbor payroll leak" in words(client.get("/incidents/"))


# ---- adding from a tab returns to it -----------------------------------------------------------


def credential_form(system: int, vendor: int, **overrides) -> dict:
    form = {
        "name": "svc-support",
        "kind": "service_account",
        "holder_vendor_id": str(vendor),
        "system_id": str(system),
        "privilege": "admin",
        "issued_at": "2023-01-10",
        "rotation_period_days": "90",
        "owner": "Platform team",
        "status": "active",
    }
    return form | overrides


def vendor_form(**overrides) -> dict:
    form = {
        "name": "Harbor Payroll",
        "status": "active",
        "criticality": "high",
        "substitutability": "hard",
    }
    return form | overrides


def test_a_credential_added_from_the_credentials_tab_returns_to_it(app, client, world):
    [system] = add(app, System(name="Jira"))
    login_as(client, world["procurement"])
    vendor = world["vendor"]
    tab = f"/inventory/vendors/{vendor}/credentials"
    form_page = client.get(link_to(client.get(tab), "/inventory/credentials/new"))
    assert hidden_next(form_page) == tab and cancel_link(form_page) == tab

    response = client.post(
        "/inventory/credentials/new", data=credential_form(system, vendor, next=tab)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == tab
    assert count(app, Credential) == 1
    listed = client.get(tab)
    assert "svc-support" in text(listed)

    # Editing it from the tab comes back too.
    edit = client.get(link_to(listed, "/inventory/credentials/"))
    assert hidden_next(edit) == tab and cancel_link(edit) == tab


def test_a_refused_credential_keeps_the_way_back(app, client, world):
    [system] = add(app, System(name="Jira"))
    login_as(client, world["procurement"])
    tab = f"/inventory/vendors/{world['vendor']}/credentials"
    response = client.post(
        "/inventory/credentials/new",
        data=credential_form(system, world["vendor"], name="", next=tab),
    )
    assert response.status_code == 400
    assert hidden_next(response) == tab and cancel_link(response) == tab
    assert count(app, Credential) == 0


def test_a_data_category_added_from_the_data_tab_returns_to_it(app, client, world):
    login_as(client, world["procurement"])
    tab = f"/inventory/vendors/{world['vendor']}/data"
    # No category yet: the tab offers to add one.
    form_page = client.get(link_to(client.get(tab), "/inventory/data-categories/new"))
    assert hidden_next(form_page) == tab and cancel_link(form_page) == tab
    response = client.post(
        "/inventory/data-categories/new",
        data={"name": "Customer PII", "sensitivity": "high", "next": tab},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == tab
    assert count(app, DataCategory) == 1
    # Back on the tab, the new category is offered to the holding form, which stays there.
    [category] = [c.id for c in all_rows(app, DataCategory)]
    response = client.post(tab, data={"data_category_id": str(category), "records": "5000"})
    assert response.status_code == 302 and response.headers["Location"] == tab


def test_a_vendor_added_from_the_subprocessors_tab_returns_to_it(app, client, world):
    login_as(client, world["procurement"])
    tab = f"/inventory/vendors/{world['vendor']}/subprocessors"
    form_page = client.get(link_to(client.get(tab), "/inventory/vendors/new"))
    assert hidden_next(form_page) == tab and cancel_link(form_page) == tab
    response = client.post("/inventory/vendors/new", data=vendor_form(next=tab))
    assert response.status_code == 302
    assert response.headers["Location"] == tab
    # The new vendor is now offered as a subprocessor; adding it stays on the tab.
    [harbor] = [v.id for v in all_rows(app, Vendor) if v.name == "Harbor Payroll"]
    response = client.post(tab, data={"subprocessor_id": str(harbor), "purpose": "Payroll"})
    assert response.status_code == 302 and response.headers["Location"] == tab


def test_a_system_added_from_the_profile_returns_to_it(app, client, world):
    login_as(client, world["procurement"])
    vendor = world["vendor"]
    tab = f"/inventory/vendors/{vendor}"
    form_page = client.get(link_to(client.get(tab), "/inventory/systems/new"))
    # The vendor is chosen as the system's operator.
    assert 'value="Keystone Identity"' in text(form_page)
    assert hidden_next(form_page) == tab and cancel_link(form_page) == tab
    response = client.post(
        "/inventory/systems/new",
        data={
            "name": "Keystone admin console",
            "kind": "other",
            "environment": "production",
            "operator_vendor_id": str(vendor),
            "next": tab,
        },
    )
    assert response.status_code == 302, words(response)
    assert response.headers["Location"] == tab
    assert "Keystone admin console" in text(client.get(tab))


def all_rows(app, model) -> list:
    with app.app_context():
        rows = db.session.scalars(sa.select(model)).all()
        db.session.expunge_all()
        return rows
