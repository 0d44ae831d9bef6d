"""Scores kept up to date (vendor_risk/services/scoring.py) and the rescore command: each
trigger recomputes the vendors concerned, and only those; a computation from unchanged inputs
adds nothing to the history; a stored score is reproduced from its inputs.

Requests are answered and submitted through the services vendors and reviewers use (and once
through the portal), the inventory is changed straight in its tables as any path would, and the
aggregates are refreshed by services.portfolio. The suite runs on SQLite, and on PostgreSQL
with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from conftest import add, events, login_as
from test_answers import make_request, store

from vendor_risk.core import scoring
from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Criticality,
    DataCategory,
    Environment,
    Privilege,
    QuestionnaireRequest,
    Role,
    ScoreTrigger,
    Sensitivity,
    Substitutability,
    System,
    SystemData,
    VendorRating,
    VendorReach,
    VendorScore,
)
from vendor_risk.services.assessments import scoring as service
from vendor_risk.services.audit import Actor
from vendor_risk.services.portfolio import aggregates as portfolio
from vendor_risk.services.questionnaires import answers as answers_service
from vendor_risk.services.questionnaires import requests as requests_service
from vendor_risk.services.questionnaires import review

if TYPE_CHECKING:  # imported by name at run time, pytest would collect it as a test class
    from conftest import TestUser

# Access 2 x (3 x mfa + sso) / 4, operations 1 x backups: with mfa "app" (0.5), sso "yes" and
# backups "yes", access scores 62.5 and operations 100, overall (2 x 62.5 + 100) / 3 = 75.
SECURITY = """
format: 1
id: supplier-security
title: Supplier security
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    weight: 2
    questions:
      - id: mfa
        type: single_choice
        text: How do your staff sign in?
        weight: 3
        critical: true
        options:
          - {value: keys, label: Security keys, score: 1}
          - {value: app, label: Codes from an authenticator app, score: 0.5}
          - {value: password, label: A password only, score: 0}
      - id: sso
        type: yes_no_na
        text: Do all your staff sign in through single sign-on?
  - id: operations
    title: Operations
    questions:
      - id: backups
        type: yes_no
        text: Do you test restoring your backups?
        weight: 2
      - id: staff
        type: number
        text: How many of your staff can reach our data?
        required: false
"""
# A second questionnaire whose section has the same id as the first one's: the two must never
# be mixed into one section.
CONTINUITY = """
format: 1
id: continuity
title: Continuity
version: 1
audience: vendor
sections:
  - id: access
    title: Access to the recovery site
    questions:
      - id: drill
        type: yes_no
        text: Did you run a recovery drill this year?
"""
# Filled by our staff, with scored options: it must never count in the vendor's control score.
INTAKE = """
format: 1
id: intake-scoring
title: Intake
version: 1
audience: internal
sections:
  - id: service
    title: The service
    questions:
      - id: criticality
        type: single_choice
        text: How important is the service?
        inherent: criticality
        options:
          - {value: low, label: Low, score: 1}
          - {value: high, label: High, score: 0}
