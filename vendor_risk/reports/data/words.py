"""How a report words a value: an enum in lower-case words, a moment as its day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ...core.labels import label


def _words(value: Any) -> str:
    return label(value).lower() if value is not None else ""


def _day(moment: datetime | date | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment
