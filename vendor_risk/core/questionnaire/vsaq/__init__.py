"""Import of Google's open VSAQ questionnaires into our questionnaire format.

VSAQ (github.com/google/vsaq) publishes its questionnaires as "VSAQON": JSON with a licence header
in `//` or `/* */` comments, long texts split into `"..." + "..."` pieces and `\\xHH` escapes. The
document is `{"questionnaire": [ONE ROOT BLOCK]}`; the root block holds blocks of items. `convert`
turns such a document into a plain dict in our format (docs/questionnaire-format.md), which the
loader then validates and sanitises like any other file. It reports every problem it finds at
once, each naming where it is in the VSAQ document, because an author fixing a foreign file wants
the whole list, not one error per attempt. docs/questionnaire-format.md ("Importing VSAQ") says
the same for authors; the reasons are here.

- Sections. The root block's text becomes the title; each block inside it becomes a section
  (several top-level items are read the same way, without a root). Items beside those blocks
  gather in a section called "General". Deeper blocks are flattened into their section: their
  text becomes an `info` item and their condition is joined (`all`) to that of every item inside.
  VSAQ nests a block to ask follow-up questions right after the answer that opens them
  ("Firewalls" after "do you use firewalls?"); a section of its own would move them away from
  that answer, and our sections have no condition.
- Items. yesno -> `yes_no` (its `yes`/`no` texts label the options); radiogroup ->
  `single_choice` and checkgroup -> `multiple_choice`: their `choices` (`{"radio_id": "text"}`,
  VSAQ makes a radio or check item of each) become the options, the choice ids their values;
  a check, or a checkgroup of one choice, -> `yes_no` (ticked = yes; our choice types need two
  options); line -> `short_text` (`date` or `number` when its `inputType` says so); box ->
  `long_text`; upload -> `file`; info -> `info`; spacer is dropped. `defaultChoice: true` adds
  VSAQ's "None of the above." option.
- Required. VSAQ only has `required` on line and box, false by default: those keep it. Choice
  questions are required (VSAQ counts an unchosen radio group as unanswered); check groups,
  uploads and tip explanations are optional, as an empty answer is valid in VSAQ.
- Tips. A tip with `warn: "yes"` and a condition (its own or a block's) becomes a finding rule:
  that condition is `when`, `severity` is kept (medium when absent), `name` is the title and the
  tip's text, which explains the risk, is `why`. VSAQ's own `why` is something else: the prompt
  of a text box under the tip where the vendor may explain compensating controls. It becomes an
  optional `long_text` question with the tip's text as `help`, shown when the tip would be. Any
  other tip is an `info` item. A finding rule may refer to later questions (it is placed in the
  section of the last question it reads), so warnings that look ahead still import.
- Scores. VSAQ has none; its judgement lives in the warnings. So an option scores 0 when choosing
  it alone raises a warning (the warning's condition names it, alone or as one of its `||`
  alternatives; `!x` on a question of two options names the other one) and 1 otherwise. A choice
  question no warning names has weight 0: VSAQ gave no opinion on it ("where is TLS terminated?"),
  and guessing that "yes" is good would score "do you store passwords in plain text?" backwards.
  A question named by a `critical` warning is `critical`. Check groups have weight 0 and options
  scoring 1: our score of a multiple choice is a capped sum, which cannot say "choosing this one
  is bad"; their warnings still open findings.
- Conditions. `cond` is read by a tokenizer and a recursive-descent parser (`!` binds tighter
  than `&&`, which binds tighter than `||`; parentheses group) into `all`/`any`/`not`. A yesno id
  means "answered yes" (`id/yes` and `id/no` as VSAQ writes them); a radio or check id means
  "that option chosen" on its group's question; a lone check means "ticked"; a group id means
  "answered". A condition may only look back (our rule), except a finding rule's (see Tips).
  VSAQ itself evaluates `&&` and `||` left to right with equal precedence, so `a || b && c` is
  `(a || b) && c` there but `a || (b && c)` to most readers: where the two readings differ the
  expression is refused and must be parenthesised. `matches()`, `contains()`, `/value` and the
  constant `false` have no equivalent and are refused.
- Visibility. `^id` ("item id is visible", which Google's infrastructure and security program
  questionnaires use so that a second warning shows only when the first does not) is expanded
  into our conditions: it holds when the item's own condition holds and every block around it
  is visible, that is the `all` of those conditions, each with its own `^` expanded in turn. A
  choice is visible with its group. The blocks around the reader itself are left out: their
  conditions hold wherever the reader's is read (its `show_if` joins them). `^id` of an item
  always shown is true, and constants fold (`^always || x` is no condition at all); a
  condition that can never hold is refused, as is an item whose visibility depends on itself,
  directly, through other items or through the block around it, named with the `^` ids that
  lead back to it, or on its own answer. Each `^id` repeats conditions, so the result is
  bounded: more than `MAX_CONDITION_TESTS` tests, nesting deeper than 32 levels, or chains of
  `^` more than 100 conditions long are refused, counted as the condition grows (a chain whose
  every link reads the one before twice is refused at its eighth link, not after 2^60 copies).
  An `^id` may name a later item, provided what its expansion reads comes earlier.
- Ids. VSAQ ids are kept where our format allows them (lower-case letters, digits, `-`, `_`, at
  most 100 characters); accents are dropped and other characters become `-`. When two come out
  alike, the later one gets `-2`, `-3`. Items without an id get one from their text or the shared
  start of their choices' ids. Conditions resolve through the original VSAQ ids, so renaming
  never breaks them; a VSAQ id used twice is refused, as VSAQ refuses it.
- Texts keep their HTML: the loader removes what our format does not allow (scripts, javascript:
  links, styles).
- Refused, as they cannot be carried over faithfully: reviewer-only blocks (`auth: "admin"`; a
  vendor questionnaire shows everything to the vendor), invisible blocks, conditions on single
  choices (`choicesConds`), a radio outside a radiogroup, item types VSAQ does not know.

Known difference: in VSAQ `!x` holds when x is hidden, while in our format an item whose condition
reads a hidden question is hidden too. So `!^x` holds while x is hidden, as in VSAQ, when x's
condition reads questions that are shown; when x sits in a hidden block and its condition reads a
question inside that block, the item reading `!^x` is hidden with them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any

from ...documents import JsonPath, format_path, parse_document
from ..markup import plain

__all__ = [
    "MAX_BLOCK_DEPTH",
    "MAX_BYTES",
    "MAX_CONDITION_TESTS",
    "VsaqError",
    "convert",
    "looks_like_vsaq",
]

MAX_BYTES = 5 * 1024 * 1024
"""Documents larger than this are refused: the largest VSAQ questionnaire is about 140 kB."""

MAX_BLOCK_DEPTH = 20
"""Blocks nested deeper than this are refused; VSAQ's own questionnaires nest four deep."""

