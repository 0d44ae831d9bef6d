"""The incident report: the incident, its timeline, its rotation checklist with progress, and its
vendor's blast radius as of the breach start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from ...core.blast_radius.engine import CREDENTIAL_KINDS
from ...db import utcnow
from ...services import incidents
from .blast import BlastSummary, blast_summary
from .words import _day


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    title: str
    vendor_id: int
    vendor: str
    status: str
    started_on: date
    detected_on: date
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    exception_reason: str | None
    notes: str


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    day_only: bool
    what: str
    who: str


@dataclass(frozen=True)
class ChecklistLine:
    credential: str
    kind: str
    privilege: str
    system: str
    owner: str
    why: str
    done: str  # rotated, revoked or pending
    by: str
    acted_at: datetime | None  # marked on the checklist
    rotated_on: date | None  # a rotation recorded in the inventory instead
    in_gap: bool


@dataclass(frozen=True)
class IncidentReport:
    incident: IncidentFacts
    as_of: date
    timeline: tuple[TimelineLine, ...]
    checklist: tuple[ChecklistLine, ...]
    done: int
    gap: int
    gap_held: int  # of the gap, credentials the breached vendor held (the rest: stored copies)
    blast: BlastSummary

    kind = "incident"

    @property
    def title(self) -> str:
        return f"Incident report: {self.incident.title}"

    @property
    def total(self) -> int:
        return len(self.checklist)

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def _checklist_line(row: incidents.ChecklistRow, vendor: str) -> ChecklistLine:
    why = [f"held by {vendor}"] if row.reason == "held" else []
    if row.stored_in:
        why.append("stored in " + ", ".join(row.stored_in))
    acted_at, rotated_on = None, None
    if row.action != "pending":
        done, by, acted_at = str(row.action), row.acted_by or "unknown", row.acted_at
    elif row.revoked:
        done, by = "revoked", "in the inventory"
    elif row.dealt_with:
        done, by, rotated_on = "rotated", "in the inventory", _day(row.last_rotated_at)
    else:
        done, by = "pending", ""
    return ChecklistLine(
        credential=row.name,
        kind=CREDENTIAL_KINDS[str(row.kind)],
        privilege=str(row.privilege),
        system=row.system_name,
        owner=row.owner or "not recorded",
        why="; ".join(why),
        done=done,
        by=by,
        acted_at=acted_at,
        rotated_on=rotated_on,
        in_gap=row.in_gap,
    )


def incident_report(
    session: Session, incident_id: int, *, now: datetime | None = None
) -> IncidentReport | None:
    """The incident, its timeline, rotation checklist with progress, and its vendor's blast
    radius as of the breach start (None: no such incident). Call it inside a snapshot."""
    detail = incidents.incident_detail(session, incident_id)
    if detail is None:
        return None
    now = now or utcnow()
    summary = detail.incident
    facts = IncidentFacts(
        id=summary.id,
        title=summary.title,
        vendor_id=summary.vendor_id,
        vendor=summary.vendor_name,
        status=str(summary.status),
        started_on=summary.started_at.date(),
        detected_on=summary.detected_at.date(),
        opened_at=summary.opened_at,
        opened_by=summary.opened_by,
        closed_at=summary.closed_at,
        closed_by=summary.closed_by,
        exception_reason=summary.exception_reason,
        notes=summary.notes,
    )
    return IncidentReport(
        incident=facts,
        as_of=now.date(),
        timeline=tuple(
            TimelineLine(e.at, e.day_only, e.what, e.who or "") for e in detail.timeline
        ),
        checklist=tuple(_checklist_line(row, summary.vendor_name) for row in detail.checklist),
        done=sum(1 for row in detail.checklist if row.dealt_with),
        gap=len(detail.gap),
        gap_held=sum(1 for row in detail.gap if row.reason == "held"),
        blast=blast_summary(incidents.blast_radius_at_start(session, summary)),
    )
