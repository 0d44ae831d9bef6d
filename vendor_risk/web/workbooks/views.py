"""The workbook of a request: a page to download it and upload it back, for vendor contacts
(``/portal/requests/<id>/workbook``, their own vendor's requests only: any other id is 404) and
for procurement and risk officers (``/requests/<id>/workbook``). Thin: the services load,
check, save and audit; the view commits once."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from ...db import db, expect_writes
from ...models import QuestionnaireRequest, Role
from ...services.questionnaires import answers, workbooks
from ...services.questionnaires.request_status import VENDOR_EDITABLE
from ..access import area, request_actor
from .forms import WorkbookForm

portal_bp = area(
    "portal_workbooks", __name__, roles={Role.vendor_contact}, url_prefix="/portal/requests"
)
staff_bp = area(
    "request_workbooks",
    __name__,
    roles={Role.procurement, Role.risk_officer},
    url_prefix="/requests",
)

# Files downloaded from the app are never rendered by the browser as a page.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _contact_request(request_id: int) -> QuestionnaireRequest | None:
    return answers.request_for_contact(db.session, current_user, request_id)


def _staff_request(request_id: int) -> QuestionnaireRequest | None:
    return workbooks.request_for_staff(db.session, request_id)


def _loaded(find: Callable[[int], QuestionnaireRequest | None], request_id: int):
    request = find(request_id)
    if request is None:
        abort(404)
    return request


def _back(area_name: str, request_id: int) -> tuple[str, str]:
    """Where the page links back to: the request's own page."""
    if area_name == "portal_workbooks":
        return url_for("portal.fill", request_id=request_id), "Back to the questionnaire"
    return url_for("requests.show", request_id=request_id), "Back to the request"


def _page(area_name: str, request: QuestionnaireRequest, form: WorkbookForm, report=None):
    version = answers.version_of(db.session, request)
    back_url, back_label = _back(area_name, request.id)
    refused = (report is not None and not report.ok) or bool(form.errors)
    return render_template(
        "workbooks/workbook.html",
        area=area_name,
        request_id=request.id,
        title=version.title,
        status=request.status,
        editable=request.status in VENDOR_EDITABLE,
        read_only_reason=answers.read_only_reason(request),
        staff=area_name == "request_workbooks",
        form=form,
        report=report,
        back_url=back_url,
        back_label=back_label,
    ), (400 if refused else 200)


def _download(request: QuestionnaireRequest):
    expect_writes(db.session)  # the download is audited
    workbook = workbooks.export_request(db.session, request, actor=request_actor())
    db.session.commit()
    response = send_file(
        BytesIO(workbook.data),
        mimetype=workbooks.MEDIA_TYPE,
        as_attachment=True,
        download_name=workbook.filename,
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def _upload(area_name: str, request: QuestionnaireRequest):
    form = WorkbookForm()
    if not form.validate_on_submit():
        return _page(area_name, request, form)
    data = form.file.data.read(workbooks.MAX_BYTES + 1)
    report = workbooks.import_request(db.session, request, data, actor=request_actor())
    if not report.ok:
        db.session.rollback()
        return _page(area_name, request, form, report)
    db.session.commit()
    changed = report.changed
    flash(
        f"Workbook imported: {changed} answer{'s' * (changed != 1)} changed"
        f" ({report.answers} read).",
        "success",
    )
    return redirect(url_for(f"{area_name}.page", request_id=request.id))


# ---- vendor contacts -------------------------------------------------------------------------


@portal_bp.get("/<int:request_id>/workbook")
def page(request_id: int):
    return _page("portal_workbooks", _loaded(_contact_request, request_id), WorkbookForm())


@portal_bp.get("/<int:request_id>/workbook.xlsx")
def download(request_id: int):
    return _download(_loaded(_contact_request, request_id))


@portal_bp.post("/<int:request_id>/workbook")
def upload(request_id: int):
    return _upload("portal_workbooks", _loaded(_contact_request, request_id))


# ---- procurement and risk officers -----------------------------------------------------------


@staff_bp.get("/<int:request_id>/workbook", endpoint="page")
def staff_page(request_id: int):
    return _page("request_workbooks", _loaded(_staff_request, request_id), WorkbookForm())


@staff_bp.get("/<int:request_id>/workbook.xlsx", endpoint="download")
def staff_download(request_id: int):
    return _download(_loaded(_staff_request, request_id))


@staff_bp.post("/<int:request_id>/workbook", endpoint="upload")
def staff_upload(request_id: int):
    return _upload("request_workbooks", _loaded(_staff_request, request_id))
