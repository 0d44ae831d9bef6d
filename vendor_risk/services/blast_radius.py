"""The inventory, read from the database into the pure blast-radius engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..core.blast_radius import engine
from ..core.collection import collection_paused
from ..core.names import name_key
from ..db import UTCDateTime, in_ids
from ..models import (
    Credential,
    CredentialCopy,
    DataCategory,
    Federation,
    FourthParty,
    NetworkZone,
    Sensitivity,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    SystemOpenZone,
    SystemZone,
    Vendor,
    VendorData,
    ZoneReach,
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


def _within(session: Session, column, ids: Collection[int] | None):
    return sa.true() if ids is None else in_ids(session, column, ids)


def _kept(rows, index: int, ids: Collection[int] | None):
    """The rows whose column ``index`` is in ``ids`` (None: every row). A query filters on one
    list of ids, the others here: SQLite, given two long IN lists on a two-column key, looks up
    every pair (12,000 credentials x 2,000 systems: seconds)."""
    if ids is None:
        return rows
    wanted = ids if isinstance(ids, set | frozenset) else set(ids)
    return (row for row in rows if row[index] in wanted)


def _inventory(
    session: Session,
    *,
    vendor_ids: Collection[int] | None = None,
    system_ids: Collection[int] | None = None,
    credential_ids: Collection[int] | None = None,
    link_subprocessor_ids: Collection[int] | None = None,
    link_fourth_party_ids: Collection[int] = (),
) -> engine.Inventory:
    """The inventory, or the part of it given by ids (None: every row of that kind). The
    subprocessor links read are those to ``link_subprocessor_ids`` and to
    ``link_fourth_party_ids`` (every link when ``link_subprocessor_ids`` is None); the network
    zones are always read whole (a few rows), the federations and the vendor software within
    the systems and vendors read."""

    def rows(query):
        # Core, not the ORM's result machinery: plain rows are all the engine needs.
        return session.connection().execute(query)

    def within(column, ids: Collection[int] | None):
        return _within(session, column, ids)

    system_holdings = _grouped(
        (r.system_id, engine.Holding(r.data_category_id, r.records))
        for r in rows(
            sa.select(SystemData.system_id, SystemData.data_category_id, SystemData.records).where(
                within(SystemData.system_id, system_ids)
            )
        )
    )
    vendor_holdings = _grouped(
        (r.vendor_id, engine.Holding(r.data_category_id, r.records))
        for r in rows(
            sa.select(VendorData.vendor_id, VendorData.data_category_id, VendorData.records).where(
                within(VendorData.vendor_id, vendor_ids)
            )
        )
    )
    copies = _grouped(
        _kept(
            rows(
                sa.select(CredentialCopy.credential_id, CredentialCopy.system_id).where(
                    within(CredentialCopy.credential_id, credential_ids)
                )
            ),
            1,
            system_ids,
        )
    )
    # Data passed with no count assumes all that we send the vendor (category_ids), with a
    # count it states the records passed (passed).
    passed_on, passed_counted = defaultdict(list), defaultdict(list)
    for r in rows(
        sa.select(
            SubprocessorData.link_id, SubprocessorData.data_category_id, SubprocessorData.records
        )
    ):
        if r.records is None:
            passed_on[r.link_id].append(r.data_category_id)
        else:
            passed_counted[r.link_id].append(engine.Holding(r.data_category_id, r.records))
    zone_ids = _grouped(
        rows(
            sa.select(SystemZone.system_id, SystemZone.zone_id).where(
                within(SystemZone.system_id, system_ids)
            )
        )
    )
    open_zone_ids = _grouped(
        rows(
            sa.select(SystemOpenZone.system_id, SystemOpenZone.zone_id).where(
                within(SystemOpenZone.system_id, system_ids)
            )
        )
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
            operator_vendor_id=r.operator_vendor_id,
            zone_ids=tuple(sorted(zone_ids.get(r.id, ()))),
            accepts_unauthenticated_from=tuple(sorted(open_zone_ids.get(r.id, ()))),
        )
        for r in rows(
            sa.select(
                System.id,
                System.name,
                System.kind,
                System.environment,
                System.owner,
                System.mfa_required,
                System.operator_vendor_id,
            ).where(within(System.id, system_ids))
        )
    ]
    vendors = [
        engine.Vendor(r.id, r.name, tuple(vendor_holdings.get(r.id, ())))
        for r in rows(sa.select(Vendor.id, Vendor.name).where(within(Vendor.id, vendor_ids)))
    ]
    credentials = _credentials(session, within(Credential.id, credential_ids), copies)
    link = SubprocessorLink
    linked = (
        sa.true()
        if link_subprocessor_ids is None
        else sa.or_(
            link.subprocessor_id.in_(sorted(link_subprocessor_ids)),
            link.fourth_party_id.in_(sorted(link_fourth_party_ids)),
        )
    )
    links = [
        engine.SubprocessorLink(
            r.vendor_id,
            r.subprocessor_id,
            tuple(passed_on.get(r.id, ())),
            fourth_party_id=r.fourth_party_id,
            passed=tuple(passed_counted.get(r.id, ())),
        )
        for r in rows(
            sa.select(link.id, link.vendor_id, link.subprocessor_id, link.fourth_party_id)
            .where(linked)
            .order_by(link.id)
        )
    ]
    party_ids = (
        None if link_subprocessor_ids is None else {link.fourth_party_id for link in links} - {None}
    )
    return engine.Inventory.build(
        vendors=vendors,
        systems=systems,
        credentials=credentials,
        categories=categories,
        links=links,
        fourth_parties=[
            engine.FourthParty(r.id, r.name, r.service)
            for r in rows(
                sa.select(FourthParty.id, FourthParty.name, FourthParty.service).where(
                    within(FourthParty.id, party_ids)
                )
            )
        ],
        federations=[
            engine.Federation(r.identity_provider_id, r.system_id, str(r.privilege), r.mfa_enforced)
            for r in _kept(
                rows(
                    sa.select(
                        Federation.identity_provider_id,
                        Federation.system_id,
                        Federation.privilege,
                        Federation.mfa_enforced,
                    ).where(within(Federation.identity_provider_id, system_ids))
                ),
                1,
                system_ids,
            )
        ],
        software=[
            engine.SoftwareSupply(
                r.system_id,
                r.vendor_id,
                str(r.privilege),
                r.automatic_updates,
                r.software,
            )
            for r in _kept(
                rows(
                    sa.select(
                        SoftwareSupply.system_id,
                        SoftwareSupply.vendor_id,
                        SoftwareSupply.privilege,
                        SoftwareSupply.automatic_updates,
                        SoftwareSupply.software,
                    )
                    .where(within(SoftwareSupply.vendor_id, vendor_ids))
                    .order_by(SoftwareSupply.id)
                ),
                0,
                system_ids,
            )
        ],
        zones=_zones(rows),
    )


def _plain(column: sa.ColumnElement, *, moments_as_text: bool = False) -> sa.ColumnElement:
    """The column as the driver returns it: an enumeration's text as is, a UTC timestamp
    without the per-value conversion (the engine takes naive datetimes as UTC), or as SQLite's
    text with ``moments_as_text`` (read by :func:`_utc_text`). Per row and per column, those
    conversions cost more than the rest of reading 250,000 credentials."""
    if isinstance(column.type, sa.Enum):
        return sa.type_coerce(column, sa.String()).label(column.key)
    if isinstance(column.type, UTCDateTime):
        kind = sa.String() if moments_as_text else sa.DateTime()
        return sa.type_coerce(column, kind).label(column.key)
    return column


def _utc_text(value: str | datetime | None) -> datetime | None:
    """A timestamp as SQLite stores it (UTC, no zone: "2026-01-01 00:00:00.000000") as an aware
    datetime, in one call where the driver's conversion and then the zone take two."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # written with a zone by hand: honour it
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_CREDENTIAL_COLUMNS = (
    "id",
    "name",
    "kind",
    "holder_vendor_id",
    "system_id",
    "privilege",
    "interactive",
    "mfa_enforced",
    "phishing_resistant_mfa",
    "ip_restricted",
    "status",
    "issued_at",
    "last_rotated_at",
    "expires_at",
    "owner",
)
# What the portfolio's figures never read of a credential: left empty there (names show in
# the explained breach only).
_UNREAD_BY_THE_PORTFOLIO = {"name": sa.literal(""), "owner": sa.literal(""), "issued_at": sa.null()}


