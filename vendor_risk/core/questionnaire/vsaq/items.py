"""The VSAQ items, read and checked: where each is, what every VSAQ id names, the root and
the sections, and the ids each item gets in our format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...documents import JsonPath, format_path
from .limits import MAX_BLOCK_DEPTH
from .naming import _Ids, _plain, _slug

# Every VSAQ item type but "radio", which belongs among a radiogroup's choices.
_IMPORTED_TYPES = frozenset(
    {
        "block",
        "info",
        "tip",
        "spacer",
        "yesno",
        "radiogroup",
        "checkgroup",
        "check",
        "line",
        "box",
        "upload",
    }
)


@dataclass(frozen=True)
class _Place:
    """Where something is in the VSAQ document: its path, and its id to help find it."""

    path: JsonPath
    vsaq_id: str | None = None

    def __str__(self) -> str:
        where = format_path(self.path)
        return where if self.vsaq_id is None else f'{where} (id "{self.vsaq_id}")'


@dataclass(frozen=True)
class _Problem:
    place: _Place | None  # None: the document as a whole
    message: str


@dataclass(eq=False)
class _Choice:
    vsaq_id: str
    text: str
    value: str = ""


@dataclass(eq=False)
class _Item:
    kind: str
    raw: dict[str, Any]
    place: _Place
    children: list[_Item] = field(default_factory=list)
    choices: list[_Choice] = field(default_factory=list)
    key: str = ""  # our id: of the question, the section or the finding
    parent: _Item | None = None  # the block it sits in

    @property
    def ancestors(self) -> list[_Item]:
        """The blocks around it, outermost first: the root block, its section's block..."""
        chain: list[_Item] = []
        block = self.parent
        while block is not None:
            chain.append(block)
            block = block.parent
        return chain[::-1]

    @property
    def label(self) -> str:
        """How a message names it: its VSAQ id, else its place."""
        vsaq_id = self.raw.get("id")
        return vsaq_id if isinstance(vsaq_id, str) and vsaq_id else format_path(self.place.path)

    def text(self, attribute: str = "text") -> str:
        value = self.raw.get(attribute)
        return value.strip() if isinstance(value, str) else ""

    @property
    def is_single_check(self) -> bool:
        """A check group of one choice: really a yes/no question, as our multiple choice needs
        two options (VSAQ's own questionnaires ask their "options" this way)."""
        return (
            self.kind == "checkgroup"
            and len(self.choices) == 1
            and self.raw.get("defaultChoice") is not True
        )


@dataclass(frozen=True)
class _Target:
    """What a VSAQ id names, for conditions: an item, or one choice of a group."""

    item: _Item | None  # None: the item could not be imported (already reported)
    choice: _Choice | None = None


