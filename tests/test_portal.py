"""The vendor portal and the intake, as their users meet them: the list of requests, the form
(with and without JavaScript), autosave and its conflicts, show-if on the server, submitting,
read-only after submission, clarifications, what vendors never see, invitations, and a session
that ends while the form is open."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from browser import serving
from conftest import count, events, login_as, text, totp_code
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_answers import (
    INTAKE,
    World,
    make_request,
    request_row,
    save,
    set_status,
    store,
    stored,
)
from test_answers import world as world
from test_evidence import PDF, upload

from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    Answer,
    Evidence,
    Invite,
    OutboxMessage,
    QuestionnaireRequest,
    RequestStatus,
    Role,
    Vendor,
)
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import answers as answers_service
from vendor_risk.services.questionnaires import library as questionnaires_service


def page_of(client, world: World, request_id: int | None = None):
    return client.get(f"/portal/requests/{request_id or world.request_a}")


def autosave(client, world: World, question_id: str, value, *, base=0, comment=None, **kw):
    request_id = kw.pop("request_id", world.request_a)
    return client.post(
        f"/portal/requests/{request_id}/answers/{question_id}",
        json={"value": value, "comment": comment, "base_version": base},
        **kw,
    )


def shown_questions(response) -> list[str]:
    """The questions the page shows (not hidden by their show-if), in order."""
    page = response.get_data(as_text=True)
    return [
        m.group(1)
        for m in re.finditer(r'<fieldset class="question[^"]*" id="q-([^"]+)"([^>]*)>', page)
        if " hidden" not in m.group(2)
    ]


def set_answer_fields(app, request_id: int, question_id: str, **fields) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Answer)
            .where(Answer.request_id == request_id, Answer.question_id == question_id)
            .values(**fields)
        )
        db.session.commit()


# ---- the list of requests ------------------------------------------------------------------


def test_home_lists_the_vendors_requests_with_due_date_status_and_progress(
    world, client, make_user
):
    late = make_request(
        world.app, world.vendor_a, world.version_id, due_on=date.today() - timedelta(days=2)
    )
    with world.app.app_context():  # as the sending does when it creates a request
        answers_service.prefill_from_previous(
            db.session, db.session.get(QuestionnaireRequest, late)
        )
        db.session.commit()
    make_request(world.app, world.vendor_a, world.version_id, status=RequestStatus.draft)
    make_request(world.app, world.vendor_a, store(world.app, INTAKE))  # internal: staff only
    save(world, world.contact_a, "sso", "no")

    login_as(client, world.contact_a)
    response = client.get("/portal/")
    page = text(response)

    assert response.status_code == 200
    rows = re.findall(r'href="/portal/requests/(\d+)"', response.get_data(as_text=True))
    assert rows == [str(late), str(world.request_a)]  # soonest due first; no draft, no intake
    assert page.count("Supplier security check") == 4  # two rows, each title and link text
    assert "overdue" in page
    assert (date.today() + timedelta(9)).isoformat() in page
    assert "in progress" in page and "sent" in page
    assert "1 of 8 answered" in page and "0 of 8 answered" in page
    assert "Intake test" not in page
    # Another vendor's contact sees none of them.
    login_as(client, world.contact_b)
    assert re.findall(r'href="/portal/requests/(\d+)"', client.get("/portal/").get_data(True)) == [
        str(world.request_b)
    ]


# ---- vendor isolation ----------------------------------------------------------------------


def test_a_contact_of_another_vendor_gets_404_for_everything_of_the_request(world, client):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "a.pdf")
    save(world, world.contact_a, "sso", "yes", comment="A's secret plan")
    login_as(client, world.contact_b)
    base = f"/portal/requests/{world.request_a}"

    refused = [
        client.get(base),
        client.post(f"{base}/answers/sso", json={"value": "no", "base_version": 1}),
        client.post(f"{base}/sections/access", data={"shown-sso": "1", "a-sso": "no"}),
        client.post(f"{base}/answers/mfa/files", data={}),
        client.get(f"{base}/files/{evidence_id}"),
        client.post(f"{base}/files/{evidence_id}/delete"),
        client.post(f"{base}/submit"),
    ]

    assert [r.status_code for r in refused] == [404] * len(refused)
    assert all("A's secret plan" not in r.get_data(as_text=True) for r in refused)
    assert stored(world)["sso"][:2] == ("yes", "A's secret plan")
    assert request_row(world).status is RequestStatus.in_progress


def test_staff_and_contacts_reach_only_their_side(world, client, make_user):
    intake = make_request(world.app, world.vendor_a, store(world.app, INTAKE))
    login_as(client, world.contact_a)
    assert client.get(f"/intake/{intake}").status_code == 403  # not their area
    assert client.get(f"/portal/requests/{intake}").status_code == 404  # internal
    login_as(client, make_user(Role.procurement))
    assert client.get(f"/portal/requests/{world.request_a}").status_code == 403
    assert client.get(f"/intake/{world.request_a}").status_code == 404  # sent to a vendor


# ---- the form ------------------------------------------------------------------------------


def test_the_form_shows_every_section_and_question_with_its_input(world, client):
    login_as(client, world.contact_a)
    response = page_of(client, world)
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "<h1>Supplier <b>security</b> check</h1>" in page  # the sanitised markup kept
    assert 'href="https://example.org/mfa"' in page
    assert re.findall(r'<h2 id="section-[^"]+-title">([^<]+)</h2>', page) == ["Access", "People"]
    assert shown_questions(response) == [
        "sso",
        "mfa",
        "channels",
        "staff",
        "reviewed-on",
        "anything",
        "audit-report",
        "breach",
    ]
    assert 'type="radio" name="a-sso" value="yes"' in page
    assert 'type="checkbox" name="a-channels" value="home"' in page
    assert 'type="date" name="a-reviewed-on"' in page
    assert '<textarea name="a-anything"' in page
    assert 'type="file" id="f-audit-report"' in page
    assert 'id="c-staff" name="c-staff"' in page  # a comment per answer
    assert "The next questions are about your staff." in page  # the info text
    # Six required questions, two of them hidden until sso is "yes".
    assert text(response).count("(required)") == 6
    assert "Evidence required" in page
    assert 'aria-live="polite"' in page and 'role="radiogroup"' in page
    # The script gets the show-if conditions, and no inline script or style exists.
    data = json.loads(re.search(r'id="show-if-data">(.*?)</script>', page, re.S).group(1))
    assert data["conditions"]["sso-product"] == {"question": "sso", "equals": "yes"}
    assert re.search(r"<script(?![^>]*(src=|application/json))", page) is None
    assert " style=" not in page
    assert '<script src="/static/js/autosave.js" defer></script>' in page


def test_vendors_never_see_weights_scores_critical_flags_controls_or_internal_notes(world, client):
    save(world, world.contact_a, "sso", "no")
    set_answer_fields(
        world.app, world.request_a, "sso", internal_note="Reviewer thinks they lie (internal)"
    )
    login_as(client, world.contact_a)
    pages = [page_of(client, world), client.get("/portal/")]
    set_status(world.app, world.request_a, RequestStatus.submitted, submitted_at=utcnow())
    pages.append(page_of(client, world))  # the read-only view too

    for response in pages:
        page = response.get_data(as_text=True).lower()
        for never in (
            "7.25",  # a weight
            "0.85",  # an option's score
            "score",
            "weight",
            "critical",
            "pr.aa-03",
            "a.5.17",
            "nist",
            "iso",
            "sign-in without single sign-on",  # a finding's title
            "managed one by one",  # its explanation
            "reviewer thinks they lie",
        ):
            assert never not in page, never


def test_the_page_shows_saved_answers_after_a_reload(world, client):
    login_as(client, world.contact_a)
    assert autosave(client, world, "sso", "yes").status_code == 200
    assert autosave(client, world, "sso-product", "Okta", comment="Since 2019").status_code == 200
    assert autosave(client, world, "channels", ["home", "office"]).status_code == 200
    assert autosave(client, world, "staff", "1e3").status_code == 200

    response = page_of(client, world)
    page = response.get_data(as_text=True)

    assert 'name="a-sso" value="yes" checked' in page
    assert 'name="a-sso-product" id="a-sso-product" maxlength="500" value="Okta"' in page
    assert ">Since 2019</textarea>" in page
    assert 'name="a-channels" value="office" checked' in page
    assert 'name="a-channels" value="home" checked' in page
    assert 'value="1000"' in page
    assert "sso-product" in shown_questions(response)  # asked now that sso is yes
    assert "4 of 10 answered" in text(response)


# ---- autosave ------------------------------------------------------------------------------


def test_autosave_saves_and_an_identical_save_keeps_the_version(world, client):
    login_as(client, world.contact_a)

    first = autosave(client, world, "mfa", "key", comment="YubiKeys")
    again = autosave(client, world, "mfa", "key", comment="YubiKeys", base=1)

    assert first.status_code == again.status_code == 200
    assert first.get_json() == {"status": "saved", "version": 1, "answered": 1, "asked": 8}
    assert again.get_json()["status"] == "unchanged" and again.get_json()["version"] == 1
    assert stored(world)["mfa"] == ("key", "YubiKeys", 1, False)


def test_two_contacts_editing_one_answer_the_later_writer_gets_the_current_value(world, make_app):
    ana = world.app.test_client()
    ben = world.app.test_client()
    login_as(ana, world.contact_a)
    login_as(ben, world.colleague_a)
    assert autosave(ana, world, "staff", "40").status_code == 200  # both pages show version 1

    assert (
        autosave(ben, world, "staff", "45", base=1, comment="after the merger").status_code == 200
    )
    late = autosave(ana, world, "staff", "50", base=1)

    assert late.status_code == 409
    body = late.get_json()
    assert body["status"] == "conflict"
    assert body["current"]["value"] == 45
    assert body["current"]["text"] == "45"
    assert body["current"]["comment"] == "after the merger"
    assert body["current"]["saved_by"] == "Ben"
    assert body["current"]["version"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", body["current"]["saved_at"])
    assert stored(world)["staff"][:3] == (45, "after the merger", 2)  # nothing overwritten
    # Keeping hers is a save based on the version now shown.
    kept = autosave(ana, world, "staff", "50", base=2)
    assert kept.status_code == 200 and stored(world)["staff"][0] == 50


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"value": "yes"}, 400),  # no base version
        ({"value": "yes", "base_version": "1"}, 400),
        ({"value": {"a": 1}, "base_version": 0}, 400),
        ({"value": "yes", "comment": 3, "base_version": 0}, 400),
    ],
)
def test_a_malformed_save_is_a_clear_400(world, client, payload, status):
    login_as(client, world.contact_a)
    response = client.post(f"/portal/requests/{world.request_a}/answers/sso", json=payload)
    assert response.status_code == status
    assert response.get_json()["status"] == "bad_request"
    assert (
        client.post(f"/portal/requests/{world.request_a}/answers/sso", data="not json").status_code
        == 400
    )
    assert stored(world) == {}


def test_show_if_is_enforced_on_the_server(world, client):
    login_as(client, world.contact_a)

    hidden = autosave(client, world, "sso-product", "Okta")
    unknown = autosave(client, world, "no-such-question", "x")
    invalid = autosave(client, world, "staff", "twelve")

    assert hidden.status_code == 422 and hidden.get_json()["status"] == "hidden"
    assert "not asked" in hidden.get_json()["message"]
    assert unknown.status_code == 404
    assert invalid.status_code == 422 and "Write a number" in invalid.get_json()["message"]
    assert stored(world) == {}


# ---- without JavaScript: a section at a time -----------------------------------------------


def test_a_section_saved_without_javascript(world, client):
    login_as(client, world.contact_a)
    response = client.post(
        f"/portal/requests/{world.request_a}/sections/access",
        data={
            "shown-sso": "1", "v-sso": "0", "a-sso": "yes", "c-sso": "Okta",
            # Shown by the answer above in the same post: saved too.
            "shown-sso-product": "1", "v-sso-product": "0", "a-sso-product": "Okta Workforce",
            "shown-mfa": "1", "v-mfa": "0", "a-mfa": "app",
            "shown-channels": "1", "v-channels": "0", "a-channels": ["home", "office"],
            # Not shown by the page (disabled), or shown but empty: left alone.
            "a-staff": "99",
        },
    )  # fmt: skip

    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/portal/requests/{world.request_a}#section-access"
    )
    assert {k: v[:2] for k, v in stored(world).items()} == {
        "sso": ("yes", "Okta"),
        "sso-product": ("Okta Workforce", ""),
        "mfa": ("app", ""),
        "channels": (["office", "home"], ""),
    }
    assert "Access: saved." in text(client.get(response.headers["Location"]))


def test_a_section_with_a_bad_answer_saves_nothing_and_keeps_what_was_typed(world, client):
    login_as(client, world.contact_a)
    response = client.post(
        f"/portal/requests/{world.request_a}/sections/people",
        data={
            "shown-staff": "1", "v-staff": "0", "a-staff": "about forty",
            "shown-reviewed-on": "1", "v-reviewed-on": "0", "a-reviewed-on": "2024-02-30",
            "shown-anything": "1", "v-anything": "0", "a-anything": "Typed with care",
            "c-anything": "and a comment",
        },
    )  # fmt: skip

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing in this section was saved" in page
    assert re.search(r'id="q-staff-error" role="alert">Write a number', page)
    assert re.search(r'id="q-reviewed-on-error" role="alert">Write a date like', page)
    assert 'aria-describedby="q-staff-error"' in page
    assert "Typed with care</textarea>" in page and "and a comment</textarea>" in page
    assert 'value="about forty"' in page
    assert stored(world) == {}


def test_a_section_saved_over_a_newer_answer_reports_the_conflict(world, client):
    save(world, world.colleague_a, "staff", "45")
    login_as(client, world.contact_a)

    response = client.post(
        f"/portal/requests/{world.request_a}/sections/people",
        data={
            "shown-staff": "1", "v-staff": "0", "a-staff": "50",
            "shown-anything": "1", "v-anything": "0", "a-anything": "saved anyway",
        },
    )  # fmt: skip

    assert response.status_code == 409
    page = text(response)
    assert "Ben changed this answer" in page and "it is now “45”" in page
    assert 'name="v-staff" value="1"' in response.get_data(as_text=True)  # save again: overwrite
    assert stored(world)["staff"][0] == 45
    assert stored(world)["anything"][0] == "saved anyway"


# ---- submitting ----------------------------------------------------------------------------


def test_submit_lists_every_missing_answer_with_a_link_to_it(world, client):
    login_as(client, world.contact_a)
    autosave(client, world, "sso", "yes")  # asks sso-product: now required
    autosave(client, world, "mfa", "app")  # its evidence is required

    response = client.post(f"/portal/requests/{world.request_a}/submit")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not submitted: 4 answers missing" in page
    links = re.findall(r'<li><a href="#(q-[^"]+)">([^<]+)</a>', page)
    assert links == [
        ("q-sso-product", "Which single sign-on product do you use?"),
        ("q-mfa", "How do staff prove who they are?"),
        ("q-staff", "How many staff work for you?"),
        ("q-breach", "Were you breached last year?"),
    ]
    assert "evidence to attach" in page
    assert request_row(world).status is RequestStatus.in_progress


def test_after_submission_the_form_is_read_only_until_returned(world, client):
    save(world, world.contact_a, "sso", "no")
    save(world, world.contact_a, "mfa", "key")
    upload(world, world.contact_a, "mfa", PDF, "keys.pdf")
    save(world, world.contact_a, "staff", "40")
    save(world, world.contact_a, "breach", "na", comment="No breach.")
    login_as(client, world.contact_a)

    submitted = client.post(f"/portal/requests/{world.request_a}/submit")
    assert submitted.status_code == 302
    assert "Submitted: thank you" in text(client.get(submitted.headers["Location"]))

    response = page_of(client, world)
    page = text(response)
    assert "read-only unless a reviewer returns it" in page
    assert 'name="a-' not in response.get_data(as_text=True)  # no input left
    assert "A security key" in page and "No breach." in page and "keys.pdf" in page
    refused = autosave(client, world, "staff", "41", base=1)
    assert refused.status_code == 409 and refused.get_json()["status"] == "read_only"
    assert "read-only" in refused.get_json()["message"]
    assert (
        client.post(
            f"/portal/requests/{world.request_a}/sections/people",
            data={"shown-staff": "1", "v-staff": "1", "a-staff": "41"},
        ).status_code
        == 400
    )
    assert stored(world)["staff"][0] == 40
    again = client.post(f"/portal/requests/{world.request_a}/submit")  # a second click
    assert again.status_code == 302 and request_row(world).status is RequestStatus.submitted


def test_a_returned_request_shows_the_clarifications_first(world, client):
    save(world, world.contact_a, "sso", "no")
    save(world, world.contact_a, "staff", "40")
    set_answer_fields(world.app, world.request_a, "staff", clarification="Contractors too?")
    set_status(world.app, world.request_a, RequestStatus.returned)
    login_as(client, world.contact_a)

    response = page_of(client, world)
    page = response.get_data(as_text=True)

    assert "The reviewer asks you to clarify 1 answer" in text(response)
    assert page.index('id="clarifications"') < page.index('id="section-access"')
    assert '<a href="#q-staff">How many staff work for you?</a>' in page
    assert 'class="question needs-clarification" id="q-staff"' in page
    assert "Contractors too?" in page
    assert autosave(client, world, "staff", "55", base=1).status_code == 200
    assert request_row(world).status is RequestStatus.in_progress


# ---- reassessment --------------------------------------------------------------------------


def test_answers_carried_over_are_marked_on_the_form(world, client):
    save(world, world.contact_a, "sso", "yes")
    save(world, world.contact_a, "sso-product", "Okta")
    set_status(world.app, world.request_a, RequestStatus.accepted, reviewed_at=utcnow())
    again = make_request(world.app, world.vendor_a, world.version_id)
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, again)
        assert answers_service.prefill_from_previous(db.session, req) == 2
        db.session.commit()
    login_as(client, world.contact_a)

    page = text(page_of(client, world, again))

    assert page.count("Carried over from your previous answers") == 2
    assert "2 of 10 answered" in page


# ---- a long session ------------------------------------------------------------------------


def test_an_autosave_after_the_idle_timeout_is_refused_clearly_and_saves_after_login(
    make_app, make_vendor, make_user
):
    """With CSRF on, as in production: the script's save after the session ended gets a
    redirect to the login page (what the script detects), nothing is saved; after logging in
    again the old token is refused, a fresh one from the token endpoint works."""
    app = make_app(WTF_CSRF_ENABLED=True, SESSION_IDLE_MINUTES=30)
    vendor = make_vendor("Vendor A")
    contact = make_user(Role.vendor_contact, vendor_id=vendor)
    request_id = make_request(app, vendor, store(app))
    client = app.test_client()
    login_as(client, contact)
    page = client.get(f"/portal/requests/{request_id}").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    url = f"/portal/requests/{request_id}/answers/staff"

    def send(value, csrf):
        return client.post(
            url, json={"value": value, "base_version": 0}, headers={"X-CSRFToken": csrf}
        )

    assert send("10", token).status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 31 * 60  # away for 31 minutes

    ended = send("11", token)
    assert ended.status_code == 302
    assert ended.headers["Location"].startswith("/auth/login")
    login_as(client, contact)  # in another tab
    stale = send("11", token)
    assert stale.status_code == 400 and "security token" in stale.get_data(as_text=True)

    fresh = client.get("/portal/token").get_json()["csrf_token"]
    retried = client.post(
        url, json={"value": "11", "base_version": 1}, headers={"X-CSRFToken": fresh}
    )
    assert retried.status_code == 200
    with app.app_context():
        assert db.session.get(Answer, (request_id, "staff")).value == 11


def test_the_page_explains_what_happens_when_saving_fails(world, client):
    login_as(client, world.contact_a)
    page = page_of(client, world).get_data(as_text=True)
    assert 'id="connection-banner"' in page and 'role="alert" hidden' in page
    assert 'href="/auth/login" target="_blank"' in page
    assert 'data-token-url="/portal/token"' in page
    assert "Without JavaScript, use each section" in page


# ---- invitations ---------------------------------------------------------------------------


def set_email_domains(world: World, *entries: str, vendor: str = "a") -> None:
    with world.app.app_context():
        vendor_id = world.vendor_a if vendor == "a" else world.vendor_b
        db.session.get(Vendor, vendor_id).email_domains = list(entries)
        db.session.commit()


def email_error(response) -> str:
    found = re.search(r'id="email-error">([^<]+)<', response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else ""


def test_a_contact_invites_a_colleague_of_the_same_vendor(world, client):
    set_email_domains(world, "a.example", "a-corp.example")
    login_as(client, world.contact_a)
    assert "You can invite addresses at a.example, a-corp.example." in text(client.get("/portal/"))

    response = client.post("/portal/invite", data={"email": " Dana@A.example "})
    assert response.status_code == 302
    assert "Invitation to dana@a.example queued" in text(client.get("/portal/"))
    with world.app.app_context():
        invite = db.session.scalar(sa.select(Invite))
        assert (invite.vendor_id, invite.email, invite.request_id) == (
            world.vendor_a,
            "dana@a.example",
            None,
        )
    assert count(world.app, OutboxMessage, OutboxMessage.recipient == "dana@a.example") == 1

    bad = client.post("/portal/invite", data={"email": "not an address"})
    assert bad.status_code == 400
    assert email_error(bad)
    assert count(world.app, Invite) == 1


def test_a_contact_invites_only_at_the_vendors_email_domains(world, client, make_user):
    staff = make_user(Role.risk_officer, email="rita@ourcompany.example")
    login_as(client, world.contact_a)

    def refused(address: str) -> str:
        response = client.post("/portal/invite", data={"email": address})
        assert response.status_code == 400, address
        return email_error(response)

    # Nothing recorded yet (every vendor after the upgrade): nobody, and the page says why.
    assert "domains are not recorded yet" in text(client.get("/portal/"))
    assert refused("dana@a.example").startswith(
        "Your organisation's email domains are not recorded yet: ask your contact"
    )
    set_email_domains(world, "a.example", "a-corp.example", "dana@mail.example")
    assert refused("mallory@attacker.example") == (
        "You can invite addresses at a.example or a-corp.example only. Ask your contact at "
        "our organisation to invite anyone else."
    )
    assert refused("dana@sub.a.example")  # exactly the domain, not its subdomains
    assert refused("cy@b.example")  # vendor B's domain is B's
    # Our own staff: never, even where staff listed their domain by mistake; a single address
    # staff listed at one of their domains is theirs to allow.
    set_email_domains(world, "a.example", "ourcompany.example", "temp@ourcompany.example")
    staff_refusal = "This address cannot be invited from the portal"
    assert refused(staff.email).startswith(staff_refusal)
    assert refused("Rita@OurCompany.example").startswith(staff_refusal)
    assert refused("new.hire@ourcompany.example").startswith(staff_refusal)
    set_email_domains(world, "a.example", "ourcompany.example", staff.email)
    assert refused(staff.email).startswith(staff_refusal)

    assert count(world.app, Invite) == 0
    assert count(world.app, OutboxMessage) == 0
    denied = [e for e in events(world.app, "invite.sent") if e.outcome == "denied"]
    assert len(denied) == 8
    assert {e.vendor_id for e in denied} == {world.vendor_a}
    assert denied[-1].details["email"] == staff.email

    # Allowed: an address at a listed domain, and a single address listed.
    set_email_domains(world, "a.example", "dana@mail.example", "temp@ourcompany.example")
    for address in ("bo@a.example", "Dana@Mail.example", "temp@ourcompany.example"):
        assert client.post("/portal/invite", data={"email": address}).status_code == 302
    assert count(world.app, Invite) == 3
    # Staff invite whomever they choose (a request's "more contacts"), the portal's rule aside.
    login_as(client, make_user(Role.procurement))
    response = client.post(
        f"/requests/{world.request_a}/invites", data={"contact_emails": "zed@elsewhere.example"}
    )
    assert response.status_code == 302
    assert count(world.app, Invite, Invite.email == "zed@elsewhere.example") == 1


# ---- the intake: staff fill internal questionnaires ----------------------------------------


def test_staff_fill_an_intake_with_the_same_form(world, client, make_user):
    intake = make_request(world.app, world.vendor_a, store(world.app, INTAKE))
    officer = make_user(Role.procurement)
    login_as(client, officer)

    listing = text(client.get("/intake/"))
    assert "Vendor A" in listing and "Intake test" in listing
    response = client.get(f"/intake/{intake}")
    assert response.status_code == 200 and "How important is it?" in text(response)
    saved = client.post(
        f"/intake/{intake}/answers/service-name",
        json={"value": "Payroll", "base_version": 0},
    )
    assert saved.status_code == 200
    section = client.post(
        f"/intake/{intake}/sections/service",
        data={"shown-criticality": "1", "v-criticality": "0", "a-criticality": "high"},
    )
    assert section.status_code == 302
    submitted = client.post(f"/intake/{intake}/submit")
    assert submitted.status_code == 302
    assert request_row(world, intake).status is RequestStatus.submitted
    assert {k: v[0] for k, v in stored(world, intake).items()} == {
        "service-name": "Payroll",
        "criticality": "high",
    }


# ---- in a real browser: the autosave script ------------------------------------------------
# Debian's chromium driven by Playwright (the dev extras), against the app served on loopback
# with CSRF on, after a real two-step login. Skipped, with the reason, where chromium is absent.


def off_loop(function, *args, **kwargs):
    """Run database work in another thread: Playwright's event loop runs in this one, where
    the app context's teardown cannot run."""
    results: list = []
    errors: list[BaseException] = []

    def run():
        try:
            results.append(function(*args, **kwargs))
        except BaseException as exc:  # raised again below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results[0]