def _credentials(
    session: Session,
    where: sa.ColumnElement[bool],
    copies: dict[int, list],
    holders=None,
    *,
    named: bool = True,
) -> list[engine.Credential]:
    """The credentials matching ``where``, with the systems storing them; with ``holders``
    (a set of vendor ids), a holder outside it is left out (None). ``named=False`` leaves out
    what only an explanation shows (names, owners, issue dates)."""
    make = engine.Credential
    found = []
    as_text = session.get_bind().dialect.name == "sqlite"
    moment = _utc_text if as_text else (lambda value: value)
    query = sa.select(
        *(
            _UNREAD_BY_THE_PORTFOLIO[name].label(name)
            if not named and name in _UNREAD_BY_THE_PORTFOLIO
            else _plain(getattr(Credential, name), moments_as_text=as_text)
            for name in _CREDENTIAL_COLUMNS
        )
    )
    for (
        id_,
        name,
        kind,
        holder,
        system_id,
        privilege,
        interactive,
        mfa,
        phishing_resistant,
        ip_restricted,
        status,
        issued_at,
        last_rotated_at,
        expires_at,
        owner,
    ) in session.connection().execute(query.where(where)).all():  # fetchall: far quicker
        if holders is not None and holder not in holders:
            holder = None
        found.append(
            make(
                id=id_,
                name=name,
                kind=kind,
                holder_vendor_id=holder,
                system_id=system_id,
                privilege=privilege,
                interactive=bool(interactive),
                mfa_enforced=bool(mfa),
                phishing_resistant_mfa=bool(phishing_resistant),
                ip_restricted=bool(ip_restricted),
                status=status,
                issued_at=moment(issued_at),
                last_rotated_at=moment(last_rotated_at),
                expires_at=moment(expires_at),
                owner=owner,
                stored_in=tuple(copies.get(id_, ())),
            )
        )
    return found


