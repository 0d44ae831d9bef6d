"""Vendors (a first version: the inventory issue completes it)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import User, Vendor


def list_vendors(session: Session, *, limit: int = 100) -> tuple[list[Vendor], int]:
    total = session.scalar(sa.select(sa.func.count()).select_from(Vendor)) or 0
    vendors = session.scalars(sa.select(Vendor).order_by(Vendor.name).limit(limit)).all()
    return list(vendors), total


def vendor_of_contact(session: Session, user: User) -> Vendor | None:
    """A vendor contact's own vendor: the filter is in the query, never in the template."""
    if user.vendor_id is None:
        return None
    return session.scalar(sa.select(Vendor).where(Vendor.id == user.vendor_id))
