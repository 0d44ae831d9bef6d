"""The inventory, read from the database into the pure blast-radius engine."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import blast_radius as engine
from ..models import (
    Credential,
    CredentialCopy,
    DataCategory,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
)


def _grouped(rows) -> dict[int, list]:
    groups: dict[int, list] = defaultdict(list)
    for key, value in rows:
        groups[key].append(value)
    return groups


def load_inventory(session: Session) -> engine.Inventory:
    """The whole inventory in one query per table (never a query per row)."""
    system_holdings = _grouped(
        (row.system_id, engine.Holding(row.data_category_id, row.records))
        for row in session.execute(sa.select(SystemData)).scalars().all()
    )
    vendor_holdings = _grouped(
        (row.vendor_id, engine.Holding(row.data_category_id, row.records))
        for row in session.execute(sa.select(VendorData)).scalars().all()
    )
    copies = _grouped(
        session.execute(sa.select(CredentialCopy.credential_id, CredentialCopy.system_id)).all()
    )
    passed_on = _grouped(
        session.execute(
            sa.select(SubprocessorData.link_id, SubprocessorData.data_category_id)
        ).all()
    )
    categories = [
        engine.DataCategory(c.id, c.name, c.sensitivity.level)
        for c in session.scalars(sa.select(DataCategory))
    ]
    systems = [
        engine.System(
            s.id,
            s.name,
            kind=str(s.kind),
            environment=str(s.environment),
            owner=s.owner,
            mfa_required=s.mfa_required,
            holdings=tuple(system_holdings.get(s.id, ())),
        )
        for s in session.scalars(sa.select(System))
    ]
    vendors = [
        engine.Vendor(v.id, v.name, tuple(vendor_holdings.get(v.id, ())))
        for v in session.execute(sa.select(Vendor.id, Vendor.name)).all()
    ]
    credentials = [
        engine.Credential(
            id=c.id,
            name=c.name,
            kind=str(c.kind),
            holder_vendor_id=c.holder_vendor_id,
            system_id=c.system_id,
            privilege=str(c.privilege),
            interactive=c.interactive,
            mfa_enforced=c.mfa_enforced,
            phishing_resistant_mfa=c.phishing_resistant_mfa,
            ip_restricted=c.ip_restricted,
            status=str(c.status),
            issued_at=c.issued_at,
            last_rotated_at=c.last_rotated_at,
            expires_at=c.expires_at,
            owner=c.owner,
            stored_in=tuple(copies.get(c.id, ())),
        )
        for c in session.scalars(sa.select(Credential))
    ]
    links = [
        engine.SubprocessorLink(
            link.vendor_id, link.subprocessor_id, tuple(passed_on.get(link.id, ()))
        )
        for link in session.scalars(sa.select(SubprocessorLink))
    ]
    return engine.Inventory.build(
        vendors=vendors,
        systems=systems,
        credentials=credentials,
        categories=categories,
        links=links,
    )


def vendor_blast_radius(
    session: Session,
    vendor_ids: list[int],
    *,
    since: datetime | None = None,
    as_of: datetime | None = None,
) -> engine.BlastRadius:
    """What a breach of these vendors reaches now (or as of a date), optionally counting
    only credentials not rotated since the breach started (``since``)."""
    return engine.compute(
        load_inventory(session), vendor_ids, as_of=as_of or datetime.now(UTC), since=since
    )


def vendor_id_by_name(session: Session, name: str) -> int | None:
    return session.scalar(sa.select(Vendor.id).where(sa.func.lower(Vendor.name) == name.lower()))
