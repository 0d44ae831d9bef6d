"""The inventory pages: vendors (with tabs), systems, data categories and credentials.

Thin views: parse the form, call a service of ``services.inventory``, render; the view commits
once. Refused forms answer 400 with the errors at their fields, refused deletions 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from ...core.blast_radius.words import template_words
from ...core.labels import label
from ...db import db, expect_writes, snapshot, utcnow
from ...models import Role, System, Vendor
from ...reports.diagram import blast_radius_diagram
from ...services import EditConflict, ValidationFailed, blast_radius, inventory
from ...services.assessments import decisions, ratings
from ...services.inventory import bulk as inventory_io
from ...services.portfolio import aggregates as portfolio
from ..access import area, deny, request_actor
from ..vendor_field import VendorField
from .forms import (
    BreachStartForm,
    ConfirmForm,
    CredentialFilterForm,
    CredentialForm,
    DataCategoryForm,
    HoldingForm,
    HoldingRecordsForm,
    PageForm,
    SubprocessorLinkForm,
    SystemFilterForm,
    SystemForm,
    VendorCsvForm,
    VendorFilterForm,
    VendorForm,
)
from .rating_forms import AssessmentDecisionForm, OverrideForm

bp = area(
    "inventory", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/inventory"
)

bp.add_app_template_filter(label, "enum_label")

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
CREDENTIAL_FILTERS = (
    "q",
    "status",
    "rotation",
    "holder_vendor_id",
    "system_id",
    "stored_in",
    "sort",
    "direction",
)


# ---- helpers -------------------------------------------------------------------------------


def _found(obj):
    if obj is None:
        abort(404)
    return obj


def _show_errors(form, errors: dict[str, list[str]]) -> None:
    """Each message at its field; messages about the whole form as a flash."""
    for name, messages in errors.items():
        if name and name in form:
            form[name].errors = [*form[name].errors, *messages]
        else:
            flash(" ".join(messages), "error")


def _submit(form, problems: Callable[[dict], dict], save: Callable[[dict], Any]):
    """Validate the form and the service's checks (every problem shown at once, each at its
    field); when all pass, save and commit. Returns what ``save`` returned, or None when the
    form was refused (nothing saved)."""
    form_ok = form.validate()
    values = form.values()
    found = problems(values)
    _show_errors(form, found)
    if not form_ok or found:
        return None
    try:
        saved = save(values)
    except ValidationFailed as exc:
        db.session.rollback()
        _show_errors(form, exc.errors)
        if isinstance(exc, EditConflict):
            # Saving again is then a deliberate choice to replace their version.
            form.version.data = exc.current_version
        return None
    db.session.commit()
    return saved


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _delete(obj, key: str, *, plan, delete, template: str, done: str, message: str):
    """The confirmation page (GET) and the deletion (POST), refused with 409 while something
    depends on ``obj``."""
    status = 200
    if request.method == "POST":
        _confirmed()
        try:
            delete(db.session, obj, actor=request_actor())
        except ValidationFailed:
            db.session.rollback()
            status = 409
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(done))
    context = {key: obj, "plan": plan(db.session, obj), "form": ConfirmForm()}
    return render_template(template, **context), status


def _filter_args(names: tuple[str, ...], form=None) -> dict[str, str]:
    """The filters of a list page that carry over to its links (never other arguments). A
    vendor box of the validated ``form`` carries its vendor's id, whether the name was typed
    or the id came from a link."""
    args = {name: request.args[name] for name in names if request.args.get(name)}
    for name in names:
        field = form[name] if form is not None and name in form else None
        if isinstance(field, VendorField):
            args.pop(name, None)
            if field.data is not None and not field.errors:
                args[name] = str(field.data)
    return args


def _linker(endpoint: str, args: dict[str, str], **view_args):
    """``url(page=2)``, ``url(sort="name", page=None)``: this list with some filters changed."""

    def url(**changes) -> str:
        merged = {**args, **changes}
        kept = {k: v for k, v in merged.items() if v is not None and v != ""}
        return url_for(endpoint, **view_args, **kept)

    return url


def _choices(rows, blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(row_id, name) for row_id, name in rows]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


# ---- the portfolio: concentration, super-nodes, rotation --------------------------------------


@bp.get("/portfolio")
def portfolio_view():
    freshness = portfolio.ensure_fresh(db.session, before_writing=expect_writes)
    overdue = inventory.search_credentials(
        db.session, rotation=inventory.RotationStatus.overdue, sort="last_rotated_at"
    )
    return render_template(
        "inventory/portfolio.html",
        computed_at=freshness.computed_at,
        tiers=portfolio.tier_counts(db.session),
        super_nodes=portfolio.super_nodes(db.session),
        concentration=portfolio.concentration(db.session),
        rotation=portfolio.rotation_counts(db.session),
        overdue=overdue,
    )


# ---- vendors -------------------------------------------------------------------------------


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
        freshness = portfolio.ensure_fresh(db.session, before_writing=expect_writes)
        page = inventory.search_vendors(
            db.session,
            search=form.q.data or None,
            status=form.status.data,
            criticality=form.criticality.data,
            tier=form.tier.data,
            residual=form.residual.data or None,
            rating=form.rating.data or None,
            sort=form.sort.data or "name",
            descending=form.direction.data == "desc",
            page=form.page.data or 1,
        )
    return render_template(
        "inventory/vendors.html",
        form=form,
        page=page,
        computed_at=freshness.computed_at if page is not None else None,
        sort=form.sort.data or "name",
        descending=form.direction.data == "desc",
        url=_linker("inventory.vendors", _filter_args(VENDOR_FILTERS)),
    ), (200 if page is not None else 400)


def _vendor(vendor_id: int) -> Vendor:
    return _found(inventory.get_vendor(db.session, vendor_id))


def _vendor_tab(template: str, vendor: Vendor, status: int = 200, **context):
    counts = inventory.vendor_counts(db.session, vendor.id)
    return render_template(template, vendor=vendor, counts=counts, **context), status


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
            return redirect(url_for("inventory.vendor", vendor_id=vendor.id))
        return render_template("inventory/vendor_form.html", form=form, vendor=None), 400
    return render_template("inventory/vendor_form.html", form=form, vendor=None)


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
    return _vendor_tab("inventory/vendor.html", _vendor(vendor_id))


# ---- data holdings: a vendor's tab and a system's page share them ----------------------------


def _holdings_context(holder: Vendor | System, add_form=None, failed=None) -> dict:
    """The holdings of ``holder`` with a small form per row, and the form to add one;
    ``failed`` maps a category to its refused row form, shown with its errors."""
    rows = inventory.holdings(db.session, holder)
    held = {row.data_category_id for row in rows}
    add_form = add_form or HoldingForm(formdata=None)
    add_form.data_category_id.choices = _choices(
        [c for c in inventory.data_category_choices(db.session) if c[0] not in held], "Choose…"
    )
    row_forms = {
        row.data_category_id: HoldingRecordsForm(
            formdata=None, prefix=f"holding-{row.data_category_id}", records=row.records
        )
        for row in rows
    } | (failed or {})
    return {"holdings": rows, "add_form": add_form, "row_forms": row_forms}


def _add_holding(holder: Vendor | System, page: Callable[..., Any], done: str):
    form = HoldingForm()
    form.data_category_id.choices = _choices(inventory.data_category_choices(db.session), "Choose…")
    if form.validate():
        inventory.set_holding(
            db.session, holder, form.data_category_id.data, form.records.data, actor=request_actor()
        )
        db.session.commit()
        flash("Data holding saved.", "success")
        return redirect(done)
    return page(400, add_form=form)


def _update_holding(
    holder: Vendor | System, data_category_id: int, page: Callable[..., Any], done: str
):
    _found(inventory.get_holding(db.session, holder, data_category_id))
    form = HoldingRecordsForm(prefix=f"holding-{data_category_id}")
    if form.validate():
        inventory.set_holding(
            db.session, holder, data_category_id, form.records.data, actor=request_actor()
        )
        db.session.commit()
        flash("Records saved.", "success")
        return redirect(done)
    return page(400, failed={data_category_id: form})


def _remove_holding(holder: Vendor | System, data_category_id: int, done: str):
    holding = _found(inventory.get_holding(db.session, holder, data_category_id))
    _confirmed()
    inventory.remove_holding(db.session, holder, holding, actor=request_actor())
    db.session.commit()
    flash("Data holding removed.", "success")
    return redirect(done)


def _vendor_data_page(vendor: Vendor):
    def page(status: int = 200, **forms):
        context = _holdings_context(vendor, **forms)
        return _vendor_tab("inventory/vendor_data.html", vendor, status, **context)

    return page


@bp.get("/vendors/<int:vendor_id>/data")
def vendor_data(vendor_id: int):
    return _vendor_data_page(_vendor(vendor_id))()


@bp.post("/vendors/<int:vendor_id>/data")
def add_vendor_data(vendor_id: int):
    vendor = _vendor(vendor_id)
    done = url_for("inventory.vendor_data", vendor_id=vendor_id)
    return _add_holding(vendor, _vendor_data_page(vendor), done)


@bp.post("/vendors/<int:vendor_id>/data/<int:data_category_id>")
def update_vendor_data(vendor_id: int, data_category_id: int):
    vendor = _vendor(vendor_id)
    done = url_for("inventory.vendor_data", vendor_id=vendor_id)
    return _update_holding(vendor, data_category_id, _vendor_data_page(vendor), done)


@bp.post("/vendors/<int:vendor_id>/data/<int:data_category_id>/remove")
def remove_vendor_data(vendor_id: int, data_category_id: int):
    done = url_for("inventory.vendor_data", vendor_id=vendor_id)
    return _remove_holding(_vendor(vendor_id), data_category_id, done)


# ---- the other tabs of a vendor ------------------------------------------------------------


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


def _subprocessor_form(vendor: Vendor, form=None) -> SubprocessorLinkForm:
    form = form or SubprocessorLinkForm(formdata=None)
    form.data_category_ids.choices = _choices(inventory.data_category_choices(db.session))
    return form


def _subprocessors_page(vendor: Vendor, form=None, status: int = 200):
    return _vendor_tab(
        "inventory/vendor_subprocessors.html",
        vendor,
        status,
        links=inventory.subprocessors(db.session, vendor.id),
        form=_subprocessor_form(vendor, form),
        others=inventory.has_other_vendors(db.session, vendor.id),
    )


@bp.get("/vendors/<int:vendor_id>/subprocessors")
def vendor_subprocessors(vendor_id: int):
    return _subprocessors_page(_vendor(vendor_id))


@bp.post("/vendors/<int:vendor_id>/subprocessors")
def add_subprocessor(vendor_id: int):
    vendor = _vendor(vendor_id)
    form = _subprocessor_form(vendor, SubprocessorLinkForm())
    link = _submit(
        form,
        lambda values: inventory.subprocessor_problems(db.session, vendor, values),
        lambda values: inventory.add_subprocessor(
            db.session,
            vendor,
            subprocessor_id=values["subprocessor_id"],
            purpose=values["purpose"],
            data_category_ids=values["data_category_ids"],
            actor=request_actor(),
        ),
    )
    if link is not None:
        flash("Subprocessor added.", "success")
        return redirect(url_for("inventory.vendor_subprocessors", vendor_id=vendor_id))
    return _subprocessors_page(vendor, form, 400)


@bp.post("/vendors/<int:vendor_id>/subprocessors/<int:link_id>/remove")
def remove_subprocessor(vendor_id: int, link_id: int):
    vendor = _vendor(vendor_id)
    link = _found(inventory.get_subprocessor_link(db.session, vendor.id, link_id))
    _confirmed()
    inventory.remove_subprocessor(db.session, vendor, link, actor=request_actor())
    db.session.commit()
    flash("Subprocessor removed.", "success")
    return redirect(url_for("inventory.vendor_subprocessors", vendor_id=vendor_id))


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
        form=form,
        **template_words(),
    )


# ---- the rating: explained, overridden, decided on ------------------------------------------


def _risk_officer_only() -> None:
    """Procurement reads ratings; overriding one or deciding on it is a risk officer's call."""
    if current_user.role is not Role.risk_officer:
        deny()


