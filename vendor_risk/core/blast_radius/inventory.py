"""The inventory: the whole graph, checked and indexed once (:meth:`Inventory.build`), and
which of its credentials the barriers stop at a given clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .barriers import _DATED_BARRIERS, _TIMELESS_BARRIERS, BARRIERS, _any_holds, _Clock
from .entities import (
    MFA_EXEMPT_KINDS,
    Credential,
    DataCategory,
    Federation,
    FourthParty,
    NetworkZone,
    SoftwareSupply,
    SubprocessorLink,
    System,
    Vendor,
)


def _by_id(items: Iterable[Any], what: str) -> Mapping[int, Any]:
    found: dict[int, Any] = {}
    for item in items:
        if item.id in found:
            raise ValueError(f"duplicate {what} id {item.id}")
        found[item.id] = item
    return MappingProxyType(found)


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


def _frozen_index(pairs: Iterable[tuple[int, Any]]) -> Mapping[int, tuple[Any, ...]]:
    index: defaultdict[int, list[Any]] = defaultdict(list)
    for key, value in pairs:
        index[key].append(value)
    return MappingProxyType({key: tuple(values) for key, values in index.items()})


# eq=False: two inventories are the same only if they are the same object; comparing or hashing
# tens of thousands of entries by value is never what a caller wants.
@dataclass(frozen=True, slots=True, eq=False)
class Inventory:
    """The whole graph plus the indexes every breach needs; build it once with :meth:`build`."""

    vendors: Mapping[int, Vendor]
    systems: Mapping[int, System]
    credentials: Mapping[int, Credential]
    categories: Mapping[int, DataCategory]
    links: tuple[SubprocessorLink, ...]
    credentials_held_by: Mapping[int, tuple[int, ...]]  # vendor id -> credential ids, ascending
    credentials_stored_in: Mapping[int, tuple[int, ...]]  # system id -> credential ids, ascending
    links_by_subprocessor: Mapping[int, tuple[SubprocessorLink, ...]]
    # Issue 14: the edges that need no credential, indexed the way the walk follows them.
    fourth_parties: Mapping[int, FourthParty] = field(default_factory=_empty)
    zones: Mapping[int, NetworkZone] = field(default_factory=_empty)
    federations: tuple[Federation, ...] = ()
    software: tuple[SoftwareSupply, ...] = ()
    links_by_fourth_party: Mapping[int, tuple[SubprocessorLink, ...]] = field(
        default_factory=_empty
    )
    systems_operated_by: Mapping[int, tuple[int, ...]] = field(
        default_factory=_empty
    )  # vendor -> systems
    software_by_vendor: Mapping[int, tuple[SoftwareSupply, ...]] = field(default_factory=_empty)
    federations_by_idp: Mapping[int, tuple[Federation, ...]] = field(default_factory=_empty)
    zone_members: Mapping[int, tuple[int, ...]] = field(default_factory=_empty)  # zone -> systems
    # Derived once, in __post_init__: which credentials a timeless barrier stops (true whatever
    # the date of the breach), and the others that carry a date a dated barrier reads.
    _stopped_for_good: frozenset[int] = field(init=False, repr=False)
    _dated: tuple[Credential, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        stopped: list[int] = []
        dated: list[Credential] = []
        systems = self.systems
        # One pass, each barrier called in a plain loop: this runs for every credential.
        for cred in self.credentials.values():
            system = systems[cred.system_id]
            for holds in _TIMELESS_BARRIERS:
                if holds(cred, system, None):
                    stopped.append(cred.id)
                    break
            else:
                # The dated barriers read these two dates only: without them, none holds.
                if cred.expires_at is not None or cred.last_rotated_at is not None:
                    dated.append(cred)
        object.__setattr__(self, "_stopped_for_good", frozenset(stopped))
        object.__setattr__(self, "_dated", tuple(dated))

    @classmethod
    def build(
        cls,
        *,
        vendors: Iterable[Vendor] = (),
        systems: Iterable[System] = (),
        credentials: Iterable[Credential] = (),
        categories: Iterable[DataCategory] = (),
        links: Iterable[SubprocessorLink] = (),
        fourth_parties: Iterable[FourthParty] = (),
        federations: Iterable[Federation] = (),
        software: Iterable[SoftwareSupply] = (),
        zones: Iterable[NetworkZone] = (),
    ) -> Inventory:
        """Index the graph; ValueError names the first duplicate id or dangling reference."""
        vendors_ = _by_id(vendors, "vendor")
        systems_ = _by_id(systems, "system")
        credentials_ = _by_id(sorted(credentials, key=lambda c: c.id), "credential")
        categories_ = _by_id(categories, "data category")
        links_ = tuple(links)
        _check_references(vendors_, systems_, credentials_, categories_, links_)
        fourth_parties_ = _by_id(fourth_parties, "fourth party")
        zones_ = _by_id(zones, "network zone")
        federations_ = tuple(
            sorted(federations, key=lambda f: (f.identity_provider_id, f.system_id))
        )
        software_ = tuple(sorted(software, key=lambda s: (s.vendor_id, s.system_id)))
        _check_new_references(
            vendors_, systems_, links_, fourth_parties_, federations_, software_, zones_
        )
        creds = credentials_.values()
        ordered_systems = sorted(systems_.values(), key=lambda s: s.id)
        return cls(
            vendors=vendors_,
            systems=systems_,
            credentials=credentials_,
            categories=categories_,
            links=links_,
            credentials_held_by=_frozen_index(
                (c.holder_vendor_id, c.id) for c in creds if c.holder_vendor_id is not None
            ),
            credentials_stored_in=_frozen_index(
                (system_id, c.id)
                for c in creds
                if c.stored_in
                for system_id in dict.fromkeys(c.stored_in)
            ),
            links_by_subprocessor=_frozen_index(
                (link.subprocessor_id, link) for link in links_ if link.subprocessor_id is not None
            ),
            fourth_parties=fourth_parties_,
            zones=zones_,
            federations=federations_,
            software=software_,
            links_by_fourth_party=_frozen_index(
                (link.fourth_party_id, link) for link in links_ if link.fourth_party_id is not None
            ),
            systems_operated_by=_frozen_index(
                (s.operator_vendor_id, s.id)
                for s in ordered_systems
                if s.operator_vendor_id is not None
            ),
            software_by_vendor=_frozen_index((s.vendor_id, s) for s in software_),
            federations_by_idp=_frozen_index((f.identity_provider_id, f) for f in federations_),
            zone_members=_frozen_index(
                (zone_id, s.id) for s in ordered_systems for zone_id in dict.fromkeys(s.zone_ids)
            ),
        )

    def zone_targets(self, zone_id: int) -> tuple[tuple[int, int], ...]:
        """(zone, system) pairs a foothold in ``zone_id`` can connect to: the systems of the
        zone itself, then of each zone it reaches, each system once, in that order."""
        found: dict[int, int] = {}
        zone = self.zones[zone_id]
        for target_zone in dict.fromkeys((zone_id, *zone.reaches)):
            for system_id in self.zone_members.get(target_zone, ()):
                found.setdefault(system_id, target_zone)
        return tuple((zone, system) for system, zone in found.items())

    def signs_in(self, system_id: int, privilege: str, kind: str = "") -> bool:
        """Whether arriving at ``system_id`` this way gives a session that signs in to the
        systems trusting it: admin at an identity provider, or a stolen session token."""
        return system_id in self.federations_by_idp and (
            privilege == "admin" or kind in MFA_EXEMPT_KINDS
        )


def _check_new_references(
    vendors: Mapping[int, Vendor],
    systems: Mapping[int, System],
    links: Sequence[SubprocessorLink],
    fourth_parties: Mapping[int, FourthParty],
    federations: Sequence[Federation],
    software: Sequence[SoftwareSupply],
    zones: Mapping[int, NetworkZone],
) -> None:
    """The references of issue 14's edges; ValueError names the first that dangles."""

    def require(table: Mapping[int, Any], key: int | None, where: str, what: str) -> None:
        if key is not None and key not in table:
            raise ValueError(f"{where}: unknown {what} {key}")

    for system in systems.values():
        where = f"system {system.name!r}"
        require(vendors, system.operator_vendor_id, where, "vendor")
        for zone_id in (*system.zone_ids, *system.accepts_unauthenticated_from):
            require(zones, zone_id, where, "network zone")
    for zone in zones.values():
        for zone_id in zone.reaches:
            require(zones, zone_id, f"network zone {zone.name!r}", "network zone")
    for link in links:
        where = f"subprocessor link of vendor {link.vendor_id}"
        require(fourth_parties, link.fourth_party_id, where, "fourth party")
    for fed in federations:
        where = f"federation {fed.identity_provider_id}->{fed.system_id}"
        require(systems, fed.identity_provider_id, where, "system")
        require(systems, fed.system_id, where, "system")
    for supply in software:
        where = f"software of vendor {supply.vendor_id} on system {supply.system_id}"
        require(vendors, supply.vendor_id, where, "vendor")
        require(systems, supply.system_id, where, "system")


