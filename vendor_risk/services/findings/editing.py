"""A risk officer's writes: a finding written by hand, an edit of its fields, a move of its
status."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ...db import today_utc, utcnow
from ...models import AuditAction, Finding, FindingSource, FindingStatus, Vendor
from .. import ValidationFailed, notifications
from ..audit import Actor
from .fields import _checked
from .lifecycle import S, _changed, _check_version, _default_due_on, _record, check_move


def create_finding(
    session: Session,
    vendor_id: int,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    today: date | None = None,
) -> Finding:
    """A finding written by a risk officer (:data:`FINDING_FIELDS`). Without a due date it
    is due after the days its severity allows. Audited."""
    today = today or today_utc()
    if session.get(Vendor, vendor_id) is None:
        raise ValidationFailed({"vendor_id": ["Choose one of the listed vendors."]})
    cleaned = _checked(values, finding=None, today=today)
    cleaned["due_on"] = cleaned.get("due_on") or _default_due_on(cleaned["severity"], today)
    finding = Finding(
        vendor_id=vendor_id,
        source=FindingSource.manual,
        created_by_id=actor.user_id,
        **cleaned,
    )
    session.add(finding)
    session.flush()
    _record(
        session,
        AuditAction.finding_opened,
        finding,
        actor=actor,
        source=FindingSource.manual.value,
        severity=finding.severity.value,
        visible_to_vendor=finding.visible_to_vendor,
    )
    notifications.findings_shared(session, [finding])
    return finding


def update_finding(
    session: Session,
    finding: Finding,
    values: Mapping[str, Any],
    *,
    expected_version: int | None,
    actor: Actor,
    today: date | None = None,
) -> list[str]:
    """Save a risk officer's edit; returns the names of the fields changed (nothing changed:
    nothing recorded). A form opened on an older version is an :class:`EditConflict`."""
    cleaned = _checked(values, finding=finding, today=today)
    _check_version(finding, expected_version, cleaned)
    changed = [name for name, value in cleaned.items() if getattr(finding, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(finding, name, cleaned[name])
    _changed(finding)
    session.flush()
    _record(session, AuditAction.finding_updated, finding, actor=actor, changed=changed)
    if "visible_to_vendor" in changed:
        notifications.findings_shared(session, [finding])  # once per finding: see its key
    return changed


def change_status(
    session: Session,
    finding: Finding,
    to: FindingStatus,
    *,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Move the finding along :data:`NEXT` (:class:`TransitionRefused` otherwise). Resolving
    stamps ``resolved_at``; reopening clears it. Audited."""
    _check_version(finding, expected_version, {})
    check_move(finding.status, to)
    before = finding.status
    finding.status = to
    finding.resolved_at = utcnow() if to is S.resolved else None
    _changed(finding)
    session.flush()
    _record(
        session,
        AuditAction.finding_updated,
        finding,
        actor=actor,
        status={"from": before.value, "to": to.value},
    )