def load_for_vendors(session: Session, vendor_ids: Collection[int] | None) -> engine.Inventory:
    """What the portfolio's figures of these vendors (None: every vendor) depend on: every
    system (with its data and zones), data category, federation and network zone, every
    credential stored in a system, and of these vendors their data, the credentials they
    hold, the systems they operate and their software (engine.reach_for_all_vendors). A
    reference to another vendor (a stored credential's holder, a system's operator) is left
    out: it changes nothing of these vendors' reach. No subprocessor link: the figures do not
    read them. Callers wrap it in :func:`vendor_risk.db.snapshot`."""
    wanted = None if vendor_ids is None else set(vendor_ids)

    def rows(query):
        return session.connection().execute(query)

    def vendors_within(column):
        return _within(session, column, wanted)

    system_holdings = _grouped(
        (r.system_id, engine.Holding(r.data_category_id, r.records))
        for r in rows(
            sa.select(SystemData.system_id, SystemData.data_category_id, SystemData.records)
        )
    )
    vendor_holdings = _grouped(
        (r.vendor_id, engine.Holding(r.data_category_id, r.records))
        for r in rows(
            sa.select(VendorData.vendor_id, VendorData.data_category_id, VendorData.records).where(
                vendors_within(VendorData.vendor_id)
            )
        )
    )
    copies = _grouped(rows(sa.select(CredentialCopy.credential_id, CredentialCopy.system_id)))
    zone_ids = _grouped(rows(sa.select(SystemZone.system_id, SystemZone.zone_id)))
    open_zone_ids = _grouped(rows(sa.select(SystemOpenZone.system_id, SystemOpenZone.zone_id)))
    categories = [
        engine.DataCategory(r.id, r.name, Sensitivity(r.sensitivity).level)
        for r in rows(sa.select(DataCategory.id, DataCategory.name, DataCategory.sensitivity))
    ]
    systems = [
        engine.System(
            r.id,
            r.name,
            kind=r.kind,
            environment=r.environment,
            owner=r.owner,
            mfa_required=bool(r.mfa_required),
            holdings=tuple(system_holdings.get(r.id, ())),
            operator_vendor_id=(
                r.operator_vendor_id if wanted is None or r.operator_vendor_id in wanted else None
            ),
            zone_ids=tuple(sorted(zone_ids.get(r.id, ()))),
            accepts_unauthenticated_from=tuple(sorted(open_zone_ids.get(r.id, ()))),
        )
        for r in rows(
            sa.select(
                System.id,
                System.name,
                _plain(System.kind),
                _plain(System.environment),
                System.owner,
                System.mfa_required,
                System.operator_vendor_id,
            )
        )
    ]
    vendors = [
        engine.Vendor(r.id, r.name, tuple(vendor_holdings.get(r.id, ())))
        for r in rows(sa.select(Vendor.id, Vendor.name).where(vendors_within(Vendor.id)))
    ]
    if wanted is None:
        credentials = _credentials(session, sa.true(), copies, named=False)
    else:  # two indexed reads (an OR of the two would scan every credential)
        held = _credentials(
            session,
            in_ids(session, Credential.holder_vendor_id, wanted),
            copies,
            wanted,
            named=False,
        )
        stored = _credentials(
            session,
            Credential.id.in_(sa.select(CredentialCopy.credential_id)),
            copies,
            wanted,
            named=False,
        )
        credentials = list({c.id: c for c in (*held, *stored)}.values())
    return engine.Inventory.build(
        vendors=vendors,
        systems=systems,
        credentials=credentials,
        categories=categories,
        federations=[
            engine.Federation(r.identity_provider_id, r.system_id, r.privilege, r.mfa_enforced)
            for r in rows(
                sa.select(
                    Federation.identity_provider_id,
                    Federation.system_id,
                    _plain(Federation.privilege),
                    Federation.mfa_enforced,
                )
            )
        ],
        software=[
            engine.SoftwareSupply(
                r.system_id, r.vendor_id, r.privilege, r.automatic_updates, r.software
            )
            for r in rows(
                sa.select(
                    SoftwareSupply.system_id,
                    SoftwareSupply.vendor_id,
                    _plain(SoftwareSupply.privilege),
                    SoftwareSupply.automatic_updates,
                    SoftwareSupply.software,
                )
                .where(vendors_within(SoftwareSupply.vendor_id))
                .order_by(SoftwareSupply.id)
            )
        ],
        zones=_zones(rows),
    )