def _risk_page(
    vendor: Vendor,
    status: int = 200,
    *,
    override_form: OverrideForm | None = None,
    decision_form: AssessmentDecisionForm | None = None,
):
    page = ratings.risk_page(db.session, vendor.id)
    rating = page.rating
    decision_form = decision_form or AssessmentDecisionForm(formdata=None)
    cadence = current_app.config["REASSESSMENT_MONTHS"]
    next_review = None
    if rating is not None:
        # The rating now on the page is the one a decision sent from it is taken on.
        decision_form.score_id.data = rating.score_id
        decision_form.tier.data = rating.effective_tier.value
        next_review = decisions.next_review(utcnow().date(), rating.effective_tier, cadence)
    return _vendor_tab(
        "inventory/vendor_risk.html",
        vendor,
        status,
        page=page,
        rating=rating,
        decisions=decisions.decisions_of(db.session, vendor.id),
        may_decide=current_user.role is Role.risk_officer,
        override_form=override_form or OverrideForm(formdata=None),
        clear_form=ConfirmForm(),
        decision_form=decision_form,
        cadence=cadence,
        next_review=next_review,
        history_shown=ratings.HISTORY_SHOWN,
    )


def _change_rating(vendor: Vendor, form, *, problems, save, form_name: str, done):
    """Validate the form and the service's rules (each problem at its field), then save and
    commit. A refusal about the rating itself (none yet, changed meanwhile, no override to
    clear) answers 409 with the reason; a refused form 400 with what was typed. ``done``
    words the success from what ``save`` returned."""
    form_ok = form.validate()
    found = problems(form.values())
    for name, messages in found.items():
        if not form[name].errors:
            form[name].errors = [*form[name].errors, *messages]
    if not form_ok or found:
        return _risk_page(vendor, 400, **{form_name: form})
    try:
        saved = save(form)
    except ValidationFailed as exc:
        db.session.rollback()
        if "" in exc.errors:
            flash(" ".join(exc.errors[""]), "error")
            return _risk_page(vendor, 409)
        _show_errors(form, exc.errors)
        return _risk_page(vendor, 400, **{form_name: form})
    message = done(saved)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("inventory.vendor_risk", vendor_id=vendor.id))


