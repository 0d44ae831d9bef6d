"""The incident pages: the list, opening an incident, and one incident with its checklist.

Thin views: parse the form, call ``services.incidents``, render; the view commits once. Refused
forms answer 400 with the errors at their fields; an action the incident's state refuses (it is
closed, the line was marked already) answers 409 on the incident page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...core.blast_radius.words import template_words
from ...db import db, snapshot
from ...models import Role
from ...reports.diagram import blast_radius_diagram
from ...services import ValidationFailed, incidents
from ..access import area, request_actor
from ..inventory.views import _filter_args, _found, _linker, _show_errors, _submit
from .forms import ChecklistActionForm, CloseForm, IncidentFilterForm, IncidentForm

bp = area(
    "incidents", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/incidents"
)


@bp.get("/")
def index():
    form = IncidentFilterForm(request.args)
    page = None
    if form.validate():
        page = incidents.search_incidents(
            db.session,
            status=form.status.data,
            vendor_id=form.vendor_id.data,
            page=form.page.data or 1,
        )
    return render_template(
        "incidents/index.html",
        form=form,
        page=page,
        url=_linker("incidents.index", _filter_args(("status", "vendor_id"), form)),
    ), (200 if page is not None else 400)


def _incident_form(**kwargs) -> IncidentForm:
    form = IncidentForm(**kwargs)
    return form


@bp.route("/new", methods=["GET", "POST"])
def new_incident():
    if request.method == "GET":
        vendor_id = request.args.get("vendor_id", type=int)
        form = _incident_form(formdata=None, vendor_id=vendor_id)
        return render_template("incidents/new.html", form=form)
    form = _incident_form()
    incident = _submit(
        form,
        lambda values: incidents.incident_problems(db.session, values),
        lambda values: incidents.open_incident(db.session, values, actor=request_actor()),
    )
    if incident is None:
        return render_template("incidents/new.html", form=form), 400
    flash("Incident opened: its rotation checklist is below.", "success")
    return redirect(url_for("incidents.incident", incident_id=incident.id))


def _incident_page(incident_id: int, status: int = 200, close_form: CloseForm | None = None):
    with snapshot(db.session):
        detail = _found(incidents.incident_detail(db.session, incident_id))
        blast = incidents.blast_radius_at_start(db.session, detail.incident)
    return render_template(
        "incidents/incident.html",
        detail=detail,
        incident=detail.incident,
        blast=blast,
        blast_diagram=blast_radius_diagram(blast),
        close_form=close_form or CloseForm(formdata=None),
        may_close_by_exception=bool(current_user.roles & incidents.EXCEPTION_ROLES),
        **template_words(),
    ), status


@bp.get("/<int:incident_id>")
def incident(incident_id: int):
    return _incident_page(incident_id)


def _refused(incident_id: int, errors: dict[str, list[str]]):
    db.session.rollback()
    for messages in errors.values():
        flash(" ".join(messages), "error")
    return _incident_page(incident_id, 409)


@bp.post("/<int:incident_id>/checklist/<int:credential_id>")
def mark_credential(incident_id: int, credential_id: int):
    incident = _found(incidents.get_incident(db.session, incident_id, for_update=True))
    item = _found(incidents.get_checklist_item(db.session, incident_id, credential_id))
    form = ChecklistActionForm()
    if not form.validate():
        abort(400)
    try:
        credential = incidents.mark(
            db.session, incident, item, form.action.data, actor=request_actor()
        )
    except ValidationFailed as exc:
        return _refused(incident_id, exc.errors)
    message = f"{credential.name} marked {form.action.data}."
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("incidents.incident", incident_id=incident_id, _anchor="checklist"))


@bp.post("/<int:incident_id>/close")
def close_incident(incident_id: int):
    incident = _found(incidents.get_incident(db.session, incident_id, for_update=True))
    form = CloseForm()
    if form.validate():
        try:
            gap = incidents.close_incident(
                db.session,
                incident,
                exception_reason=form.exception_reason.data,
                roles=current_user.roles,
                actor=request_actor(),
            )
        except ValidationFailed as exc:
            if "" in exc.errors:  # the incident's state, not the form
                return _refused(incident_id, exc.errors)
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Incident closed" + (" by exception." if gap else "."), "success")
            return redirect(url_for("incidents.incident", incident_id=incident_id))
    return _incident_page(incident_id, 400, close_form=form)
