"""Logging in: password then TOTP, enrolment, recovery codes, replay, redirects, sessions."""

import re
import time

import pyotp
import pytest
from conftest import login, login_password_only, totp_code

from vendor_risk.db import db
from vendor_risk.models import Role, User


def test_login_with_password_and_totp_lands_on_role_home(client, make_user, make_vendor):
    homes = {
        Role.admin: "/admin/",
        Role.procurement: "/procurement/",
        Role.risk_officer: "/risk/",
        Role.vendor_contact: "/portal/",
    }
    vendor_id = make_vendor("Acme Payroll")
    for role, home in homes.items():
        user = make_user(role, vendor_id=vendor_id if role is Role.vendor_contact else None)
        response = login(client, user)
        assert response.status_code == 302
        assert response.headers["Location"] == home
        assert client.get(home).status_code == 200
        client.post("/auth/logout")


def test_wrong_password_is_refused_without_saying_which_part(client, make_user):
    user = make_user(Role.procurement)
    wrong_password = client.post("/auth/login", data={"email": user.email, "password": "x" * 20})
    unknown_email = client.post(
        "/auth/login", data={"email": "nobody@example.com", "password": "x" * 20}
    )
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert "The email address or password is incorrect." in response.get_data(as_text=True)
    assert client.get("/procurement/").status_code == 302


def test_email_is_case_insensitive(client, make_user):
    user = make_user(Role.procurement, email="pat@example.com")
    response = client.post(
        "/auth/login", data={"email": "  Pat@Example.COM ", "password": user.password}
    )
    assert response.headers["Location"].endswith("/auth/mfa")


def test_half_logged_in_session_reaches_no_protected_page(client, make_user):
    admin = make_user(Role.admin)
    login_password_only(client, admin)
    for path in ("/", "/admin/", "/admin/users", "/admin/audit", "/account/", "/procurement/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/auth/mfa", path
    assert client.post("/admin/users/1/disable").headers["Location"] == "/auth/mfa"


def test_wrong_totp_code_is_refused(client, make_user):
    user = make_user(Role.admin)
    login_password_only(client, user)
    response = client.post("/auth/mfa", data={"code": "000000"})
    assert response.status_code == 401
    assert "not valid or was already used" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_replayed_totp_code_is_refused(app, make_user):
    user = make_user(Role.admin)
    first, second = app.test_client(), app.test_client()
    code = totp_code(app, user)
    login_password_only(first, user)
    assert first.post("/auth/mfa", data={"code": code}).headers["Location"] == "/admin/"
    # An attacker who saw the code tries it in their own session within the same 30 seconds.
    login_password_only(second, user)
    response = second.post("/auth/mfa", data={"code": code})
    assert response.status_code == 401
    assert second.get("/admin/").status_code == 302


def test_code_from_an_earlier_step_than_the_last_accepted_is_refused(app, make_user):
    user = make_user(Role.admin)
    client = app.test_client()
    totp = pyotp.TOTP(user.totp_secret)
    next_step_code = totp.at(time.time() + 30)
    login_password_only(client, user)
    assert client.post("/auth/mfa", data={"code": next_step_code}).status_code == 302
    client.post("/auth/logout")
    login_password_only(client, user)
    assert client.post("/auth/mfa", data={"code": totp.now()}).status_code == 401


def test_recovery_code_works_once(app, make_user):
    user = make_user(Role.risk_officer)
    code = user.recovery_codes[3]
    client = app.test_client()
    login_password_only(client, user)
    response = client.post("/auth/recovery", data={"code": code.upper().replace("-", " ")})
    assert response.headers["Location"] == "/risk/"
    page = client.get("/risk/", follow_redirects=True).get_data(as_text=True)
    assert "9 remain" in page
    client.post("/auth/logout")

    login_password_only(client, user)
    response = client.post("/auth/recovery", data={"code": code})
    assert response.status_code == 401
    assert "not valid or was already used" in response.get_data(as_text=True)
    assert client.get("/risk/").status_code == 302


def test_first_login_requires_enrolment_before_any_page(client, make_user):
    user = make_user(Role.procurement, enrolled=False)
    response = client.post("/auth/login", data={"email": user.email, "password": user.password})
    assert response.headers["Location"] == "/auth/enrol"
    assert client.get("/procurement/").headers["Location"] == "/auth/mfa"
    assert client.get("/auth/mfa").headers["Location"] == "/auth/enrol"

    page = client.get("/auth/enrol").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    # Reloading keeps the same secret, so a code already scanned still works.
    assert secret in client.get("/auth/enrol").get_data(as_text=True).replace(" ", "")

    bad = client.post("/auth/enrol", data={"code": "123456"})
    assert bad.status_code == 401
    done = client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(
        r"<code>([a-z0-9]{4}(?:-[a-z0-9]{4}){3})</code>", done.get_data(as_text=True)
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only now" in done.get_data(as_text=True)
    assert client.get("/procurement/").status_code == 200

    # The codes shown are the ones that work (and only their hashes are stored).
    with client.application.app_context():
        stored = db.session.get(User, user.id).recovery_code_hashes
    assert len(stored) == 10 and not any(code in str(stored) for code in codes)


def test_session_is_renewed_at_each_step(client, make_user):
    user = make_user(Role.admin)
    client.get("/auth/login")
    login_password_only(client, user)
    with client.session_transaction() as sess:
        assert set(sess) >= {"pending_user_id", "pending_at"}
        assert "_user_id" not in sess
    client.post("/auth/mfa", data={"code": totp_code(client.application, user)})
    with client.session_transaction() as sess:
        assert "pending_user_id" not in sess and "pending_at" not in sess
        assert "_user_id" in sess and sess["_user_id"] != str(user.id)  # a token, not the id


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/%0a/evil.example",
    ],
)
def test_open_redirects_are_refused(client, make_user, target):
    user = make_user(Role.admin)
    response = login(client, user, next_url=target)
    assert response.headers["Location"] == "/admin/"


