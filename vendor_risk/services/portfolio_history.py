"""The portfolio's risk day by day: one ``portfolio_day`` row per day, rewritten by one GROUP BY
over the vendors, their aggregates and their ratings whenever ratings are written
(services.scoring.rescore), a vendor's status changes or a vendor is deleted
(services.inventory). The dashboard reads the latest row for its tier, status and heat-map
widgets and the rows of past days for its trend, so that a page view costs the same at 1,000
and at 50,000 vendors.

A row holds the day's state as of its last write (the last write of a day wins). A day without
a row had no change: the trend carries the previous day's figures forward.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..core.scoring import Tier
from ..models import PortfolioDay, Vendor, VendorRating, VendorReach

UNRATED = "unrated"  # the "tier" of a vendor not rated yet, in status_tiers and list filters
TIERS_DOWN = tuple(reversed(Tier))  # critical first: how the dashboards list tiers
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def effective_tier() -> sa.ColumnElement[str]:
    """The tier a vendor is treated as (ratings.effective_tier in SQL): a risk officer's
    override, else the computed residual tier; NULL without a rating."""
    return sa.func.coalesce(VendorRating.override_tier, VendorRating.residual_tier)


@dataclass(frozen=True)
class Day:
    day: date
    vendors: int
    rated: int
    mean_residual: float | None
    tier_counts: Mapping[str, int]  # effective tier -> vendors
    heat: Mapping[tuple[str, str], int]  # (inherent tier, effective tier) -> vendors
    status_tiers: Mapping[tuple[str, str], int]  # (status, effective tier or UNRATED) -> vendors
    incomplete: int = 0  # rated vendors whose rating misses a fact
    missing: Mapping[str, int] = field(default_factory=dict)  # missing fact -> vendors
    provisional: int = 0  # rated vendors with a provisional rating beside theirs

    def tier(self, tier: str) -> int:
        return self.tier_counts.get(tier, 0)

    def cell(self, inherent: str, residual: str) -> int:
        return self.heat.get((inherent, residual), 0)

    def of_status(self, status: str, tier: str) -> int:
        return self.status_tiers.get((status, tier), 0)

    @property
    def unrated(self) -> int:
        return self.vendors - self.rated


def _figures(session: Session) -> dict:
    """Every figure of the day's row, from one GROUP BY over the vendors."""
    tier = effective_tier()
    provisional = VendorRating.provisional_tier.is_not(None)
    rows = session.execute(
        sa.select(
            Vendor.status,
            VendorReach.inherent_tier,
            tier.label("tier"),
            VendorRating.missing,
            provisional,
            sa.func.count(),
            sa.func.sum(VendorRating.residual_score),
        )
        .select_from(Vendor)
        .outerjoin(VendorReach, VendorReach.vendor_id == Vendor.id)
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id)
        .group_by(Vendor.status, VendorReach.inherent_tier, tier, VendorRating.missing, provisional)
    ).all()
    vendors = rated = incomplete = awaiting = 0
    residual_sum = 0.0
    tiers: dict[str, int] = defaultdict(int)
    heat: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    status_tiers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    missing: dict[str, int] = defaultdict(int)
    for status, inherent, effective, facts, pending, n, total in rows:
        vendors += n
        status_tiers[str(status)][effective or UNRATED] += n
        if effective is None:
            continue
        rated += n
        residual_sum += total or 0.0
        tiers[effective] += n
        if inherent is not None:
            heat[inherent][effective] += n
        if facts:
            incomplete += n
            for fact in facts.split():
                missing[fact] += n
        if pending:
            awaiting += n
    return {
        "vendors": vendors,
        "rated": rated,
        "mean_residual": round(residual_sum / rated, 2) if rated else None,
        "tier_counts": dict(tiers),
        "heat": {key: dict(value) for key, value in heat.items()},
        "status_tiers": {key: dict(value) for key, value in status_tiers.items()},
        "incomplete": incomplete,
        "missing": dict(missing),
        "provisional": awaiting,
    }


def record_day(session: Session, now: datetime) -> None:
    """Write the portfolio's figures as today's row (``now``'s UTC day), replacing an earlier
    one of the same day, in the caller's transaction. An upsert: two transactions recording
    the same day never collide on the key."""
    figures = _figures(session) | {"recorded_at": now}
    day = now.astimezone(UTC).date()
    insert = _INSERT[session.get_bind().dialect.name](PortfolioDay).values(day=day, **figures)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[PortfolioDay.day],
            set_={name: insert.excluded[name] for name in figures},
        )
    )


def _day(row: PortfolioDay) -> Day:
    return Day(
        day=row.day,
        vendors=row.vendors,
        rated=row.rated,
        mean_residual=row.mean_residual,
        tier_counts=dict(row.tier_counts),
        heat={(i, r): n for i, by in row.heat.items() for r, n in by.items()},
        status_tiers={(s, t): n for s, by in row.status_tiers.items() for t, n in by.items()},
        incomplete=row.incomplete,
        missing=dict(row.missing),
        provisional=row.provisional,
    )


def latest(session: Session) -> Day | None:
    """The latest row: the portfolio as it stands (None before any rating or vendor change)."""
    row = session.scalar(sa.select(PortfolioDay).order_by(PortfolioDay.day.desc()).limit(1))
    return None if row is None else _day(row)


def trend(session: Session, *, today: date, days: int) -> tuple[tuple[date, float], ...]:
    """The mean residual score of each of the last ``days`` days up to ``today`` (from the
    first day with a figure), a day without a row carrying the previous figure forward. Reads
    at most ``days`` + 1 rows."""
    start = today - timedelta(days=days - 1)
    before = (
        sa.select(PortfolioDay.day, PortfolioDay.mean_residual)
        .where(PortfolioDay.day < start)
        .order_by(PortfolioDay.day.desc())
        .limit(1)
    )
    within = (
        sa.select(PortfolioDay.day, PortfolioDay.mean_residual)
        .where(PortfolioDay.day >= start, PortfolioDay.day <= today)
        .order_by(PortfolioDay.day)
    )
    carried = session.execute(before).first()
    rows = session.execute(within).all()
    figures = dict(rows)
    current = carried.mean_residual if carried is not None else None
    first = start if carried is not None else (rows[0].day if rows else today + timedelta(1))
    points = []
    day = first
    while day <= today:
        current = figures.get(day, current)
        if current is not None:
            points.append((day, current))
        day += timedelta(days=1)
    return tuple(points)
