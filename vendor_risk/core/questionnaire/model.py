"""A questionnaire as loaded (docs/questionnaire-format.md): frozen, with every default
spelled out and every text sanitised, so that two files saying the same thing give equal
objects, the same document and the same content hash.

Pure: no Flask, no database. Built only by the loader, which checks what these types assume.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

FORMAT_VERSION = 1


class QuestionType(StrEnum):
    yes_no = "yes_no"
    yes_no_na = "yes_no_na"
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    short_text = "short_text"
    long_text = "long_text"
    number = "number"
    date = "date"
    file = "file"
    info = "info"

    @property
    def scored(self) -> bool:
        """Whether answers of this type have a score (the format's table)."""
        return self in _WITH_OPTIONS

    @property
    def has_options(self) -> bool:
        return self in _WITH_OPTIONS

    @property
    def takes_answer(self) -> bool:
        """False for ``info``: a text shown to the reader, never answered."""
        return self is not QuestionType.info


_WITH_OPTIONS = frozenset(
    {
        QuestionType.yes_no,
        QuestionType.yes_no_na,
        QuestionType.single_choice,
        QuestionType.multiple_choice,
    }
)


class Audience(StrEnum):
    vendor = "vendor"  # sent to vendor contacts
    internal = "internal"  # filled by our staff (intake)


class Evidence(StrEnum):
    none = "none"
    requested = "requested"
    required = "required"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class InherentFactor(StrEnum):
    criticality = "criticality"
    substitutability = "substitutability"
    data_sensitivity = "data_sensitivity"
    data_volume = "data_volume"
    access = "access"


def number(value: float) -> int | float:
    """``2.0`` as ``2``: YAML's ``2`` and ``2.0`` mean the same, and must hash the same."""
    return int(value) if float(value).is_integer() else float(value)


# ---- conditions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Equals:
    """The answer is ``value`` (multiple choice: ``value`` is among those chosen)."""

    question: str
    value: str

    def questions(self) -> Iterator[str]:
        yield self.question

    def to_document(self) -> dict[str, Any]:
        return {"question": self.question, "equals": self.value}


@dataclass(frozen=True)
class OneOf:
    """The answer is one of ``values`` (multiple choice: any of them is chosen)."""

    question: str
    values: tuple[str, ...]

    def questions(self) -> Iterator[str]:
        yield self.question

    def to_document(self) -> dict[str, Any]:
        return {"question": self.question, "one_of": list(self.values)}


@dataclass(frozen=True)
class Answered:
    """The question has an answer (or, with ``answered=False``, has none)."""

    question: str
    answered: bool = True

    def questions(self) -> Iterator[str]:
        yield self.question

    def to_document(self) -> dict[str, Any]:
        return {"question": self.question, "answered": self.answered}


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]

    def questions(self) -> Iterator[str]:
        for condition in self.conditions:
            yield from condition.questions()

    def to_document(self) -> dict[str, Any]:
        return {"all": [c.to_document() for c in self.conditions]}


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def questions(self) -> Iterator[str]:
        for condition in self.conditions:
            yield from condition.questions()

    def to_document(self) -> dict[str, Any]:
        return {"any": [c.to_document() for c in self.conditions]}


@dataclass(frozen=True)
class Not:
    condition: Condition

    def questions(self) -> Iterator[str]:
        yield from self.condition.questions()

    def to_document(self) -> dict[str, Any]:
        return {"not": self.condition.to_document()}


Condition = Equals | OneOf | Answered | AllOf | AnyOf | Not


# ---- the questionnaire ---------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One answer a question offers. ``score`` 1 is the best (or least risky) answer, 0 the
    worst; None means choosing it gives no score, as ``na`` does."""

    value: str
    label: str
    score: float | None = None

    def to_document(self) -> dict[str, Any]:
        score = None if self.score is None else number(self.score)
        return {"value": self.value, "label": self.label, "score": score}


# The options of yes_no and yes_no_na when a file gives none; a file may change their labels
# and scores (na never has one).
YES = Option("yes", "Yes", 1)
NO = Option("no", "No", 0)
NA = Option("na", "Not applicable", None)
DEFAULT_OPTIONS = {QuestionType.yes_no: (YES, NO), QuestionType.yes_no_na: (YES, NO, NA)}


@dataclass(frozen=True)
class Controls:
    """The framework controls a question informs."""

    nist_csf: tuple[str, ...] = ()
    iso27001: tuple[str, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {"nist_csf": list(self.nist_csf), "iso27001": list(self.iso27001)}


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    text: str
    help: str = ""
    weight: float = 1
    required: bool = True
    critical: bool = False
    evidence: Evidence = Evidence.none
    controls: Controls = field(default_factory=Controls)
    show_if: Condition | None = None
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    inherent: InherentFactor | None = None

    @property
    def scored(self) -> bool:
        """Whether its answer counts in the score: a scored type with a weight above 0."""
        return self.type.scored and self.weight > 0

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": self.id,
            "type": self.type.value,
            "text": self.text,
            "help": self.help,
            "weight": number(self.weight),
            "required": self.required,
            "critical": self.critical,
            "evidence": self.evidence.value,
            "controls": self.controls.to_document(),
        }
        # Fields that only some types have are written only for them, so that the document
        # is one the loader accepts.
        if self.show_if is not None:
            document["show_if"] = self.show_if.to_document()
        if self.type.has_options:
            document["options"] = [o.to_document() for o in self.options]
        if self.type is QuestionType.number:
            document["min"] = None if self.min is None else number(self.min)
            document["max"] = None if self.max is None else number(self.max)
        if self.inherent is not None:
            document["inherent"] = self.inherent.value
        return document


@dataclass(frozen=True)
class FindingRule:
    """A finding opened when ``when`` holds for the answers (and the questions it reads are
    shown)."""

    id: str
    when: Condition
    severity: Severity
    title: str
    why: str = ""

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "when": self.when.to_document(),
            "severity": self.severity.value,
            "title": self.title,
            "why": self.why,
        }


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]
    description: str = ""
    weight: float = 1
    findings: tuple[FindingRule, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "weight": number(self.weight),
            "questions": [q.to_document() for q in self.questions],
            "findings": [f.to_document() for f in self.findings],
        }


@dataclass(frozen=True)
class Questionnaire:
    id: str
    title: str
    version: int
    audience: Audience
    sections: tuple[Section, ...]
    description: str = ""
    format: int = FORMAT_VERSION

    @functools.cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in the order of the file."""
        return tuple(q for section in self.sections for q in section.questions)

    @functools.cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def question(self, question_id: str) -> Question:
        """The question with this id; KeyError if there is none."""
        return self._by_id[question_id]

    @property
    def findings(self) -> tuple[FindingRule, ...]:
        return tuple(f for section in self.sections for f in section.findings)

    @property
    def scored(self) -> bool:
        """Whether any answer counts in a score (an intake questionnaire may have none)."""
        return any(q.scored for q in self.questions)

    def to_document(self) -> dict[str, Any]:
        """The plain dict of the format, every default written out; loading it gives this
        questionnaire back."""
        return {
            "format": self.format,
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "audience": self.audience.value,
            "description": self.description,
            "sections": [s.to_document() for s in self.sections],
        }

    def canonical_json(self) -> str:
        """One spelling of the content: keys sorted, no spaces, defaults written out."""
        return json.dumps(
            self.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON: the identity of a stored version."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
