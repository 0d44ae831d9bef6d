"""Invitation links, followed as a vendor contact would: the email caught by a real SMTP server
on loopback (aiosmtpd), the page a link opens (GET changes nothing), redeeming it once (POST)
into a new account that enrols TOTP, then refused; expiry, revoking, resending; the token kept
only as its hash; addresses of other accounts refused without detail.

The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from conftest import count, deliver, events, get, login, login_as, text
from sqlmodel import SQLModel

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import Invite, OutboxMessage, Role, User
from vendor_risk.services import ValidationFailed
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import invites
from vendor_risk.services.questionnaires import library as questionnaires

BASE_URL = "http://vr.test"
NEW_PASSWORD = "a long passphrase of four words"
LINK = re.compile(r"http://vr\.test(/invite/([A-Za-z0-9_-]+))")
QUESTIONNAIRE = """
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
"""


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(**smtp_server.config, BASE_URL=BASE_URL)


@pytest.fixture
def sent(app, client, make_vendor, make_user, smtp_server):
    """Procurement sends a questionnaire to jane@keystone.example through the page; returns
    what the test needs, the request id and the link's path among them."""
    vendor_id = make_vendor("Keystone Identity")
    with app.app_context():
        questionnaire = loader.parse(QUESTIONNAIRE, "q.yaml").questionnaire
        version = questionnaires.store_version(
            db.session, questionnaire, source="q.yaml", actor=Actor.system("test")
        ).version
        db.session.commit()
        version_id = version.id
    pat = make_user(Role.procurement, email="pat@example.org")
    staff = app.test_client()
    login_as(staff, pat)
    response = staff.post(
        "/requests/new",
        data={
            "vendor_id": vendor_id,
            "version_id": version_id,
            "due_on": (utcnow().date() + timedelta(days=10)).isoformat(),
            "contact_emails": "jane@keystone.example",
        },
    )
    assert response.status_code == 302
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    deliver(app)  # the outbox worker sends the queued invitation
    return {
        "vendor": vendor_id,
        "request": request_id,
        "staff": staff,
        "path": link_in(smtp_server.messages[-1])[0],
        "invite": invite_id(app),
    }