MAX_CONDITION_TESTS = 200
"""A condition holding more tests than this once `^id` is expanded is refused (each `^id`
repeats the conditions of the item it names and of the blocks around it, so a long chain of
them grows fast); VSAQ's own questionnaires need eight at most."""

# Each block level costs two JSON levels (the block and its "items"); the margin covers choices.
_MAX_JSON_DEPTH = 2 * MAX_BLOCK_DEPTH + 16
_MAX_CONDITION_DEPTH = 32
# Parts of conditions resolved one inside the other, through `^id` chains included.
_MAX_EXPANSION_NESTING = 100
_MAX_ID = 90  # our ids and option values have 100 characters at most; the rest is for "-2"
_MAX_TITLE = 300

_SEVERITIES = ("low", "medium", "high", "critical")
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
_LINE_INPUT_TYPES = {"date": "date", "number": "number"}
_NONE_OF_THE_ABOVE = "None of the above."

Condition = dict[str, Any]


class VsaqError(ValueError):
    """The document cannot be imported; `problems` lists every reason, each with its location."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- Reading VSAQON ------------------------------------------------------------------------------

# Runs of characters that need no change: most of a document, consumed at once for speed.
_PLAIN_RUN = re.compile(r'[^"/\[\]{}]+')
_STRING_RUN = re.compile(r'[^"\\]+')


def _skip_blank(text: str, i: int) -> tuple[int, int]:
    """Skip whitespace and comments from `i`; return where the next token starts and how many
    line breaks were skipped (kept, so that JSON errors still point at the right line)."""
    newlines = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            newlines += ch == "\n"
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                break
            newlines += text.count("\n", i, end)
            i = end + 2
        else:
            break
    return i, newlines


def _read_string(text: str, i: int) -> tuple[str, int]:
    """Read the string literal starting at `i`; return it as JSON text and the index after it.

    `\\xHH` escapes, which JavaScript allows and JSON does not, become `\\u00HH`. An unterminated
    string is returned as it is, so that the JSON parser reports it where it starts.
    """
    parts = ['"']
    j = i + 1
    n = len(text)
    while j < n:
        run = _STRING_RUN.match(text, j)
        if run:
            parts.append(run[0])
            j = run.end()
            continue
        ch = text[j]
        if ch == "\\":
            escaped = text[j + 1 : j + 2]
            parts.append("\\u00" if escaped == "x" else "\\" + escaped)
            j += 2
        else:  # the closing quote
            parts.append('"')
            return "".join(parts), j + 1
    return "".join(parts), n


def _blank_out(chunk: str) -> str:
    """The same length of spaces, keeping line breaks: comments vanish, positions stay."""
    return "".join("\n" if ch == "\n" else " " for ch in chunk)


def _to_json(text: str, name: str) -> str:
    """Turn VSAQON into JSON: drop comments, join `"a" + "b"` and convert `\\x` escapes."""
    out: list[str] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        run = _PLAIN_RUN.match(text, i)
        if run:
            out.append(run[0])
            i = run.end()
            continue
        ch = text[i]
        if ch == '"':
            literal, i = _read_string(text, i)
            held_newlines = 0
            while True:
                plus, skipped = _skip_blank(text, i)
                if plus >= n or text[plus] != "+":
                    break
                start, skipped_after = _skip_blank(text, plus + 1)
                if start >= n or text[start] != '"':
                    break
                following, i = _read_string(text, start)
                literal = literal[:-1] + following[1:]
                held_newlines += skipped + skipped_after
            out.append(literal + "\n" * held_newlines)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(_blank_out(text[i:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise VsaqError([f"{name}:{line}: a /* comment is never closed"])
            out.append(_blank_out(text[i : end + 2]))
            i = end + 2
        else:
            if ch in "[{":
                depth += 1
                if depth > _MAX_JSON_DEPTH:
                    line = text.count("\n", 0, i) + 1
                    raise VsaqError([f"{name}:{line}: nested deeper than {_MAX_JSON_DEPTH} levels"])
            elif ch in "]}":
                depth -= 1
            out.append(ch)
            i += 1
    return "".join(out)


def _decode(text: str, name: str) -> tuple[Any, str]:
    """The document, and the JSON it was read from (its lines are those of `text`)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise VsaqError([f"{name}: {size:,} bytes, more than the {MAX_BYTES:,} allowed"])
    converted = _to_json(text.removeprefix("\ufeff"), name)
    try:
        return json.loads(converted), converted
    except json.JSONDecodeError as error:
        raise VsaqError(
            [f"{name}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"]
        ) from None
    except ValueError as error:  # a number of more than 4,300 digits
        raise VsaqError([f"{name}: not valid JSON: {error}"]) from None