"""
GOOD = {"mfa": "app", "sso": "yes", "backups": "yes"}


def questionnaire(text: str):
    return loader.parse(text, "test.yaml").questionnaire


def actor_of(user: TestUser) -> Actor:
    return Actor(label=user.email, user_id=user.id)


@dataclass
class World:
    app: object
    keystone: int  # holds a token into Jira, an admin login into Git, a login into the wiki
    harbor: int  # holds a token into Payroll: nothing the tests change reaches it
    contact: TestUser  # Keystone's
    officer: TestUser
    security: int  # version ids
    continuity: int
    intake: int
    systems: dict[str, int]
    credentials: dict[str, int]


@pytest.fixture
def world(app, make_vendor, make_user) -> World:
    """Two vendors with their inventory, the portfolio's aggregates computed and both rated."""
    # Their intakes say they get no data of ours directly (their credentials are recorded):
    # their ratings are complete.
    no_data = {"data_sensitivity": 0.0, "data_volume": 0.0}
    keystone = make_vendor(
        "Keystone Identity",
        criticality=Criticality.high,
        substitutability=Substitutability.hard,
        declared_risk=no_data,
    )
    harbor = make_vendor("Harbor Payroll", criticality=Criticality.medium, declared_risk=no_data)
    names = ["Jira", "Git", "Wiki", "Payroll"]
    system_ids = add(
        app,
        System(name="Jira"),
        System(name="Git"),
        System(name="Wiki", mfa_required=True),
        System(name="Payroll", environment=Environment.corporate),
    )
    systems = dict(zip(names, system_ids, strict=True))
    [pii] = add(app, DataCategory(name="Customer PII", sensitivity=Sensitivity.high))
    add(app, SystemData(system_id=systems["Jira"], data_category_id=pii, records=50_000))

    def credential(name, holder, system, **fields):
        return Credential(name=name, holder_vendor_id=holder, system_id=systems[system], **fields)

    credential_ids = add(
        app,
        credential("jira-token", keystone, "Jira", kind=CredentialKind.api_token),
        credential(
            "git-admin",
            keystone,
            "Git",
            kind=CredentialKind.user_account,
            privilege=Privilege.admin,
            interactive=True,
            mfa_enforced=True,
        ),
        credential(
            "wiki-login", keystone, "Wiki", kind=CredentialKind.user_account, interactive=True
        ),
        credential("payroll-token", harbor, "Payroll", kind=CredentialKind.api_token),
    )
    refresh(app)
    return World(
        app=app,
        keystone=keystone,
        harbor=harbor,
        contact=make_user(Role.vendor_contact, vendor_id=keystone),
        officer=make_user(Role.risk_officer),
        security=store(app, SECURITY),
        continuity=store(app, CONTINUITY),
        intake=store(app, INTAKE),
        systems=systems,
        credentials=dict(
            zip(
                ["jira-token", "git-admin", "wiki-login", "payroll-token"],
                credential_ids,
                strict=True,
            )
        ),
    )


# ---- helpers -------------------------------------------------------------------------------


def refresh(app) -> None:
    with app.app_context():
        portfolio.refresh(db.session)
        db.session.commit()


def snapshots(app, vendor_id: int) -> list[VendorScore]:
    """The vendor's score history, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(VendorScore)
            .where(VendorScore.vendor_id == vendor_id)
            .order_by(VendorScore.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def history_ids(app, vendor_id: int) -> list[int]:
    return [snapshot.id for snapshot in snapshots(app, vendor_id)]


def rating(app, vendor_id: int) -> VendorRating:
    with app.app_context():
        row = db.session.get(VendorRating, vendor_id)
        db.session.expunge_all()
        return row


def reach(app, vendor_id: int) -> VendorReach:
    with app.app_context():
        row = db.session.get(VendorReach, vendor_id)
        db.session.expunge_all()
        return row


def answer(app, user: TestUser, request_id: int, values: dict, comments: dict | None = None):
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        for question_id, value in values.items():
            result = answers_service.save_answer(
                db.session,
                request,
                question_id,
                value=value,
                comment=(comments or {}).get(question_id),
                base_version=None,
                actor=actor_of(user),
            )
            assert result.status == "saved", result
        db.session.commit()


def submit(app, user: TestUser, request_id: int) -> None:
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        assert answers_service.submit(db.session, request, actor=actor_of(user))
        db.session.commit()


def answered(world: World, version_id: int, values: dict, comments: dict | None = None) -> int:
    """A request of this version sent to Keystone, answered and submitted by its contact."""
    request_id = make_request(world.app, world.keystone, version_id)
    answer(world.app, world.contact, request_id, values, comments)
    submit(world.app, world.contact, request_id)
    return request_id


def return_for_clarification(world: World, request_id: int, question_id: str) -> None:
    """A risk officer asks about one answer and returns the request to the vendor."""
    with world.app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        review.write_note(
            db.session,
            request,
            question_id,
            clarification="Which staff still use codes from an app?",
            internal_note="",
            expected_stamp=None,
            actor=actor_of(world.officer),
        )
        review.return_for_clarification(
            db.session, request, expected_version=None, actor=actor_of(world.officer)
        )
        db.session.commit()


def accept(world: World, request_id: int) -> None:
    """A risk officer accepts the request: its answers count in the rating from now on."""
    with world.app.app_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        review.accept(db.session, request, expected_version=None, actor=actor_of(world.officer))
        db.session.commit()


def accepted(world: World, version_id: int, values: dict) -> int:
    """A request answered and submitted by Keystone's contact, and accepted."""
    request_id = answered(world, version_id, values)
    accept(world, request_id)
    return request_id


