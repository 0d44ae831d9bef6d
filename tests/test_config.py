"""Configuration: defaults in code, VR_ environment variables, the secret key rules."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vendor_risk import config, create_app
from vendor_risk.config import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_development_generates_a_secret_key_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("VR_SECRET_KEY", raising=False)
    monkeypatch.setenv("VR_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    first = create_app(instance_path=str(tmp_path))
    second = create_app(instance_path=str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 48


def test_environment_overrides_defaults_with_types(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "from the environment")
    monkeypatch.setenv("VR_DATABASE_URL", "postgresql+psycopg://u@db.invalid/vr")
    monkeypatch.setenv("VR_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("VR_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("VR_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from the environment"
    assert app.config["SESSION_IDLE_MINUTES"] == 15
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["SQLALCHEMY_ENGINES"]["default"].startswith("postgresql+psycopg://")


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.delenv("VR_DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_ENGINES"]["default"] == f"sqlite:///{tmp_path}/vendor-risk.sqlite"


# One bad value of each kind of setting: (variable, value, what the message says).
BAD_VALUES = [
    # whole numbers with a range
    ("VR_SESSION_IDLE_MINUTES", "-5", "expected a whole number from 1 to 1440; got '-5'"),
    ("VR_SESSION_IDLE_MINUTES", "soon", "expected a whole number from 1 to 1440; got 'soon'"),
    ("VR_PROXY_COUNT", "-1", "expected a whole number from 0 to 10; got '-1'"),
    ("VR_ARGON2_MEMORY_COST", "1", "expected a whole number from 8 to 4194304; got '1'"),
    ("VR_ARGON2_MEMORY_COST", "16", "at least 8 KiB per lane, 32 with VR_ARGON2_PARALLELISM=4"),
    ("VR_SMTP_PORT", "70000", "expected a whole number from 1 to 65535"),
    # booleans
    ("VR_RATELIMIT_ENABLED", "maybe", "expected true or false (also 1/0, yes/no, on/off)"),
    ("VR_SESSION_COOKIE_SECURE", "sometimes", "expected `auto`, true or false"),
    # choices
    ("VR_ENV", "staging", "expected one of `development`, `production`; got 'staging'"),
    ("VR_SMTP_SECURITY", "tls", "expected one of `starttls`, `ssl`, `none`; got 'tls'"),
    # rate limits, read by the parser Flask-Limiter uses
    ("VR_RATELIMIT_LOGIN_PER_ADDRESS", "lots", "expected rate limits such as '20 per minute"),
    ("VR_RATELIMIT_EMAILS_PER_USER", "0 per hour", "at least 1 per period"),
    ("VR_RATELIMIT_STORAGE_URI", "redis:/oops", "expected memory:// or a storage"),
    # URLs and host names
    ("VR_BASE_URL", "ftp://risk.example.org", "expected the app's address as people reach it"),
    ("VR_BASE_URL", "risk.example.org", "an absolute http:// or https:// URL"),
    ("VR_BASE_URL", "https://risk.example.org/?next=/x", "without user, query or fragment"),
    ("VR_BASE_URL", "https://risk.example.org/#top", "without user, query or fragment"),
    ("VR_BASE_URL", "https://admin@risk.example.org", "without user, query or fragment"),
    ("VR_TRUSTED_HOSTS", "risk.example.org/x", "expected host names separated by commas"),
    ("VR_SMTP_HOST", "smtp://mail.example.org", "expected a host name or an IP address"),
    # text with a shape
    ("VR_MAIL_FROM", "nobody", "expected a sender such as"),
    ("VR_TOTP_ISSUER", "risk:prod", "expected a name of 1 to 64 characters without ':'"),
    # JSON objects
    ("VR_REASSESSMENT_MONTHS", "{oops", "expected a JSON object such as"),
    ("VR_REASSESSMENT_MONTHS", '{"critical": 0}', "critical: expected a whole number of months"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_a_bad_value_stops_startup_with_one_line_naming_the_variable(
    tmp_path, monkeypatch, name, value, message
):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        create_app(instance_path=str(tmp_path))
    assert len(refused.value.lines) == 1, refused.value.lines
    [line] = refused.value.lines
    assert line.startswith(f"{name}: "), line
    assert message in line


def test_a_database_url_is_refused_without_repeating_its_password(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_DATABASE_URL", "mysql://app:hunter2hunter2@db.example.org/vr")
    with pytest.raises(ConfigError) as refused:
        create_app(instance_path=str(tmp_path))
    assert str(refused.value).startswith("VR_DATABASE_URL: expected a SQLite or PostgreSQL URL")
    assert "hunter2" not in str(refused.value)


def test_every_bad_setting_is_reported_at_once(tmp_path, monkeypatch):
    """The four values of issue 12 that used to start without complaint."""
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_SESSION_IDLE_MINUTES", "-5")
    monkeypatch.setenv("VR_ARGON2_MEMORY_COST", "1")
    monkeypatch.setenv("VR_RATELIMIT_LOGIN_PER_ADDRESS", "lots")
    monkeypatch.setenv("VR_PROXY_COUNT", "-1")
    with pytest.raises(ConfigError) as refused:
        create_app(instance_path=str(tmp_path))
    named = sorted(line.split(":")[0] for line in refused.value.lines)
    assert named == [
        "VR_ARGON2_MEMORY_COST",
        "VR_PROXY_COUNT",
        "VR_RATELIMIT_LOGIN_PER_ADDRESS",
        "VR_SESSION_IDLE_MINUTES",
    ]


def test_overrides_given_to_create_app_are_checked_like_the_environment(make_app):
    with pytest.raises(ConfigError, match=r"^VR_AUDIT_PAGE_SIZE: expected a whole number"):
        make_app(AUDIT_PAGE_SIZE=0)
    with pytest.raises(ConfigError, match=r"^VR_FINDING_DUE_DAYS_HIGH: a high finding cannot"):
        make_app(FINDING_DUE_DAYS_HIGH=10)
    app = make_app(PROXY_COUNT=2, TESTING=True, WTF_CSRF_ENABLED=False)
    assert (app.config["PROXY_COUNT"], app.config["TESTING"]) == (2, True)


def test_values_from_the_environment_take_their_types(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_SESSION_COOKIE_SECURE", "auto")
    monkeypatch.setenv("VR_TRUSTED_HOSTS", "Risk.Example.org, .example.net")
    monkeypatch.setenv("VR_RATELIMIT_MFA_PER_ACCOUNT", "3/minute")
    monkeypatch.setenv("VR_BASE_URL", "https://risk.example.org/vr/")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is False  # auto, in development
    assert app.config["TRUSTED_HOSTS"] == ["risk.example.org", ".example.net"]
    assert app.config["RATELIMIT_MFA_PER_ACCOUNT"] == "3/minute"
    assert app.config["BASE_URL"] == "https://risk.example.org/vr"


def production(monkeypatch, tmp_path, **variables):
    """The environment of a production start that passes, changed by ``variables``."""
    settings = {
        "VR_ENV": "production",
        "VR_SECRET_KEY": "k" * 48,
        "VR_BASE_URL": "https://risk.example.org",
        "VR_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}",
    } | variables
    for name, value in settings.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"VR_SECRET_KEY": None}, "VR_SECRET_KEY is not set"),
        ({"VR_SECRET_KEY": "s3cret-but-short"}, "VR_SECRET_KEY is too short"),
        ({"VR_BASE_URL": None}, "VR_BASE_URL is not set: production mode refuses to start"),
        ({"VR_BASE_URL": "http://risk.example.org"}, "VR_BASE_URL: production links must use"),
        ({"VR_ARGON2_MEMORY_COST": "16384"}, "VR_ARGON2_MEMORY_COST: production needs at least"),
        (
            {"VR_ARGON2_MEMORY_COST": "19456", "VR_ARGON2_TIME_COST": "1"},
            "VR_ARGON2_TIME_COST: production needs at least 2 passes",
        ),
    ],
)
def test_production_refuses_what_it_cannot_honour(tmp_path, monkeypatch, variables, message):
    production(monkeypatch, tmp_path, **variables)
    with pytest.raises(ConfigError) as refused:
        create_app(instance_path=str(tmp_path))
    assert refused.value.lines[0].startswith(message)
    assert "s3cret" not in str(refused.value)  # a secret is never repeated


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"VR_BASE_URL": "http://127.0.0.1:8000"},  # plain http on loopback only
        {"VR_BASE_URL": "http://[::1]:8000/vr"},
        {"VR_ARGON2_MEMORY_COST": "47104", "VR_ARGON2_TIME_COST": "1"},
        {"VR_ARGON2_MEMORY_COST": "19456", "VR_ARGON2_TIME_COST": "2"},
    ],
)
def test_production_starts_with_what_it_can_honour(tmp_path, monkeypatch, variables):
    production(monkeypatch, tmp_path, **variables)
    assert create_app(instance_path=str(tmp_path)).config["ENV"] == "production"


def _flask(tmp_path, *args, **variables):
    """``flask --app app ARGS`` as a person types it, in the project folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VR_", "FLASK_")) or key.startswith("VR_TEST_")
    }
    env |= {"VR_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", **variables}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [["routes"], ["quickstart", "--no-serve"]])
