"""Sending questionnaires: the staff's request pages, validation at the field, the list and its
filters, cancelling, a mail server that is down, and the daily reminders.

Emails go to a real SMTP server on loopback (aiosmtpd). The suite runs on SQLite, and on
PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import count, deliver, events, free_port, get, login_as, text

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    Invite,
    OutboxMessage,
    QuestionnaireRequest,
    RequestStatus,
    Role,
    VendorStatus,
)
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import library as questionnaires
from vendor_risk.services.questionnaires import requests as request_service
from vendor_risk.services.questionnaires.request_status import is_overdue

TODAY = request_service.today_utc()
BASE_URL = "http://vr.test"

VENDOR_QUESTIONNAIRE = """
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
      - id: sso
        type: yes_no
        text: Do you use SSO?
"""
INTERNAL_QUESTIONNAIRE = """
format: 1
id: short-intake
title: Short intake
version: 1
audience: internal
sections:
  - id: one
    title: One
    questions:
      - id: service
        type: short_text
        text: What does the vendor do for us?
"""


def store(app, source: str) -> int:
    """A questionnaire stored as a version, as the library does; returns the version id."""
    with app.app_context():
        questionnaire = loader.parse(source, "test.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, questionnaire, source="test.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        return stored.version.id


def create(app, vendor_id: int, version_id: int, *, due_in: int | None = 7, contacts=()) -> int:
    """A request made by the service (as the page does), committed; returns its id."""
    with app.app_context():
        request = request_service.create_request(
            db.session,
            vendor_id=vendor_id,
            version_id=version_id,
            due_on=TODAY + timedelta(days=due_in) if due_in is not None else None,
            contact_emails=list(contacts),
            actor=Actor.system("test"),
        )
        db.session.commit()
        return request.id


def set_request(app, request_id: int, **values) -> None:
    """Move a request where a test needs it (a due date past, another status)."""
    with app.app_context():
        db.session.execute(
            sa.update(QuestionnaireRequest)
            .where(QuestionnaireRequest.id == request_id)
            .values(**values)
        )
        db.session.commit()


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(**smtp_server.config, BASE_URL=BASE_URL)


@pytest.fixture
def world(app, make_vendor, make_user):
    """A vendor, a questionnaire of each audience, and a procurement user logged in."""
    vendor_id = make_vendor("Keystone Identity")
    return {
        "vendor": vendor_id,
        "vendor_q": store(app, VENDOR_QUESTIONNAIRE),
        "internal_q": store(app, INTERNAL_QUESTIONNAIRE),
        "procurement": make_user(Role.procurement, email="pat@example.org"),
    }


def invite_states(page: str) -> dict[str, str]:
    """The invitations table of a request page: address -> state, as the page shows them."""
    rows = re.findall(
        r"<td>([^<]+@[^<]+)</td>\s*<td><span class=\"badge [^\"]+\">([^<]+)</span>", page
    )
    return dict(rows)


def form(world, **changes) -> dict:
    data = {
        "vendor_id": str(world["vendor"]),
        "version_id": str(world["vendor_q"]),
        "due_on": (TODAY + timedelta(days=14)).isoformat(),
        "contact_emails": "jane@keystone.example\n",
    }
    return data | changes


# ---- creating a request ----------------------------------------------------------------------


def test_a_new_request_is_sent_with_an_invite_per_contact(app, client, world, smtp_server):
    login_as(client, world["procurement"])
    page = client.get(f"/requests/new?vendor_id={world['vendor']}")
    assert page.status_code == 200
    assert 'name="vendor_id-name"' in page.get_data(as_text=True)
    assert 'value="Keystone Identity"' in page.get_data(as_text=True)
    assert "Short intake: version 1, 1 question (filled in by our staff)" in text(page)

    contacts = "jane@keystone.example\n\n  JOE@Keystone.example \njane@keystone.example\n"
    response = client.post("/requests/new", data=form(world, contact_emails=contacts))

    assert response.status_code == 302
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    created = get(app, QuestionnaireRequest, request_id)
    assert created.status is RequestStatus.sent
    assert created.question_count == 2
    assert created.due_on == TODAY + timedelta(days=14)
    assert smtp_server.messages == []  # queued: nothing is sent inside the request
    assert deliver(app).sent == 2
    # One invitation per distinct address, normalised; each by email.
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "jane@keystone.example",
        "joe@keystone.example",
    ]
    assert all("Short security" in m["Subject"] for m in smtp_server.messages)
    shown = text(client.get(f"/requests/{request_id}"))
    assert "Short security: Keystone Identity" in shown
    assert "jane@keystone.example" in shown and "joe@keystone.example" in shown
    assert invite_states(shown) == {"jane@keystone.example": "sent", "joe@keystone.example": "sent"}
    assert "0/2" in shown  # progress
    assert [e.object_id for e in events(app, "request.created")] == [str(request_id)]
    assert len(events(app, "request.sent")) == 1
    assert len(events(app, "invite.sent")) == 2


def test_every_problem_is_shown_at_its_field_and_nothing_is_saved(app, client, world):
    login_as(client, world["procurement"])
    contacts = "jane@keystone.example\nnot an address\n\nbob@\n"
    yesterday = (TODAY - timedelta(days=1)).isoformat()

    response = client.post(
        "/requests/new", data=form(world, contact_emails=contacts, due_on=yesterday)
    )

    assert response.status_code == 400
    page = text(response)
    assert "Line 2: “not an address” is not an email address" in page
    assert "Line 4: “bob@” is not an email address" in page
    assert "Line 1" not in page and "Line 3" not in page
    assert "The due date cannot be in the past." in page
    assert "not an address" in page  # what was typed is kept
    assert count(app, QuestionnaireRequest) == 0
    assert count(app, Invite) == 0
    assert count(app, OutboxMessage) == 0


def test_missing_fields_and_unknown_choices_are_refused(app, client, world):
    login_as(client, world["procurement"])
    response = client.post(
        "/requests/new",
        data={"vendor_id": "999", "version_id": "", "due_on": "", "contact_emails": ""},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Choose one of the listed options." in page  # the unknown vendor
    assert "Choose the questionnaire." in page
    assert "Give the vendor a due date." not in page  # the questionnaire decides; none chosen
    response = client.post("/requests/new", data=form(world, due_on="", contact_emails=""))
    page = text(response)
    assert "Give the vendor a due date." in page
    assert "Enter at least one contact's email address" in page
    assert count(app, QuestionnaireRequest) == 0


def test_an_offboarded_vendor_cannot_be_sent_a_questionnaire(app, client, world, make_vendor):
    gone = make_vendor("Gone Ltd", status=VendorStatus.offboarded)
    login_as(client, world["procurement"])
    assert "Gone Ltd" not in text(client.get("/requests/new"))

    response = client.post("/requests/new", data=form(world, vendor_id=str(gone)))

    assert response.status_code == 400
    assert "Gone Ltd is offboarded: it cannot be sent questionnaires." in text(response)
    with app.app_context():
        problems = request_service.request_problems(
            db.session,
            vendor_id=gone,
            version_id=world["vendor_q"],
            due_on=TODAY,
            contact_emails=["a@b.example"],
        )
    assert problems == {"vendor_id": ["Gone Ltd is offboarded: it cannot be sent questionnaires."]}
    assert count(app, QuestionnaireRequest) == 0


def test_an_internal_questionnaire_takes_no_contacts_and_is_filled_by_staff(
    app, client, world, smtp_server
):
    login_as(client, world["procurement"])
    refused = client.post("/requests/new", data=form(world, version_id=str(world["internal_q"])))
    assert refused.status_code == 400
    assert "filled in by our staff in the app: list no contacts" in text(refused)

    response = client.post(
        "/requests/new",
        data=form(world, version_id=str(world["internal_q"]), contact_emails="", due_on=""),
    )

    assert response.status_code == 302
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert get(app, QuestionnaireRequest, request_id).status is RequestStatus.sent
    assert smtp_server.messages == []
    page = text(client.get(f"/requests/{request_id}"))
    assert "Our staff fill this questionnaire in the app" in page
    assert "Invitations" not in page
    assert f'href="/intake/{request_id}"' in client.get(f"/requests/{request_id}").get_data(
        as_text=True
    )


# ---- a mail server that is down --------------------------------------------------------------


def test_a_mail_server_that_is_down_never_undoes_the_request(
    make_app, make_vendor, make_user, smtp_server
):
    """The request is saved and its email queued; the worker's failure is retried later,
    and goes out once the server is back."""
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    client = app.test_client()
    world = {
        "vendor": make_vendor("Keystone Identity"),
        "vendor_q": store(app, VENDOR_QUESTIONNAIRE),
    }
    login_as(client, make_user(Role.procurement))

    response = client.post("/requests/new", data=form(world), follow_redirects=True)

    assert response.status_code == 200
    page = text(response)
    assert "Request created and sent to the vendor." in page
    assert "1 email queued: the outbox sends it in a moment" in page
    assert invite_states(page) == {"jane@keystone.example": "sent"}
    assert count(app, QuestionnaireRequest) == 1
    start = utcnow()
    run = deliver(app, now=start)
    assert (run.sent, run.retrying) == (0, 1)
    with app.app_context():
        outbox = db.session.scalars(sa.select(OutboxMessage)).one()
        assert outbox.sent_at is None and outbox.error  # recorded, with the reason
        assert "Connection" in outbox.error or "refused" in outbox.error.lower()
    emails = text(client.get("/account/emails"))
    assert "retrying at" in emails

    app.config["SMTP_PORT"] = smtp_server.port  # the server is back
    assert deliver(app, now=start + timedelta(seconds=30)).total == 0  # not due yet
    assert deliver(app, now=start + timedelta(minutes=1, seconds=1)).sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["jane@keystone.example"]
    assert "sent" in text(client.get("/account/emails"))


# ---- the request page: invites, cancelling, who may see it -----------------------------------


def test_invite_more_contacts_with_every_bad_line_reported(app, client, world, smtp_server):
    request_id = create(app, world["vendor"], world["vendor_q"], contacts=["jane@keystone.example"])
    login_as(client, world["procurement"])

    refused = client.post(
        f"/requests/{request_id}/invites", data={"contact_emails": "x\nok@k.example"}
    )
    assert refused.status_code == 400
    assert "Line 1: “x” is not an email address" in text(refused)
    deliver(app)
    assert len(smtp_server.messages) == 1

    done = client.post(
        f"/requests/{request_id}/invites",
        data={"contact_emails": "sam@keystone.example"},
        follow_redirects=True,
    )
    assert "1 invitation created." in text(done)
    assert "1 email queued" in text(done)
    deliver(app)
    assert smtp_server.messages[-1]["To"] == "sam@keystone.example"


def test_cancel_asks_first_then_revokes_the_links(app, client, world, smtp_server):
    request_id = create(app, world["vendor"], world["vendor_q"], contacts=["jane@keystone.example"])
    login_as(client, world["procurement"])

    confirm = client.get(f"/requests/{request_id}/cancel")
    assert confirm.status_code == 200
    assert "This cannot be undone" in text(confirm)
    assert get(app, QuestionnaireRequest, request_id).status is RequestStatus.sent

    done = client.post(f"/requests/{request_id}/cancel", follow_redirects=True)

    assert "Request cancelled; 1 invitation link revoked." in text(done)
    assert get(app, QuestionnaireRequest, request_id).status is RequestStatus.cancelled
    assert invite_states(text(done)) == {"jane@keystone.example": "revoked"}
    assert len(events(app, "request.cancelled")) == 1
    assert len(events(app, "invite.revoked")) == 1
    deliver(app)
    link = re.search(r"http://vr\.test(/invite/\S+)", smtp_server.messages[0].get_content())
    assert client.get(link.group(1)).status_code == 410

    again = client.post(f"/requests/{request_id}/cancel")
    assert again.status_code == 409
    assert "A request that is cancelled cannot become cancelled." in text(again)


@pytest.mark.parametrize("role", [Role.vendor_contact, Role.admin])
def test_vendor_contacts_and_admins_never_reach_request_pages(app, client, world, make_user, role):
    request_id = create(app, world["vendor"], world["vendor_q"], contacts=["jane@keystone.example"])
    with app.app_context():
        invite_id = db.session.scalars(sa.select(Invite.id)).one()
    user = make_user(role, vendor_id=world["vendor"] if role is Role.vendor_contact else None)
    login_as(client, user)
    for path in (
        "/requests/",
        f"/requests/{request_id}",
        f"/requests/{request_id}/cancel",
    ):
        assert client.get(path).status_code == 403, path
    for path in (
        f"/requests/{request_id}/cancel",
        f"/requests/{request_id}/invites/{invite_id}/revoke",
        f"/requests/{request_id}/invites/{invite_id}/resend",
    ):
        assert client.post(path).status_code == 403, path
    assert get(app, QuestionnaireRequest, request_id).status is RequestStatus.sent
    assert get(app, Invite, invite_id).revoked_at is None


def test_an_invite_is_reached_only_through_its_own_request(app, client, world):
    first = create(app, world["vendor"], world["vendor_q"], contacts=["jane@keystone.example"])
    second = create(app, world["vendor"], world["vendor_q"], contacts=["joe@keystone.example"])
    with app.app_context():
        invite_id = db.session.scalar(sa.select(Invite.id).where(Invite.request_id == first))
    login_as(client, world["procurement"])

    assert client.post(f"/requests/{second}/invites/{invite_id}/revoke").status_code == 404
    assert get(app, Invite, invite_id).revoked_at is None
    assert client.post(f"/requests/{first}/invites/{invite_id}/revoke").status_code == 302
    assert get(app, Invite, invite_id).revoked_at is not None
    again = client.post(f"/requests/{first}/invites/{invite_id}/revoke")
    assert again.status_code == 409
    assert "revoked already" in text(again)


# ---- the list --------------------------------------------------------------------------------


def test_the_list_filters_sorts_and_shows_progress_and_overdue(app, client, world, make_vendor):
    other = make_vendor("Other Vendor")
    late = create(app, world["vendor"], world["vendor_q"], due_in=1, contacts=["a@k.example"])
    set_request(app, late, due_on=TODAY - timedelta(days=3), answered_count=1)
    soon = create(app, world["vendor"], world["vendor_q"], due_in=2, contacts=["b@k.example"])
    later = create(app, other, world["vendor_q"], due_in=30, contacts=["c@o.example"])
    done = create(app, other, world["vendor_q"], due_in=1, contacts=["d@o.example"])
    set_request(app, done, status=RequestStatus.submitted, due_on=TODAY - timedelta(days=9))
    login_as(client, world["procurement"])

    page = client.get("/requests/")
    body = page.get_data(as_text=True)
    # By due date, soonest first; the submitted one is past its date but not overdue.
    order = [int(n) for n in re.findall(r'href="/requests/(\d+)"', body)]
    assert order == [done, late, soon, later]
    assert body.count(">overdue<") == 1
    assert "1/2" in body  # progress of the late one

    only_late = client.get("/requests/?overdue=y").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/requests/(\d+)"', only_late)] == [late]
    of_other = text(client.get(f"/requests/?vendor_id={other}"))
    assert "Questionnaires of Other Vendor" in of_other
    assert "New request for Other Vendor" in of_other
    assert f'href="/requests/{later}"' in client.get(f"/requests/?vendor_id={other}").get_data(
        as_text=True
    )
    submitted = client.get("/requests/?status=submitted").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/requests/(\d+)"', submitted)] == [done]
    latest_first = client.get("/requests/?sort=due_on&direction=desc").get_data(as_text=True)
    assert re.findall(r'href="/requests/(\d+)"', latest_first)[:1] == [str(later)]
    assert client.get("/requests/?sort=nonsense").status_code == 400
    assert client.get("/requests/?status=nonsense").status_code == 400


def test_overdue_in_sql_agrees_with_the_rule(app, world):
    statuses = list(RequestStatus)
    ids = []
    for status in statuses:
        for days in (-2, 0, 2):
            request_id = create(app, world["vendor"], world["vendor_q"], contacts=["a@k.example"])
            set_request(app, request_id, status=status, due_on=TODAY + timedelta(days=days))
            ids.append(request_id)
    with app.app_context():
        page = request_service.search_requests(db.session, today=TODAY)
        listed = {row.id: row.overdue for row in page.rows}
        for row in page.rows:
            assert listed[row.id] == is_overdue(row.status, row.due_on, TODAY), row
        flagged = request_service.search_requests(db.session, overdue=True, today=TODAY)
    assert {r.id for r in flagged.rows} == {i for i, late in listed.items() if late}
    assert len(flagged.rows) == 3  # sent, in progress, returned: two days late


def test_the_list_costs_the_same_number_of_statements_whatever_its_length(app, client, world):
    login_as(client, world["procurement"])

    def statements() -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/requests/").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    create(app, world["vendor"], world["vendor_q"], contacts=["a@k.example"])
    one = statements()
    for _ in range(8):
        create(app, world["vendor"], world["vendor_q"], contacts=["a@k.example"])
    assert statements() == one


# ---- reminders -------------------------------------------------------------------------------


def test_send_reminders_once_a_day_to_requests_waiting_for_the_vendor(
    app, world, make_user, make_vendor, smtp_server
):
    make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=world["vendor"])
    make_user(
        Role.vendor_contact, email="off@keystone.example", vendor_id=world["vendor"], active=False
    )
    other = make_vendor("Other Vendor")
    make_user(Role.vendor_contact, email="olga@other.example", vendor_id=other)
    soon = create(
        app, world["vendor"], world["vendor_q"], due_in=2, contacts=["jane@keystone.example"]
    )
    late = create(app, other, world["vendor_q"], due_in=5, contacts=["olga@other.example"])
    set_request(app, late, due_on=TODAY - timedelta(days=4), status=RequestStatus.in_progress)
    far = create(app, world["vendor"], world["vendor_q"], due_in=20, contacts=["x@k.example"])
    handed_in = create(app, other, world["vendor_q"], due_in=1, contacts=["y@o.example"])
    set_request(app, handed_in, status=RequestStatus.submitted)
    create(app, world["vendor"], world["internal_q"], due_in=1)  # staff fill it: nobody to mail
    deliver(app)
    first_invitation = smtp_server.to("jane@keystone.example")[0].get_content()
    smtp_server.messages.clear()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["send-reminders", "--days", "3"])

    assert result.exit_code == 0, result.output
    assert smtp_server.messages == []  # queued for the outbox worker
    deliver(app)
    reminded = sorted(m["To"] for m in smtp_server.messages)
    # The vendor's active contact, the pending invitee; the other vendor's contact once (her
    # invitation address is her account's).
    assert reminded == ["ann@keystone.example", "jane@keystone.example", "olga@other.example"]
    assert f"#{soon} Keystone Identity: Short security (due " in result.output
    assert f"#{late} Other Vendor: Short security (overdue since " in result.output
    assert str(far) not in re.findall(r"#(\d+)", result.output)
    by_address = {m["To"]: m for m in smtp_server.messages}
    ann = by_address["ann@keystone.example"].get_content()
    assert f"{BASE_URL}/portal/requests/{soon}" in ann
    jane = by_address["jane@keystone.example"].get_content()
    # Never joined: a fresh invitation link, and the first one no longer works.
    assert "the link we sent you before no longer works" in jane
    fresh = re.search(rf"{re.escape(BASE_URL)}(/invite/\S+)", jane).group(1)
    stale = re.search(rf"{re.escape(BASE_URL)}(/invite/\S+)", first_invitation).group(1)
    assert fresh != stale
    assert app.test_client().get(fresh).status_code == 200
    assert app.test_client().get(stale).status_code == 404
    assert "was due on" in by_address["olga@other.example"]["Subject"]
    assert get(app, QuestionnaireRequest, soon).last_reminded_on == TODAY
    assert len(events(app, "request.reminder_sent")) == 2

    again = runner.invoke(args=["send-reminders", "--days", "3"])

    assert again.exit_code == 0
    assert "nothing queued" in again.output
    deliver(app)
    assert len(smtp_server.messages) == 3
    # The next day, they go out again.
    with app.app_context():
        tomorrow = request_service.send_reminders(
            db.session, today=TODAY + timedelta(days=1), within_days=3
        )
        db.session.commit()
    assert sorted(r.request_id for r in tomorrow) == sorted([soon, late])


def test_reminder_links_come_from_the_configuration(make_app, make_vendor, make_user, smtp_server):
    """Development without VR_BASE_URL: a request sent from a page with a forged Host and
    the reminder sent by the command both link to the address of `flask run`."""
    app = make_app(**smtp_server.config)
    vendor = make_vendor("Keystone Identity")
    make_user(Role.vendor_contact, email="ann@k.example", vendor_id=vendor)  # logs in
    version = store(app, VENDOR_QUESTIONNAIRE)
    with app.test_request_context(base_url="http://login-example-com.attacker.example"):
        request = request_service.create_request(
            db.session,
            vendor_id=vendor,
            version_id=version,
            due_on=TODAY,
            contact_emails=["j@k.example"],
            actor=Actor.system("test"),
        )
        db.session.commit()
        request_id = request.id

    result = app.test_cli_runner().invoke(args=["send-reminders"])

    assert result.exit_code == 0, result.output
    deliver(app)
    invitation = smtp_server.to("j@k.example")[0].get_content()
    [reminder] = (m.get_content() for m in smtp_server.to("ann@k.example"))
    assert "http://127.0.0.1:5000/invite/" in invitation
    assert f"http://127.0.0.1:5000/portal/requests/{request_id}" in reminder
    assert "attacker" not in invitation + reminder


def test_vendor_with_nobody_to_remind_is_named(app, world):
    request_id = create(app, world["vendor"], world["vendor_q"], due_in=1, contacts=["j@k.example"])
    with app.app_context():
        db.session.execute(sa.update(Invite).values(revoked_at=utcnow()))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0
    assert f"#{request_id} Keystone Identity: Short security" in result.output
    assert "nobody to remind (invite a contact)" in result.output