def looks_like_vsaq(text: str) -> bool:
    """Whether `text` is meant as a VSAQ document rather than one of our YAML or JSON files.

    A VSAQ document with a mistake in it still counts, so that its author gets VSAQ's problems
    ("not valid JSON at line 40") instead of a YAML parser's.
    """
    try:
        document, _ = _decode(text, "<vsaq>")
    except VsaqError:
        start, _ = _skip_blank(text.removeprefix("\ufeff"), 0)
        head = text[start : start + 65536]
        return head.startswith("{") and re.search(r'"questionnaire"\s*:\s*\[', head) is not None
    return isinstance(document, dict) and isinstance(document.get("questionnaire"), list)


# --- Texts and ids -------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Text without markup on one line, for deriving titles and ids (texts shown keep theirs)."""
    return " ".join(plain(text).split())


def _slug(text: str, *, keep_underscore: bool = True, limit: int = _MAX_ID) -> str:
    """`text` as an id: lower-case letters, digits and hyphens (and `_` when kept), cut at a
    word boundary to leave room for a `-2` suffix within our 100 characters."""
    pattern = r"[^a-z0-9_-]+" if keep_underscore else r"[^a-z0-9]+"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()  # é -> e
    slug = re.sub(pattern, "-", ascii_text.lower()).strip("-_")
    if len(slug) > limit:
        head = slug[: limit + 1]
        boundary = max(head.rfind("-"), head.rfind("_"))
        slug = (head[:boundary] if boundary > 0 else head[:limit]).strip("-_")
    return slug


