"""Evidence files: uploaded by vendor contacts (and staff filling an intake) for an answer.

A file is accepted only when its content is of a type on the allow-list (read from its bytes,
never from its name or the browser's word) and agrees with its extension, within
``EVIDENCE_MAX_BYTES``. It is stored outside the web root, in ``EVIDENCE_DIR``, under a random
name, with its SHA-256; the name it was uploaded with is kept only for display and download,
cleaned of any path. It is served only as an attachment, with a CSP that allows nothing.

The file on disk follows the transaction: written before the row is flushed and removed again
if the transaction rolls back; a deleted file's bytes are removed only once the deletion is
committed.

Files attached to findings (services.findings) go through the same checks and storage:
:func:`receive_file`, :func:`path_of` and :func:`send_evidence` serve both.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Response, abort, current_app, send_file
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from .. import audit
from ..audit import Actor
from ..models import (
    Answer,
    AuditAction,
    Evidence,
    FindingFile,
    QuestionnaireRequest,
    QuestionnaireVersion,
    User,
)
from ..questionnaire import model as qmodel
from . import answers as answers_service
from .answers import AnswerRefused

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
FILENAME_MAX = 255
# Office files are zip archives: bounded before anything is read from them (zip bombs).
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_UNCOMPRESSED = 500 * 1024 * 1024
CONTENT_TYPES_MAX = 1024 * 1024
# Nothing may run, load or be framed from a served file.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


# ---- what a file is, from its content ------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    name: str  # as people say it
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("PDF", "application/pdf", (".pdf",))
PNG = FileKind("PNG image", "image/png", (".png",))
JPEG = FileKind("JPEG image", "image/jpeg", (".jpg", ".jpeg"))
TEXT = FileKind("text", "text/plain", (".txt",))
CSV = FileKind("CSV", "text/csv", (".csv",))
DOCX = FileKind(
    "Word document (DOCX)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = FileKind(
    "Excel workbook (XLSX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
KINDS = (PDF, PNG, JPEG, TEXT, CSV, DOCX, XLSX)
BY_EXTENSION = {ext: kind for kind in KINDS for ext in kind.extensions}
ALLOWED_TEXT = "PDF, PNG, JPEG, text (.txt), CSV, Word (.docx) or Excel (.xlsx)"
# The main part of each office document type, as [Content_Types].xml names it: macro-enabled
# variants (.docm, .xlsm) name another and are refused.
_OFFICE_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}


def _starts(signature: bytes) -> Callable[[bytes, Path], bool]:
    return lambda head, path: head.startswith(signature)


# NUL and the control characters no text file carries (tab, line breaks, form feed are fine).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _is_text(head: bytes, path: Path) -> bool:
    """UTF-8 text without NUL or other control characters than tab and line breaks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                if _CONTROL_BYTES.search(chunk):
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _office(kind: FileKind) -> Callable[[bytes, Path], bool]:
    def check(head: bytes, path: Path) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                entries = archive.infolist()
                if len(entries) > ZIP_MAX_ENTRIES:
                    return False
                if sum(e.file_size for e in entries) > ZIP_MAX_UNCOMPRESSED:
                    return False
                types = next((e for e in entries if e.filename == "[Content_Types].xml"), None)
                if types is None or types.file_size > CONTENT_TYPES_MAX:
                    return False
                with archive.open(types) as fh:
                    content = fh.read(CONTENT_TYPES_MAX + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
            return False
        return _OFFICE_MAIN[kind] in content

    return check


_MATCHES: dict[FileKind, Callable[[bytes, Path], bool]] = {
    PDF: _starts(b"%PDF-"),
    PNG: _starts(b"\x89PNG\r\n\x1a\n"),
    JPEG: _starts(b"\xff\xd8\xff"),
    TEXT: _is_text,
    CSV: _is_text,
    DOCX: _office(DOCX),
    XLSX: _office(XLSX),
}


def content_matches(kind: FileKind, path: Path) -> bool:
    """Whether the file's bytes are of ``kind``."""
    with path.open("rb") as fh:
        head = fh.read(16)
    return bool(head) and _MATCHES[kind](head, path)


# ---- names ---------------------------------------------------------------------------------


def display_name(filename: str | None) -> str:
    """The name a file is shown and downloaded with: the last part of whatever path the
    browser sent (``../../x.pdf`` is ``x.pdf``), without control characters or leading dots,
    in NFC, within 255 characters with its extension kept. Empty when nothing is left."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem or name)[: FILENAME_MAX - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return name


def ascii_name(name: str) -> str:
    """A safe ASCII spelling of a file name, for clients that read no other."""
    return secure_filename(name) or "evidence"


# ---- storing -------------------------------------------------------------------------------


class FileRefused(ValueError):
    """An uploaded file refused: the message is for the person uploading it."""


class EvidenceRefused(AnswerRefused):
    """A file refused, with the message at its question."""

    def __init__(self, question_id: str, message: str):
        super().__init__(question_id, message, "invalid")


@dataclass(frozen=True)
class ReceivedFile:
    """An upload that passed the checks, on disk under ``stored_name``: what its row keeps."""

    filename: str  # as uploaded, cleaned (:func:`display_name`)
    stored_name: str
    sha256: str
    size: int
    content_type: str  # detected from the content


def evidence_dir() -> Path:
    folder = Path(current_app.config["EVIDENCE_DIR"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def path_of(evidence: Evidence | FindingFile) -> Path:
    # The stored name is ours (hex), never the uploaded one: it cannot leave the folder.
    return Path(current_app.config["EVIDENCE_DIR"]) / evidence.stored_name


def limit_text(size: int) -> str:
    """A limit in words: whole megabytes when it is one."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size:,} bytes"


def max_bytes() -> int:
    return int(current_app.config["EVIDENCE_MAX_BYTES"])


def too_large_message() -> str:
    return f"Files are limited to {limit_text(max_bytes())} each: this one is larger."


def _follow_transaction(session: Session) -> dict[str, list[Path]]:
    """Files written in this transaction are removed if it rolls back; files of deleted
    evidence are removed once it commits."""
    files = session.info.get("evidence_files")
    if files is None:
        files = session.info["evidence_files"] = {"written": [], "doomed": []}

        @event.listens_for(session, "after_commit")
        def committed(s: Session) -> None:
            for path in files["doomed"]:
                _remove(path)
            files["written"].clear()
            files["doomed"].clear()

        @event.listens_for(session, "after_rollback")
        def rolled_back(s: Session) -> None:
            for path in files["written"]:
                _remove(path)
            files["written"].clear()
            files["doomed"].clear()

    return files


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove evidence file %s", path.name)


def _write(stream: IO[bytes], path: Path, limit: int) -> tuple[int, str] | None:
    """Copy the upload to ``path`` (owner-only); its size and SHA-256, or None when it is
    larger than ``limit`` (nothing left on disk)."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            digest.update(chunk)
            out.write(chunk)
    if size > limit:
        _remove(path)
        return None
    return size, digest.hexdigest()


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


def receive_file(session: Session, file_storage: FileStorage) -> ReceivedFile:
    """Check an upload and keep it on disk for the caller's row, or refuse it
    (:class:`FileRefused`): no usable name, a type not allowed, too large, empty, or content
    that is not what its extension says. The file follows ``session``'s transaction: removed
    again if it rolls back. Shared by answers' evidence and findings' files, so that every
    upload is held to the same checks."""
    name = display_name(file_storage.filename)
    if not name:
        raise FileRefused("Choose a file to upload.")
    extension = os.path.splitext(name)[1].lower()
    kind = BY_EXTENSION.get(extension)
    if kind is None:
        raise FileRefused(f"{name}: files of this type are not accepted. Upload {ALLOWED_TEXT}.")
    stored_name = secrets.token_hex(32)
    path = evidence_dir() / stored_name
    written = _write(file_storage.stream, path, max_bytes())
    if written is None:
        raise FileRefused(f"{name}: {too_large_message()}")
    size, sha256 = written
    files = _follow_transaction(session)
    files["written"].append(path)
    if size == 0:
        _remove(path)
        raise FileRefused(f"{name} is empty.")
    if not content_matches(kind, path):
        _remove(path)
        raise FileRefused(
            f"{name} is not a {kind.name} file, whatever its name says: upload the document "
            f"itself ({ALLOWED_TEXT})."
        )
    return ReceivedFile(name, stored_name, sha256, size, kind.content_type)


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
    _follow_transaction(session)["doomed"].append(path_of(evidence))
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


def evidence_of(session: Session, request_id: int) -> dict[str, list[Evidence]]:
    """A request's files by question id, oldest first, in one query."""
    found: dict[str, list[Evidence]] = {}
    rows = session.scalars(
        sa.select(Evidence).where(Evidence.request_id == request_id).order_by(Evidence.id)
    )
    for evidence in rows:
        found.setdefault(evidence.question_id, []).append(evidence)
    return found


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


def send_evidence(evidence: Evidence | FindingFile) -> Response:
    """The file as a download: an attachment under its cleaned name, the type found from its
    content, nosniff and a CSP that allows nothing (a file is never shown as a page of this
    site). 404 when the file is gone from the disk. Findings' files are served the same way."""
    path = path_of(evidence)
    if not path.is_file():
        log.warning("evidence %s: file %s is missing", evidence.id, evidence.stored_name)
        abort(404)
    response = send_file(
        path,
        mimetype=evidence.content_type,
        as_attachment=True,
        download_name=evidence.filename or ascii_name(evidence.filename),
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def describe(evidence: Evidence) -> dict[str, Any]:
    """What a page or the autosave script shows of a file."""
    return {
        "id": evidence.id,
        "filename": evidence.filename,
        "size": evidence.size,
        "size_text": size_text(evidence.size),
        "uploaded_at": evidence.uploaded_at.strftime("%Y-%m-%d %H:%M"),
    }


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"