def test_the_flask_command_prints_one_line_and_exits_1(tmp_path, command):
    result = _flask(tmp_path, *command, VR_PROXY_COUNT="-1", VR_SECRET_KEY="k")
    assert result.returncode == 1
    assert result.stderr == "VR_PROXY_COUNT: expected a whole number from 0 to 10; got '-1'\n"
    assert not (tmp_path / "cli.sqlite").exists()  # nothing was started


def test_the_readme_lists_every_setting_with_its_default_and_range():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert config.settings_table() in readme, "README.md: paste config.settings_table()"


def test_rate_limits_can_use_redis(make_app, make_user):
    import redis

    from vendor_risk.models import Role

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
    )
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    user = make_user(Role.admin)
    # Two app instances (two workers) share the budget through Redis.
    other_worker = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
    )
    form = {"email": user.email, "password": "wrong password!"}
    assert app.test_client().post("/auth/login", data=form).status_code == 401
    assert other_worker.test_client().post("/auth/login", data=form).status_code == 401
    assert app.test_client().post("/auth/login", data=form).status_code == 429
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()


def test_production_refuses_debug_mode(tmp_path, monkeypatch):
    production(monkeypatch, tmp_path, FLASK_DEBUG="1")
    with pytest.raises(ConfigError, match="Debug mode is refused in production"):
        create_app(instance_path=str(tmp_path))


def test_production_refuses_clear_text_email_to_another_machine(tmp_path, monkeypatch):
    production(monkeypatch, tmp_path, VR_SMTP_SECURITY="none", VR_SMTP_HOST="mail.example.org")
    with pytest.raises(ConfigError, match="in clear text"):
        create_app(instance_path=str(tmp_path))
    monkeypatch.setenv("VR_SMTP_HOST", "localhost")  # a relay on this machine
    assert create_app(instance_path=str(tmp_path)).config["SMTP_HOST"] == "localhost"


def test_sqlite_database_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_DATABASE_URL", f"sqlite:///{tmp_path}/private.sqlite")
    create_app(instance_path=str(tmp_path / "instance"))
    assert stat.S_IMODE((tmp_path / "private.sqlite").stat().st_mode) == 0o600
