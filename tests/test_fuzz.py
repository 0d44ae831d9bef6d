"""Property-based tests: hostile input never gets a 5xx and is never rendered unescaped."""

from urllib.parse import urljoin, urlsplit

from conftest import login_as, login_password_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.models import Role
from vendor_risk.web.access import safe_next

HOSTILE = "<script>alert(1)</script>"
MARKUP = [HOSTILE, '"><img src=x onerror=alert(1)>', "<svg/onload=alert(1)>"]
text = st.text(max_size=300) | st.sampled_from(
    [*MARKUP, "\x00", "' OR 1=1 --", "%00", "../../etc/passwd"]
)
fuzz = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(target=st.text(max_size=60) | st.sampled_from(["//x.example", "/\\x.example", "/\t/x"]))
def test_safe_next_never_leaves_the_app(target):
    result = safe_next(target)
    if result is not None:
        resolved = urlsplit(urljoin("https://app.example/start", result))
        assert resolved.netloc == "app.example"
        assert result.startswith("/") and not result.startswith("//")


def _assert_safe(response, *values):
    assert response.status_code < 500
    page = response.get_data(as_text=True)
    for value in values:
        # Markup of our own making never appears on a page by chance: if it is there, it was
        # reflected unescaped. (Random text such as "<a" may occur in any page.)
        if value in MARKUP:
            assert value not in page


@fuzz
@given(email=text, password=text)
def test_login_form(client, make_user, email, password):
    response = client.post("/auth/login", data={"email": email, "password": password})
    _assert_safe(response, email)


@fuzz
@given(code=text)
def test_second_factor_forms(app, make_user, code):
    user = make_user(Role.admin)
    client = app.test_client()
    login_password_only(client, user)
    for path in ("/auth/mfa", "/auth/recovery"):
        _assert_safe(client.post(path, data={"code": code}), code)


@fuzz
@given(email=text, name=text, role=text, vendor_id=text, password=text)
def test_create_user_form(app, make_user, email, name, role, vendor_id, password):
    client = app.test_client()
    login_as(client, make_user(Role.admin))
    response = client.post(
        "/admin/users/new",
        data={
            "email": email,
            "name": name,
            "role": role,
            "vendor_id": vendor_id,
            "password": password,
            "confirm_password": password,
        },
    )
    _assert_safe(response, email, name)


@fuzz
@given(action=text, actor=text, outcome=text, since=text, until=text, before=text)
def test_audit_filters(app, make_user, action, actor, outcome, since, until, before):
    client = app.test_client()
    login_as(client, make_user(Role.admin))
    response = client.get(
        "/admin/audit",
        query_string={
            "action": action,
            "actor": actor,
            "outcome": outcome,
            "since": since,
            "until": until,
            "before": before,
        },
    )
    _assert_safe(response, actor)


@fuzz
@given(current=text, new=text, confirm=text, code=text)
def test_account_forms(app, make_user, current, new, confirm, code):
    client = app.test_client()
    login_as(client, make_user(Role.procurement))
    form = {"current_password": current, "new_password": new, "confirm_password": confirm}
    _assert_safe(client.post("/account/password", data=form))
    _assert_safe(client.post("/account/recovery-codes", data={"code": code}), code)


def test_hostile_names_are_escaped_in_pages(client, make_user):
    admin = make_user(Role.admin)
    make_user(Role.procurement, email="x@example.com")
    from vendor_risk.db import db
    from vendor_risk.models import User

    with client.application.app_context():
        db.session.get(User, admin.id + 1).name = HOSTILE
        db.session.commit()
    login_as(client, admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
