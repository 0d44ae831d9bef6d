"""Writing our format: the sections and questions of the VSAQ items, each item's condition
resolved, finding rules from warnings, and the options' scores from what the warnings name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .conditions import (
    _TRUE,
    Condition,
    _Built,
    _combined,
    _Cycle,
    _Dependent,
    _excerpt,
    _joined,
    _questions_in,
    _Resolved,
    _Resolver,
)
from .items import _Item, _Reader
from .limits import _MAX_TITLE
from .naming import _Ids, _plain, _shorten

_SEVERITIES = ("low", "medium", "high", "critical")
_LINE_INPUT_TYPES = {"date": "date", "number": "number"}
_NONE_OF_THE_ABOVE = "None of the above."


@dataclass(eq=False)
class _Scored:
    """A choice question whose scores wait until every warning has been read."""

    question: dict[str, Any]
    labels: dict[str, str]  # option value -> label
    flagged: dict[str, str] = field(default_factory=dict)  # option value -> worst severity


_KEY_ORDER = ("id", "type", "text", "help", "weight", "required", "critical", "show_if")
_SECTION_KEY_ORDER = ("id", "title", "description", "questions", "findings")


class _Writer:
    def __init__(self, reader: _Reader, question_ids: _Ids, section_ids: _Ids) -> None:
        self.reader = reader
        self.question_ids = question_ids
        self.section_ids = section_ids
        self.resolver = _Resolver(reader.targets, self.visibility)
        self.sections: list[dict[str, Any]] = []
        self.section_of: dict[str, int] = {}  # question id -> index of its section
        self.scored: dict[str, _Scored] = {}
        self.findings: list[dict[str, Any]] = []
        # Each item's own condition, once resolved (None: refused, and reported); the items
        # whose condition is being resolved, and the `^id` names that led from one to the
        # next, innermost last: an item met again there is a loop.
        self.built: dict[_Item, _Built | None] = {}
        self.expanding: list[_Item | str] = []

    def problem(self, item: _Item, message: str) -> None:
        self.reader.problem(item.place, message)

    # Conditions

    def own_condition(self, item: _Item) -> _Resolved | None:
        """The item's own `cond`, `^id` expanded; None without one, or when it is refused
        (its problems are reported once, at the item)."""
        built = self.own_built(item)
        if built is None or isinstance(built.condition, bool):
            return None
        return _Resolved(built.condition, built.references)

    def own_built(self, item: _Item) -> _Built | None:
        if item in self.built:
            return self.built[item]
        if item in self.expanding:
            start = self.expanding.index(item)
            raise _Cycle(item, [n for n in self.expanding[start:] if isinstance(n, str)])
        expression = item.text("cond")
        if not expression:
            self.built[item] = _TRUE
            return _TRUE
        self.expanding.append(item)
        try:
            built, errors = self.resolver.resolve(expression, item)
        except _Cycle as cycle:
            self.built[item] = None
            if cycle.item is not item:
                raise  # reported where the loop starts, once
            errors, built = [str(cycle)], None
        finally:
            self.expanding.pop()
        if built is not None and built.condition is False:
            errors.append("never holds once ^ is expanded, so the item would never be shown")
            built = None
        for error in errors:
            self.problem(item, f'condition "{_excerpt(expression)}": {error}')
        self.built[item] = built
        return built

    def visibility(self, target: _Item, reader: _Item, name: str) -> _Built:
        """`^id` read in the condition of `reader`: the target's own condition and those of the
        blocks around it, except the blocks around the reader too, whose conditions already
        hold wherever the reader's condition is read (its `show_if` joins them)."""
        around_reader = set(reader.ancestors)
        parts = []
        self.expanding.append(name)
        try:
            for holder in [*target.ancestors, target]:
                if holder in around_reader:
                    continue
                built = self.own_built(holder)
                if built is None:
                    raise _Dependent
                parts.append(built)
        finally:
            self.expanding.pop()
        visible = _combined("all", parts)
        # Named after the ^id that brought them in, for the messages about them.
        references = tuple((name, q) for _, q in visible.references)
        return replace(visible, references=references, expanded=True)

    def check_looks_back(self, item: _Item, resolved: _Resolved | None) -> None:
        if resolved is None:
            return
        for name, question in resolved.references:
            if question == item.key:
                self.problem(
                    item,
                    f'condition "{_excerpt(item.text("cond"))}": through "{name}", its '
                    "visibility depends on its own answer",
                )
            elif question not in self.section_of:
                later = (
                    f'"{name}", whose condition reads "{question}"'
                    if name.startswith("^")
                    else f'"{name}"'
                )
                self.problem(
                    item,
                    f'condition "{_excerpt(item.text("cond"))}" refers to {later}, which comes '
                    "later in the questionnaire; a condition may only refer to earlier questions",
                )

    # Structure

    def write(self, root: _Item | None, level: list[_Item]) -> list[dict[str, Any]]:
        """The sections, from the items at their level (see `_split_root`)."""
        inherited: list[Condition] = []
        if root is not None:
            resolved = self.own_condition(root)
            self.check_looks_back(root, resolved)
            inherited = [resolved.condition] if resolved else []
        loose: list[_Item] = []
        for item in level:
            if item.kind == "block":
                self.write_loose(loose, inherited)
                loose = []
                self.write_section(item, inherited)
            else:
                loose.append(item)
        self.write_loose(loose, inherited)
        self.place_findings()
        self.apply_warnings()
        return [
            {
                key: [_ordered(question) for question in section[key]]
                if key == "questions"
                else section[key]
                for key in _SECTION_KEY_ORDER
                if key in section
            }
            for section in self.sections
            if section["questions"]
        ]

    def write_loose(self, items: list[_Item], inherited: list[Condition]) -> None:
        if any(item.kind != "spacer" for item in items):
            section = self.new_section(self.section_ids.claim("general"), "General")
            for item in items:
                self.write_item(item, inherited, section)

    def write_section(self, block: _Item, inherited: list[Condition]) -> None:
        text = block.text()
        section = self.new_section(block.key, text or f"Section {len(self.sections) + 1}")
        if len(text) > _MAX_TITLE:  # a block's text may be a whole introduction
            section["title"] = _shorten(_plain(text), _MAX_TITLE)
            section["description"] = text
        resolved = self.own_condition(block)
        self.check_looks_back(block, resolved)
        conditions = inherited + ([resolved.condition] if resolved else [])
        for child in block.children:
            self.write_item(child, conditions, section)

    def new_section(self, key: str, title: str) -> dict[str, Any]:
        section: dict[str, Any] = {"id": key, "title": title, "questions": []}
        self.sections.append(section)
        return section

    def add(
        self, section: dict[str, Any], question: dict[str, Any], shown: list[Condition]
    ) -> None:
        if shown:
            question["show_if"] = _joined("all", shown)
        section["questions"].append(question)
        self.section_of[question["id"]] = len(self.sections) - 1

    # Items

    def write_item(self, item: _Item, inherited: list[Condition], section: dict[str, Any]) -> None:
        if item.kind == "spacer":
            return
        resolved = self.own_condition(item)
        if item.kind == "tip":
            self.write_tip(item, inherited, resolved, section)
            return
        self.check_looks_back(item, resolved)
        shown = inherited + ([resolved.condition] if resolved else [])
        if item.kind == "block":
            if item.text():
                self.add(section, {"id": item.key, "type": "info", "text": item.text()}, shown)
            for child in item.children:
                self.write_item(child, shown, section)
            return
        question = self.question(item)
        if question is not None:
            self.add(section, question, shown)

    def question(self, item: _Item) -> dict[str, Any] | None:
        text = item.text()
        question: dict[str, Any] = {"id": item.key, "type": "", "text": text}
        if item.kind == "info":
            question["type"] = "info"
            return question if text else None
        if not text and item.kind not in ("radiogroup", "checkgroup"):
            self.problem(item, "a question needs a text")
            return None
        if item.kind == "yesno":
            question["type"] = "yes_no"
            labels = {"yes": item.text("yes"), "no": item.text("no")}
            self.scored[item.key] = _Scored(question, labels)
        elif item.kind == "check":
            question["type"] = "yes_no"
            self.scored[item.key] = _Scored(question, {"yes": "", "no": ""})
        elif item.is_single_check:
            (choice,) = item.choices
            question["type"] = "yes_no"
            question["text"] = text or choice.text
            label = choice.text if text else ""
            self.scored[item.key] = _Scored(question, {"yes": label, "no": ""})
        elif item.kind in ("radiogroup", "checkgroup"):
            single = item.kind == "radiogroup"
            question["type"] = "single_choice" if single else "multiple_choice"
            question["text"] = text or ("Choose one:" if single else "Choose all that apply:")
            if not single:
                question["required"] = False
            labels = {choice.value: choice.text for choice in item.choices}
            if item.raw.get("defaultChoice") is True:
                taken = _Ids()
                taken.taken.update(labels)
                labels[taken.claim("none-of-the-above")] = _NONE_OF_THE_ABOVE
            self.scored[item.key] = _Scored(question, labels)
        elif item.kind == "line":
            question["type"] = _LINE_INPUT_TYPES.get(item.text("inputType"), "short_text")
            question["required"] = item.raw.get("required") is True
        elif item.kind == "box":
            question["type"] = "long_text"
            question["required"] = item.raw.get("required") is True
        else:  # upload
            question["type"] = "file"
            question["required"] = False
        if question.get("required") is True:
            del question["required"]  # our default
        return question

    def write_tip(
        self,
        item: _Item,
        inherited: list[Condition],
        resolved: _Resolved | None,
        section: dict[str, Any],
    ) -> None:
        shown = inherited + ([resolved.condition] if resolved else [])
        finding = item.raw.get("warn") == "yes" and bool(shown)
        if finding:
            self.write_finding(item, shown, resolved)
        prompt = item.text("why")
        if not prompt and finding:
            return  # only a finding rule, which may look ahead
        self.check_looks_back(item, resolved)
        if prompt:
            separator = "_" if "_" in item.key else "-"
            explanation = f"{item.key}{separator}explanation"
            key = self.question_ids.claim(explanation) if finding else item.key
            question = {"id": key, "type": "long_text", "text": prompt, "required": False}
            if item.text():
                question["help"] = item.text()
            self.add(section, question, shown)
        elif item.text():
            self.add(section, {"id": item.key, "type": "info", "text": item.text()}, shown)

    def write_finding(
        self, item: _Item, shown: list[Condition], resolved: _Resolved | None
    ) -> None:
        severity = item.text("severity").lower() or "medium"
        if severity not in _SEVERITIES:
            self.problem(item, f'severity "{severity}" is not one of {", ".join(_SEVERITIES)}')
            return
        name = item.text("name")
        title = name if len(name) <= _MAX_TITLE else _shorten(_plain(name), _MAX_TITLE)
        title = title or _shorten(_plain(item.text())) or "VSAQ warning"
        finding: dict[str, Any] = {
            "id": item.key,
            "when": _joined("all", shown),
            "severity": severity,
            "title": title,
        }
        if item.text():
            finding["why"] = item.text()
        self.findings.append(finding)
        if resolved is not None:
            self.flag(resolved.condition, severity)

    def flag(self, condition: Condition, severity: str) -> None:
        """Mark the options whose choice alone raises this warning (see the module docstring)."""
        for alternative in condition.get("any", [condition]):
            negated = set(alternative) == {"not"}
            test = alternative["not"] if negated else alternative
            scored = self.scored.get(test.get("question", ""))
            if scored is None or "equals" not in test:
                continue
            values = [test["equals"]]
            if negated:
                values = [value for value in scored.labels if value != test["equals"]]
                if len(values) != 1:
                    continue
            for value in values:
                previous = scored.flagged.get(value, "low")
                scored.flagged[value] = max(previous, severity, key=_SEVERITIES.index)

    def place_findings(self) -> None:
        """Each finding goes in the section of the last question it reads, so that it only ever
        refers to questions before it."""
        for finding in self.findings:
            read = [self.section_of.get(q, -1) for q in _questions_in(finding["when"])]
            if min(read, default=0) < 0:
                continue  # refers to something that was not written; reported already
            self.sections[max(read)].setdefault("findings", []).append(finding)

    def apply_warnings(self) -> None:
        for scored in self.scored.values():
            question = scored.question
            if question["type"] == "multiple_choice":
                question["weight"] = 0
                question["options"] = [_option(v, label, 1) for v, label in scored.labels.items()]
                continue
            if not scored.flagged:
                question["weight"] = 0
            if "critical" in scored.flagged.values():
                question["critical"] = True
            scores = {value: 0 if value in scored.flagged else 1 for value in scored.labels}
            custom_labels = any(scored.labels.values())
            if question["type"] != "yes_no" or custom_labels or scores != {"yes": 1, "no": 0}:
                question["options"] = [
                    _option(value, label, scores[value]) for value, label in scored.labels.items()
                ]


def _option(value: str, label: str, score: int) -> dict[str, Any]:
    option: dict[str, Any] = {"value": value, "label": label, "score": score}
    if not label:
        del option["label"]  # our label defaults to the value ("yes", "no")
    return option


def _ordered(question: dict[str, Any]) -> dict[str, Any]:
    first = {key: question[key] for key in _KEY_ORDER if key in question}
    return first | {key: value for key, value in question.items() if key not in first}
