"""Wording that reads right (issue 15): counts agree with their noun, a request's title does
not say "for us for Acme", the portal says whose decision an accepted risk was, workbook notes
name questions by their text, and an empty list says how to start (a filter that finds nothing
says so instead)."""

from __future__ import annotations

import re

import pytest
from conftest import deliver, login_as, text
from test_findings import (
    accept,
    in_days,
    new_finding,
    world,  # noqa: F401 - a fixture, used by name
)
from test_requests import create, store

from vendor_risk.core.plurals import plural
from vendor_risk.core.questionnaire import loader
from vendor_risk.core.questionnaire.words import by_text, condition_in_words
from vendor_risk.models import Role

CREDENTIALS_QUESTIONNAIRE = """
format: 1
id: vendor-credentials
title: Credentials you hold for us
version: 1
audience: vendor
sections:
  - id: one
    title: Storage
    questions:
      - id: vault
        type: yes_no
        text: Do you keep the credentials we give you in a <strong>secrets vault</strong>?
      - id: vault-name
        type: short_text
        text: Which vault do you use, and who can read the credentials it holds for our systems?
        show_if: {question: vault, equals: "yes"}
      - id: rotate
        type: yes_no
        text: Do you rotate them?
        show_if:
          any: [{question: vault, equals: "no"}, {question: vault-name, answered: true}]
"""


def words(response) -> str:
    """The page's words as a person reads them: no tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split()).replace(" .", ".")


def test_plural_agrees_with_the_count():
    assert plural(1, "user") == "1 user"
    assert plural(0, "user") == "0 users"
    assert plural(2, "category", "categories") == "2 categories"
    assert plural(12_500, "vendor") == "12,500 vendors"
    assert plural(1, "finding", number=False) == "finding"


def test_the_admin_home_counts_one_user_as_one_user(app, client, make_user):
    admin = make_user(Role.admin)
    login_as(client, admin)
    page = " ".join(text(client.get("/admin/")).replace("<strong>", "").split())
    assert "1</strong> user</a>" in page and "1</strong> users" not in page
    make_user(Role.risk_officer)
    assert "2</strong> users</a>" in " ".join(text(client.get("/admin/")).split())


def test_an_admin_alone_is_told_to_create_the_team(app, client, make_user):
    admin = make_user(Role.admin)
    login_as(client, admin)
    assert "Only you have an account so far" in text(client.get("/admin/users"))
    make_user(Role.procurement)
    assert "Only you have an account so far" not in text(client.get("/admin/users"))


def test_a_requests_title_reads_right(make_app, make_vendor, make_user, smtp_server):
    app = make_app(**smtp_server.config, BASE_URL="http://vr.test")
    client = app.test_client()
    vendor = make_vendor("Acme")
    version = store(app, CREDENTIALS_QUESTIONNAIRE)
    request_id = create(app, vendor, version, due_in=1, contacts=["ann@acme.example"])
    login_as(client, make_user(Role.procurement))
    page = text(client.get(f"/requests/{request_id}"))
    assert "<h1>Credentials you hold for us: Acme</h1>" in page
    assert "for us for Acme" not in page
    assert "(3 questions" in page

    deliver(app)
    smtp_server.messages.clear()
    result = app.test_cli_runner().invoke(args=["send-reminders", "--days", "3"])
    assert result.exit_code == 0, result.output
    deliver(app)
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects and all("for us for Acme" not in s for s in subjects)
    assert subjects[0].startswith("Reminder: “Credentials you hold for us” (Acme) is due on")


def test_the_portal_says_the_risk_was_accepted_by_us(app, client, world):  # noqa: F811
    login_as(client, world["officer"])
    finding_id = new_finding(app, world)
    accept(client, finding_id, justification="Logged and reviewed.", expires_on=in_days(30))
    login_as(client, world["contact_a"])
    page = text(client.get(f"/portal/findings/{finding_id}"))
    assert "risk accepted by us" in page
    assert "risk accepted by us" in text(client.get("/portal/findings"))
    login_as(client, world["officer"])  # staff keep their short word
    assert ">accepted</span>" in text(client.get(f"/findings/{finding_id}"))


def test_workbook_notes_name_questions_by_their_text():
    questionnaire = loader.parse(CREDENTIALS_QUESTIONNAIRE, "test.yaml").questionnaire
    name = questionnaire.question("vault-name")
    assert condition_in_words(name.show_if, questionnaire, by_text) == (
        "“Do you keep the credentials we give you in a secrets vault?” is “Yes”"
    )
    rotate = questionnaire.question("rotate")
    words = condition_in_words(rotate.show_if, questionnaire, by_text)
    assert "vault-name" not in words and "“Which vault do you use, and who can read the" in words
    assert "…” is answered" in words  # a long question is cut at a word
    # The library's preview, for staff, still names them by id.
    assert condition_in_words(name.show_if, questionnaire) == "vault is “Yes”"


@pytest.mark.parametrize(
    ("role", "url", "empty", "filtered"),
    [
        (
            Role.procurement,
            "/requests/",
            "No questionnaire was sent yet. Send a vendor a questionnaire",
            "/requests/?status=submitted",
        ),
        (
            Role.risk_officer,
            "/findings/",
            "No finding yet. Findings open by themselves",
            "/findings/?severity=critical",
        ),
    ],
)
def test_an_empty_list_says_how_to_start_and_a_filter_that_finds_nothing_says_so(
    app, client, make_user, role, url, empty, filtered
):
    login_as(client, make_user(role))
    page = words(client.get(url))
    assert empty in page and "matches" not in page
    page = words(client.get(filtered))
    assert "matches these filters" in page and empty not in page


def test_a_vendors_empty_request_list_offers_to_send_it_one(app, client, make_user, make_vendor):
    vendor = make_vendor("Acme")
    login_as(client, make_user(Role.procurement))
    page = words(client.get(f"/requests/?vendor_id={vendor}"))
    assert "No questionnaire was sent to Acme yet. Send Acme a questionnaire" in page
