"""Rate limits on every route where someone could guess a secret: passwords, TOTP codes and
recovery codes. Each route has a budget per client address and one per account; the counters
live in memory or, when configured, in Redis (shared by every worker)."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

from ..db import db
from ..extensions import limiter
from ..models import AuditAction, AuditOutcome
from ..services import audit
from ..services.accounts import users as accounts
from .access import request_actor


def _setting(name: str):
    return lambda: current_app.config[name]


def _typed_account() -> str:
    return "account:" + accounts.normalise_email(request.form.get("email", ""))[:320]


def _pending_account() -> str:
    return f"pending:{session.get('pending_user_id', '-')}"


def _current_account() -> str:
    # Limits are checked before the access gate: an anonymous request (refused by the gate
    # next) counts in a bucket of its own.
    return f"user:{current_user.id}" if current_user.is_authenticated else "user:anonymous"


def _refused(response) -> bool:
    return response.status_code == 401


login_per_address = limiter.limit(
    _setting("RATELIMIT_LOGIN_PER_ADDRESS"), methods=["POST"], scope="login-address"
)
# Only refused passwords count against an account: its owner logging in spends nothing.
login_per_account = limiter.limit(
    _setting("RATELIMIT_LOGIN_PER_ACCOUNT"),
    methods=["POST"],
    key_func=_typed_account,
    deduct_when=_refused,
    scope="login-account",
)
# The TOTP, recovery-code and enrolment steps share one budget per address and per account.
_second_factor_per_address = limiter.shared_limit(
    _setting("RATELIMIT_MFA_PER_ADDRESS"), scope="mfa-address", methods=["POST"]
)
_second_factor_per_account = limiter.shared_limit(
    _setting("RATELIMIT_MFA_PER_ACCOUNT"),
    scope="mfa-account",
    methods=["POST"],
    key_func=_pending_account,
)
# Changing the password and renewing recovery codes check a password or a TOTP code too: a
# stolen session must not be able to guess them at leisure.
_account_secrets_per_user = limiter.shared_limit(
    _setting("RATELIMIT_MFA_PER_ACCOUNT"),
    scope="account-secrets",
    methods=["POST"],
    key_func=_current_account,
)


# Every route that emails someone an invitation shares one budget per user: a stolen or
# careless account cannot turn the app into a mailer (its name is in each message).
_emails_per_user = limiter.shared_limit(
    _setting("RATELIMIT_EMAILS_PER_USER"),
    scope="emails-user",
    methods=["POST"],
    key_func=_current_account,
)


def emails(view):
    return _emails_per_user(view)


def second_factor(view):
    return _second_factor_per_address(_second_factor_per_account(view))


def account_secrets(view):
    return _account_secrets_per_user(view)


def audit_breach(request_limit) -> None:
    """Record that a limit was hit, once per key and window (a flood must not flood the
    audit trail too)."""
    window = request_limit.limit.get_expiry()
    first = limiter.storage.incr(f"vr-breach/{request_limit.key}", window) == 1
    if not first:
        return None
    audit.record(
        db.session,
        AuditAction.rate_limited,
        actor=request_actor(),
        outcome=AuditOutcome.denied,
        object_type="endpoint",
        object_id=request.endpoint,
        details={"limit": str(request_limit.limit)},
    )
    db.session.commit()
    return None


# Single sign-on: starting a sign-in and the provider's answer, per client address (the
# answer's GET carries a code that is tried against the provider).
sso_per_address = limiter.limit(
    _setting("RATELIMIT_LOGIN_PER_ADDRESS"), methods=["GET", "POST"], scope="sso-address"
)
