"""Configuration: every setting declared once, in :class:`Settings`, with its type, default,
range and meaning.

Values come from ``VR_``-prefixed environment variables, then from the overrides given to
``create_app`` (tests); both are checked against the declaration, and a value the app cannot
honour stops start-up with one line per variable naming it and what it accepts
(:class:`ConfigError`). The README's configuration table is :func:`settings_table` (a test
keeps them equal).

Secrets have no default: ``SECRET_KEY`` comes from the environment; in development one is
generated once into the instance folder, in production the app refuses to start without it.

One cohesive thing, kept whole at its length: the declaration of every setting is most of the
file, and a reader looks for a setting in one place.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

import limits
import limits.storage
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "VR"
MIN_SECRET_KEY_LENGTH = 32
LOOPBACK = ("localhost", "127.0.0.1", "::1")
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
# Where links in emails point in development when VR_BASE_URL is not set: the address of
# `flask run` and of quickstart's defaults (quickstart puts the address it serves on instead).
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
MAX_MONTHS = 120  # a cadence longer than ten years is a typing mistake
TIERS = ("critical", "high", "medium", "low")
DEFAULT_REASSESSMENT_MONTHS = {"critical": 6, "high": 12, "medium": 24, "low": 36}
# argon2id: RFC 9106 (and argon2-cffi) need at least 8 KiB of memory per lane; in production
# we also require OWASP's smallest recommended configuration (Password Storage Cheat Sheet):
# 19 MiB with 2 passes, or one pass from 46 MiB.
ARGON2_KIB_PER_LANE = 8
ARGON2_PRODUCTION_MIN_KIB = 19 * 1024
ARGON2_ONE_PASS_MIN_KIB = 46 * 1024
# Values never repeated in a message: they are, or may contain, a password.
SECRET_SETTINGS = frozenset(
    {
        "SECRET_KEY",
        "SMTP_PASSWORD",
        "DATABASE_URL",
        "MIGRATION_DATABASE_URL",
        "QUEUE_URL",
        "SSO_CLIENT_SECRET",
    }
)
DATABASES = ("sqlite", "postgresql")


class ConfigError(RuntimeError):
    """Settings the app cannot honour: one line per problem, each naming its variable."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def variable(name: str) -> str:
    return f"{ENV_PREFIX}_{name}"


# ---- the kinds of value ----------------------------------------------------------------------


def _rate_limits(value: str) -> str:
    """Flask-Limiter's syntax, checked by the parser it uses (limits), at least 1 a period."""
    try:
        parsed = limits.parse_many(value)
    except ValueError:
        parsed = []
    if not parsed or any(item.amount < 1 for item in parsed):
        raise ValueError(
            "expected rate limits such as '20 per minute;100 per hour' (at least 1 per period)"
        )
    return value


def _storage_uri(value: str) -> str:
    scheme = value.partition("://")[0]
    if "://" not in value or scheme not in limits.storage.SCHEMES or scheme.startswith("async+"):
        raise ValueError(
            "expected memory:// or a storage the limits library knows, such as "
            "redis://127.0.0.1:6379/0"
        )
    return value


def _database_url(value: str) -> str:
    if not value:
        return value
    try:
        backend = sa.make_url(value).get_backend_name()
    except sa.exc.ArgumentError:
        backend = None
    if backend not in DATABASES:
        raise ValueError(
            "expected a SQLite or PostgreSQL URL, such as "
            "postgresql+psycopg://user:password@host:5432/vendor_risk (or empty for the SQLite "
            "file in the instance folder)"
        )
    return value


