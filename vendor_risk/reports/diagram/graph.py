"""What the diagram shows, before any drawing: the union of both views of the engine's result
as nodes, edges and table rows, in layers; which nodes are kept when they do not all fit, in
what order each layer lists them, and the description in words."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ...core.blast_radius.engine import (
    CATEGORY,
    CONNECTS,
    CREDENTIAL,
    HOLDS,
    OPERATES,
    PRIVILEGE_RANK,
    SUPPLIES,
    SYSTEM,
    TRUSTED_BY,
    VENDOR,
    BlastRadius,
    ReachedData,
    ReachedSystem,
)
from .. import charts

Node = tuple[str, int]  # (kind, id): the engine's Step kinds and ids

CROSSED, IF_FAIL, HELD = "crossed", "if_fail", "held"
OUTCOME_WORDS: Mapping[str, str] = MappingProxyType(
    {
        CROSSED: "reached despite the controls",
        IF_FAIL: "only if the controls fail",
        HELD: "held",
    }
)
# The engine's barriers in words (the table and the description); drawing.BARRIER_LABELS has
# them as the short label of the marker on a held edge.
BARRIER_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "revoked": "revoked",
        "expired": "expired",
        "rotated": "rotated after the breach began",
        "phishing_resistant_mfa": "phishing-resistant MFA",
        "mfa": "MFA",
        "ip_restricted": "IP restriction",
        # Edges that need no credential (single sign-on, vendor software, the network).
        "update_approval": "updates we approve",
        "authentication": "its own sign-in",
    }
)
# The edges that need no credential, as the diagram labels them and the table's "Via" says them.
LINK_WORDS: Mapping[str, str] = MappingProxyType(
    {
        TRUSTED_BY: "single sign-on",
        OPERATES: "operates it",
        SUPPLIES: "its software runs there",
        CONNECTS: "network",
    }
)
SENSITIVITY_TONES = ("low", "medium", "high", "critical")  # sensitivity 1 to 4

NODE_NAMES = {
    VENDOR: "vendor",
    CREDENTIAL: "credential",
    SYSTEM: "system",
    CATEGORY: "data category",
}


@dataclass(frozen=True, slots=True)
class _Edge:
    source: Node
    target: Node
    status: str  # CROSSED, IF_FAIL or HELD
    barrier: str | None = None  # for HELD: the engine's barrier name
    link: str | None = None  # an edge needing no credential: its engine verb (LINK_WORDS)


@dataclass(frozen=True, slots=True)
class _Path:
    """A row of the table: from, via, to, and what happened."""

    source: Node
    via: str
    target: Node
    outcome: str


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


class _Graph:
    """The union of both views of the engine's result, as nodes, edges and table rows."""

    def __init__(self, blast: BlastRadius) -> None:
        despite, if_fail = blast.despite_controls, blast.if_controls_fail
        self.blast = blast
        self.vendors = {v.id: v for v in blast.breached_vendors}
        self.systems = {r.system.id: r for r in if_fail.systems}
        self.data = {d.category.id: d for d in if_fail.data}
        self.credentials = {c.id: c for r in if_fail.systems for c in r.credentials}
        despite_systems = despite.system_ids
        opens_despite = {c.id for r in despite.systems for c in r.credentials}
        held = {b.credential.id: b.barrier for b in blast.barriers_held}
        self.reached_despite: set[Node] = {(VENDOR, v) for v in self.vendors}
        self.reached_despite |= {(SYSTEM, s) for s in despite_systems}
        self.reached_despite |= {(CATEGORY, c) for c in despite.category_ids}
        self.reached_despite |= {(CREDENTIAL, c) for c in despite.credentials_obtained}

        def crossed_if(condition: bool) -> str:
            return CROSSED if condition else IF_FAIL

        edges: list[_Edge] = []
        paths: list[_Path] = []
        for cred in self.credentials.values():
            node = (CREDENTIAL, cred.id)
            opened = (SYSTEM, cred.system_id)
            if cred.id in opens_despite:
                opening = _Edge(node, opened, CROSSED)
            elif cred.id in held:
                opening = _Edge(node, opened, HELD, held[cred.id])
            else:
                opening = _Edge(node, opened, IF_FAIL)
            edges.append(opening)
            sources = []
            if cred.holder_vendor_id in self.vendors:
                sources.append(((VENDOR, cred.holder_vendor_id), CROSSED))
            sources += [
                ((SYSTEM, s), crossed_if(s in despite_systems))
                for s in dict.fromkeys(cred.stored_in)
                if s in self.systems
            ]
            for source, status in sources:
                edges.append(_Edge(source, node, status))
                # The path is as strong as its weakest edge: an unreached source decides.
                outcome = opening if status == CROSSED else _Edge(node, opened, IF_FAIL)
                paths.append(_Path(source, cred.label, opened, self._outcome(outcome)))
        self._link_edges(edges, paths)
        for reached in self.data.values():
            node = (CATEGORY, reached.category.id)
            holders = [((VENDOR, v), CROSSED) for v in reached.vendor_ids]
            holders += [((SYSTEM, s), crossed_if(s in despite_systems)) for s in reached.system_ids]
            for source, status in holders:
                edge = _Edge(source, node, status)
                edges.append(edge)
                paths.append(_Path(source, HOLDS, node, self._outcome(edge)))
        self.edges = tuple(edges)
        self.paths = tuple(paths)
        self.layers = self._layers()

    def _link_edges(self, edges: list[_Edge], paths: list[_Path]) -> None:
        """The edges that need no credential: a vendor that operates a system or supplies
        software running on it, an identity provider trusted for sign-in, a network
        connection; crossed despite the controls, only if they fail, or held by a control."""
        blast = self.blast
        drawn: set[tuple[Node, Node]] = set()

        def add(source: Node, target: Node, edge: _Edge) -> None:
            if (source, target) in drawn or not (self._known(source) and self._known(target)):
                return
            drawn.add((source, target))
            edges.append(edge)
            paths.append(_Path(source, LINK_WORDS[edge.link or ""], target, self._outcome(edge)))

        def crossed_in(view, status: str) -> None:
            for reached in view.systems:
                if reached.via is None and reached.edge in LINK_WORDS:  # not by a credential
                    source = (reached.source.kind, reached.source.id)
                    target = (SYSTEM, reached.system.id)
                    add(source, target, _Edge(source, target, status, link=reached.edge))

        # Despite the controls first, then the controls that held, then the rest (if they fail).
        crossed_in(blast.despite_controls, CROSSED)
        for held in blast.links_held:
            source, target = (held.source.kind, held.source.id), (SYSTEM, held.system.id)
            add(source, target, _Edge(source, target, HELD, held.barrier, link=held.edge))
        crossed_in(blast.if_controls_fail, IF_FAIL)

    def _known(self, node: Node) -> bool:
        kind, key = node
        return key in (self.vendors if kind == VENDOR else self.systems) and kind in (
            VENDOR,
            SYSTEM,
        )

    @staticmethod
    def _outcome(edge: _Edge) -> str:
        if edge.status == HELD:
            return f"held: {BARRIER_NAMES[edge.barrier or '']}"
        return OUTCOME_WORDS[edge.status]

    def _layers(self) -> dict[Node, int]:
        """Vendor 0, its credentials 1, the systems they open 2, then a credential stored in a
        system one layer past it, and so on by hop count; the data last, in one column."""
        layer: dict[Node, int] = {(VENDOR, v): 0 for v in self.vendors}
        for system_id, reached in self.systems.items():
            layer[(SYSTEM, system_id)] = reached.hops
        for cred in self.credentials.values():
            candidates = [1] if cred.holder_vendor_id in self.vendors else []
            candidates += [layer[(SYSTEM, s)] + 1 for s in cred.stored_in if (SYSTEM, s) in layer]
            layer[(CREDENTIAL, cred.id)] = min(candidates, default=1)
        last = max(layer.values()) + 1
        for category_id in self.data:
            layer[(CATEGORY, category_id)] = last
        return layer

    # ---- words for each node ------------------------------------------------------------------

    def name(self, node: Node) -> str:
        kind, key = node
        if kind == VENDOR:
            return self.vendors[key].name
        if kind == CREDENTIAL:
            return self.credentials[key].name
        if kind == SYSTEM:
            return self.systems[key].system.name
        return self.data[key].category.name

    def full_label(self, node: Node) -> str:
        """The tooltip: every fact the short label leaves out."""
        kind, key = node
        when = "" if node in self.reached_despite else "; reached only if the controls fail"
        if kind == VENDOR:
            return f"{self.name(node)} (breached vendor)"
        if kind == CREDENTIAL:
            return f"{self.credentials[key].label}{when}"
        if kind == SYSTEM:
            return f"{self.name(node)} ({self.systems[key].privilege} access){when}"
        reached = self.data[key]
        records = "records unknown" if reached.records is None else f"{reached.records:,} records"
        tone = SENSITIVITY_TONES[reached.category.sensitivity - 1]
        return f"{self.name(node)} ({tone} sensitivity, {records}){when}"

    def sensitivity(self, node: Node) -> int:
        return self.data[node[1]].category.sensitivity


