"""Evidence files: uploaded by vendor contacts (and staff filling an intake) for an answer.

A file is accepted only when its content is of a type on the allow-list (read from its bytes,
never from its name or the browser's word) and agrees with its extension, within
``EVIDENCE_MAX_BYTES``. It is stored outside the web root, in ``EVIDENCE_DIR``, under a random
name, with its SHA-256; the name it was uploaded with is kept only for display and download,
cleaned of any path. It is served only as an attachment, with a CSP that allows nothing.

The file on disk follows the transaction: written before the row is flushed and removed again
if the transaction rolls back; a deleted file's bytes are removed only once the deletion is
committed.

The checks and the storage of the files themselves are services.uploads', which findings'
files share.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ...core.questionnaire import model as qmodel
from ...models import (
    Answer,
    AuditAction,
    Evidence,
    QuestionnaireRequest,
    QuestionnaireVersion,
    User,
)
from .. import audit
from ..audit import Actor
from ..uploads import (
    FileRefused,
    follow_transaction,
    path_of,
    receive_file,
    size_text,
)
from . import answers as answers_service
from .answers import AnswerRefused

log = logging.getLogger(__name__)


# ---- what a file is, from its content ------------------------------------------------------


# ---- names ---------------------------------------------------------------------------------


# ---- storing -------------------------------------------------------------------------------


class EvidenceRefused(AnswerRefused):
    """A file refused, with the message at its question."""

    def __init__(self, question_id: str, message: str):
        super().__init__(question_id, message, "invalid")


def _evidence_question(
    session: Session, request: QuestionnaireRequest, question_id: str
) -> tuple[qmodel.Questionnaire, qmodel.Question, dict[str, Answer]]:
    questionnaire = answers_service.questionnaire_of_request(session, request)
    question = answers_service.question_of(questionnaire, question_id)
    if question.type is not qmodel.QuestionType.file and question.evidence is qmodel.Evidence.none:
        raise EvidenceRefused(question_id, "This question asks for no file.")
    answers_service.check_editable(request, question_id)
    stored = answers_service.answers_of(session, request.id)
    answers_service.check_visible(questionnaire, question, stored)
    return questionnaire, question, stored


def store_upload(
    session: Session,
    request: QuestionnaireRequest,
    question_id: str,
    file_storage: FileStorage,
    *,
    actor: Actor,
) -> Evidence:
    """Keep an uploaded file as evidence for a question of the request, or refuse it
    (:class:`EvidenceRefused`, the message for the person uploading): too large, empty, no
    usable name, a type not allowed, or content that is not what its extension says. The
    answer of a file question is its list of files: it follows. Audited."""
    request = answers_service.lock_request(session, request)
    questionnaire, question, stored = _evidence_question(session, request, question_id)
    try:
        received = receive_file(session, file_storage)
    except FileRefused as exc:
        raise EvidenceRefused(question_id, str(exc)) from None
    evidence = Evidence(
        request_id=request.id,
        question_id=question_id,
        filename=received.filename,
        stored_name=received.stored_name,
        sha256=received.sha256,
        size=received.size,
        content_type=received.content_type,
        uploaded_by_id=actor.user_id,
    )
    session.add(evidence)
    session.flush()
    if question.type is qmodel.QuestionType.file:
        _set_files(session, request, questionnaire, stored, question_id, actor=actor)
    audit.record(
        session,
        AuditAction.evidence_uploaded,
        actor=actor,
        object_type="evidence",
        object_id=evidence.id,
        vendor_id=request.vendor_id,
        details={
            "request": request.id,
            "question": question_id,
            "filename": received.filename,
            "size": received.size,
            "sha256": received.sha256,
            "content_type": received.content_type,
        },
    )
    return evidence


def _set_files(
    session: Session,
    request: QuestionnaireRequest,
    questionnaire: qmodel.Questionnaire,
    stored: dict[str, Answer],
    question_id: str,
    *,
    actor: Actor,
) -> None:
    """The answer of a file question: the ids of its files, oldest first."""
    ids = session.scalars(
        sa.select(Evidence.id)
        .where(Evidence.request_id == request.id, Evidence.question_id == question_id)
        .order_by(Evidence.id)
    ).all()
    value = [str(i) for i in ids] or None
    answer = stored.get(question_id)
    comment = answer.comment if answer is not None else ""
    answers_service.write_answer(session, request, stored, question_id, value, comment, actor)
    answers_service.recount(request, questionnaire, stored)
    answers_service.after_change(session, request, actor=actor)
    session.flush()


def delete_evidence(
    session: Session, request: QuestionnaireRequest, evidence: Evidence, *, actor: Actor
) -> None:
    """Remove a file while the request is open for answers (AnswerRefused otherwise); its
    bytes go once the transaction commits. Audited."""
    request = answers_service.lock_request(session, request)
    questionnaire = answers_service.questionnaire_of_request(session, request)
    answers_service.check_editable(request, evidence.question_id)
    question_id = evidence.question_id
    details = {
        "request": request.id,
        "question": question_id,
        "filename": evidence.filename,
        "sha256": evidence.sha256,
    }
    evidence_id = evidence.id
    follow_transaction(session)["doomed"].append(path_of(evidence))
    session.delete(evidence)
    session.flush()
    try:
        question = questionnaire.question(question_id)
    except KeyError:
        question = None
    if question is not None and question.type is qmodel.QuestionType.file:
        stored = answers_service.answers_of(session, request.id)
        _set_files(session, request, questionnaire, stored, question_id, actor=actor)
    audit.record(
        session,
        AuditAction.evidence_deleted,
        actor=actor,
        object_type="evidence",
        object_id=evidence_id,
        vendor_id=request.vendor_id,
        details=details,
    )


# ---- reading -------------------------------------------------------------------------------


def evidence_of_request(
    session: Session, request: QuestionnaireRequest, evidence_id: int
) -> Evidence | None:
    """One file of this request (None for another request's: the caller found the request
    through the query that confines its user)."""
    return session.scalar(
        sa.select(Evidence).where(Evidence.id == evidence_id, Evidence.request_id == request.id)
    )


def evidence_for_contact(session: Session, user: User, evidence_id: int) -> Evidence | None:
    """A file of one of the contact's vendor's requests that the contact may see; None for
    any other (404)."""
    if user.vendor_id is None:
        return None
    return session.scalar(
        sa.select(Evidence)
        .join(QuestionnaireRequest, QuestionnaireRequest.id == Evidence.request_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            Evidence.id == evidence_id,
            QuestionnaireRequest.vendor_id == user.vendor_id,
            QuestionnaireRequest.status.not_in(answers_service.HIDDEN_FROM_VENDORS),
            answers_service.audience_is(qmodel.Audience.vendor),
        )
    )


def record_download(session: Session, evidence: Evidence, *, actor: Actor) -> None:
    """Audit who fetched a file (evidence can be a vendor's most sensitive document); 404
    when the file is gone from the disk, before anything is recorded."""
    if not path_of(evidence).is_file():
        log.warning("evidence %s: file %s is missing", evidence.id, evidence.stored_name)
        abort(404)
    request = session.get(QuestionnaireRequest, evidence.request_id)
    audit.record(
        session,
        AuditAction.evidence_downloaded,
        actor=actor,
        object_type="evidence",
        object_id=evidence.id,
        vendor_id=request.vendor_id,
        details={
            "request": evidence.request_id,
            "question": evidence.question_id,
            "filename": evidence.filename,
        },
    )


def describe(evidence: Evidence) -> dict[str, Any]:
    """What a page or the autosave script shows of a file."""
    return {
        "id": evidence.id,
        "filename": evidence.filename,
        "size": evidence.size,
        "size_text": size_text(evidence.size),
        "uploaded_at": evidence.uploaded_at.strftime("%Y-%m-%d %H:%M"),
    }