def _zones(rows) -> list[engine.NetworkZone]:
    """Every network zone with the zones it reaches (a few rows: always read whole)."""
    reaches = _grouped(rows(sa.select(ZoneReach.from_zone_id, ZoneReach.to_zone_id)))
    return [
        engine.NetworkZone(r.id, r.name, tuple(sorted(reaches.get(r.id, ()))))
        for r in rows(sa.select(NetworkZone.id, NetworkZone.name))
    ]


def _scalars(session: Session, query: sa.Select) -> list:
    """The first column of each row, read through Core: the ORM's result machinery costs more
    than the read itself over the thousands of ids a large breach reaches."""
    return session.connection().execute(query).scalars().all()


def load_reachable(
    session: Session, vendor_ids: Collection[int], *, fourth_party_ids: Collection[int] = ()
) -> engine.Inventory:
    """The part of the inventory a breach of these vendors (and of these named fourth parties)
    can touch, even if every control fails: their credentials and the systems they open, the
    systems they operate and those running their software; then hop after hop, from every
    system reached, the credentials stored in it and the systems those open, the systems
    trusting it for sign-in and the systems of the zones its zones can connect to; the vendors
    that pass data to them (fourth-party exposure), the holders of the credentials read and the
    operators of the systems read. One query per hop and per table, never per row: a vendor
    page reads tens of rows where the whole inventory has hundreds of thousands. ``compute``
    on it gives the same result as on the whole inventory.
    """
    wanted = set(vendor_ids)
    parties = set(fourth_party_ids)
    ordered = sorted(wanted)
    credentials = set(
        _scalars(session, sa.select(Credential.id).where(Credential.holder_vendor_id.in_(ordered)))
    )
    systems: set[int] = set()
    opened = set(
        _scalars(session, sa.select(System.id).where(System.operator_vendor_id.in_(ordered)))
    ) | set(
        _scalars(
            session,
            sa.select(SoftwareSupply.system_id).where(SoftwareSupply.vendor_id.in_(ordered)),
        )
    )
    reach = _grouped(session.execute(sa.select(ZoneReach.from_zone_id, ZoneReach.to_zone_id)))
    zones_done: set[int] = set()
    frontier = credentials
    while frontier or opened:
        if frontier:
            opened |= set(
                _scalars(
                    session,
                    sa.select(Credential.system_id).where(in_ids(session, Credential.id, frontier)),
                )
            )
        opened -= systems
        systems |= opened
        stored, opened, zones_done = _next_hop(session, opened, reach, zones_done)
        frontier = stored - credentials
        credentials |= frontier
        opened -= systems
    holders = (
        _scalars(
            session,
            sa.select(Credential.holder_vendor_id).where(
                in_ids(session, Credential.id, credentials),
                Credential.holder_vendor_id.is_not(None),
            ),
        )
        if credentials
        else ()
    )
    operators = (
        _scalars(
            session,
            sa.select(System.operator_vendor_id).where(
                in_ids(session, System.id, systems), System.operator_vendor_id.is_not(None)
            ),
        )
        if systems
        else ()
    )
    passing_data = _scalars(
        session,
        sa.select(SubprocessorLink.vendor_id).where(
            sa.or_(
                SubprocessorLink.subprocessor_id.in_(ordered),
                SubprocessorLink.fourth_party_id.in_(sorted(parties)),
            )
        ),
    )
    return _inventory(
        session,
        vendor_ids=wanted | set(holders) | set(operators) | set(passing_data),
        system_ids=systems,
        credential_ids=credentials,
        link_subprocessor_ids=wanted,
        link_fourth_party_ids=parties,
    )


