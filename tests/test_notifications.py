"""Notifications (issue 15): each event tells the right people and nobody else (above all, never
the contacts of another vendor), in the app always and by email as each prefers; the
time-based events and the digest are idempotent commands; the list, its header count and
"mark read" are each user's own; an email's link works through login and the second factor.

Requests, findings and incidents are made through the services the pages use. The suite runs
on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from conftest import add, count, deliver, events, login, login_as, text

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, today_utc
from vendor_risk.models import (
    Credential,
    CredentialKind,
    Delivery,
    EventType,
    Finding,
    FindingSeverity,
    FindingSource,
    Notification,
    NotificationPreference,
    OutboxMessage,
    QuestionnaireRequest,
    RequestStatus,
    RiskAcceptance,
    Role,
    System,
)
from vendor_risk.services import findings, incidents
from vendor_risk.services.audit import Actor
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
    questions:
      - id: sso
        type: yes_no
        text: Do your staff sign in through single sign-on?
      - id: staff
        type: number
        text: How many of your staff can reach our data?
"""
ASK = "Which staff still sign in without SSO, and until when?"
TODAY = today_utc()


def actor_of(user) -> Actor:
    return Actor(label=user.email, user_id=user.id)


@pytest.fixture
def world(app, make_vendor, make_user):
    vendor_a = make_vendor("Keystone Identity")
    vendor_b = make_vendor("Harbor Payroll")
    people = {
        "officer": make_user(Role.risk_officer, email="rita@ours.example"),
        "officer2": make_user(Role.risk_officer, email="rob@ours.example"),
        "gone": make_user(Role.risk_officer, email="gone@ours.example", active=False),
        "procurement": make_user(Role.procurement, email="pat@ours.example"),
        "admin": make_user(Role.admin, email="ada@ours.example"),
        "contact_a": make_user(Role.vendor_contact, vendor_id=vendor_a, email="ann@a.example"),
        "contact_a2": make_user(Role.vendor_contact, vendor_id=vendor_a, email="al@a.example"),
        "contact_b": make_user(Role.vendor_contact, vendor_id=vendor_b, email="bob@b.example"),
    }
    with app.app_context():
        parsed = loader.parse(QUESTIONNAIRE, "access-review.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="access-review.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        version_id = stored.version.id
    return {"vendor_a": vendor_a, "vendor_b": vendor_b, "version": version_id, **people}


def told(app, event: EventType) -> dict[str, list[Notification]]:
    """Who was told of ``event``: their email -> their notifications."""
    from vendor_risk.models import User

    with app.app_context():
        rows = db.session.execute(
            sa.select(User.email, Notification)
            .join(User, User.id == Notification.user_id)
            .where(Notification.event == event)
            .order_by(Notification.id)
        ).all()
        out: dict[str, list[Notification]] = {}
        for email, notification in rows:
            db.session.expunge(notification)
            out.setdefault(email, []).append(notification)
        return out


def mails_to(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def prefer(app, user, event: EventType, delivery: Delivery) -> None:
    add(app, NotificationPreference(user_id=user.id, event=event, delivery=delivery))


def new_request(app, world, vendor="a", due_in=14) -> int:
    with app.test_request_context():
        made = requests.create_request(
            db.session,
            vendor_id=world[f"vendor_{vendor}"],
            version_id=world["version"],
            due_on=TODAY + timedelta(days=due_in),
            contact_emails=[world[f"contact_{vendor}"].email],
            actor=actor_of(world["procurement"]),
        )
        db.session.commit()
        return made.id


def answer_and_submit(app, world, request_id: int, vendor="a") -> None:
    contact = world[f"contact_{vendor}"]
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        for question, value in (("sso", "yes"), ("staff", "12")):
            answers_service.save_answer(
                db.session,
                request,
                question,
                value=value,
                comment=None,
                base_version=None,
                actor=actor_of(contact),
            )
        assert answers_service.submit(db.session, request, actor=actor_of(contact))
        db.session.commit()


@pytest.fixture
def submitted(app, world) -> int:
    request_id = new_request(app, world)
    answer_and_submit(app, world, request_id)
    return request_id


def return_request(app, world, request_id: int) -> None:
    officer = actor_of(world["officer"])
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        review.write_note(
            db.session,
            request,
            "sso",
            clarification=ASK,
            internal_note="",
            expected_stamp=None,
            actor=officer,
        )
        review.return_for_clarification(db.session, request, expected_version=None, actor=officer)
        db.session.commit()


# ---- the events of actions -----------------------------------------------------------------


def test_a_submission_tells_the_active_risk_officers_only(app, world, submitted):
    waiting = told(app, EventType.submission_waiting)
    assert set(waiting) == {"rita@ours.example", "rob@ours.example"}  # not the disabled one
    notification = waiting["rita@ours.example"][0]
    assert notification.title == "Waiting for review: Access and people (Keystone Identity)"
    assert (notification.endpoint, notification.link_values) == (
        "review.request_view",
        {"request_id": submitted},
    )
    # Email at once by default: an outbox row to each officer, with an absolute link.
    [mail] = [m for m in mails_to(app, "rita@ours.example") if "Waiting" in m.subject]
    assert f"http://127.0.0.1:5000/review/{submitted}" in mail.body
    assert mails_to(app, "gone@ours.example") == []


def test_a_return_lists_the_questions_to_the_vendors_contacts_and_nobody_else(
    app, world, submitted
):
    return_request(app, world, submitted)
    returned = told(app, EventType.request_returned)
    assert set(returned) == {"ann@a.example", "al@a.example"}  # never bob@b.example
    notification = returned["ann@a.example"][0]
    assert notification.title == "Questionnaire returned for clarification: Access and people"
    assert "1.1 Do your staff sign in through single sign-on?" in notification.text
    assert ASK in notification.text
    [mail] = [m for m in mails_to(app, "ann@a.example") if "returned" in m.subject]
    assert ASK in mail.body and f"/portal/requests/{submitted}" in mail.body
    assert "/invite/" not in mail.body  # no invitation token in a notification
    assert mails_to(app, "bob@b.example") == []


def test_an_acceptance_tells_the_vendors_contacts(app, world, submitted):
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, submitted)
        review.accept(db.session, request, expected_version=None, actor=actor_of(world["officer"]))
        db.session.commit()
    accepted = told(app, EventType.request_accepted)
    assert set(accepted) == {"ann@a.example", "al@a.example"}
    assert accepted["al@a.example"][0].link_values == {"request_id": submitted}


def test_a_finding_shown_to_the_vendor_tells_its_contacts_once(app, world):
    officer = actor_of(world["officer"])
    values = {
        "title": "No SSO for support staff",
        "severity": FindingSeverity.high,
        "visible_to_vendor": True,
    }
    with app.test_request_context():
        shown = findings.create_finding(db.session, world["vendor_a"], values, actor=officer)
        hidden = findings.create_finding(
            db.session,
            world["vendor_a"],
            values | {"title": "Internal doubt", "visible_to_vendor": False},
            actor=officer,
        )
        db.session.commit()
        shown_id, hidden_id = shown.id, hidden.id
    shared = told(app, EventType.finding_shared)
    assert set(shared) == {"ann@a.example", "al@a.example"}
    assert [n.link_values for n in shared["ann@a.example"]] == [{"finding_id": shown_id}]
    assert shared["ann@a.example"][0].endpoint == "portal.finding"

    # Made visible later: told then; hidden and shown again: not told twice.
    with app.test_request_context():
        finding = db.session.get(Finding, hidden_id)
        for visible in (True, False, True):
            values = {name: getattr(finding, name) for name in findings.FINDING_FIELDS}
            findings.update_finding(
                db.session,
                finding,
                values | {"visible_to_vendor": visible},
                expected_version=None,
                actor=officer,
            )
        db.session.commit()
    shared = told(app, EventType.finding_shared)
    assert [n.link_values["finding_id"] for n in shared["al@a.example"]] == [shown_id, hidden_id]
    assert "bob@b.example" not in shared


def test_an_incident_tells_risk_officers_and_the_owners_of_credentials_to_rotate(app, world):
    [jira] = add(app, System(name="Jira"))
    add(
        app,
        Credential(
            name="svc-jira",
            kind=CredentialKind.service_account,
            holder_vendor_id=world["vendor_a"],
            system_id=jira,
            owner=" PAT@ours.example ",  # the owner as typed: matched to the user's address
        ),
        Credential(
            name="jira-admin",
            kind=CredentialKind.api_token,
            holder_vendor_id=world["vendor_a"],
            system_id=jira,
            owner="ann@a.example",  # a vendor contact: an incident is never shown to them
        ),
        Credential(
            name="jira-bot",
            kind=CredentialKind.api_token,
            holder_vendor_id=world["vendor_a"],
            system_id=jira,
            owner="SRE team",  # a name, no address: nobody to match
        ),
    )
    started = datetime.combine(TODAY - timedelta(days=10), datetime.min.time(), UTC)
    with app.test_request_context():
        incident = incidents.open_incident(
            db.session,
            {
                "vendor_id": world["vendor_a"],
                "title": "Support tickets breached",
                "started_at": started,
                "detected_at": started + timedelta(days=2),
                "notes": "",
            },
            actor=actor_of(world["procurement"]),
        )
        db.session.commit()
        incident_id = incident.id
    opened = told(app, EventType.incident_opened)
    assert set(opened) == {"rita@ours.example", "rob@ours.example"}
    assert opened["rita@ours.example"][0].link_values == {"incident_id": incident_id}
    rotate = told(app, EventType.credential_to_rotate)
    assert set(rotate) == {"pat@ours.example"}
    assert "svc-jira (opens Jira)" in rotate["pat@ours.example"][0].text
    assert "jira-admin" not in rotate["pat@ours.example"][0].text
    assert count(app, Notification, Notification.user_id == world["contact_a"].id) == 0


# ---- preferences ---------------------------------------------------------------------------


def test_in_app_only_sends_no_email_and_digest_waits_for_the_command(app, world):
    prefer(app, world["officer"], EventType.submission_waiting, Delivery.in_app)
    prefer(app, world["officer2"], EventType.submission_waiting, Delivery.digest)
    request_id = new_request(app, world)
    answer_and_submit(app, world, request_id)
    waiting = told(app, EventType.submission_waiting)
    assert set(waiting) == {"rita@ours.example", "rob@ours.example"}  # recorded for both
    assert mails_to(app, "rita@ours.example") == []
    assert mails_to(app, "rob@ours.example") == []

    runner = app.test_cli_runner()
    result = runner.invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    assert "Digest of 1 queued for rob@ours.example" in result.output
    [digest] = mails_to(app, "rob@ours.example")
    assert digest.subject == f"vendor-risk: 1 notification ({TODAY.isoformat()})"
    assert "Waiting for review: Access and people (Keystone Identity)" in digest.body
    assert f"http://127.0.0.1:5000/review/{request_id}" in digest.body
    assert mails_to(app, "rita@ours.example") == []  # in the app only: never an email

    again = runner.invoke(args=["notifications", "digest"])
    assert again.exit_code == 0 and "No digest to send" in again.output
    assert len(mails_to(app, "rob@ours.example")) == 1


def test_the_preferences_page_saves_each_choice(app, client, world):
    login_as(client, world["contact_a"])
    page = text(client.get("/account/notifications"))
    assert "A questionnaire returned to you for clarification" in page
    assert "An incident opened" not in page  # only the events of the user's role
    refused = client.post(
        "/account/notifications",
        data={
            "request_returned": "carrier pigeon",
            "request_accepted": "email",
            "finding_shared": "email",
            "finding_due_soon": "email",
        },
    )
    assert refused.status_code == 400
    assert "Not a valid choice" in text(refused) or "Choose" in text(refused)
    assert count(app, NotificationPreference) == 0

    saved = client.post(
        "/account/notifications",
        data={
            "request_returned": "in_app",
            "request_accepted": "digest",
            "finding_shared": "email",
            "finding_due_soon": "email",
        },
    )
    assert saved.status_code == 302
    assert "Your notification preferences were saved." in text(client.get(saved.location))
    with app.app_context():
        rows = {
            (p.event, p.delivery) for p in db.session.scalars(sa.select(NotificationPreference))
        }
    assert rows == {
        (EventType.request_returned, Delivery.in_app),
        (EventType.request_accepted, Delivery.digest),
    }
    [event] = events(app, "account.notification_preferences.changed")
    assert event.actor_id == world["contact_a"].id


# ---- the time-based events -----------------------------------------------------------------


def test_run_due_notifies_each_due_thing_once(app, world):
    officer = actor_of(world["officer"])
    with app.test_request_context():
        due_soon = findings.create_finding(
            db.session,
            world["vendor_a"],
            {
                "title": "Rotate the shared key",
                "severity": FindingSeverity.medium,
                "due_on": TODAY + timedelta(3),
            },
            actor=officer,
        )
        db.session.commit()
        due_soon_id = due_soon.id
    later, accepted, b_finding = add(
        app,
        Finding(
            vendor_id=world["vendor_a"],
            source=FindingSource.manual,
            title="Later",
            severity=FindingSeverity.low,
            due_on=TODAY + timedelta(days=30),
        ),
        Finding(
            vendor_id=world["vendor_b"],
            source=FindingSource.manual,
            title="Accepted risk of B",
            severity=FindingSeverity.low,
            status="accepted",
        ),
        Finding(
            vendor_id=world["vendor_b"],
            source=FindingSource.manual,
            title="B's own finding",
            severity=FindingSeverity.high,
            due_on=TODAY + timedelta(days=1),
        ),
    )
    add(
        app,
        RiskAcceptance(
            finding_id=accepted,
            justification="Compensating control",
            approver_id=world["officer"].id,
            expires_on=TODAY + timedelta(days=10),
        ),
    )
    overdue_id = new_request(app, world, vendor="b", due_in=5)
    with app.app_context():
        db.session.get(QuestionnaireRequest, overdue_id).due_on = TODAY - timedelta(days=2)
        db.session.commit()

    runner = app.test_cli_runner()
    first = runner.invoke(args=["notifications", "run-due"])
    assert first.exit_code == 0, first.output
    assert "3 about findings due soon, 2 about risk acceptances expiring, 1 about overdue" in (
        first.output
    )
    due = told(app, EventType.finding_due_soon)
    assert {email: [n.link_values["finding_id"] for n in ns] for email, ns in due.items()} == {
        "ann@a.example": [due_soon_id],
        "al@a.example": [due_soon_id],
        "bob@b.example": [b_finding],  # vendor B's contact hears of B's finding only
    }
    assert due["ann@a.example"][0].title == "Finding due in 3 days: Rotate the shared key"
    expiring = told(app, EventType.acceptance_expiring)
    assert set(expiring) == {"rita@ours.example", "rob@ours.example"}
    assert expiring["rob@ours.example"][0].link_values == {"finding_id": accepted}
    overdue = told(app, EventType.request_overdue)
    assert set(overdue) == {"pat@ours.example"}
    assert overdue["pat@ours.example"][0].link_values == {"request_id": overdue_id}
    mails = count(app, OutboxMessage)

    second = runner.invoke(args=["notifications", "run-due"])
    assert second.exit_code == 0, second.output
    assert "0 about findings due soon, 0 about risk acceptances expiring, 0 about" in (
        second.output
    )
    assert count(app, Notification, Notification.event == EventType.finding_due_soon) == 3
    assert count(app, OutboxMessage) == mails
    assert later  # due in 30 days: nobody told yet


# ---- the list, the header count, mark read ------------------------------------------------


def notifications_of(app, user) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Notification.id)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
        )


