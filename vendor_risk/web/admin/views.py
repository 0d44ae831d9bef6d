"""Administration: users (create, edit, disable, enable, reset MFA), the first-run checklist,
the audit trail and the outbox."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...db import db
from ...models import Role
from ...services import ValidationFailed, audit_log, first_run, mail
from ...services.accounts import users as accounts
from .. import ratelimits
from ..access import area, request_actor
from ..forms import PageForm
from ..inventory.views import _linker, vendor_names_json
from .forms import (
    AuditFilterForm,
    PasswordSetForm,
    UserActionForm,
    UserCreateForm,
    UserEditForm,
)

bp = area("admin", __name__, roles={Role.admin}, url_prefix="/admin")

# The roles whose pages the checklist's later steps link to.
WORKING_ROLES = frozenset({Role.risk_officer, Role.procurement})


@bp.get("/")
def home():
    return render_template(
        "admin/home.html",
        user_count=accounts.count_users(db.session),
        checklist=first_run.first_run(db.session),
        works=bool(current_user.roles & WORKING_ROLES),
        action_form=UserActionForm(),
    )


@bp.post("/team-roles")
def take_team_roles():
    """A small team's admin takes on the risk officer's and procurement's work too."""
    if not UserActionForm().validate_on_submit():
        abort(400)
    me = current_user._get_current_object()
    if accounts.grant_roles(db.session, me, WORKING_ROLES, actor=request_actor()):
        db.session.commit()
        flash(
            "You are now risk officer and procurement too: their pages are in the menu.",
            "success",
        )
    return redirect(url_for("admin.home"))


@bp.get("/vendor-names")
def vendor_names():
    """The names the vendor field of a new vendor contact offers as one types."""
    return vendor_names_json()


@bp.get("/users")
def users():
    return render_template(
        "admin/users.html", users=accounts.list_users(db.session), action_form=UserActionForm()
    )


def _user_form() -> UserCreateForm:
    return UserCreateForm()


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = _user_form()
    if request.method == "POST":
        form_ok = form.validate()
        # The service's checks run even when the form's own failed, so every problem shows at
        # once, each at its field.
        problems = accounts.new_user_problems(
            db.session,
            email=form.email.data or "",
            name=form.name.data or "",
            password=form.password.data or "",
            role=form.role.data or "",
            vendor_id=form.vendor_id.data,
        )
        for field, messages in problems.items():
            form[field].errors = [*form[field].errors, *messages]
        if form_ok and not problems:
            user = accounts.create_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                role=Role(form.role.data),
                vendor_id=form.vendor_id.data,
                must_change_password=True,
                actor=request_actor(),
            )
            db.session.commit()
            flash(
                f"User {user.email} created. At their first login they choose their own "
                "password and enrol MFA.",
                "success",
            )
            return redirect(url_for("admin.user", user_id=user.id))
        return render_template("admin/user_new.html", form=form), 400
    return render_template("admin/user_new.html", form=form)


def _load_user(user_id: int):
    user = accounts.get_user(db.session, user_id)
    if user is None:
        abort(404)
    return user


def _user_page(target, password_form=None, status=200):
    history = audit_log.search(db.session, actor_id=target.id, limit=20)
    return render_template(
        "admin/user.html",
        target=target,
        events=history.events,
        action_form=UserActionForm(),
        password_form=password_form or PasswordSetForm(formdata=None),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    return _user_page(_load_user(user_id))


@bp.post("/users/<int:user_id>/password")
def set_password(user_id: int):
    target = _load_user(user_id)
    form = PasswordSetForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(db.session, target, form.password.data, actor=request_actor())
        except ValidationFailed as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, *exc.errors["password"]]
        else:
            db.session.commit()
            flash(
                f"New password set for {target.email}; their sessions have ended. They replace "
                "it with their own at their next login.",
                "success",
            )
            return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(target, form, 400)


def _edit_form(target, formdata=None) -> UserEditForm:
    form = UserEditForm(formdata=formdata)
    if formdata is None:
        form.name.data = target.name
        form.email.data = target.pending_email or target.email
        form.roles.data = [r.value for r in target.roles]
        form.role.data = target.role.value
    return form


def _edit_page(target, form, status=200):
    return render_template(
        "admin/user_edit.html", target=target, form=form, action_form=UserActionForm()
    ), status


@bp.get("/users/<int:user_id>/edit")
def edit_user(user_id: int):
    target = _load_user(user_id)
    return _edit_page(target, _edit_form(target))


