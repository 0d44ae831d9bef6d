"""Configuration: defaults in code, VR_ environment variables, the secret key rules."""

import stat

import pytest

from vendor_risk import create_app


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_ENV", "production")
    monkeypatch.delenv("VR_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="VR_SECRET_KEY is not set"):
        create_app(instance_path=str(tmp_path))


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


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VR_SESSION_IDLE_MINUTES", "soon", "invalid literal"),
        ("VR_RATELIMIT_ENABLED", "maybe", "expected true or false"),
        ("VR_ENV", "staging", "must be 'development' or 'production'"),
    ],
)
def test_bad_settings_are_named_at_startup(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(instance_path=str(tmp_path))


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


def test_production_refuses_a_short_secret_key_and_debug_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_ENV", "production")
    monkeypatch.setenv("VR_SECRET_KEY", "too short")
    with pytest.raises(RuntimeError, match="too short"):
        create_app(instance_path=str(tmp_path))
    monkeypatch.setenv("VR_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="Debug mode is refused in production"):
        create_app(instance_path=str(tmp_path))


def test_production_refuses_clear_text_email_to_another_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_ENV", "production")
    monkeypatch.setenv("VR_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("VR_DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    monkeypatch.setenv("VR_SMTP_SECURITY", "none")
    monkeypatch.setenv("VR_SMTP_HOST", "mail.example.org")
    with pytest.raises(RuntimeError, match="in clear text"):
        create_app(instance_path=str(tmp_path))
    monkeypatch.setenv("VR_SMTP_HOST", "localhost")  # a relay on this machine
    assert create_app(instance_path=str(tmp_path)).config["SMTP_HOST"] == "localhost"


def test_sqlite_database_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("VR_SECRET_KEY", "k")
    monkeypatch.setenv("VR_DATABASE_URL", f"sqlite:///{tmp_path}/private.sqlite")
    create_app(instance_path=str(tmp_path / "instance"))
    assert stat.S_IMODE((tmp_path / "private.sqlite").stat().st_mode) == 0o600
