"""Exporting the whole inventory in the file format, in a deterministic order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from ....core.inventory_file import (
    FORMAT_VERSION,
)
from ....models import (
    Credential,
    DataCategory,
    FourthParty,
    NetworkZone,
    System,
    Vendor,
)
from .sections import (
    _FIELDS,
    SECTIONS,
)
from .stored import _Stored


def _scalars(section: str, row: Any) -> dict[str, Any]:
    return {key: f.to_file(getattr(row, key)) for key, f in _FIELDS[section].items()}


def _holdings_out(holdings: Mapping[str, int | None]) -> list[dict[str, Any]]:
    return [{"category": name, "records": holdings[name]} for name in sorted(holdings)]


def _export_category(row: DataCategory, stored: _Stored) -> dict[str, Any]:
    return {"name": row.name, **_scalars("data_categories", row)}


def _export_zone(row: NetworkZone, stored: _Stored) -> dict[str, Any]:
    refs = stored.refs("network_zones", row, stored.names)
    return {"name": row.name, **_scalars("network_zones", row), "reaches": sorted(refs["reaches"])}


def _export_party(row: FourthParty, stored: _Stored) -> dict[str, Any]:
    return {"name": row.name, **_scalars("fourth_parties", row)}


def _export_system(row: System, stored: _Stored) -> dict[str, Any]:
    refs = stored.refs("systems", row, stored.names)
    federations, software = refs["sign_in_via"], refs["runs_software"]
    return {
        "name": row.name,
        **_scalars("systems", row),
        "operated_by": refs["operated_by"],
        "zones": sorted(refs["zones"]),
        "accepts_unauthenticated_from": sorted(refs["accepts_unauthenticated_from"]),
        "sign_in_via": [
            {"identity_provider": idp, "privilege": privilege, "mfa_enforced": mfa}
            for idp, (privilege, mfa) in sorted(federations.items())
        ],
        "runs_software": [
            {"vendor": vendor, "software": name, "privilege": privilege, "automatic_updates": auto}
            for (vendor, name), (privilege, auto) in sorted(software.items())
        ],
        "data": _holdings_out(refs["data"]),
    }


def _passed_out(passed: Mapping[str, int | None]) -> list[Any]:
    """A category passed on: its name, or ``{category, records}`` when a count is recorded."""
    return [
        name if passed[name] is None else {"category": name, "records": passed[name]}
        for name in sorted(passed)
    ]


_SUBPROCESSOR_KEY = {"vendors": "vendor", "fourth_parties": "fourth_party"}


def _export_vendor(row: Vendor, stored: _Stored) -> dict[str, Any]:
    refs = stored.refs("vendors", row, stored.names)
    links = refs["subprocessors"]
    return {
        "name": row.name,
        **_scalars("vendors", row),
        "data": _holdings_out(refs["data"]),
        "subprocessors": [
            {
                _SUBPROCESSOR_KEY[section]: name,
                "purpose": links[section, name][0],
                "data": _passed_out(links[section, name][1]),
            }
            for section, name in sorted(links, key=lambda key: (key[1], key[0]))
        ],
    }


def _export_credential(row: Credential, stored: _Stored) -> dict[str, Any]:
    refs = stored.refs("credentials", row, stored.names)
    scalars = _scalars("credentials", row)
    # What it is, who holds it and what it opens come first: they are what a reader looks for.
    return {
        "name": row.name,
        "kind": scalars.pop("kind"),
        "holder": refs["holder"],
        "opens": refs["opens"],
        **scalars,
        "stored_in": sorted(refs["stored_in"]),
    }


_EXPORT: Mapping[str, Callable[[Any, _Stored], dict[str, Any]]] = {
    "data_categories": _export_category,
    "network_zones": _export_zone,
    "fourth_parties": _export_party,
    "systems": _export_system,
    "vendors": _export_vendor,
    "credentials": _export_credential,
}


def export_inventory(session: Session) -> dict[str, Any]:
    """The whole inventory in the file format, in a deterministic order (by name, compared in
    Python so that SQLite and PostgreSQL collations agree): importing it changes nothing."""
    stored = _Stored.load(session)
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    for section in SECTIONS:
        rows = sorted(stored.rows[section].values(), key=lambda row: row.name)
        document[section] = [_EXPORT[section](row, stored) for row in rows]
    return document
