"""One request as a reviewer reads it: every section and question, the answers in words,
evidence, comments, clarifications and internal notes, and how each scored answer counts
(passes, partly passes, fails; its points), by the scoring module's rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ....core.questionnaire import model as qmodel
from ....core.questionnaire.conditions import is_answered, visible_questions
from ....core.scoring import AnswerContribution, ControlScore, control_score_of
from ....models import (
    Evidence,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    User,
    Vendor,
)
from ..answers import answers_of, evidence_of
from ..library import questionnaire_of
from ..request_status import AWAITING_REVIEW, is_overdue
from .common import _today, note_stamp


@dataclass(frozen=True)
class Reply:
    """The vendor's answer in words: the labels of the options chosen (safe HTML from the
    questionnaire), or the text, number or date as given."""

    labels: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class EvidenceFile:
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    uploaded_at: datetime


@dataclass(frozen=True)
class ReviewItem:
    """One question of the questionnaire with what the vendor and the reviewers wrote."""

    question: qmodel.Question
    number: str  # "2.3": the section, then the question among those that take an answer
    asked: bool  # False: hidden by its show-if condition, so not asked
    reply: Reply | None  # None: no answer (or not asked)
    comment: str
    carried_over: bool
    evidence: tuple[EvidenceFile, ...]
    clarification: str
    internal_note: str
    stamp: str  # of the two texts above: see :func:`note_stamp`
    # How the answer counts in the control score (None: not scored, or not asked).
    scoring: AnswerContribution | None = None
    # A critical question failing or counted as unanswered: it caps the score.
    critical_failure: bool = False


@dataclass(frozen=True)
class ReviewSection:
    section: qmodel.Section
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True)
class ReviewDetail:
    request_id: int
    status: RequestStatus
    request_version: int
    vendor_id: int
    vendor_name: str
    title: str
    version_number: int
    author_version: int
    sent_at: datetime | None
    due_on: date | None
    submitted_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    previous_id: int | None
    overdue: bool
    sections: tuple[ReviewSection, ...]
    # The control score these answers give (None: the questionnaire scores nothing, or is
    # filled by our staff).
    control: ControlScore | None = None

    @property
    def reviewable(self) -> bool:
        """Whether notes may be written and a decision taken (the request awaits review)."""
        return self.status in AWAITING_REVIEW

    @property
    def items(self) -> tuple[ReviewItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def asked(self) -> int:
        return sum(1 for i in self.items if i.asked and i.question.type.takes_answer)

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.asked and i.reply is not None)

    @property
    def clarifications(self) -> tuple[ReviewItem, ...]:
        """The asked questions with a clarification written: what a return sends the vendor."""
        return tuple(i for i in self.items if i.asked and i.clarification)


def _reply(question: qmodel.Question, value: Any, files: int) -> Reply | None:
    if question.type is qmodel.QuestionType.file:
        return Reply(text=f"{files} file{'' if files == 1 else 's'} attached") if files else None
    if not is_answered(value):
        return None
    if question.type.has_options:
        chosen = value if isinstance(value, list | tuple) else [value]
        labels = []
        for choice in chosen:
            option = question.option(str(choice))
            labels.append(option.label if option is not None else str(choice))
        return Reply(labels=tuple(labels))
    return Reply(text=str(value))


def _file(evidence: Evidence) -> EvidenceFile:
    return EvidenceFile(
        id=evidence.id,
        filename=evidence.filename,
        size=evidence.size,
        content_type=evidence.content_type,
        sha256=evidence.sha256,
        uploaded_at=evidence.uploaded_at,
    )


def review_detail(
    session: Session, request_id: int, *, today: date | None = None
) -> ReviewDetail | None:
    """The request with every section and question, the answers in words, evidence, comments,
    clarifications and internal notes (the internal view: staff only). Three statements."""
    reviewer = aliased(User)
    row = session.execute(
        sa.select(QuestionnaireRequest, Vendor.name, QuestionnaireVersion, reviewer.name)
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .outerjoin(reviewer, reviewer.id == QuestionnaireRequest.reviewed_by_id)
        .where(QuestionnaireRequest.id == request_id)
    ).first()
    if row is None:
        return None
    request, vendor_name, version, reviewed_by = row
    questionnaire = questionnaire_of(version)
    answers = answers_of(session, request.id)
    evidence = evidence_of(session, request.id)
    values = {qid: answer.value for qid, answer in answers.items()}
    asked = {q.id for q in visible_questions(questionnaire, values)}
    control = None
    if questionnaire.audience is qmodel.Audience.vendor and questionnaire.scored:
        # The same rule as the stored totals (services.assessments.scoring.store_totals):
        # the vendor's comment justifies "not applicable".
        control = control_score_of(
            questionnaire, values, {qid: answer.comment for qid, answer in answers.items()}
        )
    scored = {c.question_id: c for c in control.answers} if control else {}
    failing = {f.question_id for f in control.critical_failures} if control else set()

    sections = []
    for s_index, section in enumerate(questionnaire.sections, start=1):
        items = []
        position = 0
        for question in section.questions:
            if question.type.takes_answer:
                position += 1
            answer = answers.get(question.id)
            files = tuple(_file(e) for e in evidence.get(question.id, ()))
            shown = question.id in asked
            items.append(
                ReviewItem(
                    question=question,
                    number=f"{s_index}.{position}" if question.type.takes_answer else "",
                    asked=shown,
                    reply=_reply(question, answer.value if answer else None, len(files))
                    if shown
                    else None,
                    comment=answer.comment if answer else "",
                    carried_over=bool(answer and answer.carried_over),
                    evidence=files,
                    clarification=answer.clarification if answer else "",
                    internal_note=answer.internal_note if answer else "",
                    stamp=note_stamp(answer),
                    scoring=scored.get(question.id) if shown else None,
                    critical_failure=shown and question.id in failing,
                )
            )
        sections.append(ReviewSection(section, tuple(items)))
    return ReviewDetail(
        request_id=request.id,
        status=request.status,
        request_version=request.version,
        vendor_id=request.vendor_id,
        vendor_name=vendor_name,
        title=version.title,
        version_number=version.number,
        author_version=version.author_version,
        sent_at=request.sent_at,
        due_on=request.due_on,
        submitted_at=request.submitted_at,
        reviewed_at=request.reviewed_at,
        reviewed_by=reviewed_by,
        previous_id=request.previous_id,
        overdue=is_overdue(request.status, request.due_on, today or _today()),
        sections=tuple(sections),
        control=control,
    )


def get_evidence(session: Session, evidence_id: int) -> Evidence | None:
    """Any evidence file (staff may read every vendor's)."""
    return session.get(Evidence, evidence_id)