def _check_references(
    vendors: Mapping[int, Vendor],
    systems: Mapping[int, System],
    credentials: Mapping[int, Credential],
    categories: Mapping[int, DataCategory],
    links: Sequence[SubprocessorLink],
) -> None:
    """A dangling id would silently shrink the blast radius, so refuse it and say where it is."""
    if _references_resolve(vendors, systems, credentials, categories, links):
        return  # the usual case, checked by sets; otherwise find the first culprit below

    def require(table: Mapping[int, Any], key: int | None, where: str, what: str) -> None:
        if key is not None and key not in table:
            raise ValueError(f"{where}: unknown {what} {key}")

    for owner in (*vendors.values(), *systems.values()):
        where = f"{type(owner).__name__.lower()} {owner.name!r}"
        for holding in owner.holdings:
            require(categories, holding.category_id, where, "data category")
    for cred in credentials.values():
        where = f"credential {cred.name!r}"
        require(systems, cred.system_id, where, "system")
        require(vendors, cred.holder_vendor_id, where, "vendor")
        for system_id in cred.stored_in:
            require(systems, system_id, where, "system")
    for link in links:
        where = f"subprocessor link {link.vendor_id}->{link.subprocessor_id}"
        require(vendors, link.vendor_id, where, "vendor")
        require(vendors, link.subprocessor_id, where, "vendor")
        for category_id in link.passed_category_ids:
            require(categories, category_id, where, "data category")


