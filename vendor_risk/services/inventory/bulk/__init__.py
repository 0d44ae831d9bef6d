"""Bulk import and export of the inventory (docs/inventory-format.md), and CSV lists of vendors.

An import is all-or-nothing: every problem of the document (schema, duplicate names, unknown
references, secret-looking text, dates, numbers) is found before anything changes, and all of
them are reported together with their paths. Entries are matched by name, and references
resolved by name, whatever the case, by the rule of :mod:`vendor_risk.names` that the
database's unique constraints enforce: the checks and the database never disagree, so a file
that passes them is saved. A stored entry keeps its spelling. A field left out of
an entry keeps its stored value (a new entry gets the default); a field given replaces it; a
list given (``data``, ``subprocessors``, ``stored_in``) replaces the stored one. Nothing is
deleted but the items of such lists, so a file may describe only part of the inventory.

Both directions load the whole inventory with one query per table, never one per entry.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core import email_domains
from ....core.inventory_file import (
    FORMAT_VERSION,
    JsonPath,
    Problem,
    format_path,
    format_timestamp,
    parse_date,
    parse_timestamp,
    schema_problems,
    show,
)
from ....core.names import name_key
from ....core.secret_detection import secret_problem
from ....db import utcnow
from ....models import (
    AuditAction,
    Credential,
    CredentialCopy,
    CredentialKind,
    CredentialStatus,
    Criticality,
    DataCategory,
    Environment,
    Privilege,
    Sensitivity,
    SubprocessorData,
    SubprocessorLink,
    Substitutability,
    System,
    SystemData,
    SystemKind,
    Vendor,
    VendorData,
    VendorStatus,
)
from ... import ValidationFailed, audit
from ...audit import Actor

# In the order they are written and saved: each section refers only to those before it.
SECTIONS = ("data_categories", "systems", "vendors", "credentials")
_NOUN = {
    "data_categories": "data category",
    "systems": "system",
    "vendors": "vendor",
    "credentials": "credential",
}
_MODEL = {
    "data_categories": DataCategory,
    "systems": System,
    "vendors": Vendor,
    "credentials": Credential,
}
# Suggestions ("did you mean ...?") compare a name with every known one: a file full of
# wrong names gets them for its first few only.
_MAX_SUGGESTIONS = 20


class InventoryInvalid(ValidationFailed):
    """The document was refused; ``problems`` lists every problem with its path."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        errors: dict[str, list[str]] = {}
        for problem in self.problems:
            errors.setdefault(problem.where, []).append(problem.message)
        super().__init__(errors)


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


# ---- fields: how a value of the file becomes a column value and back ----------------------


@dataclass(frozen=True)
class _Field:
    to_model: Callable[[Any], Any]
    to_file: Callable[[Any], Any]
    free_text: bool = False  # checked for secret-looking content


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _choice(enum: type) -> _Field:
    return _Field(enum, str)


def _same(value: Any) -> Any:
    return value


_TEXT = _Field(lambda value: value or "", _same, free_text=True)
_FLAG = _Field(bool, _same)
_NUMBER = _Field(_optional(int), _same)
_DATE = _Field(_optional(parse_date), _optional(date.isoformat))
_TIMESTAMP = _Field(_optional(parse_timestamp), _optional(format_timestamp))

# The scalar fields of each section, in the order an export writes them (after the name).
# References to other entries (holder, opens) and lists are handled apart.
_FIELDS: Mapping[str, Mapping[str, _Field]] = {
    "data_categories": {"sensitivity": _choice(Sensitivity), "description": _TEXT},
    "systems": {
        "kind": _choice(SystemKind),
        "environment": _choice(Environment),
        "owner": _TEXT,
        "mfa_required": _FLAG,
        "description": _TEXT,
    },
    "vendors": {
        "legal_name": _TEXT,
        "website": _TEXT,
        "email_domains": _Field(email_domains.normalised, list),
        "services": _TEXT,
        "status": _choice(VendorStatus),
        "criticality": _choice(Criticality),
        "substitutability": _choice(Substitutability),
        "business_owner": _TEXT,
        "contract_start": _DATE,
        "contract_end": _DATE,
        "next_review": _DATE,
        "notes": _TEXT,
    },
    "credentials": {
        "kind": _choice(CredentialKind),
        "privilege": _choice(Privilege),
        "interactive": _FLAG,
        "mfa_enforced": _FLAG,
        "phishing_resistant_mfa": _FLAG,
        "ip_restricted": _FLAG,
        "issued_at": _TIMESTAMP,
        "last_rotated_at": _TIMESTAMP,
        "expires_at": _TIMESTAMP,
        "last_used_at": _TIMESTAMP,
        "rotation_period_days": _NUMBER,
        "owner": _TEXT,
        "status": _choice(CredentialStatus),
        "notes": _TEXT,
    },
}


