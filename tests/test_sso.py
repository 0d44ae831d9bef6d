"""Single sign-on for staff, against a real OpenID Connect provider on loopback
(tests/oidc_provider.py: Authlib's server parts over HTTP), driven through the app's own pages:
the button's POST, the provider's authorization endpoint (approving its test user at once), and
the callback, whose code the app exchanges with the provider over HTTP. No part of the client
is mocked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
import sqlalchemy as sa
from conftest import PASSWORD, count, events, text, totp_code
from oidc_provider import Provider, RunningProvider

from vendor_risk import config
from vendor_risk.db import db
from vendor_risk.models import AuditAction, Role, SsoIdentity, User

BASE_URL = "http://127.0.0.1:5000"


@pytest.fixture
def idp():
    running = RunningProvider(
        Provider(
            redirect_uri=f"{BASE_URL}/auth/sso/callback",
            user={
                "sub": "00u-robin",
                "email": "robin@example.com",
                "email_verified": True,
                "name": "Robin Hood",
                "groups": ["vr-risk"],
            },
        )
    )
    yield running.provider
    running.stop()


@pytest.fixture
def app(make_app, idp):
    return make_app(**idp.settings(BASE_URL=BASE_URL))


def sign_in(client, idp: Provider, *, next_url: str | None = None, state: str | None = None):
    """Press "Sign in with ..." and follow the redirects to the provider and back."""
    start = client.post("/auth/sso/login" + (f"?next={next_url}" if next_url else ""))
    # A page that moves on to the provider at once (Refresh header), with a link.
    assert start.status_code == 200, start.get_data(as_text=True)
    authorize = start.headers["Refresh"].removeprefix("0; url=")
    assert f'href="{authorize.replace("&", "&amp;")}"' in start.get_data(as_text=True)
    assert authorize.startswith(f"{idp.issuer}/authorize?")
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == BASE_URL
    assert back.path == "/auth/sso/callback"
    query = dict(parse_qsl(back.query))
    if state is not None:
        query["state"] = state
    return client.get(f"{back.path}?{urlencode(query)}")


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            user.roles  # noqa: B018 - load the roles before leaving the session
            db.session.expunge(user)
        return user


def identities(app) -> int:
    return count(app, SsoIdentity)


# ---- the happy paths -----------------------------------------------------------------------


def test_login_page_offers_the_provider(client, idp):
    page = client.get("/auth/login")
    assert "Sign in with Test IdP" in text(page)
    # The login page's policy stays strict: forms post to this app only.
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]


def test_first_sign_in_creates_the_account_with_the_mapped_roles(app, client, idp):
    idp.user["groups"] = ["vr-risk", "somebody-else", "vr-admins"]
    response = sign_in(client, idp)

    # No second factor asserted by the provider: the app's own, starting with enrolment.
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/enrol"
    assert client.get("/auth/enrol").status_code == 200
    assert client.get("/admin/").headers["Location"].startswith("/auth/mfa")

    user = user_by_email(app, "robin@example.com")
    assert user.name == "Robin Hood"
    # The role map's order decides the primary role: admins come first in it.
    assert user.role is Role.admin
    assert user.roles == {Role.admin, Role.risk_officer}
    assert identities(app) == 1
    created = events(app, AuditAction.sso_user_created.value)
    assert created[-1].details["roles"] == ["admin", "risk_officer"]
    assert events(app, AuditAction.login_sso.value)[-1].details["mfa_asserted"] is False

    # The flow was the authorization code flow with PKCE, a nonce and a state.
    asked = idp.authorization_requests[-1]
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert asked["code_challenge"] and asked["nonce"] and asked["state"]
    assert set(asked["scope"].split()) == {"openid", "email", "profile"}


def test_mfa_asserted_by_the_provider_skips_the_local_code(app, client, idp):
    idp.amr = ["pwd", "mfa"]
    with client.session_transaction() as sess:
        sess["left_over"] = "from before"
    response = sign_in(client, idp, next_url="/risk/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/risk/"
    assert client.get("/risk/").status_code == 200
    with client.session_transaction() as sess:
        # A fresh session, as after a password and a code.
        assert "left_over" not in sess
        assert "auth_at" in sess
    assert events(app, AuditAction.login_sso.value)[-1].details["mfa_asserted"] is True


def test_mfa_not_asserted_asks_the_local_totp_code(app, client, idp, make_user):
    staff = make_user(Role.risk_officer, email="robin@example.com")
    idp.amr = ["pwd"]  # a password only: not a second factor
    response = sign_in(client, idp)
    assert response.headers["Location"] == "/auth/mfa"
    assert client.get("/risk/").headers["Location"].startswith("/auth/mfa")
    done = client.post("/auth/mfa", data={"code": totp_code(app, staff)})
    assert done.status_code == 302
    assert done.headers["Location"] == "/risk/"
    assert client.get("/risk/").status_code == 200


@pytest.mark.parametrize(
    ("acr", "asserted"), [("urn:example:loa:mfa", True), ("urn:example:loa:pwd", False)]
)
def test_acr_counts_only_when_it_equals_a_configured_value(make_app, idp, acr, asserted):
    app = make_app(**idp.settings(BASE_URL=BASE_URL, SSO_MFA_ACR="urn:example:loa:mfa"))
    idp.acr = acr
    response = sign_in(app.test_client(), idp)
    assert (response.headers["Location"] == "/risk/") is asserted
    assert (response.headers["Location"] == "/auth/enrol") is not asserted


def test_roles_are_synced_from_the_claim_at_every_sign_in(app, client, idp):
    idp.amr = ["mfa"]
    sign_in(client, idp)
    assert user_by_email(app, "robin@example.com").roles == {Role.risk_officer}
    client.post("/auth/logout")

    idp.user["groups"] = ["vr-procurement", "vr-admins"]
    response = sign_in(client, idp)
    assert response.headers["Location"] == "/admin/"
    user = user_by_email(app, "robin@example.com")
    assert user.role is Role.admin
    assert user.roles == {Role.admin, Role.procurement}
    synced = events(app, AuditAction.sso_roles_synced.value)
    assert synced[-1].details["roles"] == {
        "old": ["risk_officer"],
        "new": ["admin", "procurement"],
    }
    assert synced[-1].details["home_role"] == {"old": "risk_officer", "new": "admin"}
    assert count(app, User) == 1 and identities(app) == 1

    # Same roles again: nothing to sync, nothing audited.
    client.post("/auth/logout")
    sign_in(client, idp)
    assert len(events(app, AuditAction.sso_roles_synced.value)) == 1


def test_existing_staff_account_is_linked_only_when_the_address_is_verified(
    app, client, idp, make_user
):
    staff = make_user(Role.procurement, email="robin@example.com")
    idp.amr = ["mfa"]
    idp.user["email_verified"] = False
    refused = sign_in(client, idp)
    assert refused.status_code == 403
    assert "does not say the address is verified" in text(refused)
    assert identities(app) == 0

    idp.user["email_verified"] = True
    response = sign_in(client, idp)
    assert response.headers["Location"] == "/risk/"
    assert count(app, User) == 1
    assert user_by_email(app, "robin@example.com").id == staff.id
    assert len(events(app, AuditAction.sso_account_linked.value)) == 1

    # A different person at the provider later given the same address is not let in.
    client.post("/auth/logout")
    idp.user["sub"] = "00u-someone-else"
    refused = sign_in(client, idp)
    assert refused.status_code == 403
    assert "belongs to another identity" in text(refused)


# ---- refusals --------------------------------------------------------------------------------


def test_vendor_contact_is_refused_even_with_a_matching_address(
    app, client, idp, make_user, make_vendor
):
    contact = make_user(
        Role.vendor_contact, email="robin@example.com", vendor_id=make_vendor("Acme")
    )
    idp.user["groups"] = ["vr-admins"]
    idp.amr = ["mfa"]
    response = sign_in(client, idp)
    assert response.status_code == 403
    assert "Vendor contacts sign in with their email address, password" in text(response)
    assert user_by_email(app, contact.email).roles == {Role.vendor_contact}
    assert identities(app) == 0
    assert events(app, AuditAction.sso_refused.value)[-1].details["reason"] == "vendor contact"
    assert client.get("/portal/").headers["Location"].startswith("/auth/login")


def test_no_mapped_role_is_refused_and_nothing_is_created(app, client, idp):
    idp.user["groups"] = ["marketing"]
    response = sign_in(client, idp)
    assert response.status_code == 403
    assert "does not give you any role in vendor-risk" in text(response)
    assert count(app, User) == 0 and identities(app) == 0
    assert events(app, AuditAction.sso_refused.value)[-1].details["reason"] == "no mapped role"


def test_disabled_account_is_refused(app, client, idp, make_user):
    make_user(Role.risk_officer, email="robin@example.com", active=False)
    response = sign_in(client, idp)
    assert response.status_code == 403
    assert "Your account is disabled" in text(response)


def test_address_outside_the_allowed_domain_is_refused(make_app, idp):
    app = make_app(**idp.settings(BASE_URL=BASE_URL, SSO_EMAIL_DOMAIN="example.org"))
    response = sign_in(app.test_client(), idp)
    assert response.status_code == 403
    assert "Only addresses at example.org" in text(response)
    assert count(app, User) == 0


@pytest.mark.parametrize(
    ("forgery", "failed"),
    [
        pytest.param({"tamper": {"nonce": "not-the-one-sent"}}, "'nonce'", id="nonce"),
        pytest.param({"tamper": {"iss": "http://127.0.0.1:1/other"}}, "'iss'", id="issuer"),
        pytest.param({"tamper": {"aud": "another-client"}}, "'aud'", id="audience"),
        # Naming this app as the authorized party does not make another audience's token ours.
        pytest.param(
            {"tamper": {"aud": "another-client", "azp": "vendor-risk"}}, "'aud'", id="azp"
        ),
        pytest.param({"tamper": {"exp": 1_600_000_000}}, "expired", id="expired"),
        pytest.param({"sign_with_foreign_key": True}, "bad_signature", id="signature"),
    ],
)
def test_an_id_token_that_fails_a_check_is_refused(app, client, idp, forgery, failed):
    idp.amr = ["mfa"]
    for name, value in forgery.items():
        setattr(idp, name, value)
    response = sign_in(client, idp)
    assert response.status_code == 400
    assert "could not be trusted, so you are not signed in" in text(response)
    assert count(app, User) == 0
    refusal = events(app, AuditAction.sso_refused.value)[-1]
    assert refusal.details["reason"] == "invalid"
    assert failed in refusal.details["detail"]
    assert client.get("/risk/").headers["Location"].startswith("/auth/login")


def test_a_state_that_this_browser_did_not_start_is_refused(app, client, idp):
    response = sign_in(client, idp, state="forged-state")
    assert response.status_code == 400
    assert "not started from this browser" in text(response)
    assert count(app, User) == 0


def test_the_providers_error_is_a_clear_page(client):
    response = client.get("/auth/sso/callback?error=access_denied&state=x")
    assert response.status_code == 400
    assert "You are not signed in" in text(response)


# ---- passwords for staff -----------------------------------------------------------------------


def test_staff_passwords_disabled(make_app, idp, make_user, make_vendor):
    app = make_app(**idp.settings(BASE_URL=BASE_URL, SSO_DISABLE_STAFF_PASSWORDS=True))
    client = app.test_client()
    page = client.get("/auth/login")
    assert "Staff sign in with Test IdP. The form below is for vendor contacts." in text(page)

    staff = make_user(Role.risk_officer)
    refused = client.post("/auth/login", data={"email": staff.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "Staff sign in with Test IdP, not with a password" in text(refused)
    assert client.get("/auth/mfa").headers["Location"].startswith("/auth/login")
    failures = events(app, AuditAction.login_failed.value)
    assert failures[-1].details["reason"] == "password sign-in disabled for staff"

    admin = make_user(Role.admin)
    assert (
        client.post("/auth/login", data={"email": admin.email, "password": PASSWORD}).status_code
        == 403
    )

    # Vendor contacts keep their password and second factor.
    contact = make_user(Role.vendor_contact, vendor_id=make_vendor("Acme"))
    response = client.post("/auth/login", data={"email": contact.email, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/mfa"

    # A wrong password still reads as one (nothing tells who is staff).
    wrong = client.post("/auth/login", data={"email": staff.email, "password": "not it at all"})
    assert wrong.status_code == 401


def test_admins_keep_a_password_with_the_break_glass_setting(make_app, idp, make_user):
    app = make_app(
        **idp.settings(
            BASE_URL=BASE_URL, SSO_DISABLE_STAFF_PASSWORDS=True, SSO_ADMIN_BREAK_GLASS=True
        )
    )
    client = app.test_client()
    admin = make_user(Role.admin)
    response = client.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/mfa"  # the TOTP code is still asked
    staff = make_user(Role.procurement)
    refused = client.post("/auth/login", data={"email": staff.email, "password": PASSWORD})
    assert refused.status_code == 403


def test_without_single_sign_on_no_button_and_no_sign_in(make_app):
    app = make_app()
    client = app.test_client()
    assert "Sign in with" not in text(client.get("/auth/login"))
    assert client.post("/auth/sso/login").status_code == 404
    late = client.get("/auth/sso/callback?code=x&state=y")
    assert late.headers["Location"] == "/auth/login"
    assert "Single sign-on is not in use" in text(client.get("/auth/login"))


# ---- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (
            {"SSO_ROLE_MAP": '{"g": "vendor_contact"}'},
            "VR_SSO_ROLE_MAP: 'g': 'vendor_contact' is not a staff role",
        ),
        ({"SSO_ROLE_MAP": "[1]"}, "VR_SSO_ROLE_MAP: expected a JSON object"),
        ({"SSO_ISSUER": "http://idp.example.org"}, "VR_SSO_ISSUER: expected"),
        ({"SSO_ISSUER": "https://idp.example.org"}, "single sign-on needs VR_SSO_CLIENT_ID"),
        ({"SSO_DISABLE_STAFF_PASSWORDS": True}, "VR_SSO_DISABLE_STAFF_PASSWORDS: true needs"),
        ({"SSO_ROLES_CLAIM": "a..b"}, "VR_SSO_ROLES_CLAIM: expected a claim name"),
        ({"SSO_EMAIL_DOMAIN": "not a domain"}, "VR_SSO_EMAIL_DOMAIN: expected a domain"),
    ],
)
def test_bad_settings_stop_start_up_with_the_variable_named(overrides, line):
    with pytest.raises(config.ConfigError) as caught:
        config.read_settings(overrides)
    assert any(message.startswith(line) for message in caught.value.lines), caught.value.lines


def test_the_client_secret_is_never_repeated_in_a_message():
    with pytest.raises(config.ConfigError) as caught:
        config.read_settings({"SSO_CLIENT_SECRET": "x" * 2000})
    assert "xxxx" not in str(caught.value)
