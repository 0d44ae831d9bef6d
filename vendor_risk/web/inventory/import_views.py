"""The inventory file import (the command line's ``inventory import``, through the web) and the
template of the vendor CSV list."""

from __future__ import annotations

from flask import Response, render_template, request

from ...db import db
from ...services.inventory import bulk as inventory_io
from ..access import request_actor
from .blueprint import bp
from .forms import InventoryFileForm

# Names listed per section in the report; beyond, a count (as the command line does).
NAMES_SHOWN = 10


@bp.route("/import", methods=["GET", "POST"])
def import_inventory_file():
    """Check (a dry run: nothing saved) or import a YAML or JSON inventory file, all or
    nothing; a refused file lists every problem with its line and field."""
    form = InventoryFileForm()
    report = problems = None
    if form.validate_on_submit():
        name, raw = form.upload()
        try:
            report = inventory_io.import_inventory_file(
                db.session, raw, name=name, actor=request_actor(), dry_run=bool(form.check.data)
            )
        except inventory_io.InventoryInvalid as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            if report.dry_run:
                db.session.rollback()
            else:
                db.session.commit()
    refused = request.method == "POST" and (form.errors or problems)
    return render_template(
        "inventory/inventory_import.html",
        form=form,
        report=report,
        problems=problems,
        names_shown=NAMES_SHOWN,
    ), (400 if refused else 200)


@bp.get("/vendors/import/template.csv")
def vendor_csv_template():
    """The columns the vendor CSV import accepts, with one example row that imports as it is.
    UTF-8 with a byte order mark, so that Excel opens accented names right."""
    response = Response("\ufeff" + inventory_io.vendor_csv_template(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="vendors-template.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