def unread_badge(response) -> str | None:
    match = re.search(r'class="unread-count">(\d+)', response.get_data(as_text=True))
    return match.group(1) if match else None


def test_the_list_is_each_users_own_with_the_unread_count_in_the_header(
    app, client, world, submitted
):
    return_request(app, world, submitted)
    [mine] = notifications_of(app, world["contact_a"])
    [theirs] = notifications_of(app, world["officer"])

    login_as(client, world["contact_a"])
    portal = client.get("/portal/")
    assert unread_badge(portal) == "1"
    page = client.get("/notifications/")
    body = text(page)
    assert "Questionnaire returned for clarification: Access and people" in body
    assert "Waiting for review" not in body  # the officer's, not shown here
    assert "unread" in body

    # Another user's notification: 404, and it stays unread.
    for action in ("read", "open"):
        assert client.post(f"/notifications/{theirs}/{action}").status_code == 404
    with app.app_context():
        assert db.session.get(Notification, theirs).read_at is None

    opened = client.post(f"/notifications/{mine}/open")
    assert opened.status_code == 302
    assert opened.location == f"/portal/requests/{submitted}"
    assert unread_badge(client.get("/notifications/")) is None
    with app.app_context():
        assert db.session.get(Notification, mine).read_at is not None


def test_mark_read_and_mark_all_read(app, client, world):
    officer = actor_of(world["officer"])
    with app.test_request_context():
        for n in range(3):
            findings.create_finding(
                db.session,
                world["vendor_a"],
                {"title": f"Finding {n}", "severity": FindingSeverity.low},
                actor=officer,
            )
        db.session.commit()
    first, second, third = notifications_of(app, world["contact_a"])
    login_as(client, world["contact_a"])
    listed = text(client.get("/notifications/"))
    assert listed.index("Finding 2") < listed.index("Finding 0")  # newest first
    assert unread_badge(client.get("/notifications/")) == "3"

    assert client.post(f"/notifications/{second}/read").status_code == 302
    assert unread_badge(client.get("/notifications/")) == "2"
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "2 notifications marked read." in text(response)
    assert unread_badge(response) is None
    # Contact A2's are untouched by A's "mark all read".
    login_as(client, world["contact_a2"])
    assert unread_badge(client.get("/portal/")) == "3"
    assert first and third


