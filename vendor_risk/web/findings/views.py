"""The findings pages of staff: the list, a new manual finding, one finding with its notes,
files and risk acceptances, and the actions on it.

Procurement and risk officers read; only risk officers write (one guard for the area, below).
Thin views: parse the form, call ``services.findings``, render; the view commits once. Refused
forms answer 400 with the errors at their fields; a step the finding's state refuses (accepted
already, changed meanwhile) answers 409 on the finding's page with the reason.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from ...db import SAFE_METHODS, db, expect_writes, snapshot, today_utc
from ...models import Finding, Role
from ...services import EditConflict, ValidationFailed, findings, uploads
from ..access import area, deny, request_actor
from ..inventory.views import _filter_args, _found, _linker, _show_errors, _submit
from .forms import (
    AcceptForm,
    EndAcceptanceForm,
    FileForm,
    FindingFilterForm,
    FindingForm,
    NewFindingForm,
    NoteForm,
    StatusForm,
)

bp = area("findings", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/findings")

WRITERS = frozenset({Role.risk_officer})
# Pages that only show a form to write with: refused to readers like the writes themselves.
WRITE_PAGES = frozenset({"findings.new_finding", "findings.edit_finding"})
FILTERS = ("status", "severity", "vendor_id", "overdue", "to_remediate", "age", "sort", "direction")
UPLOADS = frozenset({"findings.upload_file", "portal.finding_upload"})


# ---- shared with the portal's findings pages ------------------------------------------------


def expire_due() -> None:
    """End the risk acceptances that expired and reopen their findings, before a findings
    page shows them (cron may not run, or not yet today). A cheap read decides; only then
    does the request take the write lock and commit the expiry on its own."""
    today = today_utc()
    if not findings.acceptances_due(db.session, today):
        return
    expect_writes(db.session)
    findings.expire_acceptances(db.session, today)
    db.session.commit()


def larger_uploads(endpoint: str | None, values: dict | None) -> None:
    """Files may be as large as answers' evidence, above the app's usual request limit: raise
    it for the upload routes only, before anything reads the body (the CSRF check does)."""
    if endpoint in UPLOADS:
        limit = uploads.max_request_bytes()
        request.max_content_length = max(limit, current_app.config["MAX_CONTENT_LENGTH"] or 0)


bp.url_value_preprocessor(larger_uploads)


def post_note(finding: Finding, sent: str, back, page):
    """A note on the finding from the posted form (staff and portal alike): ``back(anchor)``
    after it is stored, with the flash ``sent``; ``page(400, note=form)`` with the errors at
    the field otherwise."""
    form = NoteForm(prefix="note")
    if form.validate():
        try:
            findings.add_note(db.session, finding, form.body.data, actor=request_actor())
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(sent, "success")
            return back("notes")
    return page(400, note=form)


def post_file(finding: Finding, back, page):
    """A file attached to the finding from the posted form, as :func:`post_note`."""
    form = FileForm(prefix="file")
    if form.validate():
        try:
            findings.add_file(
                db.session, finding, form.file.data or FileStorage(), actor=request_actor()
            )
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("File uploaded.", "success")
            return back("files")
    return page(400, file=form)


def send_file(finding: Finding, file_id: int):
    """One of the finding's files, its download audited; 404 when it is not the finding's."""
    stored = _found(findings.file_of(db.session, finding, file_id))
    expect_writes(db.session)
    findings.record_file_download(db.session, finding, stored, actor=request_actor())
    db.session.commit()
    return uploads.send_evidence(stored)


@bp.before_request
def only_risk_officers_write():
    """Procurement follows findings; writing them is the risk officers' job."""
    writes = request.method not in SAFE_METHODS or request.endpoint in WRITE_PAGES
    if writes and not current_user.roles & WRITERS:
        deny()


bp.before_request(expire_due)


# ---- the list --------------------------------------------------------------------------------


@bp.get("/")
def index():
    form = FindingFilterForm(request.args)
    page = None
    sort = form.sort.data or "due_on"
    descending = form.direction.data == "desc"
    if form.validate():
        page = findings.search_findings(
            db.session,
            status=form.status.data,
            severity=form.severity.data,
            vendor_id=form.vendor_id.data,
            overdue=form.overdue.data,
            to_remediate=form.to_remediate.data,
            age=form.age.data,
            sort=sort,
            descending=descending,
            page=form.page.data or 1,
            today=today_utc(),
        )
    return render_template(
        "findings/index.html",
        form=form,
        page=page,
        sort=sort,
        descending=descending,
        may_write=bool(current_user.roles & WRITERS),
        url=_linker("findings.index", _filter_args(FILTERS, form)),
    ), (200 if page is not None else 400)


# ---- writing a finding ---------------------------------------------------------------------


def _new_form(**kwargs) -> NewFindingForm:
    form = NewFindingForm(**kwargs)
    return form


@bp.route("/new", methods=["GET", "POST"])
def new_finding():
    """A manual finding; ``?vendor_id=`` chooses the vendor (the link from a vendor's page)."""
    if request.method == "GET":
        vendor_id = request.args.get("vendor_id", type=int)
        form = _new_form(formdata=None, vendor_id=vendor_id)
        return render_template("findings/form.html", form=form, finding=None)
    form = _new_form()
    created = _submit(
        form,
        lambda values: findings.finding_problems(values, today=today_utc()),
        lambda values: findings.create_finding(
            db.session, form.vendor_id.data, values, actor=request_actor(), today=today_utc()
        ),
    )
    if created is None:
        return render_template("findings/form.html", form=form, finding=None), 400
    flash("Finding opened.", "success")
    return redirect(url_for("findings.finding", finding_id=created.id))