def change(app, model, row_id: int, **values) -> None:
    """An inventory change straight in the table: the database triggers see it as any other."""
    with app.app_context():
        db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def rescore_command(app, *args: str):
    return app.test_cli_runner().invoke(args=["rescore", *args])


# ---- a request submitted, and submitted again --------------------------------------------------


def test_a_submission_through_the_portal_scores_the_vendor_from_its_answers(world, client):
    app = world.app
    request_id = make_request(app, world.keystone, world.security)
    answer(app, world.contact, request_id, GOOD | {"staff": "40"})
    before = snapshots(app, world.keystone)
    harbor = history_ids(app, world.harbor)

    login_as(client, world.contact)
    response = client.post(f"/portal/requests/{request_id}/submit")

    assert response.status_code == 302
    history = snapshots(app, world.keystone)
    assert len(history) == len(before) + 1
    latest = history[-1]
    assert latest.trigger == "submitted" and latest.request_id == request_id
    expected = scoring.control_score_of(questionnaire(SECURITY), GOOD | {"staff": 40}, {})
    assert expected.score == 75.0  # by hand: (2 x 62.5 + 1 x 100) / 3
    # The vendor's own answers: provisional. The rating that counts has not moved.
    current = rating(app, world.keystone)
    assert current.control_score is latest.control_score is None
    assert current.residual_score == latest.residual_score == before[-1].residual_score
    assert current.score_id == latest.id
    provisional = scoring.reproduce(latest.inputs).provisional
    assert provisional.control.score == expected.score
    assert (current.provisional_score, current.provisional_tier) == (
        provisional.score,
        str(provisional.tier),
    )
    assert current.provisional_score < current.residual_score  # controls would remove risk
    assert history_ids(app, world.harbor) == harbor  # another vendor: untouched


def test_an_acceptance_makes_the_answers_count_in_the_rating(world):
    app = world.app
    before = rating(app, world.keystone).residual_score
    request_id = answered(world, world.security, GOOD)
    provisional = rating(app, world.keystone).provisional_score

    accept(world, request_id)

    latest = snapshots(app, world.keystone)[-1]
    assert latest.trigger == "accepted" and latest.request_id == request_id
    current = rating(app, world.keystone)
    assert current.score_id == latest.id
    assert current.control_score == latest.control_score == 75.0
    assert current.residual_score == provisional < before
    assert (current.provisional_score, current.provisional_tier) == (None, None)


def test_a_returned_request_counts_as_not_reviewed_and_its_resubmission_too(world):
    app = world.app
    settled = rating(app, world.keystone).residual_score
    request_id = answered(world, world.security, GOOD)

    return_for_clarification(world, request_id, "mfa")
    returned = rating(app, world.keystone)
    assert returned.control_score is None and returned.residual_score == settled
    assert returned.provisional_score is not None  # the answers last submitted, provisionally

    answer(app, world.contact, request_id, {"mfa": "keys"})
    submit(app, world.contact, request_id)

    latest = snapshots(app, world.keystone)[-1]
    assert latest.trigger == "answers_changed" and latest.request_id == request_id
    improved = scoring.control_score_of(questionnaire(SECURITY), GOOD | {"mfa": "keys"}, {})
    assert improved.score == 100.0
    assert scoring.reproduce(latest.inputs).provisional.control.score == 100.0
    assert rating(app, world.keystone).control_score is None
    assert rating(app, world.keystone).residual_score == settled

    accept(world, request_id)
    assert rating(app, world.keystone).control_score == 100.0


