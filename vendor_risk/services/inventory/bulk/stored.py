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
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
)
from .sections import (
    _MODEL,
    _NUMBER,
    SECTIONS,
)


def _grouped(session: Session, model: type, outer: str, inner: str) -> dict[int, dict[int, Any]]:
    groups: dict[int, dict[int, Any]] = defaultdict(dict)
    for row in session.scalars(sa.select(model)):
        groups[getattr(row, outer)][getattr(row, inner)] = row
    return groups


@dataclass
class _Stored:
    """The whole stored inventory, one query per table: rows by name key (names.name_key),
    link rows by owner id."""

    rows: dict[str, dict[str, Any]]
    system_data: dict[int, dict[int, SystemData]]
    vendor_data: dict[int, dict[int, VendorData]]
    copies: dict[int, dict[int, CredentialCopy]]
    links: dict[int, dict[int, SubprocessorLink]]
    link_data: dict[int, dict[int, SubprocessorData]]
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
            links=_grouped(session, SubprocessorLink, "vendor_id", "subprocessor_id"),
            link_data=_grouped(session, SubprocessorData, "link_id", "data_category_id"),
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
    return {
        "data": _holdings(stored.system_data.get(system.id, {}), labels),
        "operated_by": labels["vendors"].get(system.operator_vendor_id),
    }


def _vendor_refs(stored: _Stored, vendor: Vendor, labels: _Labels) -> dict[str, Any]:
    category, vendor_label = labels["data_categories"], labels["vendors"]
    subprocessors = {
        vendor_label[subprocessor_id]: (
            link.purpose,
            frozenset(category[c] for c in stored.link_data.get(link.id, {})),
        )
        for subprocessor_id, link in stored.links.get(vendor.id, {}).items()
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
            name_key(s["vendor"]): (
                s.get("purpose") or "",
                frozenset(name_key(category) for category in s.get("data") or ()),
            )
            for s in entry["subprocessors"]
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
