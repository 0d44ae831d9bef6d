"""Configuration: defaults in code, overridden by ``VR_``-prefixed environment variables.

Every setting a deployment can change is listed in ``DEFAULTS`` (and in the README's table).
Secrets have no default: ``SECRET_KEY`` comes from the environment; in development one is
generated once into the instance folder, in production the app refuses to start without it.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask

ENV_PREFIX = "VR"

DEFAULTS: dict[str, object] = {
    # "development" or "production". Production refuses to start without SECRET_KEY and
    # marks cookies Secure.
    "ENV": "development",
    # Empty means a SQLite file "vendor-risk.sqlite" in the instance folder.
    "DATABASE_URL": "",
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    # Sessions: minutes of inactivity, and hours since login, after which a user logs in again.
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_ABSOLUTE_HOURS": 12,
    # A password was accepted but the second factor not yet given: minutes before it expires.
    "MFA_PENDING_MINUTES": 10,
    "SESSION_COOKIE_SECURE": None,  # None: Secure in production, not in development
    # Rate limits (Flask-Limiter syntax); storage is in memory unless a Redis URI is given.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_LOGIN_PER_ADDRESS": "20 per minute;100 per hour",
    "RATELIMIT_LOGIN_PER_ACCOUNT": "5 per minute;30 per hour",
    "RATELIMIT_MFA_PER_ADDRESS": "20 per minute;100 per hour",
    "RATELIMIT_MFA_PER_ACCOUNT": "5 per minute;30 per hour",
    "RATELIMIT_ENABLED": True,
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    "PROXY_COUNT": 0,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # argon2id parameters (RFC 9106 second recommended option: 64 MiB, 3 passes).
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 4,
    "TOTP_ISSUER": "vendor-risk",
    "AUDIT_PAGE_SIZE": 50,
    # Evidence files vendors upload: the largest accepted, and where they are kept (outside
    # static, under random names); empty means the folder "evidence" in the instance folder.
    "EVIDENCE_MAX_BYTES": 20 * 1024 * 1024,
    "EVIDENCE_DIR": "",
    # Email (vendor_risk.mail). Without SMTP_HOST nothing is sent: in development each message
    # is logged and kept in the admins' outbox; in production it is recorded as not sent.
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_SECURITY": "starttls",  # starttls, ssl (implicit TLS, usually port 465) or none
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",  # no default: set it in the environment when the server wants a login
    "SMTP_TIMEOUT": 10,  # seconds
    "MAIL_FROM": "vendor-risk <no-reply@localhost>",
    # The app's address as people reach it (https://risk.example.org): links in emails. Needed
    # by commands (send-reminders); pages fall back to the address of the request.
    "BASE_URL": "",
    # Invitation links expire after this many days; reminders go out this many days before
    # the due date (and every day once it is past).
    "INVITE_DAYS": 14,
    "REMINDER_DAYS": 3,
    # Invitation links redeemed per client address and per link.
    "RATELIMIT_INVITE_PER_ADDRESS": "20 per minute;100 per hour",
    "RATELIMIT_INVITE_PER_LINK": "5 per minute;30 per hour",
    # Requests that email invitations (new requests, more contacts, resends, colleagues) per user.
    "RATELIMIT_EMAILS_PER_USER": "30 per hour;200 per day",
    # Findings: days to remediate by severity (the due date of a finding opened without one),
    # and the longest a risk may be accepted for before the acceptance expires.
    "FINDING_DUE_DAYS_CRITICAL": 30,
    "FINDING_DUE_DAYS_HIGH": 60,
    "FINDING_DUE_DAYS_MEDIUM": 90,
    "FINDING_DUE_DAYS_LOW": 180,
    "FINDING_ACCEPTANCE_MAX_DAYS": 365,
    # Months from a review decision to the vendor's next reassessment, per tier of the rating
    # the decision was taken on (services.decisions). In the environment a JSON object, such as
    # {"critical": 3}: the tiers it leaves out keep these.
    "REASSESSMENT_MONTHS": {"critical": 6, "high": 12, "medium": 24, "low": 36},
}

MIN_SECRET_KEY_LENGTH = 32
LOOPBACK = ("localhost", "127.0.0.1", "::1")
TRUE_WORDS = {"1", "true", "yes", "on"}
MAX_MONTHS = 120  # a cadence longer than ten years is a typing mistake
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


def _coerce(raw: str, default: object) -> object:
    """Parse an environment string to the type of its default."""
    if isinstance(default, bool) or default is None:
        lowered = raw.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        if default is None and lowered in {"", "auto"}:
            return None
        raise ValueError(f"expected true or false, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, dict):
        return _months(raw, default)
    return raw


def _months(raw: str, default: dict) -> dict:
    """A JSON object of months per key of ``default`` (the only dict setting is a cadence per
    tier), merged over it: ``{"critical": 3}`` changes one tier and keeps the others."""
    example = json.dumps(default)
    try:
        given = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(f"expected a JSON object such as {example}") from None
    if not isinstance(given, dict):
        raise ValueError(f"expected a JSON object such as {example}")
    unknown = sorted(set(given) - set(default))
    if unknown:
        raise ValueError(f"unknown keys {unknown}: the keys are {', '.join(default)}")
    for key, months in given.items():
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
            raise ValueError(f"{key}: expected a whole number of months from 1 to {MAX_MONTHS}")
    return {**default, **given}


def load(app: Flask, overrides: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, the environment, then explicit overrides (tests)."""
    env = os.environ
    for key, default in DEFAULTS.items():
        name = f"{ENV_PREFIX}_{key}"
        value = dict(default) if isinstance(default, dict) else default  # never shared
        if name in env:
            try:
                value = _coerce(env[name], default)
            except ValueError as exc:
                raise RuntimeError(f"{name}: {exc}") from None
        app.config[key] = value
    if f"{ENV_PREFIX}_SECRET_KEY" in env:
        app.config["SECRET_KEY"] = env[f"{ENV_PREFIX}_SECRET_KEY"]
    if overrides:
        app.config.update(overrides)

    production = app.config["ENV"] == "production"
    if app.config["ENV"] not in {"development", "production"}:
        raise RuntimeError("VR_ENV must be 'development' or 'production'")
    if app.config["SMTP_SECURITY"] not in {"starttls", "ssl", "none"}:
        raise RuntimeError("VR_SMTP_SECURITY must be 'starttls', 'ssl' or 'none'")
    if not app.config.get("SECRET_KEY"):
        if production:
            raise RuntimeError(
                "VR_SECRET_KEY is not set: production mode refuses to start without it. "
                'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        app.config["SECRET_KEY"] = development_secret_key(Path(app.instance_path))

    if production:
        if len(app.config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
            raise RuntimeError(
                f"VR_SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} random "
                "characters in production."
            )
        smtp_host = app.config["SMTP_HOST"]
        if app.config["SMTP_SECURITY"] == "none" and smtp_host not in ("", *LOOPBACK):
            raise RuntimeError(
                "VR_SMTP_SECURITY=none sends invitation links in clear text: in production it "
                "is allowed only for a relay on this machine (VR_SMTP_HOST=localhost). Use "
                "starttls or ssl."
            )
        if app.config.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").lower() in TRUE_WORDS:
            raise RuntimeError(
                "Debug mode is refused in production: it shows tracebacks and runs code typed "
                "into its error pages. Unset FLASK_DEBUG."
            )

    secure = app.config["SESSION_COOKIE_SECURE"]
    if secure is None:
        secure = production
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["SESSION_COOKIE_NAME"] = "__Host-vr_session" if secure else "vr_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Flask-Login: no "remember me" cookie; a session ends with the browser or the timeouts.
    app.config["REMEMBER_COOKIE_DURATION"] = 0
    # The CSRF token lives as long as the session (a vendor may keep a form open for hours);
    # the session itself is bounded by the idle and absolute timeouts.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["SQLALCHEMY_ENGINES"] = {"default": database_url(app.config, app.instance_path)}
    app.config["EVIDENCE_DIR"] = app.config["EVIDENCE_DIR"] or str(
        Path(app.instance_path) / "evidence"
    )


def database_url(config: dict, instance_path: str) -> str:
    url = config.get("DATABASE_URL") or ""
    if url:
        return url
    return "sqlite:///" + str(Path(instance_path) / "vendor-risk.sqlite")


def development_secret_key(instance: Path) -> str:
    """Read, or create once with mode 0600, the development secret key in the instance folder."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
