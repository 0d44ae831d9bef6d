"""A request as an Excel workbook: downloaded to be filled offline, uploaded back all or nothing.

The workbook itself is :mod:`vendor_risk.questionnaire.xlsx` (pure); this module loads what it
needs, audits each download and upload, and stores an upload's answers through
:func:`vendor_risk.services.answers.save_imported` once every row has been checked, so a
workbook with one bad row saves nothing. An answer changed in the portal after the workbook was
downloaded is a conflict (each row carries the version it was made from), never overwritten
silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ...core.questionnaire import InvalidAnswer, xlsx
from ...core.questionnaire import model as qmodel
from ...core.questionnaire.markup import plain
from ...core.questionnaire.xlsx import WorkbookProblem
from ...models import Answer, AuditAction, QuestionnaireRequest, Vendor
from .. import ValidationFailed, audit
from ..audit import Actor
from . import answers
from .library import questionnaire_of
from .request_status import VENDOR_EDITABLE

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = xlsx.MAX_BYTES


@dataclass(frozen=True)
class Workbook:
    filename: str
    data: bytes


@dataclass(frozen=True)
class ImportReport:
    """What an upload did: the answers it held and how many changed, or the problems that
    stopped it (then nothing was saved)."""

    problems: tuple[WorkbookProblem, ...] = ()
    answers: int = 0  # answers the workbook holds
    changed: int = 0  # of which differ from what was stored, and were saved

    @property
    def ok(self) -> bool:
        return not self.problems


def request_for_staff(session: Session, request_id: int) -> QuestionnaireRequest | None:
    """Any request, for procurement and risk officers (the area's guard admitted them)."""
    return session.get(QuestionnaireRequest, request_id)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "vendor"


def _stored_answers(session: Session, request_id: int) -> dict[str, Answer]:
    return answers.answers_of(session, request_id)


def export_request(session: Session, request: QuestionnaireRequest, *, actor: Actor) -> Workbook:
    """The request's workbook with the answers given so far, audited (request.exported)."""
    version = answers.version_of(session, request)
    questionnaire = questionnaire_of(version)
    vendor = session.get(Vendor, request.vendor_id)
    stored = _stored_answers(session, request.id)
    pairs = {qid: (a.value, a.comment) for qid, a in stored.items()}
    versions = {qid: a.version for qid, a in stored.items()}
    due = f", due {request.due_on.isoformat()}" if request.due_on else ""
    title = f"{vendor.name}: {plain(questionnaire.title)}{due}"
    data = xlsx.build_workbook(questionnaire, pairs, title=title, versions=versions)
    audit.record(
        session,
        AuditAction.request_exported,
        actor=actor,
        object_type="request",
        object_id=request.id,
        vendor_id=request.vendor_id,
        details={"format": "xlsx", "answers": len(stored)},
    )
    filename = f"{_slug(vendor.name)}-{questionnaire.id}-request-{request.id}.xlsx"
    return Workbook(filename, data)


def _comment_rule(text: str) -> str:
    """A comment as the portal accepts it (answers' rule, one place)."""
    try:
        return answers._clean_comment("", text)
    except answers.AnswerRefused as exc:
        raise InvalidAnswer(exc.message) from None


def _same(stored: Answer, value: Any, comment: str) -> bool:
    as_stored = list(value) if isinstance(value, tuple) else value
    return (stored.value, stored.comment) == (as_stored, comment)


def _conflicts(
    questionnaire: qmodel.Questionnaire,
    content: xlsx.WorkbookContent,
    stored: dict[str, Answer],
) -> list[WorkbookProblem]:
    """Rows whose answer was changed elsewhere since the workbook was made, and that the
    workbook would replace with something else."""
    found = []
    for qid, (value, comment) in content.answers.items():
        current = stored.get(qid)
        if current is None or current.version <= content.versions.get(qid, 0):
            continue
        if _same(current, value, comment):
            continue
        sheet, row = content.rows[qid]
        shown = xlsx.answer_text(questionnaire.question(qid), current.value) or "no answer"
        found.append(
            WorkbookProblem(
                sheet,
                row,
                qid,
                f"this answer was changed after the workbook was downloaded (it is now "
                f"“{shown}”): download the workbook again, or change it in the portal",
            )
        )
    return found


def _refused(message: str) -> ImportReport:
    return ImportReport(problems=(WorkbookProblem(None, None, None, message),))


def import_request(
    session: Session, request: QuestionnaireRequest, data: bytes, *, actor: Actor
) -> ImportReport:
    """Check every row of an uploaded workbook, then save all its answers, or none (the
    report lists every problem: the caller rolls back). Refused while the request is not
    open for answers. Audited (request.imported) when saved."""
    if request.status not in VENDOR_EDITABLE:
        return _refused(answers.read_only_reason(request) or "Answers cannot be changed now.")
    questionnaire = questionnaire_of(answers.version_of(session, request))
    content = xlsx.read_content(questionnaire, data, comment_rule=_comment_rule)
    if not content.ok:
        return ImportReport(problems=content.problems)
    stored = _stored_answers(session, request.id)
    conflicts = _conflicts(questionnaire, content, stored)
    if conflicts:
        return ImportReport(problems=tuple(conflicts))
    try:
        changed = answers.save_imported(session, request, content.answers, actor=actor)
    except ValidationFailed as exc:  # checked above; a rule may have changed in between
        return ImportReport(
            problems=tuple(
                WorkbookProblem(
                    *(content.rows.get(qid, (None, None))), qid or None, " ".join(messages)
                )
                for qid, messages in exc.errors.items()
            )
        )
    audit.record(
        session,
        AuditAction.request_imported,
        actor=actor,
        object_type="request",
        object_id=request.id,
        vendor_id=request.vendor_id,
        details={"format": "xlsx", "answers": len(content.answers), "changed": changed},
    )
    return ImportReport(answers=len(content.answers), changed=changed)
