"""One breach, explained: the breadth-first walk from the breached vendors, what it reaches in
each view, the barriers that held, the credentials to rotate and the fourth parties exposed
(:func:`compute`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from ..collection import collection_paused
from .barriers import _Clock, rotation_done
from .entities import (
    CONNECTS,
    OPENS,
    OPERATES,
    PRIVILEGE_RANK,
    SUPPLIES,
    SYSTEM,
    TRUSTED_BY,
    VENDOR,
    Credential,
    Federation,
    FourthParty,
    SoftwareSupply,
    SubprocessorLink,
    System,
    Vendor,
)
from .inventory import Inventory, _despite_controls, _first_barrier, _if_controls_fail
from .moments import _utc
from .paths import DataSource, ReachedData, ReachedSystem, Step, ZoneHop, _sum_known
from .results import (
    BarrierHeld,
    BlastRadius,
    CredentialToRotate,
    FourthPartyExposure,
    LinkHeld,
    PassedOn,
    Reach,
)

_Origin = tuple[str, int, bool]  # (VENDOR, id, False) or (SYSTEM, id, in the sign-in state)


class _Arrival(NamedTuple):  # a tuple: one is made per system reached, on the hot path
    """How the walk first came to a system (in one state): the edge, the credential for
    ``opens``, the record of any other edge, and where from (for ``opens``: the credential's
    own origin is in ``_Walk.credential_source``)."""

    edge: str
    via: int | None
    source: _Origin | None  # None for ``opens``
    link: Federation | SoftwareSupply | ZoneHop | None = None


@dataclass(frozen=True, slots=True)
class _Walk:
    """Breadth-first parents: where the attacker first got each credential, and how they first
    came to each system, in each state (an identity provider reached with a session that signs
    in is a second state). Both dicts keep breadth-first order, so hops never decrease."""

    credential_source: Mapping[int, _Origin]
    arrivals: Mapping[tuple[int, bool], _Arrival]  # (system, signs in) -> first arrival
    # Privileges of every way in that needs no credential (those through a credential are
    # read off the credentials), and the edges a control stopped: (edge, origin, system,
    # barrier), in the order met.
    ways_in: Mapping[int, tuple[str, ...]]
    held: tuple[tuple[str, tuple[str, int], int, str], ...]

    @property
    def system_ids(self) -> Iterable[int]:
        return dict.fromkeys(system_id for system_id, _ in self.arrivals)


def _walk(
    inventory: Inventory,
    breached: Sequence[Vendor],
    opens: Callable[[Credential], bool],
    *,
    despite: bool,
) -> _Walk:
    source: dict[int, _Origin] = {}
    arrivals: dict[tuple[int, bool], _Arrival] = {}
    ways_in: defaultdict[int, list[str]] = defaultdict(list)
    held: list[tuple[str, tuple[str, int], int, str]] = []
    zones_done: set[int] = set()
    queue: deque[tuple[int, int, bool]] = deque()  # (0, credential, _) or (1, system, state)
    credentials, systems = inventory.credentials, inventory.systems

    def take(credential_ids: Iterable[int], origin: _Origin) -> None:
        for cid in credential_ids:
            if cid not in source:
                source[cid] = origin
                queue.append((0, cid, False))

    def arrive(system_id: int, session: bool, arrival: _Arrival, privilege: str | None) -> None:
        if privilege is not None:
            ways_in[system_id].append(privilege)
        # A session that signs in covers all that the system gives without one.
        if (system_id, session) in arrivals or (system_id, True) in arrivals:
            return
        arrivals[(system_id, session)] = arrival
        queue.append((1, system_id, session))

    # One queue, every edge one hop: breadth-first, so the first arrival recorded lies on a
    # shortest path; vendors in ascending id, and each one's credentials, then the systems it
    # operates, then those running its software, in ascending id.
    for vendor in breached:
        origin = (VENDOR, vendor.id, False)
        take(inventory.credentials_held_by.get(vendor.id, ()), origin)
        for system_id in inventory.systems_operated_by.get(vendor.id, ()):
            arrival = _Arrival(OPERATES, None, origin)
            arrive(system_id, inventory.signs_in(system_id, "admin"), arrival, "admin")
        for supply in inventory.software_by_vendor.get(vendor.id, ()):
            if despite and not supply.automatic_updates:
                held.append((SUPPLIES, (VENDOR, vendor.id), supply.system_id, "update_approval"))
                continue
            arrival = _Arrival(SUPPLIES, None, origin, supply)
            signs_in = inventory.signs_in(supply.system_id, supply.privilege)
            arrive(supply.system_id, signs_in, arrival, supply.privilege)
    idps = inventory.federations_by_idp
    while queue:
        what, node, session = queue.popleft()
        if what == 0:  # inlined arrive(): this runs for every credential obtained
            cred = credentials[node]
            system_id = cred.system_id
            signs_in = bool(idps) and inventory.signs_in(system_id, cred.privilege, cred.kind)
            if (system_id, True) in arrivals or (system_id, signs_in) in arrivals:
                continue
            if opens(cred):
                arrivals[(system_id, signs_in)] = _Arrival(OPENS, node, None)
                queue.append((1, system_id, signs_in))
            continue
        origin = (SYSTEM, node, session)
        take(inventory.credentials_stored_in.get(node, ()), origin)
        if session:
            for fed in inventory.federations_by_idp.get(node, ()):
                if despite and fed.mfa_enforced:
                    held.append((TRUSTED_BY, (SYSTEM, node), fed.system_id, "mfa"))
                    continue
                signs_in = inventory.signs_in(fed.system_id, fed.privilege)
                arrival = _Arrival(TRUSTED_BY, None, origin, fed)
                arrive(fed.system_id, signs_in, arrival, fed.privilege)
        # Every system of a zone reaches the same targets: the first one reached (the nearest)
        # connects to them all, and the others have nothing shorter to add.
        for zone_id in systems[node].zone_ids:
            if zone_id in zones_done:
                continue
            zones_done.add(zone_id)
            for target_zone, target in inventory.zone_targets(zone_id):
                if target == node:
                    continue
                unauthenticated = zone_id in systems[target].accepts_unauthenticated_from
                if despite and not unauthenticated:
                    held.append((CONNECTS, (SYSTEM, node), target, "authentication"))
                    continue
                hop = ZoneHop(
                    inventory.zones[zone_id], inventory.zones[target_zone], unauthenticated
                )
                arrive(target, False, _Arrival(CONNECTS, None, origin, hop), "read")
    return _Walk(
        MappingProxyType(source),
        MappingProxyType(arrivals),
        MappingProxyType({key: tuple(value) for key, value in ways_in.items()}),
        tuple(held),
    )


def _reached_systems(
    inventory: Inventory, walk: _Walk, opens: Callable[[Credential], bool]
) -> tuple[ReachedSystem, ...]:
    openers: defaultdict[int, list[Credential]] = defaultdict(list)
    for cid in sorted(walk.credential_source):
        cred = inventory.credentials[cid]
        if opens(cred):  # then the walk opened its system too
            openers[cred.system_id].append(cred)
    nodes: dict[tuple[int, bool], ReachedSystem] = {}
    listed: dict[int, ReachedSystem] = {}
    # Breadth-first order: the system the attacker came from is built before the systems it
    # leads to. Each node points at its parent: constant size, whatever the hops.
    for (system_id, session), arrival in walk.arrivals.items():
        via = None if arrival.via is None else inventory.credentials[arrival.via]
        origin = arrival.source if arrival.source else walk.credential_source[arrival.via or 0]
        origin_kind, origin_id, origin_session = origin
        steps = 1 if via is None else 2
        if origin_kind == VENDOR:
            vendor = inventory.vendors[origin_id]
            source, hops, parent, entry = Step(VENDOR, vendor.id, vendor.name), steps, None, None
        else:
            parent = nodes[(origin_id, origin_session)]
            source = Step(SYSTEM, origin_id, parent.system.name)
            hops, entry = parent.hops + steps, parent.entry or parent
        creds = openers[system_id]
        ways = walk.ways_in.get(system_id, ())
        privileges = (
            [c.privilege for c in creds] + list(ways) if ways else [c.privilege for c in creds]
        )
        node = ReachedSystem(
            system=inventory.systems[system_id],
            privilege=max(privileges, key=PRIVILEGE_RANK.__getitem__),
            credentials=tuple(creds),
            hops=hops,
            via=via,
            source=source,
            edge=arrival.edge,
            link=arrival.link,
            parent=parent,
            entry=entry,
        )
        nodes[(system_id, session)] = node
        if system_id in listed:  # an identity provider reached later with a session
            object.__setattr__(listed[system_id], "sign_in", node)
        else:
            listed[system_id] = node
    return tuple(sorted(listed.values(), key=lambda r: (r.hops, r.system.name, r.system.id)))


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


def _links_held(inventory: Inventory, walk: _Walk) -> tuple[LinkHeld, ...]:
    """The edges a control stopped; a network connection only to a system not reached
    despite the controls anyway, once (the first foothold met)."""
    reached = set(walk.system_ids)
    seen: set[int] = set()
    held = []
    for edge, (kind, node_id), system_id, barrier in walk.held:
        if edge == CONNECTS:
            if system_id in reached or system_id in seen:
                continue
            seen.add(system_id)
        name = (inventory.vendors if kind == VENDOR else inventory.systems)[node_id].name
        held.append(
            LinkHeld(edge, Step(kind, node_id, name), inventory.systems[system_id], barrier)
        )
    return tuple(sorted(held, key=lambda h: (h.system.name, h.system.id, h.edge, h.source.label)))


def _by_name(systems: Sequence[System]) -> tuple[System, ...]:
    # Most credentials are stored in one system or none: nothing to sort.
    if len(systems) < 2:
        return tuple(systems)
    return tuple(sorted(systems, key=lambda s: (s.name, s.id)))


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
    for system_id in walk.system_ids:
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
                stored_in=_by_name(stores.get(cid, ())),
                # Neither revoked nor rotated: the first barrier that holds, if any, is one
                # that stops its use now (expired, MFA, an IP restriction).
                stopped_by=_first_barrier(inventory, clock, cred),
            )
        )
    return tuple(sorted(items, key=lambda i: (i.system.name, i.credential.name, i.credential.id)))


def _passed_on(inventory: Inventory, link: SubprocessorLink) -> tuple[PassedOn, ...]:
    """Each category the link passes on, with its records: what the link states it passes,
    or else (no count stated) all that we send the relying vendor of it."""
    sent: defaultdict[int, list[int | None]] = defaultdict(list)
    for holding in inventory.vendors[link.vendor_id].holdings:
        sent[holding.category_id].append(holding.records)
    stated: defaultdict[int, list[int | None]] = defaultdict(list)
    for holding in link.passed:
        stated[holding.category_id].append(holding.records)
    return tuple(
        PassedOn(
            inventory.categories[cid],
            _sum_known(stated[cid])
            if _sum_known(stated.get(cid, ())) is not None
            else _sum_known(sent.get(cid, ())),
        )
        for cid in link.passed_category_ids
    )


def _fourth_party_exposure(
    inventory: Inventory, breached: Sequence[Vendor], parties: Sequence[FourthParty]
) -> tuple[FourthPartyExposure, ...]:
    exposures = []
    breached_subprocessors = [
        *((vendor, inventory.links_by_subprocessor.get(vendor.id, ())) for vendor in breached),
        *((party, inventory.links_by_fourth_party.get(party.id, ())) for party in parties),
    ]
    for subprocessor, found in breached_subprocessors:
        links = sorted(
            found, key=lambda link: (inventory.vendors[link.vendor_id].name, link.vendor_id)
        )
        for link in links:
            relying = inventory.vendors[link.vendor_id]
            exposures.append(
                FourthPartyExposure(relying, subprocessor, _passed_on(inventory, link))
            )
    return tuple(exposures)


def _breached(inventory: Inventory, vendor_ids: Iterable[int]) -> tuple[Vendor, ...]:
    ids = sorted(set(vendor_ids))
    for vendor_id in ids:
        if vendor_id not in inventory.vendors:
            raise ValueError(f"unknown breached vendor id {vendor_id}")
    return tuple(inventory.vendors[vendor_id] for vendor_id in ids)


def _breached_parties(inventory: Inventory, party_ids: Iterable[int]) -> tuple[FourthParty, ...]:
    ids = sorted(set(party_ids))
    for party_id in ids:
        if party_id not in inventory.fourth_parties:
            raise ValueError(f"unknown breached fourth party id {party_id}")
    return tuple(inventory.fourth_parties[party_id] for party_id in ids)


def compute(
    inventory: Inventory,
    breached_vendor_ids: Iterable[int],
    *,
    as_of: datetime,
    since: datetime | None = None,
    breached_fourth_party_ids: Iterable[int] = (),
) -> BlastRadius:
    """The blast radius of a breach of one or several vendors, as of a moment.

    ``since`` is when the breach began (incident mode): credentials rotated after it are stale
    in the attacker's hands. ``breached_fourth_party_ids``: named fourth parties breached too
    (they expose what our vendors pass on to them). Raises ValueError for an unknown id.

    Garbage collection is paused meanwhile (:func:`collection_paused`): a large breach builds
    tens of thousands of objects, none in a cycle, and each collection would walk every object
    alive, the whole inventory's included.
    """
    with collection_paused():
        return _compute(inventory, breached_vendor_ids, as_of, since, breached_fourth_party_ids)


def _compute(
    inventory: Inventory,
    breached_vendor_ids: Iterable[int],
    as_of: datetime,
    since: datetime | None,
    breached_fourth_party_ids: Iterable[int],
) -> BlastRadius:
    breached = _breached(inventory, breached_vendor_ids)
    parties = _breached_parties(inventory, breached_fourth_party_ids)
    clock = _Clock(_utc(as_of), _utc(since))
    despite_opens = _despite_controls(inventory, clock)
    despite = _walk(inventory, breached, despite_opens, despite=True)
    if_fail = _walk(inventory, breached, _if_controls_fail, despite=False)
    return BlastRadius(
        breached_vendors=breached,
        as_of=clock.as_of,
        since=clock.since,
        despite_controls=_reach(inventory, breached, despite, despite_opens),
        if_controls_fail=_reach(inventory, breached, if_fail, _if_controls_fail),
        barriers_held=_barriers_held(inventory, despite, clock, despite_opens),
        credentials_to_rotate=_credentials_to_rotate(inventory, breached, despite, clock),
        fourth_party_exposure=_fourth_party_exposure(inventory, breached, parties),
        links_held=_links_held(inventory, despite),
        breached_fourth_parties=parties,
    )