def _locked(finding_id: int) -> Finding:
    return _found(findings.get_finding(db.session, finding_id, for_update=True))


@bp.route("/<int:finding_id>/edit", methods=["GET", "POST"])
def edit_finding(finding_id: int):
    if request.method == "GET":
        finding = _found(findings.get_finding(db.session, finding_id))
        form = FindingForm(obj=finding)
        return render_template("findings/form.html", form=form, finding=finding)
    finding = _locked(finding_id)
    form = FindingForm()
    changed = _submit(
        form,
        lambda values: findings.finding_problems(values, finding=finding, today=today_utc()),
        lambda values: findings.update_finding(
            db.session,
            finding,
            values,
            expected_version=form.expected_version or 0,
            actor=request_actor(),
            today=today_utc(),
        ),
    )
    if changed is None:
        return render_template("findings/form.html", form=form, finding=finding), 400
    flash("Finding saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("findings.finding", finding_id=finding_id))


# ---- one finding ---------------------------------------------------------------------------


def _finding_page(finding_id: int, status: int = 200, **refused):
    """The finding's page; ``refused`` holds a form sent back with its errors (by name:
    status, accept, end, note, file), which replaces the empty one."""
    with snapshot(db.session):
        finding = _found(findings.get_finding(db.session, finding_id))
        detail = findings.finding_detail(db.session, finding, today=today_utc())
    version = {"version": detail.version}
    forms = {
        "status": StatusForm(formdata=None, prefix="move", **version),
        "accept": AcceptForm(formdata=None, prefix="accept", **version),
        "end": EndAcceptanceForm(formdata=None, prefix="end", **version),
        "note": NoteForm(formdata=None, prefix="note"),
        "file": FileForm(formdata=None, prefix="file"),
    } | refused
    return render_template(
        "findings/finding.html",
        detail=detail,
        forms=forms,
        may_write=bool(current_user.roles & WRITERS),
        max_days=current_app.config["FINDING_ACCEPTANCE_MAX_DAYS"],
    ), status


@bp.get("/<int:finding_id>")
def finding(finding_id: int):
    return _finding_page(finding_id)


def _refused(finding_id: int, message: str):
    db.session.rollback()
    flash(message, "error")
    return _finding_page(finding_id, 409)


def _state_refusal(exc: Exception) -> str:
    if isinstance(exc, EditConflict):
        return " ".join(exc.errors[""])
    return str(exc)


def _back(finding_id: int, anchor: str | None = None):
    return redirect(url_for("findings.finding", finding_id=finding_id, _anchor=anchor))


@bp.post("/<int:finding_id>/status")
def change_status(finding_id: int):
    finding = _locked(finding_id)
    form = StatusForm(prefix="move")
    if not form.validate() or form.expected_version is None:
        abort(400)
    try:
        findings.change_status(
            db.session,
            finding,
            form.status.data,
            expected_version=form.expected_version,
            actor=request_actor(),
        )
    except (findings.TransitionRefused, EditConflict) as exc:
        return _refused(finding_id, _state_refusal(exc))
    db.session.commit()
    flash(f"The finding is now {form.status.data.label}.", "success")
    return _back(finding_id)


@bp.post("/<int:finding_id>/accept")
def accept_risk(finding_id: int):
    finding = _locked(finding_id)
    form = AcceptForm(prefix="accept")
    if form.expected_version is None:
        abort(400)  # no version: not a form of this page
    if form.validate():
        try:
            acceptance = findings.accept_risk(
                db.session,
                finding,
                justification=form.justification.data,
                expires_on=form.expires_on.data,
                expected_version=form.expected_version,
                actor=request_actor(),
                today=today_utc(),
            )
        except (findings.TransitionRefused, EditConflict) as exc:
            return _refused(finding_id, _state_refusal(exc))
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"Risk accepted until {acceptance.expires_on.isoformat()}.", "success")
            return _back(finding_id)
    return _finding_page(finding_id, 400, accept=form)


@bp.post("/<int:finding_id>/end-acceptance")
def end_acceptance(finding_id: int):
    finding = _locked(finding_id)
    form = EndAcceptanceForm(prefix="end")
    if not form.validate() or form.expected_version is None:
        abort(400)
    try:
        findings.end_acceptance(
            db.session, finding, expected_version=form.expected_version, actor=request_actor()
        )
    except (findings.TransitionRefused, EditConflict) as exc:
        return _refused(finding_id, _state_refusal(exc))
    db.session.commit()
    flash("Acceptance withdrawn: the finding is open again.", "success")
    return _back(finding_id)


@bp.post("/<int:finding_id>/notes")
def add_note(finding_id: int):
    return post_note(
        _locked(finding_id),
        "Note added.",
        lambda anchor: _back(finding_id, anchor),
        lambda status, **form: _finding_page(finding_id, status, **form),
    )


@bp.post("/<int:finding_id>/files")
def upload_file(finding_id: int):
    return post_file(
        _locked(finding_id),
        lambda anchor: _back(finding_id, anchor),
        lambda status, **form: _finding_page(finding_id, status, **form),
    )


@bp.get("/<int:finding_id>/files/<int:file_id>")
def download_file(finding_id: int, file_id: int):
    return send_file(_found(findings.get_finding(db.session, finding_id)), file_id)
