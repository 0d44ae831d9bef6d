"""CSV lists of vendors: read by row and column, checked and saved as the vendors of an
inventory document, every problem reported at its row and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ....core import csv_text
from ....core.inventory_file import (
    FORMAT_VERSION,
    JsonPath,
    Problem,
    format_path,
)
from ... import ValidationFailed
from ...audit import Actor
from .checks import _problems
from .importing import ImportReport, _import_checked
from .stored import _Stored

VENDOR_CSV_COLUMNS = (
    "name",
    "legal_name",
    "website",
    "services",
    "status",
    "criticality",
    "substitutability",
    "business_owner",
    "contract_start",
    "contract_end",
    "next_review",
    "notes",
)
# The example row of the template (:func:`vendor_csv_template`): every column, valid as it is.
VENDOR_CSV_EXAMPLE = {
    "name": "Example Payroll",
    "legal_name": "Example Payroll Ltd",
    "website": "https://payroll.example.com",
    "services": "Payroll and payslips",
    "status": "active",
    "criticality": "high",
    "substitutability": "moderate",
    "business_owner": "Head of HR",
    "contract_start": "2025-01-01",
    "contract_end": "2027-12-31",
    "next_review": "2026-06-30",
    "notes": "Replace this row with your vendors; only name is required.",
}
# Spreadsheet users write "High": choices are compared in lower case.
_CSV_CHOICES = {"status", "criticality", "substitutability"}


@dataclass(frozen=True)
class RowProblem:
    """A problem of a CSV file, by row as a spreadsheet numbers them (the header is row 1)."""

    row: int
    column: str | None
    message: str

    @property
    def where(self) -> str:
        return f"row {self.row}" + (f", column {self.column}" if self.column else "")

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class VendorCsvInvalid(ValidationFailed):
    """The CSV was refused; ``problems`` lists every problem with its row and column."""

    def __init__(self, problems: Iterable[RowProblem]):
        self.problems = tuple(problems)
        errors: dict[str, list[str]] = {}
        for problem in self.problems:
            errors.setdefault(problem.where, []).append(problem.message)
        super().__init__(errors)


def _csv_header(header: list[str]) -> tuple[list[str], list[RowProblem]]:
    columns = [cell.strip().lower() for cell in header]
    problems = []
    expected = ", ".join(VENDOR_CSV_COLUMNS)
    for column in columns:
        if column not in VENDOR_CSV_COLUMNS:
            problems.append(RowProblem(1, column, f"unknown column; the columns are {expected}"))
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(RowProblem(1, column, "appears twice in the header"))
    if "name" not in columns:
        problems.append(RowProblem(1, None, "the header has no 'name' column"))
    return columns, problems


@dataclass
class _VendorCsv:
    """The vendors of a CSV as inventory entries, the row of each, and the problems of the
    file's shape. An empty cell is left out of its entry: the stored value stays."""

    columns: list[str] = field(default_factory=list)
    entries: list[dict[str, str]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, problem: Problem) -> RowProblem:
        """A problem of the inventory built from the CSV; its paths are (vendors, index, column)."""
        index = problem.path[1] if len(problem.path) > 1 else None
        column = problem.path[2] if len(problem.path) > 2 else None
        row = self.rows[index] if isinstance(index, int) else 1
        return RowProblem(row, None if column is None else str(column), problem.message)

    def where(self, path: JsonPath) -> str:
        """Another place a problem refers to: a vendor's row, as the spreadsheet numbers it."""
        index = path[1] if len(path) > 1 else None
        return f"row {self.rows[index]}" if isinstance(index, int) else format_path(path)

    def order(self, problem: RowProblem) -> tuple[int, int]:
        """Row by row, and left to right as the spreadsheet shows them."""
        column = self.columns.index(problem.column) if problem.column in self.columns else -1
        return problem.row, column


def vendor_csv_template() -> str:
    """A CSV file with the columns the import accepts and one example row: it imports as it is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(VENDOR_CSV_COLUMNS)
    writer.writerow(VENDOR_CSV_EXAMPLE[column] for column in VENDOR_CSV_COLUMNS)
    return out.getvalue()


def _separator(text: str) -> str | None:
    """The file's separator (comma, semicolon, tab or vertical bar, as spreadsheets save a
    CSV in different locales), a comma for a one-column file, None when the header is not one."""
    found = csv_text.delimiter(text)
    if found is not None:
        return found
    only = csv_text.first_line(text).strip().lower()
    return "," if only in VENDOR_CSV_COLUMNS or not only else None


def _csv_entries(text: str) -> _VendorCsv:
    parsed = _VendorCsv()
    text = text.removeprefix("\ufeff")  # Excel writes a BOM
    separator = _separator(text)
    if separator is None:
        message = (
            f"the first line ({csv_text.first_line(text)!r}) has no comma, semicolon, tab or "
            "vertical bar between column names: is this a CSV file?"
        )
        parsed.problems.append(RowProblem(1, None, message))
        return parsed
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        header = next(reader, None)
        if not header:
            expected = ", ".join(VENDOR_CSV_COLUMNS)
            message = f"empty: the first row names the columns ({expected})"
            parsed.problems.append(RowProblem(1, None, message))
            return parsed
        parsed.columns, parsed.problems = _csv_header(header)
        if parsed.problems:
            return parsed  # the rows cannot be read without their columns
        for row, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                _csv_row(parsed, row, cells)
    except csv.Error as exc:
        parsed.problems.append(RowProblem(reader.line_num, None, f"not valid CSV: {exc}"))
    return parsed


def _csv_row(parsed: _VendorCsv, row: int, cells: list[str]) -> None:
    if len(cells) > len(parsed.columns):
        parsed.problems.append(RowProblem(row, None, "more cells than columns in the header"))
    entry = {}
    for column, cell in zip(parsed.columns, cells, strict=False):
        value = cell.strip()
        if value:
            entry[column] = value.lower() if column in _CSV_CHOICES else value
    parsed.entries.append(entry)
    parsed.rows.append(row)


def import_vendor_csv(
    session: Session, text: str, *, actor: Actor, dry_run: bool = False
) -> ImportReport:
    """Upsert the vendors of a CSV list (columns: :data:`VENDOR_CSV_COLUMNS`, ``name``
    required, in any order) by name, all or nothing: :class:`VendorCsvInvalid` carries every
    problem by row and column, and nothing is saved."""
    parsed = _csv_entries(text)
    document = {"version": FORMAT_VERSION, "vendors": parsed.entries}
    stored = _Stored.load(session)
    found = _problems(document, stored, parsed.where)
    problems = parsed.problems + [parsed.problem(p) for p in found]
    if problems:
        raise VendorCsvInvalid(sorted(problems, key=parsed.order))
    return _import_checked(
        session, document, stored, actor=actor, dry_run=dry_run, source="vendor CSV"
    )
