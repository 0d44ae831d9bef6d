"""The vendors: the list, the import, a vendor's profile (created, edited, deleted) and its
credentials, blast-radius and activity tabs; the other tabs join from holding_views and
rating_views."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ...core.blast_radius.words import template_words
from ...db import db, snapshot
from ...models import Role, Vendor, VendorStatus
from ...reports import blast_radius_csv
from ...reports.diagram import blast_radius_diagram
from ...services import blast_radius, inventory, vendor_activity
from ...services.inventory import bulk as inventory_io
from ...services.portfolio import aggregates as portfolio
from ..access import admits, request_actor
from ..forms import PageForm
from .blueprint import bp
from .common import _back, _delete, _filter_args, _found, _linker, _submit
from .forms import BreachStartForm, VendorCsvForm, VendorFilterForm, VendorForm

VENDOR_FILTERS = (
    "q",
    "status",
    "criticality",
    "tier",
    "residual",
    "rating",
    "sort",
    "direction",
)


@bp.get("/vendor-names")
def vendor_names():
    """The names the vendor fields offer as one types (vendor_risk/vendor_field.py)."""
    return vendor_names_json()


def vendor_names_json():
    """Up to SUGGESTED vendor names matching ``?q=`` (at most 200 characters read), as JSON."""
    return jsonify(inventory.vendor_names(db.session, request.args.get("q", "")[:200]))


@bp.get("/vendors")
def vendors():
    form = VendorFilterForm(request.args)
    page = None
    if form.validate():
        freshness = portfolio.freshness(db.session)
        page = inventory.search_vendors(
            db.session,
            **form.filters(),
            sort=form.sort.data or "name",
            descending=form.direction.data == "desc",
            page=form.page.data or 1,
        )
    return render_template(
        "inventory/vendors.html",
        form=form,
        page=page,
        freshness=freshness if page is not None else None,
        sort=form.sort.data or "name",
        descending=form.direction.data == "desc",
        url=_linker("inventory.vendors", _filter_args(VENDOR_FILTERS)),
        # What the "Export assessments (zip)" button carries (reports.new_export).
        export_filters=_filter_args(VendorFilterForm.FILTERS),
        may_export=_may_open("reports"),
    ), (200 if page is not None else 400)


def _vendor(vendor_id: int) -> Vendor:
    return _found(inventory.get_vendor(db.session, vendor_id))


def _may_open(area: str) -> bool:
    """Whether the user's role may open the pages of ``area`` (its blueprint's guard): a link
    to them is shown only then, never a link that answers 403."""
    return admits(area, current_user.roles)


def _vendor_tab(template: str, vendor: Vendor, status: int = 200, **context):
    counts = inventory.vendor_counts(db.session, vendor.id)
    # An offboarded vendor is sent no questionnaire (services.requests refuses it).
    may_send = _may_open("requests") and vendor.status is not VendorStatus.offboarded
    return render_template(
        template, vendor=vendor, counts=counts, may_send=may_send, **context
    ), status


@bp.route("/vendors/import", methods=["GET", "POST"])
def import_vendors():
    form = VendorCsvForm()
    report = problems = None
    if form.validate_on_submit() and (text := form.text()) is not None:
        try:
            report = inventory_io.import_vendor_csv(
                db.session, text, actor=request_actor(), dry_run=form.dry_run.data
            )
        except inventory_io.VendorCsvInvalid as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            db.session.commit()
    refused = request.method == "POST" and (form.errors or problems)
    return render_template(
        "inventory/vendor_import.html",
        form=form,
        report=report,
        problems=problems,
        columns=inventory_io.VENDOR_CSV_COLUMNS,
    ), (400 if refused else 200)


@bp.route("/vendors/new", methods=["GET", "POST"])
def new_vendor():
    form = VendorForm()
    if request.method == "POST":
        vendor = _submit(
            form,
            lambda values: inventory.vendor_problems(db.session, values),
            lambda values: inventory.create_vendor(db.session, values, actor=request_actor()),
        )
        if vendor is not None:
            flash(f"Vendor {vendor.name} created.", "success")
            return redirect(_back() or url_for("inventory.vendor", vendor_id=vendor.id))
        return render_template(
            "inventory/vendor_form.html", form=form, vendor=None, back=_back()
        ), 400
    return render_template("inventory/vendor_form.html", form=form, vendor=None, back=_back())


@bp.route("/vendors/<int:vendor_id>/edit", methods=["GET", "POST"])
def edit_vendor(vendor_id: int):
    vendor = _vendor(vendor_id)
    suggestions = inventory.email_domain_suggestions(db.session, vendor)
    if request.method == "GET":
        return render_template(
            "inventory/vendor_form.html",
            form=VendorForm(obj=vendor),
            vendor=vendor,
            suggestions=suggestions,
        )
    form = VendorForm()
    changed = _submit(
        form,
        lambda values: inventory.vendor_problems(db.session, values, vendor_id=vendor.id),
        lambda values: inventory.update_vendor(
            db.session,
            vendor,
            values,
            actor=request_actor(),
            expected_version=form.expected_version or 0,
        ),
    )
    if changed is not None:
        flash(f"Vendor {vendor.name} saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inventory.vendor", vendor_id=vendor.id))
    return render_template(
        "inventory/vendor_form.html", form=form, vendor=vendor, suggestions=suggestions
    ), 400


@bp.route("/vendors/<int:vendor_id>/delete", methods=["GET", "POST"])
def delete_vendor(vendor_id: int):
    vendor = _vendor(vendor_id)
    return _delete(
        vendor,
        "vendor",
        plan=inventory.vendor_deletion,
        delete=inventory.delete_vendor,
        template="inventory/vendor_delete.html",
        done="inventory.vendors",
        message=f"Vendor {vendor.name} deleted.",
    )


@bp.get("/vendors/<int:vendor_id>")
def vendor(vendor_id: int):
    vendor = _vendor(vendor_id)
    return _vendor_tab(
        "inventory/vendor.html",
        vendor,
        operated=inventory.systems_operated_by(db.session, vendor.id),
        software=inventory.software_of_vendor(db.session, vendor.id),
    )


@bp.get("/vendors/<int:vendor_id>/credentials")
def vendor_credentials(vendor_id: int):
    vendor = _vendor(vendor_id)
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = inventory.search_credentials(
        db.session, holder_vendor_id=vendor.id, sort="rotation", page=form.page.data or 1
    )
    url = _linker("inventory.vendor_credentials", {}, vendor_id=vendor.id)
    return _vendor_tab("inventory/vendor_credentials.html", vendor, page=page, url=url)


@bp.get("/vendors/<int:vendor_id>/blast-radius")
def vendor_blast_radius(vendor_id: int):
    vendor = _vendor(vendor_id)
    form = BreachStartForm(request.args)
    if not form.validate():
        return _vendor_tab("inventory/vendor_blast_radius.html", vendor, 400, blast=None, form=form)
    with snapshot(db.session):
        blast = blast_radius.vendor_blast_radius(db.session, [vendor.id], since=form.since_utc())
    return _vendor_tab(
        "inventory/vendor_blast_radius.html",
        vendor,
        blast=blast,
        blast_diagram=blast_radius_diagram(blast),
        blast_csv_url=url_for(
            "inventory.vendor_blast_radius_csv", vendor_id=vendor.id, **_filter_args(("since",))
        ),
        form=form,
        **template_words(),
    )


@bp.get("/vendors/<int:vendor_id>/blast-radius.csv")
def vendor_blast_radius_csv(vendor_id: int):
    """The tab's whole result (the tab shows the first rows of each list) as CSV, audited."""
    vendor = _vendor(vendor_id)
    form = BreachStartForm(request.args)
    if not form.validate():
        abort(400)
    exported = blast_radius_csv.export_vendor(
        db.session, vendor.id, since=form.since_utc(), actor=request_actor()
    )
    db.session.commit()  # the export's audit event
    response = Response(exported.text, mimetype=blast_radius_csv.MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/vendors/<int:vendor_id>/activity", endpoint="vendor_activity")
def vendor_activity_tab(vendor_id: int):
    """The vendor's requests, findings, incidents and decisions: each list shown only to the
    roles that may open its pages."""
    vendor = _vendor(vendor_id)
    lists = {
        vendor_activity.ActivityList.requests: _may_open("requests"),
        vendor_activity.ActivityList.findings: _may_open("findings"),
        vendor_activity.ActivityList.incidents: _may_open("incidents"),
        # Decisions are on the Risk tab (this blueprint), acceptances on findings' pages.
        vendor_activity.ActivityList.decisions: _may_open("findings"),
    }
    with snapshot(db.session):
        activity = vendor_activity.vendor_activity(
            db.session, vendor.id, lists=[name for name, shown in lists.items() if shown]
        )
    return _vendor_tab(
        "inventory/vendor_activity.html",
        vendor,
        activity=activity,
        shown=vendor_activity.ACTIVITY_SHOWN,
        may_record_incident=_may_open("incidents"),
        # Raising a finding is a risk officer's (web/findings: WRITERS).
        may_raise_finding=_may_open("findings") and Role.risk_officer in current_user.roles,
        may_decide=Role.risk_officer in current_user.roles,
    )