def test_an_earlier_accepted_request_counts_until_the_next_one_is_accepted(world):
    app = world.app
    first = accepted(world, world.security, GOOD)  # 75
    settled = rating(app, world.keystone)
    second = answered(world, world.security, GOOD | {"mfa": "keys"})  # 100, not accepted

    current = rating(app, world.keystone)
    assert (current.control_score, current.residual_score) == (75.0, settled.residual_score)
    assert current.provisional_score < current.residual_score
    with app.app_context():
        counted = service.counted_requests(db.session, world.keystone)
    assert counted.accepted == {"supplier-security": first}
    assert counted.latest == counted.awaiting == {"supplier-security": second}

    # Cancelled, the newer answers count nowhere: the provisional rating goes.
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, second)
        requests_service.cancel(db.session, request, actor=actor_of(world.officer))
        db.session.commit()
    current = rating(app, world.keystone)
    assert snapshots(app, world.keystone)[-1].trigger == "cancelled"
    assert (current.control_score, current.provisional_score) == (75.0, None)


def test_a_critical_failure_caps_the_control_score_and_keeps_the_tier_at_least_high(world):
    app = world.app
    request_id = answered(world, world.security, GOOD | {"mfa": "password"})
    assert rating(app, world.keystone).provisional_tier == "high"
    accept(world, request_id)

    current = rating(app, world.keystone)
    assert current.control_score == scoring.CRITICAL_CAP
    assert current.critical_failures == 1
    assert current.residual_score < 45  # banded medium: the critical failure lifts it
    assert current.residual_tier == "high"


# ---- inventory changes ------------------------------------------------------------------------


def add_machine_key_into_git(world: World) -> None:
    add(
        world.app,
        Credential(
            name="deploy-key",
            kind=CredentialKind.ssh_key,
            holder_vendor_id=world.keystone,
            system_id=world.systems["Git"],
            privilege=Privilege.write,
        ),
    )


def switch_mfa_off_on_the_wiki(world: World) -> None:
    change(world.app, System, world.systems["Wiki"], mfa_required=False)


def stop_enforcing_mfa_on_the_git_admin(world: World) -> None:
    change(world.app, Credential, world.credentials["git-admin"], mfa_enforced=False)


@pytest.mark.parametrize(
    "grow",
    [add_machine_key_into_git, switch_mfa_off_on_the_wiki, stop_enforcing_mfa_on_the_git_admin],
)
def test_more_reach_rescores_the_vendor_concerned_and_never_lowers_its_exposure(world, grow):
    app = world.app
    before = snapshots(app, world.keystone)[-1]
    reach_before = reach(app, world.keystone).systems_despite_controls
    harbor_before = history_ids(app, world.harbor)

    grow(world)
    refresh(app)

    assert reach(app, world.keystone).systems_despite_controls > reach_before
    latest = snapshots(app, world.keystone)[-1]
    assert latest.id != before.id and latest.trigger == "inventory_changed"
    assert latest.exposure_score > before.exposure_score
    assert rating(app, world.keystone).exposure_score == latest.exposure_score
    assert history_ids(app, world.harbor) == harbor_before  # not concerned: not rescored


def test_a_revoked_credential_rescores_its_holder_with_less_exposure(world):
    app = world.app
    before = snapshots(app, world.keystone)[-1]
    harbor_before = history_ids(app, world.harbor)

    change(app, Credential, world.credentials["jira-token"], status=CredentialStatus.revoked)
    refresh(app)

    latest = snapshots(app, world.keystone)[-1]
    assert latest.trigger == "inventory_changed"
    assert latest.exposure_score < before.exposure_score
    assert history_ids(app, world.harbor) == harbor_before


def test_a_rotation_that_changes_no_input_adds_no_snapshot(world):
    app = world.app
    history = history_ids(app, world.keystone)

    change(app, Credential, world.credentials["jira-token"], last_rotated_at=utcnow())
    refresh(app)  # the inventory changed: the aggregates are computed again

    assert history_ids(app, world.keystone) == history


