"""The checks of a document: every problem (schema, duplicate names, unknown references,
secret-looking text, dates) found before anything changes, each with its path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

from ....core import email_domains
from ....core.inventory_file import (
    JsonPath,
    Problem,
    format_path,
    parse_date,
    schema_problems,
    show,
)
from ....core.names import name_key
from ....core.secret_detection import secret_problem
from ... import ValidationFailed
from .sections import (
    _FIELDS,
    _NOUN,
    SECTIONS,
)
from .stored import _Stored

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


def _check_zone(checker: _Checker, entry: dict, path: JsonPath) -> None:
    checker.references(entry.get("reaches"), (*path, "reaches"), "network_zones")
    for index, zone in enumerate(_list(entry.get("reaches"))):
        if _same_name(zone, entry.get("name")):
            checker.add((*path, "reaches", index), "a zone cannot reach itself")


def _check_system(checker: _Checker, entry: dict, path: JsonPath) -> None:
    checker.holdings(entry.get("data"), (*path, "data"))
    checker.reference(entry.get("operated_by"), (*path, "operated_by"), "vendors")
    for key in ("zones", "accepts_unauthenticated_from"):
        checker.references(entry.get(key), (*path, key), "network_zones")
    named = []
    for index, federation in _items(entry.get("sign_in_via")):
        here = (*path, "sign_in_via", index, "identity_provider")
        idp = federation.get("identity_provider")
        checker.reference(idp, here, "systems")
        if _same_name(idp, entry.get("name")):
            checker.add(here, "a system cannot sign in via itself")
        named.append((idp, here))
    checker.once(named)
    software: dict[tuple[str, str], JsonPath] = {}
    for index, supply in _items(entry.get("runs_software")):
        here = (*path, "runs_software", index)
        vendor = supply.get("vendor")
        checker.reference(vendor, (*here, "vendor"), "vendors")
        checker.free_text(supply, here, ["software"])
        if isinstance(vendor, str):
            key = (name_key(vendor), str(supply.get("software") or ""))
            if key in software:
                checker.add(
                    here,
                    f"software {show(key[1])} of {show(vendor)} listed twice "
                    f"(also {checker.where(software[key])})",
                )
            software.setdefault(key, here)


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
    named: dict[str, list[tuple[Any, JsonPath]]] = {"vendor": [], "fourth_party": []}
    for index, link in _items(entry.get("subprocessors")):
        here = (*path, "subprocessors", index)
        # The schema refuses both or neither: check each given.
        given = [key for key in ("vendor", "fourth_party") if link.get(key) is not None]
        if "vendor" in given:
            subprocessor = link.get("vendor")
            checker.reference(subprocessor, (*here, "vendor"), "vendors")
            if _same_name(subprocessor, name):
                checker.add((*here, "vendor"), "a vendor cannot be its own subprocessor")
        for key in given:
            named[key].append((link.get(key), (*here, key)))
        if "fourth_party" in given:
            checker.reference(link.get("fourth_party"), (*here, "fourth_party"), "fourth_parties")
        checker.free_text(link, here, ["purpose"])
        passed = [
            (item, (*here, "data", i))
            if not isinstance(item, dict)
            else (item.get("category"), (*here, "data", i, "category"))
            for i, item in enumerate(_list(link.get("data")))
        ]
        for category, at in passed:
            checker.reference(category, at, "data_categories")
        checker.once(passed)
    for places in named.values():
        checker.once(places)


def _same_name(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and name_key(a) == name_key(b)


def _check_credential(checker: _Checker, entry: dict, path: JsonPath) -> None:
    checker.reference(entry.get("holder"), (*path, "holder"), "vendors")
    checker.reference(entry.get("opens"), (*path, "opens"), "systems")
    checker.references(entry.get("stored_in"), (*path, "stored_in"), "systems")


_CHECKS: Mapping[str, Callable[[_Checker, dict, JsonPath], None]] = {
    "data_categories": lambda checker, entry, path: None,
    "network_zones": _check_zone,
    "fourth_parties": lambda checker, entry, path: None,
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
