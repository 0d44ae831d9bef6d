"""A vendor's Risk tab (the rating explained, the override beside it, the review decision) and
the reassessments page, as risk officers and procurement use them.

Vendors are scored the way the app scores them: an inventory, the portfolio's aggregates
refreshed, a questionnaire sent, answered, submitted and accepted through the services
procurement, vendors and reviewers use. Emails go to a real SMTP server on loopback. The suite
runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import calendar
import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from conftest import add, count, deliver, events, get, login_as, update_portfolio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk import create_app
from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    Answer,
    AssessmentDecision,
    Credential,
    CredentialKind,
    Criticality,
    DataCategory,
    Environment,
    Invite,
    Privilege,
    QuestionnaireRequest,
    RequestStatus,
    Role,
    ScoreTrigger,
    Sensitivity,
    System,
    Vendor,
    VendorData,
    VendorRating,
    VendorScore,
    VendorStatus,
)
from vendor_risk.services.assessments import scoring
from vendor_risk.services.assessments.decisions import add_months
from vendor_risk.services.audit import Actor
from vendor_risk.services.portfolio import aggregates as portfolio
from vendor_risk.services.questionnaires import answers as answers_service
from vendor_risk.services.questionnaires import library as questionnaires
from vendor_risk.services.questionnaires import requests, review

QUESTIONNAIRE = """
format: 1
id: access-review
title: Access and people
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    weight: 2
    questions:
      - id: sso
        type: yes_no
        text: Do your staff sign in through single sign-on?
      - id: mfa
        type: single_choice
        text: How do your staff prove who they are when they sign in?
        weight: 3
        critical: true
        options:
          - {value: keys, label: Security keys or passkeys, score: 1}
          - {value: app-codes, label: Codes from an authenticator app, score: 0.7}
          - {value: password, label: A password only, score: 0}
  - id: support
    title: Support
    questions:
      - id: har
        type: yes_no
        text: Are HAR files and session tokens removed from support tickets?
"""
REASON = "Board decision: treat every identity provider as critical."
HOSTILE = "<script>alert(1)</script>"
MARKUP = [HOSTILE, '"><img src=x onerror=alert(1)>']
BASE_URL = "https://risk.example.org"


# ---- a scored world ------------------------------------------------------------------------


def actor_of(user) -> Actor:
    return Actor(label=user.email, user_id=user.id)


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(**smtp_server.config, BASE_URL=BASE_URL)


@pytest.fixture
def world(app, make_vendor, make_user):
    """Keystone (an identity provider with admin access into production and customer data)
    and Harbor, both active, with their contacts; the questionnaire stored and the portfolio's
    aggregates computed, so both have a first rating."""
    keystone = make_vendor(
        "Keystone Identity", status=VendorStatus.active, criticality=Criticality.high
    )
    harbor = make_vendor("Harbor Payroll", status=VendorStatus.active)
    people = {
        "officer": make_user(Role.risk_officer),
        "procurement": make_user(Role.procurement),
        "contact_keystone": make_user(
            Role.vendor_contact, email="it@keystone.example", vendor_id=keystone
        ),
        "contact_harbor": make_user(
            Role.vendor_contact, email="it@harbor.example", vendor_id=harbor
        ),
    }
    [system, category] = add(
        app,
        System(name="Okta", environment=Environment.production),
        DataCategory(name="Customer PII", sensitivity=Sensitivity.high),
    )
    add(
        app,
        Credential(
            name="svc-keystone",
            kind=CredentialKind.service_account,
            holder_vendor_id=keystone,
            system_id=system,
            privilege=Privilege.write,
        ),
        VendorData(vendor_id=keystone, data_category_id=category, records=50_000),
    )
    with app.app_context():
        parsed = loader.parse(QUESTIONNAIRE, "access-review.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="access-review.yaml", actor=Actor.system("test")
        )
        portfolio.refresh(db.session)
        db.session.commit()
        version_id = stored.version.id
    return {
        "keystone": keystone,
        "harbor": harbor,
        "system": system,
        "version": version_id,
        **people,
    }


def send_request(app, world, vendor: str) -> int:
    with app.test_request_context():
        made = requests.create_request(
            db.session,
            vendor_id=world[vendor],
            version_id=world["version"],
            due_on=utcnow().date() + timedelta(days=14),
            contact_emails=[world[f"contact_{vendor}"].email],
            actor=actor_of(world["procurement"]),
        )
        db.session.commit()
        return made.id


def assess(
    app, world, vendor: str = "keystone", *, mfa: str = "password", accept: bool = True
) -> int:
    """A request answered, submitted and accepted (unless not ``accept``); ``mfa``
    "password" fails the critical question."""
    request_id = send_request(app, world, vendor)
    contact = actor_of(world[f"contact_{vendor}"])
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        for question_id, value in (("sso", "yes"), ("mfa", mfa), ("har", "no")):
            answers_service.save_answer(
                db.session,
                request,
                question_id,
                value=value,
                comment=None,
                base_version=None,
                actor=contact,
            )
        assert answers_service.submit(db.session, request, actor=contact)
        if accept:
            review.accept(
                db.session, request, expected_version=None, actor=actor_of(world["officer"])
            )
        db.session.commit()
    return request_id


@pytest.fixture
def assessed(app, world):
    return assess(app, world)


def risk_tab(client, vendor_id: int):
    response = client.get(f"/inventory/vendors/{vendor_id}/risk")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def hidden(response, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', response.get_data(True))
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


def table_lines(response, table_id: str) -> tuple[list[tuple], tuple]:
    """The rows of a part's table, each (text, number, ...), one number per figure column,
    None for "—"; and the figures of its footer row (the total first)."""
    page = response.get_data(as_text=True)
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert table, f"no table {table_id}"
    body, _, foot = table.group(1).partition("<tfoot>")

    def number(cell: str) -> float | None:
        return None if cell == "—" else float(cell)

    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S):
        [text] = re.findall(r"<td>(.*?)</td>", row, re.S)
        cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
        rows.append((html.unescape(text), *(number(c) for c in cells)))
    footer = tuple(float(n) for n in re.findall(r'<td class="num">(?:<strong>)?(-?[\d.]+)', foot))
    return rows, footer


def table_points(response, table_id: str) -> tuple[list[float], float]:
    """The points of a part's contributors (its first figure column), and the total written
    under them."""
    rows, footer = table_lines(response, table_id)
    return [row[1] for row in rows if row[1] is not None], footer[0]


def reasons_shown(response) -> list[tuple[str, float, float]]:
    """ "What drives it": each reason's text, its residual points and its points in its part."""
    page = response.get_data(as_text=True)
    listed = re.search(r'<ol id="reasons">(.*?)</ol>', page, re.S)
    assert listed, "no reasons"
    found = re.findall(
        r"<li>(.*?) <span class=\"muted\">\((-?[\d.]+) points of the residual score, weighted "
        r"share; (-?[\d.]+) points of [^)]*\)</span></li>",
        listed.group(1),
        re.S,
    )
    return [(html.unescape(text), float(share), float(points)) for text, share, points in found]


