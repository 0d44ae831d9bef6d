"""Every user's own account: password change, new recovery codes, the emails they caused."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...db import db
from ...models import Role
from ...services import ValidationFailed, outbox
from ...services.accounts import users as accounts
from .. import ratelimits
from ..access import area, renew_session, request_actor
from ..forms import PageForm
from ..inventory.views import _linker
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


def password_changed(form: PasswordChangeForm) -> bool:
    """Change the signed-in user's password as the submitted ``form`` asks: True once changed
    (this session renewed, the others ended); False with the problems at the form's fields (a
    failed attempt stays in the audit trail). Used by the account page and by the change a
    password someone else chose must get at first login."""
    if not form.validate_on_submit():
        return False
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
        return False
    db.session.commit()
    renew_session(user)
    return True


@bp.post("/password")
@ratelimits.account_secrets
def change_password():
    form = PasswordChangeForm()
    if password_changed(form):
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


# ---- the emails one's actions caused (the outbox, filtered by sender) -----------------------


@bp.get("/emails")
def emails():
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = outbox.search_outbox(db.session, page=form.page.data or 1, sender_id=current_user.id)
    return render_template(
        "account/emails.html",
        page=page,
        url=_linker("account.emails", {}),
        state=outbox.state_label,
        badge=outbox.badge,
        staff=current_user.role is not Role.vendor_contact,
    )


@bp.get("/emails/<int:message_id>")
def email(message_id: int):
    message = outbox.get_message(db.session, message_id, sender_id=current_user.id)
    if message is None:
        abort(404)
    return render_template(
        "account/email.html",
        message=message,
        state=outbox.state_label(message),
        attempts=outbox.attempts_of(db.session, message.id),
        show_body=outbox.body_shown(message, current_user.role),
    )
