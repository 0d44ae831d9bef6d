"""Who may reach which page: one guard per area blueprint, deny by default.

Every endpoint belongs to exactly one of:
- the public endpoints (login, static files): anyone;
- the second-factor endpoints: a session whose password step succeeded (pending);
- an area blueprint created by :func:`area`, admitting a user holding any of the roles it
  names, and only for sessions that completed both factors;
- the password change forced on a user whose password someone else chose
  (``PASSWORD_CHANGE_ENDPOINT``): until it is done, every other page sends them there.
Any other endpoint is refused, so a route added outside an area is unreachable until someone
decides who may use it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from ..db import db, expect_writes
from ..models import AuditAction, AuditOutcome, Role, User
from ..services import audit
from ..services.accounts import users as accounts
from ..services.audit import Actor

# The invitation links: the token in the path is the credential (vendor_risk/invites/).
# The address change's link likewise: its signed token is the proof.
PUBLIC_ENDPOINTS = frozenset(
    {"static", "auth.login", "auth.logout", "invites.show", "invites.redeem", "auth.confirm_email"}
    # Single sign-on: the start of the flow and the identity provider's answer (docs/sso.md).
    | {"sso.login", "sso.callback"}
)
# The probes of load balancers and orchestrators (web/health): public, and let through before
# anything reads the session or the database.
PROBE_ENDPOINTS = frozenset({"health.healthz", "health.readyz"})
PUBLIC_ENDPOINTS |= PROBE_ENDPOINTS
PASSWORD_CHANGE_ENDPOINT = "auth.change_password"  # noqa: S105 - an endpoint name
PENDING_ENDPOINTS = frozenset({"auth.mfa", "auth.enrol", "auth.recovery"})
# Area name -> roles admitted (None: every fully logged-in user).
AREAS: dict[str, frozenset[Role] | None] = {}


def area(
    name: str, import_name: str, *, roles: Iterable[Role] | None, url_prefix: str = ""
) -> Blueprint:
    """A blueprint for one area of the app whose every route admits only users holding one of
    ``roles`` (as their primary role or an additional one)."""
    admitted = None if roles is None else frozenset(roles)
    AREAS[name] = admitted
    bp = Blueprint(name, import_name, url_prefix=url_prefix or None)

    @bp.before_request
    def guard():
        if admitted is not None and not current_user.roles & admitted:
            deny()

    return bp


def admits(area_name: str, roles: Iterable[Role]) -> bool:
    """Whether the guard of area ``area_name`` admits someone holding ``roles``: a link to its
    pages is shown only then, never a link that answers 403."""
    admitted = AREAS.get(area_name, frozenset())
    return admitted is None or not admitted.isdisjoint(roles)


def deny(status: int = 403):
    """Refuse the request, and leave a trace of who tried."""
    if current_user.is_authenticated:
        actor = request_actor()
        expect_writes(db.session)
        # The route's pattern, not the path: a path may one day carry a token.
        rule = request.url_rule.rule if request.url_rule else None
        audit.record(
            db.session,
            AuditAction.access_denied,
            actor=actor,
            outcome=AuditOutcome.denied,
            object_type="endpoint",
            object_id=request.endpoint,
            details={"method": request.method, "route": rule},
        )
        db.session.commit()
    abort(status)


def request_actor() -> Actor:
    if current_user.is_authenticated:
        return Actor(label=current_user.email, user_id=current_user.id, ip=request.remote_addr)
    return Actor(label="anonymous", ip=request.remote_addr)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of this app, else None.

    Only a single leading slash followed by a path is accepted: ``//host``, ``/\\host``,
    schemes, and control characters (browsers drop tabs and newlines, turning ``/\\t/host``
    into ``//host``) are all refused.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_url(user: User) -> str:
    return url_for(ROLE_HOME[user.role])


ROLE_HOME = {
    Role.admin: "admin.home",
    Role.procurement: "procurement.home",
    Role.risk_officer: "risk.home",
    Role.vendor_contact: "portal.home",
}


# ---- the pending second factor -------------------------------------------------------------


def start_pending(user: User, next_url: str | None) -> None:
    """The password step succeeded: a fresh session that holds only who is logging in."""
    session.clear()
    session["pending_user_id"] = user.id
    session["pending_token"] = user.session_token
    session["pending_at"] = int(time.time())
    if next_url:
        session["next"] = next_url


def pending_user() -> User | None:
    """The user whose password was accepted in this session, while the window is open."""
    user_id = session.get("pending_user_id")
    started = session.get("pending_at", 0)
    if user_id is None:
        return None
    if time.time() - started > current_app.config["MFA_PENDING_MINUTES"] * 60:
        return None
    user = accounts.get_user(db.session, user_id)
    if user is None or not user.active or user.session_token != session.get("pending_token"):
        return None
    return user


def complete_login(user: User) -> str:
    """Both factors succeeded: a fresh session for the user. Returns where to go next (the
    password change first, when someone else chose the password)."""
    from flask_login import login_user

    next_url = safe_next(session.get("next"))
    session.clear()
    login_user(user)
    now = int(time.time())
    session["auth_at"] = now
    session["seen_at"] = now
    if user.must_change_password:
        return url_for(PASSWORD_CHANGE_ENDPOINT)
    return next_url or home_url(user)


def renew_session(user: User) -> None:
    """The user's session token changed (their own password change): this session continues
    under the new one, every other session of theirs has ended. The absolute timeout still
    counts from login."""
    from flask_login import login_user

    auth_at = session.get("auth_at", int(time.time()))
    session.clear()
    login_user(user)
    session["auth_at"] = auth_at
    session["seen_at"] = int(time.time())


# ---- the app-wide gate ---------------------------------------------------------------------


def gate():
    """Runs before every request: timeouts, the half-logged-in state, deny by default."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # 404 or 405: let Flask answer
    if endpoint in PROBE_ENDPOINTS:
        return None
    if current_user.is_authenticated and _session_expired():
        actor = request_actor()
        expect_writes(db.session)
        audit.record(
            db.session,
            AuditAction.session_timeout,
            actor=actor,
            object_type="user",
            object_id=actor.user_id,
        )
        db.session.commit()
        logout_user()
        session.clear()
        flash("Your session has expired: please log in again.", "info")
        return _to_login()
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint in PENDING_ENDPOINTS:
        if current_user.is_authenticated:
            return redirect(home_url(current_user))
        g.pending_user = pending_user()
        if g.pending_user is None:
            return _to_login()
        return None
    blueprint = endpoint.rpartition(".")[0]
    if blueprint not in AREAS and endpoint != PASSWORD_CHANGE_ENDPOINT:
        abort(404)  # deny by default: nobody decided who may use this endpoint
    if not current_user.is_authenticated:
        if pending_user() is not None:
            return redirect(url_for("auth.mfa"))
        return _to_login()
    if current_user.must_change_password and endpoint != PASSWORD_CHANGE_ENDPOINT:
        return redirect(url_for(PASSWORD_CHANGE_ENDPOINT))
    return None  # the area's own guard checks the role


def _to_login():
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if target and target != "/":
        return redirect(url_for("auth.login", next=target))
    return redirect(url_for("auth.login"))


def _session_expired() -> bool:
    now = time.time()
    cfg = current_app.config
    auth_at = session.get("auth_at", 0)
    seen_at = session.get("seen_at", 0)
    if now - auth_at > cfg["SESSION_ABSOLUTE_HOURS"] * 3600:
        return True
    if now - seen_at > cfg["SESSION_IDLE_MINUTES"] * 60:
        return True
    if now - seen_at > 30:  # refresh the idle clock, at most every 30 seconds
        session["seen_at"] = int(now)
    return False
