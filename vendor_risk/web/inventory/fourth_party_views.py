"""Fourth parties (subprocessors of our vendors that are not our vendors): the list, a fourth
party's page (the vendors relying on it, with the data they pass), created, edited, deleted.
Linking one to a vendor is done on the vendor's Subprocessors tab (holding_views)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...db import db
from ...models import FourthParty
from ...services import inventory
from ..access import request_actor
from .blueprint import bp
from .common import _delete, _filter_args, _found, _linker, _submit
from .forms import FourthPartyFilterForm, FourthPartyForm


@bp.get("/fourth-parties")
def fourth_parties():
    form = FourthPartyFilterForm(request.args)
    page = None
    if form.validate():
        page = inventory.search_fourth_parties(
            db.session, search=form.q.data or None, page=form.page.data or 1
        )
    url = _linker("inventory.fourth_parties", _filter_args(("q",)))
    return render_template("inventory/fourth_parties.html", form=form, page=page, url=url), (
        200 if page is not None else 400
    )


def _fourth_party(fourth_party_id: int) -> FourthParty:
    return _found(inventory.get_fourth_party(db.session, fourth_party_id))


@bp.get("/fourth-parties/<int:fourth_party_id>")
def fourth_party(fourth_party_id: int):
    party = _fourth_party(fourth_party_id)
    return render_template(
        "inventory/fourth_party.html",
        party=party,
        relying=inventory.relying_vendors(db.session, party),
    )


@bp.route("/fourth-parties/new", methods=["GET", "POST"])
def new_fourth_party():
    form = FourthPartyForm()
    if request.method == "POST":
        party = _submit(
            form,
            lambda values: inventory.fourth_party_problems(db.session, values),
            lambda values: inventory.create_fourth_party(db.session, values, actor=request_actor()),
        )
        if party is not None:
            flash(f"Fourth party {party.name} created.", "success")
            return redirect(url_for("inventory.fourth_party", fourth_party_id=party.id))
        return render_template("inventory/fourth_party_form.html", form=form, party=None), 400
    return render_template("inventory/fourth_party_form.html", form=form, party=None)


@bp.route("/fourth-parties/<int:fourth_party_id>/edit", methods=["GET", "POST"])
def edit_fourth_party(fourth_party_id: int):
    party = _fourth_party(fourth_party_id)
    if request.method == "GET":
        form = FourthPartyForm(obj=party)
        return render_template("inventory/fourth_party_form.html", form=form, party=party)
    form = FourthPartyForm()
    changed = _submit(
        form,
        lambda values: inventory.fourth_party_problems(
            db.session, values, fourth_party_id=party.id
        ),
        lambda values: inventory.update_fourth_party(
            db.session,
            party,
            values,
            actor=request_actor(),
            expected_version=form.expected_version or 0,
        ),
    )
    if changed is not None:
        flash(f"Fourth party {party.name} saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inventory.fourth_party", fourth_party_id=party.id))
    return render_template("inventory/fourth_party_form.html", form=form, party=party), 400


@bp.route("/fourth-parties/<int:fourth_party_id>/delete", methods=["GET", "POST"])
def delete_fourth_party(fourth_party_id: int):
    party = _fourth_party(fourth_party_id)
    return _delete(
        party,
        "party",
        plan=inventory.fourth_party_deletion,
        delete=inventory.delete_fourth_party,
        template="inventory/fourth_party_delete.html",
        done="inventory.fourth_parties",
        message=f"Fourth party {party.name} deleted.",
    )
