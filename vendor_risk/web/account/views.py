"""Every user's own account: password change and new recovery codes."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ...db import db
from ...services import ValidationFailed
from ...services.accounts import users as accounts
from .. import ratelimits
from ..access import area, renew_session, request_actor
from .forms import PasswordChangeForm, RecoveryCodesForm

bp = area("account", __name__, roles=None, url_prefix="/account")


def _page(password_form=None, codes_form=None):
    return render_template(
        "account/index.html",
        password_form=password_form or PasswordChangeForm(),
        codes_form=codes_form or RecoveryCodesForm(),
        remaining_codes=len(current_user.recovery_code_hashes or []),
    )


@bp.get("/")
def index():
    return _page()


@bp.post("/password")
@ratelimits.account_secrets
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(
                db.session,
                user,
                current=form.current_password.data,
                new=form.new_password.data,
                actor=request_actor(),
            )
        except ValidationFailed as exc:
            db.session.commit()  # keep the audit record of the failed attempt
            for field, messages in exc.errors.items():
                form[field].errors.extend(messages)
        else:
            db.session.commit()
            renew_session(user)
            flash("Your password was changed. Your other sessions were signed out.", "success")
            return redirect(url_for("account.index"))
    return _page(password_form=form), 400


@bp.post("/recovery-codes")
@ratelimits.account_secrets
def regenerate_recovery_codes():
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        codes = accounts.regenerate_recovery_codes(
            db.session, current_user._get_current_object(), form.code.data, actor=request_actor()
        )
        db.session.commit()
        if codes is not None:
            return render_template(
                "auth/recovery_codes.html",
                codes=codes,
                next=url_for("account.index"),
                first_time=False,
            )
        form.code.errors.append("This code is not valid or was already used.")
    return _page(codes_form=form), 400