def _references_resolve(
    vendors: Mapping[int, Vendor],
    systems: Mapping[int, System],
    credentials: Mapping[int, Credential],
    categories: Mapping[int, DataCategory],
    links: Sequence[SubprocessorLink],
) -> bool:
    """Whether every id refers to something: set inclusions, quick on large inventories."""
    creds = credentials.values()
    owners = (*vendors.values(), *systems.values())
    return (
        categories.keys() >= {h.category_id for owner in owners for h in owner.holdings}
        and systems.keys() >= {c.system_id for c in creds}
        and systems.keys() >= {s for c in creds if c.stored_in for s in c.stored_in}
        and vendors.keys() >= {c.holder_vendor_id for c in creds} - {None}
        and vendors.keys()
        >= {v for link in links for v in (link.vendor_id, link.subprocessor_id)} - {None}
        and categories.keys() >= {cid for link in links for cid in link.passed_category_ids}
    )


# Which credentials the barriers stop, read off an inventory at the clock of a breach.


def _first_barrier(inventory: Inventory, clock: _Clock, cred: Credential) -> str | None:
    system = inventory.systems[cred.system_id]
    for name, holds in BARRIERS.items():
        if holds(cred, system, clock):
            return name
    return None


def _stopped(inventory: Inventory, clock: _Clock) -> AbstractSet[int]:
    """The ids of every credential that some barrier stops at this clock."""
    stopped = set(inventory._stopped_for_good)
    systems = inventory.systems
    for cred in inventory._dated:
        system = systems[cred.system_id]
        for holds in _DATED_BARRIERS:
            if holds(cred, system, clock):
                stopped.add(cred.id)
                break
    return stopped


def _despite_controls(inventory: Inventory, clock: _Clock) -> Callable[[Credential], bool]:
    stopped_for_good, systems = inventory._stopped_for_good, inventory.systems
    return lambda cred: (
        cred.id not in stopped_for_good
        and not _any_holds(_DATED_BARRIERS, cred, systems[cred.system_id], clock)
    )


def _if_controls_fail(cred: Credential) -> bool:
    return True
