"""The data categories: the list, created, edited, deleted; the starter catalogue imported."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ...core.plurals import plural
from ...db import db
from ...services import ValidationFailed, inventory
from ...services.inventory import starter
from ..access import request_actor
from ..forms import ConfirmForm, PageForm
from .blueprint import bp
from .common import _back, _delete, _found, _linker, _submit
from .forms import DataCategoryForm


@bp.get("/data-categories")
def data_categories():
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = inventory.search_data_categories(db.session, page=form.page.data or 1)
    url = _linker("inventory.data_categories", {})
    return render_template(
        "inventory/data_categories.html", page=page, url=url, starter_form=ConfirmForm()
    )


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
            return redirect(_back() or url_for("inventory.data_categories"))
        return render_template(
            "inventory/data_category_form.html", form=form, category=None, back=_back()
        ), 400
    return render_template(
        "inventory/data_category_form.html", form=form, category=None, back=_back()
    )


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


def _starter_page(status: int = 200):
    categories = starter.starter_categories(db.session)
    return render_template(
        "inventory/data_categories_starter.html",
        categories=categories,
        new=[c for c in categories if c.stored_as is None],
        form=ConfirmForm(),
    ), status


@bp.get("/data-categories/starter")
def data_categories_starter():
    """The starter catalogue, with the categories stored already under the same name."""
    return _starter_page()


@bp.post("/data-categories/starter")
def import_data_categories_starter():
    """Create the catalogue's categories not stored yet; the others are left as they are."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        report = starter.import_starter(db.session, actor=request_actor())
    except ValidationFailed as exc:  # a category of the same name created meanwhile
        db.session.rollback()
        flash(" ".join(m for messages in exc.errors.values() for m in messages), "error")
        return _starter_page(409)
    db.session.commit()
    created = plural(len(report.created), "common data category", "common data categories")
    message = f"{created} created{': ' + ', '.join(report.created) if report.created else ''}."
    if report.kept:
        message += f" Kept as they were (the name exists already): {', '.join(report.kept)}."
    flash(message, "success")
    return redirect(url_for("inventory.data_categories"))
