"""A finding's life: the statuses and the moves between them, the due date its severity
gives, and what every change does (the version forms carry, the audit event)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from ...db import utcnow
from ...models import AuditAction, Finding, FindingSeverity, FindingStatus
from .. import EditConflict, audit
from ..audit import Actor

S = FindingStatus
# The moves :func:`change_status` makes. Accepting is :func:`accept_risk`'s alone, and an
# accepted finding reopens only when its acceptance ends.
NEXT: dict[FindingStatus, frozenset[FindingStatus]] = {
    S.open: frozenset({S.in_remediation, S.resolved}),
    S.in_remediation: frozenset({S.open, S.resolved}),
    S.resolved: frozenset({S.open}),
    S.accepted: frozenset(),
}
# Still to remediate: counted as open on dashboards, and overdue past their due date.
UNRESOLVED = frozenset({S.open, S.in_remediation})
ACCEPTABLE = UNRESOLVED


# ---- the lifecycle -------------------------------------------------------------------------


class TransitionRefused(ValueError):
    """The finding cannot go from its status to the one asked for (the message says why)."""


def may_move(current: FindingStatus, to: FindingStatus) -> bool:
    return to in NEXT[current]


def check_move(current: FindingStatus, to: FindingStatus) -> None:
    """Refuse a move :data:`NEXT` does not allow, saying what to do instead."""
    if may_move(current, to):
        return
    if to is S.accepted and current in ACCEPTABLE:
        raise TransitionRefused(
            "Accepting a risk needs a justification and an expiry date: use “Accept the risk”."
        )
    if current is S.accepted:
        raise TransitionRefused(
            "The risk of this finding is accepted: end the acceptance to reopen it."
        )
    raise TransitionRefused(f"A finding that is {current.label} cannot become {to.label}.")


def is_overdue(status: FindingStatus, due_on: date | None, today: date) -> bool:
    """Past its due date and still to remediate (resolved and accepted findings never are)."""
    return due_on is not None and due_on < today and status in UNRESOLVED


def _check_version(finding: Finding, expected: int | None, values: Mapping[str, Any]) -> None:
    """Refuse a form opened on an older version of the finding (None: no check). The caller
    loaded the finding locked (:func:`get_finding` with ``for_update``)."""
    if expected is None or finding.version == expected:
        return
    differs = [
        name.replace("_", " ")
        for name, value in values.items()
        if hasattr(finding, name) and getattr(finding, name) != value
    ]
    raise EditConflict(
        {
            "": [
                "Someone else changed this finding after you opened this page, so nothing was "
                "saved."
                + (f" Theirs differs from yours in: {', '.join(differs)}." if differs else "")
                + " Read it again, then repeat your change if it still applies."
            ]
        },
        finding.version,
    )


def _changed(finding: Finding) -> None:
    """Every change bumps the version that forms carry (optimistic locking)."""
    finding.version = (finding.version or 0) + 1
    finding.updated_at = utcnow()


def _record(
    session: Session,
    action: AuditAction,
    finding: Finding,
    *,
    actor: Actor,
    **details: Any,
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        object_type="finding",
        object_id=finding.id,
        vendor_id=finding.vendor_id,
        details={"title": finding.title, **details},
    )


# ---- due dates -----------------------------------------------------------------------------


def due_days(config: Mapping[str, Any]) -> dict[FindingSeverity, int]:
    """Days to remediate per severity, from the settings ``FINDING_DUE_DAYS_<SEVERITY>``."""
    return {s: int(config[f"FINDING_DUE_DAYS_{s.name.upper()}"]) for s in FindingSeverity}


def _default_due_on(severity: FindingSeverity, today: date) -> date:
    return today + timedelta(days=due_days(current_app.config)[severity])
