"""Email (services/mail.py, services/outbox.py): queued by send_mail, then sent by the outbox
worker through a real SMTP server on loopback (aiosmtpd) and recorded without its body; without
SMTP settings, in development, logged and kept whole in the admins' outbox; failures recorded
and retried, never raised.

The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from conftest import PRODUCTION, deliver, free_port, login_as, text

from vendor_risk.db import db
from vendor_risk.models import OutboxMessage, Role
from vendor_risk.services import mail
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import invites

BODY = "Hello,\n\nThe questionnaire is due on Friday.\n"


def send(app, **kwargs) -> OutboxMessage:
    """Queue a message, run the outbox worker once, and return the message as it is then."""
    with app.app_context():
        message_id = mail.send_mail(db.session, **({"to": "jane@keystone.example"} | kwargs)).id
        db.session.commit()
    deliver(app)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


def test_a_message_goes_out_through_smtp_and_its_body_is_not_kept(make_app, smtp_server):
    app = make_app(**smtp_server.config, MAIL_FROM="Vendor risk <risk@example.org>")

    record = send(app, subject="Due on Friday", body=BODY)

    [message] = smtp_server.messages
    assert message["To"] == "jane@keystone.example"
    assert message["From"] == "Vendor risk <risk@example.org>"
    assert message["Subject"] == "Due on Friday"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert record.body == "(not kept)"
    assert record.sent_at is not None and record.error == ""
    assert record.status == "sent" and record.attempt_count == 1
    assert mail.delivered(record)


def test_a_subject_cannot_add_headers(make_app, smtp_server):
    app = make_app(**smtp_server.config)

    send(app, subject="Acme\r\nBcc: mallory@evil.example", body=BODY)

    [message] = smtp_server.messages
    assert message["Subject"] == "Acme Bcc: mallory@evil.example"
    assert message["Bcc"] is None


def test_a_server_that_is_down_is_recorded_not_raised(make_app):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")

    record = send(app, subject="Due", body=BODY)

    assert record.sent_at is None
    assert "ConnectionRefusedError" in record.error
    assert record.body == BODY  # held until sent
    assert record.status == "queued" and record.attempt_count == 1  # retried later


def test_starttls_refused_by_the_server_is_recorded(make_app, smtp_server):
    # The default security is STARTTLS: a server without it must not get the message in clear.
    app = make_app(**(smtp_server.config | {"SMTP_SECURITY": "starttls"}))

    record = send(app, subject="Due", body=BODY)

    assert smtp_server.messages == []
    assert "STARTTLS" in record.error
    assert record.sent_at is None


# A test server on loopback only: no TLS needed to prove the login is sent.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_smtp_login_is_used_when_configured(make_app):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    logins, received = [], []

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):
            received.append(envelope)
            return "250 OK"

    def authenticator(_server, _session, _envelope, mechanism, data):
        logins.append((mechanism, data.login, data.password))
        return AuthResult(success=True)

    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none"}
        app = make_app(**config, SMTP_USERNAME="mailer", SMTP_PASSWORD="smtp secret")
        assert send(app, subject="Due", body=BODY).sent_at is not None
    finally:
        controller.stop()
    assert [(login, password) for _, login, password in logins] == [(b"mailer", b"smtp secret")]
    assert len(received) == 1


def test_without_smtp_in_development_the_outbox_keeps_and_logs_it(app, client, make_user, caplog):
    with caplog.at_level(logging.INFO, logger="vendor_risk.mail"):
        record = send(app, subject="Due on Friday", body=BODY)

    assert record.body == BODY
    assert record.sent_at is None and record.error == ""
    assert record.status == "kept"
    assert mail.delivered(record)
    assert "To: jane@keystone.example" in caplog.text
    assert "The questionnaire is due on Friday." in caplog.text

    login_as(client, make_user(Role.admin))
    listing = client.get("/admin/outbox")
    assert listing.status_code == 200
    assert "No SMTP server is configured" in text(listing)
    assert "Due on Friday" in text(listing)
    assert "kept here" in text(listing)
    page = client.get(f"/admin/outbox/{record.id}")
    assert "The questionnaire is due on Friday." in text(page)
    assert client.get("/admin/outbox/999").status_code == 404


def test_the_outbox_lists_newest_first_by_pages(app, client, make_user):
    for number in range(1, 53):
        send(app, subject=f"Message {number}", body=BODY)
    login_as(client, make_user(Role.admin))

    first = text(client.get("/admin/outbox"))
    subjects = re.findall(r">(Message \d+)</a>", first)
    assert subjects[:3] == ["Message 52", "Message 51", "Message 50"]
    assert len(subjects) == 50
    assert "page 1 of 2" in first
    second = text(client.get("/admin/outbox?page=2"))
    assert re.findall(r">(Message \d+)</a>", second) == ["Message 2", "Message 1"]
    assert client.get("/admin/outbox?page=0").status_code == 400


def test_without_smtp_in_development_the_app_itself_logs_the_whole_email(
    make_app, caplog, monkeypatch
):
    """Not only when a test raises the level: as the app starts, with Python's default
    (warnings only) left for the logger, the email's whole text reaches the log at INFO."""
    mail_log = logging.getLogger("vendor_risk.mail")
    monkeypatch.setattr(mail_log, "level", logging.NOTSET)
    app = make_app()

    record = send(app, subject="Due on Friday", body=BODY)

    [logged] = [
        r for r in caplog.records if r.name == "vendor_risk.mail" and "kept" in r.getMessage()
    ]
    assert logged.levelno == logging.INFO
    assert "Subject: Due on Friday" in logged.getMessage()
    assert BODY.strip() in logged.getMessage()
    assert record.body == BODY  # and the outbox keeps it whole


