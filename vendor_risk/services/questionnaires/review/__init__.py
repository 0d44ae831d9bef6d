"""Review of submitted questionnaire requests by risk officers: the queue, one request with every
answer in words, a clarification (shown to the vendor) and an internal note (never shown to
vendors) per answer, and the two decisions, return for clarification and accept.

Opening a request never changes it (no state change on GET): the first review note written
moves a submitted request to "under review", in the same transaction; returning and accepting
work from either status, as the request's status rules allow. Scores and findings are the
scoring's work, not this module's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ....core.questionnaire import model as qmodel
from ....core.questionnaire.conditions import is_answered, visible_questions
from ....core.secret_detection import secret_problem
from ....db import utcnow
from ....models import (
    Answer,
    Evidence,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    User,
    Vendor,
)
from ... import ValidationFailed
from ...assessments import scoring
from ...audit import Actor
from ...pages import Page, one_page
from ..answers import answers_of, evidence_of
from ..library import questionnaire_of
from ..request_status import AWAITING_REVIEW, TransitionRefused, check_move, is_overdue
from ..requests import get_request, transition

# A question to the vendor fits in a paragraph or two; a note may hold a page of reasoning.
CLARIFICATION_MAX = 2_000
NOTE_MAX = 10_000

__all__ = [
    "CLARIFICATION_MAX",
    "NOTE_MAX",
    "NoteConflict",
    "ReviewRefused",
    "TransitionRefused",
    "UnknownQuestion",
    "accept",
    "answerable_question",
    "get_evidence",
    "get_request",
    "has_question",
    "note_stamp",
    "return_for_clarification",
    "returned_requests",
    "review_detail",
    "review_queue",
    "write_note",
]


class UnknownQuestion(LookupError):
    """No answerable question of the request's questionnaire has this id."""


class NoteConflict(ValidationFailed):
    """A note saved over texts someone else saved after the form was opened."""

    def __init__(self, message: str, current_stamp: str):
        super().__init__({"": [message]})
        self.current_stamp = current_stamp


class ReviewRefused(ValidationFailed):
    """The request's state does not allow this review step (the message says why)."""

    def __init__(self, message: str):
        super().__init__({"": [message]})


def note_stamp(answer: Answer | None) -> str:
    """A short digest of the reviewers' two texts on an answer, which a note form carries to
    detect a save over someone else's. Not the answer's ``version``: that one is the
    vendor's (their autosave compares it), and a reviewer's note must not look like a newer
    answer to them."""
    texts = (answer.clarification, answer.internal_note) if answer is not None else ("", "")
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]


def _today() -> date:
    return utcnow().date()


def _days_since(moment: datetime | None, today: date) -> int | None:
    return None if moment is None else max(0, (today - moment.astimezone(UTC).date()).days)


# ---- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """A request waiting for a risk officer."""

    id: int
    vendor_id: int
    vendor_name: str
    title: str  # of the questionnaire version
    version_number: int
    status: RequestStatus
    submitted_at: datetime | None
    due_on: date | None
    days_waiting: int | None  # since submission


@dataclass(frozen=True)
class ReturnedRow:
    """A request returned for clarification: waiting for the vendor."""

    id: int
    vendor_id: int
    vendor_name: str
    title: str
    version_number: int
    status: RequestStatus  # returned, or in progress once the vendor started on it
    returned_at: datetime | None
    due_on: date | None
    clarifications: int
    days_waiting: int | None  # since it was returned
    overdue: bool


def _listed() -> sa.Select:
    return (
        sa.select(
            QuestionnaireRequest.id,
            QuestionnaireRequest.vendor_id,
            Vendor.name,
            QuestionnaireVersion.title,
            QuestionnaireVersion.number,
            QuestionnaireRequest.status,
            QuestionnaireRequest.submitted_at,
            QuestionnaireRequest.reviewed_at,
            QuestionnaireRequest.due_on,
        )
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
    )


def review_queue(session: Session, *, page: int = 1, today: date | None = None) -> Page[QueueRow]:
    """Requests submitted or under review, the longest waiting first; one statement a page."""
    today = today or _today()
    query = (
        _listed()
        .where(QuestionnaireRequest.status.in_(sorted(AWAITING_REVIEW)))
        .order_by(QuestionnaireRequest.submitted_at.asc().nulls_first(), QuestionnaireRequest.id)
    )

    def row(r: Any) -> QueueRow:
        return QueueRow(
            id=r.id,
            vendor_id=r.vendor_id,
            vendor_name=r.name,
            title=r.title,
            version_number=r.number,
            status=r.status,
            submitted_at=r.submitted_at,
            due_on=r.due_on,
            days_waiting=_days_since(r.submitted_at, today),
        )

    return one_page(session, query, page, row)


