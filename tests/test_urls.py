"""Every page answers with and without its trailing slash (issue 15): the form the route
declares is canonical, the other one redirects there with 308 (method and body kept), for
every visitor; a path that is no page stays a 404."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import login_as, login_password_only

from vendor_risk.models import Role


def get_routes(app) -> list[str]:
    """Every GET route of the app's url_map that takes no argument (static files aside)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    )


def other_form(path: str) -> str:
    return path.rstrip("/") if path.endswith("/") else path + "/"


def location(response) -> str:
    """The redirect's target as a path with its query (werkzeug's own are absolute URLs)."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def visitors(app, make_user, make_vendor):
    """A test client per kind of visitor: anonymous, half logged in, and each role."""
    vendor = make_vendor("Keystone Identity")
    clients = {"anonymous": app.test_client()}
    half = app.test_client()
    login_password_only(half, make_user(Role.admin))
    clients["half logged in"] = half
    for role in Role:
        client = app.test_client()
        vendor_id = vendor if role == Role.vendor_contact else None
        login_as(client, make_user(role, vendor_id=vendor_id))
        clients[role.value] = client
    return clients


def test_every_page_answers_with_and_without_its_trailing_slash(app, visitors):
    routes = [path for path in get_routes(app) if path != "/"]
    assert "/inventory/vendors" in routes and "/requests/" in routes
    for who, client in visitors.items():
        for path in routes:
            canonical = client.get(path)
            assert canonical.status_code in {200, 302, 403}, (who, path, canonical.status)
            other = client.get(other_form(path))
            assert other.status_code == 308, (who, other_form(path), other.status)
            assert location(other) == path, (who, other_form(path), location(other))


def test_the_query_and_a_posts_body_survive_the_redirect(app, visitors):
    client = visitors["risk_officer"]
    response = client.get("/inventory/vendors/?q=keystone&sort=name")
    assert response.status_code == 308
    assert location(response) == "/inventory/vendors?q=keystone&sort=name"
    followed = client.get("/inventory/vendors/?q=keystone", follow_redirects=True)
    assert followed.status_code == 200 and "Keystone Identity" in followed.get_data(as_text=True)
    # A POST to the other form keeps its method (308): the login form still logs in.
    anonymous = visitors["anonymous"]
    posted = anonymous.post("/auth/login/", data={"email": "x@example.com", "password": "y"})
    assert posted.status_code == 308 and location(posted) == "/auth/login"


@pytest.mark.parametrize("path", ["/nope", "/nope/", "/requests/x/", "/inventory/vendors/new/x/"])
def test_a_path_that_is_no_page_stays_a_404(app, visitors, path):
    assert visitors["admin"].get(path).status_code == 404


def test_a_slash_never_redirects_to_another_host(app, visitors):
    for path in ("//evil.example/", "///evil.example/", "/\\evil.example/"):
        response = visitors["anonymous"].get(path)
        if response.status_code in {301, 302, 303, 307, 308}:
            target = urlsplit(response.headers["Location"])
            assert target.netloc in {"", "localhost"}, (path, response.headers["Location"])
