"""Answers of a questionnaire request: saved one by one as they are given (autosave), never a
silent overwrite, checked against the questionnaire on the server, and submitted once complete.

Vendor contacts reach a request only through :func:`request_for_contact`, whose query is
filtered by their vendor (another vendor's request is None, so 404). Staff reach internal
questionnaires (the intake) through :func:`internal_request`.

Each answer carries a version. A save names the version the person last saw: when the stored
answer is newer and says something else, the save is a :class:`Conflict` carrying what is
stored, who saved it and when; saving what is stored already changes nothing. Saves of one
request are serialised by locking the request row (PostgreSQL; SQLite's writers are serialised
by ``BEGIN IMMEDIATE``), so two parallel saves never both win, and the request's counts
(``answered_count``, ``question_count``) are exact.

The counts are of the questions *asked*: visible given the answers (show-if), info texts left
out. ``question_count`` starts as every answerable question of the version (set when the request
is created) and follows the show-if conditions from the first answer saved, so that a complete
request reads 100%.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import conditions
from ....core.questionnaire import model as qmodel
from ....core.questionnaire.markup import plain
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
from ..library import questionnaire_of
from ..request_status import VENDOR_EDITABLE, is_overdue, transition

COMMENT_MAX = 5_000
# Never shown to a vendor contact, whatever their vendor: not sent yet, or withdrawn.
HIDDEN_FROM_VENDORS = frozenset({RequestStatus.draft, RequestStatus.cancelled})
# May be submitted from these (the vendor may submit a request with every answer carried over).
SUBMITTABLE = VENDOR_EDITABLE
# Already submitted: submitting again is a no-op, not an error (a double click).
SUBMITTED = frozenset({RequestStatus.submitted, RequestStatus.under_review, RequestStatus.accepted})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# ---- finding a request ---------------------------------------------------------------------


def audience_is(audience: qmodel.Audience) -> sa.ColumnElement[bool]:
    """The audience of the version itself (a questionnaire could change it between versions)."""
    return QuestionnaireVersion.definition["audience"].as_string() == audience.value


def request_for_contact(
    session: Session, user: User, request_id: int
) -> QuestionnaireRequest | None:
    """The request if it is one of the contact's vendor, sent to vendors and not a draft or
    cancelled; None otherwise (the view answers 404, whatever the reason)."""
    if user.vendor_id is None:
        return None
    return session.scalar(
        sa.select(QuestionnaireRequest)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            QuestionnaireRequest.id == request_id,
            QuestionnaireRequest.vendor_id == user.vendor_id,
            QuestionnaireRequest.status.not_in(HIDDEN_FROM_VENDORS),
            audience_is(qmodel.Audience.vendor),
        )
    )


def internal_request(session: Session, request_id: int) -> QuestionnaireRequest | None:
    """A request of an internal questionnaire (the intake), which staff fill; None for the
    questionnaires sent to vendors and for cancelled ones."""
    return session.scalar(
        sa.select(QuestionnaireRequest)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            QuestionnaireRequest.id == request_id,
            QuestionnaireRequest.status != RequestStatus.cancelled,
            audience_is(qmodel.Audience.internal),
        )
    )


@dataclass(frozen=True)
class RequestRow:
    """One request in a list: what the portal's and the intake's lists show."""

    id: int
    title: str
    vendor_name: str
    status: RequestStatus
    due_on: date | None
    answered_count: int
    question_count: int
    overdue: bool
    submitted_at: datetime | None

    @property
    def percent(self) -> int:
        return progress_percent(self.answered_count, self.question_count)

    @property
    def editable(self) -> bool:
        return self.status in VENDOR_EDITABLE


def _rows(session: Session, query: sa.Select, today: date) -> list[RequestRow]:
    rows = session.execute(
        query.add_columns(QuestionnaireVersion.title, Vendor.name)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        # Waiting for the vendor first, soonest due first; then the others, newest first.
        .order_by(
            sa.case((QuestionnaireRequest.status.in_(VENDOR_EDITABLE), 0), else_=1),
            QuestionnaireRequest.due_on.is_(None),
            QuestionnaireRequest.due_on,
            QuestionnaireRequest.id.desc(),
        )
    ).all()
    return [
        RequestRow(
            id=r.id,
            title=title,
            vendor_name=vendor_name,
            status=r.status,
            due_on=r.due_on,
            answered_count=r.answered_count,
            question_count=r.question_count,
            overdue=is_overdue(r.status, r.due_on, today),
            submitted_at=r.submitted_at,
        )
        for r, title, vendor_name in rows
    ]


def requests_of_contact(session: Session, user: User, *, today: date) -> list[RequestRow]:
    """The contact's vendor's requests (not drafts or cancelled ones), in one statement."""
    if user.vendor_id is None:
        return []
    query = sa.select(QuestionnaireRequest).where(
        QuestionnaireRequest.vendor_id == user.vendor_id,
        QuestionnaireRequest.status.not_in(HIDDEN_FROM_VENDORS),
        audience_is(qmodel.Audience.vendor),
    )
    return _rows(session, query, today)


def internal_requests(session: Session, *, today: date, limit: int = 200) -> list[RequestRow]:
    """Requests of internal questionnaires (intakes) waiting to be filled, then the latest
    others: what the intake page lists."""
    query = (
        sa.select(QuestionnaireRequest)
        .where(
            QuestionnaireRequest.status != RequestStatus.cancelled,
            audience_is(qmodel.Audience.internal),
        )
        .limit(limit)
    )
    return _rows(session, query, today)


def vendor_name(session: Session, request: QuestionnaireRequest) -> str:
    return session.scalar(sa.select(Vendor.name).where(Vendor.id == request.vendor_id)) or ""


def version_of(session: Session, request: QuestionnaireRequest) -> QuestionnaireVersion:
    return session.get(QuestionnaireVersion, request.version_id)


# Parsed questionnaires by (version id, content hash): a version never changes, and the hash
# tells two databases' versions of the same id apart. Each save reads the small hash column
# instead of the whole definition.
_PARSED: OrderedDict[tuple[int, str], qmodel.Questionnaire] = OrderedDict()
_PARSED_MAX = 64
_PARSED_LOCK = threading.Lock()


def questionnaire_of_request(
    session: Session, request: QuestionnaireRequest
) -> qmodel.Questionnaire:
    """The pure model of the request's version."""
    content_hash = session.scalar(
        sa.select(QuestionnaireVersion.content_hash).where(
            QuestionnaireVersion.id == request.version_id
        )
    )
    key = (request.version_id, content_hash)
    found = _PARSED.get(key)
    if found is None:
        found = questionnaire_of(version_of(session, request))
        with _PARSED_LOCK:
            _PARSED[key] = found
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
    return found