@bp.post("/users/<int:user_id>/edit")
@ratelimits.emails
def update_user(user_id: int):
    target = _load_user(user_id)
    form = _edit_form(target, request.form)
    contact = target.role is Role.vendor_contact
    if contact:  # the roles are not offered: a contact keeps theirs
        form.roles.data = [Role.vendor_contact.value]
        form.role.data = Role.vendor_contact.value
        form.roles.choices = form.role.choices = [(Role.vendor_contact.value, "")]
    form_ok = form.validate_on_submit()
    if not form_ok:
        # The service's checks too, so that every problem shows at once, each at its field.
        problems = accounts.update_problems(
            db.session,
            target,
            name=form.name.data or "",
            email=form.email.data or "",
            role=form.role.data or "",
            roles=form.roles.data or [],
        )
        for field, messages in problems.items():
            form[field].errors = [*form[field].errors, *messages]
        return _edit_page(target, form, 400)
    try:
        result = accounts.update_user(
            db.session,
            target,
            name=form.name.data,
            email=form.email.data,
            role=Role(form.role.data),
            roles=[Role(r) for r in form.roles.data],
            actor=request_actor(),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            form[field].errors = [*form[field].errors, *messages]
        return _edit_page(target, form, 400)
    db.session.commit()
    if not result.changed:
        flash("Nothing changed.", "info")
    elif result.confirmation is not None:
        if mail.delivered(result.confirmation) or not mail.smtp_configured():
            flash(
                f"Saved. A confirmation link was sent to {target.pending_email}: until its "
                f"owner follows it, {target.email} stays the address to log in with.",
                "success",
            )
        else:
            flash(
                f"Saved, but the confirmation email to {target.pending_email} could not be "
                "sent (see the outbox); send it again from this page.",
                "warning",
            )
    else:
        flash(f"Changes to {target.email} saved.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/email/resend")
@ratelimits.emails
def resend_email_confirmation(user_id: int):
    return _user_action(
        user_id,
        lambda u: accounts.resend_email_confirmation(db.session, u, actor=request_actor()),
        "The confirmation link was sent again.",
    )


def _user_action(user_id: int, change, message: str):
    form = UserActionForm()
    if not form.validate_on_submit():
        abort(400)
    target = _load_user(user_id)
    try:
        change(target)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(m for msgs in exc.errors.values() for m in msgs), "error")
    else:
        db.session.commit()
        flash(message.format(email=target.email), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    return _user_action(
        user_id,
        lambda u: accounts.set_active(db.session, u, False, actor=request_actor()),
        "{email} is disabled; their sessions have ended.",
    )


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    return _user_action(
        user_id,
        lambda u: accounts.set_active(db.session, u, True, actor=request_actor()),
        "{email} is enabled again.",
    )


@bp.post("/users/<int:user_id>/reset-mfa")
def reset_mfa(user_id: int):
    return _user_action(
        user_id,
        lambda u: accounts.reset_mfa(db.session, u, actor=request_actor()),
        "MFA of {email} was reset; they enrol a new authenticator at next login.",
    )


AUDIT_FILTERS = ("action", "actor", "outcome", "since", "until")


@bp.get("/audit")
def audit():
    form = AuditFilterForm(request.args)
    page = None
    if form.validate():
        page = audit_log.search(
            db.session,
            action=form.action.data or None,
            actor=(form.actor.data or "").strip() or None,
            outcome=form.outcome.data or None,
            since=form.since.data,
            until=form.until.data,
            before=form.before.data,
            limit=current_app.config["AUDIT_PAGE_SIZE"],
        )
    status = 200 if page is not None else 400
    # Only the filters carry over to the "older events" link (never arbitrary url_for arguments).
    args = {name: request.args[name] for name in AUDIT_FILTERS if request.args.get(name)}
    return render_template("admin/audit.html", form=form, page=page, args=args), status


# ---- the outbox: emails as sent, or (development, no SMTP server) kept here to be read ------


@bp.get("/outbox")
def outbox():
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = mail.search_outbox(db.session, page=form.page.data or 1)
    return render_template(
        "admin/outbox.html",
        page=page,
        url=_linker("admin.outbox", {}),
        state=mail.delivery_state,
        smtp=mail.smtp_configured(),
    )


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = mail.get_message(db.session, message_id)
    if message is None:
        abort(404)
    return render_template(
        "admin/outbox_message.html", message=message, state=mail.delivery_state(message)
    )
