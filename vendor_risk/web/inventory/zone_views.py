"""Network zones: the list, a zone's page (the zones it reaches, added and removed there; the
zones reaching it; its systems and those open to it without sign-in), created, edited,
deleted."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...db import db
from ...models import NetworkZone
from ...services import ValidationFailed, inventory
from ..access import request_actor
from .blueprint import bp
from .common import (
    _choices,
    _confirmed,
    _delete,
    _filter_args,
    _found,
    _linker,
    _show_errors,
    _submit,
)
from .forms import NetworkZoneForm, ZoneFilterForm, ZoneReachForm


@bp.get("/zones")
def zones():
    form = ZoneFilterForm(request.args)
    page = None
    if form.validate():
        page = inventory.search_zones(
            db.session, search=form.q.data or None, page=form.page.data or 1
        )
    url = _linker("inventory.zones", _filter_args(("q",)))
    return render_template("inventory/zones.html", form=form, page=page, url=url), (
        200 if page is not None else 400
    )


def _zone(zone_id: int) -> NetworkZone:
    return _found(inventory.get_zone(db.session, zone_id))


def _reach_form(zone: NetworkZone, neighbours, form=None) -> ZoneReachForm:
    form = form or ZoneReachForm(formdata=None)
    reached = {zone_id for zone_id, _name in neighbours.reaches}
    form.to_zone_id.choices = _choices(
        [
            (zone_id, name)
            for zone_id, name in inventory.zone_choices(db.session)
            if zone_id != zone.id and zone_id not in reached
        ],
        "Choose…",
    )
    return form


def _zone_page(zone: NetworkZone, reach_form=None, status: int = 200):
    neighbours = inventory.zone_neighbours(db.session, zone)
    return render_template(
        "inventory/zone.html",
        zone=zone,
        neighbours=neighbours,
        reach_form=_reach_form(zone, neighbours, reach_form),
    ), status


@bp.get("/zones/<int:zone_id>")
def zone(zone_id: int):
    return _zone_page(_zone(zone_id))


@bp.route("/zones/new", methods=["GET", "POST"])
def new_zone():
    form = NetworkZoneForm()
    if request.method == "POST":
        zone = _submit(
            form,
            lambda values: inventory.zone_problems(db.session, values),
            lambda values: inventory.create_zone(db.session, values, actor=request_actor()),
        )
        if zone is not None:
            flash(f"Network zone {zone.name} created.", "success")
            return redirect(url_for("inventory.zone", zone_id=zone.id))
        return render_template("inventory/zone_form.html", form=form, zone=None), 400
    return render_template("inventory/zone_form.html", form=form, zone=None)


@bp.route("/zones/<int:zone_id>/edit", methods=["GET", "POST"])
def edit_zone(zone_id: int):
    zone = _zone(zone_id)
    if request.method == "GET":
        return render_template(
            "inventory/zone_form.html", form=NetworkZoneForm(obj=zone), zone=zone
        )
    form = NetworkZoneForm()
    changed = _submit(
        form,
        lambda values: inventory.zone_problems(db.session, values, zone_id=zone.id),
        lambda values: inventory.update_zone(
            db.session,
            zone,
            values,
            actor=request_actor(),
            expected_version=form.expected_version or 0,
        ),
    )
    if changed is not None:
        flash(f"Network zone {zone.name} saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inventory.zone", zone_id=zone.id))
    return render_template("inventory/zone_form.html", form=form, zone=zone), 400


@bp.route("/zones/<int:zone_id>/delete", methods=["GET", "POST"])
def delete_zone(zone_id: int):
    zone = _zone(zone_id)
    return _delete(
        zone,
        "zone",
        plan=inventory.zone_deletion,
        delete=inventory.delete_zone,
        template="inventory/zone_delete.html",
        done="inventory.zones",
        message=f"Network zone {zone.name} deleted.",
    )


@bp.post("/zones/<int:zone_id>/reaches")
def add_zone_reach(zone_id: int):
    zone = _zone(zone_id)
    form = ZoneReachForm()
    neighbours = inventory.zone_neighbours(db.session, zone)
    _reach_form(zone, neighbours, form)
    if form.validate():
        try:
            name = inventory.add_reach(
                db.session, zone, form.to_zone_id.data, actor=request_actor()
            )
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"{zone.name} now reaches {name}.", "success")
            return redirect(url_for("inventory.zone", zone_id=zone.id))
    return _zone_page(zone, form, 400)


@bp.post("/zones/<int:zone_id>/reaches/<int:to_zone_id>/remove")
def remove_zone_reach(zone_id: int, to_zone_id: int):
    zone = _zone(zone_id)
    reach = _found(inventory.get_reach(db.session, zone, to_zone_id))
    _confirmed()
    name = inventory.remove_reach(db.session, zone, reach, actor=request_actor())
    db.session.commit()
    flash(f"{zone.name} no longer reaches {name}.", "success")
    return redirect(url_for("inventory.zone", zone_id=zone.id))
