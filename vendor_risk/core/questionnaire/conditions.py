"""Answers against a questionnaire: which questions are shown, which required ones are still
missing, whether one answer fits its question, what it scores, which findings it opens.

Answers are a mapping ``{question id: answer}`` as :func:`validate_answer` returns them: text
for yes/no and single choice, a tuple of option values for multiple choice, a number, an ISO
date, a tuple of evidence file ids. A missing key, None, empty text or an empty list is no
answer. Pure: no Flask, no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..documents import parse_date
from .model import (
    AllOf,
    Answered,
    AnyOf,
    Condition,
    Equals,
    FindingRule,
    Not,
    OneOf,
    Question,
    Questionnaire,
    QuestionType,
    number,
)

Answers = Mapping[str, Any]

SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 20_000
# Control characters other than tab and line breaks: never typed, often an attack or garbage.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidAnswer(ValueError):
    """An answer that does not fit its question; the message is for the person answering."""


def is_answered(answer: Any) -> bool:
    return answer is not None and answer != "" and not (_is_many(answer) and not answer)


def _is_many(answer: Any) -> bool:
    return isinstance(answer, Collection) and not isinstance(answer, str | bytes)


# ---- conditions ----------------------------------------------------------------------------


def _equals(condition: Equals, answers: Answers) -> bool:
    answer = answers.get(condition.question)
    return condition.value in answer if _is_many(answer) else answer == condition.value


def _one_of(condition: OneOf, answers: Answers) -> bool:
    answer = answers.get(condition.question)
    if _is_many(answer):
        return any(value in answer for value in condition.values)
    return answer in condition.values


def _answered(condition: Answered, answers: Answers) -> bool:
    return is_answered(answers.get(condition.question)) == condition.answered


_EVALUATE: dict[type, Callable[[Any, Answers], bool]] = {
    Equals: _equals,
    OneOf: _one_of,
    Answered: _answered,
    AllOf: lambda c, answers: all(holds(part, answers) for part in c.conditions),
    AnyOf: lambda c, answers: any(holds(part, answers) for part in c.conditions),
    Not: lambda c, answers: not holds(c.condition, answers),
}


def holds(condition: Condition, answers: Answers) -> bool:
    """Whether the condition is true of these answers, read as they are (see
    :func:`visible_questions` for the rule about hidden questions)."""
    return _EVALUATE[type(condition)](condition, answers)


def visible_questions(questionnaire: Questionnaire, answers: Answers) -> tuple[Question, ...]:
    """The questions asked, in order: those without a condition, and those whose condition
    holds and reads only questions that are asked themselves. The answer a hidden question
    may still carry (given before another answer hid it) is thus never read."""
    visible: dict[str, Question] = {}
    for question in questionnaire.questions:
        if _shown(question.show_if, visible, answers):
            visible[question.id] = question
    return tuple(visible.values())


def _shown(condition: Condition | None, visible: Mapping[str, Question], answers: Answers) -> bool:
    if condition is None:
        return True
    return all(q in visible for q in condition.questions()) and holds(condition, answers)


def missing_required(questionnaire: Questionnaire, answers: Answers) -> tuple[Question, ...]:
    """The required questions asked but not answered: what stops a submission."""
    return tuple(
        question
        for question in visible_questions(questionnaire, answers)
        if question.required and not is_answered(answers.get(question.id))
    )


def triggered_findings(questionnaire: Questionnaire, answers: Answers) -> tuple[FindingRule, ...]:
    """The findings whose condition holds, reading only questions that are asked."""
    visible = {q.id: q for q in visible_questions(questionnaire, answers)}
    return tuple(f for f in questionnaire.findings if _shown(f.when, visible, answers))


# ---- one answer ----------------------------------------------------------------------------


def _text(limit: int) -> Callable[[Question, Any], str | None]:
    def check(question: Question, raw: Any) -> str | None:
        if not isinstance(raw, str):
            raise InvalidAnswer("Write the answer as text.")
        text = raw.replace("\r\n", "\n").strip()
        if _CONTROL.search(text):
            raise InvalidAnswer("The answer contains characters that cannot be typed.")
        if len(text) > limit:
            raise InvalidAnswer(f"Keep the answer within {limit:,} characters ({len(text):,}).")
        return text or None

    return check


def _choice(question: Question, raw: Any) -> str | None:
    if not isinstance(raw, str):
        raise InvalidAnswer("Choose one of the answers offered.")
    value = raw.strip().lower()
    if not value:
        return None
    if question.option(value) is None:
        raise InvalidAnswer("Choose one of the answers offered.")
    return value


def _choices(question: Question, raw: Any) -> tuple[str, ...] | None:
    chosen = [raw] if isinstance(raw, str) else raw
    if not _is_many(chosen) or not all(isinstance(value, str) for value in chosen):
        raise InvalidAnswer("Choose among the answers offered.")
    values = {value.strip().lower() for value in chosen} - {""}
    unknown = values - {option.value for option in question.options}
    if unknown:
        raise InvalidAnswer("Choose among the answers offered.")
    # In the order the options are shown, so that the same choice is stored the same way.
    return tuple(o.value for o in question.options if o.value in values) or None


def _number(question: Question, raw: Any) -> int | float | None:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise InvalidAnswer("Write a number, like 12 or 3.5.")
    if isinstance(raw, str) and not raw.strip():
        return None
    try:
        # Through Decimal, so that text reads as the number it writes ("1e3", not "1,5").
        value = float(Decimal(raw.strip()) if isinstance(raw, str) else raw)
    except (InvalidOperation, ValueError, OverflowError):
        raise InvalidAnswer("Write a number, like 12 or 3.5.") from None
    if not math.isfinite(value):
        raise InvalidAnswer("Write a number, like 12 or 3.5.")
    value = number(value)
    if question.min is not None and value < question.min:
        raise InvalidAnswer(f"The answer must be at least {number(question.min)}.")
    if question.max is not None and value > question.max:
        raise InvalidAnswer(f"The answer must be at most {number(question.max)}.")
    return value


def _date(question: Question, raw: Any) -> str | None:
    if isinstance(raw, date):  # a datetime is a date too, but names a moment: refused below
        raw = raw.isoformat()
    if not isinstance(raw, str):
        raise InvalidAnswer("Write a date like 2024-03-31.")
    if not raw.strip():
        return None
    try:
        return parse_date(raw.strip()).isoformat()
    except ValueError:
        raise InvalidAnswer("Write a date like 2024-03-31.") from None


def _files(question: Question, raw: Any) -> tuple[str, ...] | None:
    ids = [raw] if isinstance(raw, str) else raw
    if not _is_many(ids) or not all(isinstance(i, str) and i.strip() for i in ids):
        raise InvalidAnswer("Attach the evidence files.")
    return tuple(dict.fromkeys(i.strip() for i in ids)) or None


def _nothing(question: Question, raw: Any) -> None:
    raise InvalidAnswer("This is information to read: it takes no answer.")


_VALIDATE: dict[QuestionType, Callable[[Question, Any], Any]] = {
    QuestionType.yes_no: _choice,
    QuestionType.yes_no_na: _choice,
    QuestionType.single_choice: _choice,
    QuestionType.multiple_choice: _choices,
    QuestionType.short_text: _text(SHORT_TEXT_MAX),
    QuestionType.long_text: _text(LONG_TEXT_MAX),
    QuestionType.number: _number,
    QuestionType.date: _date,
    QuestionType.file: _files,
    QuestionType.info: _nothing,
}


def validate_answer(question: Question, raw: Any) -> Any:
    """``raw`` (from a form or an API) as the answer to store, or None for no answer;
    :class:`InvalidAnswer` when it does not fit the question."""
    if raw is None:
        return None
    return _VALIDATE[question.type](question, raw)


def answer_score(question: Question, answer: Any) -> float | None:
    """The score of one answer, 0 to 1; None when it has none (an unscored type, no answer,
    ``na`` or an option without a score). A multiple choice scores the sum of its options'
    scores, capped at 1. The weight is not applied: that is the scoring's part."""
    if not question.type.scored:
        return None
    answer = validate_answer(question, answer)
    if answer is None:
        return None
    chosen = answer if question.type is QuestionType.multiple_choice else (answer,)
    scores = [s for s in (question.option(v).score for v in chosen) if s is not None]
    if not scores:
        return None
    # Rounded so that 0.1 + 0.2 scores 0.3, as the author wrote it.
    return min(1.0, round(sum(scores), 9))
