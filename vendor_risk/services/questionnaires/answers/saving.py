"""Saving answers: one at a time (autosave), a section at once, or a workbook's; each checked
against its question, never a silent overwrite of a newer answer, while the request is open
for answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import conditions
from ....core.questionnaire import model as qmodel
from ....db import utcnow
from ....models import Answer, QuestionnaireRequest, RequestStatus, User
from ... import ValidationFailed
from ...audit import Actor
from ..request_status import VENDOR_EDITABLE, transition
from .reading import answer_values, answers_of, questionnaire_of_request, recount, values_of

COMMENT_MAX = 5_000
# Already submitted: submitting again is a no-op, not an error (a double click).
SUBMITTED = frozenset({RequestStatus.submitted, RequestStatus.under_review, RequestStatus.accepted})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