def explanation_shown(response) -> dict[str, tuple[float | None, float]]:
    """ "How the score adds up": every line of the inherent, control and exposure tables, by its
    text: (its points in its part, its weighted share of the residual score)."""
    lines = {}
    for table_id in ("inherent-parts", "control-parts", "exposure-parts"):
        if f'id="{table_id}"' not in response.get_data(as_text=True):
            continue
        for text, points, share in table_lines(response, table_id)[0]:
            assert text not in lines, f"{text!r} twice"
            lines[text] = (points, share)
    return lines


def words(response) -> str:
    """The page's text as a person reads it: tags dropped, entities decoded, spaces folded."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(page).split())


def list_row(response, name: str) -> str:
    """The words of the list's row that names ``name``."""
    rows = re.findall(r"<tr>(.*?)</tr>", response.get_data(as_text=True), re.S)
    [row] = [r for r in rows if f">{name}<" in r]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())


def flashed(response, kind: str = "error") -> str:
    found = re.findall(rf'class="flash flash-{kind}"[^>]*>([^<]*)<', response.get_data(True))
    return " ".join(html.unescape(m) for m in found)


def rating_of(app, vendor_id: int) -> VendorRating:
    return get(app, VendorRating, vendor_id)


def override(client, vendor_id: int, tier: str, reason: str = REASON):
    return client.post(
        f"/inventory/vendors/{vendor_id}/risk/override",
        data={"override_tier": tier, "override_reason": reason},
    )


def decide(client, vendor_id: int, decision: str = "approved", page=None, **fields):
    page = page or risk_tab(client, vendor_id)
    data = {
        "decision": decision,
        "rationale": "Controls verified in the SOC 2 report.",
        "conditions": "",
        "score_id": hidden(page, "score_id"),
        "tier": hidden(page, "tier"),
    } | fields
    return client.post(f"/inventory/vendors/{vendor_id}/risk/decision", data=data)


# ---- the Risk tab ----------------------------------------------------------------------------


def test_the_risk_tab_explains_the_rating_with_contributors_that_add_up(
    app, client, world, assessed
):
    login_as(client, world["officer"])
    page = risk_tab(client, world["keystone"])
    rating = rating_of(app, world["keystone"])
    shown = words(page)

    assert f"{rating.residual_score:.2f} of 100" in shown
    for table_id in ("residual-parts", "inherent-parts", "control-parts", "exposure-parts"):
        rows, total = table_points(page, table_id)
        assert rows and round(sum(rows), 2) == total, table_id
    assert table_points(page, "residual-parts")[1] == rating.residual_score
    assert table_points(page, "control-parts")[1] == rating.control_score
    assert table_points(page, "exposure-parts")[1] == rating.exposure_score
    # The weighted shares of every line add up to the residual score, part by part.
    parts = {row[0]: row[1] for row in table_lines(page, "residual-parts")[0]}
    shares = 0.0
    for table_id, part in (
        ("inherent-parts", "inherent risk"),
        ("control-parts", "control score"),
        ("exposure-parts", "exposure"),
    ):
        rows, (_, share) = table_lines(page, table_id)
        assert round(sum(row[2] for row in rows), 2) == share
        assert [v for k, v in parts.items() if k.startswith(part)] == [share], table_id
        shares += share
    assert round(shares, 2) == rating.residual_score
    # The critical question answered "a password only" caps the controls and floors the tier.
    assert rating.residual_tier in {"high", "critical"}
    link = f'href="/review/{assessed}#q-mfa"'
    assert link in page.get_data(as_text=True)
    assert "How do your staff prove who they are when they sign in?" in shown
    assert "failing answer" in shown
    assert f"parameters version {rating.parameters_version}" in shown
    assert "What drives it" in shown
    # The history, newest first: the score recorded at the submission is there.
    assert "submitted" in shown
    assert "No decision yet." in shown

    # Procurement reads the same, without the forms, nor links into the review pages.
    login_as(client, world["procurement"])
    page = risk_tab(client, world["keystone"])
    assert f"{rating.residual_score:.2f} of 100" in words(page)
    assert link not in page.get_data(as_text=True)
    page = words(page)
    assert "Override the tier" not in page and "Record the decision" not in page


