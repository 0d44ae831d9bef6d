"""The PDF downloads: a vendor's assessment, an incident's report, the portfolio summary.

Procurement and risk officers only, who see the same ratings, incidents and portfolio in the
app (one guard for the area); an unknown id is 404. Thin: ``exports`` reads, renders and
audits; the view commits once and sends the file as an attachment that is never cached.
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, send_file
from flask_login import current_user

from ...db import db
from ...models import Role
from ..access import area, request_actor

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