def back_with_vendor() -> sa.ColumnElement[bool]:
    """Returned for clarification and not submitted again: still "returned", or in progress
    once the vendor saved a first change (only a return or an acceptance stamps
    ``reviewed_at``, and an accepted request is never in progress)."""
    return sa.or_(
        QuestionnaireRequest.status == RequestStatus.returned,
        sa.and_(
            QuestionnaireRequest.status == RequestStatus.in_progress,
            QuestionnaireRequest.reviewed_at.is_not(None),
        ),
    )


def returned_requests(
    session: Session, *, page: int = 1, today: date | None = None
) -> Page[ReturnedRow]:
    """Requests returned for clarification (:func:`back_with_vendor`), the longest waiting
    first, with the number of clarifications asked; one statement a page."""
    today = today or _today()
    asked = (
        sa.select(Answer.request_id.label("key"), sa.func.count().label("n"))
        .where(Answer.clarification != "")
        .group_by(Answer.request_id)
        .subquery()
    )
    query = (
        _listed()
        .where(back_with_vendor())
        .add_columns(sa.func.coalesce(asked.c.n, 0).label("clarifications"))
        .outerjoin(asked, asked.c.key == QuestionnaireRequest.id)
        .order_by(QuestionnaireRequest.reviewed_at.asc().nulls_first(), QuestionnaireRequest.id)
    )

    def row(r: Any) -> ReturnedRow:
        return ReturnedRow(
            id=r.id,
            vendor_id=r.vendor_id,
            vendor_name=r.name,
            title=r.title,
            version_number=r.number,
            status=r.status,
            returned_at=r.reviewed_at,
            due_on=r.due_on,
            clarifications=r.clarifications,
            days_waiting=_days_since(r.reviewed_at, today),
            overdue=is_overdue(r.status, r.due_on, today),
        )

    return one_page(session, query, page, row)


# ---- one request ---------------------------------------------------------------------------


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
    )


def get_evidence(session: Session, evidence_id: int) -> Evidence | None:
    """Any evidence file (staff may read every vendor's)."""
    return session.get(Evidence, evidence_id)


# ---- review notes --------------------------------------------------------------------------


def _questionnaire(session: Session, request: QuestionnaireRequest) -> qmodel.Questionnaire:
    return questionnaire_of(session.get(QuestionnaireVersion, request.version_id))


def answerable_question(
    questionnaire: qmodel.Questionnaire, question_id: str
) -> qmodel.Question | None:
    """The question with this id if it takes an answer (an ``info`` text does not)."""
    try:
        question = questionnaire.question(question_id)
    except KeyError:
        return None
    return question if question.type.takes_answer else None


def has_question(session: Session, request: QuestionnaireRequest, question_id: str) -> bool:
    """Whether the request's questionnaire has an answerable question of this id."""
    return answerable_question(_questionnaire(session, request), question_id) is not None


def _refuse_unless_reviewable(request: QuestionnaireRequest) -> None:
    if request.status in AWAITING_REVIEW:
        return
    if request.status is RequestStatus.returned:
        raise ReviewRefused(
            "This request is returned for clarification: the vendor is answering. Notes can "
            "be written again once they submit it."
        )
    raise ReviewRefused(
        f"This request is {request.status.label}: only submitted requests are reviewed."
    )