def _kept(graph: _Graph, max_nodes: int) -> set[Node]:
    """Every node when they fit; otherwise the nodes on the shortest paths to the most sensitive
    data and the most privileged systems (those reached despite the controls first, then the
    barriers that held, then the rest), as many whole paths as fit.

    A path is walked back from its end and given up as soon as it cannot fit: each costs at
    most ``max_nodes`` steps, never its length (a chain of a thousand stored credentials)."""
    everything = set(graph.layers)
    if len(everything) <= max_nodes:
        return everything
    blast = graph.blast
    # What reaches each node, in the view that reaches it: despite the controls when it can.
    reached: dict[Node, ReachedSystem | ReachedData] = {}
    for view in (blast.if_controls_fail, blast.despite_controls):
        reached |= {(SYSTEM, r.system.id): r for r in view.systems}
        reached |= {(CATEGORY, d.category.id): d for d in view.data}

    def importance(node: Node) -> tuple:
        kind, key = node
        if kind == CATEGORY:
            return (-graph.data[key].category.sensitivity, 0, reached[node].hops, graph.name(node))
        system = graph.systems[key]
        return (-PRIVILEGE_RANK[system.privilege], 1, system.hops, graph.name(node))

    def path_back(node: Node) -> Iterator[Node]:
        return ((step.kind, step.id) for step in reached[node].steps_back())

    def barrier_path_back(cred_id: int) -> Iterator[Node]:
        cred = graph.credentials[cred_id]
        yield (SYSTEM, cred.system_id)
        yield (CREDENTIAL, cred_id)
        if cred.holder_vendor_id in graph.vendors:
            yield (VENDOR, cred.holder_vendor_id)
        else:
            stores = [(SYSTEM, s) for s in cred.stored_in if (SYSTEM, s) in reached]
            yield from path_back(min(stores, key=lambda n: reached[n].hops))

    targets = sorted(reached, key=importance)
    wanted = [
        *(path_back(n) for n in targets if n in graph.reached_despite),
        *(barrier_path_back(b.credential.id) for b in blast.barriers_held),
        *(path_back(n) for n in targets if n not in graph.reached_despite),
    ]
    kept: set[Node] = {(VENDOR, v) for v in graph.vendors}
    for nodes in wanted:
        room = max_nodes - len(kept)
        if room <= 0:
            break
        new: set[Node] = set()
        for node in nodes:
            if node not in kept:
                new.add(node)
                if len(new) > room:
                    break
        else:
            kept |= new
    return kept


