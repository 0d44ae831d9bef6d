"""A questionnaire as an Excel workbook (XLSX) that vendors fill offline, and the filled workbook
read back into answers, every problem told by sheet, row and question (docs/questionnaire-format.md,
"The XLSX workbook").

The layout: an "Instructions" sheet first; one sheet per section, a header row and then one row
per question: its id (locked: it is how a row finds its question again), the question and its
help as plain text, the answer and a comment (the only cells a vendor types in), whether it is
required, and notes (how to answer, and "Answer only if ..." for a conditional question). Choice
answers are chosen from a dropdown of the option labels, kept on a hidden "Lists" sheet; dates
are date cells, numbers number cells. Vendors get this file: it never holds a weight, a score,
a critical flag or a finding rule.

Reading treats the file as hostile: a size limit on the upload and on the unzipped archive, no
formula ever evaluated (a formula cell is refused), every answer checked by
:func:`conditions.validate_answer` as the portal checks it. Pure: no Flask, no database.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl.xml
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..conditions import InvalidAnswer, validate_answer
from ..markup import plain
from ..model import Question, Questionnaire, QuestionType, number
from ..words import condition_in_words

# An upload larger than this is refused before it is opened; a questionnaire of 300 questions
# with long answers is well under 1 MB.
# openpyxl parses uploaded XML with defusedxml (no entity declarations) only when that is
# importable: never read a vendor's workbook without it.
if not openpyxl.xml.DEFUSEDXML:
    raise ImportError("defusedxml is required to read uploaded workbooks safely")

MAX_BYTES = 5 * 1024 * 1024
# A workbook is a zip archive: what it unpacks to is bounded too (a zip bomb is small).
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2_000
MAX_ROWS = 5_000  # per sheet: far above any questionnaire section

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
_MAX_COLUMNS = 30  # columns read from a sheet: ours, and a few a vendor may add

_CHOICE = frozenset({QuestionType.yes_no, QuestionType.yes_no_na, QuestionType.single_choice})
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)
_DATE_FORMAT = "yyyy-mm-dd"

# A comment obeys the rules of a long text answer, checked by the same function.
_COMMENT_RULES = Question("comment", QuestionType.long_text, "Comment", required=False, weight=0)

AnswerPair = tuple[Any, str]  # (the answer as conditions.validate_answer returns it, comment)


@dataclass(frozen=True)
class WorkbookProblem:
    """Something wrong in an uploaded workbook, where it is (sheet and row as the spreadsheet
    numbers them, None for the file as a whole) and what to do about it."""

    sheet: str | None
    row: int | None
    question_id: str | None
    message: str

    def __str__(self) -> str:
        place = []
        if self.sheet is not None:
            place.append(f"sheet “{self.sheet}”")
        if self.row is not None:
            place.append(f"row {self.row}")
        if self.question_id:
            place.append(f"question {self.question_id}")
        return f"{', '.join(place)}: {self.message}" if place else self.message


# ---- sheet names ---------------------------------------------------------------------------


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


# ---- writing -------------------------------------------------------------------------------


def _put(cell: Any, value: Any) -> None:
    """Write a value; text stays text even when it starts with "=" (never a formula: an
    answer or a question written by someone else must not run in the reader's Excel)."""
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def _label(question: Question, value: str) -> str:
    option = question.option(value)
    return plain(option.label) if option else value


def _labels(question: Question) -> list[str]:
    return [plain(option.label) for option in question.options]


def _answer_cell_value(question: Question, value: Any) -> Any:
    """A stored answer as the vendor sees it in the cell."""
    if value is None or value == "" or value == []:
        return None
    kind = question.type
    if kind in _CHOICE:
        return _label(question, str(value))
    if kind is QuestionType.multiple_choice:
        chosen = [value] if isinstance(value, str) else list(value)
        return ", ".join(_label(question, str(v)) for v in chosen)
    if kind is QuestionType.date:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if kind is QuestionType.number:
        return value if isinstance(value, int | float) else str(value)
    if kind is QuestionType.file:
        return None
    return str(value)


def answer_text(question: Question, value: Any) -> str:
    """A stored answer as the workbook shows it ("" for none): labels, not values."""
    shown = _answer_cell_value(question, value)
    if shown is None:
        return ""
    return shown.isoformat() if isinstance(shown, date) else _as_text(shown)


def _how_to_answer(question: Question) -> str:
    kind = question.type
    if kind in _CHOICE:
        return "Choose from the list: " + " / ".join(_labels(question)) + "."
    if kind is QuestionType.multiple_choice:
        return (
            "Choose every option that applies, their labels separated by commas: "
            + ", ".join(_labels(question))
            + "."
        )
    if kind is QuestionType.number:
        low, high = question.min, question.max
        if low is not None and high is not None:
            return f"A number from {number(low)} to {number(high)}."
        if low is not None:
            return f"A number, at least {number(low)}."
        if high is not None:
            return f"A number, at most {number(high)}."
        return "A number."
    if kind is QuestionType.date:
        return "A date, written YYYY-MM-DD (e.g. 2024-03-31)."
    if kind is QuestionType.short_text:
        return "Text, up to 500 characters."
    if kind is QuestionType.long_text:
        return "Text."
    if kind is QuestionType.file:
        return "Evidence files: attach them, and comment, in the portal (not in this workbook)."
    return "Information: nothing to answer."


def _notes(question: Question, questionnaire: Questionnaire) -> str:
    notes = []
    if question.show_if is not None:
        notes.append(f"Answer only if {condition_in_words(question.show_if, questionnaire)}.")
    notes.append(_how_to_answer(question))
    if question.evidence.value != "none" and question.type is not QuestionType.file:
        notes.append(f"Evidence {question.evidence.value}: attach it in the portal.")
    return "\n".join(notes)


def _required(question: Question) -> str:
    if not question.type.takes_answer:
        return ""
    if not question.required:
        return "Optional"
    return "Required if asked" if question.show_if is not None else "Required"


class _Writer:
    def __init__(
        self,
        questionnaire: Questionnaire,
        answers: Mapping[str, AnswerPair],
        versions: Mapping[str, int],
    ):
        self.questionnaire = questionnaire
        self.answers = answers
        self.versions = versions
        self.book = Workbook()
        self.lists = None
        self.list_columns = 0

    def option_range(self, question: Question) -> str:
        """The cells of the hidden Lists sheet holding this question's option labels."""
        if self.lists is None:
            self.lists = self.book.create_sheet(LISTS)
            self.lists.sheet_state = "hidden"
        self.list_columns += 1
        letter = get_column_letter(self.list_columns)
        labels = _labels(question)
        for row, label in enumerate(labels, start=1):
            _put(self.lists.cell(row=row, column=self.list_columns), label)
        return f"'{LISTS}'!${letter}$1:${letter}${len(labels)}"

    def validation(self, question: Question) -> DataValidation | None:
        kind = question.type
        if kind in _CHOICE or kind is QuestionType.multiple_choice:
            many = kind is QuestionType.multiple_choice
            return DataValidation(
                type="list",
                formula1=self.option_range(question),
                allow_blank=True,
                # A multiple choice is typed as several labels: the list only helps.
                showErrorMessage=not many,
                errorTitle="Choose from the list",
                error="Choose one of the answers in the list.",
                showInputMessage=many,
                promptTitle="Several answers?" if many else None,
                prompt="Pick one, or type the labels separated by commas." if many else None,
            )
        if kind is QuestionType.date:
            return DataValidation(
                type="date",
                operator="between",
                formula1="DATE(1900,1,1)",
                formula2="DATE(9999,12,31)",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="A date",
                error="Write a date like 2024-03-31.",
            )
        if kind is QuestionType.number:
            low = -1e300 if question.min is None else question.min
            high = 1e300 if question.max is None else question.max
            return DataValidation(
                type="decimal",
                operator="between",
                formula1=repr(float(low)),
                formula2=repr(float(high)),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="A number",
                error=_how_to_answer(question),
            )
        return None

    def instructions(self, title: str, names: Mapping[str, str]) -> None:
        sheet = self.book.active
        sheet.title = INSTRUCTIONS
        q = self.questionnaire
        lines: list[tuple[str, str]] = [
            (title, ""),
            ("", ""),
            ("Questionnaire", plain(q.title)),
            (_KEY_LABEL, q.id),
            ("", ""),
            ("How to fill in this workbook", ""),
            ("1.", "Each section of the questionnaire has its own sheet, one question a row."),
            ("2.", "Type each answer in the column Answer; add a comment in the column Comment."),
            ("3.", "Yes/no and other choices: pick the answer from the cell's dropdown list."),
            (
                "4.",
                "Several answers (multiple choice): the labels of every option that applies, "
                "separated by commas, e.g. “Email, Phone”.",
            ),
            ("5.", "Dates: YYYY-MM-DD, e.g. 2024-03-31. Numbers: the number alone, no unit."),
            (
                "6.",
                "A question whose note says “Answer only if ...” is asked only when that holds: "
                "otherwise leave it empty.",
            ),
            ("7.", "Evidence files cannot go in the workbook: attach them in the portal."),
            (
                "8.",
                "Do not change the Question id column, rename, add or remove sheets, or type "
                "formulas: such a workbook is refused, each problem named.",
            ),
            (
                "9.",
                "Uploading the workbook saves all its answers at once, or none: if any row has a "
                "problem, the page lists every one of them and nothing is saved.",
            ),
            (
                "10.",
                "An answer cell left empty clears that answer. Evidence files attached in the "
                "portal are kept.",
            ),
            ("", ""),
            ("Sheets", ""),
        ]
        lines += [(names[s.id], plain(s.title)) for s in q.sections]
        for row, (first, second) in enumerate(lines, start=1):
            _put(sheet.cell(row=row, column=1), first)
            _put(sheet.cell(row=row, column=2), second)
            sheet.cell(row=row, column=2).alignment = _WRAP
        sheet["A1"].font = Font(bold=True, size=14)
        for row in (3, 4, 6, lines.index(("Sheets", "")) + 1):
            sheet.cell(row=row, column=1).font = _BOLD
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 100

    def section(self, index: int, name: str) -> None:
        section = self.questionnaire.sections[index]
        sheet = self.book.create_sheet(name)
        _put(sheet.cell(row=TITLE_ROW, column=1), plain(section.title))
        sheet.cell(row=TITLE_ROW, column=1).font = Font(bold=True, size=13)
        if section.description:
            _put(sheet.cell(row=DESCRIPTION_ROW, column=1), plain(section.description))
        for column, (heading, width) in enumerate(zip(COLUMNS, _WIDTHS, strict=True), start=1):
            cell = sheet.cell(row=HEADER_ROW, column=column)
            _put(cell, heading)
            cell.font, cell.fill = _BOLD, _HEADER_FILL
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.column_dimensions[get_column_letter(_VERSION)].hidden = True
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
        for row, question in enumerate(section.questions, start=HEADER_ROW + 1):
            self.question_row(sheet, row, question)
        # Locked cells (the question id first) cannot be typed over; the protection has no
        # password: it prevents accidents, and the upload checks every row anyway.
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False
        sheet.protection.formatRows = False
        sheet.protection.formatCells = False

    def question_row(self, sheet: Any, row: int, question: Question) -> None:
        value, comment = self.answers.get(question.id, (None, ""))
        cells = {column: sheet.cell(row=row, column=column) for column in range(1, _VERSION)}
        _put(cells[_ID], question.id)
        _put(cells[_QUESTION], plain(question.text))
        _put(cells[_HELP], plain(question.help))
        _put(cells[_REQUIRED], _required(question))
        _put(cells[_NOTES], _notes(question, self.questionnaire))
        for cell in cells.values():
            cell.alignment = _WRAP
        answerable = question.type.takes_answer and question.type is not QuestionType.file
        if not answerable:
            for column in (_ANSWER, _COMMENT):
                cells[column].fill = _LOCKED_FILL
            return
        _put(cells[_ANSWER], _answer_cell_value(question, value))
        sheet.cell(row=row, column=_VERSION).value = int(self.versions.get(question.id, 0))
        _put(cells[_COMMENT], comment or None)
        for column in (_ANSWER, _COMMENT):
            cells[column].protection = _UNLOCKED
        if question.type is QuestionType.date:
            cells[_ANSWER].number_format = _DATE_FORMAT
        validation = self.validation(question)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(cells[_ANSWER])

    def build(self, title: str) -> bytes:
        names = sheet_names(self.questionnaire)
        self.instructions(title, names)
        for index, section in enumerate(self.questionnaire.sections):
            self.section(index, names[section.id])
        if self.lists is not None:  # last, so that the section sheets follow the instructions
            self.book.move_sheet(LISTS, offset=len(self.book.sheetnames))
        self.book.properties.title = title[:250]
        self.book.properties.creator = "vendor-risk"
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


def build_workbook(
    questionnaire: Questionnaire,
    answers: Mapping[str, AnswerPair],
    *,
    title: str,
    versions: Mapping[str, int] | None = None,
) -> bytes:
    """The workbook of ``questionnaire`` with the ``answers`` given so far ({question id:
    (answer, comment)}), as XLSX bytes. ``title`` heads the instructions sheet; ``versions``
    ({question id: version of the stored answer}) are kept in a hidden column, so that reading
    the workbook back tells which answers changed elsewhere since it was made."""
    return _Writer(questionnaire, answers, versions or {}).build(title)


# ---- reading -------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx


def _unpacked_size_problem(data: bytes) -> str | None:
    """Why the archive must not be opened, or None: a workbook is a zip of XML files."""
    if data.startswith(_OLE_MAGIC):
        return (
            "this is an old .xls file or a password-protected workbook: save it as an Excel "
            "workbook (.xlsx) without a password"
        )
    if not data.startswith(_ZIP_MAGIC):
        return "this is not an Excel workbook (.xlsx)"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "the file is damaged: it cannot be opened as an Excel workbook (.xlsx)"
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        return f"the workbook holds more than {MAX_ARCHIVE_ENTRIES:,} parts: it is not ours"
    if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
        return f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB"
    if not any(entry.filename == "xl/workbook.xml" for entry in entries):
        return "this is not an Excel workbook (.xlsx)"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


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


def _option_lookup(question: Question) -> dict[str, str]:
    """Label or value (any case, spaces as typed) -> value: vendors pick labels, and values
    are what the portal stores."""
    lookup: dict[str, str] = {}
    for option in question.options:
        for key in (option.value, plain(option.label)):
            lookup.setdefault(" ".join(key.split()).casefold(), option.value)
    return lookup


def _choice(question: Question, value: Any) -> str:
    key = " ".join(_as_text(value).split()).casefold()
    found = _option_lookup(question).get(key)
    if found is None:
        offered = ", ".join(f"“{label}”" for label in _labels(question))
        raise InvalidAnswer(f"“{_as_text(value)}” is not one of the answers offered: {offered}.")
    return found


def _choices(question: Question, value: Any) -> list[str]:
    """Labels separated by commas (or line breaks); a label may itself hold a comma, so the
    longest run of pieces that names an option is taken first."""
    lookup = _option_lookup(question)
    chosen: list[str] = []
    unknown: list[str] = []
    for line in _as_text(value).splitlines():
        pieces = [piece.strip() for piece in line.split(",")]
        start = 0
        while start < len(pieces):
            for end in range(len(pieces), start, -1):
                key = " ".join(", ".join(pieces[start:end]).split()).casefold()
                if key in lookup:
                    chosen.append(lookup[key])
                    start = end
                    break
            else:
                if pieces[start]:
                    unknown.append(pieces[start])
                start += 1
    if unknown:
        offered = ", ".join(f"“{label}”" for label in _labels(question))
        names = ", ".join(f"“{piece}”" for piece in unknown)
        raise InvalidAnswer(f"{names}: not among the answers offered: {offered}.")
    return chosen


def _date_cell(question: Question, value: Any) -> Any:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise InvalidAnswer("Write a date like 2024-03-31, without a time.")
        return value.date()
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise InvalidAnswer("Write a date like 2024-03-31 (this cell holds a number).")
    return value if isinstance(value, date) else _as_text(value)


def _number_cell(question: Question, value: Any) -> Any:
    if isinstance(value, bool | date):
        raise InvalidAnswer("Write a number, like 12 or 3.5.")
    return value if isinstance(value, int | float) else _as_text(value)


def _raw_answer(question: Question, value: Any) -> Any:
    """The cell's value as :func:`validate_answer` takes it for this question."""
    kind = question.type
    if kind in _CHOICE:
        return _choice(question, value)
    if kind is QuestionType.multiple_choice:
        return _choices(question, value)
    if kind is QuestionType.date:
        return _date_cell(question, value)
    if kind is QuestionType.number:
        return _number_cell(question, value)
    return _as_text(value)


@dataclass(frozen=True)
class _Row:
    number: int
    cells: dict[int, Any]  # column (1-based) -> openpyxl cell

    def value(self, column: int | None) -> Any:
        cell = self.cells.get(column) if column else None
        return None if cell is None else cell.value


CommentRule = Callable[[str], str]


def _long_text_comment(text: str) -> str:
    return validate_answer(_COMMENT_RULES, text) or ""


@dataclass(frozen=True)
class WorkbookContent:
    """What a filled workbook says: the answers ({question id: (answer, comment)}), every
    problem found, where each question's row is, and the version each answer had when the
    workbook was made (0: none was stored)."""

    answers: dict[str, AnswerPair]
    problems: tuple[WorkbookProblem, ...]
    rows: dict[str, tuple[str, int]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _refused(message: str) -> WorkbookContent:
    return WorkbookContent({}, (WorkbookProblem(None, None, None, message),))


class _Reader:
    def __init__(self, questionnaire: Questionnaire, comment_rule: CommentRule):
        self.questionnaire = questionnaire
        self.comment_rule = comment_rule
        self.problems: list[WorkbookProblem] = []
        self.answers: dict[str, AnswerPair] = {}
        self.rows: dict[str, tuple[str, int]] = {}  # question id -> (sheet, row) of its row
        self.versions: dict[str, int] = {}
        names = sheet_names(questionnaire)
        self.sections = {name: section_id for section_id, name in names.items()}

    def problem(self, sheet: str | None, row: int | None, qid: str | None, message: str) -> None:
        self.problems.append(WorkbookProblem(sheet, row, qid, message))

    def content(self) -> WorkbookContent:
        return WorkbookContent(self.answers, tuple(self.problems), self.rows, self.versions)

    def read(self, book: Any) -> None:
        for name in book.sheetnames:
            sheet = book[name]
            if name == INSTRUCTIONS:
                self.instructions(sheet)
            elif name in self.sections:
                self.section(name, sheet)
            elif name != LISTS:
                self.problem(
                    name,
                    None,
                    None,
                    "this sheet is not part of the questionnaire (was a sheet renamed or added?): "
                    "answers are read only from the sheets of its sections",
                )

    def rows_of(self, name: str, sheet: Any) -> Iterable[_Row]:
        for number_, cells in enumerate(sheet.iter_rows(max_col=_MAX_COLUMNS), start=1):
            if number_ > MAX_ROWS:
                self.problem(name, None, None, f"more than {MAX_ROWS:,} rows: not read further")
                return
            yield _Row(number_, dict(enumerate(cells, start=1)))

    def instructions(self, sheet: Any) -> None:
        for row in self.rows_of(INSTRUCTIONS, sheet):
            if row.number > 50:
                return
            if row.value(1) == _KEY_LABEL:
                key = row.value(2)
                if key is not None and str(key).strip() != self.questionnaire.id:
                    self.problem(
                        INSTRUCTIONS,
                        row.number,
                        None,
                        f"this workbook was made for the questionnaire “{key}”, not for "
                        f"“{self.questionnaire.id}”: download the workbook of this request",
                    )
                return

    def section(self, name: str, sheet: Any) -> None:
        columns: dict[str, int] = {}
        for row in self.rows_of(name, sheet):
            if row.number < HEADER_ROW:
                continue
            if row.number > HEADER_ROW:
                self.row(name, row, columns)
                continue
            for column, cell in row.cells.items():
                if isinstance(cell.value, str):
                    columns.setdefault(cell.value.strip().casefold(), column)
            needed = ("Question id", "Answer", "Comment")
            missing = [heading for heading in needed if heading.casefold() not in columns]
            if missing:
                self.problem(
                    name,
                    HEADER_ROW,
                    None,
                    f"the header row was changed: no column {', '.join(missing)} (download "
                    "the workbook again)",
                )
                return

    def unreadable_cell(
        self, sheet: str, row: _Row, id_column: int, columns: Iterable[int]
    ) -> bool:
        """A formula or an error in a cell that is read: the row is refused."""
        for column in (id_column, *columns):
            cell = row.cells.get(column)
            if cell is None:
                continue
            where = f"cell {get_column_letter(column)}{row.number}"
            if cell.data_type == "f" or not isinstance(cell.value, _CELL_VALUES):
                message = f"{where} holds a formula: formulas are never read, type the value"
            elif cell.data_type == "e":
                message = f"{where} holds an error ({cell.value}): type the value itself"
            else:
                continue
            self.problem(sheet, row.number, _text_or_none(row.value(id_column)), message)
            return True
        return False

    def row(self, sheet: str, row: _Row, columns: Mapping[str, int]) -> None:
        id_column, answer_column = columns["question id"], columns["answer"]
        comment_column = columns["comment"]
        version_column = columns.get("saved version")
        if self.unreadable_cell(sheet, row, id_column, (answer_column, comment_column)):
            return
        raw_id, answer, comment = (
            row.value(id_column),
            row.value(answer_column),
            row.value(comment_column),
        )
        if _blank(raw_id):
            if not (_blank(answer) and _blank(comment)):
                self.problem(
                    sheet,
                    row.number,
                    None,
                    "an answer on a row without a question id: keep each answer on the row of "
                    "its question, and the question id as it was",
                )
            return
        qid = _as_text(raw_id).strip()
        question = self.question(sheet, row, qid, row.value(columns.get("question")))
        if question is None:
            return
        self.rows[qid] = (sheet, row.number)
        version = row.value(version_column)
        self.versions[qid] = version if isinstance(version, int) and version >= 0 else 0
        self.answer(sheet, row.number, question, answer, comment)

    def question(self, sheet: str, row: _Row, qid: str, shown: Any) -> Question | None:
        """The question of the row, or None and a problem: an unknown id, one given twice, or
        one that is not the question the row shows (its id was changed)."""
        try:
            question = self.questionnaire.question(qid)
        except KeyError:
            self.problem(
                sheet,
                row.number,
                qid,
                "no question has this id (was it changed?): the question id column must stay "
                "as it was downloaded",
            )
            return None
        if qid in self.rows:
            where_sheet, where_row = self.rows[qid]
            self.problem(
                sheet,
                row.number,
                qid,
                f"this question is already on sheet “{where_sheet}”, row {where_row}: was a "
                "question id changed?",
            )
            return None
        if isinstance(shown, str) and shown.strip() and not _same_text(shown, plain(question.text)):
            self.problem(
                sheet,
                row.number,
                qid,
                "this row's question is not the one with this id (was the question id "
                "changed?): keep the question id as it was downloaded",
            )
            return None
        return question

    def answer(self, sheet: str, row: int, question: Question, answer: Any, comment: Any) -> None:
        if not question.type.takes_answer or question.type is QuestionType.file:
            if not (_blank(answer) and _blank(comment)):
                message = (
                    "this is information to read: it takes no answer"
                    if not question.type.takes_answer
                    else "evidence files and their comment are given in the portal, not in the "
                    "workbook: leave this row's answer and comment empty"
                )
                self.problem(sheet, row, question.id, message)
            return
        # Both cells are checked, so that one upload names every problem of the row.
        valid = True
        value = None
        try:
            if not _blank(answer):
                value = validate_answer(question, _raw_answer(question, answer))
        except InvalidAnswer as error:
            self.problem(sheet, row, question.id, str(error))
            valid = False
        text = ""
        try:
            text = "" if _blank(comment) else self.comment_rule(_as_text(comment))
        except ValueError as error:  # InvalidAnswer is one
            self.problem(sheet, row, question.id, f"Comment: {error}")
            valid = False
        if valid:
            self.answers[question.id] = (value, text)


_CELL_VALUES = (str, int, float, date, bool, type(None))


def _text_or_none(value: Any) -> str | None:
    return None if _blank(value) else _as_text(value).strip()


def read_content(
    questionnaire: Questionnaire, data: bytes, *, comment_rule: CommentRule | None = None
) -> WorkbookContent:
    """Read a filled workbook (see :class:`WorkbookContent`). ``comment_rule`` checks a
    comment (returns it cleaned, raises ValueError with the message for the person); by
    default the rule of a long text answer."""
    if len(data) > MAX_BYTES:
        return _refused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    refused = _unpacked_size_problem(data)
    if refused:
        return _refused(refused)
    reader = _Reader(questionnaire, comment_rule or _long_text_comment)
    book = None
    try:
        # openpyxl warns about parts it does not keep (extensions, defined names): noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_links=False
            )
            reader.read(book)
    except Exception:  # hostile or damaged content: whatever openpyxl raises, say so
        return _refused(
            "the file is damaged or not an Excel workbook (.xlsx): download the workbook "
            "again and type the answers in it"
        )
    finally:
        if book is not None:
            book.close()
    return reader.content()


def read_workbook(
    questionnaire: Questionnaire, data: bytes
) -> tuple[dict[str, AnswerPair], tuple[WorkbookProblem, ...]]:
    """The answers of a filled workbook ({question id: (answer, comment)}, an empty cell giving
    None and ""), for every answerable question that has its row; and every problem found, in
    the order of the sheets and rows. The answers are to be saved only when there is no
    problem: all of them or none."""
    content = read_content(questionnaire, data)
    return content.answers, content.problems
