"""The outbox queue (services/outbox.py): emails are queued in the transaction of the action
that causes them and sent by a worker (`flask --app app outbox send`), through a real SMTP
server on loopback (aiosmtpd); failures are retried with growing waits, then failed for good,
which admins see and can retry; two workers never send one email twice; each user sees the
emails they caused. Remind now, and the links in reminders.

Time is driven with the worker's ``now``: no test sleeps. The suite runs on SQLite, and on
PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import BACKEND, deliver, events, free_port, login_as, text
from sqlalchemy.orm import Session
from test_requests import BASE_URL, VENDOR_QUESTIONNAIRE, create, store

from vendor_risk.db import db, utcnow
from vendor_risk.models import Invite, OutboxAttempt, OutboxMessage, Role
from vendor_risk.services import mail, outbox
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import invites
from vendor_risk.services.questionnaires import requests as request_service

BODY = "Hello,\n\nThe questionnaire is due on Friday.\n"
LINK = re.compile(re.escape(BASE_URL) + r"(/invite/(\S+))")


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(**smtp_server.config, BASE_URL=BASE_URL)


def queue(app, to: str = "jane@keystone.example", body: str = BODY, **kwargs) -> int:
    with app.app_context():
        message = mail.send_mail(db.session, to=to, subject="Due", body=body, **kwargs)
        db.session.commit()
        return message.id


def message(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        found = db.session.get(OutboxMessage, message_id)
        db.session.expunge(found)
        return found


def attempts(app, message_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (a.outcome.value, a.error)
            for a in db.session.scalars(
                sa.select(OutboxAttempt)
                .where(OutboxAttempt.message_id == message_id)
                .order_by(OutboxAttempt.id)
            )
        ]


# ---- queued in the request, sent by the worker ----------------------------------------------


def test_an_invitation_is_queued_in_the_request_and_the_worker_sends_it_and_wipes_the_token(
    app, client, make_vendor, make_user, smtp_server
):
    vendor_id = make_vendor("Keystone Identity", email_domains=["keystone.example"])
    ann = make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=vendor_id)
    login_as(client, ann)

    done = client.post("/portal/invite", data={"email": "bob@keystone.example"})

    assert done.status_code == 302
    assert "Invitation to bob@keystone.example queued" in text(client.get("/portal/"))
    assert smtp_server.messages == []  # nothing is sent inside the request
    with app.app_context():
        queued = db.session.scalars(sa.select(OutboxMessage)).one()
        assert queued.status == "queued" and queued.sender_id == ann.id
        _, token = LINK.search(queued.body).groups()  # held until sent
        message_id = queued.id

    run = deliver(app)

    assert (run.sent, run.failed) == (1, ())
    [sent] = smtp_server.messages
    assert sent["To"] == "bob@keystone.example"
    assert token in sent.get_content()
    done = message(app, message_id)
    assert done.status == "sent" and done.body == "(not kept)"  # the token left the database
    with app.app_context():
        assert invites.find_live(db.session, token) is not None
    assert attempts(app, message_id) == [("sent", "")]
    assert deliver(app).total == 0  # sent once only


def test_a_server_that_is_down_is_retried_with_growing_waits_then_failed_for_good(
    make_app, make_user, smtp_server
):
    app = make_app(
        SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none", OUTBOX_MAX_ATTEMPTS=3
    )
    message_id = queue(app)
    start = utcnow()

    first = deliver(app, now=start)
    assert (first.sent, first.retrying, first.failed) == (0, 1, ())
    waiting = message(app, message_id)
    assert waiting.status == "queued" and waiting.next_attempt_at == start + timedelta(minutes=1)
    assert outbox.state_label(waiting).startswith("retrying at ")
    assert deliver(app, now=start + timedelta(seconds=59)).total == 0  # not due yet
    second = deliver(app, now=start + timedelta(minutes=1))
    assert second.retrying == 1
    assert message(app, message_id).next_attempt_at == start + timedelta(minutes=6)  # then 5 min
    third = deliver(app, now=start + timedelta(minutes=6))

    [(recipient, error)] = third.failed
    assert recipient == "jane@keystone.example" and "ConnectionRefusedError" in error
    failed = message(app, message_id)
    assert failed.status == "failed" and failed.attempt_count == 3
    assert failed.body == BODY  # kept for Retry now
    assert [outcome for outcome, _ in attempts(app, message_id)] == ["retry", "retry", "failed"]
    assert deliver(app, now=start + timedelta(days=1)).total == 0  # failed is final

    # Admins see it: a banner at home, the state and each attempt on the outbox.
    client = app.test_client()
    login_as(client, make_user(Role.admin))
    assert "1 email failed" in text(client.get("/admin/"))
    listing = text(client.get("/admin/outbox"))
    assert "1 email failed for good" in listing and ">failed<" in listing
    assert ">Due</a>" in text(client.get("/admin/outbox?status=failed"))
    assert ">Due</a>" not in text(client.get("/admin/outbox?status=sent"))
    assert client.get("/admin/outbox?status=lost").status_code == 400
    page = text(client.get(f"/admin/outbox/{message_id}"))
    assert page.count("ConnectionRefusedError") >= 3
    assert "failed, to retry" in page and "failed for good" in page
    assert "Retry now" in page

    # Retry now, once the server is back: audited, sent by the next pass.
    app.config["SMTP_PORT"] = smtp_server.port
    retried = client.post(f"/admin/outbox/{message_id}/retry", follow_redirects=True)
    assert "queued again" in text(retried)
    [event] = events(app, "email.retried")
    assert event.object_id == str(message_id) and event.details["was"] == "failed"
    assert deliver(app).sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["jane@keystone.example"]
    assert message(app, message_id).body == "(not kept)"
    assert "1 email failed" not in text(client.get("/admin/"))
    refused = client.post(f"/admin/outbox/{message_id}/retry")
    assert refused.status_code == 409
    assert "cannot be sent again. It is sent." in text(refused)


def test_a_recipient_refused_for_good_fails_at_once(make_app):
    from aiosmtpd.controller import Controller

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 No such user"

    port = free_port()
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none")
        message_id = queue(app)
        run = deliver(app)
    finally:
        controller.stop()
    assert len(run.failed) == 1 and "550" in run.failed[0][1]
    assert message(app, message_id).status == "failed"


# ---- several workers -----------------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "postgresql", reason="two writers at once: PostgreSQL")
def test_two_sessions_claiming_one_message_get_it_once(app):
    message_id = queue(app)
    now = utcnow()
    with app.app_context():
        engine = db.engine
    with Session(engine) as first, Session(engine) as second:
        assert outbox.claim(first, message_id, now=now)  # not committed yet
        result = {}
        racer = threading.Thread(
            target=lambda: result.setdefault("got", outbox.claim(second, message_id, now=now))
        )
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive()  # waits on the first's row lock
        first.commit()
        racer.join(timeout=10)
        second.commit()
    assert result == {"got": False}


def test_two_workers_at_once_send_each_email_once(app, smtp_server):
    ids = [queue(app, to=f"c{n}@keystone.example") for n in range(6)]
    runs = []
    workers = [threading.Thread(target=lambda: runs.append(deliver(app))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert sum(run.sent for run in runs) == 6
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        f"c{n}@keystone.example" for n in range(6)
    )
    assert all(message(app, i).attempt_count == 1 for i in ids)


# ---- the command -----------------------------------------------------------------------------


def test_outbox_send_prints_what_it_did_and_fails_when_an_email_fails(make_app, smtp_server):
    app = make_app(**smtp_server.config, OUTBOX_MAX_ATTEMPTS=1)
    queue(app)
    runner = app.test_cli_runner()

    sent = runner.invoke(args=["outbox", "send"])

    assert sent.exit_code == 0, sent.output
    assert "1 sent, 0 to retry, 0 failed." in sent.output
    assert len(smtp_server.messages) == 1
    app.config["SMTP_PORT"] = free_port()  # the server is down
    queue(app, to="bob@keystone.example")

    failed = runner.invoke(args=["outbox", "send"])

    assert failed.exit_code == 1
    assert "FAILED: email to bob@keystone.example: ConnectionRefusedError" in failed.output
    assert "0 sent, 0 to retry, 1 failed." in failed.output
    nothing = runner.invoke(args=["outbox", "send"])
    assert nothing.exit_code == 0 and "0 sent" in nothing.output


# ---- each user's emails ----------------------------------------------------------------------


def test_each_user_sees_the_emails_they_caused_with_the_text_when_kept(
    make_app, make_user, make_vendor
):
    app = make_app()  # development without SMTP: kept whole
    pat = make_user(Role.procurement, email="pat@example.org")
    rita = make_user(Role.risk_officer, email="rita@example.org")
    vendor_id = make_vendor("Keystone Identity")
    ann = make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=vendor_id)
    with app.app_context():
        invites.invite_contact(
            db.session,
            vendor_id=vendor_id,
            email="jane@keystone.example",
            request_id=None,
            actor=Actor(label=pat.email, user_id=pat.id),
        )
        db.session.commit()
    colleague = queue(app, to="bob@keystone.example", body="Your link", sender_id=ann.id)
    pats = app.test_client()
    login_as(pats, pat)
    before = text(pats.get("/account/emails"))
    assert "Invitation to the vendor portal of Keystone Identity" in before
    assert ">queued<" in before
    deliver(app)

    listing = text(pats.get("/account/emails"))
    assert "jane@keystone.example" in listing and "kept here" in listing
    assert "bob@keystone.example" not in listing  # another's
    message_id = int(re.search(r'href="/account/emails/(\d+)"', listing).group(1))
    page = text(pats.get(f"/account/emails/{message_id}"))
    assert "http://127.0.0.1:5000/invite/" in page  # the whole email, as kept
    ritas = app.test_client()
    login_as(ritas, rita)
    assert "jane@keystone.example" not in text(ritas.get("/account/emails"))
    assert ritas.get(f"/account/emails/{message_id}").status_code == 404
    # A vendor contact sees their own, without the text (a colleague's link is in it).
    anns = app.test_client()
    login_as(anns, ann)
    assert "bob@keystone.example" in text(anns.get("/account/emails"))
    contact_page = text(anns.get(f"/account/emails/{colleague}"))
    assert "kept here" in contact_page and "Your link" not in contact_page
    assert anns.get(f"/account/emails/{message_id}").status_code == 404


# ---- reminders -------------------------------------------------------------------------------


def test_remind_now_queues_the_reminder_once_in_a_while_with_links_that_work(
    app, client, make_vendor, make_user, smtp_server
):
    vendor = make_vendor("Keystone Identity")
    ann = make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=vendor)
    request_id = create(
        app, vendor, store(app, VENDOR_QUESTIONNAIRE), due_in=20, contacts=["j@k.example"]
    )
    deliver(app)
    smtp_server.messages.clear()
    pat = make_user(Role.procurement, email="pat@example.org")
    login_as(client, pat)
    assert "Remind now" in text(client.get(f"/requests/{request_id}"))

    done = client.post(f"/requests/{request_id}/remind", follow_redirects=True)

    assert "Reminder queued for ann@keystone.example, j@k.example." in text(done)
    [event] = events(app, "request.reminder_sent")
    assert event.actor_id == pat.id and event.details["manual"] is True
    again = client.post(f"/requests/{request_id}/remind")
    assert again.status_code == 409
    assert "the next one can be sent from" in text(again)
    assert deliver(app).sent == 2
    by_address = {m["To"]: m.get_content() for m in smtp_server.messages}

    # The contact who joined: the portal's page of the request, once logged in.
    portal = re.search(
        rf"{re.escape(BASE_URL)}(/portal/requests/{request_id})\b",
        by_address["ann@keystone.example"],
    ).group(1)
    contact = app.test_client()
    assert contact.get(portal).status_code == 302  # to the login first
    login_as(contact, ann)
    assert contact.get(portal).status_code == 200
    # The address that never joined: a fresh invitation link, which opens the invitation.
    path, token = LINK.search(by_address["j@k.example"]).groups()
    assert app.test_client().get(path).status_code == 200
    with app.app_context():
        [invite] = db.session.scalars(sa.select(Invite)).all()
        assert invites.find_live(db.session, token).id == invite.id  # one live link per invite
        assert invite.sent_count == 2

    # Past the pause, it may be sent again.
    with app.app_context():
        later = utcnow() + timedelta(minutes=16)
        reminder = request_service.remind_now(
            db.session, request_id, actor=Actor(pat.email, user_id=pat.id), now=later
        )
        db.session.commit()
    assert reminder.queued_to == ("ann@keystone.example", "j@k.example")


def test_remind_now_with_nobody_to_remind_says_so(app, client, make_vendor, make_user):
    vendor = make_vendor("Keystone Identity")
    request_id = create(app, vendor, store(app, VENDOR_QUESTIONNAIRE), contacts=["j@k.example"])
    with app.app_context():
        db.session.execute(sa.update(Invite).values(revoked_at=utcnow()))
        db.session.commit()
    login_as(client, make_user(Role.procurement))
    refused = client.post(f"/requests/{request_id}/remind")
    assert refused.status_code == 409
    assert "Nobody to remind" in text(refused)
    assert events(app, "request.reminder_sent") == []


def test_the_looping_worker_sends_then_stops_on_sigterm(app, database_url, tmp_path, smtp_server):
    """`outbox send --loop` as a process of its own: it sends what is queued while it runs,
    and SIGTERM stops it cleanly (exit 0)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VR_DATABASE_URL": database_url,
        "VR_SECRET_KEY": "outbox worker test secret key, long enough",
        "VR_SMTP_HOST": smtp_server.host,
        "VR_SMTP_PORT": str(smtp_server.port),
        "VR_SMTP_SECURITY": "none",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "outbox", "send", "--loop", "--interval=1"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        queue(app)
        deadline = time.monotonic() + 30
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert [m["To"] for m in smtp_server.messages] == ["jane@keystone.example"], output
    assert worker.returncode == 0, output
    assert "Stopping the outbox worker (SIGTERM)." in output
    assert "Outbox worker stopped." in output
