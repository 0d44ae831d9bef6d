"""Review notes: a clarification (shown to the vendor once the request is returned) and an
internal note (never shown to vendors) per answer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import model as qmodel
from ....core.questionnaire.conditions import visible_questions
from ....core.secret_detection import secret_problem
from ....models import Answer, QuestionnaireRequest, QuestionnaireVersion, RequestStatus
from ... import ValidationFailed
from ...audit import Actor
from ..answers import answers_of
from ..library import questionnaire_of
from ..request_status import AWAITING_REVIEW
from ..requests import transition
from .common import NoteConflict, ReviewRefused, UnknownQuestion, note_stamp

# A question to the vendor fits in a paragraph or two; a note may hold a page of reasoning.
CLARIFICATION_MAX = 2_000
NOTE_MAX = 10_000


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
