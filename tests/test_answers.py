"""Answers of a request (vendor_risk/services/answers.py): autosave one answer at a time,
idempotent, never a silent overwrite, show-if enforced on the server, what stops a submission,
answers carried over on reassessment, workbook imports all or nothing.

The helpers at the top build a questionnaire, vendors, contacts and requests; the portal and
evidence tests import them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from conftest import add

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import Answer, QuestionnaireRequest, RequestStatus, Role
from vendor_risk.services import ValidationFailed
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import answers as svc
from vendor_risk.services.questionnaires import library as questionnaires
from vendor_risk.services.questionnaires.answers import AnswerRefused, SubmitRefused

# Weights, scores, critical flags, controls and findings carry markers no vendor page may show.
QUESTIONNAIRE = """
format: 1
id: portal-test
title: Supplier <b>security</b> check
version: 1
audience: vendor
description: Questions for the <em>portal</em> tests.
sections:
  - id: access
    title: Access
    questions:
      - id: sso
        type: yes_no
        text: Do your staff sign in through single sign-on?
        weight: 7.25
        critical: true
        controls: {nist_csf: [PR.AA-03], iso27001: [A.5.17]}
      - id: sso-product
        type: short_text
        text: Which single sign-on product do you use?
        show_if: {question: sso, equals: "yes"}
      - id: sso-product-version
        type: short_text
        text: Which release of it?
        show_if: {question: sso-product, answered: true}
      - id: mfa
        type: single_choice
        text: How do staff prove who they are?
        help: Think of <a href="https://example.org/mfa">every login</a>.
        evidence: required
        options:
          - {value: app, label: An authenticator app, score: 0.85}
          - {value: key, label: A security key, score: 1}
          - {value: password, label: A password only, score: 0}
      - id: channels
        type: multiple_choice
        text: Where do staff sign in from?
        required: false
        options:
          - {value: office, label: The office, score: 1}
          - {value: home, label: Home, score: 0.5}
          - {value: anywhere, label: Anywhere, score: 0}
  - id: people
    title: People
    questions:
      - id: note
        type: info
        text: The next questions are about your staff.
      - id: staff
        type: number
        text: How many staff work for you?
        min: 1
      - id: reviewed-on
        type: date
        text: When was your security policy last reviewed?
        required: false
      - id: anything
        type: long_text
        text: Anything else we should know?
        required: false
      - id: audit-report
        type: file
        text: Attach your latest audit report.
        required: false
      - id: breach
        type: yes_no_na
        text: Were you breached last year?
        evidence: required
    findings:
      - id: no-sso
        when: {question: sso, equals: "no"}
        severity: high
        title: Sign-in without single sign-on
        why: Staff accounts are managed one by one.
"""
INTAKE = """
format: 1
id: intake-test
title: Intake test
version: 1
audience: internal
sections:
  - id: service
    title: The service
    questions:
      - id: service-name
        type: short_text
        text: What is the service called?
      - id: criticality
        type: single_choice
        text: How important is it?
        inherent: criticality
        options:
          - {value: low, label: Low, score: 1}
          - {value: high, label: High, score: 0}
