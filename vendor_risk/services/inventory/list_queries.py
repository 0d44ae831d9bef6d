"""What the list pages' queries share: a text search taken literally (the user's ``%`` and
``_`` are no wildcards; names compared as names are), and per-row counts as subqueries
joined to a page's query, so that a page is read in one statement.
"""

from __future__ import annotations

import sqlalchemy as sa

from ...core.names import name_key


def _contains(column: sa.ColumnElement, text: str) -> sa.ColumnElement[bool]:
    """Case-insensitive substring match, the user's ``%`` and ``_`` taken literally."""
    return sa.func.lower(column).like(f"%{_like_text(text.lower())}%", escape="\\")


def _name_contains(model, text: str) -> sa.ColumnElement[bool]:
    """The model's name contains ``text``, compared as names are (names.name_key): a search
    finds "Émile" from "émile" on SQLite as on PostgreSQL."""
    return model.name_key.like(f"%{_like_text(name_key(text))}%", escape="\\")


def _like_text(text: str) -> str:
    """``text`` for a LIKE pattern, its ``%``, ``_`` and ``\\`` escaped by ``\\``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _count_by(column: sa.ColumnElement, *where) -> sa.Subquery:
    """``column`` -> number of rows, for joining counts to a page's query."""
    return (
        sa.select(column.label("key"), sa.func.count().label("n"))
        .where(*where)
        .group_by(column)
        .subquery()
    )


def _count_of(column: sa.ColumnElement, key: sa.ColumnElement) -> sa.ScalarSelect:
    """The number of rows whose ``column`` is ``key`` (a column of the outer query), as a
    correlated subquery: read for the rows of the page only, through ``column``'s index."""
    return sa.select(sa.func.count()).where(column == key).scalar_subquery()