def test_in_production_without_smtp_nothing_is_logged_or_kept(make_app, caplog):
    app = make_app(**PRODUCTION)

    with caplog.at_level(logging.INFO, logger="vendor_risk.mail"):
        record = send(app, subject="Invitation", body="Your link: /invite/secret-token-value")

    assert "VR_SMTP_HOST" in record.error
    assert record.status == "failed"  # at once: retrying would change nothing
    assert record.body == "(not kept)"
    assert "secret-token-value" not in caplog.text
    assert not mail.delivered(record)


def test_an_invite_in_the_development_outbox_can_be_followed(app, make_vendor, make_user):
    """Trying the app without a mail server: the admin reads the invitation in the outbox;
    without VR_BASE_URL in development, its link points at the address of `flask run`."""
    vendor_id = make_vendor("Keystone Identity")
    admin = make_user(Role.admin)
    with app.app_context():
        invite = invites.invite_contact(
            db.session,
            vendor_id=vendor_id,
            email="jane@keystone.example",
            request_id=None,
            actor=Actor(label=admin.email, user_id=admin.id),
        )
        db.session.commit()
        assert invites.delivered(invite)
        body = db.session.scalars(sa.select(OutboxMessage.body)).one()
    path = re.search(r"http://127\.0\.0\.1:5000(/invite/\S+)", body).group(1)
    assert app.test_client().get(path).status_code == 200


def test_links_come_from_the_configuration_never_from_the_request(make_app):
    app = make_app(BASE_URL="https://risk.example.org/vr/")
    with app.app_context():
        assert mail.absolute_url("portal.home") == "https://risk.example.org/vr/portal/"
    with app.test_request_context(base_url="http://login-example-com.attacker.example"):
        assert mail.absolute_url("portal.home") == "https://risk.example.org/vr/portal/"
    bare = make_app()  # development without VR_BASE_URL: the address of `flask run`
    with bare.test_request_context(base_url="http://staff.example:8080"):
        assert mail.absolute_url("portal.home") == "http://127.0.0.1:5000/portal/"
    with bare.app_context():
        assert mail.absolute_url("portal.home") == "http://127.0.0.1:5000/portal/"


def test_a_bad_smtp_security_setting_stops_the_app(make_app):
    with pytest.raises(RuntimeError, match="VR_SMTP_SECURITY"):
        make_app(SMTP_SECURITY="tls")