@dataclass
class Live:
    world: World
    base: str
    page: object  # playwright Page
    context: object  # playwright BrowserContext

    @property
    def form_url(self) -> str:
        return f"{self.base}/portal/requests/{self.world.request_a}"

    def log_in(self, page, user) -> None:
        page.goto(f"{self.base}/auth/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", user.password)
        page.click("button[type=submit]")
        page.fill("input[name=code]", off_loop(totp_code, self.world.app, user))
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.base}/portal/")

    def saved(self, question_id: str) -> None:
        """Wait until the question's status says it is saved."""
        self.page.wait_for_selector(f"#q-{question_id}-status.save-status-ok")

    def status(self, question_id: str) -> str:
        return self.page.inner_text(f"#q-{question_id}-status")


@pytest.fixture
def live(make_app, make_vendor, make_user, chromium):
    from playwright import sync_api

    app = make_app(WTF_CSRF_ENABLED=True)
    vendor_a, vendor_b = make_vendor("Vendor A"), make_vendor("Vendor B")
    version_id = store(app)
    world = World(
        app=app,
        vendor_a=vendor_a,
        vendor_b=vendor_b,
        contact_a=make_user(Role.vendor_contact, vendor_id=vendor_a, email="ana@a.example"),
        colleague_a=make_user(Role.vendor_contact, vendor_id=vendor_a, email="ben@a.example"),
        contact_b=make_user(Role.vendor_contact, vendor_id=vendor_b, email="cy@b.example"),
        version_id=version_id,
        request_a=make_request(app, vendor_a, version_id),
        request_b=make_request(app, vendor_b, version_id),
    )
    errors: list[str] = []
    with serving(app) as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        context = browser.new_context()
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        live = Live(world, base, page, context)
        live.log_in(page, world.contact_a)
        yield live
        browser.close()
    assert not errors, errors  # the script never failed


