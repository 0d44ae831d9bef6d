"""Data holdings: the data categories a vendor or a system holds, with their records, added,
changed and removed on the holder's audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import (
    AuditAction,
    DataCategory,
    Sensitivity,
    System,
    SystemData,
    Vendor,
    VendorData,
)
from ..audit import Actor
from ..pages import enum_rank
from .edits import (
    _record,
)


@dataclass(frozen=True)
class Holding:
    data_category_id: int
    name: str
    sensitivity: Sensitivity
    records: int | None


_HOLDERS = {Vendor: (VendorData, VendorData.vendor_id), System: (SystemData, SystemData.system_id)}
_HOLDER_AUDIT = {
    Vendor: (AuditAction.vendor_updated, "vendor"),
    System: (AuditAction.system_updated, "system"),
}


def holdings(session: Session, holder: Vendor | System) -> list[Holding]:
    model, owner = _HOLDERS[type(holder)]
    rows = session.execute(
        sa.select(DataCategory.id, DataCategory.name, DataCategory.sensitivity, model.records)
        .join(model, model.data_category_id == DataCategory.id)
        .where(owner == holder.id)
        .order_by(enum_rank(DataCategory.sensitivity, Sensitivity).desc(), DataCategory.name)
    )
    return [Holding(*row) for row in rows]


def get_holding(session: Session, holder: Vendor | System, data_category_id: int):
    model, owner = _HOLDERS[type(holder)]
    return session.scalar(
        sa.select(model).where(owner == holder.id, model.data_category_id == data_category_id)
    )


def _record_holding(
    session: Session, holder: Vendor | System, change: str, category_id: int, actor: Actor, **more
) -> None:
    action, object_type = _HOLDER_AUDIT[type(holder)]
    _record(
        session,
        action,
        actor=actor,
        object_type=object_type,
        object_id=holder.id,
        vendor_id=holder.id if isinstance(holder, Vendor) else None,
        name=holder.name,
        change=change,
        data_category=session.scalar(
            sa.select(DataCategory.name).where(DataCategory.id == category_id)
        ),
        **more,
    )


def set_holding(
    session: Session,
    holder: Vendor | System,
    data_category_id: int,
    records: int | None,
    *,
    actor: Actor,
) -> None:
    """Add a holding of a data category, or change its records when it is held already."""
    model, _owner = _HOLDERS[type(holder)]
    holding = get_holding(session, holder, data_category_id)
    if holding is None:
        owner_field = "vendor_id" if isinstance(holder, Vendor) else "system_id"
        holding = model(
            **{owner_field: holder.id}, data_category_id=data_category_id, records=records
        )
        session.add(holding)
        change = "data added"
    elif holding.records != records:
        holding.records = records
        change = "data records changed"
    else:
        return
    session.flush()
    _record_holding(session, holder, change, data_category_id, actor, records=records)


def remove_holding(session: Session, holder: Vendor | System, holding, *, actor: Actor) -> None:
    category_id = holding.data_category_id
    session.delete(holding)
    session.flush()
    _record_holding(session, holder, "data removed", category_id, actor)