"""
SYSTEM = Actor.system("test")


def store(app, text: str = QUESTIONNAIRE) -> int:
    """Store a questionnaire version through the service; returns its id."""
    result = loader.parse(text, "test.yaml")
    assert result.questionnaire is not None, result.problems
    with app.app_context():
        stored = questionnaires.store_version(
            db.session, result.questionnaire, source="test.yaml", actor=SYSTEM
        )
        db.session.commit()
        return stored.version.id


def make_request(
    app,
    vendor_id: int,
    version_id: int,
    *,
    status: RequestStatus = RequestStatus.sent,
    due_on: date | None = None,
) -> int:
    with app.app_context():
        version = questionnaires.get_version(db.session, version_id)
        count = version.question_count
    (request_id,) = add(
        app,
        QuestionnaireRequest(
            vendor_id=vendor_id,
            version_id=version_id,
            status=status,
            due_on=due_on,
            question_count=count,
            sent_at=utcnow() if status is not RequestStatus.draft else None,
        ),
    )
    return request_id


@dataclass
class World:
    app: object
    vendor_a: int
    vendor_b: int
    contact_a: object  # conftest.TestUser
    colleague_a: object
    contact_b: object
    version_id: int
    request_a: int
    request_b: int

    def actor(self, user) -> Actor:
        return Actor(label=user.email, user_id=user.id)


@pytest.fixture
def world(app, make_vendor, make_user) -> World:
    """Two vendors with contacts (two for A), the test questionnaire sent to each."""
    vendor_a = make_vendor("Vendor A")
    vendor_b = make_vendor("Vendor B")
    version_id = store(app)
    return World(
        app=app,
        vendor_a=vendor_a,
        vendor_b=vendor_b,
        contact_a=make_user(Role.vendor_contact, vendor_id=vendor_a, email="ana@a.example"),
        colleague_a=make_user(Role.vendor_contact, vendor_id=vendor_a, email="ben@a.example"),
        contact_b=make_user(Role.vendor_contact, vendor_id=vendor_b, email="cy@b.example"),
        version_id=version_id,
        request_a=make_request(app, vendor_a, version_id, due_on=date.today() + timedelta(9)),
        request_b=make_request(app, vendor_b, version_id),
    )


def save(world: World, user, question_id: str, value, *, comment=None, base=0, request=None):
    """save_answer in its own transaction, as a request of the app would."""
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, request or world.request_a)
        try:
            result = svc.save_answer(
                db.session,
                req,
                question_id,
                value=value,
                comment=comment,
                base_version=base,
                actor=world.actor(user),
            )
        except ValidationFailed:
            db.session.rollback()
            raise
        db.session.commit()
        return result


def stored(world: World, request_id: int | None = None) -> dict[str, tuple]:
    with world.app.app_context():
        rows = svc.answers_of(db.session, request_id or world.request_a)
        return {k: (a.value, a.comment, a.version, a.carried_over) for k, a in rows.items()}


def request_row(world: World, request_id: int | None = None) -> QuestionnaireRequest:
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, request_id or world.request_a)
        db.session.expunge(req)
        return req


def set_status(app, request_id: int, status: RequestStatus, **fields) -> None:
    with app.app_context():
        req = db.session.get(QuestionnaireRequest, request_id)
        req.status = status
        for name, value in fields.items():
            setattr(req, name, value)
        db.session.commit()


def answer_all_required(world: World, user, request_id: int | None = None) -> None:
    """Answers that leave nothing missing but the evidence (sso "no" hides its follow-ups)."""
    for qid, value in (("sso", "no"), ("mfa", "key"), ("staff", "40"), ("breach", "na")):
        save(world, user, qid, value, request=request_id)


# ---- saving one answer ---------------------------------------------------------------------


def test_a_saved_answer_is_stored_normalised_and_counts_in_the_progress(world):
    result = save(world, world.contact_a, "mfa", " KEY ", comment="  Since 2021. ")

    assert result.status == "saved" and result.version == 1
    assert stored(world)["mfa"] == ("key", "Since 2021.", 1, False)
    req = request_row(world)
    assert req.status is RequestStatus.in_progress  # the first answer starts the work
    # Asked: sso, mfa, channels, staff, reviewed-on, anything, audit-report, breach (the sso
    # follow-ups are hidden until sso is "yes"; the info text is never counted).
    assert (req.answered_count, req.question_count) == (1, 8)

    save(world, world.contact_a, "sso", "yes")
    req = request_row(world)
    assert (req.answered_count, req.question_count) == (2, 9)  # sso-product is asked now


def test_saving_the_same_answer_again_changes_nothing(world):
    first = save(world, world.contact_a, "channels", ["home", "office"], comment="VPN")
    again = save(world, world.contact_a, "channels", ["office", "home"], comment="VPN", base=0)

    assert first.version == again.version == 1
    assert again.status == "unchanged"  # even from a stale version: it is the same answer
    assert stored(world)["channels"][0] == ["office", "home"]  # in the options' order


def test_a_save_over_a_newer_answer_is_a_conflict_and_overwrites_nothing(world):
    save(world, world.contact_a, "staff", "40")  # version 1, seen by both
    save(world, world.colleague_a, "staff", "45", base=1)  # Ben's: version 2

    late = save(world, world.contact_a, "staff", "50", base=1)  # Ana still saw version 1

    assert late.status == "conflict"
    assert late.conflict.value == 45
    assert late.conflict.version == 2
    assert late.conflict.saved_by == "Ben"
    assert stored(world)["staff"][0] == 45
    # Knowing it now, Ana may keep hers: a save based on the version she was shown.
    kept = save(world, world.contact_a, "staff", "50", base=late.conflict.version)
    assert kept.status == "saved" and stored(world)["staff"][:3] == (50, "", 3)


def test_a_new_answer_saved_by_someone_else_first_is_a_conflict_too(world):
    save(world, world.colleague_a, "sso", "yes", base=0)
    late = save(world, world.contact_a, "sso", "no", base=0)
    assert late.status == "conflict" and late.conflict.value == "yes"


def test_a_deliberate_overwrite_and_clearing_an_answer(world):
    save(world, world.contact_a, "anything", "First thoughts")
    save(world, world.colleague_a, "anything", "Second thoughts", base=None)
    assert stored(world)["anything"][0] == "Second thoughts"

    cleared = save(world, world.contact_a, "anything", "", base=2)
    assert cleared.status == "saved" and stored(world)["anything"][0] is None
    assert request_row(world).answered_count == 0


def test_a_comment_alone_can_be_saved_and_none_keeps_it(world):
    save(world, world.contact_a, "sso", "yes", comment="Okta")
    save(world, world.contact_a, "sso", "yes", comment=None, base=1)
    assert stored(world)["sso"][:2] == ("yes", "Okta")
    save(world, world.contact_a, "sso", "yes", comment="Okta and Google", base=1)
    assert stored(world)["sso"][:3] == ("yes", "Okta and Google", 2)


@pytest.mark.parametrize(
    ("question_id", "value", "message"),
    [
        ("mfa", "sms", "Choose one of the answers offered."),
        ("staff", "many", "Write a number"),
        ("staff", "0", "at least 1"),
        ("reviewed-on", "31/12/2024", "Write a date like"),
        ("channels", ["office", "moon"], "Choose among the answers offered."),
        ("anything", "x" * 20_001, "Keep the answer within 20,000 characters"),
    ],
)
def test_an_answer_that_does_not_fit_its_question_is_refused(world, question_id, value, message):
    with pytest.raises(AnswerRefused) as refused:
        save(world, world.contact_a, question_id, value)
    assert refused.value.reason == "invalid"
    assert message in refused.value.errors[question_id][0]
    assert stored(world) == {}
    assert request_row(world).status is RequestStatus.sent


def test_unknown_questions_and_info_texts_take_no_answer(world):
    for question_id in ("no-such-question", "note"):
        with pytest.raises(AnswerRefused) as refused:
            save(world, world.contact_a, question_id, "yes")
        assert refused.value.reason == "unknown"


def test_a_question_hidden_by_show_if_is_refused_on_the_server(world):
    with pytest.raises(AnswerRefused) as refused:
        save(world, world.contact_a, "sso-product", "Okta")  # asked only when sso is "yes"
    assert refused.value.reason == "hidden"
    assert "not asked" in refused.value.message

    save(world, world.contact_a, "sso", "yes")
    save(world, world.contact_a, "sso-product", "Okta")
    save(world, world.contact_a, "sso-product-version", "2024.1")  # shown by an answered one
    save(world, world.contact_a, "sso", "no", base=1)
    # Hidden again, and so is the one that depends on it (hidden by a hidden question).
    for question_id in ("sso-product", "sso-product-version"):
        with pytest.raises(AnswerRefused):
            save(world, world.contact_a, question_id, "changed", base=1)


def test_answers_are_read_only_once_submitted_until_returned(world):
    set_status(world.app, world.request_a, RequestStatus.submitted, submitted_at=utcnow())
    with pytest.raises(AnswerRefused) as refused:
        save(world, world.contact_a, "sso", "yes")
    assert refused.value.reason == "read_only"
    assert "read-only unless a reviewer returns it" in refused.value.message

    set_status(world.app, world.request_a, RequestStatus.returned)
    save(world, world.contact_a, "sso", "yes")
    assert request_row(world).status is RequestStatus.in_progress


@pytest.mark.parametrize("status", [RequestStatus.accepted, RequestStatus.cancelled])
def test_accepted_and_cancelled_requests_take_no_answer(world, status):
    set_status(world.app, world.request_a, status)
    with pytest.raises(AnswerRefused):
        save(world, world.contact_a, "sso", "yes")


def test_parallel_autosaves_lose_no_answer_and_no_count(world):
    """Eight saves at once, from separate connections: every answer stored, the count exact,
    nobody told the database is locked."""
    answers = {
        "sso": "yes",
        "sso-product": "Okta",
        "mfa": "key",
        "channels": ["office"],
        "staff": "12",
        "reviewed-on": "2025-01-31",
        "anything": "Nothing else.",
        "breach": "no",
    }
    save(world, world.contact_a, "sso", "yes")  # so that sso-product is asked
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(answers) - 1)

    def one(question_id, value):
        try:
            barrier.wait(timeout=10)
            save(world, world.contact_a, question_id, value, base=0)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=one, args=item) for item in answers.items() if item[0] != "sso"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert {k: v[0] for k, v in stored(world).items()} == {
        **answers,
        "staff": 12,
    }
    assert request_row(world).answered_count == len(answers)


def test_parallel_saves_of_one_answer_let_one_win_and_tell_the_other(world):
    outcomes: list = []
    barrier = threading.Barrier(2)

    def one(user, value):
        barrier.wait(timeout=10)
        outcomes.append(save(world, user, "staff", value, base=0))

    threads = [
        threading.Thread(target=one, args=(world.contact_a, "10")),
        threading.Thread(target=one, args=(world.colleague_a, "20")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(o.status for o in outcomes) == ["conflict", "saved"]
    winner = next(o for o in outcomes if o.status == "saved")
    assert stored(world)["staff"][:3] == (winner.value, "", 1)


# ---- what stops a submission ---------------------------------------------------------------


def missing_of(world: World) -> list[tuple[str, str]]:
    from vendor_risk.services.questionnaires.answers import evidence_of

    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        found = svc.missing_answers(
            svc.questionnaire_of_request(db.session, req),
            svc.answers_of(db.session, req.id),
            evidence_of(db.session, req.id),
        )
        return [(m.question_id, m.reason) for m in found]


def test_missing_lists_required_and_conditionally_required_answers_and_evidence(world):
    assert missing_of(world) == [
        ("sso", "answer"),
        ("mfa", "answer"),
        ("staff", "answer"),
        ("breach", "answer"),
    ]
    save(world, world.contact_a, "sso", "yes")  # asks sso-product, required
    save(world, world.contact_a, "mfa", "app")  # evidence required, none attached
    save(world, world.contact_a, "breach", "yes")
    assert missing_of(world) == [
        ("sso-product", "answer"),
        ("mfa", "evidence"),
        ("staff", "answer"),
        ("breach", "evidence"),
    ]
    save(world, world.contact_a, "sso", "no", base=1)  # hides sso-product (and its follower)
    save(world, world.contact_a, "breach", "na", base=1)  # nothing to prove: no evidence asked
    assert missing_of(world) == [("mfa", "evidence"), ("staff", "answer")]


def test_submit_refuses_with_every_missing_answer_and_changes_nothing(world):
    save(world, world.contact_a, "sso", "yes")
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        with pytest.raises(SubmitRefused) as refused:
            svc.submit(db.session, req, actor=world.actor(world.contact_a))
        db.session.rollback()
    missing = refused.value.missing
    assert [m.question_id for m in missing] == ["sso-product", "mfa", "staff", "breach"]
    assert missing[0].anchor == "q-sso-product"
    assert missing[0].text == "Which single sign-on product do you use?"
    assert missing[0].section_title == "Access"
    assert request_row(world).status is RequestStatus.in_progress


def test_submit_moves_to_submitted_once_and_a_second_click_is_harmless(world):
    from conftest import events
    from test_evidence import PDF, upload_file

    from vendor_risk.services.questionnaires import evidence

    answer_all_required(world, world.contact_a)
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        evidence.store_upload(
            db.session, req, "mfa", upload_file(PDF, "mfa.pdf"), actor=world.actor(world.contact_a)
        )
        db.session.commit()
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        assert svc.submit(db.session, req, actor=world.actor(world.contact_a)) is True
        db.session.commit()
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        assert svc.submit(db.session, req, actor=world.actor(world.contact_a)) is False
        db.session.commit()
    req = request_row(world)
    assert req.status is RequestStatus.submitted and req.submitted_at is not None
    assert len(events(world.app, "request.submitted")) == 1


# ---- reassessment: answers carried over ---------------------------------------------------

CHANGED = (
    QUESTIONNAIRE.replace("version: 1", "version: 2")
    # An option removed: an answer "password" no longer fits and is not carried over.
    .replace("          - {value: password, label: A password only, score: 0}\n", "")
    # A question removed.
    .replace(
        """      - id: reviewed-on
        type: date
        text: When was your security policy last reviewed?
        required: false