# ---- the stored inventory --------------------------------------------------------------------


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
    return {"data": _holdings(stored.system_data.get(system.id, {}), labels)}


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
    if "holder" in entry:
        wanted["holder"] = None if entry["holder"] is None else name_key(entry["holder"])
    if "opens" in entry:
        wanted["opens"] = name_key(entry["opens"])
    if "stored_in" in entry:
        wanted["stored_in"] = frozenset(name_key(system) for system in entry["stored_in"])
    return wanted


# ---- checks: everything, before anything changes --------------------------------------------


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """The entries of a list that are mappings (the schema reports anything else)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


# How a problem names another place of the file: a path (``vendors[2]``), or a CSV's row.
_Where = Callable[[JsonPath], str]


def _also(others: list[tuple[JsonPath, str]], name: str, where: _Where) -> str:
    """Where else a name is given: ``vendors[2]``, or ``vendors[2] as 'okta'`` when spelled
    otherwise."""
    places = [
        where(path) + ("" if other == name else f" as {show(other)}") for path, other in others
    ]
    spelled_otherwise = any(other != name for _, other in others)
    note = "; names are compared whatever their case" if spelled_otherwise else ""
    return f"also {', '.join(places)}{note}"


def _given_twice(
    named: list[tuple[Any, JsonPath]], where: _Where
) -> Iterator[tuple[JsonPath, str, str]]:
    """Each place whose name (compared by :func:`name_key`) is given at another place too, in
    the order given, with the name and where else: every one of them is reported."""
    places: dict[str, list[tuple[JsonPath, str]]] = defaultdict(list)
    for name, path in named:
        if isinstance(name, str):
            places[name_key(name)].append((path, name))
    for name, path in named:
        same = places[name_key(name)] if isinstance(name, str) else []
        if len(same) > 1:
            yield path, name, _also([(p, n) for p, n in same if p != path], name, where)


@dataclass
class _Checker:
    # Name key -> a spelling of the name, by section: the names of the file and those stored.
    known: dict[str, dict[str, str]]
    where: _Where = format_path
    suggestions_left: int = _MAX_SUGGESTIONS
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: JsonPath, message: str) -> None:
        self.problems.append(Problem(path, message))

    def reference(self, value: Any, path: JsonPath, section: str) -> None:
        if not isinstance(value, str) or name_key(value) in self.known[section]:
            return
        message = (
            f"unknown {_NOUN[section]} {show(value)} "
            f"(neither in this file's {section} nor already stored)"
        )
        if self.suggestions_left > 0:
            self.suggestions_left -= 1
            guess = get_close_matches(value, list(self.known[section].values()), n=1)
            if guess:
                message += f"; did you mean {show(guess[0])}?"
        self.add(path, message)

    def references(self, values: Any, path: JsonPath, section: str) -> None:
        """A list of names: each known, none twice."""
        named = [(value, (*path, i)) for i, value in enumerate(_list(values))]
        for value, here in named:
            self.reference(value, here, section)
        self.once(named)

    def once(self, named: list[tuple[Any, JsonPath]]) -> None:
        """Refuse a name given twice in one list, at each place it is given."""
        for here, name, also in _given_twice(named, self.where):
            self.add(here, f"{show(name)} listed twice ({also})")

    def free_text(self, entry: Mapping[str, Any], path: JsonPath, keys: Iterable[str]) -> None:
        for key in keys:
            value = entry.get(key)
            problem = secret_problem(value) if isinstance(value, str) else None
            if problem:
                self.add((*path, key), problem)

    def holdings(self, holdings: Any, path: JsonPath) -> None:
        named = [
            (holding.get("category"), (*path, index, "category"))
            for index, holding in _items(holdings)
        ]
        for category, here in named:
            self.reference(category, here, "data_categories")
        self.once(named)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _free_text_keys(section: str) -> list[str]:
    return ["name", *(key for key, f in _FIELDS[section].items() if f.free_text)]


def _check_system(checker: _Checker, entry: dict, path: JsonPath) -> None:
    checker.holdings(entry.get("data"), (*path, "data"))


def _check_vendor(checker: _Checker, entry: dict, path: JsonPath) -> None:
    checker.holdings(entry.get("data"), (*path, "data"))
    for index, domain in enumerate(entry.get("email_domains") or ()):
        if isinstance(domain, str) and email_domains.normalise_entry(domain) is None:
            checker.add(
                (*path, "email_domains", index),
                "expected a domain (vendor.example) or an address (name@vendor.example), "
                f"not {show(domain)}",
            )
    start, end = entry.get("contract_start"), entry.get("contract_end")
    try:
        if start and end and parse_date(end) < parse_date(start):
            checker.add((*path, "contract_end"), f"is before the contract start ({start})")
    except (TypeError, ValueError):
        pass  # not dates: the schema says so
    name = entry.get("name")
    named = []
    for index, link in _items(entry.get("subprocessors")):
        here = (*path, "subprocessors", index)
        subprocessor = link.get("vendor")
        checker.reference(subprocessor, (*here, "vendor"), "vendors")
        if _same_name(subprocessor, name):
            checker.add((*here, "vendor"), "a vendor cannot be its own subprocessor")
        named.append((subprocessor, (*here, "vendor")))
        checker.free_text(link, here, ["purpose"])
        checker.references(link.get("data"), (*here, "data"), "data_categories")
    checker.once(named)


def _same_name(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and name_key(a) == name_key(b)


def _check_credential(checker: _Checker, entry: dict, path: JsonPath) -> None:
    checker.reference(entry.get("holder"), (*path, "holder"), "vendors")
    checker.reference(entry.get("opens"), (*path, "opens"), "systems")
    checker.references(entry.get("stored_in"), (*path, "stored_in"), "systems")


_CHECKS: Mapping[str, Callable[[_Checker, dict, JsonPath], None]] = {
    "data_categories": lambda checker, entry, path: None,
    "systems": _check_system,
    "vendors": _check_vendor,
    "credentials": _check_credential,
}


def _problems(document: Any, stored: _Stored, where: _Where = format_path) -> list[Problem]:
    """Every problem of the document: the schema's, then those that need the stored inventory
    or the whole file (duplicates, references, secret-looking text). ``where`` names the
    other places a problem refers to."""
    problems = schema_problems(document)
    if not isinstance(document, dict):
        return problems
    known: dict[str, dict[str, str]] = {}
    for section in SECTIONS:
        known[section] = {key: row.name for key, row in stored.rows[section].items()}
        for _, entry in _items(document.get(section)):
            if isinstance(entry.get("name"), str):
                known[section].setdefault(name_key(entry["name"]), entry["name"])
    checker = _Checker(known, where)
    for section in SECTIONS:
        entries = list(_items(document.get(section)))
        named = [(entry.get("name"), (section, index)) for index, entry in entries]
        for at, name, also in _given_twice(named, where):
            checker.add((*at, "name"), f"duplicate {_NOUN[section]} name {show(name)} ({also})")
        for index, entry in entries:
            path = (section, index)
            name = entry.get("name")
            if isinstance(name, str) and name != name.strip():
                checker.add((*path, "name"), "has spaces at its start or end")
            checker.free_text(entry, path, _free_text_keys(section))
            _CHECKS[section](checker, entry, path)
    return problems + checker.problems


# ---- planning and applying the changes ------------------------------------------------------


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


def _set_records(row: SystemData | VendorData, records: int | None) -> None:
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
        stored.id_of("vendors", name): value for name, value in change.refs["subprocessors"].items()
    }

    def make(subprocessor_id: int, value: tuple[str, frozenset[str]]) -> SubprocessorLink:
        return SubprocessorLink(
            vendor_id=vendor_id, subprocessor_id=subprocessor_id, purpose=value[0]
        )

    return _sync(session, stored.links.get(vendor_id, {}), wanted, make, _set_purpose)


def _sync_link_data(session: Session, vendor_change: _Change, stored: _Stored) -> list[Any]:
    """The data each subprocessor link of the vendor passes on (its links exist by now)."""
    vendor_id = stored.id_of("vendors", vendor_change.key)
    links = stored.links.get(vendor_id, {})
    new = []
    for name, (_, categories) in vendor_change.refs["subprocessors"].items():
        link = links[stored.id_of("vendors", name)]
        wanted = dict.fromkeys(stored.id_of("data_categories", c) for c in categories)

        def make(category_id: int, _: None, link_id: int = link.id) -> SubprocessorData:
            return SubprocessorData(link_id=link_id, data_category_id=category_id)

        new += _sync(session, stored.link_data.get(link.id, {}), wanted, make)
    return new


def _apply(session: Session, plan: Mapping[str, list[_Change]], stored: _Stored) -> None:
    changes = {s: [c for c in plan[s] if c.is_change] for s in SECTIONS}
    for section in SECTIONS:  # in order: each section refers to those before it
        _save_rows(session, section, changes[section], stored)
    new_rows = []
    for change in changes["systems"] + changes["vendors"]:
        if "data" in change.refs:
            new_rows += _sync_holdings(session, change, stored)
    for change in changes["credentials"]:
        if "stored_in" in change.refs:
            new_rows += _sync_copies(session, change, stored)
    # New links need their ids before the data they pass on can be saved.
    with_links = [c for c in changes["vendors"] if "subprocessors" in c.refs]
    new_links = [link for c in with_links for link in _sync_links(session, c, stored)]
    session.add_all(new_rows)
    session.flush()  # updates and deletions before the inserts below
    for link in _insert(session, SubprocessorLink, new_links):
        stored.links.setdefault(link.vendor_id, {})[link.subprocessor_id] = link
    session.add_all(row for c in with_links for row in _sync_link_data(session, c, stored))
    session.flush()


def _report(plan: Mapping[str, list[_Change]], *, dry_run: bool) -> ImportReport:
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
    report = _report(plan, dry_run=dry_run)
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


# ---- export ----------------------------------------------------------------------------------


def _scalars(section: str, row: Any) -> dict[str, Any]:
    return {key: f.to_file(getattr(row, key)) for key, f in _FIELDS[section].items()}


def _holdings_out(holdings: Mapping[str, int | None]) -> list[dict[str, Any]]:
    return [{"category": name, "records": holdings[name]} for name in sorted(holdings)]


def _export_category(row: DataCategory, stored: _Stored) -> dict[str, Any]:
    return {"name": row.name, **_scalars("data_categories", row)}


def _export_system(row: System, stored: _Stored) -> dict[str, Any]:
    refs = stored.refs("systems", row, stored.names)
    return {"name": row.name, **_scalars("systems", row), "data": _holdings_out(refs["data"])}


def _export_vendor(row: Vendor, stored: _Stored) -> dict[str, Any]:
    refs = stored.refs("vendors", row, stored.names)
    links = refs["subprocessors"]
    return {
        "name": row.name,
        **_scalars("vendors", row),
        "data": _holdings_out(refs["data"]),
        "subprocessors": [
            {"vendor": name, "purpose": links[name][0], "data": sorted(links[name][1])}
            for name in sorted(links)
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


# ---- CSV lists of vendors -------------------------------------------------------------------

VENDOR_CSV_COLUMNS = (
    "name",
    "legal_name",
    "website",
    "services",
    "status",
    "criticality",
    "substitutability",
    "business_owner",
    "contract_start",
    "contract_end",
    "next_review",
    "notes",
)
# Spreadsheet users write "High": choices are compared in lower case.
_CSV_CHOICES = {"status", "criticality", "substitutability"}


@dataclass(frozen=True)
class RowProblem:
    """A problem of a CSV file, by row as a spreadsheet numbers them (the header is row 1)."""

    row: int
    column: str | None
    message: str

    @property
    def where(self) -> str:
        return f"row {self.row}" + (f", column {self.column}" if self.column else "")

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class VendorCsvInvalid(ValidationFailed):
    """The CSV was refused; ``problems`` lists every problem with its row and column."""

    def __init__(self, problems: Iterable[RowProblem]):
        self.problems = tuple(problems)
        errors: dict[str, list[str]] = {}
        for problem in self.problems:
            errors.setdefault(problem.where, []).append(problem.message)
        super().__init__(errors)


def _csv_header(header: list[str]) -> tuple[list[str], list[RowProblem]]:
    columns = [cell.strip().lower() for cell in header]
    problems = []
    expected = ", ".join(VENDOR_CSV_COLUMNS)
    for column in columns:
        if column not in VENDOR_CSV_COLUMNS:
            problems.append(RowProblem(1, column, f"unknown column; the columns are {expected}"))
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(RowProblem(1, column, "appears twice in the header"))
    if "name" not in columns:
        problems.append(RowProblem(1, None, "the header has no 'name' column"))
    return columns, problems


@dataclass
class _VendorCsv:
    """The vendors of a CSV as inventory entries, the row of each, and the problems of the
    file's shape. An empty cell is left out of its entry: the stored value stays."""

    columns: list[str] = field(default_factory=list)
    entries: list[dict[str, str]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, problem: Problem) -> RowProblem:
        """A problem of the inventory built from the CSV; its paths are (vendors, index, column)."""
        index = problem.path[1] if len(problem.path) > 1 else None
        column = problem.path[2] if len(problem.path) > 2 else None
        row = self.rows[index] if isinstance(index, int) else 1
        return RowProblem(row, None if column is None else str(column), problem.message)

    def where(self, path: JsonPath) -> str:
        """Another place a problem refers to: a vendor's row, as the spreadsheet numbers it."""
        index = path[1] if len(path) > 1 else None
        return f"row {self.rows[index]}" if isinstance(index, int) else format_path(path)

    def order(self, problem: RowProblem) -> tuple[int, int]:
        """Row by row, and left to right as the spreadsheet shows them."""
        column = self.columns.index(problem.column) if problem.column in self.columns else -1
        return problem.row, column