class _Reader:
    """Walks the document, checks each item and records what every VSAQ id names."""

    def __init__(self) -> None:
        self.problems: list[_Problem] = []
        self.targets: dict[str, _Target] = {}
        self.defined_at: dict[str, _Place] = {}
        self.in_order: list[_Item] = []

    def problem(self, place: _Place | None, message: str) -> None:
        self.problems.append(_Problem(place, message))

    def register(self, vsaq_id: str, target: _Target, place: _Place) -> None:
        if vsaq_id in self.defined_at:
            self.problem(place, f'id "{vsaq_id}" is already used at {self.defined_at[vsaq_id]}')
            return
        self.defined_at[vsaq_id] = place
        self.targets[vsaq_id] = target

    def read_list(self, raw_items: Any, path: JsonPath, depth: int) -> list[_Item]:
        if not isinstance(raw_items, list):
            self.problem(_Place(path), "must be a list of items")
            return []
        items = (self.read_item(raw, (*path, i), depth) for i, raw in enumerate(raw_items))
        return [item for item in items if item is not None]

    def read_item(self, raw: Any, path: JsonPath, depth: int) -> _Item | None:
        if not isinstance(raw, dict):
            self.problem(_Place(path), "an item must be an object")
            return None
        vsaq_id = raw.get("id")
        if vsaq_id is not None and not isinstance(vsaq_id, str):
            self.problem(_Place(path), "id must be a string")
            vsaq_id = None
        place = _Place(path, vsaq_id)
        kind = raw.get("type")
        if kind not in _IMPORTED_TYPES:
            if isinstance(kind, str):
                hint = " outside a radiogroup's choices" if kind == "radio" else ""
                self.problem(place, f'item type "{kind}"{hint} cannot be imported')
            else:
                self.problem(place, "an item needs a type")
            if vsaq_id:
                self.register(vsaq_id, _Target(None), place)
            return None
        item = _Item(kind, raw, place)
        if vsaq_id:
            self.register(vsaq_id, _Target(item), place)
        for attribute in ("text", "cond", "why", "name", "yes", "no", "severity", "inputType"):
            if attribute in raw and not isinstance(raw[attribute], str):
                self.problem(place, f"{attribute} must be a string")
        self.in_order.append(item)
        if kind == "block":
            self.read_block(item, depth)
        elif kind in ("radiogroup", "checkgroup"):
            self.read_choices(item)
        elif kind in ("line", "box") and not isinstance(raw.get("required", False), bool):
            self.problem(place, "required must be true or false")
        return item

    def read_block(self, item: _Item, depth: int) -> None:
        if item.raw.get("auth") == "admin":
            self.problem(
                item.place,
                'a block with auth "admin" is for reviewers only, and every question of a '
                "vendor questionnaire is shown to the vendor: remove the block or its auth",
            )
        if item.raw.get("className") == "vsaq-invisible":
            self.problem(item.place, "an invisible block (className vsaq-invisible) is never shown")
        if depth >= MAX_BLOCK_DEPTH:
            self.problem(item.place, f"blocks are nested deeper than {MAX_BLOCK_DEPTH} levels")
            return
        path = (*item.place.path, "items")
        item.children = self.read_list(item.raw.get("items", []), path, depth + 1)
        for child in item.children:
            child.parent = item

    def read_choices(self, item: _Item) -> None:
        if item.raw.get("choicesConds"):
            self.problem(
                item.place, "conditions on single choices (choicesConds) cannot be imported"
            )
        choices = item.raw.get("choices")
        if not isinstance(choices, list) or not choices:
            self.problem(item.place, "a group needs a list of choices")
            return
        before = len(self.problems)
        for index, choice in enumerate(choices):
            path = (*item.place.path, "choices", index)
            if not (isinstance(choice, dict) and len(choice) == 1):
                self.problem(
                    _Place(path), 'a choice must be an object of one entry, {"id": "text"}'
                )
                continue
            ((choice_id, text),) = choice.items()
            place = _Place(path, choice_id)
            if not choice_id or not isinstance(text, str):
                self.problem(place, "a choice needs an id and a text")
                continue
            parsed = _Choice(choice_id, text.strip())
            item.choices.append(parsed)
            self.register(choice_id, _Target(item, parsed), place)
        offered = len(item.choices) + (item.raw.get("defaultChoice") is True)
        if item.kind == "radiogroup" and offered < 2 and len(self.problems) == before:
            self.problem(item.place, "a radiogroup needs at least two choices")


def _split_root(top: list[_Item]) -> tuple[_Item | None, list[_Item]]:
    """VSAQ's root block and the items at the level of sections (without a root, the top)."""
    if len(top) == 1 and top[0].kind == "block" and any(c.kind == "block" for c in top[0].children):
        return top[0], top[0].children
    return None, top


def _assign_ids(items: list[_Item], sections: list[_Item]) -> tuple[_Ids, _Ids]:
    """Give every item its id in our format, explicit VSAQ ids first so they keep their spelling.

    Section ids are a namespace of their own, as in our format; findings take the ids of their
    tips, which are unique among the questions' ids.
    """
    question_ids, section_ids = _Ids(), _Ids()
    given = {item: item.raw["id"] for item in items if isinstance(item.raw.get("id"), str)}
    named = [item for item in items if item.kind != "spacer"]
    for item in sorted(named, key=lambda item: not given.get(item)):  # stable: given ids first
        vsaq_id = given.get(item)
        base = (_slug(vsaq_id) or item.kind) if vsaq_id else _derived_id(item)
        item.key = (section_ids if item in sections else question_ids).claim(base)
    for item in items:
        values = _Ids()
        for choice in item.choices:
            choice.value = values.claim(_slug(choice.vsaq_id) or "option")
    return question_ids, section_ids


def _derived_id(item: _Item) -> str:
    if item.choices:
        prefix = _common_prefix([choice.vsaq_id for choice in item.choices])
        if len(_slug(prefix)) >= 3 and len(item.choices) > 1:
            return _slug(prefix)
    if item.kind == "tip" and item.text("name"):
        return _slug(_plain(item.text("name")), limit=48) or "tip"
    if item.kind == "block" and item.text():
        return _slug(_plain(item.text()), limit=48) or "section"
    return {"info": "info", "tip": "tip", "block": "section"}.get(item.kind, "question")


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[:length]