def _start_review(session: Session, request: QuestionnaireRequest, actor: Actor) -> None:
    """The first review step on a submitted request moves it under review."""
    if request.status is RequestStatus.submitted:
        transition(session, request, RequestStatus.under_review, actor=actor)


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def _note_problems(clarification: str, internal_note: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, value, limit in (
        ("clarification", clarification, CLARIFICATION_MAX),
        ("internal_note", internal_note, NOTE_MAX),
    ):
        if len(value) > limit:
            problems[name] = [f"Keep it within {limit:,} characters ({len(value):,})."]
        elif found := secret_problem(value):
            problems[name] = [found]
    return problems


def write_note(
    session: Session,
    request: QuestionnaireRequest,
    question_id: str,
    *,
    clarification: str,
    internal_note: str,
    expected_stamp: str | None,
    actor: Actor,
) -> Answer:
    """Set the clarification (shown to the vendor once the request is returned) and the
    internal note (never shown to vendors) of one asked question; empty text clears them.

    ``expected_stamp`` is the :func:`note_stamp` the form was opened with: a save over texts
    changed since is a :class:`NoteConflict` naming what is there now. None skips the check
    (a deliberate overwrite). The answer's value, comment and version are the vendor's and
    are left as they are; a question without an answer gets a row with no value (version 0,
    as the portal counts "no answer stored").
    """
    questionnaire = _questionnaire(session, request)
    if answerable_question(questionnaire, question_id) is None:
        raise UnknownQuestion(question_id)
    _refuse_unless_reviewable(request)

    clarification, internal_note = _clean(clarification), _clean(internal_note)
    problems = _note_problems(clarification, internal_note)
    if problems:
        raise ValidationFailed(problems)

    answers = answers_of(session, request.id)
    values = {qid: answer.value for qid, answer in answers.items()}
    if question_id not in {q.id for q in visible_questions(questionnaire, values)}:
        raise ReviewRefused(
            "This question is not asked (its condition does not hold with the vendor's "
            "answers): the vendor would not see a clarification on it."
        )

    answer = session.scalar(
        sa.select(Answer)
        .where(Answer.request_id == request.id, Answer.question_id == question_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    current = note_stamp(answer)
    if expected_stamp is not None and expected_stamp != current:
        raise NoteConflict(_conflict_message(answer), current)

    _start_review(session, request, actor)
    if answer is None:
        answer = Answer(
            request_id=request.id,
            question_id=question_id,
            value=None,
            version=0,
            clarification=clarification,
            internal_note=internal_note,
        )
        try:
            with session.begin_nested():  # another reviewer may insert the same row now
                session.add(answer)
        except sa.exc.IntegrityError:
            theirs = session.scalar(
                sa.select(Answer).where(
                    Answer.request_id == request.id, Answer.question_id == question_id
                )
            )
            raise NoteConflict(_conflict_message(theirs), note_stamp(theirs)) from None
    else:
        answer.clarification, answer.internal_note = clarification, internal_note
    session.flush()
    return answer


def _conflict_message(answer: Answer | None) -> str:
    shown = []
    for label, value in (
        ("clarification", answer.clarification if answer else ""),
        ("note", answer.internal_note if answer else ""),
    ):
        shown.append(f"the {label} is now “{value}”" if value else f"there is no {label} now")
    return (
        "Someone else saved notes on this answer after you opened the page, so nothing was "
        "saved: " + "; ".join(shown) + ". The form still holds your text: save again to "
        "replace theirs."
    )


# ---- decisions -----------------------------------------------------------------------------


def _check_request_version(request: QuestionnaireRequest, expected: int | None) -> None:
    if expected is not None and expected != request.version:
        raise ReviewRefused(
            f"This request changed after you opened it (it is now {request.status.label}): "
            "nothing was done. Read it again below before deciding."
        )


def return_for_clarification(
    session: Session,
    request: QuestionnaireRequest,
    *,
    expected_version: int | None,
    actor: Actor,
) -> int:
    """Send the request back to the vendor with the clarifications written on its asked
    questions (at least one); returns how many. Clarifications left on questions the
    vendor's answers no longer ask are cleared: the vendor could not see them. The audit
    event keeps what was asked, round after round."""
    _check_request_version(request, expected_version)
    check_move(request.status, RequestStatus.returned)
    detail = review_detail(session, request.id)
    asked = detail.clarifications
    if not asked:
        raise ReviewRefused(
            "Write a clarification on at least one answer (and save it) before returning the "
            "request: the vendor needs to know what to change."
        )
    stale = [i.question.id for i in detail.items if not i.asked and i.clarification]
    if stale:
        session.execute(
            sa.update(Answer)
            .where(Answer.request_id == request.id, Answer.question_id.in_(stale))
            .values(clarification="")
        )
    transition(
        session,
        request,
        RequestStatus.returned,
        actor=actor,
        details={
            "clarifications": [{"question": i.question.id, "text": i.clarification} for i in asked]
        },
    )
    return len(asked)


def accept(
    session: Session,
    request: QuestionnaireRequest,
    *,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Accept the request: it becomes read-only for good, and its answers count in the
    vendor's rating, no longer provisionally (the vendor is rescored). Clarifications were
    questions to the vendor, answered by now: they are cleared (each return's audit event
    keeps them); internal notes stay, as the reviewers' record."""
    _check_request_version(request, expected_version)
    check_move(request.status, RequestStatus.accepted)
    cleared = session.execute(
        sa.update(Answer)
        .where(Answer.request_id == request.id, Answer.clarification != "")
        .values(clarification="")
        .execution_options(synchronize_session="fetch")
    ).rowcount
    transition(
        session,
        request,
        RequestStatus.accepted,
        actor=actor,
        details={"clarifications_cleared": cleared},
    )
    scoring.request_closed(session, request)
