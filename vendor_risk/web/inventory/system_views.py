"""The systems catalogue: the list, a system's page with its credentials and data holdings,
created, edited, deleted."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...db import db
from ...models import System
from ...services import inventory
from ..access import request_actor
from .blueprint import bp
from .common import _delete, _filter_args, _found, _linker, _submit
from .forms import SystemFilterForm, SystemForm
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