def _csv_entries(text: str) -> _VendorCsv:
    parsed = _VendorCsv()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))  # Excel writes a BOM
    try:
        header = next(reader, None)
        if not header:
            expected = ", ".join(VENDOR_CSV_COLUMNS)
            message = f"empty: the first row names the columns ({expected})"
            parsed.problems.append(RowProblem(1, None, message))
            return parsed
        parsed.columns, parsed.problems = _csv_header(header)
        if parsed.problems:
            return parsed  # the rows cannot be read without their columns
        for row, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                _csv_row(parsed, row, cells)
    except csv.Error as exc:
        parsed.problems.append(RowProblem(reader.line_num, None, f"not valid CSV: {exc}"))
    return parsed


def _csv_row(parsed: _VendorCsv, row: int, cells: list[str]) -> None:
    if len(cells) > len(parsed.columns):
        parsed.problems.append(RowProblem(row, None, "more cells than columns in the header"))
    entry = {}
    for column, cell in zip(parsed.columns, cells, strict=False):
        value = cell.strip()
        if value:
            entry[column] = value.lower() if column in _CSV_CHOICES else value
    parsed.entries.append(entry)
    parsed.rows.append(row)


def import_vendor_csv(
    session: Session, text: str, *, actor: Actor, dry_run: bool = False
) -> ImportReport:
    """Upsert the vendors of a CSV list (columns: :data:`VENDOR_CSV_COLUMNS`, ``name``
    required, in any order) by name, all or nothing: :class:`VendorCsvInvalid` carries every
    problem by row and column, and nothing is saved."""
    parsed = _csv_entries(text)
    document = {"version": FORMAT_VERSION, "vendors": parsed.entries}
    stored = _Stored.load(session)
    found = _problems(document, stored, parsed.where)
    problems = parsed.problems + [parsed.problem(p) for p in found]
    if problems:
        raise VendorCsvInvalid(sorted(problems, key=parsed.order))
    return _import_checked(
        session, document, stored, actor=actor, dry_run=dry_run, source="vendor CSV"
    )
