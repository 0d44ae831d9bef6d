"""The web shell: security headers everywhere, friendly errors, accessible pages."""

import pytest
from conftest import INLINE_SCRIPT, PRODUCTION, events, login_as

from vendor_risk.models import Role

BASELINE = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers(response, *, authenticated_page=True):
    for name, value in BASELINE.items():
        assert response.headers.get(name, "").startswith(value), name
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if authenticated_page:
        assert response.headers["Cache-Control"] == "no-store"


def test_headers_on_pages_redirects_and_static_files(client, make_user):
    assert_security_headers(client.get("/auth/login"))
    assert_security_headers(client.get("/admin/"))  # a redirect to login
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert_security_headers(static, authenticated_page=False)
    static.close()
    login_as(client, make_user(Role.admin))
    assert_security_headers(client.get("/admin/users"))


@pytest.mark.parametrize(("path", "status"), [("/no/such/page", 404), ("/auth/logout", 405)])
def test_friendly_error_pages_carry_the_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert "<h1>" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_wrong_role_gets_a_friendly_403(client, make_user):
    login_as(client, make_user(Role.procurement))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Access denied" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_too_large_request_gets_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/auth/login", data={"email": "a" * 5000, "password": "x"})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_server_error_page_has_no_stack_trace_and_keeps_headers(make_app, make_user, monkeypatch):
    from vendor_risk.services.portfolio import dashboards

    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    login_as(client, make_user(Role.procurement))

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(dashboards, "procurement_dashboard", broken)
    response = client.get("/procurement/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internal detail" not in page and "Traceback" not in page
    assert_security_headers(response)


def test_session_cookie_flags(client, make_user):
    user = make_user(Role.admin)
    response = client.post("/auth/login", data={"email": user.email, "password": user.password})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("vr_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain HTTP; production is tested below


def test_production_cookies_are_secure_and_host_prefixed(make_app, make_user):
    app = make_app(**PRODUCTION)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-vr_session"
    user = make_user(Role.admin)
    response = app.test_client().post(
        "/auth/login",
        data={"email": user.email, "password": user.password},
        base_url="https://localhost",
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-vr_session=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_navigation_follows_the_role(client, make_user, make_vendor):
    login_as(client, make_user(Role.admin))
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/users"' in page and 'href="/admin/audit"' in page
    login_as(client, make_user(Role.vendor_contact, vendor_id=make_vendor()))
    page = client.get("/portal/").get_data(as_text=True)
    assert 'href="/admin/users"' not in page and 'href="/portal/"' in page


def test_forms_have_labels_and_no_inline_script_or_style(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<label for="email">' in page and '<label for="password">' in page
    assert not INLINE_SCRIPT.search(page)
    assert "style=" not in page and "<style" not in page


def test_unreachable_database_gets_a_friendly_503(make_app):
    app = make_app(
        DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2",
        TESTING=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    response = app.test_client().post(
        "/auth/login", data={"email": "a@example.com", "password": "x" * 12}
    )
    assert response.status_code == 503
    assert "Nothing you sent was saved" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_an_id_beyond_any_row_is_not_found_on_every_route(app, client, make_user):
    """Ids are 32-bit INTEGER columns: PostgreSQL answers a larger number in a query with an
    error. Every ``<int:...>`` in a route refuses it before any query: 404, never a 500."""
    login_as(client, make_user(Role.risk_officer))
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if conv.regex == r"\d+"]
        if not ints or "GET" not in rule.methods:
            continue
        values = {name: "x" for name in rule.arguments} | {name: 2**31 for name in ints}
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value))
            path = path.replace(f"<{name}>", str(value)).replace(f"<path:{name}>", str(value))
        response = client.get(path)
        assert response.status_code == 404, (rule.rule, response.status_code)
        checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    "path",
    [
        "/inventory/vendors?sort=%0D",
        "/inventory/vendors?direction=%20",
        "/inventory/credentials?sort=%0D",
        "/findings/?sort=%09",
        "/requests/?sort=%0D",
    ],
)
def test_a_blank_choice_in_a_list_filter_is_refused_at_the_field(client, make_user, path):
    login_as(client, make_user(Role.risk_officer))
    response = client.get(path)
    assert response.status_code == 400
    assert "This list cannot be shown with those settings" in response.get_data(as_text=True)


# ---- hosts and forwarded headers ---------------------------------------------------------------

ATTACKER = "login-example-com.attacker.example"


@pytest.mark.parametrize("path", ["/auth/login", "/admin/", "/no/such/page", "/static/css/app.css"])
def test_a_host_outside_the_trusted_hosts_gets_400_not_500(make_app, path):
    app = make_app(TRUSTED_HOSTS=("risk.example.org", ".example.net"))
    client = app.test_client()

    refused = client.get(path, headers={"Host": ATTACKER})
    posted = client.post("/auth/login", headers={"Host": ATTACKER}, data={"email": "a@b.example"})

    for response in (refused, posted):
        assert response.status_code == 400
        assert "not served at the address you used" in response.get_data(as_text=True)
        assert_security_headers(response, authenticated_page=False)
    for host in ("risk.example.org", "risk.example.org:8443", "eu.example.net"):
        assert client.get("/auth/login", headers={"Host": host}).status_code == 200, host


def test_the_forwarded_host_is_ignored_unless_trusted_and_then_checked(make_app):
    forwarded = {"X-Forwarded-Host": ATTACKER, "X-Forwarded-For": "203.0.113.7"}
    hosts = ("localhost", "risk.example.org")
    ignored = make_app(PROXY_COUNT=1, TRUSTED_HOSTS=hosts).test_client()
    assert ignored.get("/auth/login", headers=forwarded).status_code == 200  # Host: localhost

    trusting = make_app(PROXY_COUNT=1, TRUST_FORWARDED_HOST=True, TRUSTED_HOSTS=hosts)
    client = trusting.test_client()
    assert client.get("/auth/login", headers=forwarded).status_code == 400
    fine = forwarded | {"X-Forwarded-Host": "risk.example.org"}
    assert client.get("/auth/login", headers=fine).status_code == 200


@pytest.mark.parametrize(
    ("proxies", "recorded"),
    [
        (0, "127.0.0.1"),  # no proxy: what a client writes is ignored
        (1, "203.0.113.7"),  # the address our proxy appended, not the one the client wrote
        (2, "198.51.100.66"),
    ],
)
def test_the_audited_address_comes_from_trusted_proxies_only(make_app, proxies, recorded):
    app = make_app(PROXY_COUNT=proxies)
    app.test_client().post(
        "/auth/login",
        data={"email": "nobody@example.org", "password": "not the password"},
        headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.7"},
    )
    [failed] = events(app, "auth.login.failed")
    assert failed.ip == recorded
