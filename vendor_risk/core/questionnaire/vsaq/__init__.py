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
The parts, each importing only those before it: `limits` (what is refused, and `VsaqError`),
`source` (reading VSAQON), `naming` (texts and ids), `items` (the items, read and checked),
`conditions` (`cond` parsed and resolved), `writer` (our format written); `convert`, here, ties
them together and reports every problem at once.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from ...documents import parse_document
from .items import _assign_ids, _Problem, _Reader, _split_root
from .limits import _MAX_TITLE, MAX_BLOCK_DEPTH, MAX_BYTES, MAX_CONDITION_TESTS, VsaqError
from .naming import _plain, _shorten, _slug
from .source import _decode, looks_like_vsaq
from .writer import _Writer

__all__ = [
    "MAX_BLOCK_DEPTH",
    "MAX_BYTES",
    "MAX_CONDITION_TESTS",
    "VsaqError",
    "convert",
    "looks_like_vsaq",
]


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
