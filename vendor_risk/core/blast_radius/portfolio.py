"""Every vendor at once, counts only: how far each vendor's breach alone reaches, and how many
vendors reach each system, by bitset closures over the graph in time close to linear in the
inventory (the portfolio's views and the exposure score).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, NamedTuple

from .barriers import _Clock
from .entities import Holding
from .inventory import Inventory, _stopped
from .moments import _utc


class ReachCounts(NamedTuple):
    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int


def _strongly_connected(successors: Mapping[Any, Iterable[Any]]) -> list[list[Any]]:
    """Tarjan's algorithm, iterative (lateral chains can be longer than the recursion limit),
    over the nodes that have successors and those they lead to.

    Components come out sinks first: a component's successors are always finished before it.
    """
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    on_stack: set[Any] = set()
    stack: list[Any] = []
    components: list[list[Any]] = []

    def visit(node: int) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in successors:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, pending = work[-1]
            for succ in pending:
                if succ not in index:
                    visit(succ)
                    work.append((succ, iter(successors.get(succ, ()))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    components.append(component)
    return components


def _closure_bits(
    successors: Mapping[Any, Iterable[Any]], own: Mapping[Any, int]
) -> dict[Any, int]:
    """For each node, the OR of ``own`` over every node reachable from it (itself included).

    Every node of a strongly connected component reaches the same set, so one bitset per
    component, computed sinks first, serves them all. A node without successors keeps its own
    bits: most nodes, usually.
    """
    closed = dict(own)
    for component in _strongly_connected(successors):
        bits = 0
        for node in component:
            bits |= own.get(node, 0)
            for succ in successors.get(node, ()):
                # Finished (an earlier component), or in this one: either way, a subset.
                bits |= closed.get(succ, 0)
        for node in component:
            closed[node] = bits
    return closed


# The nodes of the closures: a system in plain state is ``2 * id``, an identity provider
# reached with a session that signs in ``2 * id + 1`` (it reaches all the plain state does, plus
# the systems trusting it); ("z", zone) is a foothold in a zone, ("w", zone) a connection into
# one (the if-controls-fail view: any system of the zone).
Node = int | tuple[str, int]


def _state(inventory: Inventory, system_id: int, signs_in: bool) -> int:
    return 2 * system_id + (1 if signs_in else 0)


def _successors(
    inventory: Inventory, stopped: AbstractSet[int], despite: bool
) -> dict[Node, set[Node]]:
    """Node -> the nodes one hop further, with every edge :func:`compute` follows after the
    breached vendor: stored credentials (those in ``stopped`` open nothing), federated
    sign-ins, network connections; ``despite`` drops the edges a control stops."""
    credentials, systems = inventory.credentials, inventory.systems
    successors: dict[Node, set[Node]] = {}

    def add(node: Node, succ: Node) -> None:
        successors.setdefault(node, set()).add(succ)

    for system_id, stored in inventory.credentials_stored_in.items():
        for cid in stored:
            if cid not in stopped:
                cred = credentials[cid]
                signs_in = inventory.signs_in(cred.system_id, cred.privilege, cred.kind)
                add(2 * system_id, _state(inventory, cred.system_id, signs_in))
    for idp_id, federations in inventory.federations_by_idp.items():
        add(2 * idp_id + 1, 2 * idp_id)
        for fed in federations:
            if not (despite and fed.mfa_enforced):
                signs_in = inventory.signs_in(fed.system_id, fed.privilege)
                add(2 * idp_id + 1, _state(inventory, fed.system_id, signs_in))
    if inventory.zones:
        for system in systems.values():
            for zone_id in system.zone_ids:
                add(2 * system.id, ("z", zone_id))
        for zone in inventory.zones.values():
            if not despite:
                for target_zone in dict.fromkeys((zone.id, *zone.reaches)):
                    add(("z", zone.id), ("w", target_zone))
                continue
            for _, target in inventory.zone_targets(zone.id):
                if zone.id in systems[target].accepts_unauthenticated_from:
                    add(("z", zone.id), 2 * target)
        if not despite:
            for zone_id, members in inventory.zone_members.items():
                for system_id in members:
                    add(("w", zone_id), 2 * system_id)
    return successors


def _entries(
    inventory: Inventory, vendor_id: int, stopped: AbstractSet[int], despite: bool
) -> list[int]:
    """The nodes a breach of the vendor reaches first: the systems its usable credentials
    open, the systems it operates, the systems running its software (despite the controls:
    only where updates apply automatically)."""
    credentials, held = inventory.credentials, inventory.credentials_held_by.get(vendor_id, ())
    if inventory.federations_by_idp:
        found = [
            _state(
                inventory,
                credentials[cid].system_id,
                inventory.signs_in(
                    credentials[cid].system_id, credentials[cid].privilege, credentials[cid].kind
                ),
            )
            for cid in held
            if cid not in stopped
        ]
    else:  # no identity provider: every system in its plain state, the usual case made quick
        found = [2 * credentials[cid].system_id for cid in held if cid not in stopped]
    for system_id in inventory.systems_operated_by.get(vendor_id, ()):
        found.append(_state(inventory, system_id, inventory.signs_in(system_id, "admin")))
    for supply in inventory.software_by_vendor.get(vendor_id, ()):
        if not despite or supply.automatic_updates:
            signs_in = inventory.signs_in(supply.system_id, supply.privilege)
            found.append(_state(inventory, supply.system_id, signs_in))
    return found


def _node_bits(inventory: Inventory, bits: Mapping[int, int]) -> dict[Node, int]:
    """Per-system bits, for both states of each system."""
    nodes: dict[Node, int] = {}
    for system_id, value in bits.items():
        nodes[2 * system_id] = value
        if system_id in inventory.federations_by_idp:
            nodes[2 * system_id + 1] = value
    return nodes


def _closures(
    inventory: Inventory,
    stopped: AbstractSet[int],
    despite: bool,
    system_bit: Mapping[int, int],
    category_bits: Mapping[int, int],
) -> tuple[dict[Node, int], dict[Node, int]]:
    """For each node, the systems and data categories reachable from it, as bitsets (ints),
    when the credentials in ``stopped`` open nothing."""
    successors = _successors(inventory, stopped, despite)
    return (
        _closure_bits(successors, _node_bits(inventory, system_bit)),
        _closure_bits(successors, _node_bits(inventory, category_bits)),
    )


def _holding_bits(holdings: Iterable[Holding], category_bit: Mapping[int, int]) -> int:
    bits = 0
    for holding in holdings:
        bits |= category_bit[holding.category_id]
    return bits


def reach_counts_for_all_vendors(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, ReachCounts]:
    """For every vendor, how many systems and data categories its breach alone reaches.

    The same counts as :func:`compute` for each vendor, in time close to linear in the inventory.
    """
    figures = reach_figures_for_all_vendors(inventory, as_of=as_of, since=since)
    return {vendor_id: figure.counts for vendor_id, figure in figures.items()}


class VendorFigures(NamedTuple):
    counts: ReachCounts
    # The highest sensitivity (0: none) among the data categories reached despite controls.
    max_sensitivity: int


def _highest_level(categories: int, levels: Sequence[tuple[int, int]]) -> int:
    """The first level, in ``(level, bits)`` pairs from the highest down, with a bit set."""
    return next((level for level, bits in levels if categories & bits), 0)


def reach_figures_for_all_vendors(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, VendorFigures]:
    """:func:`reach_counts_for_all_vendors`, with the most sensitive data each vendor's breach
    reaches despite controls (what exposure weighs)."""
    reach = reach_for_all_vendors(inventory, as_of=as_of, since=since)
    return {vendor_id: found.figures for vendor_id, found in reach.items()}


class VendorReachSets(NamedTuple):
    figures: VendorFigures
    # The systems reached, as bitsets indexed by system id (bit ``id`` set: reached), despite
    # the controls and if they fail: what the portfolio stores to find, after a change, the
    # vendors whose reach can change, and to count concentration.
    systems_despite_controls: int
    systems_if_controls_fail: int


def reach_for_all_vendors(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, VendorReachSets]:
    """For every vendor of ``inventory``, its figures and the systems it reaches.

    Each vendor's result depends only on its own holdings, the credentials it holds, the
    systems it operates, its software, and the rest of the graph from the systems on (stored
    credentials, federations, zones): an inventory holding every system, every stored
    credential and those vendors' own rows gives them the same result as the whole inventory,
    so the portfolio can be computed in chunks of vendors, or for a few vendors after a change.
    """
    clock = _Clock(_utc(as_of), _utc(since))
    stopped = _stopped(inventory, clock)
    system_bit = {system_id: 1 << system_id for system_id in inventory.systems}
    category_bit = {category_id: 1 << n for n, category_id in enumerate(inventory.categories)}
    category_bits = {
        system.id: _holding_bits(system.holdings, category_bit)
        for system in inventory.systems.values()
    }
    by_level: dict[int, int] = {}
    for category in inventory.categories.values():
        by_level[category.sensitivity] = (
            by_level.get(category.sensitivity, 0) | category_bit[category.id]
        )
    levels = sorted(by_level.items(), reverse=True)
    despite_systems, despite_categories = _closures(
        inventory, stopped, True, system_bit, category_bits
    )
    fail_systems, _ = _closures(inventory, frozenset(), False, system_bit, category_bits)

    found = {}
    for vendor in inventory.vendors.values():
        despite = if_fail = 0
        categories = _holding_bits(vendor.holdings, category_bit)
        for node in _entries(inventory, vendor.id, frozenset(), False):
            if_fail |= fail_systems[node]
        for node in _entries(inventory, vendor.id, stopped, True):
            despite |= despite_systems[node]
            categories |= despite_categories[node]
        figures = VendorFigures(
            ReachCounts(despite.bit_count(), if_fail.bit_count(), categories.bit_count()),
            _highest_level(categories, levels),
        )
        found[vendor.id] = VendorReachSets(figures, despite, if_fail)
    return found


class Concentration(NamedTuple):
    vendors_despite_controls: int
    vendors_if_controls_fail: int


def _vendors_reaching(
    inventory: Inventory, stopped: AbstractSet[int], despite: bool
) -> dict[Node, int]:
    """For each node, the bitset of vendors whose breach alone reaches it: the vendors that
    enter a node from which it can be reached, i.e. the closure over the reversed graph."""
    vendor_bit = {vendor_id: 1 << n for n, vendor_id in enumerate(inventory.vendors)}
    entered_by: dict[Node, int] = {}
    for vendor_id, bit in vendor_bit.items():
        for node in _entries(inventory, vendor_id, stopped, despite):
            entered_by[node] = entered_by.get(node, 0) | bit
    reversed_edges: dict[Node, set[Node]] = {}
    for source, targets in _successors(inventory, stopped, despite).items():
        for target in targets:
            reversed_edges.setdefault(target, set()).add(source)
    return _closure_bits(reversed_edges, entered_by)


def concentration(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, Concentration]:
    """For every system, how many vendors' breach (each alone) reaches it, despite controls and
    if controls fail: the systems where the portfolio's risk concentrates."""
    clock = _Clock(_utc(as_of), _utc(since))
    despite = _vendors_reaching(inventory, _stopped(inventory, clock), True)
    if_fail = _vendors_reaching(inventory, frozenset(), False)

    def count(reaching: Mapping[Node, int], system_id: int) -> int:
        return (reaching.get(2 * system_id, 0) | reaching.get(2 * system_id + 1, 0)).bit_count()

    return {
        system_id: Concentration(count(despite, system_id), count(if_fail, system_id))
        for system_id in inventory.systems
    }


def fourth_party_concentration(inventory: Inventory) -> dict[tuple[str, int], int]:
    """For every subprocessor (``("vendor", id)``: one of our vendors; ``("fourth_party",
    id)``: a named fourth party), how many of our vendors rely on it."""
    relying: dict[tuple[str, int], set[int]] = {}
    for link in inventory.links:
        key = (
            ("vendor", link.subprocessor_id)
            if link.subprocessor_id is not None
            else ("fourth_party", link.fourth_party_id or 0)
        )
        relying.setdefault(key, set()).add(link.vendor_id)
    return {key: len(vendors) for key, vendors in sorted(relying.items())}
