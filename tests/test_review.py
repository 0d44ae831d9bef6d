"""Review of submitted questionnaires by risk officers: the queue, one request with every answer
in words, clarifications and internal notes, return for clarification and accept.

Requests, answers and evidence are made through the services procurement and vendors use
(create_request, save_answer, store_upload, submit); list pages are filled through the models
where only a status and a date matter. The suite runs on SQLite, and on PostgreSQL with
VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import add, events, get, login_as, text
from werkzeug.datastructures import FileStorage

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import Answer, Evidence, QuestionnaireRequest, RequestStatus, Role, Vendor
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import answers as answers_service
from vendor_risk.services.questionnaires import evidence as evidence_service
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
      - id: why-no-sso
        type: long_text
        text: Why not?
        required: false
        show_if: {question: sso, equals: "no"}
      - id: mfa
        type: single_choice
        text: How do your staff prove who they are when they sign in?
        weight: 3
        critical: true
        evidence: requested
        controls: {nist_csf: [PR.AA-03], iso27001: [A.5.17]}
        options:
          - {value: keys, label: Security keys or passkeys, score: 1}
          - {value: app-codes, label: Codes from an authenticator app, score: 0.7}
          - {value: password, label: A password only, score: 0}
  - id: people
    title: People
    questions:
      - id: intro
        type: info
        text: About the people who reach our data.
      - id: staff
        type: number
        text: How many of your staff can reach our data?
      - id: policy
        type: file
        text: Attach your access policy.
        required: false
"""
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
NOTE = "Compare with the SOC 2 bridge letter before accepting."
ASK = "Which staff still use codes from an app, and when do they move to keys?"


# ---- building requests through the services -----------------------------------------------


def actor_of(user) -> Actor:
    return Actor(label=user.email, user_id=user.id)


