"""Invitation links: GET shows what the link is and a button (it changes nothing: mail scanners
fetch links), POST redeems it.

Not an area blueprint: its endpoints are public (``access.PUBLIC_ENDPOINTS``); the token is
the credential. Redeeming is rate-limited per address and per link like the login, and paths
holding a token are masked in the request and error logs.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ... import logs
from ...db import db
from ...extensions import limiter
from ...services import ValidationFailed
from ...services.questionnaires import invites as invite_service
from ...services.questionnaires.invites import LIVE, InviteNotLive, InviteRefused
from ..access import request_actor, start_pending
from .forms import RedeemForm

bp = Blueprint("invites", __name__, url_prefix="/invite")


# ---- tokens stay out of the logs ------------------------------------------------------------


def mask_tokens(text: str) -> str:
    # The one rule of what is a secret in a log line (the app's handler applies it too).
    return logs.mask_secrets(text)


class MaskInviteTokens(logging.Filter):
    """The request log (werkzeug) and Flask's error log name the path: not this one's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()  # formatted: the path may be in the text or an argument
        if "/invite/" in message:
            record.msg, record.args = mask_tokens(message), None
        return True


@bp.record_once
def _mask_logs(state) -> None:
    for logger in (logging.getLogger("werkzeug"), state.app.logger):
        if not any(isinstance(f, MaskInviteTokens) for f in logger.filters):
            logger.addFilter(MaskInviteTokens())


@bp.after_request
def _no_referrer(response):
    """The page's own requests (its stylesheet, a link followed) must not carry the token in
    their Referer header into access logs."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# ---- rate limits ----------------------------------------------------------------------------


def _link_key() -> str:
    # The hash, never the token, goes into the limiter's storage (Redis keys are visible).
    token = (request.view_args or {}).get("token", "")
    return "invite:" + invite_service.hash_token(token)[:32]


_per_address = limiter.limit(
    lambda: current_app.config["RATELIMIT_INVITE_PER_ADDRESS"],
    methods=["POST"],
    scope="invite-address",
)
_per_link = limiter.limit(
    lambda: current_app.config["RATELIMIT_INVITE_PER_LINK"],
    methods=["POST"],
    key_func=_link_key,
    scope="invite-link",
)


# ---- pages ----------------------------------------------------------------------------------


def _dead(page: invite_service.InvitePage | None):
    """An unknown (404), used, revoked or expired link (410): say so and whom to ask."""
    status = 404 if page is None else 410
    return render_template("invites/dead.html", page=page), status


def _page(token: str, form: RedeemForm, status: int = 200):
    invite = invite_service.lookup(db.session, token)
    if invite is None:
        return _dead(None)
    page = invite_service.page_of(db.session, invite)
    if page.state not in LIVE:
        return _dead(page)
    return render_template("invites/show.html", page=page, form=form, token=token), status


@bp.get("/<token>", endpoint="show")
def show(token: str):
    return _page(token, RedeemForm(formdata=None))


@bp.post("/<token>", endpoint="redeem")
@_per_address
@_per_link
def redeem(token: str):
    invite = invite_service.lookup(db.session, token)
    if invite is None:
        return _dead(None)
    page = invite_service.page_of(db.session, invite)
    if page.state not in LIVE:
        return _dead(page)
    form = RedeemForm()
    form_ok = form.validate()
    if not page.existing_contact:
        problems = invite_service.redemption_problems(
            invite, name=form.name.data or "", password=form.password.data or ""
        )
        for name, messages in problems.items():
            form[name].errors = [*form[name].errors, *messages]
        form_ok = form_ok and not problems
    if not form_ok:
        return _page(token, form, 400)
    try:
        done = invite_service.redeem(
            db.session,
            invite,
            name=form.name.data or "",
            password=form.password.data or "",
            actor=request_actor(),
        )
    except InviteNotLive:
        db.session.rollback()
        return _page(token, form)  # someone used or revoked it a moment ago: say so
    except InviteRefused:
        db.session.commit()  # the refusal is audited
        return render_template("invites/refused.html", page=page), 403
    except ValidationFailed as exc:
        db.session.rollback()
        for name, messages in exc.errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, *messages]
            else:
                flash(" ".join(messages), "error")
        return _page(token, form, 400)
    db.session.commit()
    if done.created:
        # The password step is done: the session holds only the pending user until the
        # authenticator is enrolled (the same flow as a first login).
        start_pending(done.user, url_for("portal.home"))
        flash(
            "Your account is created. Set up an authenticator app now: every account needs "
            "a second factor.",
            "success",
        )
        return redirect(url_for("auth.enrol"))
    session.clear()
    flash(
        f"Invitation accepted: log in with your account to see the requests of {page.vendor_name}.",
        "success",
    )
    return redirect(url_for("auth.login"))
