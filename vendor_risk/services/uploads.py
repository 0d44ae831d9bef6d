"""Uploaded files: what a file is, from its content; its name; receiving it under the size limit;
storing it outside the web root under a random name, the file following the transaction; sending
it back as an attachment. Answers' evidence (services.questionnaires.evidence) and findings'
files (services.findings) are held to the same checks and kept the same way.

A file is accepted only when its content is of a type on the allow-list (read from its bytes,
never from its name or the browser's word) and agrees with its extension, within
``EVIDENCE_MAX_BYTES``. It is stored in ``EVIDENCE_DIR`` under a random name, with its
SHA-256; the name it was uploaded with is kept only for display and download, cleaned of any
path. It is served only as an attachment, with a CSP that allows nothing.
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
from typing import IO

from flask import Response, abort, current_app, send_file
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from ..models import (
    Evidence,
    FindingFile,
)

log = logging.getLogger(__name__)


CHUNK = 64 * 1024

FILENAME_MAX = 255

# Office files are zip archives: bounded before anything is read from them (zip bombs).
ZIP_MAX_ENTRIES = 10_000

ZIP_MAX_UNCOMPRESSED = 500 * 1024 * 1024

CONTENT_TYPES_MAX = 1024 * 1024

# Nothing may run, load or be framed from a served file.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


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


class FileRefused(ValueError):
    """An uploaded file refused: the message is for the person uploading it."""


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


# Room for the multipart envelope around a file of the largest size accepted.
UPLOAD_OVERHEAD = 256 * 1024


def max_request_bytes() -> int:
    """The largest request body a route that takes a file accepts: the largest file and its
    multipart envelope (above VR_MAX_CONTENT_LENGTH when the files' limit is larger)."""
    return max_bytes() + UPLOAD_OVERHEAD


def too_large_message() -> str:
    return f"Files are limited to {limit_text(max_bytes())} each: this one is larger."


def follow_transaction(session: Session) -> dict[str, list[Path]]:
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
    files = follow_transaction(session)
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


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"
