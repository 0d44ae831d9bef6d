"""CSRF: with protection on (as in production), every state-changing request without the form's
security token is refused with 400 and changes nothing; the token is also accepted in a header."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
import sqlalchemy as sa
from conftest import PASSWORD, app_url_map, login_as, totp_code
from flask import url_for
from sqlmodel import SQLModel

from vendor_risk.db import db
from vendor_risk.models import Role, User
from vendor_risk.services.accounts import users as accounts

TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*\bvalue="([^"]+)"')
REFUSAL = "missing security token"
NEW_PASSWORD = "a completely different passphrase"


@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def token_on(page) -> str:
    """The CSRF token of the first form on a page, as a browser would send it."""
    assert page.status_code == 200, page.status_code
    match = TOKEN_FIELD.search(page.get_data(as_text=True))
    assert match, "the page has no form with a security token"
    return match.group(1)


def enter_password(client, user, password: str = PASSWORD):
    """The password step through the real form, token included."""
    token = token_on(client.get("/auth/login"))
    return client.post(
        "/auth/login", data={"email": user.email, "password": password, "csrf_token": token}
    )


def redirects_to(response, path: str) -> bool:
    return response.status_code == 302 and response.headers["Location"].split("?")[0] == path


def get_user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def database_rows(app) -> dict[str, list]:
    """Every row of every table: what "nothing changed" means, whatever the route does."""
    with app.app_context():
        return {
            table.name: [
                tuple(row)
                for row in db.session.execute(sa.select(table).order_by(*table.primary_key))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


# ---- (a) the login form ----------------------------------------------------------------------


def test_login_without_token_is_refused_and_logs_nobody_in(client, make_user):
    admin = make_user(Role.admin)
    token = token_on(client.get("/auth/login"))

    refused = client.post("/auth/login", data={"email": admin.email, "password": PASSWORD})

    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "This form has expired" in page
    assert REFUSAL in page
    assert redirects_to(client.get("/auth/mfa"), "/auth/login")  # not even half logged in
    assert redirects_to(client.get("/admin/"), "/auth/login")

    accepted = client.post(
        "/auth/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
    )
    assert redirects_to(accepted, "/auth/mfa")


# ---- (b) every POST route --------------------------------------------------------------------


@dataclass
class Attempt:
    """A POST that would change something, made without its token."""

    data: dict
    nothing_changed: Callable[[], None]  # assertions a user would check afterwards


@dataclass
class Setup:
    app: object
    client: object
    make_user: Callable
    victim: object
    path: str  # the URL of the rule, the victim's id in it

    def logged_in_admin(self):
        admin = self.make_user(Role.admin)
        login_as(self.client, admin)
        token_on(self.client.get("/account/"))  # the session holds a token, the POST omits it
        return admin

    def half_logged_in(self, user):
        assert redirects_to(enter_password(self.client, user), "/auth/mfa")
        token_on(self.client.get("/auth/mfa"))
        return user

    def still_logged_in(self):
        assert self.client.get("/admin/").status_code == 200

    def still_half_logged_in(self):
        assert redirects_to(self.client.get("/admin/"), "/auth/mfa")


def attempt_login(s: Setup) -> Attempt:
    admin = s.make_user(Role.admin)
    token_on(s.client.get("/auth/login"))

    def nothing_changed():
        assert redirects_to(s.client.get("/auth/mfa"), "/auth/login")

    return Attempt({"email": admin.email, "password": PASSWORD}, nothing_changed)


def attempt_mfa(s: Setup) -> Attempt:
    admin = s.half_logged_in(s.make_user(Role.admin))
    return Attempt({"code": totp_code(s.app, admin)}, s.still_half_logged_in)


def attempt_recovery(s: Setup) -> Attempt:
    admin = s.half_logged_in(s.make_user(Role.admin))
    code = admin.recovery_codes[0]

    def nothing_changed():
        s.still_half_logged_in()
        hashes = get_user(s.app, admin.id).recovery_code_hashes
        with s.app.app_context():
            still_valid = accounts.matching_recovery_code(hashes, code)
        assert still_valid is not None, "the code was used up"

    return Attempt({"code": code}, nothing_changed)


def attempt_enrol(s: Setup) -> Attempt:
    newcomer = s.make_user(Role.admin, enrolled=False)
    assert redirects_to(enter_password(s.client, newcomer), "/auth/enrol")
    page = s.client.get("/auth/enrol")  # shows the QR code of a new secret
    token_on(page)
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.get_data(as_text=True))
    secret = shown.group(1).replace(" ", "")

    def nothing_changed():
        assert not get_user(s.app, newcomer.id).mfa_enrolled
        assert redirects_to(s.client.get("/auth/mfa"), "/auth/enrol")

    return Attempt({"code": pyotp.TOTP(secret).now()}, nothing_changed)


def attempt_logout(s: Setup) -> Attempt:
    s.logged_in_admin()
    return Attempt({}, s.still_logged_in)


def attempt_password_change(s: Setup) -> Attempt:
    admin = s.logged_in_admin()
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }

    def nothing_changed():
        s.still_logged_in()  # a changed password would have rotated the session
        other_browser = s.app.test_client()
        assert redirects_to(enter_password(other_browser, admin, PASSWORD), "/auth/mfa")

    return Attempt(data, nothing_changed)


def attempt_new_recovery_codes(s: Setup) -> Attempt:
    admin = s.logged_in_admin()

    def nothing_changed():
        hashes = get_user(s.app, admin.id).recovery_code_hashes
        with s.app.app_context():
            assert all(accounts.matching_recovery_code(hashes, c) for c in admin.recovery_codes)

    return Attempt({"code": totp_code(s.app, admin)}, nothing_changed)


def attempt_new_user(s: Setup) -> Attempt:
    s.logged_in_admin()
    data = {
        "email": "newcomer@example.com",
        "name": "Newcomer",
        "role": Role.procurement.value,
        "vendor_id": "",
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }

    def nothing_changed():
        page = s.client.get("/admin/users").get_data(as_text=True)
        assert "newcomer@example.com" not in page

    return Attempt(data, nothing_changed)


def attempt_disable(s: Setup) -> Attempt:
    s.logged_in_admin()

    def nothing_changed():
        assert get_user(s.app, s.victim.id).active

    return Attempt({}, nothing_changed)


def attempt_enable(s: Setup) -> Attempt:
    s.logged_in_admin()
    with s.app.app_context():
        db.session.get(User, s.victim.id).active = False
        db.session.commit()

    def nothing_changed():
        assert not get_user(s.app, s.victim.id).active

    return Attempt({}, nothing_changed)


def attempt_reset_mfa(s: Setup) -> Attempt:
    s.logged_in_admin()

    def nothing_changed():
        assert get_user(s.app, s.victim.id).mfa_enrolled

    return Attempt({}, nothing_changed)


def attempt_as_admin(s: Setup) -> Attempt:
    """A POST route with no scenario of its own: an admin's empty form, and the database
    comparison of the test."""
    s.logged_in_admin()
    return Attempt({}, lambda: None)


# The state each route needs to do something, and what a user would check afterwards.
ATTEMPTS: dict[str, Callable[[Setup], Attempt]] = {
    "auth.login": attempt_login,
    "auth.mfa": attempt_mfa,
    "auth.recovery": attempt_recovery,
    "auth.enrol": attempt_enrol,
    "auth.logout": attempt_logout,
    "account.change_password": attempt_password_change,
    "account.regenerate_recovery_codes": attempt_new_recovery_codes,
    "admin.new_user": attempt_new_user,
    "admin.disable_user": attempt_disable,
    "admin.enable_user": attempt_enable,
    "admin.reset_mfa": attempt_reset_mfa,
}

POST_RULES = sorted(
    (rule for rule in app_url_map().iter_rules() if "POST" in rule.methods),
    key=lambda rule: rule.rule,
)


@pytest.mark.parametrize("rule", POST_RULES, ids=[rule.rule for rule in POST_RULES])
def test_post_without_token_is_refused_and_changes_nothing(app, client, make_user, rule):
    victim = make_user(Role.procurement, email="victim@example.com")
    with app.test_request_context():
        path = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, victim.id))
    setup = Setup(app, client, make_user, victim, path)
    attempt = ATTEMPTS.get(rule.endpoint, attempt_as_admin)(setup)
    before = database_rows(app)

    response = client.post(setup.path, data=attempt.data)

    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)
    assert database_rows(app) == before
    attempt.nothing_changed()


# ---- (c) the token in a header, for fetch calls ----------------------------------------------


def test_token_in_x_csrftoken_header_is_accepted(app, client, make_user):
    victim = make_user(Role.procurement, email="victim@example.com")
    login_as(client, make_user(Role.admin))
    page = client.get(f"/admin/users/{victim.id}")
    token = token_on(page)

    forged = client.post(f"/admin/users/{victim.id}/disable", headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    assert get_user(app, victim.id).active

    response = client.post(f"/admin/users/{victim.id}/disable", headers={"X-CSRFToken": token})
    assert redirects_to(response, f"/admin/users/{victim.id}")
    assert not get_user(app, victim.id).active
