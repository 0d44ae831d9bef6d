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

The parts: ``layout`` (the sheets, rows and columns, both ways), ``writer`` (the workbook a
vendor fills) and ``reader`` (the filled workbook read back); every name is re-exported here.
openpyxl is imported inside the functions that build or read a workbook, so the app starts
without it.
"""

from __future__ import annotations

from .layout import (
    COLUMNS,
    DESCRIPTION_ROW,
    HEADER_ROW,
    INSTRUCTIONS,
    LISTS,
    SHEET_NAME_MAX,
    TITLE_ROW,
    AnswerPair,
    sheet_names,
)
from .reader import (
    MAX_ARCHIVE_ENTRIES,
    MAX_BYTES,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    CommentRule,
    WorkbookContent,
    WorkbookProblem,
    read_content,
    read_workbook,
)
from .writer import (
    answer_text,
    build_workbook,
)

__all__ = [
    "COLUMNS",
    "DESCRIPTION_ROW",
    "HEADER_ROW",
    "INSTRUCTIONS",
    "LISTS",
    "MAX_ARCHIVE_ENTRIES",
    "MAX_BYTES",
    "MAX_ROWS",
    "MAX_UNPACKED_BYTES",
    "SHEET_NAME_MAX",
    "TITLE_ROW",
    "AnswerPair",
    "CommentRule",
    "WorkbookContent",
    "WorkbookProblem",
    "answer_text",
    "build_workbook",
    "read_content",
    "read_workbook",
    "sheet_names",
]
