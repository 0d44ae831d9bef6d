"""Writing the workbook a vendor fills: the instructions sheet, one sheet per section with
its dropdowns and locked cells, and the answers given so far. openpyxl is imported where a
workbook is built, not when the app starts.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from ..markup import plain
from ..model import Question, Questionnaire, QuestionType, number
from ..words import by_text, condition_in_words
from .layout import (
    _ANSWER,
    _CHOICE,
    _COMMENT,
    _HELP,
    _ID,
    _KEY_LABEL,
    _NOTES,
    _QUESTION,
    _REQUIRED,
    _VERSION,
    _WIDTHS,
    COLUMNS,
    DESCRIPTION_ROW,
    HEADER_ROW,
    INSTRUCTIONS,
    LISTS,
    TITLE_ROW,
    AnswerPair,
    _as_text,
    _labels,
    sheet_names,
)

if TYPE_CHECKING:
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation


class _Styles(NamedTuple):
    bold: Font
    header_fill: PatternFill
    locked_fill: PatternFill
    wrap: Alignment
    unlocked: Protection


@functools.cache
def _styles() -> _Styles:
    """The cell styles, made once, when the first workbook is built (openpyxl is not imported
    when the app starts)."""
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    return _Styles(
        bold=Font(bold=True),
        header_fill=PatternFill("solid", fgColor="DDE3EA"),
        locked_fill=PatternFill("solid", fgColor="F2F2F2"),
        wrap=Alignment(wrap_text=True, vertical="top"),
        unlocked=Protection(locked=False),
    )


_DATE_FORMAT = "yyyy-mm-dd"


def _put(cell: Any, value: Any) -> None:
    """Write a value; text stays text even when it starts with "=" (never a formula: an
    answer or a question written by someone else must not run in the reader's Excel)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def _label(question: Question, value: str) -> str:
    option = question.option(value)
    return plain(option.label) if option else value


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
        words = condition_in_words(question.show_if, questionnaire, by_text)
        notes.append(f"Answer only if {words}.")
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
        from openpyxl import Workbook

        self.questionnaire = questionnaire
        self.answers = answers
        self.versions = versions
        self.styles = _styles()
        self.book = Workbook()
        self.lists = None
        self.list_columns = 0

    def option_range(self, question: Question) -> str:
        """The cells of the hidden Lists sheet holding this question's option labels."""
        from openpyxl.utils import get_column_letter

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
        from openpyxl.worksheet.datavalidation import DataValidation

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
        from openpyxl.styles import Font

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
            sheet.cell(row=row, column=2).alignment = self.styles.wrap
        sheet["A1"].font = Font(bold=True, size=14)
        for row in (3, 4, 6, lines.index(("Sheets", "")) + 1):
            sheet.cell(row=row, column=1).font = self.styles.bold
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 100

    def section(self, index: int, name: str) -> None:
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        section = self.questionnaire.sections[index]
        sheet = self.book.create_sheet(name)
        _put(sheet.cell(row=TITLE_ROW, column=1), plain(section.title))
        sheet.cell(row=TITLE_ROW, column=1).font = Font(bold=True, size=13)
        if section.description:
            _put(sheet.cell(row=DESCRIPTION_ROW, column=1), plain(section.description))
        for column, (heading, width) in enumerate(zip(COLUMNS, _WIDTHS, strict=True), start=1):
            cell = sheet.cell(row=HEADER_ROW, column=column)
            _put(cell, heading)
            cell.font, cell.fill = self.styles.bold, self.styles.header_fill
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
            cell.alignment = self.styles.wrap
        answerable = question.type.takes_answer and question.type is not QuestionType.file
        if not answerable:
            for column in (_ANSWER, _COMMENT):
                cells[column].fill = self.styles.locked_fill
            return
        _put(cells[_ANSWER], _answer_cell_value(question, value))
        sheet.cell(row=row, column=_VERSION).value = int(self.versions.get(question.id, 0))
        _put(cells[_COMMENT], comment or None)
        for column in (_ANSWER, _COMMENT):
            cells[column].protection = self.styles.unlocked
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