def test_what_drives_it_and_how_the_score_adds_up_agree_line_by_line(app, client, world, assessed):
    login_as(client, world["officer"])
    page = risk_tab(client, world["keystone"])
    reasons = reasons_shown(page)
    explained = explanation_shown(page)
    assert len(reasons) == 5
    assert len({text for text, _, _ in reasons}) == len(reasons)  # no reason twice
    for text, share, points in reasons:
        assert explained[text] == (points, share), text
    # The biggest: what adds the most to the residual score, in residual points.
    assert [share for _, share, _ in reasons] == sorted(
        (share for _, share in explained.values()), reverse=True
    )[:5]


def test_a_critical_vendor_with_nothing_recorded_is_incomplete_not_low(
    app, client, world, make_vendor
):
    login_as(client, world["officer"])
    blank = make_vendor("Blank Critical", criticality=Criticality.critical)
    update_portfolio(app)  # the job after the change: the tab never computes it
    page = risk_tab(client, blank)
    shown = words(page)

    # 0.6 x (30 data + 15 records + 30 access, each at its worst, + 15 critical + 3.5
    # moderate): 56.10, high; version 1 rated it 11.10, low.
    assert "Residual risk (computed) 56.10 of 100 high incomplete" in shown
    missing = shown.split("Incomplete rating")[1].split("Each counts at its worst value")[0]
    assert missing.split("Neither the inventory nor the intake says:")[1].strip() == (
        "the data it holds how many records it holds the access its credentials give"
    )
    explained = explanation_shown(page)
    assert explained["most sensitive data held: not known, counted as critical"] == (30, 18)
    assert explained["records held: not known, counted as more than 1,000,000"] == (15, 9)
    assert explained[
        "strongest access held: not known, counted as admin access into production"
    ] == (30, 18)
    rating = rating_of(app, blank)
    assert (rating.residual_score, rating.residual_tier) == (56.1, "high")
    assert rating.missing == "data records access"

    listed = client.get("/inventory/vendors?rating=incomplete")
    assert list_row(listed, "Blank Critical").endswith(
        "critical critical high incomplete missing: the data it holds; how many records it "
        "holds; the access its credentials give 0 / 0 0 0"
    )
    assert "Keystone Identity" not in words(listed)  # its data and credentials are recorded

    # Recorded, the facts are known: the rating is complete and the filter leaves it out.
    [category] = add(app, DataCategory(name="Contracts", sensitivity=Sensitivity.low))
    add(
        app,
        VendorData(vendor_id=blank, data_category_id=category, records=800),
        Credential(
            name="blank-reader",
            kind=CredentialKind.api_token,
            holder_vendor_id=blank,
            system_id=world["system"],
            privilege=Privilege.read,
        ),
    )
    update_portfolio(app)
    shown = words(risk_tab(client, blank))
    assert "Incomplete rating" not in shown and "incomplete" not in shown.split("Computed")[0]
    assert rating_of(app, blank).missing == ""
    assert "Blank Critical" not in words(client.get("/inventory/vendors?rating=incomplete"))


def test_submitted_answers_are_provisional_until_a_risk_officer_accepts_them(app, client, world):
    login_as(client, world["officer"])
    settled = rating_of(app, world["keystone"])
    request_id = assess(app, world, mfa="keys", accept=False)

    current = rating_of(app, world["keystone"])
    assert current.residual_score == settled.residual_score  # the rating that counts
    assert current.control_score is None
    assert current.provisional_score < settled.residual_score
    page = risk_tab(client, world["keystone"])
    shown = words(page)
    assert f"Residual risk (computed) {settled.residual_score:.2f} of 100" in shown
    provisional = shown.split("Provisional: not counted yet")[1]
    assert f"request {request_id}" in provisional
    assert f"would be {current.provisional_score:.2f} of 100 {current.provisional_tier}" in (
        provisional
    )
    assert f'href="/review/{request_id}"' in page.get_data(as_text=True)
    assert "Control score: none yet" in shown
    listed = words(client.get("/inventory/vendors?rating=provisional"))
    assert f"provisional: {current.provisional_tier} once answers awaiting review" in listed
    assert "Harbor Payroll" not in listed

    # Returned for clarification: still not reviewed, still provisional.
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        review.write_note(
            db.session,
            request,
            "har",
            clarification="Within what time are the files cleaned?",
            internal_note="",
            expected_stamp=None,
            actor=actor_of(world["officer"]),
        )
        review.return_for_clarification(
            db.session, request, expected_version=None, actor=actor_of(world["officer"])
        )
        db.session.commit()
    returned = rating_of(app, world["keystone"])
    assert returned.residual_score == settled.residual_score
    assert returned.provisional_score == current.provisional_score
    assert "Provisional: not counted yet" in words(risk_tab(client, world["keystone"]))

    # Resubmitted and accepted: the answers count.
    contact = actor_of(world["contact_keystone"])
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        assert answers_service.submit(db.session, request, actor=contact)
        review.accept(db.session, request, expected_version=None, actor=actor_of(world["officer"]))
        db.session.commit()
    accepted = rating_of(app, world["keystone"])
    assert accepted.residual_score == current.provisional_score
    assert accepted.provisional_score is None
    assert "Provisional: not counted yet" not in words(risk_tab(client, world["keystone"]))