@bp.get("/vendors/<int:vendor_id>/risk")
def vendor_risk(vendor_id: int):
    vendor = _vendor(vendor_id)
    # The rating follows the inventory once the aggregates are fresh: make sure they are.
    portfolio.ensure_fresh(db.session, before_writing=expect_writes)
    return _risk_page(vendor)


@bp.post("/vendors/<int:vendor_id>/risk/override")
def override_rating(vendor_id: int):
    _risk_officer_only()
    vendor = _vendor(vendor_id)
    return _change_rating(
        vendor,
        OverrideForm(),
        problems=lambda values: ratings.override_problems(
            values["override_tier"], values["override_reason"]
        ),
        save=lambda form: ratings.set_override(
            db.session,
            vendor.id,
            tier=form.override_tier.data,
            reason=form.override_reason.data,
            actor=request_actor(),
        ),
        form_name="override_form",
        done=lambda rating: (
            f"Tier overridden to {rating.override_tier}: the computed rating "
            f"({rating.residual_tier}) stays beside it."
        ),
    )


@bp.post("/vendors/<int:vendor_id>/risk/override/clear")
def clear_rating_override(vendor_id: int):
    _risk_officer_only()
    vendor = _vendor(vendor_id)
    _confirmed()
    try:
        ratings.clear_override(db.session, vendor.id, actor=request_actor())
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(exc.errors[""]), "error")
        return _risk_page(vendor, 409)
    db.session.commit()
    flash("Override cleared: the computed tier applies again.", "success")
    return redirect(url_for("inventory.vendor_risk", vendor_id=vendor.id))


