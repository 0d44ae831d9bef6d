"""Procurement's dashboard as charts: requests under way by status, each bar linking to the
request list filtered by that status."""

from __future__ import annotations

from flask import url_for

from ...models import RequestStatus
from ...reports.charts import Bar, Chart, bar_chart
from ...services.portfolio.dashboards import ProcurementDashboard
from ...services.questionnaires.request_status import AWAITING_REVIEW

# Whose move it is decides the colour: waiting for the vendor, for us, or not sent yet.
STATUS_TONE = {
    RequestStatus.draft: "neutral",
    RequestStatus.sent: "low",
    RequestStatus.in_progress: "low",
    RequestStatus.returned: "medium",
    RequestStatus.submitted: "high",
    RequestStatus.under_review: "high",
}


def by_status(data: ProcurementDashboard) -> Chart:
    bars = tuple(
        Bar(
            status.label.capitalize(),
            n,
            href=url_for("requests.index", status=status.value),
            tone=STATUS_TONE.get(status),
        )
        for status, n in data.by_status.items()
    )
    waiting = sum(n for status, n in data.by_status.items() if status in AWAITING_REVIEW)
    return bar_chart(
        "Requests under way by status",
        f"{data.under_way:,} questionnaire requests under way, {waiting:,} of them submitted "
        f"and waiting for a review; {data.overdue_total:,} overdue.",
        bars,
        value_label="Requests",
        category_label="Status",
        horizontal=True,
        height=2.6,
    )