def _ordered_layers(graph: _Graph, kept: set[Node]) -> dict[int, list[Node]]:
    """The nodes of each layer, top to bottom: each near the mean place of the nodes it comes
    from (barycentre ordering, one pass left to right), which keeps crossings few."""
    by_layer: defaultdict[int, list[Node]] = defaultdict(list)
    for node in kept:
        by_layer[graph.layers[node]].append(node)
    sources: defaultdict[Node, list[Node]] = defaultdict(list)
    for edge in graph.edges:
        sources[edge.target].append(edge.source)
    place: dict[Node, float] = {}
    ordered = {}
    for layer in sorted(by_layer):

        def key(node: Node) -> tuple:
            before = [place[s] for s in sources[node] if s in place]
            centre = sum(before) / len(before) if before else 0.0
            sensitivity = -graph.sensitivity(node) if node[0] == CATEGORY else 0
            return (centre, sensitivity, graph.name(node).lower(), node)

        nodes = sorted(by_layer[layer], key=key)
        for index, node in enumerate(nodes):
            place[node] = index - (len(nodes) - 1) / 2
        ordered[layer] = nodes
    return ordered


# The description (the drawing's text alternative) names this many barriers that held: a large
# breach meets thousands, which the lists below the drawing name.
HELD_NAMED = 10