def _shorten(text: str, limit: int = 80) -> str:
    """A plain title of at most `limit` characters, cut at a word."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


class _Ids:
    """Hands out unique ids: a taken id gets `-2`, `-3`, ... appended."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, base: str) -> str:
        candidate, number = base, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{base}-{number}"
        self.taken.add(candidate)
        return candidate


# --- The VSAQ items, read and checked ------------------------------------------------------------


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


# --- Conditions ----------------------------------------------------------------------------------


class _ConditionError(Exception):
    """A `cond` that cannot be read or has no equivalent in our format."""


@dataclass(frozen=True)
class _Token:
    kind: str  # name, string, &&, ||, !, (, ), ",", end
    text: str
    at: int


@dataclass(frozen=True)
class _Name:
    text: str


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _And:
    operands: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    operands: tuple[_Node, ...]


_Node = _Name | _Not | _And | _Or

# As in VSAQ: a name runs until white space or one of these characters.
_NAME_END = frozenset('()!&|,"')


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch.isspace():
            i += 1
        elif ch in "&|":
            if expression[i + 1 : i + 2] != ch:
                raise _ConditionError(f'a single "{ch}" at position {i + 1}; write "{ch * 2}"')
            tokens.append(_Token(ch * 2, ch * 2, i))
            i += 2
        elif ch in "!(),":
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif ch == '"':
            end = i + 1
            while end < n and expression[end] != '"':
                end += 2 if expression[end] == "\\" else 1
            if end >= n:
                raise _ConditionError(f"a string at position {i + 1} is never closed")
            tokens.append(_Token("string", expression[i : end + 1], i))
            i = end + 1
        else:
            end = i
            while end < n and expression[end] not in _NAME_END and not expression[end].isspace():
                end += 1
            tokens.append(_Token("name", expression[i:end], i))
            i = end
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    """Recursive descent over: or := and ("||" and)*; and := not ("&&" not)*;
    not := "!" not | "(" or ")" | name."""

    def __init__(self, expression: str) -> None:
        self.tokens = _tokenize(expression)
        self.position = 0

    def parse(self) -> _Node:
        node = self.disjunction(0)
        token = self.peek()
        if token.kind != "end":
            raise _ConditionError(f'unexpected "{token.text}" at position {token.at + 1}')
        return node

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def disjunction(self, depth: int) -> _Node:
        first, _ = self.conjunction(depth)
        operands = [first]
        while self.peek().kind == "||":
            self.take()
            operand, is_bare_conjunction = self.conjunction(depth)
            if is_bare_conjunction:
                # VSAQ folds left to right: "a || b && c" is "(a || b) && c" there.
                raise _ConditionError(
                    '"&&" after "||" without parentheses: VSAQ reads "a || b && c" as '
                    '"(a || b) && c", most readers as "a || (b && c)"; add parentheses'
                )
            operands.append(operand)
        return first if len(operands) == 1 else _Or(tuple(operands))

    def conjunction(self, depth: int) -> tuple[_Node, bool]:
        operands = [self.negation(depth)]
        while self.peek().kind == "&&":
            self.take()
            operands.append(self.negation(depth))
        if len(operands) == 1:
            return operands[0], False
        return _And(tuple(operands)), True

    def negation(self, depth: int) -> _Node:
        if depth > _MAX_CONDITION_DEPTH:
            raise _ConditionError(f"nested deeper than {_MAX_CONDITION_DEPTH} levels")
        token = self.take()
        if token.kind == "!":
            return _Not(self.negation(depth + 1))
        if token.kind == "(":
            node = self.disjunction(depth + 1)
            closing = self.take()
            if closing.kind != ")":
                raise _ConditionError(f'"(" at position {token.at + 1} is never closed')
            return node
        if token.kind == "name":
            if self.peek().kind == "(":
                raise _ConditionError(f'the function "{token.text}" has no equivalent')
            return _Name(token.text)
        if token.kind == "string":
            raise _ConditionError("quoted strings belong to functions, which have no equivalent")
        if token.kind == "end":
            raise _ConditionError("the expression ends where a name was expected")
        raise _ConditionError(f'unexpected "{token.text}" at position {token.at + 1}')