@bp.post("/vendors/<int:vendor_id>/risk/decision")
def decide_assessment(vendor_id: int):
    _risk_officer_only()
    vendor = _vendor(vendor_id)
    cadence = current_app.config["REASSESSMENT_MONTHS"]
    return _change_rating(
        vendor,
        AssessmentDecisionForm(),
        problems=decisions.decision_problems,
        save=lambda form: decisions.decide(
            db.session,
            vendor,
            form.values(),
            expected_score_id=form.expected_score_id,
            expected_tier=form.expected_tier,
            cadence=cadence,
            actor=request_actor(),
        ),
        form_name="decision_form",
        done=lambda decision: (
            f"Decision recorded: {decision.decision.label}. Next review on "
            f"{decision.next_review.isoformat()} ({decision.tier} tier)."
        ),
    )


# ---- systems -------------------------------------------------------------------------------


@bp.get("/systems")
def systems():
    form = SystemFilterForm(request.args)
    page = None
    if form.validate():
        page = inventory.search_systems(
            db.session, search=form.q.data or None, page=form.page.data or 1
        )
    url = _linker("inventory.systems", _filter_args(("q",)))
    return render_template("inventory/systems.html", form=form, page=page, url=url), (
        200 if page is not None else 400
    )


def _system(system_id: int) -> System:
    return _found(inventory.get_system(db.session, system_id))


