"""Vendor software we run: a system running software a vendor supplies (an agent, a
self-hosted server, a CI step), with the privilege it has there and whether its updates apply
automatically; listed on the system's page and on the vendor's, added or removed on the
system's audit trail (issue 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.secret_detection import secret_problem
from ...db import row_id
from ...models import AuditAction, Privilege, SoftwareSupply, System, Vendor
from .. import ValidationFailed
from ..audit import Actor
from .edits import _record

UNKNOWN_VENDOR = "Choose one of the listed options."


@dataclass(frozen=True)
class SoftwareRow:
    supply_id: int
    system_id: int
    system_name: str
    vendor_id: int
    vendor_name: str
    software: str
    privilege: Privilege
    automatic_updates: bool


def _rows(session: Session, where) -> tuple[SoftwareRow, ...]:
    rows = session.execute(
        sa.select(
            SoftwareSupply.id,
            System.id,
            System.name,
            Vendor.id,
            Vendor.name,
            SoftwareSupply.software,
            SoftwareSupply.privilege,
            SoftwareSupply.automatic_updates,
        )
        .join(System, System.id == SoftwareSupply.system_id)
        .join(Vendor, Vendor.id == SoftwareSupply.vendor_id)
        .where(where)
        .order_by(
            sa.func.lower(System.name),
            sa.func.lower(Vendor.name),
            SoftwareSupply.software,
            SoftwareSupply.id,
        )
    )
    return tuple(SoftwareRow(*row) for row in rows)


def software_of_system(session: Session, system_id: int) -> tuple[SoftwareRow, ...]:
    """The vendor software running on a system."""
    return _rows(session, SoftwareSupply.system_id == system_id)


def software_of_vendor(session: Session, vendor_id: int) -> tuple[SoftwareRow, ...]:
    """Where we run the software a vendor supplies."""
    return _rows(session, SoftwareSupply.vendor_id == vendor_id)


def get_software_supply(session: Session, system_id: int, supply_id: int) -> SoftwareSupply | None:
    return session.scalar(
        sa.select(SoftwareSupply).where(
            SoftwareSupply.id == supply_id, SoftwareSupply.system_id == system_id
        )
    )


def software_problems(
    session: Session, system: System, values: Mapping[str, Any]
) -> dict[str, list[str]]:
    """A vendor that exists, software text that is no secret, not recorded already."""
    errors: dict[str, list[str]] = {}
    software = values.get("software") or ""
    problem = secret_problem(software) if isinstance(software, str) else None
    if problem:
        errors["software"] = [problem]
    given = values.get("vendor_id")
    if given is None:
        return errors  # the form says it is required
    vendor_id = row_id(given)
    name = (
        session.scalar(sa.select(Vendor.name).where(Vendor.id == vendor_id))
        if vendor_id is not None
        else None
    )
    if name is None:
        errors["vendor_id"] = [UNKNOWN_VENDOR]
    elif isinstance(software, str) and session.scalar(
        sa.select(SoftwareSupply.id).where(
            SoftwareSupply.system_id == system.id,
            SoftwareSupply.vendor_id == vendor_id,
            sa.func.lower(SoftwareSupply.software) == software.strip().lower(),
        )
    ):
        what = f"{name}'s {software.strip()}" if software.strip() else f"software of {name}"
        errors["software"] = [f"{system.name} already runs {what}."]
    return errors


def add_software(
    session: Session,
    system: System,
    *,
    vendor_id: int,
    software: str,
    privilege: Privilege,
    automatic_updates: bool,
    actor: Actor,
) -> SoftwareSupply:
    software = (software or "").strip()
    errors = software_problems(session, system, {"vendor_id": vendor_id, "software": software})
    if errors:
        raise ValidationFailed(errors)
    supply = SoftwareSupply(
        system_id=system.id,
        vendor_id=vendor_id,
        software=software,
        privilege=Privilege(privilege),
        automatic_updates=bool(automatic_updates),
    )
    session.add(supply)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # added, or the vendor deleted, by a concurrent request
        raise ValidationFailed(
            {"software": ["This software is already recorded, or its vendor is gone."]}
        ) from None
    _record_software(session, system, supply, "vendor software added", actor)
    return supply


def remove_software(
    session: Session, system: System, supply: SoftwareSupply, *, actor: Actor
) -> None:
    session.delete(supply)
    session.flush()
    _record_software(session, system, supply, "vendor software removed", actor)


def _record_software(
    session: Session, system: System, supply: SoftwareSupply, change: str, actor: Actor
) -> None:
    _record(
        session,
        AuditAction.system_updated,
        actor=actor,
        object_type="system",
        object_id=system.id,
        vendor_id=supply.vendor_id,
        name=system.name,
        change=change,
        vendor=session.scalar(sa.select(Vendor.name).where(Vendor.id == supply.vendor_id)),
        software=supply.software,
        privilege=str(supply.privilege),
        automatic_updates=supply.automatic_updates,
    )
