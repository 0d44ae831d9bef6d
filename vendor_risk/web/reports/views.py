"""The PDF downloads: a vendor's assessment, an incident's report, the portfolio summary; and
the bulk exports, a zip of the assessments of the vendors a filter of the vendor list matches,
built by a background job, each one seen and downloaded by its owner only.

Procurement and risk officers only, who see the same ratings, incidents and portfolio in the
app (one guard for the area); an unknown id is 404. Thin: ``exports`` reads, renders and
audits; the view commits once and sends the file as an attachment that is never cached.
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ...db import db, expect_writes
from ...models import BulkExportStatus, Role
from ...services import ValidationFailed, bulk_exports
from ..access import area, request_actor
from ..inventory.forms import VendorFilterForm

bp = area("reports", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/reports")

# A downloaded file is never rendered by the browser as a page of this site.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _send(exported):
    if exported is None:
        abort(404)
    db.session.commit()  # the export's audit event
    from ...reports.exports import MEDIA_TYPE

    response = send_file(
        BytesIO(exported.rendered.pdf),
        mimetype=MEDIA_TYPE,
        as_attachment=True,
        download_name=exported.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


# WeasyPrint is imported with the exports, on the first download: starting the app (and every
# test that builds one) does not pay for it.


@bp.get("/vendors/<int:vendor_id>/assessment.pdf")
def assessment(vendor_id: int):
    from ...reports.exports import export_assessment

    return _send(
        export_assessment(
            db.session, vendor_id, actor=request_actor(), exported_by=current_user.name
        )
    )


@bp.get("/incidents/<int:incident_id>/report.pdf")
def incident(incident_id: int):
    from ...reports.exports import export_incident

    return _send(export_incident(db.session, incident_id, actor=request_actor()))


@bp.get("/portfolio.pdf")
def portfolio_summary():
    from ...reports.exports import export_portfolio

    return _send(export_portfolio(db.session, actor=request_actor()))


# ---- bulk exports: a zip of assessments, built by the exports.build job ----------------------

# The export's page reloads itself this often while the job runs (a meta refresh: no script).
REFRESH_SECONDS = 2


@bp.post("/exports")
def new_export():
    """Ask for the zip of the vendors the list's filters (sent with the button) match."""
    form = VendorFilterForm(request.form)
    back = url_for(
        "inventory.vendors",
        **{name: request.form[name] for name in form.FILTERS if request.form.get(name)},
    )
    if not form.validate():
        flash("These filters cannot be exported: choose them again on the list.", "error")
        return redirect(back)
    try:
        export = bulk_exports.request_export(
            db.session,
            filters=form.filters(),
            shown_filters=form.described(),
            max_vendors=current_app.config["BULK_EXPORT_MAX_VENDORS"],
            actor=request_actor(),
        )
    except ValidationFailed as refused:
        db.session.rollback()
        flash(" ".join(m for messages in refused.errors.values() for m in messages), "error")
        return redirect(back)
    db.session.commit()  # the job is enqueued once this commits
    return redirect(url_for("reports.export", export_id=export.id))


@bp.get("/exports")
def exports():
    return render_template(
        "reports/bulk_exports.html",
        exports=bulk_exports.own_exports(db.session, owner_id=current_user.id),
        is_expired=bulk_exports.is_expired,
    )


def _own_export(export_id: int):
    export = bulk_exports.own_export(db.session, export_id, owner_id=current_user.id)
    if export is None:
        abort(404)
    return export


@bp.get("/exports/<int:export_id>")
def export(export_id: int):
    export = _own_export(export_id)
    expired = bulk_exports.is_expired(export)
    working = not expired and export.status in (BulkExportStatus.queued, BulkExportStatus.running)
    return render_template(
        "reports/bulk_export.html",
        export=export,
        expired=expired,
        refresh=REFRESH_SECONDS if working else None,
    ), (404 if expired else 200)


@bp.get("/exports/<int:export_id>/download")
def export_download(export_id: int):
    export = _own_export(export_id)
    expired = bulk_exports.is_expired(export)
    path = bulk_exports.file_path(export)
    if expired or export.status is not BulkExportStatus.done or not path.is_file():
        return render_template(
            "reports/bulk_export.html", export=export, expired=expired, refresh=None
        ), 404
    expect_writes(db.session)  # a GET that audits
    bulk_exports.record_download(db.session, export, actor=request_actor())
    db.session.commit()
    response = send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=export.filename,
        max_age=0,
        conditional=False,
        etag=False,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