def words(response) -> str:
    """The page's text as read: tags removed, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", text(response)).split())


def link_in(message) -> tuple[str, str]:
    """The path of the link in an email, and its token."""
    found = LINK.search(message.get_content())
    assert found, message.get_content()
    return found.group(1), found.group(2)


def invite_id(app) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(Invite.id).order_by(Invite.id.desc())).first()


def database_rows(app) -> dict[str, list]:
    with app.app_context():
        return {
            table.name: [
                tuple(row)
                for row in db.session.execute(sa.select(table).order_by(*table.primary_key))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def accept(client, path: str, name: str = "Jane Doe", password: str = NEW_PASSWORD):
    return client.post(
        path, data={"name": name, "password": password, "confirm_password": password}
    )


def enrol(client) -> None:
    """The TOTP enrolment step, with a code computed from the secret the page shows."""
    page = client.get("/auth/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert "shown only now" in done.get_data(as_text=True)  # the recovery codes


# ---- the link works once --------------------------------------------------------------------


def test_the_emailed_link_works_once_and_leads_to_totp_enrolment(app, sent, smtp_server):
    message = smtp_server.messages[-1]
    assert message["To"] == "jane@keystone.example"
    assert message["Subject"] == "Security questionnaire for Keystone Identity: Short security"
    body = message.get_content()
    assert "Pat (pat@example.org) invites you to the vendor portal of Keystone Identity" in body
    browser = app.test_client()
    before = database_rows(app)

    page = browser.get(sent["path"])

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token stays out of Referer
    shown = words(page)
    assert "Invitation to the vendor portal of Keystone Identity" in shown
    assert "Pat (pat@example.org) invited jane@keystone.example" in shown
    assert "Short security" in shown
    assert "Accept and create my account" in shown
    assert database_rows(app) == before  # opening the link changed nothing (mail scanners)

    weak = accept(browser, sent["path"], password="password1234")
    assert weak.status_code == 400
    assert "This password is in a list of commonly used passwords" in text(weak)
    unnamed = accept(browser, sent["path"], name="  ")
    assert "Enter your name." in text(unnamed)
    assert count(app, User, User.email == "jane@keystone.example") == 0

    done = accept(browser, sent["path"])

    assert done.status_code == 302
    assert done.headers["Location"] == "/auth/enrol"
    assert browser.get("/portal/").headers["Location"] == "/auth/mfa"  # half logged in only
    enrol(browser)
    assert browser.get("/portal/").status_code == 200
    with app.app_context():
        jane = db.session.scalars(
            sa.select(User).where(User.email == "jane@keystone.example")
        ).one()
        assert (jane.role, jane.vendor_id, jane.name) == (
            Role.vendor_contact,
            sent["vendor"],
            "Jane Doe",
        )
        assert jane.mfa_enrolled
    invite = get(app, Invite, sent["invite"])
    assert invite.redeemed_at is not None and invite.redeemed_by_id == jane.id
    redeemed = events(app, "invite.redeemed")
    assert [(e.outcome, e.details["account_created"]) for e in redeemed] == [("success", True)]

    # Then the link is spent: for anybody, whatever they send.
    other = app.test_client()
    used = other.get(sent["path"])
    assert used.status_code == 410
    assert "This invitation was used already" in text(used)
    again = accept(other, sent["path"], name="Mallory", password="another long passphrase")
    assert again.status_code == 410
    assert count(app, User, User.role == Role.vendor_contact) == 1
    staff_page = text(sent["staff"].get(f"/requests/{sent['request']}"))
    assert re.search(r"jane@keystone\.example</td>\s*<td><span[^>]*>redeemed<", staff_page)


def test_the_token_is_stored_only_as_its_hash(app, sent, smtp_server):
    _, token = link_in(smtp_server.messages[-1])
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    rows = database_rows(app)
    everything = repr(rows)
    assert token not in everything
    assert hashlib.sha256(token.encode()).hexdigest() in everything
    with app.app_context():
        outbox = db.session.scalars(sa.select(OutboxMessage)).one()
        assert outbox.body == "(not kept)"  # SMTP configured: the message is not kept
        assert outbox.sent_at is not None
    for event in events(app, "invite.sent"):
        assert token not in repr(event.details)


def test_an_expired_link_is_refused_and_says_whom_to_ask(app, sent):
    with app.app_context():
        invite = db.session.get(Invite, sent["invite"])
        invite.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    browser = app.test_client()

    page = browser.get(sent["path"])

    assert page.status_code == 410
    shown = words(page)
    assert "This invitation has expired" in shown
    assert "Ask Pat (pat@example.org), who invited you, to send a new invitation." in shown
    assert accept(browser, sent["path"]).status_code == 410
    assert count(app, User, User.email == "jane@keystone.example") == 0
    staff_page = text(sent["staff"].get(f"/requests/{sent['request']}"))
    assert re.search(r"jane@keystone\.example</td>\s*<td><span[^>]*>expired<", staff_page)


def test_resend_replaces_the_link_and_revoke_ends_it(app, sent, smtp_server):
    old_path = sent["path"]
    staff = sent["staff"]

    staff.post(f"/requests/{sent['request']}/invites/{sent['invite']}/resend")
    deliver(app)

    assert len(smtp_server.messages) == 2
    new_path, _ = link_in(smtp_server.messages[-1])
    assert new_path != old_path
    browser = app.test_client()
    stale = browser.get(old_path)
    assert stale.status_code == 404
    assert "This invitation link is not valid" in text(stale)
    assert "replaced by a newer invitation" in text(stale)
    assert accept(browser, old_path).status_code == 404
    assert browser.get(new_path).status_code == 200
    assert get(app, Invite, sent["invite"]).sent_count == 2

    revoked = staff.post(
        f"/requests/{sent['request']}/invites/{sent['invite']}/revoke", follow_redirects=True
    )

    assert "The invitation of jane@keystone.example was revoked" in text(revoked)
    withdrawn = browser.get(new_path)
    assert withdrawn.status_code == 410
    assert "This invitation was withdrawn" in text(withdrawn)
    assert accept(browser, new_path).status_code == 410
    assert count(app, User, User.email == "jane@keystone.example") == 0
    refused = staff.post(f"/requests/{sent['request']}/invites/{sent['invite']}/resend")
    assert refused.status_code == 409
    assert "invite the address again instead" in text(refused)
    assert len(events(app, "invite.revoked")) == 1
    assert [e.details["resent"] for e in events(app, "invite.sent")] == [False, True]


def test_an_unknown_link_is_not_found_for_anybody(app, client, make_user):
    token = "A" * 43
    for visitor in (client, None):
        if visitor is None:
            visitor = app.test_client()
            login_as(visitor, make_user(Role.procurement))
        page = visitor.get(f"/invite/{token}")
        assert page.status_code == 404
        assert "This invitation link is not valid" in text(page)
        assert accept(visitor, f"/invite/{token}").status_code == 404
    assert client.get("/invite/not-even-the-shape").status_code == 404


# ---- existing accounts ----------------------------------------------------------------------


def test_an_existing_contact_of_the_vendor_is_attached_and_logs_in(app, sent, make_user):
    jane = make_user(Role.vendor_contact, email="jane@keystone.example", vendor_id=sent["vendor"])
    browser = app.test_client()

    page = text(browser.get(sent["path"]))

    assert "You already have an account with this address" in page
    assert "Choose a password" not in page
    done = browser.post(sent["path"], data={})
    assert done.status_code == 302
    assert done.headers["Location"] == "/auth/login"
    assert "Invitation accepted: log in" in text(browser.get("/auth/login"))
    assert get(app, Invite, sent["invite"]).redeemed_by_id == jane.id
    assert count(app, User) == 2  # Pat and Jane: no new account
    assert login(browser, jane).headers["Location"] == "/portal/"


@pytest.mark.parametrize("who", ["other vendor", "staff", "disabled contact"])
def test_an_address_of_another_account_is_refused_without_detail(
    app, sent, make_user, make_vendor, who
):
    if who == "other vendor":
        make_user(
            Role.vendor_contact,
            email="jane@keystone.example",
            vendor_id=make_vendor("Secret Other Vendor"),
        )
    elif who == "staff":
        make_user(Role.risk_officer, email="jane@keystone.example")
    else:
        make_user(
            Role.vendor_contact,
            email="jane@keystone.example",
            vendor_id=sent["vendor"],
            active=False,
        )
    browser = app.test_client()
    page = text(browser.get(sent["path"]))
    assert "You already have an account" not in page  # nothing told about other accounts

    refused = accept(browser, sent["path"])

    assert refused.status_code == 403
    shown = words(refused)
    assert "This invitation cannot be accepted" in shown
    assert "Ask Pat (pat@example.org)" in shown
    for detail in ("Secret Other Vendor", "officer", "disabled", "exists", "already"):
        assert detail not in shown
    assert get(app, Invite, sent["invite"]).redeemed_at is None
    with app.app_context():
        jane = db.session.scalars(
            sa.select(User).where(User.email == "jane@keystone.example")
        ).one()
        assert jane.password_hash != NEW_PASSWORD and jane.name != "Jane Doe"
    assert [e.outcome for e in events(app, "invite.redeemed")] == ["denied"]


# ---- the service, as the portal's "invite a colleague" calls it ------------------------------


def test_invite_a_colleague_without_a_request(app, make_vendor, make_user, smtp_server):
    vendor_id = make_vendor("Keystone Identity")
    ann = make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=vendor_id)
    with app.app_context():
        invite = invites.invite_contact(
            db.session,
            vendor_id=vendor_id,
            email=" Bob@Keystone.Example ",
            request_id=None,
            actor=Actor(label=ann.email, user_id=ann.id),
        )
        db.session.commit()
        assert invites.delivered(invite)
        assert invite.email == "bob@keystone.example"
        with pytest.raises(ValidationFailed) as refused:
            invites.invite_contact(
                db.session, vendor_id=vendor_id, email="bob@", request_id=None, actor=Actor("x")
            )
        assert "email" in refused.value.errors
    deliver(app)
    message = smtp_server.messages[-1]
    assert message["Subject"] == "Invitation to the vendor portal of Keystone Identity"
    path, token = link_in(message)
    with app.app_context():
        assert invites.find_live(db.session, token).email == "bob@keystone.example"
        assert (
            invites.find_live(db.session, token[:-1] + ("B" if token[-1] != "B" else "C")) is None
        )
    browser = app.test_client()
    assert accept(browser, path, name="Bob").headers["Location"] == "/auth/enrol"
    with app.app_context():
        assert invites.find_live(db.session, token) is None


# ---- links come from the configuration, never from the request ------------------------------

ATTACKER = "login-example-com.attacker.example"
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"  # what links use in development without it
# (settings, headers, where links must point): a forged Host, with VR_BASE_URL and without (in
# development); a forged X-Forwarded-Host behind a proxy whose host is not trusted; and a host
# the proxy may name (trusted and allowed), which does not make links either.
FORGED = {
    "Host": ({"BASE_URL": BASE_URL}, {"Host": ATTACKER}, BASE_URL),
    "Host, development": ({}, {"Host": ATTACKER}, DEVELOPMENT_BASE_URL),
    "X-Forwarded-Host": (
        {"PROXY_COUNT": 1},
        {"X-Forwarded-Host": ATTACKER, "X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"},
        DEVELOPMENT_BASE_URL,
    ),
    "trusted X-Forwarded-Host": (
        {
            "BASE_URL": BASE_URL,
            "PROXY_COUNT": 1,
            "TRUST_FORWARDED_HOST": True,
            "TRUSTED_HOSTS": ("localhost", "vr.lan"),
        },
        {"X-Forwarded-Host": "vr.lan", "X-Forwarded-For": "1.2.3.4"},
        BASE_URL,
    ),
}


def _signed_in_as(app, user, headers: dict):
    """A client logged in as ``user`` that sends its session cookie whatever Host it forges,
    as a person with curl would."""
    client = app.test_client()
    login_as(client, user)
    if "Host" in headers:
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        client.set_cookie(cookie.key, cookie.value, domain=headers["Host"])
    return client


def _new_request(staff, vendor_id: int, version_id: int, contact: str, headers: dict):
    return staff.post(
        "/requests/new",
        data={
            "vendor_id": vendor_id,
            "version_id": version_id,
            "due_on": (utcnow().date() + timedelta(days=10)).isoformat(),
            "contact_emails": contact,
        },
        headers=headers,
    )


@pytest.mark.parametrize("forged", FORGED)
@pytest.mark.parametrize("action", ["new request", "more contacts", "resend", "portal colleague"])
def test_emailed_links_start_with_the_base_url_whatever_the_request_says(
    make_app, make_vendor, make_user, smtp_server, forged, action
):
    settings, headers, base = FORGED[forged]
    app = make_app(**smtp_server.config, **settings)
    vendor_id = make_vendor("Keystone Identity", email_domains=["keystone.example"])
    with app.app_context():
        questionnaire = loader.parse(QUESTIONNAIRE, "q.yaml").questionnaire
        version_id = questionnaires.store_version(
            db.session, questionnaire, source="q.yaml", actor=Actor.system("test")
        ).version.id
        db.session.commit()
    staff = _signed_in_as(app, make_user(Role.procurement, email="pat@example.org"), headers)
    if action != "new request":  # a request sent without forgery first
        created = _new_request(staff, vendor_id, version_id, "jane@keystone.example", {})
        request_id = int(created.headers["Location"].rsplit("/", 1)[1])
    deliver(app)
    before = len(smtp_server.messages)

    if action == "new request":
        done = _new_request(staff, vendor_id, version_id, "jane@keystone.example", headers)
    elif action == "more contacts":
        done = staff.post(
            f"/requests/{request_id}/invites",
            data={"contact_emails": "bob@keystone.example"},
            headers=headers,
        )
    elif action == "resend":
        done = staff.post(
            f"/requests/{request_id}/invites/{invite_id(app)}/resend", headers=headers
        )
    else:
        ann = make_user(Role.vendor_contact, vendor_id=vendor_id, email="ann@keystone.example")
        contact = _signed_in_as(app, ann, headers)
        done = contact.post(
            "/portal/invite", data={"email": "carl@keystone.example"}, headers=headers
        )

    assert done.status_code == 302, text(done)
    assert not done.headers["Location"].startswith("/auth/")  # signed in, and done
    deliver(app)
    [message] = smtp_server.messages[before:]
    body = message.get_content()
    assert ATTACKER not in body and "vr.lan" not in body
    links = re.findall(r"\S+/invite/\S+", body)
    assert links and all(link.startswith(f"{base}/invite/") for link in links), links
    assert app.test_client().get(links[0].removeprefix(base)).status_code == 200


# ---- limits and logs ------------------------------------------------------------------------


def test_redeeming_is_rate_limited_per_link(make_app, smtp_server, make_vendor):
    app = make_app(
        **smtp_server.config,
        BASE_URL=BASE_URL,
        RATELIMIT_ENABLED=True,
        RATELIMIT_INVITE_PER_LINK="2 per minute",
    )
    vendor_id = make_vendor("Keystone Identity")
    with app.app_context():
        invites.invite_contact(
            db.session,
            vendor_id=vendor_id,
            email="jane@keystone.example",
            request_id=None,
            actor=Actor.system("test"),
        )
        db.session.commit()
    deliver(app)
    path, _ = link_in(smtp_server.messages[-1])
    browser = app.test_client()
    for _ in range(2):
        assert accept(browser, path, password="short").status_code == 400
    limited = accept(browser, path)
    assert limited.status_code == 429
    assert count(app, User) == 0
    assert app.test_client().get(path).status_code == 200  # reading the page is not limited


def test_each_user_has_a_budget_of_invitation_emails(make_app, smtp_server, make_vendor, make_user):
    app = make_app(
        **smtp_server.config,
        BASE_URL=BASE_URL,
        RATELIMIT_ENABLED=True,
        RATELIMIT_EMAILS_PER_USER="2 per hour",
    )
    vendor_id = make_vendor("Keystone Identity", email_domains=["keystone.example"])
    ann = make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=vendor_id)
    browser = app.test_client()
    login_as(browser, ann)
    statuses = [
        browser.post("/portal/invite", data={"email": f"colleague{n}@keystone.example"}).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    deliver(app)
    assert len(smtp_server.messages) == 2  # the third was never sent
    assert count(app, Invite) == 2


def test_tokens_are_masked_in_the_request_log(app, caplog):
    token = "x" * 43
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info(
            '%s - - [%s] "%s" %s', "127.0.0.1", "now", f"GET /invite/{token} HTTP/1.1", 200
        )
        app.logger.error("Exception on /invite/%s [POST]", token)
    assert token not in caplog.text
    assert "/invite/[masked]" in caplog.text
