"""The remediation's trail on a finding: notes by staff and by the vendor's contacts, files
of evidence, and who downloaded them."""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ...models import AuditAction, Finding, FindingFile, FindingNote
from .. import ValidationFailed, uploads
from ..audit import Actor
from .fields import _clean, _text_problem
from .lifecycle import _record


def add_note(session: Session, finding: Finding, body: str, *, actor: Actor) -> FindingNote:
    """A remediation note by staff or by one of the vendor's contacts (who reach only the
    findings :func:`finding_for_contact` gives them). Audited, without its text."""
    body = _clean(body or "")
    if problem := _text_problem(body, required="Write the note first."):
        raise ValidationFailed({"body": [problem]})
    note = FindingNote(finding_id=finding.id, body=body, author_id=actor.user_id)
    session.add(note)
    session.flush()
    _record(
        session,
        AuditAction.finding_note_added,
        finding,
        actor=actor,
        note=note.id,
        length=len(body),
    )
    return note


def add_file(
    session: Session, finding: Finding, file_storage: FileStorage, *, actor: Actor
) -> FindingFile:
    """Evidence of a remediation, checked and stored like answers' evidence (size, type by
    content, random stored name, SHA-256), or refused with the reason at ``file``. Audited."""
    try:
        received = uploads.receive_file(session, file_storage)
    except uploads.FileRefused as exc:
        raise ValidationFailed({"file": [str(exc)]}) from None
    stored = FindingFile(
        finding_id=finding.id,
        filename=received.filename,
        stored_name=received.stored_name,
        sha256=received.sha256,
        size=received.size,
        content_type=received.content_type,
        uploaded_by_id=actor.user_id,
    )
    session.add(stored)
    session.flush()
    _record(
        session,
        AuditAction.finding_file_uploaded,
        finding,
        actor=actor,
        file=stored.id,
        filename=received.filename,
        size=received.size,
        sha256=received.sha256,
        content_type=received.content_type,
    )
    return stored


def record_file_download(
    session: Session, finding: Finding, stored: FindingFile, *, actor: Actor
) -> None:
    """Audit who fetched a finding's file; 404 when its bytes are gone, before recording."""
    if not uploads.path_of(stored).is_file():
        abort(404)
    _record(
        session,
        AuditAction.finding_file_downloaded,
        finding,
        actor=actor,
        file=stored.id,
        filename=stored.filename,
    )
