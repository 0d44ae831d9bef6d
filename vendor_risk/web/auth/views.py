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

from ...db import db
from ...services import ValidationFailed
from ...services.accounts import mfa, sso
from ...services.accounts import users as accounts
from .. import ratelimits
from ..access import (
    complete_login,
    home_url,
    request_actor,
    safe_next,
    start_pending,
)
from ..account.forms import PasswordChangeForm
from ..account.views import password_changed
from .forms import ConfirmEmailForm, LoginForm, RecoveryForm, SsoForm, TotpForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _form_status(form, refused: bool) -> int:
    """401 for a refused code, 400 for a form that was not filled in, else 200."""
    if refused:
        return 401
    return 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@ratelimits.login_per_address
@ratelimits.login_per_account
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    policy = sso.SsoPolicy.from_config(current_app.config)
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(
            db.session, form.email.data, form.password.data, actor=request_actor()
        )
        if user is not None and not sso.password_sign_in_allowed(user, policy):
            # Checked after the password, so the message tells nobody who is staff.
            sso.refuse_password(db.session, user, actor=request_actor())
            db.session.commit()
            error = (
                f"Staff sign in with {current_app.config['SSO_LABEL']}, not with a password: "
                "use the button below."
            )
            return _login_page(form, next_url, policy, error), 403
        db.session.commit()
        if user is not None:
            start_pending(user, next_url)
            return redirect(url_for("auth.mfa" if user.mfa_enrolled else "auth.enrol"))
        error = "The email address or password is incorrect."
    status = 401 if error else (400 if request.method == "POST" else 200)
    return _login_page(form, next_url, policy, error), status


def _login_page(form, next_url, policy, error):
    return render_template(
        "auth/login.html",
        form=form,
        next=next_url,
        error=error,
        sso_form=SsoForm() if policy.enabled else None,
        sso_label=current_app.config["SSO_LABEL"],
        staff_passwords_disabled=policy.staff_passwords_disabled,
    )


@bp.route("/mfa", methods=["GET", "POST"], endpoint="mfa")
@ratelimits.second_factor
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
@ratelimits.second_factor
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
        try:
            enrolment = accounts.confirm_enrolment(
                db.session, user, secret, form.code.data, actor=request_actor()
            )
        except accounts.AlreadyEnrolled:
            db.session.rollback()
            flash("Your authenticator is already set up: enter a code from it.", "info")
            return redirect(url_for("auth.mfa"))
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
@ratelimits.second_factor
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
        accounts.logout(db.session, current_user._get_current_object(), actor=request_actor())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


# ---- the password someone else chose: changed before anything else -------------------------


@bp.route("/password", methods=["GET", "POST"])
@ratelimits.account_secrets
def change_password():
    """Reached only fully logged in (access.gate); every other page sends here until the
    password an admin, the command line or quickstart chose is replaced."""
    user = current_user._get_current_object()
    if not user.must_change_password:
        return redirect(home_url(user))
    form = PasswordChangeForm()
    if password_changed(form):
        flash("Your password was changed: from now on only you know it.", "success")
        return redirect(home_url(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status


# ---- a new address, confirmed by its owner -----------------------------------------------


@bp.route("/email/<token>", methods=["GET", "POST"])
@ratelimits.login_per_address
def confirm_email(token: str):
    """GET shows what the link confirms, with a button; POST confirms (mail scanners fetch
    links, and a fetch must change nothing). Public: the signed token is the proof."""
    form = ConfirmEmailForm()
    try:
        user, new_email = accounts.email_change_of(db.session, token)
    except ValidationFailed as exc:
        return render_template("auth/confirm_email.html", error=exc.errors[""][0]), 400
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template(
                "auth/confirm_email.html", form=form, email=new_email, name=user.name
            ), 400
        try:
            accounts.confirm_email_change(db.session, token, actor=request_actor())
        except ValidationFailed as exc:
            db.session.rollback()
            return render_template("auth/confirm_email.html", error=exc.errors[""][0]), 409
        db.session.commit()
        flash(f"Your address is now {new_email}: log in with it from now on.", "success")
        if current_user.is_authenticated:
            return redirect(home_url(current_user))
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm_email.html", form=form, email=new_email, name=user.name)
