"""Moments of a breach: naive datetimes (SQLite hands them back) are taken as UTC, and
written as ISO 8601 text in results.
"""

from __future__ import annotations

from datetime import UTC, datetime


def _utc(moment: datetime | None) -> datetime | None:
    """Naive datetimes (SQLite hands them back) are taken as UTC, so every comparison works."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
