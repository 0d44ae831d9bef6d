"""Importing a checked document: the plan of what differs from the stored inventory, its
report, the rows written in batched statements, and the audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.names import name_key
from ....db import PORTFOLIO_UPDATE, request_job, utcnow
from ....models import (
    AuditAction,
    CredentialCopy,
    Federation,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    SystemData,
    SystemOpenZone,
    SystemZone,
    VendorData,
    ZoneReach,
)
from ... import audit
from ...audit import Actor
from .checks import InventoryInvalid, _problems
from .sections import (
    _FIELDS,
    _MODEL,
    OPTIONAL_SECTIONS,
    SECTIONS,
)
from .stored import _Stored, _wanted, link_key


@dataclass(frozen=True)
class SectionReport:
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: int = 0


@dataclass(frozen=True)
class ImportReport:
    """What an import changed (or, for a dry run, would change), by section and name."""

    dry_run: bool
    sections: Mapping[str, SectionReport]

    @property
    def created(self) -> int:
        return sum(len(s.created) for s in self.sections.values())

    @property
    def updated(self) -> int:
        return sum(len(s.updated) for s in self.sections.values())

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.sections.values())


@dataclass
class _Change:
    """One entry of the file against its stored row: what differs (everything when new)."""

    section: str
    name: str  # as stored (a stored entry keeps its spelling), else as in the file
    key: str  # names.name_key of the name
    row: Any | None
    fields: dict[str, Any]
    refs: dict[str, Any]

    @property
    def is_change(self) -> bool:
        return self.row is None or bool(self.fields or self.refs)


def _plan(document: Mapping[str, Any], stored: _Stored) -> dict[str, list[_Change]]:
    plan: dict[str, list[_Change]] = {}
    for section in SECTIONS:
        fields = _FIELDS[section]
        changes = []
        for entry in document.get(section) or ():
            key = name_key(entry["name"])
            row = stored.rows[section].get(key)
            values = {c: f.to_model(entry[c]) for c, f in fields.items() if c in entry}
            refs = _wanted(section, entry)
            name = entry["name"]
            if row is not None:
                name = row.name
                current = stored.refs(section, row, stored.keys)
                values = {k: v for k, v in values.items() if getattr(row, k) != v}
                refs = {k: v for k, v in refs.items() if current[k] != v}
            changes.append(_Change(section, name, key, row, values, refs))
        plan[section] = changes
    return plan


def _insert(session: Session, model: type, rows: list[Any]) -> list[Any]:
    """Insert new rows in batched statements; returns them as ORM objects, with their ids.

    The rows come back unordered, and callers match them by a unique key: SQLite cannot tell
    which id went to which row of a multi-row INSERT, so asking for them in order makes
    SQLAlchemy fall back to one INSERT per row there.
    """
    if not rows:
        return []
    columns = [column.key for column in model.__table__.columns if not column.primary_key]
    records = [{column: getattr(row, column) for column in columns} for row in rows]
    return list(session.scalars(sa.insert(model).returning(model), records))


def _sync(
    session: Session,
    current: Mapping[Any, Any],
    wanted: Mapping[Any, Any],
    make: Callable[[Any, Any], Any],
    update: Callable[[Any, Any], None] | None = None,
) -> list[Any]:
    """Make the stored rows of one list (keyed like ``wanted``) match ``wanted``: delete and
    update them here, and return the rows to add."""
    for key, row in current.items():
        if key not in wanted:
            session.delete(row)
        elif update is not None:
            update(row, wanted[key])
    return [make(key, value) for key, value in wanted.items() if key not in current]


def _set_records(row: SystemData | VendorData | SubprocessorData, records: int | None) -> None:
    if row.records != records:
        row.records = records


def _set_purpose(link: SubprocessorLink, wanted: tuple[str, frozenset[str]]) -> None:
    if link.purpose != wanted[0]:
        link.purpose = wanted[0]


def _fill_row(row: Any, change: _Change, stored: _Stored) -> Any:
    for key, value in change.fields.items():
        setattr(row, key, value)
    # Vendors and systems are saved before credentials: their ids exist.
    if "holder" in change.refs:
        holder = change.refs["holder"]
        row.holder_vendor_id = None if holder is None else stored.id_of("vendors", holder)
    if "opens" in change.refs:
        row.system_id = stored.id_of("systems", change.refs["opens"])
    return row


def _set_operators(changes: list[_Change], stored: _Stored) -> None:
    """The vendor operating each system: vendors are saved after systems, so set here."""
    for change in changes:
        if "operated_by" in change.refs:
            operator = change.refs["operated_by"]
            row = stored.rows["systems"][change.key]
            row.operator_vendor_id = None if operator is None else stored.id_of("vendors", operator)


def _save_rows(session: Session, section: str, changes: list[_Change], stored: _Stored) -> None:
    new = []
    for change in changes:
        if change.row is None:
            # The model fills in its defaults for the fields the entry leaves out.
            new.append(_fill_row(_MODEL[section](name=change.name), change, stored))
            continue
        _fill_row(change.row, change, stored)
        if hasattr(change.row, "updated_at"):
            # Also when only its lists changed, which leave the row itself alone.
            change.row.updated_at = utcnow()
    for row in _insert(session, _MODEL[section], new):
        stored.rows[section][row.name_key] = row


def _sync_holdings(session: Session, change: _Change, stored: _Stored) -> list[Any]:
    owner_id = stored.id_of(change.section, change.key)
    model, owner_key, current = (
        (SystemData, "system_id", stored.system_data)
        if change.section == "systems"
        else (VendorData, "vendor_id", stored.vendor_data)
    )
    wanted = {
        stored.id_of("data_categories", name): records
        for name, records in change.refs["data"].items()
    }

    def make(category_id: int, records: int | None) -> SystemData | VendorData:
        return model(**{owner_key: owner_id, "data_category_id": category_id, "records": records})

    return _sync(session, current.get(owner_id, {}), wanted, make, _set_records)


def _sync_copies(session: Session, change: _Change, stored: _Stored) -> list[Any]:
    credential_id = stored.id_of("credentials", change.key)
    wanted = dict.fromkeys(stored.id_of("systems", name) for name in change.refs["stored_in"])

    def make(system_id: int, _: None) -> CredentialCopy:
        return CredentialCopy(credential_id=credential_id, system_id=system_id)

    return _sync(session, stored.copies.get(credential_id, {}), wanted, make)


def _sync_links(session: Session, change: _Change, stored: _Stored) -> list[Any]:
    vendor_id = stored.id_of("vendors", change.key)
    wanted = {
        (section, stored.id_of(section, name)): value
        for (section, name), value in change.refs["subprocessors"].items()
    }

    def make(key: tuple[str, int], value: tuple[str, dict]) -> SubprocessorLink:
        section, subprocessor_id = key
        return SubprocessorLink(
            vendor_id=vendor_id,
            subprocessor_id=subprocessor_id if section == "vendors" else None,
            fourth_party_id=subprocessor_id if section == "fourth_parties" else None,
            purpose=value[0],
        )

    return _sync(session, stored.links.get(vendor_id, {}), wanted, make, _set_purpose)


def _sync_link_data(session: Session, vendor_change: _Change, stored: _Stored) -> list[Any]:
    """The data each subprocessor link of the vendor passes on (its links exist by now)."""
    vendor_id = stored.id_of("vendors", vendor_change.key)
    links = stored.links.get(vendor_id, {})
    new = []
    for (section, name), (_, categories) in vendor_change.refs["subprocessors"].items():
        link = links[(section, stored.id_of(section, name))]
        wanted = {stored.id_of("data_categories", c): records for c, records in categories.items()}

        def make(category_id: int, records: int | None, link_id: int = link.id) -> Any:
            return SubprocessorData(link_id=link_id, data_category_id=category_id, records=records)

        new += _sync(session, stored.link_data.get(link.id, {}), wanted, make, _set_records)
    return new


def _sync_zone_lists(session: Session, change: _Change, stored: _Stored) -> list[Any]:
    """A zone's reach, a system's zones and the zones it accepts unauthenticated access from."""
    new: list[Any] = []
    owner_id = stored.id_of(change.section, change.key)
    lists = (
        ("reaches", stored.zone_reach, ZoneReach, "from_zone_id", "to_zone_id"),
        ("zones", stored.system_zones, SystemZone, "system_id", "zone_id"),
        ("accepts_unauthenticated_from", stored.open_zones, SystemOpenZone, "system_id", "zone_id"),
    )
    for key, current, model, owner, zone in lists:
        if key not in change.refs:
            continue
        wanted = dict.fromkeys(stored.id_of("network_zones", z) for z in change.refs[key])

        def make(zone_id: int, _: None, model=model, owner=owner, zone=zone) -> Any:
            return model(**{owner: owner_id, zone: zone_id})

        new += _sync(session, current.get(owner_id, {}), wanted, make)
    return new


def _set_pair(names: tuple[str, str]) -> Callable[[Any, tuple[Any, Any]], None]:
    def update(row: Any, values: tuple[Any, Any]) -> None:
        for name, value in zip(names, values, strict=True):
            if getattr(row, name) != value:
                setattr(row, name, value)

    return update


def _sync_sign_in(session: Session, change: _Change, stored: _Stored) -> list[Any]:
    """The identity providers a system trusts for sign-in, and the software it runs."""
    new: list[Any] = []
    system_id = stored.id_of("systems", change.key)
    if "sign_in_via" in change.refs:
        wanted = {
            stored.id_of("systems", idp): value for idp, value in change.refs["sign_in_via"].items()
        }

        def federation(idp_id: int, value: tuple[str, bool]) -> Federation:
            privilege, mfa = value
            return Federation(
                identity_provider_id=idp_id,
                system_id=system_id,
                privilege=privilege,
                mfa_enforced=mfa,
            )

        update = _set_pair(("privilege", "mfa_enforced"))
        new += _sync(session, stored.federations.get(system_id, {}), wanted, federation, update)
    if "runs_software" in change.refs:
        wanted = {
            (stored.id_of("vendors", vendor), software): value
            for (vendor, software), value in change.refs["runs_software"].items()
        }

        def supply(key: tuple[int, str], value: tuple[str, bool]) -> SoftwareSupply:
            return SoftwareSupply(
                system_id=system_id,
                vendor_id=key[0],
                software=key[1],
                privilege=value[0],
                automatic_updates=value[1],
            )

        update = _set_pair(("privilege", "automatic_updates"))
        new += _sync(session, stored.software.get(system_id, {}), wanted, supply, update)
    return new


def _apply(session: Session, plan: Mapping[str, list[_Change]], stored: _Stored) -> None:
    changes = {s: [c for c in plan[s] if c.is_change] for s in SECTIONS}
    for section in SECTIONS:  # in order: each section refers to those before it
        _save_rows(session, section, changes[section], stored)
    _set_operators(changes["systems"], stored)
    new_rows = []
    for change in changes["systems"] + changes["vendors"]:
        if "data" in change.refs:
            new_rows += _sync_holdings(session, change, stored)
    for change in changes["credentials"]:
        if "stored_in" in change.refs:
            new_rows += _sync_copies(session, change, stored)
    for change in changes["network_zones"] + changes["systems"]:
        new_rows += _sync_zone_lists(session, change, stored)
    for change in changes["systems"]:
        new_rows += _sync_sign_in(session, change, stored)
    # New links need their ids before the data they pass on can be saved.
    with_links = [c for c in changes["vendors"] if "subprocessors" in c.refs]
    new_links = [link for c in with_links for link in _sync_links(session, c, stored)]
    session.add_all(new_rows)
    session.flush()  # updates and deletions before the inserts below
    for link in _insert(session, SubprocessorLink, new_links):
        stored.links.setdefault(link.vendor_id, {})[link_key(link)] = link
    session.add_all(row for c in with_links for row in _sync_link_data(session, c, stored))
    session.flush()


def _report(
    plan: Mapping[str, list[_Change]], document: Mapping[str, Any], *, dry_run: bool
) -> ImportReport:
    """By section; the optional sections (network zones, fourth parties) when the file gives
    them."""
    plan = {s: c for s, c in plan.items() if s not in OPTIONAL_SECTIONS or s in document}
    sections = {
        section: SectionReport(
            created=tuple(c.name for c in changes if c.row is None),
            updated=tuple(c.name for c in changes if c.row is not None and c.is_change),
            unchanged=sum(not c.is_change for c in changes),
        )
        for section, changes in plan.items()
    }
    return ImportReport(dry_run=dry_run, sections=sections)


# The audit trail redacts any detail whose key mentions credentials (it could hold one), so
# the counts call them access grants, the domain's other word for them.
_AUDIT_KEY = {section: section for section in SECTIONS} | {"credentials": "access_grants"}


def _audit(session: Session, report: ImportReport, *, actor: Actor, source: str | None) -> None:
    request_job(session, PORTFOLIO_UPDATE)  # the aggregates follow once the import commits
    counts: dict[str, dict[str, int]] = {"created": {}, "updated": {}, "unchanged": {}}
    for section, part in report.sections.items():
        key = _AUDIT_KEY[section]
        counts["created"][key] = len(part.created)
        counts["updated"][key] = len(part.updated)
        counts["unchanged"][key] = part.unchanged
    audit.record(
        session,
        AuditAction.inventory_imported,
        actor=actor,
        object_type="inventory",
        details={"source": source, **counts},
    )


def _import_checked(
    session: Session,
    document: Mapping[str, Any],
    stored: _Stored,
    *,
    actor: Actor,
    dry_run: bool,
    source: str | None,
) -> ImportReport:
    plan = _plan(document, stored)
    report = _report(plan, document, dry_run=dry_run)
    if not dry_run:
        _apply(session, plan, stored)
        _audit(session, report, actor=actor, source=source)
    return report


def import_inventory(
    session: Session,
    document: Any,
    *,
    actor: Actor,
    dry_run: bool = False,
    source: str | None = None,
) -> ImportReport:
    """Upsert the document's entries by name (flushed, not committed), or change nothing and
    raise :class:`InventoryInvalid` with every problem found. A dry run checks and counts
    but writes nothing. ``source`` (a file name) goes into the audit event."""
    stored = _Stored.load(session)
    problems = _problems(document, stored)
    if problems:
        raise InventoryInvalid(problems)
    return _import_checked(session, document, stored, actor=actor, dry_run=dry_run, source=source)