def test_staff_see_the_count_in_the_header_too(app, client, world, submitted):
    login_as(client, world["officer"])
    assert unread_badge(client.get("/review/")) == "1"
    login_as(client, world["admin"])
    assert unread_badge(client.get("/admin/")) is None


# ---- links in emails: through login and the second factor ----------------------------------


def test_an_emailed_link_leads_through_login_and_mfa_to_the_page(app, client, world, submitted):
    return_request(app, world, submitted)
    [mail] = [m for m in mails_to(app, "ann@a.example") if "returned" in m.subject]
    link = re.search(r"http://127\.0\.0\.1:5000(/\S+)", mail.body).group(1)
    assert link == f"/portal/requests/{submitted}"

    signed_out = client.get(link)
    assert signed_out.status_code == 302
    to_login = urlsplit(signed_out.location)
    assert to_login.path == "/auth/login"
    next_url = re.search(r"next=([^&]+)", to_login.query).group(1)
    done = login(client, world["contact_a"], next_url=next_url)
    assert done.status_code == 302
    assert done.location == link
    assert "Access and people" in text(client.get(done.location))


def test_a_notification_never_reaches_another_vendors_contact(app, world, submitted):
    """The worst bug: across every event of vendor A, vendor B's contact is told nothing."""
    return_request(app, world, submitted)
    answer_and_submit(app, world, submitted)
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, submitted)
        review.accept(db.session, request, expected_version=None, actor=actor_of(world["officer"]))
        findings.create_finding(
            db.session,
            world["vendor_a"],
            {
                "title": "Keystone's finding",
                "severity": FindingSeverity.high,
                "due_on": TODAY + timedelta(2),
            },
            actor=actor_of(world["officer"]),
        )
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["notifications", "run-due"]).exit_code == 0
    assert count(app, Notification, Notification.user_id == world["contact_b"].id) == 0
    assert mails_to(app, "bob@b.example") == []
    assert get_status(app, submitted) is RequestStatus.accepted