def _excerpt(expression: str, limit: int = 100) -> str:
    return expression if len(expression) <= limit else expression[: limit - 1] + "…"


def _equals(question: str, value: str) -> Condition:
    return {"question": question, "equals": value}


def _negate(condition: Condition) -> Condition:
    return condition["not"] if set(condition) == {"not"} else {"not": condition}


def _joined(kind: str, conditions: list[Condition]) -> Condition:
    """`all` or `any` of the conditions, with nested ones of the same kind merged in."""
    flat: list[Condition] = []
    for condition in conditions:
        flat.extend(condition[kind] if set(condition) == {kind} else [condition])
    return flat[0] if len(flat) == 1 else {kind: flat}


def _questions_in(condition: Condition) -> Iterator[str]:
    if "question" in condition:
        yield condition["question"]
    for kind in ("all", "any"):
        for member in condition.get(kind, []):
            yield from _questions_in(member)
    if "not" in condition:
        yield from _questions_in(condition["not"])


@dataclass(frozen=True)
class _Resolved:
    condition: Condition
    references: tuple[tuple[str, str], ...]  # (name in the expression, our question id)


@dataclass(frozen=True)
class _Built:
    """A condition under construction, with what bounds it: the number of tests it holds and
    how deep it nests (each `^id` copies conditions, so these are counted as it grows, before
    anything is copied). `condition` is True or False while it is a constant: `^id` of an
    item that is always shown is true, and constants are folded away as parts are joined."""

    condition: Condition | bool
    tests: int = 0
    depth: int = 0
    references: tuple[tuple[str, str], ...] = ()
    expanded: bool = False  # holds an `^id`: the bounds apply (the parser bounds the rest)


_TRUE, _FALSE = _Built(True), _Built(False)


def _kind(condition: Condition | bool) -> str | None:
    """`all`, `any` or `not` for such a condition, else None."""
    if isinstance(condition, dict) and len(condition) == 1:
        (key,) = condition
        return key if key in ("all", "any", "not") else None
    return None


def _check_size(tests: int, depth: int, expanded: bool) -> None:
    if not expanded:
        return
    if tests > MAX_CONDITION_TESTS:
        raise _ConditionError(
            f"more than {MAX_CONDITION_TESTS} tests once ^ is expanded (each ^id repeats the "
            "conditions of the item and of the blocks around it); shorten the chain of ^"
        )
    if depth > _MAX_CONDITION_DEPTH:
        raise _ConditionError(
            f"nested deeper than {_MAX_CONDITION_DEPTH} levels once ^ is expanded; shorten the "
            "chain of ^"
        )


def _combined(kind: str, parts: list[_Built]) -> _Built:
    """`all` or `any` of the parts, constants folded, nested ones of the same kind merged."""
    absorbing = kind == "any"  # True decides an `any`, False an `all`
    kept = []
    for part in parts:
        if part.condition is absorbing:
            return _TRUE if absorbing else _FALSE
        if part.condition is not (not absorbing):
            kept.append(part)
    if not kept:
        return _FALSE if absorbing else _TRUE
    if len(kept) == 1:
        return kept[0]
    depth = 1 + max(p.depth - (_kind(p.condition) == kind) for p in kept)
    tests = sum(p.tests for p in kept)
    expanded = any(p.expanded for p in kept)
    _check_size(tests, depth, expanded)  # before anything is copied
    condition = _joined(kind, [p.condition for p in kept])  # type: ignore[misc]
    references = tuple(reference for p in kept for reference in p.references)
    return _Built(condition, tests, depth, references, expanded)