def test_in_a_browser_each_answer_is_saved_as_given_and_show_if_applies_live(live):
    page = live.page
    page.goto(live.form_url)
    assert page.is_hidden("#q-sso-product")

    page.check("input[name=a-sso][value=yes]")
    live.saved("sso")
    assert page.is_visible("#q-sso-product")  # shown at once, before any reload
    page.fill("#a-sso-product", "Okta Workforce")
    page.click("#c-sso-product")  # leaving the field saves it without waiting
    live.saved("sso-product")
    assert page.is_visible("#q-sso-product-version")  # shown by an answered question
    page.check("input[name=a-channels][value=home]")
    live.saved("channels")
    assert page.inner_text("#progress .progress-text") == "3 of 10 answered"

    page.check("input[name=a-sso][value=no]")
    live.saved("sso")
    # Hidden again, and so is the question that depends on the hidden one.
    assert page.is_hidden("#q-sso-product") and page.is_hidden("#q-sso-product-version")

    page.reload()
    assert page.is_checked("input[name=a-sso][value=no]")
    assert page.is_checked("input[name=a-channels][value=home]")
    assert page.inner_text("#progress .progress-text") == "2 of 8 answered"
    assert {k: v[0] for k, v in off_loop(stored, live.world).items()} == {
        "sso": "no",
        "sso-product": "Okta Workforce",  # kept, never read while hidden
        "channels": ["home"],
    }