def _host_name(host: str) -> bool:
    """A DNS name or an IP address (no scheme, path, user or port)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        return len(host) <= 253 and all(
            label
            and len(label) <= 63
            and label.replace("-", "").isalnum()
            and label.isascii()
            and not label.startswith("-")
            and not label.endswith("-")
            for label in labels
        )
    return True


def _base_url(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    message = (
        "expected the app's address as people reach it: an absolute http:// or https:// URL "
        "without user, query or fragment, such as https://risk.example.org"
    )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(message) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _host_name(parts.hostname)
        or parts.username is not None
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
        or any(c.isspace() for c in value)
    ):
        raise ValueError(message)
    return value.rstrip("/")


def _trusted_hosts(value: Any) -> Any:
    """In the environment, host names separated by commas; a leading dot allows subdomains."""
    if isinstance(value, str):
        value = [host.strip() for host in value.split(",") if host.strip()]
    if isinstance(value, (list, tuple)):
        for host in value:
            if not isinstance(host, str) or not _host_name(host.lower().removeprefix(".")):
                raise ValueError(
                    "expected host names separated by commas, such as "
                    "'risk.example.org,.example.org' (a leading dot allows every subdomain)"
                )
        return tuple(host.lower() for host in value)
    return value


def _months(value: Any) -> Any:
    """A JSON object of months per tier, merged over the defaults: ``{"critical": 3}``
    changes one tier and keeps the others."""
    example = json.dumps(DEFAULT_REASSESSMENT_MONTHS)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"expected a JSON object such as {example}") from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object such as {example}")
    unknown = sorted(set(value) - set(TIERS))
    if unknown:
        raise ValueError(f"unknown keys {unknown}: the keys are {', '.join(TIERS)}")
    for key, months in value.items():
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
            raise ValueError(f"{key}: expected a whole number of months from 1 to {MAX_MONTHS}")
    return {**DEFAULT_REASSESSMENT_MONTHS, **value}


def _auto_or_bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("", "auto"):
        return None
    return value


def _mail_from(value: str) -> str:
    message = "expected a sender such as 'vendor-risk <no-reply@risk.example.org>'"
    if "\r" in value or "\n" in value:
        raise ValueError(message)
    from email.utils import parseaddr

    address = parseaddr(value)[1]
    try:
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        if not address.endswith("@localhost"):  # the default sender: a local name
            raise ValueError(message) from None
    return value


def _issuer(value: str) -> str:
    if not value.strip() or ":" in value or not value.isprintable():
        raise ValueError("expected a name of 1 to 64 characters without ':'")
    return value


def _smtp_host(value: str) -> str:
    if value and not _host_name(value.strip("[]")):
        raise ValueError("expected a host name or an IP address, such as mail.example.org")
    return value


def _sso_issuer(value: str) -> str:
    """The identity provider's issuer: https (plain http only on loopback, for a provider on
    this machine); its discovery document is at ``<issuer>/.well-known/openid-configuration``.
    Kept exactly as typed (a trailing slash included): ID tokens must carry it verbatim."""
    value = value.strip()
    if not value:
        return value
    message = (
        "expected the identity provider's issuer URL, such as "
        "https://login.example.org/realms/staff (https; http only on a loopback address)"
    )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(message) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _host_name(parts.hostname)
        or parts.username is not None
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
        or any(c.isspace() for c in value)
        or len(value) > 512
        or (parts.scheme == "http" and not _loopback(value))
    ):
        raise ValueError(message)
    return value


SSO_ROLES = ("admin", "risk_officer", "procurement")


def _sso_role_map(value: Any) -> Any:
    """A JSON object: a value of the roles claim -> the staff role it grants. Its order is
    the order of preference of the primary role."""
    example = '{"vr-admins": "admin", "vr-risk": "risk_officer"}'
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            raise ValueError(f"expected a JSON object such as {example}") from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object such as {example}")
    if len(value) > 100:
        raise ValueError("at most 100 claim values")
    for key, role in value.items():
        if not key or len(key) > 256:
            raise ValueError("claim values are 1 to 256 characters")
        if role not in SSO_ROLES:
            raise ValueError(
                f"{key!r}: {role!r} is not a staff role; the roles are {', '.join(SSO_ROLES)} "
                "(vendor contacts never sign in through the identity provider)"
            )
    return dict(value)


def _words(value: Any) -> Any:
    """In the environment, values separated by commas."""
    if isinstance(value, str):
        value = [word.strip() for word in value.split(",") if word.strip()]
    if isinstance(value, (list, tuple)):
        if len(value) > 20 or any(not isinstance(w, str) or not 0 < len(w) <= 200 for w in value):
            raise ValueError(
                "expected at most 20 values of 1 to 200 characters, separated by commas"
            )
        return tuple(value)
    return value


def _claim_path(value: str) -> str:
    if not value or len(value) > 200 or any(not part for part in value.split(".")):
        raise ValueError(
            "expected a claim name such as groups, or a dotted path such as realm_access.roles"
        )
    return value


def _email_domain(value: str) -> str:
    value = value.strip().lower()
    if value and (not _host_name(value) or "." not in value):
        raise ValueError("expected a domain name such as example.org, or empty")
    return value


RateLimits = Annotated[str, AfterValidator(_rate_limits)]
RATE_LIMITS = "rate limits such as `20 per minute;100 per hour`, at least 1 per period"


def queue_sqlite_file(url: str) -> str:
    """The file of a ``sqlite:///`` queue URL (SQLAlchemy's form: four slashes before an
    absolute path)."""
    try:
        return sa.make_url(url).database or ""
    except sa.exc.ArgumentError:
        return ""


def _queue_url(value: str) -> str:
    """Empty (SQLite next to the database), a SQLite file, or a Redis URL."""
    if not value:
        return value
    scheme = urlsplit(value).scheme
    if scheme == "sqlite" and os.path.isabs(queue_sqlite_file(value)):
        return value
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(
            "expected `sqlite:////absolute/path/queue.sqlite`, a `redis://`, `rediss://` or "
            "`unix://` URL, or empty"
        )
    return value


Days = Annotated[int, Field(ge=1, le=3650)]


def setting(
    default: Any,
    meaning: str,
    *,
    shown: str | None = None,
    accepts: str | None = None,
    **constraints,
) -> Any:
    """A setting: its default, what it means (the README's table), how the table shows the
    default when it is not the value itself, and what it accepts when its type does not say
    (numbers, booleans and choices say it themselves: :func:`accepts`)."""
    extra = {key: value for key, value in (("shown", shown), ("accepts", accepts)) if value}
    return Field(default, description=meaning, json_schema_extra=extra or None, **constraints)


def rate_limits(default: str, meaning: str) -> Any:
    return setting(default, meaning, accepts=RATE_LIMITS)


class Settings(BaseSettings):
    """Every setting a deployment can change. The order is the README table's."""

    model_config = SettingsConfigDict(
        env_prefix=f"{ENV_PREFIX}_",
        case_sensitive=True,
        extra="forbid",
        validate_default=True,
        env_ignore_empty=False,
    )

    ENV: Literal["development", "production"] = setting(
        "development",
        "`production` refuses to start without `VR_BASE_URL`, with a `VR_SECRET_KEY` missing "
        "or shorter than 32 characters, or with `FLASK_DEBUG` set, and makes cookies `Secure`. "
        "Never serve production with `flask run`",
    )
    SECRET_KEY: str = setting(
        "",
        "signs sessions and CSRF tokens; at least 32 random characters in production. In "
        "development, when unset, one is generated once into `instance/secret_key` (mode 0600)",
        shown="none",
        accepts="text; in production at least 32 characters",
    )
    DATABASE_URL: Annotated[str, AfterValidator(_database_url)] = setting(
        "",
        "where the data lives, e.g. `postgresql+psycopg://user:pass@host:5432/vendor_risk`",
        shown="SQLite file `instance/vendor-risk.sqlite`",
        accepts="a `sqlite://` or `postgresql://` URL (SQLAlchemy's form), or empty",
    )
    SQLITE_BUSY_TIMEOUT_MS: int = setting(
        5000, "how long a SQLite writer waits for another one", ge=1, le=600_000
    )
    SESSION_IDLE_MINUTES: int = setting(60, "a session unused this long ends", ge=1, le=1440)
    SESSION_ABSOLUTE_HOURS: int = setting(
        12, "a session ends this long after login, used or not", ge=1, le=720
    )
    MFA_PENDING_MINUTES: int = setting(
        10, "time allowed between the password and the second factor", ge=1, le=60
    )
    SESSION_COOKIE_SECURE: Annotated[bool | None, BeforeValidator(_auto_or_bool)] = setting(
        None,
        "`auto`: `Secure` in production only; the cookie is then named `__Host-vr_session`",
        shown="`auto`",
        accepts="`auto`, true or false",
    )
    RATELIMIT_STORAGE_URI: Annotated[str, AfterValidator(_storage_uri)] = setting(
        "memory://",
        "where rate-limit counters live; use Redis (`redis://127.0.0.1:6379/0`) when several "
        "processes serve the app",
        accepts="`memory://` or a storage URI of the limits library (`redis://`, ...)",
    )
    RATELIMIT_LOGIN_PER_ADDRESS: RateLimits = rate_limits(
        "20 per minute;100 per hour", "password attempts per client address"
    )
    RATELIMIT_LOGIN_PER_ACCOUNT: RateLimits = rate_limits(
        "5 per minute;30 per hour", "password attempts per account (email typed)"
    )
    RATELIMIT_MFA_PER_ADDRESS: RateLimits = rate_limits(
        "20 per minute;100 per hour", "TOTP, recovery-code and enrolment attempts per address"
    )
    RATELIMIT_MFA_PER_ACCOUNT: RateLimits = rate_limits(
        "5 per minute;30 per hour", "the same, per account"
    )
    RATELIMIT_ENABLED: bool = setting(True, "turn rate limiting off (tests only)")
    PROXY_COUNT: int = setting(
        0,
        "reverse proxies in front of the app whose `X-Forwarded-For` and `X-Forwarded-Proto` "
        "are trusted; set it behind a proxy, or every client shares the proxy's address for "
        "rate limits and the audit trail",
        ge=0,
        le=10,
    )
    TRUST_FORWARDED_HOST: bool = setting(
        False,
        "also take the host from the proxies' `X-Forwarded-Host`; needs `VR_PROXY_COUNT` and "
        "`VR_TRUSTED_HOSTS`. Links in emails never use it (they come from `VR_BASE_URL`)",
    )
    TRUSTED_HOSTS: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_trusted_hosts)] = setting(
        (),
        "the host names the app answers to, separated by commas (`.example.org` allows "
        "its subdomains); any other `Host` (or trusted `X-Forwarded-Host`) gets 400. Empty: "
        "any host",
        shown="empty",
        accepts="host names separated by commas",
    )
    MAX_CONTENT_LENGTH: int = setting(
        16 * 1024 * 1024,
        "largest request body accepted, in bytes (413 above)",
        ge=1024,
        le=1024**3,
    )
    ARGON2_TIME_COST: int = setting(
        3,
        "argon2id passes; in production at least 2 unless the memory is 47104 KiB or more "
        "(OWASP). A stored hash made with other parameters is upgraded at the user's next login",
        ge=1,
        le=20,
    )
    ARGON2_MEMORY_COST: int = setting(
        65536,
        "argon2id memory in KiB: at least 8 per lane (RFC 9106), and in production at least "
        "19456 (19 MiB, OWASP's minimum)",
        ge=ARGON2_KIB_PER_LANE,
        le=4 * 1024 * 1024,
    )
    ARGON2_PARALLELISM: int = setting(4, "argon2id lanes", ge=1, le=64)
    TOTP_ISSUER: Annotated[str, AfterValidator(_issuer)] = setting(
        "vendor-risk",
        "the name authenticator apps show",
        accepts="a name of 1 to 64 characters without `:`",
        min_length=1,
        max_length=64,
    )
    AUDIT_PAGE_SIZE: int = setting(50, "events per page of the audit trail", ge=10, le=500)
    EVIDENCE_MAX_BYTES: int = setting(
        20 * 1024 * 1024,
        "largest evidence file accepted, in bytes (20 MiB); the upload routes accept bodies "
        "this large even above `VR_MAX_CONTENT_LENGTH`",
        ge=1024,
        le=1024**3,
    )
    EVIDENCE_DIR: str = setting(
        "",
        "where evidence files are kept (outside the web root, under random names); back it "
        "up with the database",
        shown="`instance/evidence`",
        accepts="a folder path, or empty",
    )
    BULK_EXPORT_DIR: str = setting(
        "",
        "where the zips of bulk PDF exports are kept until they expire (24 hours; outside "
        "the web root, under random names)",
        shown="`instance/exports`",
        accepts="a folder path, or empty",
    )
    BULK_EXPORT_MAX_VENDORS: int = setting(
        500,
        "most vendors one bulk export of assessment PDFs may hold (one zip, built by a job)",
        ge=1,
        le=10_000,
    )
    SMTP_HOST: Annotated[str, AfterValidator(_smtp_host)] = setting(
        "",
        "the mail server. Unset: nothing is sent; in development the outbox worker writes "
        "each email whole to the log (standard error, logger `vendor_risk.mail`, level INFO) "
        "and keeps it whole in the outbox (`/admin/outbox`, and its sender's Emails page), in "
        "production it marks it failed there",
        shown="none",
        accepts="a host name or IP address, or empty",
    )
    SMTP_PORT: int = setting(
        587, "its port (`465` with `ssl`, often `25` with `none`)", ge=1, le=65535
    )
    SMTP_SECURITY: Literal["starttls", "ssl", "none"] = setting(
        "starttls",
        "`starttls` (refuses a server that does not offer it), `ssl` (implicit TLS) or `none` "
        "(a relay on the same machine only: production refuses it for another host); "
        "certificates are verified",
    )
    SMTP_USERNAME: str = setting(
        "",
        "the mail server's login, when it wants one",
        shown="none",
        accepts="text of at most 320 characters",
        max_length=320,
    )
    SMTP_PASSWORD: str = setting(
        "",
        "its password (set it in the environment only)",
        shown="none",
        accepts="text of at most 1024 characters",
        max_length=1024,
    )
    SMTP_TIMEOUT: int = setting(10, "seconds to wait for the mail server", ge=1, le=300)
    MAIL_FROM: Annotated[str, AfterValidator(_mail_from)] = setting(
        "vendor-risk <no-reply@localhost>",
        "the sender of every email",
        accepts="an address, with a display name or without",
        max_length=320,
    )
    BASE_URL: Annotated[str, AfterValidator(_base_url)] = setting(
        "",
        "the app's address as people reach it (`https://risk.example.org`, a path allowed): "
        "every link in an email is built on it, never on the request's `Host`. Required in "
        "production, where it must be `https://` unless the host is loopback. In development "
        "`quickstart` uses the address it serves on, anything else "
        f"`{DEVELOPMENT_BASE_URL}`",
        shown="none",
        accepts="an `http://` or `https://` URL without query or fragment, or empty",
    )
    INVITE_DAYS: int = setting(14, "days an invitation link works", ge=1, le=90)
    REMINDER_DAYS: int = setting(
        3,
        "`send-reminders` reminds requests due within this many days (and overdue ones)",
        ge=0,
        le=365,
    )
    OUTBOX_MAX_ATTEMPTS: int = setting(
        6,
        "attempts at sending an email before it is failed for good (admins see it and may "
        "retry it); the waits between them grow: 1 minute, 5, 30, 2 hours, then 12",
        ge=1,
        le=20,
    )
    OUTBOX_POLL_SECONDS: int = setting(
        5,
        "how often `outbox send --loop` looks for emails to send (the background worker "
        "sends each one as soon as it is queued)",
        ge=1,
        le=3600,
    )
    RATELIMIT_INVITE_PER_ADDRESS: RateLimits = rate_limits(
        "20 per minute;100 per hour", "invitation links redeemed per client address"
    )
    RATELIMIT_INVITE_PER_LINK: RateLimits = rate_limits(
        "5 per minute;30 per hour", "attempts on one invitation link"
    )
    RATELIMIT_EMAILS_PER_USER: RateLimits = rate_limits(
        "30 per hour;200 per day",
        "requests that email invitations (new requests, more contacts, resends, a colleague "
        "invited from the portal), per user",
    )
    FINDING_DUE_DAYS_CRITICAL: Days = setting(
        30, "days to remediate a critical finding: the due date of one opened without one"
    )
    FINDING_DUE_DAYS_HIGH: Days = setting(60, "the same for a high finding (at least critical's)")
    FINDING_DUE_DAYS_MEDIUM: Days = setting(90, "the same for a medium finding (at least high's)")
    FINDING_DUE_DAYS_LOW: Days = setting(180, "the same for a low finding (at least medium's)")
    FINDING_ACCEPTANCE_MAX_DAYS: Days = setting(
        365, "the longest a finding's risk may be accepted for"
    )
    REASSESSMENT_MONTHS: Annotated[dict[str, int], NoDecode, BeforeValidator(_months)] = setting(
        dict(DEFAULT_REASSESSMENT_MONTHS),
        "months from a review decision to the vendor's next review, per tier of its rating "
        "(the override when there is one); the tiers the object leaves out keep their default, "
        'e.g. `{"critical": 3}`',
        shown=f"`{json.dumps(DEFAULT_REASSESSMENT_MONTHS)}`",
        accepts=f"a JSON object of whole months (1 to {MAX_MONTHS}) per tier: `critical`, "
        "`high`, `medium`, `low`",
    )
    # Background jobs (vendor_risk/jobs, docs/jobs.md).
    QUEUE_URL: Annotated[str, AfterValidator(_queue_url)] = setting(
        "",
        "where background jobs wait for a worker (`flask --app app worker`): a SQLite file "
        "(one machine; `sqlite:////path/queue.sqlite` to choose it), or Redis "
        "(`redis://host:6379/1`) for several machines",
        shown="SQLite file `instance/queue.sqlite`",
        accepts="`sqlite:////absolute/path`, a `redis://`, `rediss://` or `unix://` URL, or empty",
    )
    QUEUE_NAME: str = setting(
        "vendor-risk",
        "the queue's name, which prefixes its keys (its letters and digits only): two "
        "instances sharing one Redis database need two names",
        accepts="letters, digits, `.`, `_` or `-`, 1 to 64 of them",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
    )
    JOB_RETRIES: int = setting(
        3,
        "times a failed job is tried again before admins see it failed (`/admin/jobs`)",
        ge=0,
        le=20,
    )
    JOB_RETRY_DELAY_SECONDS: int = setting(
        60,
        "the wait before a failed job's first retry, doubled at each next one",
        ge=0,
        le=86400,
    )
    JOB_REMINDERS_HOUR: int = setting(
        7,
        "the hour (UTC) at which the worker sends the day's questionnaire reminders",
        ge=0,
        le=23,
    )
    JOB_DIGEST_HOUR: int = setting(
        7,
        "the hour (UTC) at which the worker sends the daily notification digests",
        ge=0,
        le=23,
    )

    LOG_FORMAT: Literal["text", "json"] = setting(
        "text",
        "`text`: a readable line per event, for development; `json`: one JSON object per line "
        "(time, level, logger, message, request id, and the access line's fields), for a log "
        "collector. Either way invitation links and other tokens are masked (docs/operations.md)",
    )
    MIGRATION_DATABASE_URL: Annotated[str, AfterValidator(_database_url)] = setting(
        "",
        "the database as its owner sees it: `db upgrade`, `db grant-app-role`, `backup` and "
        "`restore` connect with it, so the app's own role (`VR_DATABASE_URL`) can own nothing "
        "(docs/operations.md)",
        shown="`VR_DATABASE_URL`",
        accepts="a `sqlite://` or `postgresql://` URL (SQLAlchemy's form), or empty",
    )

    SSO_ISSUER: Annotated[str, AfterValidator(_sso_issuer)] = setting(
        "",
        "single sign-on for staff (OpenID Connect, docs/sso.md): the identity provider's issuer, "
        "exactly as its ID tokens carry it; its discovery document is read from "
        "`<issuer>/.well-known/openid-configuration`. Empty: no single sign-on",
        shown="none",
        accepts="an `https://` URL (`http://` on loopback only), or empty",
    )
    SSO_CLIENT_ID: str = setting(
        "",
        "this app's client id at the identity provider",
        shown="none",
        accepts="text of at most 255 characters",
        max_length=255,
    )
    SSO_CLIENT_SECRET: str = setting(
        "",
        "its client secret (set it in the environment only)",
        shown="none",
        accepts="text of at most 1024 characters",
        max_length=1024,
    )
    SSO_LABEL: str = setting(
        "single sign-on",
        "the login page's button reads `Sign in with <label>`",
        accepts="text of 1 to 60 characters",
        min_length=1,
        max_length=60,
    )
    SSO_ROLES_CLAIM: Annotated[str, AfterValidator(_claim_path)] = setting(
        "groups",
        "the ID token's claim listing the person's groups or roles (a dotted path reaches "
        "into an object: Keycloak's `realm_access.roles`)",
        accepts="a claim name or a dotted path",
    )
    SSO_ROLE_MAP: Annotated[dict[str, str], NoDecode, BeforeValidator(_sso_role_map)] = setting(
        {},
        "which values of that claim grant which staff role; the first role of the map the "
        "person holds is their home page's, the others are additional. Nobody with none of "
        'them gets in, e.g. `{"vr-admins": "admin", "vr-risk": "risk_officer"}`',
        shown="`{}`",
        accepts="a JSON object: claim value -> `admin`, `risk_officer` or `procurement`",
    )
    SSO_MFA_AMR: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_words)] = setting(
        ("mfa",),
        "values of the ID token's `amr` claim that mean the provider checked a second factor: "
        "then this app does not ask for its own TOTP code",
        shown="`mfa`",
        accepts="values separated by commas, or empty",
    )
    SSO_MFA_ACR: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_words)] = setting(
        (),
        "values of the `acr` claim that mean the same (e.g. Keycloak's level of authentication)",
        shown="empty",
        accepts="values separated by commas, or empty",
    )
    SSO_DISABLE_STAFF_PASSWORDS: bool = setting(
        False,
        "staff sign in through the identity provider only: the password form refuses them "
        "(vendor contacts keep their password, invitation and TOTP)",
    )
    SSO_ADMIN_BREAK_GLASS: bool = setting(
        False,
        "with staff passwords disabled, admins may still sign in with a password and TOTP "
        "(the emergency way in when the identity provider is down)",
    )
    SSO_EMAIL_DOMAIN: Annotated[str, AfterValidator(_email_domain)] = setting(
        "",
        "only addresses at this domain sign in through the identity provider",
        shown="any",
        accepts="a domain name, or empty",
    )
    SSO_TRUST_EMAIL: bool = setting(
        False,
        "treat the provider's addresses as verified when it does not say (`email_verified` "
        "absent, as with Entra ID): an existing staff account with the address is then linked",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """The rules that join several settings; every one broken is reported."""
        problems = [*self._production_problems(), *self._argon2_problems()]
        problems += self._sso_problems()
        if self.TRUST_FORWARDED_HOST and not (self.PROXY_COUNT and self.TRUSTED_HOSTS):
            problems.append(
                "VR_TRUST_FORWARDED_HOST: true needs VR_PROXY_COUNT (the proxies the host "
                "comes through) and VR_TRUSTED_HOSTS (the hosts it may name)"
            )
        due = [
            ("CRITICAL", self.FINDING_DUE_DAYS_CRITICAL),
            ("HIGH", self.FINDING_DUE_DAYS_HIGH),
            ("MEDIUM", self.FINDING_DUE_DAYS_MEDIUM),
            ("LOW", self.FINDING_DUE_DAYS_LOW),
        ]
        for (graver, before), (lesser, days) in itertools.pairwise(due):
            if days < before:
                problems.append(
                    f"VR_FINDING_DUE_DAYS_{lesser}: a {lesser.lower()} finding cannot be due "
                    f"sooner than a {graver.lower()} one ({before} days); got {days}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _production_problems(self) -> list[str]:
        if self.ENV != "production":
            return []
        problems = []
        if not self.SECRET_KEY:
            problems.append(
                "VR_SECRET_KEY is not set: production mode refuses to start without it. "
                'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        elif len(self.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"VR_SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} random "
                "characters in production."
            )
        if not self.BASE_URL:
            problems.append(
                "VR_BASE_URL is not set: production mode refuses to start without it, since "
                "the links in emails are built on it (never on the request's Host). Set the "
                "app's address as people reach it, e.g. VR_BASE_URL=https://risk.example.org"
            )
        elif urlsplit(self.BASE_URL).scheme != "https" and not _loopback(self.BASE_URL):
            problems.append(
                "VR_BASE_URL: production links must use https:// (plain http:// only for a "
                f"loopback address); got {self.BASE_URL!r}"
            )
        if self.SMTP_SECURITY == "none" and self.SMTP_HOST not in ("", *LOOPBACK):
            problems.append(
                "VR_SMTP_SECURITY=none sends invitation links in clear text: in production it "
                "is allowed only for a relay on this machine (VR_SMTP_HOST=localhost). Use "
                "starttls or ssl."
            )
        return problems

    def _sso_problems(self) -> list[str]:
        """Single sign-on needs its issuer, client and role map together, or none of them."""
        needed = {
            "SSO_ISSUER": self.SSO_ISSUER,
            "SSO_CLIENT_ID": self.SSO_CLIENT_ID,
            "SSO_CLIENT_SECRET": self.SSO_CLIENT_SECRET,
            "SSO_ROLE_MAP": self.SSO_ROLE_MAP,
        }
        missing = [variable(name) for name, value in needed.items() if not value]
        problems = []
        if len(missing) < len(needed) and missing:
            problems.append(f"single sign-on needs {', '.join(missing)} too (docs/sso.md)")
        if self.SSO_DISABLE_STAFF_PASSWORDS and not self.SSO_ISSUER:
            problems.append(
                "VR_SSO_DISABLE_STAFF_PASSWORDS: true needs single sign-on (VR_SSO_ISSUER...), "
                "or staff could not sign in at all"
            )
        if self.SSO_ADMIN_BREAK_GLASS and not self.SSO_DISABLE_STAFF_PASSWORDS:
            problems.append(
                "VR_SSO_ADMIN_BREAK_GLASS: true means something only with "
                "VR_SSO_DISABLE_STAFF_PASSWORDS=true (otherwise every admin has a password)"
            )
        return problems

    def _argon2_problems(self) -> list[str]:
        problems = []
        memory, lanes = self.ARGON2_MEMORY_COST, self.ARGON2_PARALLELISM
        if memory < ARGON2_KIB_PER_LANE * lanes:
            problems.append(
                f"VR_ARGON2_MEMORY_COST: argon2 needs at least {ARGON2_KIB_PER_LANE} KiB per "
                f"lane, {ARGON2_KIB_PER_LANE * lanes} with VR_ARGON2_PARALLELISM={lanes}; "
                f"got {memory}"
            )
        if self.ENV == "production":
            if memory < ARGON2_PRODUCTION_MIN_KIB:
                problems.append(
                    "VR_ARGON2_MEMORY_COST: production needs at least "
                    f"{ARGON2_PRODUCTION_MIN_KIB} KiB (19 MiB, OWASP's minimum for argon2id); "
                    f"got {memory}"
                )
            elif self.ARGON2_TIME_COST < 2 and memory < ARGON2_ONE_PASS_MIN_KIB:
                problems.append(
                    "VR_ARGON2_TIME_COST: production needs at least 2 passes below "
                    f"{ARGON2_ONE_PASS_MIN_KIB} KiB of memory (OWASP's minimum for argon2id); "
                    f"got {self.ARGON2_TIME_COST}"
                )
        return problems

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, **_):
        # The overrides, then the environment; no .env file, no secrets folder.
        return (init_settings, env_settings)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- messages --------------------------------------------------------------------------------


def _bound(info: FieldInfo, name: str) -> Any:
    for item in info.metadata:
        if hasattr(item, name):
            return getattr(item, name)
    return None


def accepts(name: str) -> str:
    """What a setting accepts, in words (the messages and the README's table)."""
    info = Settings.model_fields[name]
    extra = info.json_schema_extra or {}
    if "accepts" in extra:
        return str(extra["accepts"])
    if info.annotation is int:
        return f"a whole number from {_bound(info, 'ge')} to {_bound(info, 'le')}"
    if info.annotation is bool:
        return "true or false (also 1/0, yes/no, on/off)"
    if get_origin(info.annotation) is Literal:
        return "one of " + ", ".join(f"`{choice}`" for choice in get_args(info.annotation))
    raise LookupError(f"{name}: say what it accepts")  # a setting declared without it


def _shown_input(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _message_line(error: dict) -> list[str]:
    loc = error.get("loc") or ()
    reason = str(error["ctx"]["error"]) if error["type"] == "value_error" else None
    if not loc:  # a rule joining several settings: its message names them
        return (reason or error["msg"]).splitlines()
    name = str(loc[0])
    if name not in Settings.model_fields:
        return [f"{variable(name)}: not a setting of vendor-risk"]
    if reason is None:
        reason = f"expected {accepts(name)}"
    got = "" if name in SECRET_SETTINGS else f"; got {_shown_input(error.get('input'))}"
    return [f"{variable(name)}: {reason}{got}"]


def read_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The settings from the environment and ``overrides`` (keys of :class:`Settings`), or
    ConfigError naming every variable the app cannot honour."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        lines = [line for error in exc.errors() for line in _message_line(error)]
        raise ConfigError(lines) from None


# ---- the app's configuration -------------------------------------------------------------------


def load(app: Flask, overrides: dict | None = None) -> None:
    """Fill ``app.config`` from the settings (environment, then ``overrides``); the overrides
    that are not settings (Flask's own, such as TESTING) are set as given."""
    overrides = dict(overrides or {})
    known = {key: overrides.pop(key) for key in list(overrides) if key in Settings.model_fields}
    settings = read_settings(known)
    app.config.update(settings.model_dump())
    app.config.update(overrides)
    production = settings.ENV == "production"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = development_secret_key(Path(app.instance_path))
    if production and (
        app.config.get("DEBUG")
        or os.environ.get("FLASK_DEBUG", "").lower() in {"1", "true", "yes", "on"}
    ):
        raise ConfigError(
            [
                "Debug mode is refused in production: it shows tracebacks and runs code typed "
                "into its error pages. Unset FLASK_DEBUG."
            ]
        )

    secure = settings.SESSION_COOKIE_SECURE
    if secure is None:
        secure = production
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["SESSION_COOKIE_NAME"] = "__Host-vr_session" if secure else "vr_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Flask checks the Host header (and the forwarded host, when trusted) against this list:
    # another host gets 400. None: any host.
    app.config["TRUSTED_HOSTS"] = list(settings.TRUSTED_HOSTS) or None
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
    app.config["BULK_EXPORT_DIR"] = app.config["BULK_EXPORT_DIR"] or str(
        Path(app.instance_path) / "exports"
    )


def base_url(config: dict) -> str:
    """Where the links in emails point: ``BASE_URL`` (always set in production), else in
    development the address of ``flask run``; never the request's Host."""
    return config.get("BASE_URL") or DEVELOPMENT_BASE_URL


def served_base_url(host: str, port: int) -> str:
    """The address the development server listens on, as a link: a wildcard address (every
    interface) is reached through loopback."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


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


# ---- the README's table ----------------------------------------------------------------------


def _default_text(name: str) -> str:
    info = Settings.model_fields[name]
    extra = info.json_schema_extra or {}
    if "shown" in extra:
        return str(extra["shown"])
    default = info.default
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def settings_table() -> str:
    """The README's configuration table: every setting, its default, what it accepts and
    what it means."""
    lines = ["| Variable | Default | Accepts | Meaning |", "| --- | --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        lines.append(
            f"| `{variable(name)}` | {_default_text(name)} | {accepts(name)} | {info.description} |"
        )
    return "\n".join(lines)
