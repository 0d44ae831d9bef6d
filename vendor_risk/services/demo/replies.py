"""How a demo vendor answers a questionnaire: its story's picks, the options a lean chooses
for every other question, and the plan of answers that follows (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ...core.questionnaire import conditions
from ...core.questionnaire.model import Option, Question, Questionnaire, QuestionType

# A date question nobody picked an answer for (the last penetration test, the end of a SOC 2
# period) is answered with a day this long ago.
RECENT_DAYS = 120


@dataclass(frozen=True)
class Replies:
    """How a vendor answers one questionnaire. ``picks`` tell its story (question id ->
    answer) and name every answer that is neither better nor worse than another (texts,
    numbers, facts of weight 0); every other question asked gets the option that ``lean``
    (a key of :data:`LEANS`) chooses. ``comments`` go with some answers: a "na" needs one,
    its justification."""

    lean: str
    picks: Mapping[str, Any]
    comments: Mapping[str, str] = field(default_factory=dict)


def _scoring_options(question: Question) -> list[Option]:
    return [option for option in question.options if option.score is not None]


def best_answer(question: Question) -> Any:
    """The option that scores highest; of a multiple choice, every option that scores."""
    options = _scoring_options(question)
    if question.type is QuestionType.multiple_choice:
        return [option.value for option in options]
    return max(options, key=lambda option: option.score).value


def fair_answer(question: Question) -> Any:
    """A middling answer: the option scoring closest to one half (the first of a tie, so a
    yes/no question gets "yes"); of a multiple choice, the first option that scores."""
    options = _scoring_options(question)
    if question.type is QuestionType.multiple_choice:
        return [options[0].value]
    return min(options, key=lambda option: abs(option.score - 0.5)).value


LEANS: dict[str, Callable[[Question], Any]] = {"best": best_answer, "fair": fair_answer}


def _answer_to(question: Question, replies: Replies, today: date) -> Any:
    if question.id in replies.picks:
        return replies.picks[question.id]
    if question.scored:
        return LEANS[replies.lean](question)
    if question.type is QuestionType.date:
        return today - timedelta(days=RECENT_DAYS)
    raise KeyError(f"{question.id}: no answer is better than another here: pick one")


def planned_answers(
    questionnaire: Questionnaire, replies: Replies, today: date
) -> dict[str, tuple[Any, str]]:
    """(answer, comment) by question id for every question asked that is answered by typing
    or choosing, in the questionnaire's order, each asked or not given the answers before it
    (an answer may show follow-up questions). Optional questions are answered only when
    picked; file questions are answered by their files (:func:`_attach_files`). Pure."""
    visible = conditions.visible_questions
    values: dict[str, Any] = {}
    plan: dict[str, tuple[Any, str]] = {}
    for question in questionnaire.questions:
        if question.type in (QuestionType.info, QuestionType.file):
            continue
        if not question.required and question.id not in replies.picks:
            continue
        if question.show_if is not None and question not in visible(questionnaire, values):
            continue
        values[question.id] = _answer_to(question, replies, today)
        plan[question.id] = (values[question.id], replies.comments.get(question.id, ""))
    return plan
