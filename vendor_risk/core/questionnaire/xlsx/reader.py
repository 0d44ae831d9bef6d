"""Reading a filled workbook back into answers, treating the file as hostile: size limits on
the upload and the unzipped archive, no formula ever evaluated, every answer checked as the
portal checks it, every problem told by sheet, row and question. openpyxl is imported where a
workbook is read, not when the app starts.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..conditions import InvalidAnswer, validate_answer
from ..markup import plain
from ..model import Question, Questionnaire, QuestionType
from .layout import (
    _CHOICE,
    _KEY_LABEL,
    HEADER_ROW,
    INSTRUCTIONS,
    LISTS,
    AnswerPair,
    _as_text,
    _labels,
    sheet_names,
)

# openpyxl parses uploaded XML with defusedxml only when that is importable: without it, this
# module refuses to import, as it did when it imported openpyxl (looked up, not loaded).
if importlib.util.find_spec("defusedxml") is None:
    raise ImportError("defusedxml is required to read uploaded workbooks safely")

# An upload larger than this is refused before it is opened; a questionnaire of 300 questions
# with long answers is well under 1 MB.
MAX_BYTES = 5 * 1024 * 1024
# A workbook is a zip archive: what it unpacks to is bounded too (a zip bomb is small).
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2_000
MAX_ROWS = 5_000  # per sheet: far above any questionnaire section
_MAX_COLUMNS = 30  # columns read from a sheet: ours, and a few a vendor may add

# A comment obeys the rules of a long text answer, checked by the same function.
_COMMENT_RULES = Question("comment", QuestionType.long_text, "Comment", required=False, weight=0)


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


_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx


def _openpyxl_load_workbook() -> Callable[..., Any]:
    """openpyxl's ``load_workbook``, imported when a workbook is read (never at start-up)."""
    import openpyxl.xml
    from openpyxl import load_workbook

    # openpyxl parses uploaded XML with defusedxml (no entity declarations) only when that is
    # importable: never read a vendor's workbook without it.
    if not openpyxl.xml.DEFUSEDXML:
        raise ImportError("defusedxml is required to read uploaded workbooks safely")
    return load_workbook


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
        from openpyxl.utils import get_column_letter

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
    load_workbook = _openpyxl_load_workbook()
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
