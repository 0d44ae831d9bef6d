"""The figures of the three home pages: the risk officer's dashboard, procurement's, and a vendor
contact's portal home. Plain dataclasses out; the views turn them into charts and links.

Every figure costs the same whatever the size of the portfolio (bench/dashboard.py measures it
at 1,000, 10,000 and 50,000 vendors):

- what depends on every vendor (tiers, statuses, the heat map, the trend) is read from the rows
  services.portfolio_history writes when ratings or vendors change, and what depends on the
  whole inventory (blast radius, concentration, rotation) from services.portfolio's stored
  aggregates;
- findings still to remediate are counted from ``open_finding_day``, which database triggers
  keep per severity and day opened;
- the rest are top-N queries on indexed columns and counts over small sets read from an index:
  requests under way, reassessments due, open incidents;
- response times are computed from the latest submissions only (``RESPONSE_SAMPLE``).

Each count is the one its filtered list shows, computed by that list's own service where it
can be (its ``total``), so that the number on the dashboard and the rows behind its link agree.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.scoring import MISSING_WORDS, Tier
from ...models import (
    FindingSeverity,
    IncidentStatus,
    OpenFindingDay,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    User,
    Vendor,
    VendorRating,
)
from .. import findings, incidents, portfolio_history
from ..inventory import RotationStatus
from ..questionnaires import answers as answers_service
from ..questionnaires import reassessments
from ..questionnaires import requests as request_service
from ..questionnaires.request_status import AWAITING_REVIEW, AWAITING_VENDOR
from . import aggregates as portfolio

TOP = 10  # vendors, systems, requests listed in a widget
REASSESSMENTS_SHOWN = 5
TREND_DAYS = 180
DUE_SOON_DAYS = 7  # "due this week"
RESPONSE_DAYS = 90
# Response times are computed from at most this many submissions (the latest of the last
# RESPONSE_DAYS days): enough for a median and a 90th percentile, and a bounded read however
# many vendors answer.
RESPONSE_SAMPLE = 500
# What the credentials widget shows: those to act on, most urgent first.
ROTATION_SHOWN = (RotationStatus.overdue, RotationStatus.expired, RotationStatus.expiring_soon)
# Request statuses that can still move on, in the order a request goes through them.
UNDER_WAY = tuple(status for status in RequestStatus if status in reassessments.OPEN)


# ---- the risk officer -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewDue:
    id: int
    name: str
    next_review: date
    overdue: bool
    tier: Tier | None  # effective (an override counts); None before any rating
    missing: tuple[str, ...] = ()  # the facts its rating misses, in words: incomplete if any


@dataclass(frozen=True)
class Reassessments:
    total: int  # next review past or within reassessments.DEFAULT_WITHIN_DAYS
    within_days: int
    first: tuple[ReviewDue, ...]  # the longest overdue first, as the reassessments page


@dataclass(frozen=True)
class RiskDashboard:
    today: date
    aggregates_at: datetime | None  # when blast radius and rotation were computed
    day: portfolio_history.Day | None  # None only before anything was ever recorded
    trend: tuple[tuple[date, float], ...]  # mean residual score per day
    super_nodes: tuple[portfolio.SuperNode, ...]
    concentration: tuple[portfolio.Concentrated, ...]
    rotation: Mapping[RotationStatus, int]
    findings: findings.OpenCounts
    requests_overdue: int
    requests_awaiting_review: int
    reassessments: Reassessments
    incidents_open: int
    incidents: tuple[incidents.IncidentRow, ...]  # open ones, the most recent breach first

    @property
    def empty(self) -> bool:
        """No vendor at all: a fresh install."""
        return self.day is None or self.day.vendors == 0


def _request_counts(session: Session, today: date) -> tuple[int, int]:
    """Requests overdue and requests waiting for a review, in one statement over the
    requests under way (status is indexed)."""
    overdue, review = session.execute(
        sa.select(
            sa.func.count().filter(request_service.overdue_clause(today)),
            sa.func.count().filter(QuestionnaireRequest.status.in_(sorted(AWAITING_REVIEW))),
        ).where(QuestionnaireRequest.status.in_(UNDER_WAY))
    ).one()
    return overdue, review


def open_findings(session: Session, today: date) -> findings.OpenCounts:
    """findings.open_counts from the per-day counts the triggers keep: a few rows per day of
    the findings' history, whatever the number of findings."""
    day = OpenFindingDay.created_on
    bucket = sa.case(
        *(
            (day >= today - timedelta(days=last), b.value)
            for b in findings.AgeBucket
            if (last := b.bounds[1]) is not None
        ),
        else_=findings.AgeBucket.old.value,
    )
    rows = session.execute(
        sa.select(OpenFindingDay.severity, bucket, sa.func.sum(OpenFindingDay.n))
        .where(OpenFindingDay.n > 0)
        .group_by(OpenFindingDay.severity, bucket)
    )
    return findings.OpenCounts(
        {(FindingSeverity(s), findings.AgeBucket(b)): int(n) for s, b, n in rows}
    )


