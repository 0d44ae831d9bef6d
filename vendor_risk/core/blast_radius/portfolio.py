"""Every vendor at once, counts only: how far each vendor's breach alone reaches, and how many
vendors reach each system, by bitset closures over the graph in time close to linear in the
inventory (the portfolio's views and the exposure score).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import NamedTuple

from .barriers import _Clock
from .entities import Holding
from .inventory import Inventory, _stopped
from .moments import _utc


class ReachCounts(NamedTuple):
    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int


def _strongly_connected(successors: Mapping[int, Iterable[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative (lateral chains can be longer than the recursion limit),
    over the nodes that have successors and those they lead to.

    Components come out sinks first: a component's successors are always finished before it.
    """
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []

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
    successors: Mapping[int, Iterable[int]], own: Mapping[int, int]
) -> dict[int, int]:
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


def _lateral_edges(inventory: Inventory, stopped: AbstractSet[int]) -> dict[int, set[int]]:
    """System -> the systems that the credentials stored in it open, when the credentials in
    ``stopped`` open nothing."""
    credentials = inventory.credentials
    successors: dict[int, set[int]] = {}
    for system_id, stored in inventory.credentials_stored_in.items():
        opened = {credentials[cid].system_id for cid in stored if cid not in stopped}
        if opened:
            successors[system_id] = opened
    return successors


def _closures(
    inventory: Inventory,
    stopped: AbstractSet[int],
    system_bit: Mapping[int, int],
    category_bits: Mapping[int, int],
) -> tuple[dict[int, int], dict[int, int]]:
    """For each system, the systems and data categories reachable from it, as bitsets (ints),
    when the credentials in ``stopped`` open nothing."""
    successors = _lateral_edges(inventory, stopped)
    return _closure_bits(successors, system_bit), _closure_bits(successors, category_bits)


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
    clock = _Clock(_utc(as_of), _utc(since))
    stopped = _stopped(inventory, clock)
    system_bit = {system_id: 1 << n for n, system_id in enumerate(inventory.systems)}
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
    despite_systems, despite_categories = _closures(inventory, stopped, system_bit, category_bits)
    fail_systems, _ = _closures(inventory, frozenset(), system_bit, category_bits)

    figures = {}
    for vendor in inventory.vendors.values():
        despite = if_fail = 0
        categories = _holding_bits(vendor.holdings, category_bit)
        for cid in inventory.credentials_held_by.get(vendor.id, ()):
            system_id = inventory.credentials[cid].system_id
            if_fail |= fail_systems[system_id]
            if cid not in stopped:
                despite |= despite_systems[system_id]
                categories |= despite_categories[system_id]
        figures[vendor.id] = VendorFigures(
            ReachCounts(despite.bit_count(), if_fail.bit_count(), categories.bit_count()),
            _highest_level(categories, levels),
        )
    return figures


class Concentration(NamedTuple):
    vendors_despite_controls: int
    vendors_if_controls_fail: int


def _vendors_reaching(inventory: Inventory, stopped: AbstractSet[int]) -> dict[int, int]:
    """For each system, the bitset of vendors whose breach alone reaches it: the vendors that
    enter a system from which it can be reached, i.e. the closure over the reversed graph."""
    vendor_bit = {vendor_id: 1 << n for n, vendor_id in enumerate(inventory.vendors)}
    entered_by: dict[int, int] = {}
    for vendor_id, held in inventory.credentials_held_by.items():
        bit = vendor_bit[vendor_id]
        for cid in held:
            if cid not in stopped:
                system_id = inventory.credentials[cid].system_id
                entered_by[system_id] = entered_by.get(system_id, 0) | bit
    reversed_edges: dict[int, set[int]] = {}
    for source, targets in _lateral_edges(inventory, stopped).items():
        for target in targets:
            reversed_edges.setdefault(target, set()).add(source)
    return _closure_bits(reversed_edges, entered_by)


def concentration(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, Concentration]:
    """For every system, how many vendors' breach (each alone) reaches it, despite controls and
    if controls fail: the systems where the portfolio's risk concentrates."""
    clock = _Clock(_utc(as_of), _utc(since))
    despite = _vendors_reaching(inventory, _stopped(inventory, clock))
    if_fail = _vendors_reaching(inventory, frozenset())
    return {
        system_id: Concentration(
            despite.get(system_id, 0).bit_count(), if_fail.get(system_id, 0).bit_count()
        )
        for system_id in inventory.systems
    }
