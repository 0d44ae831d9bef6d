"""The workbook's layout, shared by writing and reading: the sheets and their names, the rows
and columns of a section's sheet, and how an answer's options and cells read as text.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from ..markup import plain
from ..model import Question, Questionnaire, QuestionType, number

INSTRUCTIONS = "Instructions"
LISTS = "Lists"  # the hidden sheet that holds the option labels of the dropdowns
# Excel refuses a sheet named "History" (its own); the others are ours.
_RESERVED = (INSTRUCTIONS, LISTS, "History")
SHEET_NAME_MAX = 31
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\\x00-\x1f]")

TITLE_ROW, DESCRIPTION_ROW, HEADER_ROW = 1, 2, 3
# The last column, hidden, holds the version of each answer when the workbook was made: an
# answer changed in the portal since then is a conflict, never silently overwritten.
COLUMNS = (
    "Question id",
    "Question",
    "Help",
    "Answer",
    "Comment",
    "Required",
    "Notes",
    "Saved version",
)
_WIDTHS = (24, 60, 40, 32, 40, 16, 44, 10)
_ID, _QUESTION, _HELP, _ANSWER, _COMMENT, _REQUIRED, _NOTES, _VERSION = range(1, len(COLUMNS) + 1)
# Where the instructions sheet says which questionnaire the workbook was made for.
_KEY_LABEL = "Questionnaire id"

_CHOICE = frozenset({QuestionType.yes_no, QuestionType.yes_no_na, QuestionType.single_choice})

AnswerPair = tuple[Any, str]  # (the answer as conditions.validate_answer returns it, comment)


def _shortened(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut after a whole word and marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;-'") + "…"


def sheet_names(questionnaire: Questionnaire) -> dict[str, str]:
    """The sheet of each section (by section id): its title as Excel allows a sheet name (at
    most 31 characters, none of []:*?/\\, no apostrophe at either end), unique whatever the
    case, as Excel compares them."""
    taken = {name.casefold() for name in _RESERVED}
    names: dict[str, str] = {}
    for index, section in enumerate(questionnaire.sections, start=1):
        base = " ".join(_NOT_IN_SHEET_NAMES.sub(" ", plain(section.title)).split()).strip("'")
        base = _shortened(base, SHEET_NAME_MAX) or f"Section {index}"
        name, counter = base, 1
        while name.casefold() in taken:
            counter += 1
            suffix = f" ({counter})"
            name = _shortened(base, SHEET_NAME_MAX - len(suffix)) + suffix
        taken.add(name.casefold())
        names[section.id] = name
    return names


def _labels(question: Question) -> list[str]:
    return [plain(option.label) for option in question.options]


def _as_text(value: Any) -> str:
    """A cell as text: Excel turns "2024" into a number and "2024-03-31" into a date."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(number(value))
    return str(value)
