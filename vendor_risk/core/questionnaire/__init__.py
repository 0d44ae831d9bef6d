"""Questionnaire definitions (docs/questionnaire-format.md): the frozen model, the loader that
checks a file into it, the conditions and scores of answers, and the markup subset of texts.

Pure: no Flask, no database (``cli`` is imported only by the app's command line).
"""

from __future__ import annotations

from .conditions import (
    InvalidAnswer,
    answer_score,
    holds,
    missing_required,
    triggered_findings,
    validate_answer,
    visible_questions,
)
from .loader import LoadResult, from_document, load, parse
from .model import (
    AllOf,
    Answered,
    AnyOf,
    Audience,
    Condition,
    Controls,
    Equals,
    Evidence,
    FindingRule,
    InherentFactor,
    Not,
    OneOf,
    Option,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    Severity,
)

__all__ = [
    "AllOf",
    "Answered",
    "AnyOf",
    "Audience",
    "Condition",
    "Controls",
    "Equals",
    "Evidence",
    "FindingRule",
    "InherentFactor",
    "InvalidAnswer",
    "LoadResult",
    "Not",
    "OneOf",
    "Option",
    "Question",
    "QuestionType",
    "Questionnaire",
    "Section",
    "Severity",
    "answer_score",
    "from_document",
    "holds",
    "load",
    "missing_required",
    "parse",
    "triggered_findings",
    "validate_answer",
    "visible_questions",
]