def _negated(built: _Built) -> _Built:
    if isinstance(built.condition, bool):
        return _TRUE if built.condition is False else _FALSE
    depth = built.depth - 1 if _kind(built.condition) == "not" else built.depth + 1
    _check_size(built.tests, depth, built.expanded)
    return _Built(_negate(built.condition), built.tests, depth, built.references, built.expanded)


class _Cycle(Exception):
    """The visibility of `item` depends on itself, through the `^id` names `through`."""

    def __init__(self, item: _Item, through: list[str]) -> None:
        super().__init__(
            f'its visibility depends on itself: "{item.label}" reads {", then ".join(through)}, '
            f'which leads back to "{item.label}"'
        )
        self.item = item


class _Dependent(Exception):
    """A condition needs another that was refused (and reported there): refused as well,
    without a second message."""


class _Resolver:
    """Turns a parsed `cond` into our condition structure, through the VSAQ ids; `^id` is
    expanded by `visibility` (given by the writer, which knows every item's condition)."""

    def __init__(
        self, targets: dict[str, _Target], visibility: Callable[[_Item, _Item, str], _Built]
    ) -> None:
        self.targets = targets
        self.visibility = visibility
        self.nesting = 0

    def resolve(self, expression: str, reader: _Item) -> tuple[_Built | None, list[str]]:
        """The condition of `reader`, or the problems that stop it. Raises `_Cycle` when an
        `^id` leads back to an item whose condition is being resolved."""
        try:
            tree = _Parser(expression).parse()
        except _ConditionError as error:
            return None, [str(error)]
        errors: list[str] = []
        try:
            built = self.build(tree, reader, errors)
        except _ConditionError as error:  # too large: the rest is beside the point
            return None, [str(error)]
        except _Dependent:
            return None, []
        return (None, errors) if errors else (built, [])

    def build(self, node: _Node, reader: _Item, errors: list[str]) -> _Built:
        # Counted across `^id`, which resolves the conditions it names inside this one: a long
        # chain of them is refused before Python's own stack runs out.
        self.nesting += 1
        try:
            if self.nesting > _MAX_EXPANSION_NESTING:
                raise _ConditionError(
                    f"^ leads through more than {_MAX_EXPANSION_NESTING} conditions, each needing "
                    "the next; shorten the chain of ^"
                )
            return self.build_node(node, reader, errors)
        finally:
            self.nesting -= 1

    def build_node(self, node: _Node, reader: _Item, errors: list[str]) -> _Built:
        if isinstance(node, _Not):
            return _negated(self.build(node.operand, reader, errors))
        if isinstance(node, _And | _Or):
            kind = "all" if isinstance(node, _And) else "any"
            return _combined(kind, [self.build(each, reader, errors) for each in node.operands])
        try:
            if node.text.startswith("^"):
                return self.visible(node.text, reader)
            condition, question = self.reference(node.text)
        except _ConditionError as error:
            errors.append(str(error))
            return _TRUE  # a placeholder: the condition is refused
        return _Built(condition, 1, 1, ((node.text, question),))

    def visible(self, name: str, reader: _Item) -> _Built:
        """`^id`: the item is visible, its own condition and those of the blocks around it."""
        vsaq_id = name[1:]
        if not vsaq_id or "/" in vsaq_id:
            raise _ConditionError(f'"{name}": the visibility operator ^ takes an item id alone')
        target = self.targets.get(vsaq_id)
        if target is None:
            raise _ConditionError(f'"{vsaq_id}" is not the id of any item')
        if target.item is None:
            raise _ConditionError(f'"{vsaq_id}" names an item that cannot be imported')
        # A choice is visible with its group.
        return self.visibility(target.item, reader, name)

    def reference(self, name: str) -> tuple[Condition, str]:
        if name == "false":
            raise _ConditionError('the constant "false" has no equivalent')
        base, _, suffix = name.rpartition("/")
        if suffix not in ("yes", "no", "value"):
            base, suffix = name, ""
        if suffix == "value":
            raise _ConditionError(f'"{name}": /value is only used with functions')
        target = self.targets.get(base)
        if target is None:
            raise _ConditionError(f'"{base}" is not the id of any item')
        item = target.item
        if item is None:
            raise _ConditionError(f'"{base}" names an item that cannot be imported')
        if item.kind == "check" or item.is_single_check:
            condition = _equals(item.key, "yes")
            return (_negate(condition) if suffix == "no" else condition), item.key
        if target.choice is not None:
            condition = _equals(item.key, target.choice.value)
            return (_negate(condition) if suffix == "no" else condition), item.key
        if item.kind == "yesno":
            return _equals(item.key, suffix or "yes"), item.key
        if item.kind in ("radiogroup", "checkgroup") and not suffix:
            return {"question": item.key, "answered": True}, item.key
        raise _ConditionError(f'"{name}" names a {item.kind}, which has no choice to test')