def _next_hop(
    session: Session, opened: set[int], reach: dict[int, list], zones_done: set[int]
) -> tuple[set[int], set[int], set[int]]:
    """From the systems just reached: the credentials stored in them, and the systems they
    lead to with no credential (trusting them for sign-in, in a zone their zones reach)."""
    if not opened:
        return set(), set(), zones_done
    ids = sorted(opened)
    stored = set(
        _scalars(
            session,
            sa.select(CredentialCopy.credential_id).where(
                in_ids(session, CredentialCopy.system_id, ids)
            ),
        )
    )
    trusting = set(
        _scalars(
            session,
            sa.select(Federation.system_id).where(
                in_ids(session, Federation.identity_provider_id, ids)
            ),
        )
    )
    zones = (
        set(
            _scalars(
                session,
                sa.select(SystemZone.zone_id).where(in_ids(session, SystemZone.system_id, ids)),
            )
        )
        - zones_done
    )
    targets = zones | {to for zone in zones for to in reach.get(zone, ())}
    in_zones = (
        set(
            _scalars(
                session,
                sa.select(SystemZone.system_id).where(SystemZone.zone_id.in_(sorted(targets))),
            )
        )
        if targets
        else set()
    )
    return stored, trusting | in_zones, zones_done | zones


def vendor_blast_radius(
    session: Session,
    vendor_ids: list[int],
    *,
    since: datetime | None = None,
    as_of: datetime | None = None,
    fourth_party_ids: Collection[int] = (),
) -> engine.BlastRadius:
    """What a breach of these vendors (and of these named fourth parties) reaches now (or as
    of a date), optionally counting only credentials not rotated since the breach started
    (``since``)."""
    with collection_paused():
        return engine.compute(
            load_reachable(session, vendor_ids, fourth_party_ids=fourth_party_ids),
            vendor_ids,
            as_of=as_of or datetime.now(UTC),
            since=since,
            breached_fourth_party_ids=fourth_party_ids,
        )


def vendor_id_by_name(session: Session, name: str) -> int | None:
    """The vendor of this name, whatever its case (names.name_key), or None."""
    return session.scalar(sa.select(Vendor.id).where(Vendor.name_key == name_key(name.strip())))
