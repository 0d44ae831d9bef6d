"""Logging in: password, then the second factor (TOTP or a recovery code); enrolment; logout.

Not an area blueprint: its endpoints are listed in ``access.PUBLIC_ENDPOINTS`` and
``access.PENDING_ENDPOINTS``.
"""

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from markupsafe import Markup

from .. import audit, mfa
from ..access import complete_login, home_url, request_actor, safe_next, start_pending
from ..db import db
from ..extensions import limiter
from ..models import AuditAction
from ..services import accounts
from .forms import LoginForm, RecoveryForm, TotpForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_account_key() -> str:
    return "account:" + accounts.normalise_email(request.form.get("email", ""))[:320]


def _pending_account_key() -> str:
    return f"pending:{session.get('pending_user_id', '-')}"


def _form_status(form, refused: bool) -> int:
    """401 for a refused code, 400 for a form that was not filled in, else 200."""
    if refused:
        return 401
    return 400 if form.errors else 200


def _limit(setting: str):
    return lambda: current_app.config[setting]


login_limits = [
    limiter.limit(_limit("RATELIMIT_LOGIN_PER_ADDRESS"), methods=["POST"], scope="login-address"),
    limiter.limit(
        _limit("RATELIMIT_LOGIN_PER_ACCOUNT"),
        methods=["POST"],
        key_func=_login_account_key,
        scope="login-account",
    ),
]
# The TOTP, recovery and enrolment steps share one budget per address and per account.
mfa_address_limit = limiter.shared_limit(
    _limit("RATELIMIT_MFA_PER_ADDRESS"), scope="mfa-address", methods=["POST"]
)
mfa_account_limit = limiter.shared_limit(
    _limit("RATELIMIT_MFA_PER_ACCOUNT"),
    scope="mfa-account",
    methods=["POST"],
    key_func=_pending_account_key,
)


def _mfa_limited(view):
    return mfa_address_limit(mfa_account_limit(view))


@bp.route("/login", methods=["GET", "POST"])
@login_limits[0]
@login_limits[1]
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(
            db.session, form.email.data, form.password.data, actor=request_actor()
        )
        db.session.commit()
        if user is not None:
            start_pending(user, next_url)
            return redirect(url_for("auth.mfa" if user.mfa_enrolled else "auth.enrol"))
        error = "The email address or password is incorrect."
    status = 401 if error else (400 if request.method == "POST" else 200)
    return render_template("auth/login.html", form=form, next=next_url, error=error), status


@bp.route("/mfa", methods=["GET", "POST"], endpoint="mfa")
@_mfa_limited
def mfa_view():
    user = g.pending_user
    if not user.mfa_enrolled:
        return redirect(url_for("auth.enrol"))
    form = TotpForm()
    refused = False
    if form.validate_on_submit():
        if accounts.verify_totp(db.session, user, form.code.data, actor=request_actor()):
            accounts.record_login(db.session, user, actor=request_actor(), method="totp")
            db.session.commit()
            return redirect(complete_login(user))
        db.session.commit()
        refused = True
        form.code.errors.append(
            "This code is not valid or was already used. Wait for the next code and try again."
        )
    return render_template("auth/mfa.html", form=form), _form_status(form, refused)


@bp.route("/enrol", methods=["GET", "POST"])
@_mfa_limited
def enrol():
    user = g.pending_user
    if user.mfa_enrolled:
        return redirect(url_for("auth.mfa"))
    secret = mfa.enrolment_secret(
        current_app.config["SECRET_KEY"], user.id, user.session_token, session.get("pending_at")
    )
    form = TotpForm()
    refused = False
    if form.validate_on_submit():
        enrolment = accounts.confirm_enrolment(
            db.session, user, secret, form.code.data, actor=request_actor()
        )
        if enrolment is not None:
            accounts.record_login(db.session, user, actor=request_actor(), method="enrol")
            db.session.commit()
            next_url = complete_login(user)
            # Shown once, in this response only: nothing but their hashes is kept.
            return render_template(
                "auth/recovery_codes.html",
                codes=enrolment.recovery_codes,
                next=next_url,
                first_time=True,
            )
        db.session.commit()
        refused = True
        form.code.errors.append(
            "This code does not match. Check the phone's clock and try the next code."
        )
    uri = mfa.provisioning_uri(secret, user.email, current_app.config["TOTP_ISSUER"])
    return (
        render_template(
            "auth/enrol.html",
            form=form,
            qr=Markup(mfa.qr_svg(uri)),  # noqa: S704 - SVG generated by segno from our own URI
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        ),
        _form_status(form, refused),
    )


@bp.route("/recovery", methods=["GET", "POST"])
@_mfa_limited
def recovery():
    user = g.pending_user
    if not user.mfa_enrolled:
        return redirect(url_for("auth.enrol"))
    form = RecoveryForm()
    refused = False
    if form.validate_on_submit():
        if accounts.use_recovery_code(db.session, user, form.code.data, actor=request_actor()):
            accounts.record_login(db.session, user, actor=request_actor(), method="recovery")
            db.session.commit()
            remaining = len(user.recovery_code_hashes)
            next_url = complete_login(user)
            flash(
                f"You logged in with a recovery code; {remaining} remain. "
                "Generate new ones from your account page if you lost your authenticator.",
                "warning",
            )
            return redirect(next_url)
        db.session.commit()
        refused = True
        form.code.errors.append("This recovery code is not valid or was already used.")
    return render_template("auth/recovery.html", form=form), _form_status(form, refused)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record(
            db.session,
            AuditAction.logout,
            actor=request_actor(),
            object_type="user",
            object_id=current_user.id,
        )
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