def test_in_a_browser_answers_save_themselves_and_no_save_button_shows(live):
    page = live.page
    page.goto(live.form_url)
    # The buttons are in the page (for browsers without JavaScript), hidden by the script.
    assert page.locator(".section-actions button").count() >= 2
    assert page.get_by_role("button", name="Save this section").count() == 0
    assert all(not b.is_visible() for b in page.locator(".section-actions button").all())

    page.fill("#a-staff", "50")
    page.press("#a-staff", "Enter")  # saves this answer; the section is not posted
    live.saved("staff")
    assert page.url == live.form_url
    page.fill("#a-staff", "55")
    page.click("#c-staff")  # leaving the field saves it too
    live.saved("staff")
    assert off_loop(stored, live.world)["staff"][0] == 55

    page.reload()
    assert page.input_value("#a-staff") == "55"


def test_without_javascript_the_save_button_shows_and_saves_the_section(live):
    context = live.context.browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        live.log_in(page, live.world.contact_a)
        page.goto(live.form_url)
        section = page.locator("form.section-form:has(#a-staff)")
        button = section.get_by_role("button", name="Save this section")
        assert button.is_visible()
        page.fill("#a-staff", "12")
        button.click()
        page.wait_for_load_state()
        assert off_loop(stored, live.world)["staff"][0] == 12
        assert page.input_value("#a-staff") == "12"
    finally:
        context.close()


