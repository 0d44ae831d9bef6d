"""One page of a list, and the sort orders every list shares: a page of rows and its total (in
one statement, or by a lean count for the large lists), enum columns ranked as declared, and
tie-breakers so that pages never overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

PAGE_SIZE = 50

Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: tuple[Row, ...]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def count(self) -> int:
        """How many pages there are (at least one, empty)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)

    def links(self, around: int = 2) -> list[int | None]:
        """The page numbers to link to: the first, the last and a window around this one;
        None marks a gap."""
        wanted = {1, self.count, *range(self.number - around, self.number + around + 1)}
        numbers = sorted(n for n in wanted if 1 <= n <= self.count)
        links: list[int | None] = []
        previous = 0
        for number in numbers:
            if number - previous > 1:
                links.append(None)
            links.append(number)
            previous = number
        return links


def one_page(
    session: Session,
    query: sa.Select,
    number: int,
    make_row: Callable[[Any], Row],
    *,
    count: sa.Select | int | None = None,
) -> Page[Row]:
    """One page of ``query``. The total comes from a window function over the same statement,
    or, given ``count`` (a ``SELECT count(*)`` with the same filters, and only the joins they
    need), from that lean statement: at 50,000 vendors or 250,000
    credentials a window over the whole list costs every row's columns and sort, where the
    page alone, sorted by an index, reads its own rows and the count reads an index. An int
    ``count`` is a total known already (a stored aggregate)."""
    number = max(1, number)
    if count is not None:
        paged = query.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
        rows = session.execute(paged).all()
        seen = (number - 1) * PAGE_SIZE + len(rows)
        if number == 1 and len(rows) < PAGE_SIZE:  # the whole list fits: its rows are the count
            count = len(rows)
        # A total known already (counted at the last refresh) is never less than what is seen.
        total = max(count, seen) if isinstance(count, int) else session.scalar(count)
        return Page(tuple(make_row(row) for row in rows), number, total or 0)
    paged = (
        query.add_columns(sa.func.count().over().label("total_rows"))
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    )
    rows = session.execute(paged).all()
    if rows:
        total = rows[0].total_rows
    elif number == 1:
        total = 0
    else:  # past the last page: the window saw no row, so count apart
        total = session.scalar(
            sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        )
    return Page(tuple(make_row(row) for row in rows), number, total or 0)


def enum_rank(column: sa.ColumnElement, enum: type[StrEnum]) -> sa.ColumnElement[int]:
    """An enum column ordered as its members are declared (low < medium < high...)."""
    return sa.case({member.value: i for i, member in enumerate(enum)}, value=column, else_=-1)


def sort_order(
    key: sa.ColumnElement, descending: bool, *tiebreak: sa.ColumnElement, nullable: bool = False
) -> list:
    """Sort by ``key`` in the chosen direction (missing values last either way when it is
    ``nullable``), then by the tie-breakers, so that pages never overlap."""
    order = [sa.case((key.is_(None), 1), else_=0)] if nullable else []
    order.append(key.desc() if descending else key.asc())
    return [*order, *(column for column in tiebreak if column is not key)]
