"""Questionnaire requests: sending them to vendors, their invites and reminders (procurement and
risk officers).

Thin views: parse the form, call ``services.requests`` or ``services.invites``, render; the view
commits once. Refused forms answer 400 with the errors at their fields; an action the request's
state refuses (it is cancelled, the invite was used) answers 409 on the request page. Emails are
queued in the outbox (services/mail.py) and sent by its worker: a mail server that is down never
undoes a request, and the page says the emails were queued.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from ...core.plurals import plural
from ...db import db
from ...models import RequestStatus, Role
from ...services import ValidationFailed, inventory
from ...services.questionnaires import invites, reassessments
from ...services.questionnaires import requests as request_service
from ...services.questionnaires.request_status import AWAITING_VENDOR, TransitionRefused, may_move
from .. import ratelimits
from ..access import area, request_actor, safe_next
from ..forms import ConfirmForm
from ..inventory.views import _filter_args, _found, _linker, _show_errors
from .forms import InviteMoreForm, RequestFilterForm, RequestForm
from .reassessment_forms import DueFilterForm, ReassessmentForm

bp = area("requests", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/requests")

LIST_FILTERS = ("vendor_id", "status", "overdue", "waiting", "due_within", "sort", "direction")


# ---- the list -------------------------------------------------------------------------------


@bp.get("/")
def index():
    form = RequestFilterForm(request.args)
    page = vendor = None
    if form.validate():
        page = request_service.search_requests(
            db.session,
            vendor_id=form.vendor_id.data,
            status=form.status.data,
            overdue=bool(form.overdue.data),
            waiting=form.waiting.data or None,
            due_within=form.due_within.data,
            sort=form.sort.data or "due_on",
            descending=form.direction.data == "desc",
            page=form.page.data or 1,
        )
        if form.vendor_id.data is not None:
            vendor = inventory.get_vendor(db.session, form.vendor_id.data)
    args = _filter_args(LIST_FILTERS, form)
    return render_template(
        "requests/index.html",
        form=form,
        page=page,
        vendor=vendor,
        sort=form.sort.data or "due_on",
        descending=form.direction.data == "desc",
        url=_linker("requests.index", args),
    ), (200 if page is not None else 400)


# ---- a new request --------------------------------------------------------------------------


def _request_form(**kwargs) -> RequestForm:
    form = RequestForm(**kwargs)
    staff = " (filled in by our staff)"
    form.version_id.choices = [
        SelectChoice("", "Choose…"),
        *(
            SelectChoice(
                version.id,
                f"{version.title}: version {version.number}, "
                f"{plural(version.question_count, 'question')}"
                + ("" if audience == request_service.VENDOR_AUDIENCE else staff),
            )
            for version, audience in request_service.questionnaire_choices(db.session)
        ),
    ]
    return form


def _report_delivery(rows: list[invites.InviteRow]) -> None:
    """The emails are queued, not sent yet: say so, and where to follow them."""
    if rows:
        emails = plural(len(rows), "email")
        flash(
            f"{emails} queued: the outbox sends {'it' if len(rows) == 1 else 'them'} in a moment "
            "(your Emails page, under Account, shows whether each went out).",
            "info",
        )


@bp.route("/new", methods=["GET", "POST"])
@ratelimits.emails
def new_request():
    # ``?vendor_id=`` chooses the vendor and ``next`` (a path of this app, else ignored) is
    # where to go once the request is sent: the links from a vendor's page.
    back = safe_next(request.values.get("next"))
    if request.method == "GET":
        form = _request_form(formdata=None, vendor_id=request.args.get("vendor_id", type=int))
        return render_template("requests/new.html", form=form, back=back)
    form = _request_form()
    form_ok = form.validate()
    # The service's checks run even when the form's own failed: every problem at once.
    problems = request_service.request_problems(
        db.session,
        vendor_id=form.vendor_id.data,
        version_id=form.version_id.data,
        due_on=form.due_on.data,
        contact_emails=form.contact_lines(),
    )
    for name, messages in problems.items():
        if not form[name].errors:  # "choose the vendor" once, not twice
            form[name].errors = [*form[name].errors, *messages]
    if not form_ok or problems:
        return render_template("requests/new.html", form=form, back=back), 400
    try:
        created = request_service.create_request(
            db.session,
            vendor_id=form.vendor_id.data,
            version_id=form.version_id.data,
            due_on=form.due_on.data,
            contact_emails=form.contact_lines(),
            actor=request_actor(),
        )
    except ValidationFailed as exc:  # changed in between (the vendor was offboarded)
        db.session.rollback()
        _show_errors(form, exc.errors)
        return render_template("requests/new.html", form=form, back=back), 400
    request_id = created.id
    db.session.commit()
    flash("Request created and sent to the vendor.", "success")
    _report_delivery(invites.invites_of_request(db.session, request_id))
    return redirect(back or url_for("requests.show", request_id=request_id))


# ---- reassessments due ----------------------------------------------------------------------


def _reassessments_page(send_form: ReassessmentForm | None = None, status: int = 200):
    form = DueFilterForm(request.args)
    page = None
    if form.validate():
        page = reassessments.due(
            db.session,
            today=request_service.today_utc(),
            within_days=form.within_days,
            page=form.page.data or 1,
        )
    args = {"within": request.args["within"]} if request.args.get("within") else {}
    send_form = send_form or ReassessmentForm(formdata=None, within=args.get("within", ""))
    return render_template(
        "requests/reassessments.html",
        form=form,
        send_form=send_form,
        page=page,
        within_days=form.within_days,
        url=_linker("requests.reassessments_due", args),
    ), (status if page is not None else 400)


@bp.get("/reassessments")
def reassessments_due():
    return _reassessments_page()


def _report_outcome(outcome: reassessments.Outcome) -> None:
    for sent in outcome.sent:
        flash(
            f"{outcome.vendor_name}: {sent.title} sent (request {sent.request_id}) to "
            f"{', '.join(sent.contacts)}, prefilled from the last accepted answers.",
            "success",
        )
    for reason in outcome.refused:
        flash(f"{outcome.vendor_name}: not sent. {reason}", "error")


@bp.post("/reassessments")
@ratelimits.emails
def send_reassessments():
    form = ReassessmentForm()
    if not form.validate():
        return _reassessments_page(form, 400)
    outcomes = reassessments.send(
        db.session, form.selected(), due_on=form.due_on.data, actor=request_actor()
    )
    delivery = [
        row
        for outcome in outcomes
        for sent in outcome.sent
        for row in invites.invites_of_request(db.session, sent.request_id)
    ]
    db.session.commit()
    for outcome in outcomes:
        _report_outcome(outcome)
    _report_delivery(delivery)
    within = form.within.data if str(form.within.data or "").isdigit() else None
    return redirect(url_for("requests.reassessments_due", within=within))


# ---- one request ----------------------------------------------------------------------------


def _request_page(request_id: int, status: int = 200, invite_form: InviteMoreForm | None = None):
    detail = _found(request_service.request_detail(db.session, request_id))
    current = detail.request.status
    return render_template(
        "requests/show.html",
        detail=detail,
        req=detail.request,
        invite_form=invite_form or InviteMoreForm(formdata=None),
        may_invite=not detail.internal and current in AWAITING_VENDOR,
        may_cancel=may_move(current, RequestStatus.cancelled),
        fill_url=url_for("intake.fill", request_id=request_id) if detail.internal else None,
        remind_minutes=request_service.REMIND_NOW_MINUTES,
    ), status


@bp.get("/<int:request_id>")
def show(request_id: int):
    return _request_page(request_id)


def _refused(request_id: int, errors: dict[str, list[str]]):
    db.session.rollback()
    for messages in errors.values():
        flash(" ".join(messages), "error")
    return _request_page(request_id, 409)


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/<int:request_id>/cancel", methods=["GET", "POST"])
def cancel(request_id: int):
    if request.method == "GET":
        detail = _found(request_service.request_detail(db.session, request_id))
        return render_template("requests/cancel.html", detail=detail, form=ConfirmForm())
    req = _found(request_service.get_request(db.session, request_id, for_update=True))
    _confirmed()
    try:
        revoked = request_service.cancel(db.session, req, actor=request_actor())
    except TransitionRefused as exc:
        return _refused(request_id, {"": [str(exc)]})
    db.session.commit()
    links = f"{revoked} invitation link{'s' if revoked != 1 else ''}"
    flash(f"Request cancelled; {links} revoked." if revoked else "Request cancelled.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.post("/<int:request_id>/invites")
@ratelimits.emails
def invite_more(request_id: int):
    req = _found(request_service.get_request(db.session, request_id, for_update=True))
    form = InviteMoreForm()
    if form.validate():
        try:
            sent = request_service.invite_more(
                db.session, req, form.contact_lines(), actor=request_actor()
            )
        except ValidationFailed as exc:
            if "" in exc.errors:  # the request's state, not the form
                return _refused(request_id, exc.errors)
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            rows = [row for row in invites.invites_of_request(db.session, request_id)]
            ids = {invite.id for invite in sent}
            db.session.commit()
            flash(f"{plural(len(sent), 'invitation')} created.", "success")
            _report_delivery([row for row in rows if row.id in ids])
            return redirect(url_for("requests.show", request_id=request_id, _anchor="invites"))
    return _request_page(request_id, 400, invite_form=form)


def _invite(request_id: int, invite_id: int):
    _found(request_service.get_request(db.session, request_id, for_update=True))
    return _found(invites.get_invite(db.session, invite_id, request_id=request_id))


@bp.post("/<int:request_id>/invites/<int:invite_id>/resend")
@ratelimits.emails
def resend_invite(request_id: int, invite_id: int):
    invite = _invite(request_id, invite_id)
    _confirmed()
    try:
        invites.resend(db.session, invite, actor=request_actor())
    except ValidationFailed as exc:
        return _refused(request_id, exc.errors)
    email = invite.email
    db.session.commit()
    flash(
        f"A new link to {email} is queued in the outbox; the previous one no longer works.",
        "success",
    )
    return redirect(url_for("requests.show", request_id=request_id, _anchor="invites"))


@bp.post("/<int:request_id>/remind")
@ratelimits.emails
def remind(request_id: int):
    """Remind now: the daily reminder, queued at once (at most once in a few minutes)."""
    _found(request_service.get_request(db.session, request_id))
    _confirmed()
    try:
        reminder = request_service.remind_now(db.session, request_id, actor=request_actor())
    except ValidationFailed as exc:
        return _refused(request_id, exc.errors)
    db.session.commit()
    flash(f"Reminder queued for {', '.join(reminder.queued_to)}.", "success")
    return redirect(url_for("requests.show", request_id=request_id, _anchor="invites"))


@bp.post("/<int:request_id>/invites/<int:invite_id>/revoke")
def revoke_invite(request_id: int, invite_id: int):
    invite = _invite(request_id, invite_id)
    _confirmed()
    try:
        invites.revoke(db.session, invite, actor=request_actor())
    except ValidationFailed as exc:
        return _refused(request_id, exc.errors)
    email = invite.email
    db.session.commit()
    flash(f"The invitation of {email} was revoked: its link no longer works.", "success")
    return redirect(url_for("requests.show", request_id=request_id, _anchor="invites"))
