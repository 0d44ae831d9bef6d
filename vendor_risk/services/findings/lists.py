"""Lists of findings: the staff's search, a vendor contact's list, and the dashboard's counts
by severity and age."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...db import today_utc
from ...models import (
    Finding,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    RiskAcceptance,
    User,
    Vendor,
)
from ..pages import Page, enum_rank, one_page
from .lifecycle import UNRESOLVED, is_overdue

FINDING_SORTS = ("due_on", "severity", "created_at", "status", "vendor", "title")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class AgeBucket(StrEnum):
    """How long a finding has been open, in days since it was opened (UTC days)."""

    recent = "0-30"
    months = "31-90"
    old = "91+"

    @property
    def label(self) -> str:
        return f"{self.value} days"

    @property
    def bounds(self) -> tuple[int, int | None]:
        """The first and last age in days it holds (None: no upper end)."""
        return _AGE_BOUNDS[self]


_AGE_BOUNDS: dict[AgeBucket, tuple[int, int | None]] = {
    AgeBucket.recent: (0, 30),
    AgeBucket.months: (31, 90),
    AgeBucket.old: (91, None),
}


def _age_condition(bucket: AgeBucket, today: date) -> sa.ColumnElement[bool]:
    """Opened on a day whose age falls in ``bucket``, as a range of ``created_at`` (indexed)."""
    first, last = bucket.bounds
    conditions = []
    if first > 0:
        conditions.append(Finding.created_at < _midnight(today - timedelta(days=first - 1)))
    if last is not None:
        conditions.append(Finding.created_at >= _midnight(today - timedelta(days=last)))
    return sa.and_(sa.true(), *conditions)


def _overdue_condition(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(Finding.due_on < today, Finding.status.in_(sorted(UNRESOLVED)))


@dataclass(frozen=True)
class FindingRow:
    id: int
    vendor_id: int
    vendor_name: str
    title: str
    severity: FindingSeverity
    status: FindingStatus
    source: FindingSource
    visible_to_vendor: bool
    owner: str
    due_on: date | None
    created_at: datetime
    age_days: int
    overdue: bool
    accepted_until: date | None  # the expiry of the acceptance in force


def _listed() -> sa.Select:
    """Findings with their vendor's name and the expiry of the acceptance in force: one row
    per finding (the latest expiry, should two ever be in force)."""
    in_force = (
        sa.select(
            RiskAcceptance.finding_id.label("finding_id"),
            sa.func.max(RiskAcceptance.expires_on).label("expires_on"),
        )
        .where(RiskAcceptance.ended_at.is_(None))
        .group_by(RiskAcceptance.finding_id)
        .subquery()
    )
    return (
        sa.select(
            Finding.id,
            Finding.vendor_id,
            Vendor.name.label("vendor_name"),
            Finding.title,
            Finding.severity,
            Finding.status,
            Finding.source,
            Finding.visible_to_vendor,
            Finding.owner,
            Finding.due_on,
            Finding.created_at,
            in_force.c.expires_on.label("accepted_until"),
        )
        .join(Vendor, Vendor.id == Finding.vendor_id)
        .outerjoin(in_force, in_force.c.finding_id == Finding.id)
    )


def _row_maker(today: date):
    def row(r: Any) -> FindingRow:
        return FindingRow(
            id=r.id,
            vendor_id=r.vendor_id,
            vendor_name=r.vendor_name,
            title=r.title,
            severity=r.severity,
            status=r.status,
            source=r.source,
            visible_to_vendor=r.visible_to_vendor,
            owner=r.owner,
            due_on=r.due_on,
            created_at=r.created_at,
            age_days=max(0, (today - r.created_at.astimezone(UTC).date()).days),
            overdue=is_overdue(r.status, r.due_on, today),
            accepted_until=r.accepted_until,
        )

    return row


def sort_order(sort: str, descending: bool) -> list[sa.ColumnElement]:
    columns: dict[str, sa.ColumnElement] = {
        "due_on": Finding.due_on,
        "severity": enum_rank(Finding.severity, FindingSeverity),
        "created_at": Finding.created_at,
        "status": enum_rank(Finding.status, FindingStatus),
        "vendor": sa.func.lower(Vendor.name),
        "title": sa.func.lower(Finding.title),
    }
    column = columns[sort]
    ordered = column.desc() if descending else column.asc()
    # Findings without a due date come last either way: they are nobody's deadline.
    if sort == "due_on":
        ordered = ordered.nulls_last()
    return [ordered, Finding.id.desc() if descending else Finding.id]


def search_findings(
    session: Session,
    *,
    status: FindingStatus | None = None,
    severity: FindingSeverity | None = None,
    vendor_id: int | None = None,
    overdue: bool = False,
    to_remediate: bool = False,
    age: AgeBucket | None = None,
    sort: str = "due_on",
    descending: bool = False,
    page: int = 1,
    today: date | None = None,
) -> Page[FindingRow]:
    """The staff's list of findings, filtered and sorted (:data:`FINDING_SORTS`); one
    statement a page. ``overdue``: past due and still to remediate; ``to_remediate``: open or
    in remediation (what :func:`open_counts` counts); ``age``: since opened."""
    if sort not in FINDING_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    today = today or today_utc()
    query = _listed()
    if status is not None:
        query = query.where(Finding.status == status)
    if severity is not None:
        query = query.where(Finding.severity == severity)
    if vendor_id is not None:
        query = query.where(Finding.vendor_id == vendor_id)
    if overdue:
        query = query.where(_overdue_condition(today))
    if to_remediate:
        query = query.where(Finding.status.in_(sorted(UNRESOLVED)))
    if age is not None:
        query = query.where(_age_condition(age, today))
    return one_page(session, query.order_by(*sort_order(sort, descending)), page, _row_maker(today))


def _of_contact(user: User) -> sa.ColumnElement[bool]:
    """The findings a contact may see: their vendor's, visible to vendors (none without a
    vendor)."""
    if user.vendor_id is None:
        return sa.false()
    return sa.and_(Finding.vendor_id == user.vendor_id, Finding.visible_to_vendor.is_(True))


def findings_of_contact(
    session: Session, user: User, *, page: int = 1, today: date | None = None
) -> Page[FindingRow]:
    """Every finding the contact's vendor may see, those to remediate first, then by due
    date; one statement a page."""
    today = today or today_utc()
    query = (
        _listed()
        .where(_of_contact(user))
        .order_by(
            sa.case((Finding.status.in_(sorted(UNRESOLVED)), 0), else_=1),
            Finding.due_on.asc().nulls_last(),
            Finding.id,
        )
    )
    return one_page(session, query, page, _row_maker(today))


def open_for_contact(
    session: Session, user: User, *, today: date | None = None, limit: int = 20
) -> list[FindingRow]:
    """The contact's vendor's findings still to remediate, the soonest due first (for the
    portal's home page; the findings page lists them all)."""
    today = today or today_utc()
    query = (
        _listed()
        .where(_of_contact(user), Finding.status.in_(sorted(UNRESOLVED)))
        .order_by(Finding.due_on.asc().nulls_last(), Finding.id)
        .limit(limit)
    )
    return [_row_maker(today)(r) for r in session.execute(query)]


@dataclass(frozen=True)
class OpenCounts:
    """Findings still to remediate (open or in remediation) by severity and age bucket."""

    cells: Mapping[tuple[FindingSeverity, AgeBucket], int]

    def count(self, severity: FindingSeverity, bucket: AgeBucket) -> int:
        return self.cells.get((severity, bucket), 0)

    def of_severity(self, severity: FindingSeverity) -> int:
        return sum(self.count(severity, b) for b in AgeBucket)

    def of_age(self, bucket: AgeBucket) -> int:
        return sum(self.count(s, bucket) for s in FindingSeverity)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


def open_counts(session: Session, today: date) -> OpenCounts:
    """For the dashboard: findings still to remediate by severity x age (0-30, 31-90, 91+
    days since opened); one statement."""
    bucket = sa.case(
        *((_age_condition(b, today), b.value) for b in AgeBucket if b.bounds[1] is not None),
        else_=AgeBucket.old.value,
    )
    inner = (
        sa.select(Finding.severity.label("severity"), bucket.label("bucket"))
        .where(Finding.status.in_(sorted(UNRESOLVED)))
        .subquery()
    )
    rows = session.execute(
        sa.select(inner.c.severity, inner.c.bucket, sa.func.count()).group_by(
            inner.c.severity, inner.c.bucket
        )
    )
    return OpenCounts({(FindingSeverity(sev), AgeBucket(b)): n for sev, b, n in rows})