def _system_page(system: System):
    def page(status: int = 200, **forms):
        return render_template(
            "inventory/system.html",
            system=system,
            opened_by=inventory.search_credentials(db.session, system_id=system.id),
            stored=inventory.search_credentials(db.session, stored_in_system_id=system.id),
            **_holdings_context(system, **forms),
        ), status

    return page


@bp.get("/systems/<int:system_id>")
def system(system_id: int):
    return _system_page(_system(system_id))()


@bp.route("/systems/new", methods=["GET", "POST"])
def new_system():
    form = SystemForm()
    if request.method == "POST":
        system = _submit(
            form,
            lambda values: inventory.system_problems(db.session, values),
            lambda values: inventory.create_system(db.session, values, actor=request_actor()),
        )
        if system is not None:
            flash(f"System {system.name} created.", "success")
            return redirect(url_for("inventory.system", system_id=system.id))
        return render_template("inventory/system_form.html", form=form, system=None), 400
    return render_template("inventory/system_form.html", form=form, system=None)


@bp.route("/systems/<int:system_id>/edit", methods=["GET", "POST"])
def edit_system(system_id: int):
    system = _system(system_id)
    if request.method == "GET":
        return render_template(
            "inventory/system_form.html", form=SystemForm(obj=system), system=system
        )
    form = SystemForm()
    changed = _submit(
        form,
        lambda values: inventory.system_problems(db.session, values, system_id=system.id),
        lambda values: inventory.update_system(
            db.session,
            system,
            values,
            actor=request_actor(),
            expected_version=form.expected_version or 0,
        ),
    )
    if changed is not None:
        flash(f"System {system.name} saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inventory.system", system_id=system.id))
    return render_template("inventory/system_form.html", form=form, system=system), 400


@bp.route("/systems/<int:system_id>/delete", methods=["GET", "POST"])
def delete_system(system_id: int):
    system = _system(system_id)
    return _delete(
        system,
        "system",
        plan=inventory.system_deletion,
        delete=inventory.delete_system,
        template="inventory/system_delete.html",
        done="inventory.systems",
        message=f"System {system.name} deleted.",
    )


@bp.post("/systems/<int:system_id>/data")
def add_system_data(system_id: int):
    system = _system(system_id)
    done = url_for("inventory.system", system_id=system_id)
    return _add_holding(system, _system_page(system), done)


@bp.post("/systems/<int:system_id>/data/<int:data_category_id>")
def update_system_data(system_id: int, data_category_id: int):
    system = _system(system_id)
    done = url_for("inventory.system", system_id=system_id)
    return _update_holding(system, data_category_id, _system_page(system), done)


@bp.post("/systems/<int:system_id>/data/<int:data_category_id>/remove")
def remove_system_data(system_id: int, data_category_id: int):
    done = url_for("inventory.system", system_id=system_id)
    return _remove_holding(_system(system_id), data_category_id, done)


# ---- data categories -----------------------------------------------------------------------


@bp.get("/data-categories")
def data_categories():
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = inventory.search_data_categories(db.session, page=form.page.data or 1)
    url = _linker("inventory.data_categories", {})
    return render_template("inventory/data_categories.html", page=page, url=url)


def _data_category(data_category_id: int):
    return _found(inventory.get_data_category(db.session, data_category_id))


@bp.route("/data-categories/new", methods=["GET", "POST"])
def new_data_category():
    form = DataCategoryForm()
    if request.method == "POST":
        category = _submit(
            form,
            lambda values: inventory.data_category_problems(db.session, values),
            lambda values: inventory.create_data_category(
                db.session, values, actor=request_actor()
            ),
        )
        if category is not None:
            flash(f"Data category {category.name} created.", "success")
            return redirect(url_for("inventory.data_categories"))
        return render_template("inventory/data_category_form.html", form=form, category=None), 400
    return render_template("inventory/data_category_form.html", form=form, category=None)


@bp.route("/data-categories/<int:data_category_id>/edit", methods=["GET", "POST"])
def edit_data_category(data_category_id: int):
    category = _data_category(data_category_id)
    if request.method == "GET":
        form = DataCategoryForm(obj=category)
        return render_template("inventory/data_category_form.html", form=form, category=category)
    form = DataCategoryForm()
    changed = _submit(
        form,
        lambda values: inventory.data_category_problems(
            db.session, values, data_category_id=category.id
        ),
        lambda values: inventory.update_data_category(
            db.session,
            category,
            values,
            actor=request_actor(),
            expected_version=form.expected_version or 0,
        ),
    )
    if changed is not None:
        flash(f"Data category {category.name} saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inventory.data_categories"))
    return render_template("inventory/data_category_form.html", form=form, category=category), 400