def test_a_rating_stored_by_version_1_is_still_explained_by_its_own_figures(
    app, client, world, make_vendor
):
    # A database upgraded while its aggregates are fresh: the ratings of version 1 stand
    # until the aggregates are computed again, and their snapshots stay as they were.
    login_as(client, world["officer"])
    old = {
        "parameters_version": 1,
        "profile": {
            "criticality": "critical",
            "substitutability": "moderate",
            "max_sensitivity": 0,
            "records": 0,
            "access": [],
            "declared": {},
        },
        "control": None,
        "exposure": {
            "systems_despite_controls": 0,
            "systems_if_controls_fail": 0,
            "categories_despite_controls": 0,
            "max_sensitivity": 0,
        },
    }
    with app.app_context():
        score = VendorScore(
            vendor_id=world["harbor"],
            trigger=ScoreTrigger.rescore,
            parameters_version=1,
            inherent_score=18.5,
            inherent_tier="low",
            exposure_score=0,
            residual_score=11.1,
            residual_tier="low",
            inputs=old,
        )
        db.session.add(score)
        db.session.flush()
        db.session.execute(
            sa.update(VendorRating)
            .where(VendorRating.vendor_id == world["harbor"])
            .values(score_id=score.id, parameters_version=1, residual_score=11.1)
        )
        state = portfolio.freshness(db.session)
        db.session.execute(
            sa.text("UPDATE portfolio_state SET computed_version = :v, computed_at = :t"),
            {"v": state.inventory_version, "t": utcnow()},
        )
        db.session.commit()
    page = risk_tab(client, world["harbor"])
    shown = words(page)
    assert "Residual risk (computed) 11.10 of 100 low" in shown
    assert "parameters version 1" in shown and "Incomplete rating" not in shown
    assert explanation_shown(page)["business criticality: critical"] == (15, 9)


SUPPORT_QUESTIONNAIRE = """
format: 1
id: support-review
title: Support desk
version: 1
audience: vendor
sections:
  - id: access
    title: Support access
    questions:
      - id: tokens
        type: yes_no
        text: Are customer session tokens deleted from tickets within a day?
        critical: true
"""


def test_each_failing_critical_answer_links_to_its_own_request(app, client, world, assessed):
    with app.test_request_context():
        parsed = loader.parse(SUPPORT_QUESTIONNAIRE, "support.yaml").questionnaire
        version = questionnaires.store_version(
            db.session, parsed, source="support.yaml", actor=Actor.system("test")
        ).version.id
        contact = actor_of(world["contact_keystone"])
        request = requests.create_request(
            db.session,
            vendor_id=world["keystone"],
            version_id=version,
            due_on=utcnow().date() + timedelta(days=14),
            contact_emails=[contact.label],
            actor=actor_of(world["procurement"]),
        )
        answers_service.save_answer(
            db.session,
            request,
            "tokens",
            value="no",
            comment=None,
            base_version=None,
            actor=contact,
        )
        assert answers_service.submit(db.session, request, actor=contact)
        review.accept(db.session, request, expected_version=None, actor=actor_of(world["officer"]))
        db.session.commit()
        support = request.id
    login_as(client, world["officer"])
    page = risk_tab(client, world["keystone"]).get_data(as_text=True)
    assert f'href="/review/{assessed}#q-mfa"' in page
    assert f'href="/review/{support}#q-tokens"' in page
    assert "(Support access; failing answer)" in words(risk_tab(client, world["keystone"]))


def test_a_vendor_not_scored_yet_says_why_and_how_it_comes(app, client, world, make_vendor):
    login_as(client, world["procurement"])
    vendor_id = make_vendor("Newcomer")
    with app.app_context():  # as if the aggregates were computed just before it was added
        state = portfolio.freshness(db.session)
        db.session.execute(
            sa.text("UPDATE portfolio_state SET computed_version = :v, computed_at = :t"),
            {"v": state.inventory_version, "t": utcnow()},
        )
        db.session.commit()
    page = words(risk_tab(client, vendor_id))
    assert "No rating yet" in page
    assert "portfolio's aggregates" in page and "flask --app app rescore" in page