def get_status(app, request_id: int) -> RequestStatus:
    with app.app_context():
        return db.session.get(QuestionnaireRequest, request_id).status


INTERNAL = QUESTIONNAIRE.replace("id: access-review", "id: intake").replace(
    "audience: vendor", "audience: internal"
)


def test_an_internal_questionnaire_never_notifies_the_vendors_contacts(app, world):
    """The intake is filled by staff about a vendor: its contacts never hear of it."""
    with app.test_request_context():
        parsed = loader.parse(INTERNAL, "intake.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="intake.yaml", actor=Actor.system("test")
        )
        made = requests.create_request(
            db.session,
            vendor_id=world["vendor_a"],
            version_id=stored.version.id,
            due_on=None,
            contact_emails=[],
            actor=actor_of(world["procurement"]),
        )
        db.session.commit()
        request_id = made.id
    with app.test_request_context():
        request = db.session.get(QuestionnaireRequest, request_id)
        for question, value in (("sso", "yes"), ("staff", "12")):
            answers_service.save_answer(
                db.session,
                request,
                question,
                value=value,
                comment=None,
                base_version=None,
                actor=actor_of(world["procurement"]),
            )
        assert answers_service.submit(db.session, request, actor=actor_of(world["procurement"]))
        db.session.commit()
    return_request(app, world, request_id)
    assert set(told(app, EventType.submission_waiting)) == {"rita@ours.example", "rob@ours.example"}
    assert told(app, EventType.request_returned) == {}
    for contact in ("contact_a", "contact_a2"):
        assert count(app, Notification, Notification.user_id == world[contact].id) == 0


