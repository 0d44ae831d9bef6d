"""The whole stored inventory, loaded with one query per table, and the references of an
entry (by name key) in the shapes that compare a stored row with an entry of the file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.names import name_key
from ....models import (
    Credential,
    CredentialCopy,
    Federation,
    NetworkZone,
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
from .sections import (
    _MODEL,
    _NUMBER,
    SECTIONS,
)


def _grouped(
    session: Session, model: type, outer: str, inner: str | Callable[[Any], Any]
) -> dict[int, dict[Any, Any]]:
    """Rows by ``outer`` then by ``inner`` (a column, or a function of the row)."""
    key = inner if callable(inner) else (lambda row: getattr(row, inner))
    groups: dict[int, dict[Any, Any]] = defaultdict(dict)
    for row in session.scalars(sa.select(model)):
        groups[getattr(row, outer)][key(row)] = row
    return groups


def link_key(link: SubprocessorLink) -> tuple[str, int]:
    """A link by its subprocessor: ``("vendors", id)`` or ``("fourth_parties", id)``."""
    if link.subprocessor_id is not None:
        return ("vendors", link.subprocessor_id)
    return ("fourth_parties", link.fourth_party_id)


def _software_key(supply: SoftwareSupply) -> tuple[int, str]:
    return (supply.vendor_id, supply.software)


@dataclass
class _Stored:
    """The whole stored inventory, one query per table: rows by name key (names.name_key),
    link rows by owner id."""

    rows: dict[str, dict[str, Any]]
    system_data: dict[int, dict[int, SystemData]]
    vendor_data: dict[int, dict[int, VendorData]]
    copies: dict[int, dict[int, CredentialCopy]]
    links: dict[int, dict[tuple[str, int], SubprocessorLink]]  # by link_key
    link_data: dict[int, dict[int, SubprocessorData]]
    zone_reach: dict[int, dict[int, ZoneReach]]
    system_zones: dict[int, dict[int, SystemZone]]
    open_zones: dict[int, dict[int, SystemOpenZone]]
    federations: dict[int, dict[int, Federation]]  # system -> identity provider -> row
    software: dict[int, dict[tuple[int, str], SoftwareSupply]]  # system -> (vendor, software)
    # Row id -> name key (what references are compared by) and -> name (what an export writes).
    keys: dict[str, dict[int, str]] = field(init=False)
    names: dict[str, dict[int, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = {
            section: {row.id: key for key, row in rows.items()}
            for section, rows in self.rows.items()
        }
        self.names = {
            section: {row.id: row.name for row in rows.values()}
            for section, rows in self.rows.items()
        }

    @classmethod
    def load(cls, session: Session) -> _Stored:
        rows = {
            section: {row.name_key: row for row in session.scalars(sa.select(_MODEL[section]))}
            for section in SECTIONS
        }
        return cls(
            rows=rows,
            system_data=_grouped(session, SystemData, "system_id", "data_category_id"),
            vendor_data=_grouped(session, VendorData, "vendor_id", "data_category_id"),
            copies=_grouped(session, CredentialCopy, "credential_id", "system_id"),
            links=_grouped(session, SubprocessorLink, "vendor_id", link_key),
            link_data=_grouped(session, SubprocessorData, "link_id", "data_category_id"),
            zone_reach=_grouped(session, ZoneReach, "from_zone_id", "to_zone_id"),
            system_zones=_grouped(session, SystemZone, "system_id", "zone_id"),
            open_zones=_grouped(session, SystemOpenZone, "system_id", "zone_id"),
            federations=_grouped(session, Federation, "system_id", "identity_provider_id"),
            software=_grouped(session, SoftwareSupply, "system_id", _software_key),
        )

    def id_of(self, section: str, key: str) -> int:
        return self.rows[section][key].id

    def refs(self, section: str, row: Any, labels: _Labels) -> dict[str, Any]:
        """The row's references to other entries, each given by its label (``self.keys`` to
        compare with :func:`_wanted`, ``self.names`` to export), in the shapes of _wanted."""
        return _REFS[section](self, row, labels)


# Section -> row id -> how a reference to the row is written.
_Labels = Mapping[str, Mapping[int, str]]


def _holdings(rows: Mapping[int, SystemData | VendorData], labels: _Labels) -> dict[str, Any]:
    category = labels["data_categories"]
    return {category[cat_id]: row.records for cat_id, row in rows.items()}


def _system_refs(stored: _Stored, system: System, labels: _Labels) -> dict[str, Any]:
    zone, vendor = labels["network_zones"], labels["vendors"]
    return {
        "data": _holdings(stored.system_data.get(system.id, {}), labels),
        "operated_by": vendor.get(system.operator_vendor_id),
        "zones": frozenset(zone[z] for z in stored.system_zones.get(system.id, {})),
        "accepts_unauthenticated_from": frozenset(
            zone[z] for z in stored.open_zones.get(system.id, {})
        ),
        "sign_in_via": {
            labels["systems"][idp]: (str(row.privilege), row.mfa_enforced)
            for idp, row in stored.federations.get(system.id, {}).items()
        },
        "runs_software": {
            (vendor[vendor_id], software): (str(row.privilege), row.automatic_updates)
            for (vendor_id, software), row in stored.software.get(system.id, {}).items()
        },
    }


def _zone_refs(stored: _Stored, zone: NetworkZone, labels: _Labels) -> dict[str, Any]:
    label = labels["network_zones"]
    return {"reaches": frozenset(label[z] for z in stored.zone_reach.get(zone.id, {}))}


def _vendor_refs(stored: _Stored, vendor: Vendor, labels: _Labels) -> dict[str, Any]:
    category = labels["data_categories"]
    subprocessors = {
        (section, labels[section][subprocessor_id]): (
            link.purpose,
            {category[c]: row.records for c, row in stored.link_data.get(link.id, {}).items()},
        )
        for (section, subprocessor_id), link in stored.links.get(vendor.id, {}).items()
    }
    data = _holdings(stored.vendor_data.get(vendor.id, {}), labels)
    return {"data": data, "subprocessors": subprocessors}


def _credential_refs(stored: _Stored, credential: Credential, labels: _Labels) -> dict[str, Any]:
    system = labels["systems"]
    return {
        "holder": labels["vendors"].get(credential.holder_vendor_id),
        "opens": system[credential.system_id],
        "stored_in": frozenset(system[s] for s in stored.copies.get(credential.id, {})),
    }


_REFS: Mapping[str, Callable[[_Stored, Any, _Labels], dict[str, Any]]] = {
    "data_categories": lambda stored, category, labels: {},
    "network_zones": _zone_refs,
    "fourth_parties": lambda stored, party, labels: {},
    "systems": _system_refs,
    "vendors": _vendor_refs,
    "credentials": _credential_refs,
}


def _wanted(section: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The references an entry of the file gives, by name key, in the shapes of
    :meth:`_Stored.refs`.

    Only the keys present: a reference left out of the entry keeps its stored value.
    """
    wanted: dict[str, Any] = {}
    if "data" in entry and section in ("systems", "vendors"):
        # JSON Schema counts 5.0 as a whole number: stored as 5.
        wanted["data"] = {
            name_key(h["category"]): _NUMBER.to_model(h.get("records")) for h in entry["data"]
        }
    if "subprocessors" in entry:
        wanted["subprocessors"] = {
            _subprocessor(s): (
                s.get("purpose") or "",
                dict(_passed(item) for item in s.get("data") or ()),
            )
            for s in entry["subprocessors"]
        }
    for key in ("reaches", "zones", "accepts_unauthenticated_from"):
        if key in entry:
            wanted[key] = frozenset(name_key(zone) for zone in entry[key])
    if "sign_in_via" in entry:
        wanted["sign_in_via"] = {
            name_key(f["identity_provider"]): (
                f.get("privilege") or "read",
                bool(f.get("mfa_enforced", False)),
            )
            for f in entry["sign_in_via"]
        }
    if "runs_software" in entry:
        wanted["runs_software"] = {
            (name_key(s["vendor"]), s.get("software") or ""): (
                s.get("privilege") or "admin",
                bool(s.get("automatic_updates", True)),
            )
            for s in entry["runs_software"]
        }
    if "operated_by" in entry:
        operator = entry["operated_by"]
        wanted["operated_by"] = None if operator is None else name_key(operator)
    if "holder" in entry:
        wanted["holder"] = None if entry["holder"] is None else name_key(entry["holder"])
    if "opens" in entry:
        wanted["opens"] = name_key(entry["opens"])
    if "stored_in" in entry:
        wanted["stored_in"] = frozenset(name_key(system) for system in entry["stored_in"])
    return wanted


def _subprocessor(link: Mapping[str, Any]) -> tuple[str, str]:
    """A subprocessor of the file, keyed like :func:`link_key` but by name key."""
    if link.get("fourth_party") is not None:
        return ("fourth_parties", name_key(link["fourth_party"]))
    return ("vendors", name_key(link["vendor"]))


def _passed(item: Any) -> tuple[str, int | None]:
    """A category passed on: its name alone, or ``{category, records}``."""
    if isinstance(item, str):
        return name_key(item), None
    return name_key(item["category"]), _NUMBER.to_model(item.get("records"))
