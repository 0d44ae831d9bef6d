"""Findings in the vendor portal: a contact sees their vendor's findings that are shown to
vendors, never an internal one or another vendor's (every finding is found through a query
filtered by the contact's vendor: anything else is a 404), and answers them with remediation
notes and files. Its routes join the portal's blueprint."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from ...db import db, snapshot, today_utc
from ...models import Finding
from ...services import findings, uploads
from ..findings.forms import FileForm, NoteForm
from ..findings.views import expire_due, larger_uploads, post_file, post_note, send_file
from ..forms import PageForm
from ..inventory.views import _linker
from .blueprint import bp

# The portal pages that show findings: acceptances that expired end before they do.
SHOWING_FINDINGS = frozenset({"portal.home", "portal.findings", "portal.finding"})

bp.url_value_preprocessor(larger_uploads)


@bp.before_request
def end_expired_acceptances():
    if request.endpoint in SHOWING_FINDINGS:
        expire_due()


def _found(finding_id: int) -> Finding:
    found = findings.finding_for_contact(db.session, current_user, finding_id)
    if found is None:
        abort(404)
    return found


@bp.get("/findings", endpoint="findings")
def findings_page():
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = findings.findings_of_contact(
        db.session, current_user, page=form.page.data or 1, today=today_utc()
    )
    return render_template(
        "findings/portal_list.html", page=page, url=_linker("portal.findings", {})
    )


def _page(finding_id: int, status: int = 200, **refused):
    """The finding's page; ``refused`` holds a form sent back with its errors (note, file)."""
    with snapshot(db.session):
        detail = findings.finding_detail(db.session, _found(finding_id), today=today_utc())
    forms = {
        "note": NoteForm(formdata=None, prefix="note"),
        "file": FileForm(formdata=None, prefix="file"),
    } | refused
    return render_template(
        "findings/portal_finding.html",
        detail=detail,
        forms=forms,
        allowed=uploads.ALLOWED_TEXT,
    ), status


@bp.get("/findings/<int:finding_id>", endpoint="finding")
def finding_page(finding_id: int):
    return _page(finding_id)


def _back(finding_id: int, anchor: str):
    return redirect(url_for("portal.finding", finding_id=finding_id, _anchor=anchor))


@bp.post("/findings/<int:finding_id>/notes", endpoint="finding_note")
def add_note(finding_id: int):
    return post_note(
        _found(finding_id),
        "Note sent.",
        lambda anchor: _back(finding_id, anchor),
        lambda status, **form: _page(finding_id, status, **form),
    )


@bp.post("/findings/<int:finding_id>/files", endpoint="finding_upload")
def upload_file(finding_id: int):
    return post_file(
        _found(finding_id),
        lambda anchor: _back(finding_id, anchor),
        lambda status, **form: _page(finding_id, status, **form),
    )


@bp.get("/findings/<int:finding_id>/files/<int:file_id>", endpoint="finding_file")
def download_file(finding_id: int, file_id: int):
    return send_file(_found(finding_id), file_id)
