"""Filling a questionnaire: the pages and endpoints the vendor portal and the intake share.

The two differ only in who may open which request (:class:`Place`): a vendor contact reaches
their vendor's requests through a query filtered by that vendor, staff reach internal
questionnaires. Everything else, the form, autosave, files and submission, is the same code,
saving through services.answers and services.evidence.

Without JavaScript each section's Save button posts the whole section; with it
(static/js/autosave.js) each answer is saved as it is given, by the JSON endpoint below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import RequestEntityTooLarge

from ...core.questionnaire import model as qmodel
from ...core.questionnaire.markup import plain
from ...db import db, expect_writes, row_id
from ...models import Answer, QuestionnaireRequest
from ...services import ValidationFailed, uploads
from ...services.questionnaires import answers as answers_service
from ...services.questionnaires import evidence as evidence_service
from ...services.questionnaires.answers import AnswerRefused, Missing, SubmitRefused
from ..access import request_actor
from .forms import (
    ANSWER,
    COMMENT,
    FILES,
    SHOWN,
    VERSION,
    ConfirmForm,
    PayloadError,
    autosave_payload,
    section_answers,
)

# Radio buttons up to this many options; a select above (a long list of radios is hard to scan).
RADIO_MAX = 6
# A section posts four fields per question (answer, comment, version, shown) and one per box.
SECTION_FORM_PARTS = 20_000


@dataclass(frozen=True)
class Place:
    """Where a questionnaire is filled: the blueprint's name and how it finds a request for
    the signed-in user (None: 404)."""

    name: str
    find: Callable[[int], QuestionnaireRequest | None]
    back_label: str


# ---- what the page shows -------------------------------------------------------------------


def answer_text(question: qmodel.Question, value: Any) -> str:
    """An answer in words (option labels, not values), as plain text."""
    if value is None or value == "" or value == []:
        return ""
    if question.type.has_options:
        chosen = value if isinstance(value, list | tuple) else [value]
        labels = []
        for item in chosen:
            option = question.option(str(item))
            labels.append(plain(option.label) if option else str(item))
        return ", ".join(labels)
    if question.type is qmodel.QuestionType.file:
        count = len(value) if isinstance(value, list | tuple) else 1
        return f"{count} file{'s' if count != 1 else ''}"
    return str(value)


def conditions_document(questionnaire: qmodel.Questionnaire) -> dict[str, Any]:
    """What the autosave script needs to apply show-if live: the questions in order and the
    condition of those that have one. Nothing else (no weight, score or control)."""
    return {
        "order": [q.id for q in questionnaire.questions],
        "conditions": {q.id: q.show_if.to_document() for q in questionnaire.questions if q.show_if},
    }


@dataclass
class PageState:
    """What the form page shows beyond the stored answers: what a refused post typed, and
    the messages at each question."""

    typed: dict[str, tuple[Any, str | None]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    message: str | None = None


def _page(place: Place, req: QuestionnaireRequest, state: PageState | None = None, status=200):
    state = state or PageState()
    session = db.session
    questionnaire = answers_service.questionnaire_of_request(session, req)
    answers = answers_service.answers_of(session, req.id)
    files = answers_service.evidence_of(session, req.id)
    values = answers_service.values_of(answers)
    # Visibility as the page shows it: with what a refused post typed.
    for qid, (raw, _comment) in state.typed.items():
        values[qid] = raw
    visible = answers_service.visible_ids(questionnaire, values)
    progress = answers_service.progress_of(questionnaire, answers)
    reason = answers_service.read_only_reason(req)
    # What the reviewer asked, while the vendor can still act on it.
    clarifications = (
        answers_service.clarifications_of(questionnaire, answers) if reason is None else []
    )
    return render_template(
        "portal/request.html",
        place=place.name,
        back_label=place.back_label,
        vendor_name=answers_service.vendor_name(session, req),
        req=req,
        questionnaire=questionnaire,
        answers=answers,
        files={qid: [evidence_service.describe(e) for e in rows] for qid, rows in files.items()},
        visible=visible,
        progress=progress,
        editable=reason is None,
        read_only_reason=reason,
        clarifications=clarifications,
        state=state,
        conditions=conditions_document(questionnaire),
        answer_text=answer_text,
        radio_max=RADIO_MAX,
        fields={
            "answer": ANSWER,
            "comment": COMMENT,
            "version": VERSION,
            "shown": SHOWN,
            "files": FILES,
        },
        max_bytes_text=uploads.limit_text(uploads.max_bytes()),
        allowed_text=uploads.ALLOWED_TEXT,
        confirm=ConfirmForm(),
        plain=plain,
    ), status


def _found(place: Place, request_id: int) -> QuestionnaireRequest:
    req = place.find(request_id)
    if req is None:
        abort(404)
    return req


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def _to_page(place: Place, req: QuestionnaireRequest, anchor: str | None = None):
    return redirect(
        url_for(f"{place.name}.fill", request_id=req.id, _anchor=anchor)
        if anchor
        else url_for(f"{place.name}.fill", request_id=req.id)
    )


# ---- the views -----------------------------------------------------------------------------


def fill(place: Place, request_id: int):
    return _page(place, _found(place, request_id))


def save_section(place: Place, request_id: int, section_id: str):
    """The no-JavaScript save of a whole section: its answers, the files chosen in it, and a
    file removed by its button, all or nothing."""
    req = _found(place, request_id)
    questionnaire = answers_service.questionnaire_of_request(db.session, req)
    section = next((s for s in questionnaire.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    submitted = section_answers(section, request.form)
    remove = request.form.get("remove_file")
    target = None
    if remove is not None:
        remove_id = row_id(remove)
        if remove_id is not None:
            target = evidence_service.evidence_of_request(db.session, req, remove_id)
        if target is None:
            abort(404)
    actor = request_actor()
    state = PageState(typed={k: (v, c) for k, (v, c, _b) in submitted.items()})
    try:
        saved = answers_service.save_section(db.session, req, section.id, submitted, actor=actor)
        for question in section.questions:
            for upload in request.files.getlist(FILES + question.id):
                if upload.filename:
                    evidence_service.store_upload(db.session, req, question.id, upload, actor=actor)
        if target is not None:
            evidence_service.delete_evidence(db.session, req, target, actor=actor)
    except ValidationFailed as exc:
        db.session.rollback()
        state.errors = exc.errors
        if any(request.files.getlist(FILES + q.id) for q in section.questions):
            state.message = "Nothing in this section was saved: correct what is shown, then "
            state.message += "choose your files again (browsers do not keep them)."
        else:
            state.message = "Nothing in this section was saved: correct what is shown."
        return _page(place, _found(place, request_id), state, 400)
    db.session.commit()
    if saved.conflicts:
        for qid, conflict in saved.conflicts.items():
            question = questionnaire.question(qid)
            shown = answer_text(question, conflict.value) or "no answer"
            state.errors[qid] = [
                f"{conflict.saved_by} changed this answer at "
                f"{conflict.saved_at.strftime('%Y-%m-%d %H:%M')} UTC while you were editing: "
                f"it is now “{shown}”"
                + (f" (comment: “{conflict.comment}”)" if conflict.comment else "")
                + ". Your answer is below, not saved: save again to replace theirs."
            ]
            state.versions[qid] = conflict.version
        state.typed = {k: v for k, v in state.typed.items() if k in saved.conflicts}
        state.message = (
            "Someone else changed answers of this section while you were editing: "
            "the others were saved; check the ones marked."
        )
        return _page(place, _found(place, request_id), state, 409)
    flash(f"{plain(section.title)}: saved.", "success")
    return _to_page(place, req, f"section-{section.id}")


def save_answer(place: Place, request_id: int, question_id: str):
    """One answer saved by the autosave script (JSON in, JSON out)."""
    req = place.find(request_id)
    if req is None:
        return jsonify(status="not_found", message="This questionnaire is not yours to fill."), 404
    try:
        value, comment, base = autosave_payload(request.get_json(silent=True))
    except PayloadError as exc:
        return jsonify(status="bad_request", message=str(exc)), 400
    try:
        result = answers_service.save_answer(
            db.session,
            req,
            question_id,
            value=value,
            comment=comment,
            base_version=base,
            actor=request_actor(),
        )
    except AnswerRefused as exc:
        db.session.rollback()
        status = {"unknown": 404, "read_only": 409}.get(exc.reason, 422)
        return jsonify(status=exc.reason, message=exc.message), status
    db.session.commit()
    body = {
        "status": result.status,
        "version": result.version,
        "answered": result.answered_count,
        "asked": result.question_count,
    }
    if result.conflict is not None:
        conflict = result.conflict
        questionnaire = answers_service.questionnaire_of_request(db.session, req)
        body["message"] = f"{conflict.saved_by} changed this answer while you were editing."
        body["current"] = {
            "value": conflict.value,
            "text": answer_text(questionnaire.question(question_id), conflict.value),
            "comment": conflict.comment,
            "version": conflict.version,
            "saved_by": conflict.saved_by,
            "saved_at": conflict.saved_at.strftime("%Y-%m-%d %H:%M UTC"),
        }
        return jsonify(body), 409
    return jsonify(body), 200


def upload(place: Place, request_id: int, question_id: str):
    """One or more files for a question: JSON for the script, back to the page otherwise."""
    req = _found(place, request_id)
    uploads = [f for f in request.files.getlist("file") if f.filename]
    if not uploads:
        return _refused_upload(place, req, question_id, "Choose a file to upload.", 400)
    stored = []
    try:
        for item in uploads:
            stored.append(
                evidence_service.store_upload(
                    db.session, req, question_id, item, actor=request_actor()
                )
            )
    except AnswerRefused as exc:
        db.session.rollback()
        status = 404 if exc.reason == "unknown" else (409 if exc.reason == "read_only" else 422)
        return _refused_upload(place, req, question_id, exc.message, status)
    db.session.commit()
    if _wants_json():
        return jsonify(
            status="saved",
            files=[_file_json(place, req, e) for e in stored],
            **_counts(req),
            version=_answer_version(req, question_id),
        )
    flash(f"{len(stored)} file{'s' if len(stored) != 1 else ''} uploaded.", "success")
    return _to_page(place, req, answers_service.question_anchor(question_id))


def _refused_upload(place: Place, req, question_id: str, message: str, status: int):
    if _wants_json():
        return jsonify(status="refused", message=message), status
    if status == 404:
        abort(404)
    state = PageState(errors={question_id: [message]}, message="The file was not uploaded.")
    return _page(place, _found(place, req.id), state, status)


def _counts(req: QuestionnaireRequest) -> dict[str, int]:
    fresh = db.session.get(QuestionnaireRequest, req.id)
    return {"answered": fresh.answered_count, "asked": fresh.question_count}


def _answer_version(req: QuestionnaireRequest, question_id: str) -> int:
    answer = db.session.get(Answer, (req.id, question_id))
    return answer.version if answer is not None else 0


def _file_json(place: Place, req: QuestionnaireRequest, evidence) -> dict[str, Any]:
    return {
        **evidence_service.describe(evidence),
        "download_url": url_for(
            f"{place.name}.download", request_id=req.id, evidence_id=evidence.id
        ),
        "delete_url": url_for(
            f"{place.name}.delete_file", request_id=req.id, evidence_id=evidence.id
        ),
    }


def delete_file(place: Place, request_id: int, evidence_id: int):
    req = _found(place, request_id)
    target = evidence_service.evidence_of_request(db.session, req, evidence_id)
    if target is None:
        abort(404)
    question_id = target.question_id
    try:
        evidence_service.delete_evidence(db.session, req, target, actor=request_actor())
    except AnswerRefused as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify(status="read_only", message=exc.message), 409
        flash(exc.message, "error")
        return _to_page(place, req)
    db.session.commit()
    if _wants_json():
        return jsonify(status="deleted", **_counts(req), version=_answer_version(req, question_id))
    flash("File removed.", "success")
    return _to_page(place, req, answers_service.question_anchor(question_id))


def download(place: Place, request_id: int, evidence_id: int):
    req = _found(place, request_id)
    target = evidence_service.evidence_of_request(db.session, req, evidence_id)
    if target is None:
        abort(404)
    expect_writes(db.session)  # the download is audited
    evidence_service.record_download(db.session, target, actor=request_actor())
    db.session.commit()
    return uploads.send_evidence(target)


def submit(place: Place, request_id: int):
    req = _found(place, request_id)
    try:
        moved = answers_service.submit(db.session, req, actor=request_actor())
    except SubmitRefused as exc:
        db.session.rollback()
        state = PageState(
            missing=exc.missing,
            errors={m.question_id: [m.message] for m in exc.missing},
            message=exc.message,
        )
        return _page(place, _found(place, request_id), state, 400 if exc.missing else 409)
    db.session.commit()
    if moved:
        flash("Submitted: thank you. The answers are now read-only.", "success")
    else:
        flash("This questionnaire was submitted already.", "info")
    return _to_page(place, req)


def token():
    """A fresh CSRF token for the autosave script, after its user logged in again in another
    tab (the token of the old session is no longer valid)."""
    return jsonify(csrf_token=generate_csrf())


# ---- wiring --------------------------------------------------------------------------------


def _larger_bodies(endpoint: str | None, values: dict | None) -> None:
    """Uploads may be larger than the app's usual request limit: raise it for them only,
    before anything reads the body (the CSRF check does)."""
    if endpoint is None:
        return
    name = endpoint.rpartition(".")[2]
    if name in ("upload", "save_section"):
        limit = uploads.max_request_bytes()
        request.max_content_length = max(limit, current_app.config["MAX_CONTENT_LENGTH"] or 0)
    if name == "save_section":
        request.max_form_parts = SECTION_FORM_PARTS


def _too_large(error: RequestEntityTooLarge):
    message = uploads.too_large_message().replace("this one is", "what you sent is")
    message += " Nothing was saved."
    if _wants_json() or (request.endpoint or "").endswith(".upload"):
        return jsonify(status="refused", message=message), 413
    return render_template("error.html", status=413, title="Too large", message=message), 413


def register(bp: Blueprint, place: Place, base: str) -> None:
    """The routes of filling a request, under ``base`` (which holds ``<int:request_id>``)."""

    def bind(view: Callable) -> Callable:
        def endpoint(**kwargs):
            return view(place, **kwargs)

        endpoint.__name__ = view.__name__
        endpoint.__doc__ = view.__doc__
        return endpoint

    bp.add_url_rule(base, "fill", bind(fill), methods=["GET"])
    bp.add_url_rule(
        f"{base}/sections/<section_id>", "save_section", bind(save_section), methods=["POST"]
    )
    bp.add_url_rule(
        f"{base}/answers/<question_id>", "save_answer", bind(save_answer), methods=["POST"]
    )
    bp.add_url_rule(f"{base}/answers/<question_id>/files", "upload", bind(upload), methods=["POST"])
    bp.add_url_rule(f"{base}/files/<int:evidence_id>", "download", bind(download), methods=["GET"])
    bp.add_url_rule(
        f"{base}/files/<int:evidence_id>/delete",
        "delete_file",
        bind(delete_file),
        methods=["POST"],
    )
    bp.add_url_rule(f"{base}/submit", "submit", bind(submit), methods=["POST"])
    bp.add_url_rule("/token", "token", token, methods=["GET"])
    bp.url_value_preprocessor(_larger_bodies)
    bp.add_app_template_filter(plain, "plain_text")
    bp.register_error_handler(RequestEntityTooLarge, _too_large)