# ---- reading answers -----------------------------------------------------------------------


def answers_of(session: Session, request_id: int) -> dict[str, Answer]:
    """Every stored answer of a request by question id, in one query."""
    rows = session.scalars(sa.select(Answer).where(Answer.request_id == request_id))
    return {answer.question_id: answer for answer in rows}


def answer_values(session: Session, request_id: int) -> dict[str, Any]:
    """``{question id: value}`` of a request, read as plain values (no ORM objects)."""
    return dict(
        session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.request_id == request_id)
        ).all()
    )


def values_of(answers: Mapping[str, Any]) -> dict[str, Any]:
    """``{question id: value}`` from stored answers (or values already): what the pure
    functions of questionnaire.conditions read."""
    return {
        key: (answer.value if isinstance(answer, Answer) else answer)
        for key, answer in answers.items()
    }


def progress_percent(answered: int, asked: int) -> int:
    if asked <= 0:
        return 0
    return min(100, round(100 * answered / asked))


@dataclass(frozen=True)
class Progress:
    answered: int
    asked: int

    @property
    def percent(self) -> int:
        return progress_percent(self.answered, self.asked)


def progress_of(questionnaire: qmodel.Questionnaire, answers: Mapping[str, Any]) -> Progress:
    """Answered questions among those asked (visible, not info texts)."""
    values = values_of(answers)
    asked = [q for q in conditions.visible_questions(questionnaire, values) if q.type.takes_answer]
    answered = sum(1 for q in asked if conditions.is_answered(values.get(q.id)))
    return Progress(answered, len(asked))


