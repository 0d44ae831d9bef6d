"""The risk officer's dashboard as charts: the figures of services.dashboards drawn by
vendor_risk.charts, every bar and cell linking to the filtered list that shows exactly the
vendors, credentials or findings it counts."""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for

from ...core.scoring import Tier
from ...models import FindingSeverity, VendorStatus
from ...reports.charts import (
    Bar,
    Chart,
    Series,
    bar_chart,
    day_text,
    heat_map,
    line_chart,
    stacked_bar_chart,
)
from ...services.findings import AgeBucket
from ...services.inventory import RotationStatus
from ...services.portfolio.dashboards import ROTATION_SHOWN, RiskDashboard
from ...services.portfolio_history import TIERS_DOWN, UNRATED

# The colour of each tier, severity and rotation status: the more urgent, the darker.
TIER_TONE = {tier.value: tier.value for tier in Tier} | {UNRATED: "neutral"}
ROTATION_TONE = {
    RotationStatus.overdue: "critical",
    RotationStatus.expired: "high",
    RotationStatus.expiring_soon: "medium",
}
AGE_TONE = {AgeBucket.recent: "low", AgeBucket.months: "medium", AgeBucket.old: "critical"}
SEVERITIES_DOWN = tuple(reversed(FindingSeverity))


def tier_label(tier: str) -> str:
    return "Not rated yet" if tier == UNRATED else tier.capitalize()


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def vendors_by_status(data: RiskDashboard) -> Chart:
    day = data.day
    tiers = (*(t.value for t in TIERS_DOWN), UNRATED)
    statuses = tuple(VendorStatus)
    series = tuple(
        Series(
            tier_label(tier),
            tuple(day.of_status(s.value, tier) if day else 0 for s in statuses),
            tone=TIER_TONE[tier],
            hrefs=tuple(
                url_for("inventory.vendors", status=s.value, residual=tier) for s in statuses
            ),
        )
        for tier in tiers
    )
    total = day.vendors if day else 0
    high = sum(day.tier(t) for t in ("critical", "high")) if day else 0
    incomplete = (
        f" {_plural(day.incomplete, 'rating')} incomplete (facts missing, counted at their "
        "worst value)."
        if day and day.incomplete
        else ""
    )
    return stacked_bar_chart(
        "Vendors by status and residual tier",
        f"{_plural(total, 'vendor')}, {high:,} of them rated high or critical.{incomplete} "
        "Each bar is a vendor status, split by the vendor's residual tier (an override "
        "counts).",
        tuple(s.value.capitalize() for s in statuses),
        series,
        value_label="Vendors",
        category_label="Status",
    )


# How risky a cell of the heat map is: what remains (the residual tier) counts twice what the
# vendor would be without its controls (the inherent tier); 0 for low/low, 1 for critical/critical.
_TOP_RANK = Tier.critical.rank


def cell_risk(inherent: Tier, residual: Tier) -> float:
    return (2 * residual.rank + inherent.rank) / (3 * _TOP_RANK)


def heat(data: RiskDashboard) -> Chart:
    day = data.day
    inherent = TIERS_DOWN  # critical on top
    residual = tuple(Tier)  # low to critical, left to right
    cells = tuple(
        tuple(day.cell(i.value, r.value) if day else 0 for r in residual) for i in inherent
    )
    hrefs = tuple(
        tuple(url_for("inventory.vendors", tier=i.value, residual=r.value) for r in residual)
        for i in inherent
    )
    lowered = sum(
        cells[y][x]
        for y, i in enumerate(inherent)
        for x, r in enumerate(residual)
        if r.rank < i.rank
    )
    return heat_map(
        "Inherent against residual risk",
        f"Rated vendors by inherent tier (rows) and residual tier (columns): {lowered:,} "
        "vendors' controls bring their residual tier below their inherent tier. A cell's "
        "colour says how risky its place is, from green (low inherent and residual tiers) to "
        "dark red (both critical), the residual tier counting most.",
        x_labels=tuple(t.value.capitalize() for t in residual),
        y_labels=tuple(t.value.capitalize() for t in inherent),
        cells=cells,
        risk=tuple(tuple(cell_risk(i, r) for r in residual) for i in inherent),
        x_title="Residual tier",
        y_title="Inherent tier",
        hrefs=hrefs,
    )


