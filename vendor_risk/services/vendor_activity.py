"""A vendor's activity (the vendor page's Activity tab): its questionnaire requests, findings,
incidents, and the decisions taken on it (assessment decisions, risk acceptances), each list
capped at :data:`ACTIVITY_SHOWN` rows with the total, so the page links to the full list.

Each list is read through the function its own list page uses (requests, findings, incidents,
decisions), filtered by the vendor; only the risk acceptances, which have no list page, are
read here. Only the lists asked for are read: a role that may not open a list's pages does not
see it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import today_utc
from ..models import Finding, RiskAcceptance, User
from .assessments.decisions import DecisionRow, decisions_of
from .findings.lists import FindingRow, search_findings
from .incidents import IncidentRow, search_incidents
from .questionnaires.requests import RequestRow, search_requests

ACTIVITY_SHOWN = 10

Row = TypeVar("Row")


class ActivityList(StrEnum):
    requests = "requests"
    findings = "findings"
    incidents = "incidents"
    decisions = "decisions"


@dataclass(frozen=True)
class Capped(Generic[Row]):
    """The first rows of a list, and how many there are in all."""

    rows: tuple[Row, ...]
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


@dataclass(frozen=True)
class AcceptanceRow:
    finding_id: int
    finding_title: str
    justification: str
    approver: str
    accepted_at: datetime
    expires_on: date
    ended_at: datetime | None
    ended_reason: str
    in_force: bool  # not ended, and not past its expiry (ending it waits for a findings page)


@dataclass(frozen=True)
class VendorActivity:
    """``None`` for a list that was not asked for."""

    requests: Capped[RequestRow] | None
    findings: Capped[FindingRow] | None
    incidents: Capped[IncidentRow] | None
    decisions: Capped[DecisionRow] | None
    acceptances: Capped[AcceptanceRow] | None


def _capped(rows, total: int, shown: int) -> Capped:
    return Capped(tuple(rows)[:shown], total)


def acceptances_of(
    session: Session, vendor_id: int, shown: int, today: date
) -> Capped[AcceptanceRow]:
    """The risk acceptances of the vendor's findings: those in force first, then the latest
    accepted."""
    query = (
        sa.select(
            RiskAcceptance.finding_id,
            Finding.title,
            RiskAcceptance.justification,
            User.name,
            RiskAcceptance.accepted_at,
            RiskAcceptance.expires_on,
            RiskAcceptance.ended_at,
            RiskAcceptance.ended_reason,
            sa.func.count().over().label("total_rows"),
        )
        .join(Finding, Finding.id == RiskAcceptance.finding_id)
        .join(User, User.id == RiskAcceptance.approver_id)
        .where(Finding.vendor_id == vendor_id)
        .order_by(
            sa.case((RiskAcceptance.ended_at.is_(None), 0), else_=1),
            RiskAcceptance.accepted_at.desc(),
            RiskAcceptance.id.desc(),
        )
        .limit(shown)
    )
    rows = session.execute(query).all()
    return Capped(
        tuple(
            AcceptanceRow(*row[:8], in_force=row.ended_at is None and row.expires_on >= today)
            for row in rows
        ),
        rows[0].total_rows if rows else 0,
    )


def vendor_activity(
    session: Session,
    vendor_id: int,
    *,
    lists: Collection[ActivityList] = tuple(ActivityList),
    shown: int = ACTIVITY_SHOWN,
    today: date | None = None,
) -> VendorActivity:
    """The vendor's lists asked for, each its first ``shown`` rows: requests newest sent first
    (drafts last), findings by status (open first), incidents open first, decisions and risk
    acceptances newest first. At most two statements per list."""
    today = today or today_utc()
    requests = findings = incidents = decisions = acceptances = None
    if ActivityList.requests in lists:
        page = search_requests(
            session, vendor_id=vendor_id, sort="sent_at", descending=True, today=today
        )
        requests = _capped(page.rows, page.total, shown)
    if ActivityList.findings in lists:
        page = search_findings(session, vendor_id=vendor_id, sort="status", today=today)
        findings = _capped(page.rows, page.total, shown)
    if ActivityList.incidents in lists:
        page = search_incidents(session, vendor_id=vendor_id)
        incidents = _capped(page.rows, page.total, shown)
    if ActivityList.decisions in lists:
        found = decisions_of(session, vendor_id)
        decisions = _capped(found, len(found), shown)
        acceptances = acceptances_of(session, vendor_id, shown, today)
    return VendorActivity(requests, findings, incidents, decisions, acceptances)
