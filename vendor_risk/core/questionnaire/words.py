"""A questionnaire's conditions told in words, for the places that show them to people: the
library's preview for staff, and the "answer only if ..." note of the spreadsheet vendors fill.

Questions are named by their id (the spreadsheet's first column and the preview show them) and
options by their label as the person answering sees it. Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .markup import plain
from .model import (
    AllOf,
    Answered,
    AnyOf,
    Condition,
    Equals,
    Not,
    OneOf,
    Questionnaire,
    QuestionType,
)


def _label(questionnaire: Questionnaire, question_id: str, value: str) -> str:
    try:
        option = questionnaire.question(question_id).option(value)
    except KeyError:
        option = None
    return f"“{plain(option.label) if option else value}”"


def _verb(questionnaire: Questionnaire, question_id: str) -> str:
    """ "includes" for a multiple choice (any of the options chosen), "is" otherwise."""
    try:
        many = questionnaire.question(question_id).type is QuestionType.multiple_choice
    except KeyError:
        many = False
    return "includes" if many else "is"


def _equals(c: Equals, q: Questionnaire) -> str:
    return f"{c.question} {_verb(q, c.question)} {_label(q, c.question, c.value)}"


def _one_of(c: OneOf, q: Questionnaire) -> str:
    labels = [_label(q, c.question, value) for value in c.values]
    words = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + f" or {labels[-1]}"
    return f"{c.question} {_verb(q, c.question)} {words}"


def _answered(c: Answered, q: Questionnaire) -> str:
    return f"{c.question} is {'answered' if c.answered else 'not answered'}"


def _grouped(condition: Condition, q: Questionnaire) -> str:
    """A part of an "and" or "or": in brackets when it is itself a group."""
    words = condition_in_words(condition, q)
    return f"({words})" if isinstance(condition, AllOf | AnyOf) else words


_WORDS: dict[type, Callable[[Any, Questionnaire], str]] = {
    Equals: _equals,
    OneOf: _one_of,
    Answered: _answered,
    AllOf: lambda c, q: " and ".join(_grouped(part, q) for part in c.conditions),
    AnyOf: lambda c, q: " or ".join(_grouped(part, q) for part in c.conditions),
    Not: lambda c, q: f"not ({condition_in_words(c.condition, q)})",
}


def condition_in_words(condition: Condition, questionnaire: Questionnaire) -> str:
    """``{all: [{question: a, equals: "no"}, ...]}`` as ``a is “No” and ...``."""
    return _WORDS[type(condition)](condition, questionnaire)