def test_rescoring_unchanged_inputs_adds_no_snapshot(world):
    app = world.app
    answered(world, world.security, GOOD)
    keystone, harbor = history_ids(app, world.keystone), history_ids(app, world.harbor)
    current = rating(app, world.keystone)

    with app.app_context():
        result = service.rescore(db.session, None, trigger=ScoreTrigger.rescore)
        db.session.commit()

    assert (result.vendors, result.recorded) == (2, 0)
    assert history_ids(app, world.keystone) == keystone
    assert history_ids(app, world.harbor) == harbor
    assert rating(app, world.keystone).score_id == current.score_id


def test_ratings_of_another_parameters_version_are_rescored_at_the_next_refresh(world):
    app = world.app
    harbor = history_ids(app, world.harbor)
    with app.app_context():
        db.session.execute(
            sa.update(VendorRating)
            .where(VendorRating.vendor_id == world.keystone)
            .values(parameters_version=0)
        )
        db.session.commit()

    refresh(app)

    latest = snapshots(app, world.keystone)[-1]
    assert latest.trigger == "parameters_changed"
    assert latest.parameters_version == scoring.PARAMETERS_VERSION
    assert rating(app, world.keystone).parameters_version == scoring.PARAMETERS_VERSION
    assert history_ids(app, world.harbor) == harbor
    refresh(app)  # done once: the next refresh finds nothing outdated
    assert snapshots(app, world.keystone)[-1].id == latest.id


# ---- reproducing a past score ---------------------------------------------------------------


def test_every_stored_score_is_reproduced_from_its_inputs(world):
    app = world.app
    request_id = answered(world, world.security, GOOD | {"mfa": "password"})
    return_for_clarification(world, request_id, "mfa")
    answer(app, world.contact, request_id, {"mfa": "keys", "sso": "na"}, {"sso": "No SSO here."})
    submit(app, world.contact, request_id)
    stop_enforcing_mfa_on_the_git_admin(world)
    refresh(app)

    history = snapshots(app, world.keystone) + snapshots(app, world.harbor)
    assert len(history) >= 5
    for stored in history:
        again = scoring.reproduce(stored.inputs)
        assert (again.score, str(again.tier)) == (stored.residual_score, stored.residual_tier)
        assert again.exposure.score == stored.exposure_score
        assert (again.control.score if again.control else None) == stored.control_score


def test_a_ratings_digest_is_the_one_its_computed_score_gives(world):
    # Rescoring decides from the rows as stored, before computing, whether a vendor changed:
    # that digest must be the one of the computed score's own inputs, or ratings recorded
    # until now would all look changed (and the history would gain a point for nothing).
    app = world.app
    accepted(world, world.security, GOOD)
    answered(world, world.continuity, {"drill": "yes"})  # two questionnaires, one provisional

    for vendor_id, with_controls in ((world.keystone, True), (world.harbor, False)):
        stored = snapshots(app, vendor_id)[-1]
        computed = scoring.reproduce(stored.inputs)
        assert (computed.control is not None) is with_controls
        assert (computed.provisional is not None) is with_controls
        assert stored.inputs == computed.inputs()
        assert rating(app, vendor_id).inputs_digest == service.fingerprint(computed.inputs())[1]


# ---- what counts in the control score ----------------------------------------------------------


def test_an_intake_filled_by_our_staff_never_counts_in_the_control_score(world, make_user):
    app = world.app
    procurement = make_user(Role.procurement)
    intake = make_request(app, world.keystone, world.intake)
    answer(app, procurement, intake, {"criticality": "high"})  # scores 0 if it were counted
    history = history_ids(app, world.keystone)

    submit(app, procurement, intake)

    assert history_ids(app, world.keystone) == history
    assert rescore_command(app, "Keystone Identity").exit_code == 0
    assert rating(app, world.keystone).control_score is None

    accepted(world, world.security, GOOD)
    assert rating(app, world.keystone).control_score == 75.0  # the questionnaire's alone


