"""The inventory, read from the database into the pure blast-radius engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..core.blast_radius import engine
from ..core.names import name_key
from ..models import (
    Credential,
    CredentialCopy,
    DataCategory,
    Sensitivity,
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
    """The whole inventory in one query per table (never a query per row), read as plain rows
    (building ORM objects for 50,000 credentials would cost more than the engine's whole run).

    Read-only callers wrap it in :func:`vendor_risk.db.snapshot`, so the tables agree with one
    another on PostgreSQL too.
    """
    return _inventory(session)


def _within(column, ids: Collection[int] | None):
    return sa.true() if ids is None else column.in_(sorted(ids))


def _inventory(
    session: Session,
    *,
    vendor_ids: Collection[int] | None = None,
    system_ids: Collection[int] | None = None,
    credential_ids: Collection[int] | None = None,
    link_subprocessor_ids: Collection[int] | None = None,
) -> engine.Inventory:
    """The inventory, or the part of it given by ids (None: every row of that kind)."""

    def rows(query):
        # Core, not the ORM's result machinery: plain rows are all the engine needs.
        return session.connection().execute(query)

    system_holdings = _grouped(
        (r.system_id, engine.Holding(r.data_category_id, r.records))
        for r in rows(
            sa.select(SystemData.system_id, SystemData.data_category_id, SystemData.records).where(
                _within(SystemData.system_id, system_ids)
            )
        )
    )
    vendor_holdings = _grouped(
        (r.vendor_id, engine.Holding(r.data_category_id, r.records))
        for r in rows(
            sa.select(VendorData.vendor_id, VendorData.data_category_id, VendorData.records).where(
                _within(VendorData.vendor_id, vendor_ids)
            )
        )
    )
    copies = _grouped(
        rows(
            sa.select(CredentialCopy.credential_id, CredentialCopy.system_id).where(
                _within(CredentialCopy.credential_id, credential_ids),
                _within(CredentialCopy.system_id, system_ids),
            )
        )
    )
    passed_on = _grouped(
        rows(sa.select(SubprocessorData.link_id, SubprocessorData.data_category_id))
    )
    categories = [
        engine.DataCategory(r.id, r.name, Sensitivity(r.sensitivity).level)
        for r in rows(sa.select(DataCategory.id, DataCategory.name, DataCategory.sensitivity))
    ]
    systems = [
        engine.System(
            r.id,
            r.name,
            kind=str(r.kind),
            environment=str(r.environment),
            owner=r.owner,
            mfa_required=r.mfa_required,
            holdings=tuple(system_holdings.get(r.id, ())),
        )
        for r in rows(
            sa.select(
                System.id,
                System.name,
                System.kind,
                System.environment,
                System.owner,
                System.mfa_required,
            ).where(_within(System.id, system_ids))
        )
    ]
    vendors = [
        engine.Vendor(r.id, r.name, tuple(vendor_holdings.get(r.id, ())))
        for r in rows(sa.select(Vendor.id, Vendor.name).where(_within(Vendor.id, vendor_ids)))
    ]
    c = Credential
    credentials = [
        engine.Credential(
            id=r.id,
            name=r.name,
            kind=str(r.kind),
            holder_vendor_id=r.holder_vendor_id,
            system_id=r.system_id,
            privilege=str(r.privilege),
            interactive=r.interactive,
            mfa_enforced=r.mfa_enforced,
            phishing_resistant_mfa=r.phishing_resistant_mfa,
            ip_restricted=r.ip_restricted,
            status=str(r.status),
            issued_at=r.issued_at,
            last_rotated_at=r.last_rotated_at,
            expires_at=r.expires_at,
            owner=r.owner,
            stored_in=tuple(copies.get(r.id, ())),
        )
        for r in rows(
            sa.select(
                c.id,
                c.name,
                c.kind,
                c.holder_vendor_id,
                c.system_id,
                c.privilege,
                c.interactive,
                c.mfa_enforced,
                c.phishing_resistant_mfa,
                c.ip_restricted,
                c.status,
                c.issued_at,
                c.last_rotated_at,
                c.expires_at,
                c.owner,
            ).where(_within(c.id, credential_ids))
        )
    ]
    links = [
        engine.SubprocessorLink(r.vendor_id, r.subprocessor_id, tuple(passed_on.get(r.id, ())))
        for r in rows(
            sa.select(
                SubprocessorLink.id, SubprocessorLink.vendor_id, SubprocessorLink.subprocessor_id
            ).where(_within(SubprocessorLink.subprocessor_id, link_subprocessor_ids))
        )
    ]
    return engine.Inventory.build(
        vendors=vendors,
        systems=systems,
        credentials=credentials,
        categories=categories,
        links=links,
    )


def load_reachable(session: Session, vendor_ids: Collection[int]) -> engine.Inventory:
    """The part of the inventory a breach of these vendors can touch, even if every control
    fails: their credentials and the systems they open, then hop after hop the credentials
    stored in reached systems and the systems those open; the vendors that pass data to them
    (fourth-party exposure) and the holders of the credentials read. One query per hop and per
    table, never per row: a vendor page reads tens of rows where the whole inventory has
    hundreds of thousands. ``compute`` on it gives the same result as on the whole inventory.
    """
    wanted = set(vendor_ids)
    credentials = set(
        session.scalars(
            sa.select(Credential.id).where(Credential.holder_vendor_id.in_(sorted(wanted)))
        )
    )
    systems: set[int] = set()
    frontier = credentials
    while frontier:
        opened = (
            set(
                session.scalars(
                    sa.select(Credential.system_id).where(Credential.id.in_(sorted(frontier)))
                )
            )
            - systems
        )
        systems |= opened
        stored = (
            set(
                session.scalars(
                    sa.select(CredentialCopy.credential_id).where(
                        CredentialCopy.system_id.in_(sorted(opened))
                    )
                )
            )
            if opened
            else set()
        )
        frontier = stored - credentials
        credentials |= frontier
    holders = (
        session.scalars(
            sa.select(Credential.holder_vendor_id).where(
                Credential.id.in_(sorted(credentials)), Credential.holder_vendor_id.is_not(None)
            )
        )
        if credentials
        else ()
    )
    passing_data = session.scalars(
        sa.select(SubprocessorLink.vendor_id).where(
            SubprocessorLink.subprocessor_id.in_(sorted(wanted))
        )
    )
    return _inventory(
        session,
        vendor_ids=wanted | set(holders) | set(passing_data),
        system_ids=systems,
        credential_ids=credentials,
        link_subprocessor_ids=wanted,
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
        load_reachable(session, vendor_ids),
        vendor_ids,
        as_of=as_of or datetime.now(UTC),
        since=since,
    )


def vendor_id_by_name(session: Session, name: str) -> int | None:
    """The vendor of this name, whatever its case (names.name_key), or None."""
    return session.scalar(sa.select(Vendor.id).where(Vendor.name_key == name_key(name.strip())))