def test_email_now_goes_out_through_the_mail_server(make_app, world, smtp_server):
    """With SMTP configured, "email at once" is a real message to the user, its link absolute
    on VR_BASE_URL."""
    app = make_app(**smtp_server.config, BASE_URL="https://risk.example.org")
    request_id = new_request(app, world)
    answer_and_submit(app, world, request_id)
    assert smtp_server.to("rita@ours.example") == []  # queued by the action, not sent in it
    deliver(app)
    [message] = [m for m in smtp_server.to("rita@ours.example") if "Waiting" in m["Subject"]]
    assert message["Subject"] == "Waiting for review: Access and people (Keystone Identity)"
    body = message.get_content()
    assert f"https://risk.example.org/review/{request_id}" in body
    assert "https://risk.example.org/account/notifications" in body
    assert smtp_server.to("bob@b.example") == []


def test_the_list_has_pages_of_fifty(app, client, world):
    add(
        app,
        *(
            Notification(
                user_id=world["officer"].id,
                event=EventType.incident_opened,
                title=f"Incident number {n:02d}",
                endpoint="incidents.incident",
                link_values={"incident_id": n},
                delivery=Delivery.in_app,
            )
            for n in range(1, 56)
        ),
    )
    login_as(client, world["officer"])
    first = text(client.get("/notifications/"))
    assert "55 notifications: 1 to 50 shown, page 1 of 2." in first
    assert "Incident number 55" in first and "Incident number 05" not in first
    second = text(client.get("/notifications/?page=2"))
    assert "Incident number 05" in second and "Incident number 06" not in second
    assert client.get("/notifications/?page=x").status_code == 400
    assert unread_badge(client.get("/notifications/")) == "55"


def test_two_runs_at_once_tell_each_person_once(app, world):
    """Two `run-due` at the same moment (two cron hosts): the second waits for the first and
    finds everything told (PostgreSQL: an advisory lock; SQLite: the write lock)."""
    import threading

    from vendor_risk.services import notifications_due

    add(
        app,
        *(
            Finding(
                vendor_id=world["vendor_a"],
                source=FindingSource.manual,
                title=f"Due soon {n}",
                severity=FindingSeverity.low,
                due_on=TODAY + timedelta(days=2),
            )
            for n in range(5)
        ),
    )
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def one_run():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                notifications_due.run_due(db.session, today=TODAY)
                db.session.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert count(app, Notification) == 10  # five findings, two contacts of vendor A
    assert len(mails_to(app, "ann@a.example")) == 5