def recount(
    request: QuestionnaireRequest, questionnaire: qmodel.Questionnaire, answers: Mapping
) -> Progress:
    progress = progress_of(questionnaire, answers)
    request.answered_count, request.question_count = progress.answered, progress.asked
    return progress


# ---- what is missing before a submission --------------------------------------------------


@dataclass(frozen=True)
class Missing:
    """A question that stops a submission: unanswered, or its required evidence not attached."""

    question_id: str
    section_title: str
    text: str  # the question's text without markup
    reason: str  # "answer" or "evidence"

    @property
    def anchor(self) -> str:
        """The id of the question on the form page (a link ``#anchor`` goes to it)."""
        return question_anchor(self.question_id)

    @property
    def message(self) -> str:
        return "Attach the evidence asked for." if self.reason == "evidence" else "Answer this."


def question_anchor(question_id: str) -> str:
    return f"q-{question_id}"


def needs_evidence(question: qmodel.Question, value: Any) -> bool:
    """Whether a visible question still needs a file: evidence is required, the question
    is not answered "not applicable" (nothing to prove), and it is not a file question (whose
    files are its answer)."""
    return (
        question.evidence is qmodel.Evidence.required
        and question.type is not qmodel.QuestionType.file
        and value != "na"
    )


def missing_answers(
    questionnaire: qmodel.Questionnaire,
    answers: Mapping[str, Any],
    evidence: Mapping[str, Sequence[Any]] | None = None,
) -> list[Missing]:
    """Every visible question that stops a submission, in the order of the questionnaire:
    required ones without an answer (conditionally required ones included, hidden ones not),
    and those whose evidence is required without a file. ``answers`` maps question ids to
    stored answers or values; ``evidence`` maps question ids to their files (``evidence_of``):
    without it, every required evidence counts as missing."""
    values = values_of(answers)
    evidence = evidence or {}
    sections = {q.id: s.title for s in questionnaire.sections for q in s.questions}
    missing = []
    for question in conditions.visible_questions(questionnaire, values):
        value = values.get(question.id)
        if question.required and not conditions.is_answered(value):
            reason = "answer"
        elif needs_evidence(question, value) and not evidence.get(question.id):
            reason = "evidence"
        else:
            continue
        missing.append(
            Missing(question.id, plain(sections[question.id]), plain(question.text), reason)
        )
    return missing


# ---- saving --------------------------------------------------------------------------------


class AnswerRefused(ValidationFailed):
    """A save refused, with the message at the question. ``reason``: unknown (no such
    question: the views answer 404), hidden (not asked given the answers), read_only (the
    request is not open for answers), invalid (the answer does not fit the question)."""

    def __init__(self, question_id: str, message: str, reason: str):
        super().__init__({question_id: [message]})
        self.question_id = question_id
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Conflict:
    """The stored answer, newer than the one the person saw, which their save would have
    replaced."""

    value: Any
    comment: str
    version: int
    saved_by: str
    saved_at: datetime


@dataclass(frozen=True)
class SaveResult:
    question_id: str
    changed: bool  # False: the same answer was stored already (or a conflict)
    version: int  # the answer's version now (0: no answer stored)
    value: Any
    comment: str
    answered_count: int
    question_count: int
    conflict: Conflict | None = None

    @property
    def status(self) -> str:
        if self.conflict is not None:
            return "conflict"
        return "saved" if self.changed else "unchanged"


def read_only_reason(request: QuestionnaireRequest) -> str | None:
    """Why answers cannot change now, in words for the person answering; None if they can."""
    if request.status in VENDOR_EDITABLE:
        return None
    if request.status in SUBMITTED:
        when = request.submitted_at.strftime("%Y-%m-%d") if request.submitted_at else None
        return (
            f"This questionnaire was submitted{' on ' + when if when else ''}: answers are "
            "read-only unless a reviewer returns it for clarification."
        )
    return f"This questionnaire is {request.status.label}: answers cannot be changed."