def test_in_a_browser_a_conflict_shows_their_answer_and_lets_the_user_choose(live):
    world = live.world
    off_loop(save, world, world.contact_a, "staff", "40")
    page = live.page
    page.goto(live.form_url)  # the page shows version 1
    off_loop(save, world, world.colleague_a, "staff", "45", base=1, comment="after the merger")

    page.fill("#a-staff", "50")
    page.click("#c-staff")
    page.wait_for_selector("#q-staff-status.save-status-error")
    status = live.status("staff")
    assert "Ben changed this answer" in status and "“45” (comment: “after the merger”)" in status
    assert off_loop(stored, world)["staff"][0] == 45  # not overwritten

    page.click("#q-staff-status >> text=Take theirs")
    assert page.input_value("#a-staff") == "45"
    assert page.input_value("#c-staff") == "after the merger"
    page.fill("#a-staff", "60")
    page.click("#c-staff")
    live.saved("staff")
    assert off_loop(stored, world)["staff"][:3] == (60, "after the merger", 3)


def test_in_a_browser_keep_mine_saves_over_the_answer_now_known(live):
    world = live.world
    page = live.page
    page.goto(live.form_url)
    off_loop(save, world, world.colleague_a, "mfa", "app")

    page.check("input[name=a-mfa][value=key]")
    page.wait_for_selector("#q-mfa-status.save-status-error")
    assert "An authenticator app" in live.status("mfa")
    page.click("#q-mfa-status >> text=Keep mine")
    live.saved("mfa")
    assert off_loop(stored, world)["mfa"][:3] == ("key", "", 2)


