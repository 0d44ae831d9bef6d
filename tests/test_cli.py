"""Command line: create-user, quickstart."""

import re

import pytest
import sqlalchemy as sa

from vendor_risk.db import db
from vendor_risk.models import AuditEvent, OutboxMessage, Role, User


def test_create_user_prompts_for_the_password(app, make_vendor):
    vendor_id = make_vendor("Acme Payroll")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Pat@Example.com",
            "--name",
            "Pat",
            "--role",
            "vendor_contact",
            "--vendor",
            "Acme Payroll",
        ],
        input="correct horse battery staple\ncorrect horse battery staple\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created vendor contact pat@example.com" in result.output
    assert "correct horse" not in result.output.replace("Password", "")
    with app.app_context():
        user = db.session.query(User).one()
        assert (user.email, user.role, user.vendor_id) == (
            "pat@example.com",
            Role.vendor_contact,
            vendor_id,
        )
        event = db.session.query(AuditEvent).one()
        assert event.action == "admin.user.created" and event.actor.startswith("cli:")


def test_create_user_has_no_password_argument(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "admin",
            "--password",
            "correct horse battery staple",
        ],
    )
    assert result.exit_code != 0
    assert "No such option" in result.output


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 12"), ("password123456", "commonly used")],
)
def test_create_user_refuses_weak_passwords(app, password, message):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=password + "\n",
    )
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_create_user_unknown_vendor(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "vendor_contact",
            "--vendor",
            "Nobody Inc",
            "--password-stdin",
        ],
        input="correct horse battery staple\n",
    )
    assert result.exit_code == 2
    assert "no vendor named 'Nobody Inc'" in result.output


def _passwords(output: str) -> dict[str, str]:
    """email -> one-time password, from the table quickstart and demo print."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and "@" in words[-2]:
            found[words[-2]] = words[-1]
    return found


def test_quickstart_creates_the_first_admin_and_demo_users_once(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["quickstart", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "shown once" in first.output and "Keystone Identity" in first.output
    passwords = _passwords(first.output)
    assert set(passwords) == {
        "admin@example.com",
        "procurement@example.com",
        "risk@example.com",
        "contact@keystone-identity.example",
    }
    client = app.test_client()
    for email, password in passwords.items():
        response = client.post("/auth/login", data={"email": email, "password": password})
        assert response.headers["Location"] == "/auth/enrol", email
        client.post("/auth/logout")

    again = runner.invoke(args=["quickstart", "--no-serve"])
    assert again.exit_code == 0
    assert not _passwords(again.output) and "Users exist already" in again.output
    assert runner.invoke(args=["demo"]).exit_code == 1  # only into an empty inventory


def test_quickstart_without_demo(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite")
    result = app.test_cli_runner().invoke(args=["quickstart", "--no-serve", "--no-demo"])
    assert list(_passwords(result.output)) == ["admin@example.com"]


@pytest.mark.parametrize(
    ("options", "base"),
    [
        (["--port", "5123"], "http://127.0.0.1:5123/invite/"),
        (["--host", "0.0.0.0", "--port", "8080"], "http://127.0.0.1:8080/invite/"),  # noqa: S104
        (["--host", "::1", "--port", "8080"], "http://[::1]:8080/invite/"),
    ],
)
def test_quickstart_links_in_emails_point_where_it_serves(make_app, tmp_path, options, base):
    """Without VR_BASE_URL, the demo's invitation emails link to the address quickstart
    serves on (every interface is reached through loopback)."""
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite")
    result = app.test_cli_runner().invoke(args=["quickstart", "--no-serve", *options])
    assert result.exit_code == 0, result.output
    with app.app_context():
        bodies = "\n".join(db.session.scalars(sa.select(OutboxMessage.body)))
    links = re.findall(r"\S+/invite/", bodies)
    assert links and all(link == base for link in links), set(links)


def test_a_configured_base_url_wins_over_the_served_address(make_app, tmp_path):
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite", BASE_URL="https://risk.example.org"
    )
    result = app.test_cli_runner().invoke(args=["quickstart", "--no-serve", "--port", "5123"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        bodies = "\n".join(db.session.scalars(sa.select(OutboxMessage.body)))
    assert "https://risk.example.org/invite/" in bodies and "5123" not in bodies
