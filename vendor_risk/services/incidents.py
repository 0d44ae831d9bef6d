"""Incidents: a recorded vendor breach turned into a tracked rotation checklist.

Opening an incident computes the vendor's blast radius as of the breach start and keeps its
credentials to rotate as the checklist: everything the attacker obtained that still worked for
them, held by the vendor or stored in a system the breach reached. The checklist is kept, not
computed again: rotating the vendor's credentials later does not undo what the attacker took
with them meanwhile. The rotation gap (what stops an incident from closing) is every line of the
checklist whose credential is not dealt with, read from the credentials themselves, never from
the checklist's marks, so a rotation recorded on the inventory pages closes it too. Whether a
credential is dealt with is the domain's rule, :func:`vendor_risk.blast_radius.rotation_done`,
the same that keeps it off the list to rotate: the checklist, the page, the list of incidents,
closing and the PDF all call it. Units of work flush and audit in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..core.blast_radius.engine import BlastRadius, rotated_since, rotation_done
from ..core.secret_detection import secret_problem
from ..db import PORTFOLIO_UPDATE, request_job, row_id, utcnow
from ..models import (
    AuditAction,
    ChecklistAction,
    ChecklistReason,
    Credential,
    CredentialStatus,
    Incident,
    IncidentCredential,
    IncidentStatus,
    Role,
    System,
    User,
    Vendor,
)
from . import ValidationFailed, audit, blast_radius, notifications
from .audit import Actor
from .pages import Page, one_page

INCIDENT_FIELDS = ("vendor_id", "title", "started_at", "detected_at", "notes")
INCIDENT_TEXT = ("title", "notes")
# Who may close an incident while credentials the attacker obtained are still valid.
EXCEPTION_ROLES = frozenset({Role.risk_officer})


# ---- the rotation gap ----------------------------------------------------------------------


def _checklist_join(query: sa.Select) -> sa.Select:
    return query.join(Credential, Credential.id == IncidentCredential.credential_id).join(
        Incident, Incident.id == IncidentCredential.incident_id
    )


def _states(session: Session, incident_ids: Collection[int]) -> sa.Result:
    """(incident id, status, last rotated, breach start) of every checklist line of these
    incidents, in one statement: what :func:`rotation_done` needs."""
    query = sa.select(
        IncidentCredential.incident_id,
        Credential.status,
        Credential.last_rotated_at,
        Incident.started_at,
    ).select_from(IncidentCredential)
    return session.execute(
        _checklist_join(query).where(IncidentCredential.incident_id.in_(sorted(incident_ids)))
    )


def gap_sizes(session: Session, incident_ids: Collection[int]) -> dict[int, int]:
    """incident id -> credentials in its rotation gap (0 for none), in one statement."""
    sizes = dict.fromkeys(incident_ids, 0)
    if not sizes:
        return sizes
    for incident_id, status, last_rotated_at, started_at in _states(session, sizes):
        if not rotation_done(status, last_rotated_at, started_at):
            sizes[incident_id] += 1
    return sizes


def gap_size(session: Session, incident_id: int) -> int:
    return gap_sizes(session, [incident_id])[incident_id]


# ---- the list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentRow:
    id: int
    title: str
    vendor_id: int
    vendor_name: str
    status: IncidentStatus
    started_at: datetime
    detected_at: datetime
    closed_at: datetime | None
    checklist: int  # credentials on the checklist
    gap: int  # of them, still in the rotation gap
    by_exception: bool  # closed with a gap, by a risk officer's exception


def search_incidents(
    session: Session,
    *,
    status: IncidentStatus | None = None,
    vendor_id: int | None = None,
    page: int = 1,
) -> Page[IncidentRow]:
    """Open incidents first, then the most recent breach first (of one vendor, with
    ``vendor_id``); two statements per page (the page, then the state of its checklists'
    credentials for the rotation gaps)."""
    sizes = (
        sa.select(IncidentCredential.incident_id.label("key"), sa.func.count().label("n"))
        .group_by(IncidentCredential.incident_id)
        .subquery()
    )
    is_open = sa.case((Incident.status == IncidentStatus.open, 0), else_=1)
    query = (
        sa.select(
            Incident.id,
            Incident.title,
            Incident.vendor_id,
            Vendor.name,
            Incident.status,
            Incident.started_at,
            Incident.detected_at,
            Incident.closed_at,
            sa.func.coalesce(sizes.c.n, 0),
            Incident.exception_reason.is_not(None),
        )
        .join(Vendor, Vendor.id == Incident.vendor_id)
        .outerjoin(sizes, sizes.c.key == Incident.id)
        .order_by(is_open, Incident.started_at.desc(), Incident.id.desc())
    )
    if status is not None:
        query = query.where(Incident.status == status)
    if vendor_id is not None:
        query = query.where(Incident.vendor_id == vendor_id)
    listed = one_page(
        session,
        query,
        page,
        lambda row: IncidentRow(*row[:9], gap=0, by_exception=bool(row[9])),
    )
    gaps = gap_sizes(session, [row.id for row in listed.rows])
    return replace(listed, rows=tuple(replace(row, gap=gaps[row.id]) for row in listed.rows))


# ---- one incident --------------------------------------------------------------------------


def get_incident(session: Session, incident_id: int, *, for_update: bool = False):
    """The incident, locked against concurrent changes when ``for_update`` (PostgreSQL; on
    SQLite every writing transaction holds the database's write lock already)."""
    query = sa.select(Incident).where(Incident.id == incident_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


@dataclass(frozen=True)
class IncidentSummary:
    id: int
    title: str
    vendor_id: int
    vendor_name: str
    status: IncidentStatus
    started_at: datetime
    detected_at: datetime
    notes: str
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    exception_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.status is IncidentStatus.open


@dataclass(frozen=True)
class ChecklistRow:
    credential_id: int
    name: str
    kind: str
    privilege: str
    system_id: int
    system_name: str
    owner: str
    reason: ChecklistReason
    stored_in: tuple[str, ...]
    action: ChecklistAction
    acted_by: str | None
    acted_at: datetime | None
    status: CredentialStatus
    last_rotated_at: datetime | None
    dealt_with: bool  # revoked, or rotated after the breach began (whoever recorded it)

    @property
    def in_gap(self) -> bool:
        """Obtained by the attacker and still valid: every line not dealt with."""
        return not self.dealt_with

    @property
    def revoked(self) -> bool:
        return self.status is CredentialStatus.revoked


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    who: str | None = None
    day_only: bool = False  # known to the day (the breach start and its detection)


@dataclass(frozen=True)
class IncidentDetail:
    incident: IncidentSummary
    checklist: tuple[ChecklistRow, ...]
    timeline: tuple[TimelineEntry, ...]

    @property
    def gap(self) -> tuple[ChecklistRow, ...]:
        return tuple(row for row in self.checklist if row.in_gap)

    @property
    def pending(self) -> int:
        return sum(1 for row in self.checklist if not row.dealt_with)


def _summary(session: Session, incident_id: int) -> IncidentSummary | None:
    opener, closer = aliased(User), aliased(User)
    row = session.execute(
        sa.select(
            Incident.id,
            Incident.title,
            Incident.vendor_id,
            Vendor.name,
            Incident.status,
            Incident.started_at,
            Incident.detected_at,
            Incident.notes,
            Incident.opened_at,
            opener.name,
            Incident.closed_at,
            closer.name,
            Incident.exception_reason,
        )
        .join(Vendor, Vendor.id == Incident.vendor_id)
        .join(opener, opener.id == Incident.opened_by_id)
        .outerjoin(closer, closer.id == Incident.closed_by_id)
        .where(Incident.id == incident_id)
    ).one_or_none()
    return None if row is None else IncidentSummary(*row)


def checklist(session: Session, incident_id: int) -> tuple[ChecklistRow, ...]:
    """The checklist with each credential's state now, the gap first, in one statement."""
    acted_by = aliased(User)
    query = _checklist_join(
        sa.select(
            IncidentCredential.credential_id,
            Credential.name,
            Credential.kind,
            Credential.privilege,
            Credential.system_id,
            System.name,
            Credential.owner,
            IncidentCredential.reason,
            IncidentCredential.stored_in,
            IncidentCredential.action,
            acted_by.name,
            IncidentCredential.acted_at,
            Credential.status,
            Credential.last_rotated_at,
            Incident.started_at,
        ).select_from(IncidentCredential)
    )
    query = (
        query.join(System, System.id == Credential.system_id)
        .outerjoin(acted_by, acted_by.id == IncidentCredential.acted_by_id)
        .where(IncidentCredential.incident_id == incident_id)
        .order_by(sa.func.lower(System.name), sa.func.lower(Credential.name), Credential.id)
    )
    rows = (
        ChecklistRow(
            *row[:8],
            stored_in=tuple(row[8] or ()),
            action=row[9],
            acted_by=row[10],
            acted_at=row[11],
            status=row[12],
            last_rotated_at=row[13],
            dealt_with=rotation_done(row[12], row[13], row[14]),
        )
        for row in session.execute(query)
    )
    # The gap first; sorted() is stable, so each part keeps the query's order.
    return tuple(sorted(rows, key=lambda row: row.dealt_with))


def _timeline(incident: IncidentSummary, rows: tuple[ChecklistRow, ...]) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(incident.started_at, "Breach began", day_only=True),
        TimelineEntry(incident.detected_at, "Breach detected", day_only=True),
        TimelineEntry(incident.opened_at, "Incident opened", incident.opened_by),
    ]
    for row in rows:
        if row.action is not ChecklistAction.pending and row.acted_at is not None:
            entries.append(TimelineEntry(row.acted_at, f"{row.name} {row.action}", row.acted_by))
        elif rotated_since(row.last_rotated_at, incident.started_at):
            entries.append(
                TimelineEntry(
                    row.last_rotated_at, f"{row.name} rotated (recorded in the inventory)"
                )
            )
    if incident.closed_at is not None:
        what = "Incident closed" + (" by exception" if incident.exception_reason else "")
        entries.append(TimelineEntry(incident.closed_at, what, incident.closed_by))
    # Stable: the breach start, its detection and the opening keep their order on a tie.
    return sorted(entries, key=lambda entry: entry.at)


def incident_detail(session: Session, incident_id: int) -> IncidentDetail | None:
    """What the incident page shows (the blast radius apart): three statements in all."""
    summary = _summary(session, incident_id)
    if summary is None:
        return None
    rows = checklist(session, incident_id)
    return IncidentDetail(summary, rows, tuple(_timeline(summary, rows)))


def blast_radius_at_start(session: Session, incident: IncidentSummary | Incident) -> BlastRadius:
    """The vendor's blast radius as of the breach start, with the inventory as it is now:
    credentials rotated since the start count as a barrier."""
    return blast_radius.vendor_blast_radius(
        session, [incident.vendor_id], as_of=incident.started_at, since=incident.started_at
    )


# ---- opening -------------------------------------------------------------------------------


def _today() -> date:
    return utcnow().date()


def _open_incident_of(session: Session, vendor_id: int) -> str | None:
    return session.scalar(
        sa.select(Incident.title)
        .where(Incident.vendor_id == vendor_id, Incident.status == IncidentStatus.open)
        .limit(1)
    )


def incident_problems(session: Session, values: Mapping[str, Any]) -> dict[str, list[str]]:
    """What refuses a new incident, at its field: an unknown vendor or one with an incident
    open already (a second submission of the form opens nothing), dates in the future or a
    detection before the start, and free text that looks like a secret."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    vendor_id = values.get("vendor_id")
    if vendor_id is not None:
        if row_id(vendor_id) is None or session.get(Vendor, vendor_id) is None:
            refuse("vendor_id", "Choose one of the listed vendors.")
        else:
            title = _open_incident_of(session, vendor_id)
            if title is not None:
                refuse(
                    "vendor_id",
                    f"This vendor has an incident open already ({title}): work on that one, "
                    "or close it first.",
                )
    started, detected = values.get("started_at"), values.get("detected_at")
    today = _today()
    for field, moment in (("started_at", started), ("detected_at", detected)):
        if moment is not None and moment.date() > today:
            refuse(field, "This date is in the future: enter the day it happened (UTC).")
    if started is not None and detected is not None and detected < started:
        refuse("detected_at", "The breach cannot have been detected before it began.")
    for field in INCIDENT_TEXT:
        value = values.get(field)
        problem = secret_problem(value) if isinstance(value, str) else None
        if problem:
            refuse(field, problem)
    return errors


def open_incident(session: Session, values: Mapping[str, Any], *, actor: Actor) -> Incident:
    """Record the breach and make its rotation checklist from the blast radius as of the start:
    every credential to rotate, held by the vendor or stored in a system the breach reaches."""
    unknown = set(values) - set(INCIDENT_FIELDS)
    if unknown:
        raise ValueError(f"not fields of Incident: {sorted(unknown)}")
    if actor.user_id is None:
        raise ValueError("an incident is opened by a user")
    vendor_id = values.get("vendor_id")
    if row_id(vendor_id) is not None:
        # Lock the vendor, so two submissions at once cannot both find no open incident.
        session.execute(sa.select(Vendor.id).where(Vendor.id == vendor_id).with_for_update())
    errors = incident_problems(session, values)
    if errors:
        raise ValidationFailed(errors)
    incident = Incident(**values, opened_by_id=actor.user_id)
    session.add(incident)
    session.flush()
    result = blast_radius_at_start(session, incident)
    items = [
        IncidentCredential(
            incident_id=incident.id,
            credential_id=item.credential.id,
            reason=ChecklistReason.held if item.held_by else ChecklistReason.stored,
            stored_in=[system.name for system in item.stored_in],
        )
        for item in result.credentials_to_rotate
    ]
    session.add_all(items)
    session.flush()
    audit.record(
        session,
        AuditAction.incident_opened,
        actor=actor,
        object_type="incident",
        object_id=incident.id,
        vendor_id=incident.vendor_id,
        details={
            "title": incident.title,
            "started_at": incident.started_at.date().isoformat(),
            "detected_at": incident.detected_at.date().isoformat(),
            "checklist": len(items),
            "held": sum(1 for item in items if item.reason is ChecklistReason.held),
            "gap": gap_size(session, incident.id),
        },
    )
    notifications.incident_opened(session, incident)
    return incident


# ---- the checklist -------------------------------------------------------------------------

_ACTION_AUDIT = {
    ChecklistAction.rotated: AuditAction.incident_credential_rotated,
    ChecklistAction.revoked: AuditAction.incident_credential_revoked,
}


def get_checklist_item(
    session: Session, incident_id: int, credential_id: int
) -> IncidentCredential | None:
    return session.get(IncidentCredential, (incident_id, credential_id))


def mark(
    session: Session,
    incident: Incident,
    item: IncidentCredential,
    action: ChecklistAction,
    *,
    actor: Actor,
) -> Credential:
    """The owner rotated or revoked a credential of the checklist: recorded on the checklist
    (who, when) and on the credential itself (rotated now, or revoked), so the inventory, the
    blast radius and the rotation gap all follow. Returns the credential."""
    if action not in _ACTION_AUDIT:
        raise ValueError(f"not an action: {action!r}")
    if incident.status is not IncidentStatus.open:
        raise ValidationFailed({"": ["This incident is closed: its checklist no longer changes."]})
    if item.action is not ChecklistAction.pending:
        raise ValidationFailed({"": [f"This credential was marked {item.action} already."]})
    credential = session.scalar(
        sa.select(Credential).where(Credential.id == item.credential_id).with_for_update()
    )
    now = utcnow()
    if action is ChecklistAction.rotated:
        if credential.status is CredentialStatus.revoked:
            raise ValidationFailed(
                {"": [f"{credential.name} is revoked: there is nothing left to rotate."]}
            )
        credential.last_rotated_at = now
    else:
        credential.status = CredentialStatus.revoked
    item.action, item.acted_by_id, item.acted_at = action, actor.user_id, now
    session.flush()
    request_job(session, PORTFOLIO_UPDATE)  # the credential changed: its reach may too
    audit.record(
        session,
        _ACTION_AUDIT[action],
        actor=actor,
        object_type="credential",
        object_id=credential.id,
        vendor_id=incident.vendor_id,
        details={
            "incident_id": incident.id,
            "name": credential.name,
            "gap": gap_size(session, incident.id),
        },
    )
    return credential


# ---- closing -------------------------------------------------------------------------------


def _credentials(n: int) -> str:
    return f"{n} credential{'' if n == 1 else 's'}"


def _close_refusal(
    incident: Incident, gap: int, exception_reason: str | None, roles: frozenset[Role]
) -> dict[str, list[str]]:
    """Closing is refused while the gap is not empty, unless a risk officer gives a reason."""
    if incident.status is not IncidentStatus.open:
        return {"": ["This incident is closed already."]}
    if gap == 0:
        return {}
    verb = "are" if gap > 1 else "is"
    still = f"{_credentials(gap)} the attacker obtained {verb} still in the rotation gap"
    if not roles & EXCEPTION_ROLES:
        message = (
            f"{still}: rotate or revoke them first. Only a risk officer can close an incident "
            "with a gap, as an exception with a reason."
        )
        return {"exception_reason": [message]}
    if not exception_reason:
        message = (
            f"{still}: rotate or revoke them first, or give the reason for closing the incident "
            "anyway."
        )
        return {"exception_reason": [message]}
    problem = secret_problem(exception_reason)
    return {"exception_reason": [problem]} if problem else {}


def close_incident(
    session: Session,
    incident: Incident,
    *,
    exception_reason: str | None,
    roles: frozenset[Role],
    actor: Actor,
) -> int:
    """Close the incident; returns the size of the gap it was closed with (0 unless a risk
    officer recorded an exception). A reason given with an empty gap is not an exception and
    is not kept."""
    exception_reason = (exception_reason or "").strip() or None
    gap = gap_size(session, incident.id)
    errors = _close_refusal(incident, gap, exception_reason, roles)
    if errors:
        raise ValidationFailed(errors)
    incident.status = IncidentStatus.closed
    incident.closed_at = utcnow()
    incident.closed_by_id = actor.user_id
    incident.exception_reason = exception_reason if gap else None
    session.flush()
    details: dict[str, Any] = {"gap": gap, "by_exception": bool(gap)}
    if gap:
        details["exception_reason"] = exception_reason
    audit.record(
        session,
        AuditAction.incident_closed,
        actor=actor,
        object_type="incident",
        object_id=incident.id,
        vendor_id=incident.vendor_id,
        details=details,
    )
    return gap
