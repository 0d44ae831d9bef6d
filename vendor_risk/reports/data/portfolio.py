"""The portfolio summary: the portfolio page's figures, from the stored aggregates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ...core.blast_radius.engine import CREDENTIAL_KINDS
from ...db import utcnow
from ...models import FindingSeverity, IncidentStatus
from ...services import findings, incidents, inventory
from ...services.assessments import scoring
from ...services.inventory import RotationStatus
from ...services.portfolio import aggregates as portfolio
from .words import _day, _words

# A portfolio report lists this many rows per table (the pages list them all).
PORTFOLIO_ROWS = 20


@dataclass(frozen=True)
class CountLine:
    label: str
    count: int


@dataclass(frozen=True)
class SuperNodeLine:
    vendor: str
    status: str
    inherent_tier: str
    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int


@dataclass(frozen=True)
class ConcentrationLine:
    system: str
    environment: str
    mfa_required: bool
    vendors_despite_controls: int
    vendors_if_controls_fail: int


@dataclass(frozen=True)
class OverdueLine:
    credential: str
    kind: str
    holder: str
    system: str
    owner: str
    last_rotated: date | None
    rotation_period_days: int | None


@dataclass(frozen=True)
class OpenIncidentLine:
    title: str
    vendor: str
    started_on: date
    checklist: int
    gap: int


@dataclass(frozen=True)
class PortfolioReport:
    as_of: date
    computed_at: datetime | None  # when the aggregates were computed
    residual_tiers: tuple[CountLine, ...]  # computed residual tier of rated vendors
    inherent_tiers: tuple[CountLine, ...]
    super_nodes: tuple[SuperNodeLine, ...]
    concentration: tuple[ConcentrationLine, ...]
    rotation: tuple[CountLine, ...]
    overdue: tuple[OverdueLine, ...]
    overdue_total: int
    open_findings: tuple[CountLine, ...]  # by severity, most severe first
    open_incidents: tuple[OpenIncidentLine, ...]

    kind = "portfolio"
    title = "Portfolio summary"

    @property
    def open_findings_total(self) -> int:
        return sum(line.count for line in self.open_findings)


def _counts(pairs: Iterable[tuple[Any, int]]) -> tuple[CountLine, ...]:
    return tuple(CountLine(_words(key), n) for key, n in pairs)


def portfolio_report(session: Session, *, now: datetime | None = None) -> PortfolioReport:
    """The portfolio's figures as its page shows them, from the stored aggregates (the caller
    never computes them: the background update keeps them current). A dozen statements."""
    now = now or utcnow()
    residual = scoring.tier_counts(session)
    overdue = inventory.search_credentials(
        session, rotation=RotationStatus.overdue, sort="last_rotated_at", now=now
    )
    opened = findings.open_counts(session, now.date())
    listed = incidents.search_incidents(session).rows
    return PortfolioReport(
        as_of=now.date(),
        computed_at=portfolio.freshness(session).computed_at,
        residual_tiers=_counts(
            (tier, residual.get(tier, 0)) for tier in ("critical", "high", "medium", "low")
        ),
        inherent_tiers=_counts(portfolio.tier_counts(session).items()),
        super_nodes=tuple(
            SuperNodeLine(
                n.name,
                _words(n.status),
                n.inherent_tier,
                n.systems_despite_controls,
                n.systems_if_controls_fail,
                n.categories_despite_controls,
            )
            for n in portfolio.super_nodes(session, limit=PORTFOLIO_ROWS)
        ),
        concentration=tuple(
            ConcentrationLine(
                c.name,
                _words(c.environment),
                c.mfa_required,
                c.vendors_despite_controls,
                c.vendors_if_controls_fail,
            )
            for c in portfolio.concentration(session, limit=PORTFOLIO_ROWS)
        ),
        rotation=tuple(
            CountLine(status.label, n) for status, n in portfolio.rotation_counts(session).items()
        ),
        overdue=tuple(
            OverdueLine(
                r.name,
                CREDENTIAL_KINDS[str(r.kind)],
                r.holder_name or "no vendor",
                r.system_name,
                r.owner,
                _day(r.last_rotated_at or r.issued_at),
                r.rotation_period_days,
            )
            for r in overdue.rows[:PORTFOLIO_ROWS]
        ),
        overdue_total=overdue.total,
        open_findings=tuple(
            CountLine(str(s), opened.of_severity(s)) for s in reversed(FindingSeverity)
        ),
        open_incidents=tuple(
            OpenIncidentLine(i.title, i.vendor_name, i.started_at.date(), i.checklist, i.gap)
            for i in listed
            if i.status is IncidentStatus.open
        ),
    )