def trend(data: RiskDashboard) -> Chart:
    points = data.trend
    if points:
        first, last = points[0], points[-1]
        description = (
            f"The mean residual score of the rated vendors went from {first[1]:.1f} on "
            f"{day_text(first[0])} to {last[1]:.1f} on {day_text(last[0])} (0 to 100, "
            "higher is riskier)."
        )
    else:
        description = "The mean residual score of the rated vendors, day by day."
    return line_chart(
        "Portfolio residual risk over time",
        description,
        points,
        y_label="Mean residual score",
        y_range=(0, 100),
    )


def _top_bars(items, label: Callable, value: Callable, href: Callable) -> tuple[Bar, ...]:
    return tuple(Bar(label(item), value(item), href=href(item)) for item in items)


def super_nodes(data: RiskDashboard) -> Chart:
    bars = _top_bars(
        data.super_nodes,
        lambda v: v.name,
        lambda v: v.systems_despite_controls,
        lambda v: url_for("inventory.vendor_blast_radius", vendor_id=v.vendor_id),
    )
    top = data.super_nodes[0] if data.super_nodes else None
    description = (
        f"{top.name} reaches the most: {_plural(top.systems_despite_controls, 'system')} "
        f"despite controls, {top.systems_if_controls_fail:,} if they fail."
        if top
        else "No vendor's breach reaches any system."
    )
    return bar_chart(
        "Top vendors by blast radius",
        description,
        bars,
        value_label="Systems reached despite controls",
        category_label="Vendor",
        horizontal=True,
        height=max(2.0, 0.3 * len(bars) + 1.0),
    )


def concentration(data: RiskDashboard) -> Chart:
    bars = _top_bars(
        data.concentration,
        lambda s: s.name,
        lambda s: s.vendors_despite_controls,
        lambda s: url_for("inventory.system", system_id=s.system_id),
    )
    top = data.concentration[0] if data.concentration else None
    description = (
        f"{top.name} is reached by the breach of {_plural(top.vendors_despite_controls, 'vendor')}"
        f" despite controls, {top.vendors_if_controls_fail:,} if they fail."
        if top
        else "No system is reachable from any vendor."
    )
    return bar_chart(
        "Concentration: systems reachable from the most vendors",
        description,
        bars,
        value_label="Vendors reaching it despite controls",
        category_label="System",
        horizontal=True,
        height=max(2.0, 0.3 * len(bars) + 1.0),
    )


def rotation(data: RiskDashboard) -> Chart:
    bars = tuple(
        Bar(
            status.label.capitalize(),
            data.rotation.get(status, 0),
            href=url_for("inventory.credentials", rotation=status.value),
            tone=ROTATION_TONE[status],
        )
        for status in ROTATION_SHOWN
    )
    counts = ", ".join(f"{int(b.value):,} {b.label.lower()}" for b in bars)
    return bar_chart(
        "Credentials to rotate",
        f"Credentials held or stored: {counts}.",
        bars,
        value_label="Credentials",
        category_label="Rotation",
        height=2.4,
    )


def findings(data: RiskDashboard) -> Chart:
    counts = data.findings
    series = tuple(
        Series(
            bucket.label,
            tuple(counts.count(s, bucket) for s in SEVERITIES_DOWN),
            tone=AGE_TONE[bucket],
            hrefs=tuple(
                url_for("findings.index", to_remediate="y", severity=s.value, age=bucket.value)
                for s in SEVERITIES_DOWN
            ),
        )
        for bucket in AgeBucket
    )
    old = counts.of_age(AgeBucket.old)
    return stacked_bar_chart(
        "Findings still to remediate, by severity and age",
        f"{_plural(counts.total, 'finding')} open or in remediation, "
        f"{counts.of_severity(FindingSeverity.critical):,} critical; {old:,} opened over 90 "
        "days ago.",
        tuple(s.value.capitalize() for s in SEVERITIES_DOWN),
        series,
        value_label="Findings",
        category_label="Severity",
        horizontal=True,
        height=2.6,
    )


def charts(data: RiskDashboard) -> dict[str, Chart]:
    return {
        "status": vendors_by_status(data),
        "heat": heat(data),
        "trend": trend(data),
        "super_nodes": super_nodes(data),
        "concentration": concentration(data),
        "rotation": rotation(data),
        "findings": findings(data),
    }