def _description(graph: _Graph, dropped: Mapping[str, int]) -> str:
    blast = graph.blast
    names = " and ".join(vendor.name for vendor in blast.breached_vendors)
    verb = "is" if len(blast.breached_vendors) == 1 else "are"
    f = blast.figures
    # Data passed on to a breached subprocessor is exposed without any path through our
    # systems: the lists show it, the drawing does not.
    fourth_party = (
        f"Through subprocessors, the breach exposes "
        f"{_plural(f.fourth_party_categories, 'data category', 'data categories')} "
        "(not drawn, see the lists)."
        if f.fourth_party_links
        else ""
    )
    if not graph.edges:
        holds = f"{names} {'holds' if verb == 'is' else 'hold'} none of our credentials or data"
        if fourth_party:
            return f"{holds}. {fourth_party} {charts.NO_DATA}."
        return f"{holds}: its breach reaches nothing. {charts.NO_DATA}."
    sentences = [
        f"If {names} {verb} breached, an attacker reaches "
        f"{_plural(f.systems_despite_controls, 'system')} and "
        f"{_plural(f.categories_despite_controls, 'data category', 'data categories')} "
        "despite the controls (solid red lines), and "
        f"{_plural(f.systems_if_controls_fail, 'system')} if the controls fail "
        "(dashed grey lines)."
    ]
    held = [
        *(
            f"{b.credential.name} into {b.system.name} ({BARRIER_NAMES[b.barrier]})"
            for b in blast.barriers_held
        ),
        *(
            f"{link.source.label} to {link.system.name} ({BARRIER_NAMES[link.barrier]})"
            for link in blast.links_held
        ),
    ]
    if held:
        named = "; ".join(held[:HELD_NAMED])
        more = len(held) - HELD_NAMED
        if more > 0:
            named += f"; and {more:,} more (the list of barriers that held names them all)"
        sentences.append(f"{_plural(len(held), 'barrier')} held: {named}.")
    else:
        sentences.append("No barrier held.")
    if fourth_party:
        sentences.append(fourth_party)
    if dropped:
        counts = [
            _plural(dropped[kind], f"more {one}", f"more {many}")
            for kind, one, many in (
                (SYSTEM, "system", "systems"),
                (CREDENTIAL, "credential", "credentials"),
                (CATEGORY, "data category", "data categories"),
            )
            if dropped.get(kind)
        ]
        listed = ", ".join(counts[:-1]) + (" and " if len(counts) > 1 else "") + counts[-1]
        sentences.append(f"{listed} not drawn, see the lists.")
    return " ".join(sentences)