# --- Writing our format --------------------------------------------------------------------------


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


# --- The entry point -----------------------------------------------------------------------------


def _report(problems: list[_Problem], name: str, converted: str) -> list[str]:
    """The problems as `NAME:LINE: path (id "x"): message`, in the order of the document.

    Lines are looked up only when there are problems: the JSON is then read once more, through
    the YAML composer that knows where each value stands, which is slow on a large document that
    imports fine.
    """
    parsed = parse_document(converted, name=name, fmt="json")
    located = [(parsed.line_of(p.place.path) if p.place else None, p) for p in problems]
    located.sort(key=lambda pair: pair[0] or 0)
    return [
        f"{name}{f':{line}' if line else ''}: {f'{p.place}: ' if p.place else ''}{p.message}"
        for line, p in located
    ]


_QUESTIONNAIRE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _questionnaire_id(text: str) -> str:
    return _slug(_plain(text), keep_underscore=False, limit=64)


def convert(
    text: str,
    *,
    name: str = "<vsaq>",
    questionnaire_id: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Convert a VSAQ document to a questionnaire in our format, as a plain dict.

    `name` (usually the file name) prefixes every problem and, without `questionnaire_id`, gives
    the id; `title` defaults to the text of VSAQ's root block. Raises `VsaqError` listing every
    problem found.
    """
    document, converted = _decode(text, name)
    if not isinstance(document, dict) or not isinstance(document.get("questionnaire"), list):
        hint = (
            ": an extension template cannot be imported on its own"
            if isinstance(document, dict) and "extensions" in document
            else ""
        )
        raise VsaqError([f'{name}: expected an object with a "questionnaire" list{hint}'])

    reader = _Reader()
    top = reader.read_list(document["questionnaire"], ("questionnaire",), 0)
    root, level = _split_root(top)
    sections_blocks = [item for item in level if item.kind == "block"]
    sections = _Writer(reader, *_assign_ids(reader.in_order, sections_blocks)).write(root, level)
    title_block = root or (top[0] if len(top) == 1 and top[0].kind == "block" else None)

    problems = reader.problems
    if questionnaire_id is not None and not (
        _QUESTIONNAIRE_ID.match(questionnaire_id) and len(questionnaire_id) <= 100
    ):
        message = (
            f'questionnaire id "{questionnaire_id}" must be lower-case letters, digits and '
            "single hyphens, 100 at most"
        )
        problems.append(_Problem(None, message))
    if not sections and not problems:
        problems.append(_Problem(None, "the questionnaire has no questions to import"))
    if problems:
        raise VsaqError(_report(problems, name, converted))

    root_text = title_block.text() if title_block else ""
    title = title or _shorten(_plain(root_text), _MAX_TITLE) or "Imported VSAQ questionnaire"
    stem = "" if name.startswith("<") else PurePath(name).stem
    return {
        "format": 1,
        "id": questionnaire_id or _questionnaire_id(stem) or _questionnaire_id(title) or "vsaq",
        "title": title,
        "version": 1,
        "audience": "vendor",
        "sections": sections,
    }