@pytest.fixture
def world(app, make_vendor, make_user):
    vendor_a = make_vendor("Keystone Identity")
    vendor_b = make_vendor("Harbor Payroll")
    people = {
        "officer": make_user(Role.risk_officer),
        "procurement": make_user(Role.procurement),
        "admin": make_user(Role.admin),
        "contact_a": make_user(Role.vendor_contact, vendor_id=vendor_a),
        "contact_b": make_user(Role.vendor_contact, vendor_id=vendor_b),
    }
    with app.app_context():
        parsed = loader.parse(QUESTIONNAIRE, "access-review.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="access-review.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        version_id = stored.version.id
    return {"vendor_a": vendor_a, "vendor_b": vendor_b, "version": version_id, **people}


def new_request(app, world, vendor: str = "a") -> int:
    """A request sent to the vendor's contact, as procurement sends it."""
    contact = world[f"contact_{vendor}"]
    with app.test_request_context():
        made = requests.create_request(
            db.session,
            vendor_id=world[f"vendor_{vendor}"],
            version_id=world["version"],
            due_on=utcnow().date() + timedelta(days=14),
            contact_emails=[contact.email],
            actor=actor_of(world["procurement"]),
        )
        db.session.commit()
        return made.id


def answer(app, world, request_id: int, question_id: str, value, comment=None, vendor="a"):
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        result = answers_service.save_answer(
            db.session,
            request,
            question_id,
            value=value,
            comment=comment,
            base_version=None,
            actor=actor_of(world[f"contact_{vendor}"]),
        )
        db.session.commit()
        assert result.status == "saved", result


def upload(app, world, request_id: int, question_id: str, name: str, content: bytes) -> int:
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        stored = evidence_service.store_upload(
            db.session,
            request,
            question_id,
            FileStorage(stream=io.BytesIO(content), filename=name),
            actor=actor_of(world["contact_a"]),
        )
        db.session.commit()
        return stored.id


def submit(app, world, request_id: int, vendor: str = "a") -> None:
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        assert answers_service.submit(
            db.session, request, actor=actor_of(world[f"contact_{vendor}"])
        )
        db.session.commit()


@pytest.fixture
def submitted(app, world):
    """Keystone's answers, submitted: SSO (so "Why not?" is hidden, though an answer given
    before is still stored), authenticator codes with a comment and a policy file, 120 staff."""
    request_id = new_request(app, world)
    answer(app, world, request_id, "sso", "no")
    answer(app, world, request_id, "why-no-sso", "LEFTOVER-HIDDEN-REASON")
    answer(app, world, request_id, "sso", "yes")
    answer(app, world, request_id, "mfa", "app-codes", comment="Keys for admins since March.")
    answer(app, world, request_id, "staff", "120")
    evidence_id = upload(app, world, request_id, "policy", "access-policy.pdf", PDF)
    submit(app, world, request_id)
    return {"request": request_id, "evidence": evidence_id}


@pytest.fixture
def officer(client, world):
    login_as(client, world["officer"])
    return world["officer"]


def status_of(app, request_id: int) -> RequestStatus:
    return get(app, QuestionnaireRequest, request_id).status


def stored_answer(app, request_id: int, question_id: str) -> Answer | None:
    return get(app, Answer, (request_id, question_id))


def page_of(client, request_id: int):
    response = client.get(f"/review/{request_id}")
    assert response.status_code == 200
    return response


def hidden(response, name: str) -> str:
    """The value of a hidden field of the page, as a browser would send it back."""
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', response.get_data(True))
    assert match, f"no field {name}"
    return html.unescape(match.group(1))


def write_note(client, request_id: int, question_id: str, *, clarification="", note="", page=None):
    page = page or page_of(client, request_id)
    return client.post(
        f"/review/{request_id}/answers/{question_id}",
        data={
            f"{question_id}-clarification": clarification,
            f"{question_id}-internal_note": note,
            f"{question_id}-stamp": hidden(page, f"{question_id}-stamp"),
        },
    )


def decide(client, request_id: int, decision: str, page=None):
    page = page or page_of(client, request_id)
    version = hidden(page, f"{decision}-version")
    return client.post(f"/review/{request_id}/{decision}", data={f"{decision}-version": version})


def flashed_error(response) -> str:
    found = re.findall(r'class="flash flash-error"[^>]*>([^<]*)<', response.get_data(True))
    return " ".join(html.unescape(m) for m in found)


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


# ---- who may review -------------------------------------------------------------------------


def review_routes(app, request_id: int, evidence_id: int) -> list[tuple[str, str]]:
    ids = {"request_id": request_id, "evidence_id": evidence_id, "question_id": "mfa"}
    with app.test_request_context():
        from flask import url_for

        return sorted(
            (method, url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("review.")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        )


@pytest.mark.parametrize("who", ["procurement", "admin", "contact_a", "contact_b"])
def test_only_risk_officers_reach_the_review_pages(app, client, world, submitted, who):
    routes = review_routes(app, submitted["request"], submitted["evidence"])
    assert len(routes) == 6
    login_as(client, world[who])  # contact_a is the vendor's own contact: refused all the same
    for method, path in routes:
        data = {"accept-version": "3", "return-version": "3", "mfa-clarification": "x"}
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (who, method, path)
    assert status_of(app, submitted["request"]) is RequestStatus.submitted
    assert len(events(app, "access.denied")) == 6

    login_as(client, world["officer"])
    assert client.get("/review/").status_code == 200
    assert client.get(f"/review/{submitted['request']}").status_code == 200


def test_risk_officers_find_review_in_their_navigation(client, officer):
    page = client.get("/risk/").get_data(as_text=True)
    assert 'href="/review/"' in page and ">Review<" in page


# ---- the queue -------------------------------------------------------------------------------


def request_row(world, status: RequestStatus, *, days_ago: int | None, vendor="a", **fields):
    moment = None if days_ago is None else utcnow() - timedelta(days=days_ago)
    stamps = {"submitted_at": moment}
    if status is RequestStatus.returned:
        stamps = {"submitted_at": moment, "reviewed_at": moment}
    return QuestionnaireRequest(
        vendor_id=world[f"vendor_{vendor}"],
        version_id=world["version"],
        status=status,
        question_count=4,
        **(stamps | fields),
    )


def test_queue_lists_submitted_requests_oldest_first_and_returned_ones_apart(
    app, client, world, officer
):
    ids = add(
        app,
        request_row(world, RequestStatus.submitted, days_ago=2),
        request_row(world, RequestStatus.under_review, days_ago=9, vendor="b"),
        request_row(world, RequestStatus.submitted, days_ago=5, vendor="b"),
        request_row(world, RequestStatus.sent, days_ago=None),
        request_row(world, RequestStatus.in_progress, days_ago=None),
        request_row(world, RequestStatus.accepted, days_ago=30),
        request_row(world, RequestStatus.cancelled, days_ago=None),
        request_row(world, RequestStatus.returned, days_ago=4),
        # In progress again after a return: still waiting for the vendor's clarification.
        request_row(
            world,
            RequestStatus.in_progress,
            days_ago=8,
            reviewed_at=utcnow() - timedelta(days=6),
        ),
    )
    newest, oldest, middle, sent, in_progress, accepted, cancelled, returned, reworked = ids

    response = client.get("/review/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    queue, _, back = page.partition('id="returned-heading"')
    linked = [int(i) for i in re.findall(r'href="/review/(\d+)"', queue)]
    assert linked == [oldest, middle, newest]
    assert "3 requests." in text(response)
    assert "9 days" in queue and "5 days" in queue and "2 days" in queue
    assert "under review" in queue and "Harbor Payroll" in queue
    assert [int(i) for i in re.findall(r'href="/review/(\d+)"', back)] == [reworked, returned]
    for absent in (sent, in_progress, accepted, cancelled):
        assert f'href="/review/{absent}"' not in page


def test_queue_pages_and_costs_the_same_statements_whatever_the_rows(app, client, world, officer):
    def statements() -> int:
        return statements_for(app, client, "/review/")

    add(app, request_row(world, RequestStatus.submitted, days_ago=1))
    add(app, request_row(world, RequestStatus.returned, days_ago=1))
    few = statements()
    add(app, *(request_row(world, RequestStatus.submitted, days_ago=n) for n in range(60)))
    add(app, *(request_row(world, RequestStatus.returned, days_ago=n) for n in range(20)))
    assert statements() == few

    first = text(client.get("/review/"))
    assert "61 requests: 1 to 50 shown, page 1 of 2." in first
    second = client.get("/review/?page=2")
    assert "51 to 61 shown" in text(second)
    assert client.get("/review/?page=0").status_code == 400
    assert client.get("/review/?returned_page=x").status_code == 400


def test_an_empty_queue_says_so(client, world, officer):
    page = text(client.get("/review/"))
    assert "Nothing to review" in page
    assert "No request is waiting for a vendor's clarification." in page


# ---- one request -----------------------------------------------------------------------------


def test_the_request_page_shows_every_answer_in_words_with_its_evidence(
    app, client, world, submitted, officer
):
    response = page_of(client, submitted["request"])
    page = text(response)
    assert "Access and people: Keystone Identity" in page
    assert "submitted" in page and "version 1" in page
    # Option labels, never the stored values.
    assert "Codes from an authenticator app" in page
    assert "app-codes" not in page.replace('name="', "")
    assert "Keys for admins since March." in page  # the vendor's comment
    assert "120" in page
    # The question hidden by its condition: not asked, its leftover answer never shown.
    assert "Not asked" in page
    assert "LEFTOVER-HIDDEN-REASON" not in page
    # Staff see what vendors never do.
    assert "weight 3" in page and "critical" in page
    assert "PR.AA-03" in page and "A.5.17" in page
    # The evidence file, downloadable by staff.
    assert "access-policy.pdf" in page
    assert f'href="/review/evidence/{submitted["evidence"]}"' in response.get_data(as_text=True)
    # How each scored answer counts: codes from an app partly pass the critical question,
    # which does not fail (0.7 is above the failing line), so no critical marker.
    assert "partly passes" in page and "Critical failure" not in page
    # Reading changes nothing.
    assert status_of(app, submitted["request"]) is RequestStatus.submitted
    assert events(app, "request.accepted") == [] and events(app, "request.returned") == []


def test_the_request_page_costs_the_same_statements_whatever_the_questionnaire(
    app, client, world, submitted, officer
):
    with app.test_request_context():
        stored = questionnaires.sync_shipped(db.session, actor=Actor.system("test"))
        baseline = next(s.version for s in stored if s.version.title == "Baseline security")
        large = requests.create_request(
            db.session,
            vendor_id=world["vendor_b"],
            version_id=baseline.id,
            due_on=utcnow().date() + timedelta(days=30),
            contact_emails=[world["contact_b"].email],
            actor=actor_of(world["procurement"]),
        )
        requests.transition(
            db.session, large, RequestStatus.submitted, actor=actor_of(world["contact_b"])
        )
        db.session.commit()
        large_id = large.id

    page = client.get(f"/review/{large_id}").get_data(as_text=True)
    forms = re.findall(r'<textarea[^>]*name="[a-z0-9_-]+-clarification"', page)
    with app.app_context():
        asked = review.review_detail(db.session, large_id).asked
    assert len(forms) == asked > 50  # a form on every question asked
    assert statements_for(app, client, f"/review/{large_id}") == statements_for(
        app, client, f"/review/{submitted['request']}"
    )


def test_carried_over_answers_are_marked(app, client, world, submitted, officer):
    assert decide(client, submitted["request"], "accept").status_code == 302
    second = new_request(app, world)  # the reassessment, prefilled from the accepted one

    page = text(page_of(client, second))
    assert page.count("carried over") >= 2  # sso, mfa and staff were copied; files never are
    assert f"request {submitted['request']}" in page  # the previous assessment is linked


def test_unknown_requests_and_questions_are_404(client, world, submitted, officer):
    assert client.get("/review/999999").status_code == 404
    assert write_note(client, submitted["request"], "mfa", note=NOTE).status_code == 302
    page = page_of(client, submitted["request"])
    for question_id in ("nope", "intro"):  # no such question; an info text takes no note
        response = client.post(
            f"/review/{submitted['request']}/answers/{question_id}",
            data={f"{question_id}-internal_note": NOTE, f"{question_id}-stamp": "0" * 16},
        )
        assert response.status_code == 404
    assert client.post("/review/999999/accept", data={"accept-version": "1"}).status_code == 404
    assert page.status_code == 200


# ---- notes and clarifications ---------------------------------------------------------------


def test_the_first_note_moves_the_request_under_review(app, client, world, submitted, officer):
    response = write_note(client, submitted["request"], "mfa", note=NOTE)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/review/{submitted['request']}#q-mfa")
    assert status_of(app, submitted["request"]) is RequestStatus.under_review
    [started] = events(app, "request.review_started")
    assert started.actor_id == world["officer"].id
    assert started.details == {"from": "submitted"}
    saved = stored_answer(app, submitted["request"], "mfa")
    assert saved.internal_note == NOTE and saved.clarification == ""
    assert saved.value == "app-codes" and saved.version == 1  # the vendor's answer untouched
    assert NOTE in text(page_of(client, submitted["request"]))
    queue = text(client.get("/review/"))
    assert "under review" in queue


def test_a_note_on_an_unanswered_question_keeps_it_unanswered(
    app, client, world, submitted, officer
):
    assert stored_answer(app, submitted["request"], "policy") is not None  # its files
    with app.app_context():
        db.session.execute(
            sa.delete(Answer).where(
                Answer.request_id == submitted["request"], Answer.question_id == "staff"
            )
        )
        db.session.commit()

    response = write_note(client, submitted["request"], "staff", clarification="How many?")

    assert response.status_code == 302
    row = stored_answer(app, submitted["request"], "staff")
    assert row.value is None and row.version == 0 and row.clarification == "How many?"


def test_notes_saved_over_someone_elses_are_refused_with_theirs_shown(
    app, client, world, submitted, officer, make_user
):
    opened = page_of(client, submitted["request"])  # this reviewer opens the page
    colleague = app.test_client()
    login_as(colleague, make_user(Role.risk_officer))
    assert write_note(colleague, submitted["request"], "mfa", clarification=ASK).status_code == 302

    response = write_note(client, submitted["request"], "mfa", note="Mine.", page=opened)

    assert response.status_code == 409
    page = text(response)
    assert "Someone else saved notes on this answer" in page and ASK in page
    assert "Mine." in page  # the form keeps what this reviewer typed
    assert stored_answer(app, submitted["request"], "mfa").internal_note == ""
    # Saving again from the refused form is a deliberate overwrite.
    again = client.post(
        f"/review/{submitted['request']}/answers/mfa",
        data={
            "mfa-clarification": ASK,
            "mfa-internal_note": "Mine.",
            "mfa-stamp": hidden(response, "mfa-stamp"),
        },
    )
    assert again.status_code == 302
    assert stored_answer(app, submitted["request"], "mfa").internal_note == "Mine."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("clarification", "x" * 2001, "2,000"),
        ("internal_note", "x" * 10_001, "10,000"),
        ("internal_note", "The admin token is ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2, "secret"),
    ],
)
def test_bad_notes_are_refused_at_their_field_and_nothing_is_saved(
    app, client, world, submitted, officer, field, value, message
):
    texts = {"clarification": "", "note": ""} | {
        ("note" if field == "internal_note" else field): value
    }
    response = write_note(client, submitted["request"], "mfa", **texts)

    assert response.status_code == 400
    error = re.search(rf'id="mfa-{field}-error">([^<]*)<', response.get_data(as_text=True))
    assert error and message in html.unescape(error.group(1))
    assert value in html.unescape(response.get_data(as_text=True))  # kept in the form
    assert stored_answer(app, submitted["request"], "mfa").internal_note == ""
    assert status_of(app, submitted["request"]) is RequestStatus.submitted


def test_no_clarification_on_a_question_that_is_not_asked(app, client, world, submitted, officer):
    response = client.post(
        f"/review/{submitted['request']}/answers/why-no-sso",
        data={"why-no-sso-clarification": ASK, "why-no-sso-stamp": "0" * 16},
    )
    assert response.status_code == 409
    assert "not asked" in flashed_error(response)
    assert stored_answer(app, submitted["request"], "why-no-sso").clarification == ""


# ---- return for clarification ---------------------------------------------------------------


def test_returning_needs_a_clarification(app, client, world, submitted, officer):
    write_note(client, submitted["request"], "mfa", note=NOTE)  # a note is not a clarification

    response = decide(client, submitted["request"], "return")

    assert response.status_code == 409
    assert "Write a clarification on at least one answer" in flashed_error(response)
    assert status_of(app, submitted["request"]) is RequestStatus.under_review
    assert events(app, "request.returned") == []


def test_returning_sends_the_clarifications_to_the_vendor(app, client, world, submitted, officer):
    request_id = submitted["request"]
    write_note(client, request_id, "mfa", clarification=ASK, note=NOTE)
    page = page_of(client, request_id)
    assert "The vendor will see 1 clarification" in text(page)

    response = decide(client, request_id, "return", page)

    assert response.status_code == 302 and response.headers["Location"].endswith("/review/")
    assert status_of(app, request_id) is RequestStatus.returned
    [event] = events(app, "request.returned")
    assert event.actor_id == world["officer"].id and event.object_id == str(request_id)
    assert event.details["clarifications"] == [{"question": "mfa", "text": ASK}]
    assert NOTE not in str(event.details)  # internal notes stay out of the vendor's trail
    queue = client.get("/review/").get_data(as_text=True)
    _, _, back = queue.partition('id="returned-heading"')
    assert f'href="/review/{request_id}"' in back

    # The vendor sees which answer needs work, and may change it again.
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        questionnaire = answers_service.questionnaire_of_request(db.session, request)
        stored = answers_service.answers_of(db.session, request_id)
        asked = answers_service.clarifications_of(questionnaire, stored)
        assert [(q.id, t) for q, t in asked] == [("mfa", ASK)]
        assert answers_service.is_editable(request)
    answer(app, world, request_id, "mfa", "keys", comment="All staff on keys since May.")
    submit(app, world, request_id)
    again = text(page_of(client, request_id))
    assert "Security keys or passkeys" in again and ASK in again  # what was asked, and the reply


def test_the_vendor_portal_shows_the_clarification_and_never_the_note(
    app, client, world, submitted, officer
):
    request_id = submitted["request"]
    write_note(client, request_id, "mfa", clarification=ASK, note=NOTE)
    assert decide(client, request_id, "return").status_code == 302

    vendor = app.test_client()
    login_as(vendor, world["contact_a"])
    pages = vendor_pages(app, vendor, request_id)
    form = f"/portal/requests/{request_id}"
    assert {"/portal/", form} <= pages.keys()
    assert ASK in pages[form]  # which answer needs work, on the vendor's form
    for path, page in pages.items():
        assert NOTE not in page, path
        assert "weight 3" not in page, path

    # The other vendor's contact gets nothing of it.
    other = app.test_client()
    login_as(other, world["contact_b"])
    assert other.get(form).status_code == 404


def vendor_pages(app, client, request_id: int) -> dict[str, str]:
    """Every page of the vendor portal about this request that answers 200 to its contact."""
    with app.test_request_context():
        from flask import url_for

        paths = {
            url_for(rule.endpoint, **dict.fromkeys(rule.arguments, request_id))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("portal.")
            and "GET" in rule.methods
            and set(rule.arguments) <= {"request_id"}
        }
    pages = {}
    for path in sorted(paths):
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[path] = text(response)
    return pages


# ---- accept ----------------------------------------------------------------------------------


def test_accepting_makes_the_request_final(app, client, world, submitted, officer):
    request_id = submitted["request"]
    write_note(client, request_id, "mfa", clarification=ASK, note=NOTE)

    response = decide(client, request_id, "accept")

    assert response.status_code == 302
    assert status_of(app, request_id) is RequestStatus.accepted
    [event] = events(app, "request.accepted")
    assert event.actor_id == world["officer"].id
    assert event.details == {"from": "under_review", "clarifications_cleared": 1}
    saved = stored_answer(app, request_id, "mfa")
    assert saved.clarification == "" and saved.internal_note == NOTE
    page = text(page_of(client, request_id))
    assert "accepted" in page and NOTE in page
    assert "Return for clarification" not in page and 'name="mfa-clarification"' not in page
    assert request_id not in [r.id for r in in_queue(app)]

    # Read-only for the vendor from now on, and nothing of the review shows on their pages.
    vendor = app.test_client()
    login_as(vendor, world["contact_a"])
    saved = vendor.post(
        f"/portal/requests/{request_id}/answers/mfa",
        json={"value": "keys", "comment": None, "base_version": 1},
    )
    assert saved.status_code == 409 and saved.get_json()["status"] == "read_only"
    assert stored_answer(app, request_id, "mfa").value == "app-codes"
    for path, vendor_page in vendor_pages(app, vendor, request_id).items():
        assert NOTE not in vendor_page and ASK not in vendor_page, path


def in_queue(app):
    with app.app_context():
        return review.review_queue(db.session).rows


def test_accepting_an_accepted_request_gives_a_message(app, client, world, submitted, officer):
    request_id = submitted["request"]
    page = page_of(client, request_id)
    assert decide(client, request_id, "accept", page).status_code == 302

    twice = decide(client, request_id, "accept", page)  # the same page: a second click
    assert twice.status_code == 409
    assert "changed after you opened it (it is now accepted)" in flashed_error(twice)

    current = client.post(
        f"/review/{request_id}/accept", data={"accept-version": _version(app, request_id)}
    )
    assert current.status_code == 409
    assert "A request that is accepted cannot become accepted." in flashed_error(current)
    returned = client.post(
        f"/review/{request_id}/return", data={"return-version": _version(app, request_id)}
    )
    assert returned.status_code == 409
    assert "cannot become returned for clarification" in flashed_error(returned)
    assert len(events(app, "request.accepted")) == 1
    assert status_of(app, request_id) is RequestStatus.accepted
    note = write_note(client, request_id, "mfa", note=NOTE, page=page)
    assert note.status_code == 409 and "only submitted requests are reviewed" in flashed_error(note)


def _version(app, request_id: int) -> str:
    return str(get(app, QuestionnaireRequest, request_id).version)


def test_a_decision_without_the_pages_version_is_refused(app, client, world, submitted, officer):
    assert client.post(f"/review/{submitted['request']}/accept", data={}).status_code == 400
    assert client.post(f"/review/{submitted['request']}/return", data={}).status_code == 400
    assert status_of(app, submitted["request"]) is RequestStatus.submitted


def test_a_request_not_submitted_yet_cannot_be_decided(app, client, world, officer):
    request_id = new_request(app, world)
    assert "Return for clarification" not in text(page_of(client, request_id))
    response = client.post(
        f"/review/{request_id}/accept", data={"accept-version": _version(app, request_id)}
    )
    assert response.status_code == 409
    assert "A request that is sent cannot become accepted." in flashed_error(response)
    assert status_of(app, request_id) is RequestStatus.sent


# ---- evidence --------------------------------------------------------------------------------


def test_staff_download_evidence_as_an_attachment(app, client, world, submitted, officer):
    with client.get(f"/review/evidence/{submitted['evidence']}") as response:
        assert response.status_code == 200
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "access-policy.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    [downloaded] = events(app, "evidence.downloaded")
    assert downloaded.actor_id == world["officer"].id
    assert downloaded.object_id == str(submitted["evidence"])
    assert downloaded.details["filename"] == "access-policy.pdf"
    assert client.get("/review/evidence/999999").status_code == 404


def test_evidence_of_any_vendor_is_open_to_risk_officers(app, client, world, officer):
    request_id = new_request(app, world, vendor="b")
    answer(app, world, request_id, "sso", "yes", vendor="b")
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        stored = evidence_service.store_upload(
            db.session,
            request,
            "policy",
            FileStorage(stream=io.BytesIO(b"staff list\n"), filename="../../staff.txt"),
            actor=actor_of(world["contact_b"]),
        )
        db.session.commit()
        evidence_id = stored.id
    with client.get(f"/review/evidence/{evidence_id}") as response:
        assert response.status_code == 200 and response.data == b"staff list\n"
    assert get(app, Evidence, evidence_id).filename == "staff.txt"
    assert get(app, Vendor, world["vendor_b"]).name == "Harbor Payroll"


def test_days_waiting_counts_from_the_submission(app, world):
    [request_id] = add(app, request_row(world, RequestStatus.submitted, days_ago=None))
    with app.app_context():
        db.session.get(QuestionnaireRequest, request_id).submitted_at = datetime(
            2026, 1, 1, 23, 30, tzinfo=UTC
        )
        db.session.commit()
        [row] = review.review_queue(db.session, today=datetime(2026, 1, 11).date()).rows
    assert row.days_waiting == 10


# ---- how each answer scores ------------------------------------------------------------------

SCORED = """
format: 1
id: controls-check
title: Controls check
version: 1
audience: vendor
sections:
  - id: controls
    title: Controls
    questions:
      - id: keys
        type: yes_no
        text: Do administrators sign in with security keys?
      - id: mfa
        type: single_choice
        text: How do your staff prove who they are?
        weight: 3
        critical: true
        options:
          - {value: keys, label: Security keys, score: 1}
          - {value: password, label: A password only, score: 0}
      - id: codes
        type: single_choice
        text: How are one-time codes delivered?
        options:
          - {value: app, label: An authenticator app, score: 1}
          - {value: sms, label: Text messages, score: 0.7}
      - id: dr
        type: yes_no_na
        text: Do you test restoring backups of our data?
      - id: logs
        type: yes_no
        text: Do you keep sign-in logs for a year?
        required: false
"""


def answer_article(response, question_id: str) -> str:
    """The text a reader sees in one answer's panel."""
    found = re.search(
        rf'<article[^>]*id="q-{question_id}".*?</article>', response.get_data(True), re.S
    )
    assert found, question_id
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def test_each_scored_answer_shows_whether_it_passes_and_its_points(app, client, world, officer):
    with app.app_context():
        parsed = loader.parse(SCORED, "controls-check.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="controls-check.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        world = {**world, "version": stored.version.id}
    request_id = new_request(app, world)
    answer(app, world, request_id, "keys", "yes")
    answer(app, world, request_id, "mfa", "password")
    answer(app, world, request_id, "codes", "sms")
    answer(app, world, request_id, "dr", "na", comment="We hold none of your data at rest.")
    submit(app, world, request_id)

    response = page_of(client, request_id)
    # Counted weight 6 (dr left out): each weight-1 question is worth 100 / 6 points.
    keys = answer_article(response, "keys")
    assert "Score passes 16.67 of 16.67 points" in keys
    assert "critical" not in keys.lower()
    codes = answer_article(response, "codes")
    assert "partly passes 11.6" in codes and "of 16.67 points" in codes
    # The critical question failing: a marker in words, at the heading and beside the score.
    mfa = answer_article(response, "mfa")
    assert "fails 0.00 of 50.00 points" in mfa
    assert "critical failure" in mfa and "Critical failure: a failing answer" in mfa
    assert "caps the control score at 40" in mfa
    dr = answer_article(response, "dr")
    assert "not applicable left out of the score" in dr
    logs = answer_article(response, "logs")
    assert "not answered 0.00 of 16.67 points: no answer, counted as the worst answer" in logs
    page = " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())
    assert "Control score 28.33 of 100" in page
    assert "1 critical failure" in page