def test_next_to_a_page_of_this_app_is_followed(client, make_user):
    user = make_user(Role.admin)
    first = client.get("/admin/audit?action=auth.logout")
    assert first.headers["Location"] == "/auth/login?next=/admin/audit?action%3Dauth.logout"
    response = login(client, user, next_url="/admin/audit%3Faction%3Dauth.logout")
    assert response.headers["Location"] == "/admin/audit?action=auth.logout"


def test_disabled_users_existing_session_stops_working(app, make_user):
    admin, victim = make_user(Role.admin), make_user(Role.procurement)
    admin_client, victim_client = app.test_client(), app.test_client()
    login(victim_client, victim)
    assert victim_client.get("/procurement/").status_code == 200
    login(admin_client, admin)
    assert admin_client.post(f"/admin/users/{victim.id}/disable").status_code == 302

    response = victim_client.get("/procurement/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    refused = victim_client.post(
        "/auth/login", data={"email": victim.email, "password": victim.password}
    )
    assert refused.status_code == 401

    admin_client.post(f"/admin/users/{victim.id}/enable")
    assert login(victim_client, victim).headers["Location"] == "/procurement/"


def test_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    user = make_user(Role.risk_officer)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    new_password = "a completely different passphrase"
    response = here.post(
        "/account/password",
        data={
            "current_password": user.password,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 302
    assert here.get("/risk/").status_code == 200
    assert elsewhere.get("/risk/").headers["Location"].startswith("/auth/login")
    fresh = app.test_client()
    old = fresh.post("/auth/login", data={"email": user.email, "password": user.password})
    assert old.status_code == 401
    new = fresh.post("/auth/login", data={"email": user.email, "password": new_password})
    assert new.headers["Location"] == "/auth/mfa"


def test_password_change_requires_the_current_password_and_the_policy(client, make_user):
    user = make_user(Role.risk_officer)
    login(client, user)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "new_password": "password1234",
            "confirm_password": "password1234",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This is not your current password." in page
    assert "commonly used passwords" in page
    fresh = client.application.test_client()
    assert login(fresh, user).status_code == 302  # old password still works


def test_reset_mfa_ends_sessions_and_requires_new_enrolment(app, make_user):
    admin, user = make_user(Role.admin), make_user(Role.procurement)
    admin_client, user_client = app.test_client(), app.test_client()
    login(user_client, user)
    login(admin_client, admin)
    admin_client.post(f"/admin/users/{user.id}/reset-mfa")
    assert user_client.get("/procurement/").headers["Location"].startswith("/auth/login")
    response = user_client.post(
        "/auth/login", data={"email": user.email, "password": user.password}
    )
    assert response.headers["Location"] == "/auth/enrol"
    old_code = pyotp.TOTP(user.totp_secret).now()
    assert (
        user_client.post("/auth/recovery", data={"code": user.recovery_codes[0]}).headers[
            "Location"
        ]
        == "/auth/enrol"
    )
    assert user_client.post("/auth/enrol", data={"code": old_code}).status_code == 401


def test_logout_ends_the_session(client, make_user):
    user = make_user(Role.admin)
    login(client, user)
    assert client.get("/auth/logout").status_code == 405  # no state change on GET
    assert client.post("/auth/logout").headers["Location"] == "/auth/login"
    assert client.get("/admin/").headers["Location"].startswith("/auth/login")


def test_idle_and_absolute_timeouts(client, make_user):
    user = make_user(Role.admin)
    login(client, user)
    with client.session_transaction() as sess:
        sess["seen_at"] -= 61 * 60
    assert client.get("/admin/").headers["Location"].startswith("/auth/login")

    login(client, user)
    with client.session_transaction() as sess:
        sess["auth_at"] -= 13 * 3600
    assert client.get("/admin/").headers["Location"].startswith("/auth/login")


def test_pending_second_factor_expires(client, make_user):
    user = make_user(Role.admin)
    login_password_only(client, user)
    with client.session_transaction() as sess:
        sess["pending_at"] -= 11 * 60
    response = client.post("/auth/mfa", data={"code": totp_code(client.application, user)})
    assert response.headers["Location"].startswith("/auth/login")


def test_login_and_mfa_are_rate_limited(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(Role.admin)
    client = app.test_client()
    statuses = [
        client.post("/auth/login", data={"email": user.email, "password": "wrong" * 3}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    page = client.post("/auth/login", data={"email": user.email, "password": user.password})
    assert page.status_code == 429
    assert "Too many attempts" in page.get_data(as_text=True)
    assert "Retry-After" in page.headers

    # Another account from the same address is not blocked by the per-account limit ...
    other = make_user(Role.procurement)
    assert login_password_only(client, other) is None
    # ... and the second factor has its own budget per account.
    codes = [client.post("/auth/mfa", data={"code": "000000"}).status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429


def test_per_address_limit_covers_many_accounts(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_ADDRESS="3 per minute")
    client = app.test_client()
    statuses = [
        client.post(
            "/auth/login", data={"email": f"guess{i}@example.com", "password": "x" * 12}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_logout_ends_the_session_on_the_server(app, make_user):
    user = make_user(Role.admin)
    client = app.test_client()
    login(client, user)
    stolen = client.get_cookie("vr_session").value
    client.post("/auth/logout")
    thief = app.test_client()
    thief.set_cookie("vr_session", stolen)
    assert thief.get("/admin/").headers["Location"].startswith("/auth/login")


def test_only_an_address_is_recorded_for_an_unknown_account(client):
    from vendor_risk.models import AuditEvent

    client.post("/auth/login", data={"email": "my secret passphrase", "password": "x" * 12})
    client.post("/auth/login", data={"email": "Ghost@Example.com", "password": "x" * 12})
    with client.application.app_context():
        actors = [e.actor for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
    assert actors == ["(not an email address)", "ghost@example.com"]


def test_successful_logins_do_not_spend_the_account_budget(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    user = make_user(Role.admin)
    for _ in range(4):
        assert login_password_only(app.test_client(), user) is None


def test_changing_password_and_renewing_codes_are_rate_limited(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(Role.procurement)
    client = app.test_client()
    login(client, user)
    wrong = {"current_password": "a wrong guess!", "new_password": "n" * 3 + "ew pass phrase"}
    wrong["confirm_password"] = wrong["new_password"]
    statuses = [client.post("/account/password", data=wrong).status_code for _ in range(3)]
    statuses += [
        client.post("/account/recovery-codes", data={"code": "000000"}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 400, 400, 400, 429]


def test_hitting_a_limit_is_audited_once_per_window(make_app, make_user):
    from vendor_risk.models import AuditEvent

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_ADDRESS="2 per minute")
    client = app.test_client()
    for _ in range(6):
        client.post("/auth/login", data={"email": "a@example.com", "password": "x" * 12})
    with app.app_context():
        limited = db.session.query(AuditEvent).filter_by(action="auth.rate_limited").all()
    assert len(limited) == 1
    assert limited[0].outcome == "denied" and limited[0].object_id == "auth.login"
    assert "2 per 1 minute" in limited[0].details["limit"]


def test_the_same_code_sent_twice_at_once_is_accepted_once(app, make_user, monkeypatch):
    """Two requests racing with one code: the user row is locked while the code is checked."""
    import threading

    from vendor_risk.services.accounts import mfa

    checked = mfa.matching_step

    def slow_check(*args, **kwargs):  # widen the window between reading and writing the row
        step = checked(*args, **kwargs)
        time.sleep(0.3)
        return step

    monkeypatch.setattr(mfa, "matching_step", slow_check)
    user = make_user(Role.admin)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login_password_only(c, user)
    code = totp_code(app, user)
    barrier = threading.Barrier(2)
    statuses = []

    def submit(c):
        barrier.wait()
        statuses.append(c.post("/auth/mfa", data={"code": code}).status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [302, 401]


def test_a_second_enrolment_after_the_first_succeeded_is_sent_to_the_code_step(app, make_user):
    user = make_user(Role.procurement, enrolled=False)
    first, second = app.test_client(), app.test_client()
    pages = []
    for c in (first, second):
        login_password_only(c, user)
        pages.append(c.get("/auth/enrol").get_data(as_text=True))
    secrets = [
        re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
        for page in pages
    ]
    assert first.post("/auth/enrol", data={"code": pyotp.TOTP(secrets[0]).now()}).status_code == 200
    late = second.post("/auth/enrol", data={"code": pyotp.TOTP(secrets[1]).now()})
    assert late.headers["Location"] == "/auth/mfa"