def reassessments_due(session: Session, today: date) -> Reassessments:
    """How many vendors the reassessments page lists by default, and its first rows: a count
    and a top-N on the next-review index."""
    within = reassessments.DEFAULT_WITHIN_DAYS
    due = reassessments.due_clause(today, within)
    total = session.scalar(sa.select(sa.func.count()).select_from(Vendor).where(due)) or 0
    # The first rows in the page's order (review date, then name): only the vendors due by
    # the REASSESSMENTS_SHOWN-th review date are read and sorted, not every vendor due.
    last_shown = (
        sa.select(Vendor.next_review)
        .where(due)
        .order_by(Vendor.next_review)
        .offset(REASSESSMENTS_SHOWN - 1)
        .limit(1)
        .scalar_subquery()
    )
    tier = portfolio_history.effective_tier()
    rows = session.execute(
        sa.select(Vendor.id, Vendor.name, Vendor.next_review, tier, VendorRating.missing)
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id)
        .where(
            due,
            Vendor.next_review <= sa.func.coalesce(last_shown, today + timedelta(days=within)),
        )
        .order_by(Vendor.next_review, sa.func.lower(Vendor.name), Vendor.id)
        .limit(REASSESSMENTS_SHOWN)
    )
    first = tuple(
        ReviewDue(
            vid,
            name,
            review,
            review < today,
            Tier(found) if found else None,
            tuple(MISSING_WORDS[key] for key in (missing or "").split()),
        )
        for vid, name, review, found, missing in rows
    )
    return Reassessments(total, within, first)


def risk_dashboard(session: Session, *, today: date) -> RiskDashboard:
    """Everything the risk officer's home shows: a fixed number of statements, each reading
    a stored aggregate, an index range or a small set."""
    open_incidents = incidents.search_incidents(session, status=IncidentStatus.open)
    overdue, review = _request_counts(session, today)
    return RiskDashboard(
        today=today,
        aggregates_at=portfolio.freshness(session).computed_at,
        day=portfolio_history.latest(session),
        trend=portfolio_history.trend(session, today=today, days=TREND_DAYS),
        super_nodes=tuple(portfolio.super_nodes(session, limit=TOP)),
        concentration=tuple(portfolio.concentration(session, limit=TOP)),
        rotation=portfolio.rotation_counts(session),
        findings=open_findings(session, today),
        requests_overdue=overdue,
        requests_awaiting_review=review,
        reassessments=reassessments_due(session, today),
        incidents_open=open_incidents.total,
        incidents=open_incidents.rows[:TOP],
    )


# ---- procurement ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTime:
    """Days from sent to submitted."""

    label: str  # the questionnaire's title, or "All questionnaires"
    requests: int  # submissions counted
    median: float
    p90: float


@dataclass(frozen=True)
class ResponseTimes:
    days: int  # submitted in the last this many days
    sampled: bool  # more were submitted than RESPONSE_SAMPLE: the latest counted
    overall: ResponseTime | None  # None: nothing submitted in the window
    per_questionnaire: tuple[ResponseTime, ...]  # the most answered first


