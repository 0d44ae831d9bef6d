"""The audit trail as a file: CSV for a spreadsheet, JSON Lines for a machine, written a row
at a time so that a trail of any length streams in constant memory.

Every CSV text cell is neutralised against spreadsheet formulas (a vendor name or a detail
typed as ``=HYPERLINK(...)`` stays text); JSON Lines keeps each value as stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..core.csv_text import spreadsheet_safe
from ..services.audit_log import EXPORT_FIELDS

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A byte order mark (so that Excel reads UTF-8), the header, then one line per event;
    ``details`` as a JSON object in one cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(EXPORT_FIELDS)
    for row in rows:
        yield line(_cell(row[name]) for name in EXPORT_FIELDS)


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line, the fields in :data:`EXPORT_FIELDS` order."""
    for row in rows:
        yield json.dumps({name: row[name] for name in EXPORT_FIELDS}, ensure_ascii=False) + "\n"


LINES = {"csv": csv_lines, "jsonl": jsonl_lines}