def test_in_a_browser_a_lost_connection_keeps_the_answer_until_retried(live):
    page = live.page
    page.goto(live.form_url)
    live.context.set_offline(True)

    page.fill("#a-anything", "Written on a train")
    page.click("#c-anything")
    page.wait_for_selector("#connection-banner:not([hidden])")
    assert "cannot be reached" in page.inner_text("#connection-banner")
    assert "Not saved" in live.status("anything")
    kept = page.evaluate("JSON.stringify(window.sessionStorage)")
    assert "Written on a train" in kept
    assert off_loop(stored, live.world) == {}

    live.context.set_offline(False)  # back online: the page retries by itself
    live.saved("anything")
    assert page.is_hidden("#connection-banner")
    assert off_loop(stored, live.world)["anything"][0] == "Written on a train"
    assert page.evaluate("window.sessionStorage.length") == 0


def test_in_a_browser_an_ended_session_asks_to_log_in_again_and_loses_nothing(live):
    page = live.page
    page.goto(live.form_url)
    live.context.clear_cookies()  # the session ended (timeout, or logged out elsewhere)

    page.fill("#a-staff", "75")
    page.click("#c-staff")
    page.wait_for_selector("#connection-banner:not([hidden])")
    assert "Your session has ended" in page.inner_text("#connection-banner")
    assert page.is_visible("#connection-login")
    assert off_loop(stored, live.world) == {}

    other_tab = live.context.new_page()  # what the link opens
    live.log_in(other_tab, live.world.contact_a)
    other_tab.close()
    page.click("#connection-retry")  # fetches the new session's security token first
    live.saved("staff")
    assert off_loop(stored, live.world)["staff"][0] == 75


