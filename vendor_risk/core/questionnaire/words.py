"""A questionnaire's conditions told in words, for the places that show them to people: the
library's preview for staff, and the "answer only if ..." note of the spreadsheet vendors fill.

Questions are named by their id in the preview (staff see the ids beside them) and by their
text in the spreadsheet's notes (a vendor reads questions, not ids); options by their label as
the person answering sees it. Pure: no Flask, no database.
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


# A question named by its text (the spreadsheet's notes) is cut at a word after this many
# characters: the note names it, the question's own row says it in full.
_TEXT_CHARACTERS = 80

Namer = Callable[[str], str]


def by_id(questionnaire: Questionnaire) -> Namer:
    """Questions named by their id: the library's preview, for staff, shows the ids beside."""
    return lambda question_id: question_id


def by_text(questionnaire: Questionnaire) -> Namer:
    """Questions named by their text, quoted (and shortened): what a vendor reads."""

    def name(question_id: str) -> str:
        try:
            text = " ".join(plain(questionnaire.question(question_id).text).split())
        except KeyError:
            return question_id
        if len(text) > _TEXT_CHARACTERS:
            text = text[:_TEXT_CHARACTERS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return f"“{text}”"

    return name


def _equals(c: Equals, q: Questionnaire, name: Namer) -> str:
    return f"{name(c.question)} {_verb(q, c.question)} {_label(q, c.question, c.value)}"


def _one_of(c: OneOf, q: Questionnaire, name: Namer) -> str:
    labels = [_label(q, c.question, value) for value in c.values]
    words = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + f" or {labels[-1]}"
    return f"{name(c.question)} {_verb(q, c.question)} {words}"


def _answered(c: Answered, q: Questionnaire, name: Namer) -> str:
    return f"{name(c.question)} is {'answered' if c.answered else 'not answered'}"


def _grouped(condition: Condition, q: Questionnaire, name: Namer) -> str:
    """A part of an "and" or "or": in brackets when it is itself a group."""
    words = _WORDS[type(condition)](condition, q, name)
    return f"({words})" if isinstance(condition, AllOf | AnyOf) else words


_WORDS: dict[type, Callable[[Any, Questionnaire, Namer], str]] = {
    Equals: _equals,
    OneOf: _one_of,
    Answered: _answered,
    AllOf: lambda c, q, n: " and ".join(_grouped(part, q, n) for part in c.conditions),
    AnyOf: lambda c, q, n: " or ".join(_grouped(part, q, n) for part in c.conditions),
    Not: lambda c, q, n: f"not ({_WORDS[type(c.condition)](c.condition, q, n)})",
}


def condition_in_words(
    condition: Condition,
    questionnaire: Questionnaire,
    naming: Callable[[Questionnaire], Namer] = by_id,
) -> str:
    """``{all: [{question: a, equals: "no"}, ...]}`` as ``a is “No” and ...`` (``by_id``), or
    with each question's text in place of its id (``by_text``)."""
    return _WORDS[type(condition)](condition, questionnaire, naming(questionnaire))