def test_the_update_after_a_vendor_is_added_scores_it(app, client, world, make_vendor):
    login_as(client, world["procurement"])
    vendor_id = make_vendor("Newcomer")
    update_portfolio(app)  # the job after the change: the tab never computes it
    page = words(risk_tab(client, vendor_id))
    assert "No rating yet" not in page
    assert rating_of(app, vendor_id) is not None
    assert "Control score: none yet" in page


def test_the_vendor_list_shows_the_residual_tier_and_marks_an_override(
    app, client, world, assessed
):
    login_as(client, world["officer"])
    computed = rating_of(app, world["keystone"]).residual_tier
    assert override(client, world["keystone"], "low").status_code == 302
    page = words(client.get("/inventory/vendors"))
    assert f"overridden; computed {computed}" in page


# ---- the override ----------------------------------------------------------------------------


def test_an_override_is_shown_beside_the_computed_rating_and_audited(app, client, world, assessed):
    login_as(client, world["officer"])
    computed = rating_of(app, world["keystone"]).residual_tier
    response = override(client, world["keystone"], "critical")
    assert response.status_code == 302

    page = words(client.get(response.headers["Location"]))
    assert "Tier overridden to critical" in page
    assert re.search(rf"Residual risk \(computed\) [\d.]+ of 100 {computed}", page)
    assert f"critical set by {world['officer'].email.split('@')[0].title()}" in page
    assert REASON in page
    stored = rating_of(app, world["keystone"])
    assert (stored.override_tier, stored.residual_tier) == ("critical", computed)
    [event] = events(app, "rating.overridden")
    assert event.details == {
        "from": computed,
        "to": "critical",
        "computed": computed,
        "reason": REASON,
    }
    assert event.actor == world["officer"].email


def test_a_rescore_keeps_the_override_while_the_computed_tier_moves(app, client, world, assessed):
    login_as(client, world["officer"])
    assert override(client, world["keystone"], "low").status_code == 302
    before = rating_of(app, world["keystone"])
    # Its credential now gives admin access into production: the computed rating changes.
    with app.app_context():
        db.session.execute(
            sa.update(Credential)
            .where(Credential.holder_vendor_id == world["keystone"])
            .values(privilege=Privilege.admin)
        )
        portfolio.refresh(db.session)
        scoring.rescore(db.session, [world["keystone"]], trigger=ScoreTrigger.rescore)
        db.session.commit()
    after = rating_of(app, world["keystone"])

    assert after.score_id != before.score_id
    assert after.residual_score != before.residual_score
    assert (after.override_tier, after.override_reason) == ("low", REASON)
    assert after.override_by_id == world["officer"].id
    page = words(risk_tab(client, world["keystone"]))
    assert f"{after.residual_score:.2f} of 100 {after.residual_tier}" in page
    assert "Override low set by" in page


def test_clearing_the_override_returns_to_the_computed_tier(app, client, world, assessed):
    login_as(client, world["officer"])
    override(client, world["keystone"], "critical")
    response = client.post(f"/inventory/vendors/{world['keystone']}/risk/override/clear")
    assert response.status_code == 302
    stored = rating_of(app, world["keystone"])
    assert stored.override_tier is None and stored.override_reason == ""
    page = words(client.get(response.headers["Location"]))
    assert "Override cleared" in page and "as computed" in page
    [event] = events(app, "rating.override_cleared")
    assert event.details == {"from": "critical", "to": stored.residual_tier, "reason": REASON}

    again = client.post(f"/inventory/vendors/{world['keystone']}/risk/override/clear")
    assert again.status_code == 409
    assert "not overridden" in flashed(again)


@pytest.mark.parametrize(
    ("tier", "reason", "field", "message"),
    [
        ("", REASON, "override_tier", "Choose the tier"),
        ("critical", "too short", "override_reason", "at least 10 characters"),
        ("critical", "key AKIAIOSFODNN7EXAMPLE pasted", "override_reason", "never"),
        ("extreme", REASON, "override_tier", "Choose one of the listed options"),
    ],
)
def test_an_override_needs_a_tier_and_a_reason_that_is_no_secret(
    app, client, world, assessed, tier, reason, field, message
):
    login_as(client, world["officer"])
    response = override(client, world["keystone"], tier, reason)
    assert response.status_code == 400
    error = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(True))
    assert error and message in html.unescape(error.group(1))
    assert rating_of(app, world["keystone"]).override_tier is None
    assert events(app, "rating.overridden") == []


# ---- the decision ----------------------------------------------------------------------------


def test_a_decision_sets_the_next_review_by_the_cadence_of_each_tier(app, client, world, assessed):
    login_as(client, world["officer"])
    cadence = app.config["REASSESSMENT_MONTHS"]
    today = utcnow().date()
    for tier in ("critical", "high", "medium", "low"):
        assert override(client, world["keystone"], tier).status_code == 302
        response = decide(client, world["keystone"])
        assert response.status_code == 302, flashed(client.get(response.headers["Location"]))
        expected = add_months(today, cadence[tier])
        assert get(app, Vendor, world["keystone"]).next_review == expected
        page = words(client.get(response.headers["Location"]))
        assert f"Next review on {expected.isoformat()} ({tier} tier)" in page
    # Without an override, the computed tier's cadence.
    client.post(f"/inventory/vendors/{world['keystone']}/risk/override/clear")
    computed = rating_of(app, world["keystone"]).residual_tier
    assert decide(client, world["keystone"]).status_code == 302
    assert get(app, Vendor, world["keystone"]).next_review == add_months(today, cadence[computed])
    with app.app_context():
        tiers = db.session.scalars(
            sa.select(AssessmentDecision.tier).order_by(AssessmentDecision.id)
        ).all()
    assert tiers == ["critical", "high", "medium", "low", computed]


