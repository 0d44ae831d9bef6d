"""What a vendor or a system holds: the data holdings (a vendor's tab and a system's page share
them) and a vendor's subprocessors (our vendors or fourth parties), with the data passed on to
each: a row per data category with its own records, edited like a holding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, url_for

from ...db import db
from ...models import System, Vendor
from ...services import ValidationFailed, inventory
from ..access import request_actor
from .blueprint import bp
from .common import _choices, _confirmed, _found, _show_errors, _submit
from .forms import HoldingForm, HoldingRecordsForm, SubprocessorLinkForm
from .vendor_views import _vendor, _vendor_tab


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


def _subprocessor_form(vendor: Vendor, form=None) -> SubprocessorLinkForm:
    form = form or SubprocessorLinkForm(formdata=None)
    form.fourth_party_id.choices = _choices(inventory.fourth_party_choices(db.session), "None")
    form.data_category_ids.choices = _choices(inventory.data_category_choices(db.session))
    return form


def _link_data_forms(links, failed: dict | None) -> tuple[dict, dict]:
    """A small form per data category passed on each link (its records), and one per link to
    pass another category; ``failed`` holds a refused form by its key, shown with its errors."""
    failed = failed or {}
    categories = inventory.data_category_choices(db.session)
    row_forms, add_forms = {}, {}
    for link in links.passes_to:
        for category_id, (_name, records) in zip(link.category_ids, link.data, strict=True):
            key = (link.link_id, category_id)
            row_forms[key] = failed.get(key) or HoldingRecordsForm(
                formdata=None, prefix=_row_prefix(*key), records=records
            )
        form = failed.get(link.link_id) or HoldingForm(
            formdata=None, prefix=_add_prefix(link.link_id)
        )
        passed = set(link.category_ids)
        form.data_category_id.choices = _choices(
            [c for c in categories if c[0] not in passed], "Choose…"
        )
        add_forms[link.link_id] = form
    return row_forms, add_forms


def _row_prefix(link_id: int, data_category_id: int) -> str:
    return f"link-{link_id}-data-{data_category_id}"


def _add_prefix(link_id: int) -> str:
    return f"link-{link_id}"


def _subprocessors_page(vendor: Vendor, form=None, status: int = 200, failed=None):
    links = inventory.subprocessors(db.session, vendor.id)
    row_forms, add_forms = _link_data_forms(links, failed)
    return _vendor_tab(
        "inventory/vendor_subprocessors.html",
        vendor,
        status,
        links=links,
        form=_subprocessor_form(vendor, form),
        others=inventory.has_other_vendors(db.session, vendor.id),
        row_forms=row_forms,
        add_forms=add_forms,
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
            fourth_party_id=values["fourth_party_id"],
            fourth_party_name=values["fourth_party_name"],
            fourth_party_service=values["fourth_party_service"],
            purpose=values["purpose"],
            data_category_ids=values["data_category_ids"],
            records=values["records"],
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


def _link(vendor_id: int, link_id: int):
    vendor = _vendor(vendor_id)
    return vendor, _found(inventory.get_subprocessor_link(db.session, vendor.id, link_id))


def _link_data_saved(form, vendor: Vendor, link, data_category_id: int) -> bool:
    """Validate and save one category's records on a link: all of it, or nothing."""
    if not form.validate():
        return False
    try:
        inventory.set_subprocessor_data(
            db.session, vendor, link, data_category_id, form.records.data, actor=request_actor()
        )
    except ValidationFailed as exc:
        db.session.rollback()
        _show_errors(form, exc.errors)
        return False
    db.session.commit()
    return True


@bp.post("/vendors/<int:vendor_id>/subprocessors/<int:link_id>/data")
def add_subprocessor_data(vendor_id: int, link_id: int):
    vendor, link = _link(vendor_id, link_id)
    form = HoldingForm(prefix=_add_prefix(link_id))
    form.data_category_id.choices = _choices(inventory.data_category_choices(db.session), "Choose…")
    if _link_data_saved(form, vendor, link, form.data_category_id.data):
        flash("Data passed on saved.", "success")
        return redirect(url_for("inventory.vendor_subprocessors", vendor_id=vendor_id))
    return _subprocessors_page(vendor, status=400, failed={link_id: form})


@bp.post("/vendors/<int:vendor_id>/subprocessors/<int:link_id>/data/<int:data_category_id>")
def update_subprocessor_data(vendor_id: int, link_id: int, data_category_id: int):
    vendor, link = _link(vendor_id, link_id)
    _found(inventory.get_subprocessor_data(db.session, link, data_category_id))
    form = HoldingRecordsForm(prefix=_row_prefix(link_id, data_category_id))
    if _link_data_saved(form, vendor, link, data_category_id):
        flash("Records saved.", "success")
        return redirect(url_for("inventory.vendor_subprocessors", vendor_id=vendor_id))
    return _subprocessors_page(vendor, status=400, failed={(link_id, data_category_id): form})


@bp.post("/vendors/<int:vendor_id>/subprocessors/<int:link_id>/data/<int:data_category_id>/remove")
def remove_subprocessor_data(vendor_id: int, link_id: int, data_category_id: int):
    vendor, link = _link(vendor_id, link_id)
    passed = _found(inventory.get_subprocessor_data(db.session, link, data_category_id))
    _confirmed()
    inventory.remove_subprocessor_data(db.session, vendor, link, passed, actor=request_actor())
    db.session.commit()
    flash("Data passed on removed.", "success")
    return redirect(url_for("inventory.vendor_subprocessors", vendor_id=vendor_id))
