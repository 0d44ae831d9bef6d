"""The systems catalogue: the list, a system's page with its credentials, data holdings,
sign-in federations and vendor software, created (with the vendor operating it and its network
zones), edited, deleted."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...db import db
from ...models import System
from ...services import inventory
from ..access import request_actor
from .blueprint import bp
from .common import (
    _back,
    _choices,
    _confirmed,
    _delete,
    _filter_args,
    _found,
    _linker,
    _submit,
)
from .forms import FederationForm, SoftwareSupplyForm, SystemFilterForm, SystemForm
from .holding_views import _add_holding, _holdings_context, _remove_holding, _update_holding


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


def _federation_form(system: System, form=None, *, shown: bool = True) -> FederationForm:
    """The form adding an identity provider: every other system is offered (``shown``); a
    submitted one is checked against every system, so that choosing the system itself is
    refused with the reason."""
    form = form or FederationForm(formdata=None)
    systems = inventory.system_choices(db.session)
    if shown:
        systems = [row for row in systems if row[0] != system.id]
    form.identity_provider_id.choices = _choices(systems, "Choose…")
    return form


def _system_page(system: System):
    def page(status: int = 200, federation_form=None, software_form=None, **forms):
        operator = system.operator_vendor_id
        return render_template(
            "inventory/system.html",
            system=system,
            operator=inventory.vendor_name(db.session, operator) if operator else None,
            zones=inventory.system_zone_names(db.session, system),
            opened_by=inventory.search_credentials(db.session, system_id=system.id),
            stored=inventory.search_credentials(db.session, stored_in_system_id=system.id),
            federations=inventory.federations(db.session, system.id),
            federation_form=_federation_form(system, federation_form),
            software=inventory.software_of_system(db.session, system.id),
            software_form=software_form or SoftwareSupplyForm(formdata=None),
            **_holdings_context(system, **forms),
        ), status

    return page


@bp.get("/systems/<int:system_id>")
def system(system_id: int):
    return _system_page(_system(system_id))()


def _system_form(**kwargs) -> SystemForm:
    form = SystemForm(**kwargs)
    zones = _choices(inventory.zone_choices(db.session))
    form.zones.choices = zones
    form.accepts_unauthenticated_from.choices = zones
    return form


def _zones(form: SystemForm) -> dict[str, list[int]]:
    """The zones chosen, by field; a field the form refused already is left to its message."""
    return {name: ids for name, ids in form.zone_ids().items() if not form[name].errors}


@bp.route("/systems/new", methods=["GET", "POST"])
def new_system():
    if request.method == "GET":
        # ``?operator_vendor_id=``: the link from a vendor's profile (a system it operates).
        form = _system_form(
            formdata=None, operator_vendor_id=request.args.get("operator_vendor_id", type=int)
        )
        return render_template("inventory/system_form.html", form=form, system=None, back=_back())
    form = _system_form()
    system = _submit(
        form,
        lambda values: inventory.system_problems(db.session, values, zones=_zones(form)),
        lambda values: inventory.create_system(
            db.session, values, zones=form.zone_ids(), actor=request_actor()
        ),
    )
    if system is not None:
        flash(f"System {system.name} created.", "success")
        return redirect(_back() or url_for("inventory.system", system_id=system.id))
    return render_template("inventory/system_form.html", form=form, system=None, back=_back()), 400


@bp.route("/systems/<int:system_id>/edit", methods=["GET", "POST"])
def edit_system(system_id: int):
    system = _system(system_id)
    if request.method == "GET":
        form = _system_form(obj=system, **inventory.system_zones(db.session, system))
        return render_template("inventory/system_form.html", form=form, system=system)
    form = _system_form()
    changed = _submit(
        form,
        lambda values: inventory.system_problems(
            db.session, values, system_id=system.id, zones=_zones(form)
        ),
        lambda values: inventory.update_system(
            db.session,
            system,
            values,
            zones=form.zone_ids(),
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


@bp.post("/systems/<int:system_id>/federations")
def add_federation(system_id: int):
    system = _system(system_id)
    form = _federation_form(system, FederationForm(), shown=False)
    federation = _submit(
        form,
        lambda values: inventory.federation_problems(db.session, system, values),
        lambda values: inventory.add_federation(
            db.session, system, **values, actor=request_actor()
        ),
    )
    if federation is not None:
        flash("Identity provider added.", "success")
        return redirect(url_for("inventory.system", system_id=system_id))
    return _system_page(system)(400, federation_form=form)


@bp.post("/systems/<int:system_id>/federations/<int:federation_id>/remove")
def remove_federation(system_id: int, federation_id: int):
    system = _system(system_id)
    federation = _found(inventory.get_federation(db.session, system.id, federation_id))
    _confirmed()
    inventory.remove_federation(db.session, system, federation, actor=request_actor())
    db.session.commit()
    flash("Identity provider removed.", "success")
    return redirect(url_for("inventory.system", system_id=system_id))


@bp.post("/systems/<int:system_id>/software")
def add_software(system_id: int):
    system = _system(system_id)
    form = SoftwareSupplyForm()
    supply = _submit(
        form,
        lambda values: inventory.software_problems(db.session, system, values),
        lambda values: inventory.add_software(db.session, system, **values, actor=request_actor()),
    )
    if supply is not None:
        flash("Vendor software added.", "success")
        return redirect(url_for("inventory.system", system_id=system_id))
    return _system_page(system)(400, software_form=form)


@bp.post("/systems/<int:system_id>/software/<int:supply_id>/remove")
def remove_software(system_id: int, supply_id: int):
    system = _system(system_id)
    supply = _found(inventory.get_software_supply(db.session, system.id, supply_id))
    _confirmed()
    inventory.remove_software(db.session, system, supply, actor=request_actor())
    db.session.commit()
    flash("Vendor software removed.", "success")
    return redirect(url_for("inventory.system", system_id=system_id))