def test_a_decision_records_what_it_was_taken_on_audits_and_adds_a_snapshot(
    app, client, world, assessed
):
    login_as(client, world["officer"])
    before = rating_of(app, world["keystone"])
    vendor_version = get(app, Vendor, world["keystone"]).version
    response = decide(
        client,
        world["keystone"],
        "approved_with_conditions",
        conditions="Security keys for every administrator by 1 March.",
    )
    assert response.status_code == 302

    [decision] = _decisions(app)
    assert decision.decision == "approved_with_conditions"
    assert (decision.request_id, decision.score_id) == (assessed, before.score_id)
    assert decision.tier == before.residual_tier
    assert decision.decided_by_id == world["officer"].id
    vendor = get(app, Vendor, world["keystone"])
    assert vendor.next_review == decision.next_review
    assert vendor.version == vendor_version + 1  # an edit form opened before now conflicts
    [event] = events(app, "assessment.decided")
    assert event.details["decision"] == "approved_with_conditions"
    assert event.details["next_review"] == decision.next_review.isoformat()
    assert count(app, VendorScore, VendorScore.trigger == ScoreTrigger.decision) == 1
    assert rating_of(app, world["keystone"]).score_id != before.score_id
    page = words(client.get(response.headers["Location"]))
    assert "Security keys for every administrator by 1 March." in page
    assert "approved with conditions" in page
    tab = risk_tab(client, world["keystone"]).get_data(as_text=True)
    assert "<td>decision</td>" in tab.partition('id="history"')[2]  # the snapshot, by trigger


def _decisions(app) -> list[AssessmentDecision]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AssessmentDecision)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


@pytest.mark.parametrize(
    ("decision", "fields", "field", "message"),
    [
        ("approved", {"rationale": "  "}, "rationale", "Write the rationale"),
        ("approved_with_conditions", {}, "conditions", "List the conditions"),
        ("rejected", {"conditions": "Fix MFA."}, "conditions", "approved with conditions"),
        ("", {}, "decision", "Choose the decision"),
        ("approved", {"rationale": "token ghp_" + "a1B2c3D4" * 5}, "rationale", "never"),
    ],
)
def test_a_decision_needs_a_rationale_and_conditions_exactly_when_approved_with_them(
    app, client, world, assessed, decision, fields, field, message
):
    login_as(client, world["officer"])
    response = decide(client, world["keystone"], decision, **fields)
    assert response.status_code == 400
    error = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(True))
    assert error and message in html.unescape(error.group(1))
    assert _decisions(app) == [] and events(app, "assessment.decided") == []
    assert get(app, Vendor, world["keystone"]).next_review is None


def test_a_decision_on_a_rating_changed_meanwhile_is_refused(app, client, world, assessed):
    login_as(client, world["officer"])
    page = risk_tab(client, world["keystone"])
    override(client, world["keystone"], "critical")  # a colleague, in another tab
    response = decide(client, world["keystone"], page=page)
    assert response.status_code == 409
    assert "The rating changed after you opened this page" in flashed(response)
    assert _decisions(app) == []
    # The page shown with the refusal carries the current rating: deciding again works.
    assert decide(client, world["keystone"], page=response).status_code == 302


def test_procurement_reads_the_tab_but_may_neither_override_nor_decide(
    app, client, world, assessed
):
    login_as(client, world["officer"])
    page = risk_tab(client, world["keystone"])
    login_as(client, world["procurement"])
    vendor_id = world["keystone"]
    assert override(client, vendor_id, "low").status_code == 403
    assert client.post(f"/inventory/vendors/{vendor_id}/risk/override/clear").status_code == 403
    assert decide(client, vendor_id, page=page).status_code == 403
    assert rating_of(app, vendor_id).override_tier is None and _decisions(app) == []
    assert len(events(app, "access.denied")) == 3


def test_vendor_contacts_reach_none_of_these_pages(app, client, world, assessed):
    login_as(client, world["contact_keystone"])
    own = world["keystone"]
    for method, path in [
        ("GET", f"/inventory/vendors/{own}/risk"),
        ("POST", f"/inventory/vendors/{own}/risk/override"),
        ("POST", f"/inventory/vendors/{own}/risk/override/clear"),
        ("POST", f"/inventory/vendors/{own}/risk/decision"),
        ("GET", "/requests/reassessments"),
        ("POST", "/requests/reassessments"),
    ]:
        data = {"override_tier": "low", "override_reason": REASON, "only": str(own)}
        response = client.open(path, method=method, data=data)
        assert response.status_code in {403, 404}, (method, path)
        assert REASON not in response.get_data(as_text=True)
    assert rating_of(app, own).override_tier is None
    assert count(app, QuestionnaireRequest) == 1