def is_editable(request: QuestionnaireRequest) -> bool:
    """The one rule: answers change only while the request waits for its answers (sent, in
    progress, returned for clarification), for vendor and internal questionnaires alike."""
    return read_only_reason(request) is None


def lock_request(session: Session, request: QuestionnaireRequest) -> QuestionnaireRequest:
    """The request row locked for the rest of the transaction and read again, so its status
    and counts are the latest."""
    return session.scalars(
        sa.select(QuestionnaireRequest)
        .where(QuestionnaireRequest.id == request.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def check_editable(request: QuestionnaireRequest, question_id: str = "") -> None:
    reason = read_only_reason(request)
    if reason is not None:
        raise AnswerRefused(question_id, reason, "read_only")


def question_of(questionnaire: qmodel.Questionnaire, question_id: str) -> qmodel.Question:
    """The question to answer; AnswerRefused (unknown) for an unknown id or an info text."""
    try:
        question = questionnaire.question(question_id)
    except KeyError:
        raise AnswerRefused(question_id, "There is no such question.", "unknown") from None
    if not question.type.takes_answer:
        raise AnswerRefused(question_id, "This text takes no answer.", "unknown")
    return question


def check_visible(
    questionnaire: qmodel.Questionnaire, question: qmodel.Question, answers: Mapping[str, Any]
) -> None:
    visible = conditions.visible_questions(questionnaire, values_of(answers))
    if question not in visible:
        raise AnswerRefused(
            question.id,
            "This question is not asked given your other answers: change them first.",
            "hidden",
        )


def _clean_comment(question_id: str, comment: Any) -> str:
    if not isinstance(comment, str):
        raise AnswerRefused(question_id, "Write the comment as text.", "invalid")
    text = comment.replace("\r\n", "\n").strip()
    if _CONTROL.search(text):
        raise AnswerRefused(
            question_id, "The comment contains characters that cannot be typed.", "invalid"
        )
    if len(text) > COMMENT_MAX:
        raise AnswerRefused(
            question_id,
            f"Keep the comment within {COMMENT_MAX:,} characters ({len(text):,}).",
            "invalid",
        )
    return text


def _stored(value: Any) -> Any:
    """The value as the JSON column gives it back (tuples become lists), for comparisons."""
    if isinstance(value, tuple | list):
        return [_stored(v) for v in value]
    return value


def _validated(question: qmodel.Question, raw: Any) -> Any:
    try:
        return _stored(conditions.validate_answer(question, raw))
    except conditions.InvalidAnswer as exc:
        raise AnswerRefused(question.id, str(exc), "invalid") from None


def _saved_by(session: Session, answer: Answer) -> str:
    if answer.updated_by_id is None:
        return "someone"
    user = session.get(User, answer.updated_by_id)
    return user.name if user is not None else "someone"


def after_change(session: Session, request: QuestionnaireRequest, *, actor: Actor) -> None:
    """The first answer of a sent request, or one of a returned request, puts it in progress."""
    if request.status in (RequestStatus.sent, RequestStatus.returned):
        transition(session, request, RequestStatus.in_progress, actor=actor)


def write_answer(
    session: Session,
    request: QuestionnaireRequest,
    answers: dict[str, Answer],
    question_id: str,
    value: Any,
    comment: str,
    actor: Actor,
) -> Answer:
    answer = answers.get(question_id)
    if answer is None:
        answer = Answer(request_id=request.id, question_id=question_id, version=0)
        session.add(answer)
        answers[question_id] = answer
    answer.value = value
    answer.comment = comment
    answer.version += 1
    answer.carried_over = False
    answer.updated_at = utcnow()
    answer.updated_by_id = actor.user_id
    return answer


def save_answer(
    session: Session,
    request: QuestionnaireRequest,
    question_id: str,
    *,
    value: Any,
    comment: str | None,
    base_version: int | None,
    actor: Actor,
) -> SaveResult:
    """Save one answer (and its comment; None keeps the stored comment).

    ``base_version`` is the version of the answer the person last saw (0: none); when the
    stored one is newer and differs from this save, nothing is written and the result carries
    the :class:`Conflict`. None means a deliberate overwrite. Saving what is stored changes
    nothing. The answer of a file question is its files: ``value`` is then ignored (upload and
    delete files with services.evidence). Raises :class:`AnswerRefused`.
    """
    request = lock_request(session, request)
    questionnaire = questionnaire_of_request(session, request)
    question = question_of(questionnaire, question_id)
    check_editable(request, question_id)
    # The other answers as values only (what visibility and the counts read), this one whole.
    values = answer_values(session, request.id)
    check_visible(questionnaire, question, values)
    stored = session.get(Answer, (request.id, question_id))
    if question.type is qmodel.QuestionType.file:
        new_value = stored.value if stored is not None else None
    else:
        new_value = _validated(question, value)
    if comment is None:
        new_comment = stored.comment if stored is not None else ""
    else:
        new_comment = _clean_comment(question_id, comment)

    current = (stored.value, stored.comment) if stored is not None else (None, "")
    if (new_value, new_comment) == current:
        return _result(request, stored, question_id, changed=False)
    if stored is not None and base_version is not None and stored.version > base_version:
        conflict = Conflict(
            value=stored.value,
            comment=stored.comment,
            version=stored.version,
            saved_by=_saved_by(session, stored),
            saved_at=stored.updated_at,
        )
        return _result(request, stored, question_id, changed=False, conflict=conflict)

    answers = {question_id: stored} if stored is not None else {}
    answer = write_answer(session, request, answers, question_id, new_value, new_comment, actor)
    values[question_id] = new_value
    recount(request, questionnaire, values)
    after_change(session, request, actor=actor)
    session.flush()
    return _result(request, answer, question_id, changed=True)


def _result(
    request: QuestionnaireRequest,
    answer: Answer | None,
    question_id: str,
    *,
    changed: bool,
    conflict: Conflict | None = None,
) -> SaveResult:
    return SaveResult(
        question_id=question_id,
        changed=changed,
        version=answer.version if answer is not None else 0,
        value=answer.value if answer is not None else None,
        comment=answer.comment if answer is not None else "",
        answered_count=request.answered_count,
        question_count=request.question_count,
        conflict=conflict,
    )


@dataclass(frozen=True)
class SectionSave:
    """What a whole section's save did: results per question, and refusals (nothing saved)."""

    results: dict[str, SaveResult]

    @property
    def conflicts(self) -> dict[str, Conflict]:
        return {k: r.conflict for k, r in self.results.items() if r.conflict is not None}

    @property
    def changed(self) -> int:
        return sum(1 for r in self.results.values() if r.changed)


def save_section(
    session: Session,
    request: QuestionnaireRequest,
    section_id: str,
    submitted: Mapping[str, tuple[Any, str | None, int | None]],
    *,
    actor: Actor,
) -> SectionSave:
    """Save a section's answers at once (the form without JavaScript): ``submitted`` maps the
    question ids the page showed to (value, comment, base version). Questions are taken in
    order, so an answer may show a later question of the same section; questions not asked
    are skipped (the page sends them disabled). Every answer is checked before any is
    written: AnswerRefused (ValidationFailed) lists every refusal, nothing saved. Conflicts
    are reported per question; the others are saved."""
    request = lock_request(session, request)
    questionnaire = questionnaire_of_request(session, request)
    section = next((s for s in questionnaire.sections if s.id == section_id), None)
    if section is None:
        raise AnswerRefused("", "There is no such section.", "unknown")
    check_editable(request)
    answers = answers_of(session, request.id)
    values = values_of(answers)
    errors: dict[str, list[str]] = {}
    planned: list[tuple[qmodel.Question, Any, str, int | None]] = []
    for question in section.questions:
        if question.id not in submitted or not question.type.takes_answer:
            continue
        # Visibility with the earlier answers of this same post applied.
        if question not in conditions.visible_questions(questionnaire, values):
            continue
        raw, comment, base = submitted[question.id]
        stored = answers.get(question.id)
        try:
            if question.type is qmodel.QuestionType.file:
                value = stored.value if stored is not None else None
            else:
                value = _validated(question, raw)
            text = (
                (stored.comment if stored is not None else "")
                if comment is None
                else _clean_comment(question.id, comment)
            )
        except AnswerRefused as exc:
            errors.setdefault(question.id, []).append(exc.message)
            continue
        values[question.id] = value
        planned.append((question, value, text, base))
    if errors:
        raise ValidationFailed(errors)

    results: dict[str, SaveResult] = {}
    for question, value, text, base in planned:
        stored = answers.get(question.id)
        current = (stored.value, stored.comment) if stored is not None else (None, "")
        if (value, text) == current:
            results[question.id] = _result(request, stored, question.id, changed=False)
        elif stored is not None and base is not None and stored.version > base:
            conflict = Conflict(
                stored.value,
                stored.comment,
                stored.version,
                _saved_by(session, stored),
                stored.updated_at,
            )
            results[question.id] = _result(
                request, stored, question.id, changed=False, conflict=conflict
            )
        else:
            answer = write_answer(session, request, answers, question.id, value, text, actor)
            results[question.id] = _result(request, answer, question.id, changed=True)
    if any(r.changed for r in results.values()):
        recount(request, questionnaire, answers)
        after_change(session, request, actor=actor)
        session.flush()
    return SectionSave(results)


def save_imported(
    session: Session,
    request: QuestionnaireRequest,
    answers: dict[str, tuple[object, str | None]],
    *,
    actor: Actor,
) -> int:
    """Store answers read from a workbook, all in the caller's transaction, each a
    deliberate overwrite (no conflict check); a comment None is an empty comment. Every
    answer imported loses its carried-over mark. Returns how many answers changed.
    AnswerRefused when the request is not open for answers, or for an unknown question or an
    answer that does not fit (the caller validated them: the transaction must be rolled
    back). File questions keep their files (evidence is uploaded in the portal)."""
    request = lock_request(session, request)
    questionnaire = questionnaire_of_request(session, request)
    check_editable(request)
    stored = answers_of(session, request.id)
    planned = []
    for question_id, (raw, comment) in answers.items():
        question = question_of(questionnaire, question_id)
        previous = stored.get(question_id)
        if question.type is qmodel.QuestionType.file:
            value = previous.value if previous is not None else None
        else:
            value = _validated(question, raw)
        planned.append((question_id, value, _clean_comment(question_id, comment or "")))
    changed = 0
    for question_id, value, comment in planned:
        previous = stored.get(question_id)
        if previous is not None and (previous.value, previous.comment) == (value, comment):
            previous.carried_over = False
            continue
        if previous is None and value is None and not comment:
            continue
        write_answer(session, request, stored, question_id, value, comment, actor)
        changed += 1
    if changed:
        recount(request, questionnaire, stored)
        after_change(session, request, actor=actor)
    session.flush()
    return changed


# ---- reassessment: answers carried over ---------------------------------------------------


def previous_accepted(
    session: Session, request: QuestionnaireRequest
) -> QuestionnaireRequest | None:
    """The vendor's latest accepted request of the same questionnaire (any version)."""
    version = version_of(session, request)
    return session.scalar(
        sa.select(QuestionnaireRequest)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            QuestionnaireRequest.vendor_id == request.vendor_id,
            QuestionnaireRequest.status == RequestStatus.accepted,
            QuestionnaireRequest.id != request.id,
            QuestionnaireVersion.questionnaire_id == version.questionnaire_id,
        )
        .order_by(
            QuestionnaireRequest.reviewed_at.desc().nulls_last(),
            QuestionnaireRequest.id.desc(),
        )
        .limit(1)
    )


def prefill_from_previous(session: Session, request: QuestionnaireRequest) -> int:
    """Copy the answers of the vendor's latest accepted request of the same questionnaire,
    marked carried over, and link it as ``previous_id``. Only questions that still exist and
    whose stored answer still fits them (same options, limits...) are copied, with their
    comments; never files (each request has its own evidence), clarifications or internal
    notes, and never over an answer the request has already. Sets the request's counts (the
    questions asked, given the show-if conditions) either way. Returns how many were copied."""
    questionnaire = questionnaire_of_request(session, request)
    existing = answers_of(session, request.id)
    # Counted from the start as after every save: the questions asked with these answers.
    recount(request, questionnaire, existing)
    previous = previous_accepted(session, request)
    if previous is None:
        session.flush()
        return 0
    request.previous_id = previous.id
    copied = 0
    for old in answers_of(session, previous.id).values():
        if old.question_id in existing:
            continue
        try:
            question = questionnaire.question(old.question_id)
        except KeyError:
            continue
        if not question.type.takes_answer or question.type is qmodel.QuestionType.file:
            continue
        try:
            value = _stored(conditions.validate_answer(question, old.value))
        except conditions.InvalidAnswer:
            continue
        if value is None:
            continue
        answer = Answer(
            request_id=request.id,
            question_id=old.question_id,
            value=value,
            comment=old.comment,
            version=1,
            carried_over=True,
            updated_at=utcnow(),
            updated_by_id=old.updated_by_id,
        )
        session.add(answer)
        existing[answer.question_id] = answer
        copied += 1
    if copied:
        recount(request, questionnaire, existing)
    session.flush()
    return copied


# ---- submitting ----------------------------------------------------------------------------


class SubmitRefused(ValidationFailed):
    """A submission refused: ``missing`` lists every question that stops it, in order."""

    def __init__(self, missing: list[Missing], message: str | None = None):
        errors = {m.question_id: [m.message] for m in missing}
        if message:
            errors[""] = [message]
        super().__init__(errors or {"": ["This questionnaire cannot be submitted."]})
        self.missing = missing
        self.message = message


def submit(session: Session, request: QuestionnaireRequest, *, actor: Actor) -> bool:
    """Submit the request when nothing is missing (:class:`SubmitRefused` lists what is);
    answers are read-only after it until a reviewer returns it. Submitting a request already
    submitted changes nothing and returns False (a second click)."""

    request = lock_request(session, request)
    if request.status in SUBMITTED:
        return False
    if request.status not in SUBMITTABLE:
        raise SubmitRefused([], read_only_reason(request))
    questionnaire = questionnaire_of_request(session, request)
    answers = answers_of(session, request.id)
    missing = missing_answers(questionnaire, answers, evidence_of(session, request.id))
    if missing:
        raise SubmitRefused(missing)
    recount(request, questionnaire, answers)
    again = request.reviewed_at is not None  # returned for clarification, answered again
    transition(
        session,
        request,
        RequestStatus.submitted,
        actor=actor,
        details={"answered": request.answered_count, "asked": request.question_count},
    )
    totals = scoring.request_submitted(session, request, questionnaire, again=again)
    if totals is not None:
        from ... import findings  # findings build on evidence, which builds on this module

        holding = {rule_id for section in totals for rule_id in section.findings}
        findings.open_automatic(
            session,
            request,
            [failure for section in totals for failure in section.critical_failures],
            [rule for rule in questionnaire.findings if rule.id in holding],
            actor=actor,
        )
    return True


# ---- what the review asked -----------------------------------------------------------------


def clarifications_of(
    questionnaire: qmodel.Questionnaire, answers: Mapping[str, Answer]
) -> list[tuple[qmodel.Question, str]]:
    """The questions a reviewer asked the vendor to clarify, in order, with what they asked."""
    return [
        (question, answers[question.id].clarification)
        for question in questionnaire.questions
        if question.id in answers and answers[question.id].clarification.strip()
    ]


def visible_ids(questionnaire: qmodel.Questionnaire, answers: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(q.id for q in conditions.visible_questions(questionnaire, values_of(answers)))


def evidence_of(session: Session, request_id: int) -> dict[str, list[Evidence]]:
    """A request's files by question id, oldest first, in one query."""
    found: dict[str, list[Evidence]] = {}
    rows = session.scalars(
        sa.select(Evidence).where(Evidence.request_id == request_id).order_by(Evidence.id)
    )
    for evidence in rows:
        found.setdefault(evidence.question_id, []).append(evidence)
    return found
