"""Administration: users (create, edit, disable, enable, reset MFA), the first-run checklist,
the audit trail, the outbox and the background jobs."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from ...db import db, expect_writes, read_only, utcnow
from ...jobs import JOBS, queue_of
from ...models import Role
from ...reports import audit_trail
from ...services import ValidationFailed, audit_log, first_run, mail, outbox
from ...services import jobs as job_records
from ...services.accounts import users as accounts
from .. import ratelimits
from ..access import area, request_actor
from ..forms import ConfirmForm
from ..inventory.views import _linker, vendor_names_json
from ..reports.views import DOWNLOAD_CSP
from .audit_links import object_links
from .forms import (
    AuditFilterForm,
    JobListForm,
    OutboxFilterForm,
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
        failed_emails=outbox.failed_count(db.session),
        failed_jobs=job_records.failed_count(db.session),
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
        links=object_links(history.events, current_user.roles),
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


def _audit_filters(form: AuditFilterForm) -> audit_log.AuditFilters:
    return audit_log.AuditFilters(
        action=form.action.data or None,
        actor=(form.actor.data or "").strip() or None,
        outcome=form.outcome.data or None,
        since=form.since.data,
        until=form.until.data,
    )


@bp.get("/audit")
def audit():
    form = AuditFilterForm(request.args)
    page = None
    links = {}
    if form.validate():
        filters = _audit_filters(form)
        page = audit_log.search(
            db.session,
            action=filters.action,
            actor=filters.actor,
            outcome=filters.outcome,
            since=filters.since,
            until=filters.until,
            before=form.before.data,
            limit=current_app.config["AUDIT_PAGE_SIZE"],
        )
        links = object_links(page.events, current_user.roles)
    status = 200 if page is not None else 400
    # Only the filters carry over to the "older events" link and the exports (never arbitrary
    # url_for arguments); an export holds every event the filters match, not one page.
    args = {name: request.args[name] for name in AUDIT_FILTERS if request.args.get(name)}
    return render_template("admin/audit.html", form=form, page=page, args=args, links=links), status


@bp.get("/audit.csv", defaults={"export_format": "csv"}, endpoint="audit_csv")
@bp.get("/audit.jsonl", defaults={"export_format": "jsonl"}, endpoint="audit_jsonl")
def audit_export(export_format: str):
    """The events the page's filters match, oldest first, streamed; the export is audited
    (who, which filters, how many rows) and committed before the first row is sent."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        args = {name: request.args[name] for name in AUDIT_FILTERS if request.args.get(name)}
        return render_template("admin/audit.html", form=form, page=None, args=args, links={}), 400
    expect_writes(db.session)
    export = audit_log.start_export(
        db.session, _audit_filters(form), export_format=export_format, actor=request_actor()
    )
    db.session.commit()
    read_only()  # the rows are read without the write lock (SQLite)
    lines = audit_trail.LINES[export_format](audit_log.export_rows(db.session, export))
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    response = Response(stream_with_context(lines), content_type=audit_trail.FORMATS[export_format])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="audit-trail-{stamp}.{export_format}"'
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


# ---- the outbox: emails as sent, or (development, no SMTP server) kept here to be read ------


@bp.get("/outbox", endpoint="outbox")
def outbox_page():
    form = OutboxFilterForm(request.args)
    if not form.validate():
        abort(400)
    status = form.status.data or None
    page = outbox.search_outbox(db.session, page=form.page.data or 1, status=status)
    return render_template(
        "admin/outbox.html",
        page=page,
        status=status,
        url=_linker("admin.outbox", {"status": status} if status else {}),
        state=outbox.state_label,
        badge=outbox.badge,
        smtp=mail.smtp_configured(),
        failed=outbox.failed_count(db.session),
    )


def _message_page(message, status: int = 200):
    return render_template(
        "admin/outbox_message.html",
        message=message,
        state=outbox.state_label(message),
        attempts=outbox.attempts_of(db.session, message.id),
        show_body=outbox.body_shown(message, Role.admin),
        may_retry=outbox.may_retry(message),
    ), status


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = outbox.get_message(db.session, message_id)
    if message is None:
        abort(404)
    return _message_page(message)


@bp.post("/outbox/<int:message_id>/retry")
def retry_message(message_id: int):
    """Retry now: a failed email (or one waiting for its next attempt) goes back to the queue,
    due at once; audited."""
    message = outbox.get_message(db.session, message_id)
    if message is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outbox.retry_now(db.session, message, actor=request_actor())
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            flash(" ".join(messages), "error")
        return _message_page(message, 409)
    db.session.commit()
    flash("The email is queued again: the outbox worker sends it in a moment.", "success")
    return redirect(url_for("admin.outbox_message", message_id=message_id))


# ---- background jobs: those that failed for good, the queue, the periodic jobs' last runs -----


def _jobs_page(status: int = 200):
    form = JobListForm(request.args)
    if not form.validate():
        abort(400)
    queue = queue_of(current_app)
    ready, queue_state = True, ""
    try:
        waiting = queue.pending_count()
    except Exception as exc:  # the page still lists the failures when Redis is down
        ready, waiting = False, None
        queue_state = f"The queue cannot be reached: {type(exc).__name__}."
    return render_template(
        "admin/jobs.html",
        page=job_records.search_failures(db.session, page=form.page.data or 1),
        url=_linker("admin.jobs", {}),
        state=job_records.state_label,
        queue_where=queue.describe(),
        queue_ready=ready,
        queue_state=queue_state,
        waiting=waiting,
        periodic=[job for job in JOBS if job.schedule is not None],
        runs=job_records.last_runs(db.session),
        failed=job_records.failed_count(db.session),
    ), status


@bp.get("/jobs")
def jobs():
    return _jobs_page()


def _job_decision(failure_id: int, decide, done: str):
    failure = job_records.get_failure(db.session, failure_id)
    if failure is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        decide(failure)
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            flash(" ".join(messages), "error")
        return _jobs_page(409)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("admin.jobs"))


@bp.post("/jobs/<int:failure_id>/retry")
def retry_job(failure_id: int):
    """Run a failed job again; audited. It is enqueued before the decision is saved: a queue
    that cannot be reached leaves the failure as it was (a job run twice does no harm)."""
    queue = queue_of(current_app)

    def decide(failure):
        if not queue.knows(failure.task):
            raise ValidationFailed({"": [f"No job is called {failure.task} any more."]})
        job_records.mark_retried(db.session, failure, actor=request_actor())
        try:
            queue.enqueue(failure.task, *failure.args)
        except Exception as exc:
            current_app.logger.exception("job %s could not be enqueued", failure.task)
            raise ValidationFailed(
                {"": [f"The queue cannot be reached ({type(exc).__name__}): try again."]}
            ) from exc

    return _job_decision(failure_id, decide, "The job is queued again: a worker runs it.")


@bp.post("/jobs/<int:failure_id>/dismiss")
def dismiss_job(failure_id: int):
    """Leave a failed job (seen, nothing to do); audited."""
    return _job_decision(
        failure_id,
        lambda failure: job_records.dismiss(db.session, failure, actor=request_actor()),
        "The job is dismissed.",
    )