# ---- months --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
        (date(2026, 11, 30), 36, date(2029, 11, 30)),
        (date(2026, 5, 31), 24, date(2028, 5, 31)),
    ],
)
def test_months_are_calendar_months_with_the_day_clamped(day, months, expected):
    assert add_months(day, months) == expected


@given(day=st.dates(max_value=date(9000, 1, 1)), months=st.integers(0, 1200))
def test_adding_months_lands_in_the_right_month_never_later_in_it(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    if result.day != day.day:  # clamped: the month is shorter than the day
        assert result.day == calendar.monthrange(result.year, result.month)[1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("6", "expected a JSON object"),
        ("{oops", "expected a JSON object"),
        ('{"severe": 6}', "unknown keys"),
        ('{"high": 0}', "high: expected a whole number of months from 1 to 120"),
        ('{"low": "36"}', "low: expected a whole number"),
        ('{"low": true}', "low: expected a whole number"),
    ],
)
def test_a_bad_reassessment_cadence_stops_the_app_with_its_name(
    tmp_path, monkeypatch, value, message
):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_REASSESSMENT_MONTHS", value)
    with pytest.raises(RuntimeError, match=f"VR_REASSESSMENT_MONTHS: {message}"):
        create_app(instance_path=str(tmp_path))


def test_the_cadence_from_the_environment_changes_the_tiers_it_names(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_REASSESSMENT_MONTHS", '{"critical": 3}')
    app = create_app(instance_path=str(tmp_path))
    assert app.config["REASSESSMENT_MONTHS"] == {"critical": 3, "high": 12, "medium": 24, "low": 36}


# ---- reassessments -------------------------------------------------------------------------


def set_next_review(app, vendor_id: int, day: date | None, **fields) -> None:
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        vendor.next_review = day
        for name, value in fields.items():
            setattr(vendor, name, value)
        db.session.commit()


def test_the_reassessments_page_lists_vendors_due_with_tier_decision_and_requests(
    app, client, world, assessed, make_vendor
):
    login_as(client, world["officer"])
    decide(client, world["keystone"], "rejected", rationale="MFA by password only.")
    today = utcnow().date()
    set_next_review(app, world["keystone"], today - timedelta(days=3))
    set_next_review(app, world["harbor"], today + timedelta(days=60))
    make_vendor("Gone Ltd", status=VendorStatus.offboarded, next_review=today - timedelta(days=9))

    listed = client.get("/requests/reassessments")
    assert listed.status_code == 200
    page = words(listed)
    assert "Keystone Identity" in page and "overdue" in page
    assert "rejected" in page
    assert "Access and people" in page and f'href="/requests/{assessed}"' in listed.get_data(True)
    assert "Harbor Payroll" not in page and "Gone Ltd" not in page
    assert "1 vendor due" in page

    wider = words(client.get("/requests/reassessments?within=90"))
    assert "Harbor Payroll" in wider and "none accepted yet" in wider
    assert client.get("/requests/reassessments?within=-1").status_code == 400
    assert 'href="/requests/reassessments"' in client.get("/requests/").get_data(True)


def test_sending_reassessments_in_one_step_prefills_and_invites(app, client, world, smtp_server):
    keystone_request = assess(app, world, "keystone", mfa="app-codes")
    harbor_request = assess(app, world, "harbor", mfa="keys")
    today = utcnow().date()
    for vendor in ("keystone", "harbor"):
        set_next_review(app, world[vendor], today - timedelta(days=1))
    login_as(client, world["procurement"])
    due_on = today + timedelta(days=21)
    deliver(app)
    before = len(smtp_server.messages)

    response = client.post(
        "/requests/reassessments",
        data={"vendor_ids": [world["keystone"], world["harbor"]], "due_on": due_on.isoformat()},
    )
    assert response.status_code == 302
    page = words(client.get(response.headers["Location"]))
    assert "Keystone Identity: Access and people sent" in page
    assert "Harbor Payroll: Access and people sent" in page
    deliver(app)

    for vendor, previous in (("keystone", keystone_request), ("harbor", harbor_request)):
        with app.app_context():
            new = db.session.scalars(
                sa.select(QuestionnaireRequest).where(
                    QuestionnaireRequest.vendor_id == world[vendor],
                    QuestionnaireRequest.id != previous,
                )
            ).one()
            carried = db.session.scalars(
                sa.select(Answer.question_id).where(
                    Answer.request_id == new.id, Answer.carried_over.is_(True)
                )
            ).all()
            assert (new.status, new.due_on, new.previous_id) == (
                RequestStatus.sent,
                due_on,
                previous,
            )
            assert sorted(carried) == ["har", "mfa", "sso"]
        [message] = smtp_server.to(world[f"contact_{vendor}"].email)[-1:]
        assert message["Subject"].startswith("Security questionnaire for")
    assert len(smtp_server.messages) == before + 2

    # The portal shows the vendor its answers carried over.
    login_as(client, world["contact_keystone"])
    with app.app_context():
        new_id = db.session.scalar(
            sa.select(sa.func.max(QuestionnaireRequest.id)).where(
                QuestionnaireRequest.vendor_id == world["keystone"]
            )
        )
    assert "carried over" in words(client.get(f"/portal/requests/{new_id}")).lower()


def test_a_reassessment_is_refused_per_vendor_with_the_reason(
    app, client, world, smtp_server, make_vendor
):
    keystone_request = assess(app, world, "keystone")
    assess(app, world, "harbor")
    send_request(app, world, "harbor")  # Harbor has one open already
    newcomer = make_vendor("Newcomer", status=VendorStatus.active)
    with app.app_context():  # Keystone's only contact was a wrong address, revoked
        db.session.execute(
            sa.update(Invite)
            .where(Invite.request_id == keystone_request)
            .values(revoked_at=utcnow())
        )
        db.session.commit()
    login_as(client, world["officer"])
    requests_before = count(app, QuestionnaireRequest)
    deliver(app)
    before = len(smtp_server.messages)
    due_on = (utcnow().date() + timedelta(days=30)).isoformat()

    response = client.post(
        "/requests/reassessments",
        data={"vendor_ids": [world["keystone"], world["harbor"], newcomer], "due_on": due_on},
    )
    assert response.status_code == 302
    page = words(client.get(response.headers["Location"]))
    assert "Keystone Identity: not sent. Access and people: its last request" in page
    assert "no contact left to send to" in page
    assert "Harbor Payroll: not sent. Access and people: request" in page
    assert "is still open" in page
    assert "Newcomer: not sent. No questionnaire of it was accepted yet" in page
    assert count(app, QuestionnaireRequest) == requests_before
    deliver(app)
    assert len(smtp_server.messages) == before


def test_one_vendors_button_sends_only_its_reassessment(app, client, world, smtp_server):
    assess(app, world, "keystone")
    assess(app, world, "harbor")
    login_as(client, world["officer"])
    requests_before = count(app, QuestionnaireRequest)
    response = client.post(
        "/requests/reassessments",
        data={
            "vendor_ids": [world["keystone"], world["harbor"]],
            "only": world["harbor"],
            "due_on": (utcnow().date() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert count(app, QuestionnaireRequest) == requests_before + 1
    assert count(app, QuestionnaireRequest, QuestionnaireRequest.vendor_id == world["harbor"]) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"due_on": "2999-01-01"}, "Tick at least one vendor"),
        ({"vendor_ids": "1", "due_on": "2000-01-01"}, "cannot be in the past"),
        ({"vendor_ids": "1", "due_on": ""}, "Give the vendors a due date"),
        ({"vendor_ids": [str(n) for n in range(60)], "due_on": "2999-01-01"}, "at most 50"),
    ],
)
def test_the_send_form_is_refused_whole_when_it_cannot_be_read(app, client, world, data, message):
    set_next_review(app, world["keystone"], utcnow().date())
    login_as(client, world["officer"])
    requests_before = count(app, QuestionnaireRequest)
    response = client.post("/requests/reassessments", data=data)
    assert response.status_code == 400
    assert message in words(response)
    assert count(app, QuestionnaireRequest) == requests_before


