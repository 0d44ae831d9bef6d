"""The credentials: the list and its filters, created, edited, deleted."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...db import db
from ...services import inventory
from ..access import request_actor
from .blueprint import bp
from .common import _back, _choices, _delete, _filter_args, _found, _linker, _submit
from .forms import CredentialFilterForm, CredentialForm

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
        return render_template(
            "inventory/credential_form.html", form=form, credential=None, back=_back()
        )
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
        return redirect(_back() or url_for("inventory.credentials"))
    return render_template(
        "inventory/credential_form.html", form=form, credential=None, back=_back()
    ), 400


@bp.route("/credentials/<int:credential_id>/edit", methods=["GET", "POST"])
def edit_credential(credential_id: int):
    credential = _credential(credential_id)
    if request.method == "GET":
        stored_in = inventory.stored_in(db.session, credential)
        form = _credential_form(obj=credential, stored_in=stored_in)
        return render_template(
            "inventory/credential_form.html", form=form, credential=credential, back=_back()
        )
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
        return redirect(_back() or url_for("inventory.credentials"))
    return render_template(
        "inventory/credential_form.html", form=form, credential=credential, back=_back()
    ), 400


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
