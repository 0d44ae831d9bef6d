"""Load a questionnaire file (docs/questionnaire-format.md) into a :class:`Questionnaire`, or
say every way it is wrong as ``FILE:LINE: path.to.field: what is wrong``.

The JSON Schema (schemas/questionnaire.schema.json) is checked first; what a schema cannot say
(unique ids, conditions that refer to earlier questions and to options that exist, fields that
only some types take, control identifiers) is checked while the questionnaire is built.
Pure: no Flask, no database.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .. import documents
from ..documents import JsonPath, ParsedDocument, Problem, format_path
from .controls import FRAMEWORKS
from .markup import sanitise
from .model import (
    DEFAULT_OPTIONS,
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
    number,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "questionnaire.schema.json"
# Far above any real questionnaire (the largest VSAQ is about 300 KB).
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class LoadResult:
    """The questionnaire read, or (when it is None) the problems that stopped it."""

    name: str
    questionnaire: Questionnaire | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.questionnaire is not None


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Draft202012Validator:
    return documents.compile_schema(schema())


def load(path: str | os.PathLike, *, fmt: str | None = None) -> LoadResult:
    """Read a questionnaire file, YAML or JSON (from the extension, else the content)."""
    return _check(documents.read_document(path, max_bytes=MAX_BYTES, fmt=fmt))


def parse(text: str, name: str = "<questionnaire>", fmt: str | None = None) -> LoadResult:
    """A questionnaire from YAML or JSON text; ``name`` is the file problems are told in."""
    return _check(documents.parse_document(text, name=name, fmt=fmt))


def from_document(document: Any, name: str = "<document>") -> LoadResult:
    """A questionnaire from a document already parsed (an import builds one): the same checks,
    its problems told without lines."""
    return _check(ParsedDocument(name, document))


def _check(parsed: ParsedDocument) -> LoadResult:
    if parsed.problems:  # not even read
        return LoadResult(parsed.name, None, parsed.problems)
    problems = documents.schema_problems(_validator(), parsed.document)
    questionnaire = None
    if not problems:  # the builder may then trust the document's shape
        questionnaire, problems = _Builder(parsed.document).build()
    if problems:
        return LoadResult(parsed.name, None, tuple(parsed.locate(problems)))
    return LoadResult(parsed.name, questionnaire)


# Fields that only some types take, with those types as the message names them.
_CHOICES = (
    QuestionType.yes_no,
    QuestionType.yes_no_na,
    QuestionType.single_choice,
    QuestionType.multiple_choice,
)
_ONLY_FOR: dict[str, tuple[QuestionType, ...]] = {
    "options": _CHOICES,
    "inherent": _CHOICES,
    "min": (QuestionType.number,),
    "max": (QuestionType.number,),
}


def _names(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else values[0]


class _Builder:
    """Builds the questionnaire from a schema-valid document, noting each problem found."""

    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        self.problems: list[Problem] = []
        self.audience = Audience(document["audience"])
        self.all_question_ids = {
            q["id"] for section in document["sections"] for q in section["questions"]
        }
        self.earlier: dict[str, Question] = {}  # the questions built so far, by id
        # Where each kind of id was first used, to say so when it is used again.
        self.first_use: dict[str, dict[str, JsonPath]] = {
            "section": {},
            "question": {},
            "finding": {},
        }

    def build(self) -> tuple[Questionnaire | None, list[Problem]]:
        raw = self.document
        sections = tuple(self.section(s, ("sections", i)) for i, s in enumerate(raw["sections"]))
        questionnaire = Questionnaire(
            id=raw["id"],
            title=self.text(raw, (), "title", required=True),
            version=int(raw["version"]),
            audience=self.audience,
            description=self.text(raw, (), "description"),
            sections=sections,
        )
        return (None if self.problems else questionnaire), self.problems

    def problem(self, path: JsonPath, message: str) -> None:
        self.problems.append(Problem(path, message))

    def text(self, raw: Mapping[str, Any], path: JsonPath, key: str, required: bool = False) -> str:
        """The field's text with only the allowed markup left."""
        clean = sanitise(raw.get(key, "")).strip()
        if required and not clean:
            self.problem((*path, key), "nothing is left once the markup not allowed is removed")
        return clean

    def unique(self, kind: str, key: str, path: JsonPath) -> None:
        seen = self.first_use[kind]
        if key in seen:
            first = format_path(seen[key])
            self.problem(path, f"{kind} id {key!r} is used twice (also at {first})")
        else:
            seen[key] = path[:-1]

    # ---- sections and questions ------------------------------------------------------------

    def section(self, raw: Mapping[str, Any], path: JsonPath) -> Section:
        self.unique("section", raw["id"], (*path, "id"))
        questions = tuple(
            self.question(q, (*path, "questions", i)) for i, q in enumerate(raw["questions"])
        )
        # Findings come after their section's questions: they may read any of them.
        findings = tuple(
            self.finding(f, (*path, "findings", i)) for i, f in enumerate(raw.get("findings", []))
        )
        return Section(
            id=raw["id"],
            title=self.text(raw, path, "title", required=True),
            description=self.text(raw, path, "description"),
            weight=number(raw.get("weight", 1)),
            questions=questions,
            findings=findings,
        )

    def question(self, raw: Mapping[str, Any], path: JsonPath) -> Question:
        kind = QuestionType(raw["type"])
        self.unique("question", raw["id"], (*path, "id"))
        for key, types in _ONLY_FOR.items():
            if key in raw and kind not in types:
                self.problem((*path, key), f"only {_names(types)} questions take {key}")
        show_if = None
        if "show_if" in raw:
            show_if = self.condition(raw["show_if"], (*path, "show_if"), owner=raw["id"])
        options = self.options(kind, raw, path)
        question = Question(
            id=raw["id"],
            type=kind,
            text=self.text(raw, path, "text", required=True),
            help=self.text(raw, path, "help"),
            weight=self.weight(kind, raw, path),
            required=self.required(kind, raw, path),
            critical=self.critical(kind, raw, path),
            evidence=self.evidence(kind, raw, path),
            controls=self.controls(raw, path),
            show_if=show_if,
            options=options,
            min=raw.get("min") if kind is QuestionType.number else None,
            max=raw.get("max") if kind is QuestionType.number else None,
            inherent=self.inherent(kind, raw, path),
        )
        self.check_number_range(question, path)
        counts = question.weight > 0 or question.critical
        unscored = options and all(option.score is None for option in options)
        if kind.scored and counts and unscored:
            self.problem(
                (*path, "options"),
                "no option has a score: give them scores, or weight: 0 (and not critical)",
            )
        self.earlier.setdefault(question.id, question)
        return question

    def weight(self, kind: QuestionType, raw: Mapping[str, Any], path: JsonPath) -> float:
        if kind.scored:
            return number(raw.get("weight", 1))
        if raw.get("weight", 0) != 0:
            self.problem((*path, "weight"), f"a {kind} question has no score: leave weight out")
        return 0

    def required(self, kind: QuestionType, raw: Mapping[str, Any], path: JsonPath) -> bool:
        if kind.takes_answer:
            return raw.get("required", True)
        if raw.get("required"):
            self.problem((*path, "required"), "an info text takes no answer: it cannot be required")
        return False

    def critical(self, kind: QuestionType, raw: Mapping[str, Any], path: JsonPath) -> bool:
        if raw.get("critical") and not kind.scored:
            self.problem((*path, "critical"), f"a {kind} question has no score, so it cannot fail")
        return bool(raw.get("critical", False))

    def evidence(self, kind: QuestionType, raw: Mapping[str, Any], path: JsonPath) -> Evidence:
        evidence = Evidence(raw.get("evidence", Evidence.none))
        if evidence is not Evidence.none and not kind.takes_answer:
            self.problem((*path, "evidence"), "an info text takes no answer, nor evidence")
        return evidence

    def inherent(
        self, kind: QuestionType, raw: Mapping[str, Any], path: JsonPath
    ) -> InherentFactor | None:
        if "inherent" not in raw:
            return None
        if self.audience is not Audience.internal:
            self.problem(
                (*path, "inherent"),
                "only an internal questionnaire (audience: internal) informs inherent risk",
            )
        return InherentFactor(raw["inherent"])

    def controls(self, raw: Mapping[str, Any], path: JsonPath) -> Controls:
        given = raw.get("controls", {})
        for framework, check in FRAMEWORKS.items():
            for index, identifier in enumerate(given.get(framework, [])):
                message = check(identifier)
                if message:
                    self.problem((*path, "controls", framework, index), message)
        return Controls(tuple(given.get("nist_csf", [])), tuple(given.get("iso27001", [])))

    def check_number_range(self, question: Question, path: JsonPath) -> None:
        low, high = question.min, question.max
        if low is not None and high is not None and low > high:
            self.problem((*path, "max"), f"max ({high}) is below min ({low})")

    # ---- options ---------------------------------------------------------------------------

    def options(
        self, kind: QuestionType, raw: Mapping[str, Any], path: JsonPath
    ) -> tuple[Option, ...]:
        if not kind.has_options:
            return ()
        given = raw.get("options")
        if kind in DEFAULT_OPTIONS:
            return self.yes_no_options(kind, given, (*path, "options"))
        if given is None or len(given) < 2:
            self.problem((*path, "options"), f"a {kind} question needs at least two options")
            return ()
        return self.option_list(given, (*path, "options"), defaults={})

    def yes_no_options(
        self, kind: QuestionType, given: list[Any] | None, path: JsonPath
    ) -> tuple[Option, ...]:
        defaults = {option.value: option for option in DEFAULT_OPTIONS[kind]}
        if given is None:
            return tuple(defaults.values())
        values = [option["value"] for option in given]
        if sorted(values) != sorted(defaults):
            words = _names([repr(v) for v in defaults])
            self.problem(path, f"the options of a {kind} question must be exactly {words}")
        for index, option in enumerate(given):
            if option["value"] == "na" and option.get("score") is not None:
                self.problem((*path, index, "score"), "na has no score: leave score out")
        return self.option_list(given, path, defaults)

    def option_list(
        self, given: list[Any], path: JsonPath, defaults: Mapping[str, Option]
    ) -> tuple[Option, ...]:
        """Options as written; a default (yes/no/na) fills in what an entry leaves out."""
        options: list[Option] = []
        seen: set[str] = set()
        for index, raw in enumerate(given):
            value = raw["value"]
            if value in seen:
                self.problem((*path, index, "value"), f"option {value!r} is given twice")
            seen.add(value)
            default = defaults.get(value, Option(value, value, None))
            label = self.text(raw, (*path, index), "label") or default.label
            score = raw.get("score")
            score = default.score if score is None or value == "na" else number(score)
            options.append(Option(value, label, score))
        return tuple(options)

    # ---- conditions and findings -----------------------------------------------------------

    def condition(
        self, raw: Mapping[str, Any], path: JsonPath, owner: str | None = None
    ) -> Condition:
        """The condition as written, each question it reads checked to be an earlier one."""
        if "all" in raw or "any" in raw:
            key = "all" if "all" in raw else "any"
            parts = tuple(
                self.condition(part, (*path, key, i), owner) for i, part in enumerate(raw[key])
            )
            return AllOf(parts) if key == "all" else AnyOf(parts)
        if "not" in raw:
            return Not(self.condition(raw["not"], (*path, "not"), owner))
        target = self.referenced(raw["question"], (*path, "question"), owner)
        if "answered" in raw:
            return Answered(raw["question"], raw["answered"])
        if "equals" in raw:
            self.check_values(target, (*path, "equals"), {(*path, "equals"): raw["equals"]})
            return Equals(raw["question"], raw["equals"])
        values = raw["one_of"]
        each = {(*path, "one_of", i): value for i, value in enumerate(values)}
        self.check_values(target, (*path, "one_of"), each)
        return OneOf(raw["question"], tuple(values))

    def referenced(self, question_id: str, path: JsonPath, owner: str | None) -> Question | None:
        """The earlier question a condition reads, or None (and a problem) if there is none."""
        question = self.earlier.get(question_id)
        if question is not None:
            if not question.type.takes_answer:
                self.problem(path, f"{question_id!r} is an info text: it has no answer to test")
                return None
            return question
        if question_id == owner:
            self.problem(path, "a question's show_if cannot read the question itself")
        elif question_id in self.all_question_ids:
            self.problem(
                path,
                f"{question_id!r} comes later in the file: a condition may only refer to "
                "questions before it",
            )
        else:
            guess = get_close_matches(question_id, sorted(self.all_question_ids), n=1)
            hint = f": did you mean {guess[0]!r}?" if guess else ""
            self.problem(path, f"there is no question {question_id!r}{hint}")
        return None

    def check_values(
        self, question: Question | None, path: JsonPath, values: Mapping[JsonPath, str]
    ) -> None:
        """The values a condition compares with are options of the question it reads."""
        if question is None:
            return
        if not question.type.has_options:
            self.problem(
                path,
                f"{question.id!r} is a {question.type} question: test it with answered: "
                "true or false",
            )
            return
        known = [option.value for option in question.options]
        for path, value in values.items():
            if value not in known:
                self.problem(
                    path, f"{question.id!r} has no option {value!r} (it has {', '.join(known)})"
                )

    def finding(self, raw: Mapping[str, Any], path: JsonPath) -> FindingRule:
        self.unique("finding", raw["id"], (*path, "id"))
        return FindingRule(
            id=raw["id"],
            when=self.condition(raw["when"], (*path, "when")),
            severity=Severity(raw["severity"]),
            title=self.text(raw, path, "title", required=True),
            why=self.text(raw, path, "why"),
        )