# ---- hostile input -------------------------------------------------------------------------

fuzz = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
hostile = st.text(max_size=200) | st.sampled_from([*MARKUP, "\x00", "' OR 1=1 --", "9" * 40])


def _escaped(client, response, path: str) -> None:
    assert response.status_code < 500
    page = client.get(path).get_data(as_text=True) if response.status_code == 302 else ""
    page += response.get_data(as_text=True)
    for markup in MARKUP:
        assert markup not in page


@fuzz
@given(tier=hostile | st.sampled_from(["low", "critical"]), reason=hostile)
def test_hostile_overrides_never_fail_and_are_escaped(app, client, world, tier, reason):
    login_as(client, world["officer"])
    path = f"/inventory/vendors/{world['keystone']}/risk"
    response = client.post(
        f"{path}/override", data={"override_tier": tier, "override_reason": "Because " + reason}
    )
    _escaped(client, response, path)


@fuzz
@given(
    decision=hostile | st.sampled_from(["approved", "approved_with_conditions", "rejected"]),
    rationale=hostile,
    conditions=hostile,
    score_id=hostile,
    tier=hostile,
)
def test_hostile_decisions_never_fail_and_are_escaped(
    app, client, world, decision, rationale, conditions, score_id, tier
):
    login_as(client, world["officer"])
    path = f"/inventory/vendors/{world['keystone']}/risk"
    fields = {"rationale": rationale, "conditions": conditions}
    page = risk_tab(client, world["keystone"])
    for stamp in ({"score_id": score_id, "tier": tier}, {}):  # tampered, then as shown
        response = decide(client, world["keystone"], decision, page=page, **fields, **stamp)
        _escaped(client, response, path)


@fuzz
@given(
    vendor_ids=st.lists(hostile, max_size=3),
    only=hostile,
    due_on=hostile | st.dates().map(date.isoformat),
    within=hostile,
    page=hostile,
)
def test_hostile_reassessment_forms_never_fail(
    app, client, world, vendor_ids, only, due_on, within, page
):
    login_as(client, world["procurement"])
    listed = client.get("/requests/reassessments", query_string={"within": within, "page": page})
    assert listed.status_code < 500
    response = client.post(
        "/requests/reassessments",
        data={"vendor_ids": vendor_ids, "only": only, "due_on": due_on, "within": within},
    )
    _escaped(client, response, "/requests/reassessments")