def test_the_sections_of_two_questionnaires_both_count_and_never_mix(world):
    app = world.app
    accepted(world, world.security, GOOD)
    accepted(world, world.continuity, {"drill": "no"})

    latest = snapshots(app, world.keystone)[-1]
    # (2 x 62.5 + 1 x 100 + 1 x 0) / 4: the continuity "access" section weighs on its own.
    assert latest.control_score == rating(app, world.keystone).control_score == 56.25
    sections = {s["id"]: s["score"] for s in service.explain(latest)["control"]["sections"]}
    assert sections == {
        "supplier-security/access": 62.5,
        "supplier-security/operations": 100.0,
        "continuity/access": 0.0,
    }


# ---- the rescore command -------------------------------------------------------------------


def test_rescore_by_name_in_any_case_prints_the_rating_and_is_audited(world):
    app = world.app
    accepted(world, world.security, GOOD)
    current = rating(app, world.keystone)

    result = rescore_command(app, "keystone IDENTITY")

    assert result.exit_code == 0, result.output
    assert "Rescored 1 vendor: 0 snapshots recorded" in result.output
    assert (
        f"Keystone Identity: residual risk {current.residual_score:g}, "
        f"tier {current.residual_tier}." in result.output
    )
    [event] = events(app, "scoring.rescored")
    assert event.vendor_id == world.keystone
    assert event.details == {"count": 1, "recorded": 0, "vendor": "Keystone Identity"}


def test_rescore_by_name_says_what_a_rating_misses_and_what_is_provisional(world, make_vendor):
    app = world.app
    make_vendor("Blank Vendor", criticality=Criticality.critical)
    result = rescore_command(app, "Blank Vendor")
    assert result.exit_code == 0, result.output
    assert (
        "Blank Vendor: residual risk 56.1, tier high; incomplete, missing: the data it holds; "
        "how many records it holds; the access its credentials give." in result.output
    )

    answered(world, world.security, GOOD)
    current = rating(app, world.keystone)
    result = rescore_command(app, "Keystone Identity")
    assert (
        f"Keystone Identity: residual risk {current.residual_score:g}, tier "
        f"{current.residual_tier}; provisional {current.provisional_score:g}, tier "
        f"{current.provisional_tier}, once the answers awaiting review are accepted (not "
        "counted)." in result.output
    )


def test_rescore_refreshes_stale_aggregates_first(world):
    app = world.app
    before = snapshots(app, world.keystone)[-1]
    add_machine_key_into_git(world)  # the aggregates are stale now

    result = rescore_command(app, "Keystone Identity")

    assert result.exit_code == 0, result.output
    assert "Refreshed the portfolio's aggregates first" in result.output
    latest = snapshots(app, world.keystone)[-1]
    assert latest.trigger == "inventory_changed" and latest.exposure_score > before.exposure_score
    assert f"residual risk {latest.residual_score:g}" in result.output


def test_rescore_all_computes_every_vendor_and_is_audited_once(world):
    app = world.app
    with app.app_context():  # as if the ratings were lost: every vendor is computed again
        db.session.execute(sa.delete(VendorRating))
        db.session.commit()

    result = rescore_command(app, "--all")

    assert result.exit_code == 0, result.output
    assert "Rescored 2 vendors: 2 snapshots recorded" in result.output
    assert snapshots(app, world.keystone)[-1].trigger == "rescore"
    assert rating(app, world.harbor) is not None
    [event] = events(app, "scoring.rescored")
    assert event.vendor_id is None
    assert event.details == {"count": 2, "recorded": 2, "all": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nobody Inc"], "no vendor named 'Nobody Inc'"),
        ([], "give a VENDOR (its name) or --all"),
        (["--all", "Keystone Identity"], "give either VENDOR or --all, not both"),
    ],
)
def test_rescore_refuses_an_unknown_vendor_and_wants_exactly_one_target(world, args, message):
    app = world.app
    history = history_ids(app, world.keystone)

    result = rescore_command(app, *args)

    assert result.exit_code == 2
    assert message in result.output
    assert events(app, "scoring.rescored") == []
    assert history_ids(app, world.keystone) == history