def test_in_a_browser_answers_not_saved_before_a_reload_come_back(live):
    page = live.page
    page.goto(live.form_url)
    page.route("**/answers/**", lambda route: route.abort())  # the save never arrives

    page.fill("#a-anything", "Not lost")
    page.click("#c-anything")
    page.wait_for_selector("#connection-banner:not([hidden])")
    page.unroute("**/answers/**")
    page.reload()

    assert page.input_value("#a-anything") == "Not lost"
    assert "typed earlier" in page.inner_text("#connection-banner")
    page.click("#connection-retry")
    live.saved("anything")
    assert off_loop(stored, live.world)["anything"][0] == "Not lost"


def test_in_a_browser_files_are_uploaded_and_removed_as_chosen(live, tmp_path):
    page = live.page
    page.goto(live.form_url)
    report = tmp_path / "audit 2024.pdf"
    report.write_bytes(PDF)

    page.set_input_files("#f-audit-report", str(report))
    page.wait_for_selector("#files-audit-report li >> text=audit 2024.pdf")
    live.saved("audit-report")
    assert page.inner_text("#progress .progress-text") == "1 of 8 answered"
    assert off_loop(count, live.world.app, Evidence) == 1

    page.click("#files-audit-report button[name=remove_file]")
    page.wait_for_selector("#files-audit-report li", state="detached")
    assert off_loop(count, live.world.app, Evidence) == 0
    assert page.inner_text("#progress .progress-text") == "0 of 8 answered"