@dataclass(frozen=True)
class ProcurementDashboard:
    today: date
    by_status: Mapping[RequestStatus, int]  # requests under way, every such status present
    overdue_total: int
    overdue: tuple[request_service.RequestRow, ...]  # the longest overdue first
    due_soon_total: int
    due_soon: tuple[request_service.RequestRow, ...]  # the soonest due first
    due_soon_days: int
    response: ResponseTimes

    @property
    def under_way(self) -> int:
        return sum(self.by_status.values())


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` (sorted) lie, interpolated between
    the two nearest (the inclusive method: the median of [1, 2] is 1.5)."""
    if len(values) == 1:
        return values[0]
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _response_time(label: str, days: list[float]) -> ResponseTime:
    days = sorted(days)
    return ResponseTime(
        label, len(days), round(statistics.median(days), 1), round(percentile(days, 0.9), 1)
    )


def response_times(session: Session, *, now: datetime) -> ResponseTimes:
    """Median and 90th percentile of the days from sent to submitted, of the vendor
    questionnaires submitted in the last RESPONSE_DAYS days (the latest RESPONSE_SAMPLE of
    them), overall and per questionnaire. One bounded statement on the submission index."""
    rows = session.execute(
        sa.select(
            Questionnaire.id,
            Questionnaire.title,
            QuestionnaireRequest.sent_at,
            QuestionnaireRequest.submitted_at,
        )
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(
            QuestionnaireRequest.submitted_at >= now - timedelta(days=RESPONSE_DAYS),
            QuestionnaireRequest.sent_at.is_not(None),
            Questionnaire.audience == request_service.VENDOR_AUDIENCE,
        )
        .order_by(QuestionnaireRequest.submitted_at.desc())
        .limit(RESPONSE_SAMPLE + 1)
    ).all()
    sampled = len(rows) > RESPONSE_SAMPLE
    rows = rows[:RESPONSE_SAMPLE]
    per: dict[int, tuple[str, list[float]]] = {}
    every = []
    for questionnaire_id, title, sent_at, submitted_at in rows:
        days = max(0.0, (submitted_at - sent_at).total_seconds() / 86_400)
        every.append(days)
        per.setdefault(questionnaire_id, (title, []))[1].append(days)
    ranked = sorted(per.values(), key=lambda item: (-len(item[1]), item[0].lower()))
    return ResponseTimes(
        days=RESPONSE_DAYS,
        sampled=sampled,
        overall=_response_time("All questionnaires", every) if every else None,
        per_questionnaire=tuple(_response_time(title, days) for title, days in ranked),
    )


def _count(session: Session, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(QuestionnaireRequest).where(condition)
    return session.scalar(query) or 0


def _first_requests(
    session: Session, condition: sa.ColumnElement[bool], today: date
) -> tuple[request_service.RequestRow, ...]:
    """The first TOP requests waiting for the vendor that match ``condition``, in the request
    list's default order (due date, then the newest): the first TOP of each status read in
    order from the status and due-date index (a walk down the due-date index alone would pass
    every accepted request due long ago first), then only those rows read with their vendor
    and questionnaire."""
    order = (QuestionnaireRequest.due_on, QuestionnaireRequest.id.desc())
    per_status = [
        sa.select(QuestionnaireRequest.id, QuestionnaireRequest.due_on)
        .where(condition, QuestionnaireRequest.status == status)
        .order_by(*order)
        .limit(TOP)
        .subquery()
        .select()
        for status in sorted(AWAITING_VENDOR)
    ]
    candidates = sa.union_all(*per_status).subquery()
    first = (
        sa.select(candidates.c.id)
        .order_by(candidates.c.due_on, candidates.c.id.desc())
        .limit(TOP)
        .scalar_subquery()
    )
    rows = session.execute(
        request_service.request_rows(today)
        .where(QuestionnaireRequest.id.in_(first))
        .order_by(*order)
    )
    return tuple(request_service.RequestRow(*row) for row in rows)


def procurement_dashboard(session: Session, *, today: date, now: datetime) -> ProcurementDashboard:
    """Requests by status, overdue and due soon (the count the request list shows with that
    filter, and its first rows), and response times."""
    counts = dict(
        session.execute(
            sa.select(QuestionnaireRequest.status, sa.func.count())
            .where(QuestionnaireRequest.status.in_(UNDER_WAY))
            .group_by(QuestionnaireRequest.status)
        ).all()
    )
    overdue = request_service.overdue_clause(today)
    due_soon = request_service.due_soon_clause(today, DUE_SOON_DAYS)
    return ProcurementDashboard(
        today=today,
        by_status={status: counts.get(status, 0) for status in UNDER_WAY},
        overdue_total=_count(session, overdue),
        overdue=_first_requests(session, overdue, today),
        due_soon_total=_count(session, due_soon),
        due_soon=_first_requests(session, due_soon, today),
        due_soon_days=DUE_SOON_DAYS,
        response=response_times(session, now=now),
    )


# ---- a vendor contact -------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalHome:
    """A contact's own vendor's requests and findings to remediate: both read through queries
    filtered by the contact's vendor (answers.requests_of_contact, findings.open_for_contact)."""

    requests: tuple[answers_service.RequestRow, ...]
    findings: tuple[findings.FindingRow, ...]

    @property
    def to_answer(self) -> int:
        return sum(1 for r in self.requests if r.editable)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.requests if r.overdue)

    @property
    def findings_overdue(self) -> int:
        return sum(1 for f in self.findings if f.overdue)


def portal_home(session: Session, user: User, *, today: date) -> PortalHome:
    return PortalHome(
        requests=tuple(answers_service.requests_of_contact(session, user, today=today)),
        findings=tuple(findings.open_for_contact(session, user, today=today)),
    )
