"""One breach, explained: the breadth-first walk from the breached vendors, what it reaches in
each view, the barriers that held, the credentials to rotate and the fourth parties exposed
(:func:`compute`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from .barriers import _Clock, rotation_done
from .entities import PRIVILEGE_RANK, SYSTEM, VENDOR, Credential, System, Vendor
from .inventory import Inventory, _despite_controls, _first_barrier, _if_controls_fail
from .moments import _utc
from .results import (
    BarrierHeld,
    BlastRadius,
    CredentialToRotate,
    DataSource,
    FourthPartyExposure,
    PassedOn,
    Reach,
    ReachedData,
    ReachedSystem,
    Step,
    _sum_known,
)


@dataclass(frozen=True, slots=True)
class _Walk:
    """Breadth-first parents: where the attacker first got each credential, and which credential
    first opened each system. Both dicts keep breadth-first order, so hops never decrease."""

    credential_source: Mapping[int, tuple[str, int]]  # credential -> (VENDOR|SYSTEM, id)
    system_opener: Mapping[int, int]  # system -> credential


def _walk(
    inventory: Inventory, breached: Sequence[Vendor], opens: Callable[[Credential], bool]
) -> _Walk:
    source: dict[int, tuple[str, int]] = {}
    opener: dict[int, int] = {}

    def take(credential_ids: Iterable[int], origin: tuple[str, int]) -> list[int]:
        new = [cid for cid in credential_ids if cid not in source]
        source.update(dict.fromkeys(new, origin))
        return new

    # Layers alternate (credentials, then the systems they open), so each layer is one hop
    # further than the last and the first parent recorded lies on a shortest path.
    layer = [
        cid
        for vendor in breached
        for cid in take(inventory.credentials_held_by.get(vendor.id, ()), (VENDOR, vendor.id))
    ]
    while layer:
        opened = []
        for cid in layer:
            cred = inventory.credentials[cid]
            if cred.system_id not in opener and opens(cred):
                opener[cred.system_id] = cid
                opened.append(cred.system_id)
        layer = [
            cid
            for system_id in opened
            for cid in take(inventory.credentials_stored_in.get(system_id, ()), (SYSTEM, system_id))
        ]
    return _Walk(MappingProxyType(source), MappingProxyType(opener))


def _reached_systems(
    inventory: Inventory, walk: _Walk, opens: Callable[[Credential], bool]
) -> tuple[ReachedSystem, ...]:
    openers: defaultdict[int, list[Credential]] = defaultdict(list)
    for cid in sorted(walk.credential_source):
        cred = inventory.credentials[cid]
        if opens(cred):  # then the walk opened its system too
            openers[cred.system_id].append(cred)
    nodes: dict[int, ReachedSystem] = {}
    # Breadth-first order: the system a credential was taken from is built before the systems
    # that credential opens. Each node points at its parent: constant size, whatever the hops.
    for system_id, cid in walk.system_opener.items():
        via = inventory.credentials[cid]
        origin_kind, origin_id = walk.credential_source[cid]
        creds = openers[system_id]
        parent = nodes[origin_id] if origin_kind == SYSTEM else None
        if parent is None:
            vendor = inventory.vendors[origin_id]
            source, hops, entry = Step(VENDOR, vendor.id, vendor.name), 2, None
        else:
            source = Step(SYSTEM, origin_id, parent.system.name)
            hops, entry = parent.hops + 2, parent.entry or parent
        nodes[system_id] = ReachedSystem(
            system=inventory.systems[system_id],
            privilege=max((c.privilege for c in creds), key=PRIVILEGE_RANK.__getitem__),
            credentials=tuple(creds),
            hops=hops,
            via=via,
            source=source,
            parent=parent,
            entry=entry,
        )
    return tuple(sorted(nodes.values(), key=lambda r: (r.hops, r.system.name, r.system.id)))


def _reached_data(
    inventory: Inventory, breached: Sequence[Vendor], systems: Sequence[ReachedSystem]
) -> tuple[ReachedData, ...]:
    sources: defaultdict[int, list[DataSource]] = defaultdict(list)
    categories = inventory.categories
    # Held by a vendor directly is one hop, fewer than through any system: listed first.
    for vendor in breached:
        holder = Step(VENDOR, vendor.id, vendor.name)
        for holding in vendor.holdings:
            category = categories[holding.category_id]
            sources[category.id].append(DataSource(category, holder, holding.records))
    for reached in systems:
        holder = Step(SYSTEM, reached.system.id, reached.system.name)
        for holding in reached.system.holdings:
            category = categories[holding.category_id]
            sources[category.id].append(
                DataSource(category, holder, holding.records, system=reached)
            )
    data = (ReachedData(categories[cid], tuple(found)) for cid, found in sources.items())
    return tuple(
        sorted(data, key=lambda r: (-r.category.sensitivity, r.category.name, r.category.id))
    )


def _reach(
    inventory: Inventory,
    breached: Sequence[Vendor],
    walk: _Walk,
    opens: Callable[[Credential], bool],
) -> Reach:
    systems = _reached_systems(inventory, walk, opens)
    return Reach(
        systems=systems,
        data=_reached_data(inventory, breached, systems),
        credentials_obtained=tuple(sorted(walk.credential_source)),
    )


def _barriers_held(
    inventory: Inventory, walk: _Walk, clock: _Clock, opens: Callable[[Credential], bool]
) -> tuple[BarrierHeld, ...]:
    held = []
    for cid in walk.credential_source:
        cred = inventory.credentials[cid]
        if opens(cred):  # no barrier holds: the quick test, before naming the first that does
            continue
        barrier = _first_barrier(inventory, clock, cred)
        if barrier is not None:
            held.append(BarrierHeld(cred, inventory.systems[cred.system_id], barrier))
    return tuple(sorted(held, key=lambda b: (b.system.name, b.credential.name, b.credential.id)))


def _credentials_to_rotate(
    inventory: Inventory, breached: Sequence[Vendor], walk: _Walk, clock: _Clock
) -> tuple[CredentialToRotate, ...]:
    # Everything the attacker has (held by a breached vendor, or stored in a system reached
    # despite the controls), whether or not a barrier such as MFA stops it this time, except
    # what is done: revoked, or rotated after the breach began (a barrier that held instead).
    holders: dict[int, Vendor | None] = {}
    stores: defaultdict[int, list[System]] = defaultdict(list)
    for vendor in breached:
        holders.update(dict.fromkeys(inventory.credentials_held_by.get(vendor.id, ()), vendor))
    for system_id in walk.system_opener:
        for cid in inventory.credentials_stored_in.get(system_id, ()):
            holders.setdefault(cid, None)
            stores[cid].append(inventory.systems[system_id])
    items = []
    for cid, holder in holders.items():
        cred = inventory.credentials[cid]
        if rotation_done(cred.status, cred.last_rotated_at, clock.since):
            continue
        items.append(
            CredentialToRotate(
                credential=cred,
                system=inventory.systems[cred.system_id],
                held_by=holder,
                stored_in=tuple(sorted(stores[cid], key=lambda s: (s.name, s.id))),
                # Neither revoked nor rotated: the first barrier that holds, if any, is one
                # that stops its use now (expired, MFA, an IP restriction).
                stopped_by=_first_barrier(inventory, clock, cred),
            )
        )
    return tuple(sorted(items, key=lambda i: (i.system.name, i.credential.name, i.credential.id)))


def _fourth_party_exposure(
    inventory: Inventory, breached: Sequence[Vendor]
) -> tuple[FourthPartyExposure, ...]:
    exposures = []
    for vendor in breached:
        links = sorted(
            inventory.links_by_subprocessor.get(vendor.id, ()),
            key=lambda link: (inventory.vendors[link.vendor_id].name, link.vendor_id),
        )
        for link in links:
            relying = inventory.vendors[link.vendor_id]
            sent: defaultdict[int, list[int | None]] = defaultdict(list)
            for holding in relying.holdings:
                sent[holding.category_id].append(holding.records)
            passed_on = tuple(
                PassedOn(inventory.categories[cid], _sum_known(sent.get(cid, ())))
                for cid in dict.fromkeys(link.category_ids)
            )
            exposures.append(FourthPartyExposure(relying, vendor, passed_on))
    return tuple(exposures)


def _breached(inventory: Inventory, vendor_ids: Iterable[int]) -> tuple[Vendor, ...]:
    ids = sorted(set(vendor_ids))
    for vendor_id in ids:
        if vendor_id not in inventory.vendors:
            raise ValueError(f"unknown breached vendor id {vendor_id}")
    return tuple(inventory.vendors[vendor_id] for vendor_id in ids)


def compute(
    inventory: Inventory,
    breached_vendor_ids: Iterable[int],
    *,
    as_of: datetime,
    since: datetime | None = None,
) -> BlastRadius:
    """The blast radius of a breach of one or several vendors, as of a moment.

    ``since`` is when the breach began (incident mode): credentials rotated after it are stale
    in the attacker's hands. Raises ValueError for an unknown vendor id.
    """
    breached = _breached(inventory, breached_vendor_ids)
    clock = _Clock(_utc(as_of), _utc(since))
    despite_opens = _despite_controls(inventory, clock)
    despite = _walk(inventory, breached, despite_opens)
    if_fail = _walk(inventory, breached, _if_controls_fail)
    return BlastRadius(
        breached_vendors=breached,
        as_of=clock.as_of,
        since=clock.since,
        despite_controls=_reach(inventory, breached, despite, despite_opens),
        if_controls_fail=_reach(inventory, breached, if_fail, _if_controls_fail),
        barriers_held=_barriers_held(inventory, despite, clock, despite_opens),
        credentials_to_rotate=_credentials_to_rotate(inventory, breached, despite, clock),
        fourth_party_exposure=_fourth_party_exposure(inventory, breached),
    )