""",
        "",
    )
    .replace("min: 1", "min: 5")
)


def test_prefill_copies_the_previous_accepted_answers_that_still_fit(world):
    old = world.request_a
    for qid, value in (
        ("sso", "yes"),
        ("sso-product", "Okta"),
        ("mfa", "password"),
        ("staff", "3"),
        ("reviewed-on", "2024-05-01"),
        ("anything", "Ask Ana."),
    ):
        save(world, world.contact_a, qid, value, comment=f"about {qid}")
    set_status(world.app, old, RequestStatus.accepted, reviewed_at=utcnow())
    with world.app.app_context():
        db.session.execute(
            sa.update(Answer)
            .where(Answer.request_id == old, Answer.question_id == "sso")
            .values(clarification="Which IdP?", internal_note="Checked with IT.")
        )
        db.session.commit()
    new_version = store(world.app, CHANGED)
    new = make_request(world.app, world.vendor_a, new_version)

    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, new)
        copied = svc.prefill_from_previous(db.session, req)
        db.session.commit()

    # mfa "password" is no option any more, staff 3 is under the new minimum, reviewed-on is gone.
    assert copied == 3
    answers = stored(world, new)
    assert answers == {
        "sso": ("yes", "about sso", 1, True),
        "sso-product": ("Okta", "about sso-product", 1, True),
        "anything": ("Ask Ana.", "about anything", 1, True),
    }
    req = request_row(world, new)
    assert req.previous_id == old
    assert req.answered_count == 3
    with world.app.app_context():
        fresh = db.session.get(Answer, (new, "sso"))
        assert (fresh.clarification, fresh.internal_note) == ("", "")
    # Changing a carried-over answer takes the mark away.
    save(world, world.contact_a, "anything", "Ask Ben.", base=1, request=new)
    assert stored(world, new)["anything"][3] is False


def test_prefill_without_an_accepted_request_copies_nothing(world):
    save(world, world.contact_a, "sso", "yes")  # in progress, not accepted
    second = make_request(world.app, world.vendor_a, world.version_id)
    other_vendor = make_request(world.app, world.vendor_b, world.version_id)
    set_status(world.app, world.request_b, RequestStatus.accepted)
    with world.app.app_context():
        for request_id in (second, other_vendor):
            req = db.session.get(QuestionnaireRequest, request_id)
            if request_id == other_vendor:
                assert svc.prefill_from_previous(db.session, req) == 0  # B's has no answer
            else:
                assert svc.prefill_from_previous(db.session, req) == 0
                assert req.previous_id is None
        db.session.commit()


# ---- workbook imports ----------------------------------------------------------------------


def test_save_imported_stores_every_answer_or_none(world):
    save(world, world.contact_a, "anything", "Typed in the portal", comment="mine")
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        with pytest.raises(AnswerRefused):
            svc.save_imported(
                db.session,
                req,
                {"sso": ("yes", None), "staff": ("lots", "about")},
                actor=world.actor(world.contact_a),
            )
        db.session.rollback()
    assert set(stored(world)) == {"anything"}

    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        changed = svc.save_imported(
            db.session,
            req,
            {"sso": ("yes", "from the workbook"), "staff": (12, None), "anything": (None, None)},
            actor=world.actor(world.colleague_a),
        )
        db.session.commit()
    assert changed == 3
    answers = stored(world)
    assert answers["sso"][:2] == ("yes", "from the workbook")
    assert answers["staff"][:2] == (12, "")
    assert answers["anything"][:2] == (None, "")  # a deliberate overwrite, no conflict


def test_save_imported_is_refused_after_submission(world):
    set_status(world.app, world.request_a, RequestStatus.submitted)
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        with pytest.raises(AnswerRefused) as refused:
            svc.save_imported(db.session, req, {"sso": ("yes", None)}, actor=SYSTEM)
    assert refused.value.reason == "read_only"


# ---- finding requests ----------------------------------------------------------------------


def test_a_contact_finds_only_their_vendors_sent_vendor_requests(world, make_user):
    draft = make_request(world.app, world.vendor_a, world.version_id, status=RequestStatus.draft)
    cancelled = make_request(
        world.app, world.vendor_a, world.version_id, status=RequestStatus.cancelled
    )
    intake = make_request(world.app, world.vendor_a, store(world.app, INTAKE))
    with world.app.app_context():
        from vendor_risk.models import User

        ana = db.session.get(User, world.contact_a.id)
        assert svc.request_for_contact(db.session, ana, world.request_a) is not None
        for other in (world.request_b, draft, cancelled, intake, 999_999):
            assert svc.request_for_contact(db.session, ana, other) is None
        rows = svc.requests_of_contact(db.session, ana, today=date.today())
        assert [r.id for r in rows] == [world.request_a]
        assert svc.internal_request(db.session, intake) is not None
        assert svc.internal_request(db.session, world.request_a) is None
