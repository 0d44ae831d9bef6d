"""Reading a request's answers: its questionnaire (parsed once per version), its answers and
files, the questions asked given the answers, the progress counts, and what the review
asked."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import conditions
from ....core.questionnaire import model as qmodel
from ....models import Answer, Evidence, QuestionnaireRequest, QuestionnaireVersion, Vendor
from ..library import questionnaire_of


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