# ---- hostile input -------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<svg/onload=alert(1)>"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
hostile_text = st.text(max_size=200) | st.sampled_from(
    [*HOSTILE, "\x00", "1e400", "-0", "NaN", "2024-02-30", "../../etc/passwd", "yes\x00"]
)
QUESTION_IDS = [
    "sso", "sso-product", "mfa", "channels", "staff", "reviewed-on", "anything",
    "audit-report", "breach", "note", "nope",
]  # fmt: skip
fuzz = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(
    question_id=st.sampled_from(QUESTION_IDS),
    value=json_values | hostile_text,
    comment=st.none() | hostile_text | st.integers(),
    base=st.none() | st.integers(min_value=-5, max_value=10**20) | st.text(max_size=5),
)
def test_the_autosave_endpoint_never_fails_on_hostile_json(
    world, client, question_id, value, comment, base
):
    login_as(client, world.contact_a)
    response = client.post(
        f"/portal/requests/{world.request_a}/answers/{question_id}",
        json={"value": value, "comment": comment, "base_version": base},
    )
    assert response.status_code < 500
    assert response.is_json
    page = page_of(client, world)
    assert page.status_code == 200
    for markup in HOSTILE:
        assert markup not in page.get_data(as_text=True)


@fuzz
@given(
    fields=st.dictionaries(
        st.sampled_from([f"{p}{q}" for p in ("a-", "c-", "v-", "shown-") for q in QUESTION_IDS]),
        hostile_text.filter(lambda t: "\x00" not in t),
        max_size=12,
    ),
    section=st.sampled_from(["access", "people", "nope"]),
)
def test_the_section_form_never_fails_on_hostile_input(world, client, fields, section):
    login_as(client, world.contact_a)
    response = client.post(f"/portal/requests/{world.request_a}/sections/{section}", data=fields)
    assert response.status_code in (302, 400, 404, 409)
    for markup in HOSTILE:
        assert markup not in response.get_data(as_text=True)
        assert markup not in page_of(client, world).get_data(as_text=True)


def test_a_long_list_of_choices_is_a_select_with_plain_labels(world, client):
    many = """
format: 1
id: many-options
title: Many options
version: 1
audience: vendor
sections:
  - id: one
    title: One
    questions:
      - id: region
        type: single_choice
        text: Where is your data held?
        options:
""" + "".join(
        f"          - {{value: r{n}, label: 'Region <em>{n}</em>', score: 1}}\n" for n in range(7)
    )
    request_id = make_request(world.app, world.vendor_a, store(world.app, many))
    login_as(client, world.contact_a)

    page = page_of(client, world, request_id).get_data(as_text=True)

    assert '<select name="a-region" id="a-region"' in page
    assert '<option value="r6">Region 6</option>' in page  # options hold text, not markup
    assert autosave(client, world, "region", "r6", request_id=request_id).status_code == 200
    assert '<option value="r6" selected>' in page_of(client, world, request_id).get_data(True)


def test_a_vsaq_questionnaire_using_visibility_renders_and_shows_what_vsaq_would(
    app, client, make_vendor, make_user
):
    # tests/assets/vsaq_visibility.json: every use of ^ ("item is visible") the import expands.
    fixture = Path(__file__).parent / "assets" / "vsaq_visibility.json"
    with app.app_context():
        version = questionnaires_service.import_file(
            db.session, fixture.read_bytes(), name=fixture.name, actor=Actor.system("test")
        ).version
        db.session.commit()
        version_id = version.id
    vendor = make_vendor("Visibility Vendor")
    contact = make_user(Role.vendor_contact, vendor_id=vendor, email="vis@v.example")
    request_id = make_request(app, vendor, version_id)
    login_as(client, contact)

    first = client.get(f"/portal/requests/{request_id}")
    assert first.status_code == 200
    # Unanswered: what shows without an answer ("!^inner" and friends included).
    assert shown_questions(first) == ["a", "b", "c", "not_inner", "sees_always"]
    for question, value in (("a", "yes"), ("b", "yes"), ("c", "yes")):
        saved = client.post(
            f"/portal/requests/{request_id}/answers/{question}",
            json={"value": value, "comment": None, "base_version": 0},
        )
        assert saved.status_code == 200, saved.get_data(as_text=True)
    page = client.get(f"/portal/requests/{request_id}")
    assert shown_questions(page) == [
        "a",
        "b",
        "c",
        "on_a",
        "sees_on_a",
        "inner",
        "sees_blk",
        "sees_inner",
        "nested",
        "sees_always",
        "across",
    ]
    conditions = json.loads(
        re.search(r'id="show-if-data">(.*?)</script>', page.get_data(as_text=True), re.S).group(1)
    )["conditions"]
    assert conditions["not_inner"] == {
        "not": {"all": [{"question": "b", "equals": "yes"}, {"question": "c", "equals": "yes"}]}
    }