@bp.route("/data-categories/<int:data_category_id>/delete", methods=["GET", "POST"])
def delete_data_category(data_category_id: int):
    category = _data_category(data_category_id)
    return _delete(
        category,
        "category",
        plan=inventory.data_category_deletion,
        delete=inventory.delete_data_category,
        template="inventory/data_category_delete.html",
        done="inventory.data_categories",
        message=f"Data category {category.name} deleted.",
    )


# ---- credentials ---------------------------------------------------------------------------


@bp.get("/credentials")
def credentials():
    form = CredentialFilterForm(request.args)
    systems = inventory.system_choices(db.session)
    form.system_id.choices = _choices(systems, "Any system")
    form.stored_in.choices = _choices(systems, "Anywhere")
    page = None
    if form.validate():
        page = inventory.search_credentials(
            db.session,
            search=form.q.data or None,
            status=form.status.data,
            rotation=form.rotation.data,
            holder_vendor_id=form.holder_vendor_id.data,
            system_id=form.system_id.data,
            stored_in_system_id=form.stored_in.data,
            sort=form.sort.data or "name",
            descending=form.direction.data == "desc",
            page=form.page.data or 1,
        )
    return render_template(
        "inventory/credentials.html",
        form=form,
        page=page,
        sort=form.sort.data or "name",
        descending=form.direction.data == "desc",
        url=_linker("inventory.credentials", _filter_args(CREDENTIAL_FILTERS, form)),
    ), (200 if page is not None else 400)


def _credential(credential_id: int):
    return _found(inventory.get_credential(db.session, credential_id))


def _credential_form(**kwargs) -> CredentialForm:
    form = CredentialForm(**kwargs)
    systems = inventory.system_choices(db.session)
    form.system_id.choices = _choices(systems, "Choose…")
    form.stored_in.choices = _choices(systems)
    return form


@bp.route("/credentials/new", methods=["GET", "POST"])
def new_credential():
    if request.method == "GET":
        holder = request.args.get("holder_vendor_id", type=int)
        form = _credential_form(formdata=None, holder_vendor_id=holder)
        return render_template("inventory/credential_form.html", form=form, credential=None)
    form = _credential_form()
    credential = _submit(
        form,
        lambda values: inventory.credential_problems(db.session, values),
        lambda values: inventory.create_credential(
            db.session,
            values,
            stored_in_system_ids=form.stored_in.data or [],
            actor=request_actor(),
        ),
    )
    if credential is not None:
        flash(f"Credential {credential.name} created.", "success")
        return redirect(url_for("inventory.credentials"))
    return render_template("inventory/credential_form.html", form=form, credential=None), 400


@bp.route("/credentials/<int:credential_id>/edit", methods=["GET", "POST"])
def edit_credential(credential_id: int):
    credential = _credential(credential_id)
    if request.method == "GET":
        stored_in = inventory.stored_in(db.session, credential)
        form = _credential_form(obj=credential, stored_in=stored_in)
        return render_template("inventory/credential_form.html", form=form, credential=credential)
    form = _credential_form()
    changed = _submit(
        form,
        lambda values: inventory.credential_problems(
            db.session, values, credential_id=credential.id
        ),
        lambda values: inventory.update_credential(
            db.session,
            credential,
            values,
            stored_in_system_ids=form.stored_in.data or [],
            actor=request_actor(),
            expected_version=form.expected_version or 0,
        ),
    )
    if changed is not None:
        flash(f"Credential {credential.name} saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inventory.credentials"))
    return render_template("inventory/credential_form.html", form=form, credential=credential), 400


@bp.route("/credentials/<int:credential_id>/delete", methods=["GET", "POST"])
def delete_credential(credential_id: int):
    credential = _credential(credential_id)
    return _delete(
        credential,
        "credential",
        plan=inventory.credential_deletion,
        delete=inventory.delete_credential,
        template="inventory/credential_delete.html",
        done="inventory.credentials",
        message=f"Credential {credential.name} deleted.",
    )
