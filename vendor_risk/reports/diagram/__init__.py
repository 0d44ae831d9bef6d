"""The blast radius of a breach as a layered diagram: who holds what, what it opens, what is lost.

Pure: the engine's :class:`~vendor_risk.blast_radius.BlastRadius` in, a
:class:`~vendor_risk.charts.Chart` out (no Flask, no database). Left to right: the breached
vendor, the credentials it holds, the systems they open, then hop after hop the credentials
stored in those systems and the systems they open, and last the data categories held. Both
views of the engine show at once: an edge the attacker crosses despite the controls is solid
red; one crossed only if the controls fail is dashed grey; a barrier that held (MFA, revoked,
expired, rotated...) is a green octagon on a dotted edge, named. Nodes reached only if the
controls fail are hollow. The table lists every path, drawn or not.

matplotlib draws (through :mod:`vendor_risk.charts`, which makes the SVG fit for a page);
networkx places the layers. Both are imported inside the functions that lay out and draw, so
importing this module loads neither.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..core.blast_radius.engine import (
    CATEGORY,
    CREDENTIAL,
    HOLDS,
    PRIVILEGE_RANK,
    SYSTEM,
    VENDOR,
    BlastRadius,
    ReachedData,
    ReachedSystem,
)
from . import charts
from .charts import Chart

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

Node = tuple[str, int]  # (kind, id): the engine's Step kinds and ids

CROSSED, IF_FAIL, HELD = "crossed", "if_fail", "held"
OUTCOME_WORDS: Mapping[str, str] = MappingProxyType(
    {
        CROSSED: "reached despite the controls",
        IF_FAIL: "only if the controls fail",
        HELD: "held",
    }
)
# The engine's barriers in words (the table and the description), and as the short label of
# the marker on a held edge (it sits between two columns).
BARRIER_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "revoked": "revoked",
        "expired": "expired",
        "rotated": "rotated after the breach began",
        "phishing_resistant_mfa": "phishing-resistant MFA",
        "mfa": "MFA",
        "ip_restricted": "IP restriction",
    }
)
BARRIER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "revoked": "revoked",
        "expired": "expired",
        "rotated": "rotated",
        "phishing_resistant_mfa": "phishing-resistant\nMFA held",
        "mfa": "MFA held",
        "ip_restricted": "IP restriction\nheld",
    }
)
SENSITIVITY_TONES = ("low", "medium", "high", "critical")  # sensitivity 1 to 4

CROSSED_COLOUR = charts.TONES["critical"]
IF_FAIL_COLOUR = charts.MUTED_INK
BARRIER_COLOUR = charts.TONES["ok"]
# Kinds differ by shape first (markers), then by colour; data is coloured by sensitivity.
NODE_STYLE: Mapping[str, tuple[str, str, float]] = MappingProxyType(
    {
        VENDOR: ("s", charts.INK, 12),
        CREDENTIAL: ("D", "#6a3d9a", 8),
        SYSTEM: ("o", "#334e68", 11),
        CATEGORY: ("p", "", 12),
    }
)
NODE_NAMES = {
    VENDOR: "vendor",
    CREDENTIAL: "credential",
    SYSTEM: "system",
    CATEGORY: "data category",
}
LABEL_SIZE = 8.0
_INCH_PER_LAYER = 1.7
_UNDATED = datetime(1970, 1, 1, tzinfo=UTC)
_INCH_PER_ROW = 0.68
_BOW = _INCH_PER_ROW * 72 * 0.45  # points: how far an edge skipping layers bows off the straight


@dataclass(frozen=True, slots=True)
class _Edge:
    source: Node
    target: Node
    status: str  # CROSSED, IF_FAIL or HELD
    barrier: str | None = None  # for HELD: the engine's barrier name


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
    if blast.barriers_held:
        held = "; ".join(
            f"{b.credential.name} into {b.system.name} ({BARRIER_NAMES[b.barrier]})"
            for b in blast.barriers_held
        )
        sentences.append(f"{_plural(len(blast.barriers_held), 'barrier')} held: {held}.")
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


def _legend(graph: _Graph, kept: set[Node]) -> list[Line2D]:
    from matplotlib.lines import Line2D

    def line(colour: str, style: str, width: float, label: str, **marker) -> Line2D:
        return Line2D([], [], color=colour, linestyle=style, linewidth=width, label=label, **marker)

    def shape(kind: str, colour: str, label: str) -> Line2D:
        marker, default, size = NODE_STYLE[kind]
        return Line2D(
            [],
            [],
            linestyle="none",
            marker=marker,
            markersize=size * 0.75,
            color=colour or default,
            markeredgecolor="white",
            label=label,
        )

    handles = [
        line(CROSSED_COLOUR, "-", 2, "crossed despite the controls"),
        line(IF_FAIL_COLOUR, "--", 1.2, "only if the controls fail"),
        line(BARRIER_COLOUR, ":", 1.5, "a barrier held", marker="8", markersize=7),
        shape(VENDOR, "", "breached vendor"),
        shape(CREDENTIAL, "", "credential"),
        shape(SYSTEM, "", "system (hollow: only if the controls fail)"),
    ]
    present = sorted({graph.sensitivity(n) for n in kept if n[0] == CATEGORY}, reverse=True)
    for level in present:
        tone = SENSITIVITY_TONES[level - 1]
        handles.append(shape(CATEGORY, charts.TONES[tone], f"{tone} data"))
    return handles


def blast_radius_diagram(
    blast: BlastRadius, *, max_nodes: int = 60, width: float | None = None
) -> Chart:
    """The breach as a layered diagram, both views of the engine at once, and every path as a
    table. Past ``max_nodes`` nodes, the most telling paths are drawn and the description says
    how many nodes are left out.

    ``width`` in inches: by default 1.7 a layer (5.5 to 12), which a page scales to its column.
    A PDF gives the width it prints (about 7 on A4) so that the text keeps its size; the labels
    are then shortened to fit the narrower layers.
    """
    # The moment of the computation is not drawn: without it, the same result computed again
    # (the vendor's page shown again, nothing changed) is drawn once.
    return _diagram(replace(blast, as_of=_UNDATED), max_nodes, width)


@lru_cache(maxsize=32)
def _diagram(blast: BlastRadius, max_nodes: int, width: float | None) -> Chart:
    import networkx as nx

    graph = _Graph(blast)
    kept = _kept(graph, max(max_nodes, len(graph.vendors)))
    dropped = Counter(kind for kind, _ in set(graph.layers) - kept)
    names = " and ".join(vendor.name for vendor in blast.breached_vendors)
    title = f"Blast radius of a breach of {names}"
    description = _description(graph, dropped)
    layers = _ordered_layers(graph, kept)
    drawn = nx.DiGraph()
    drawn.add_nodes_from(kept)
    edges = [e for e in graph.edges if e.source in kept and e.target in kept]
    drawn.add_edges_from((e.source, e.target) for e in edges)
    positions = nx.multipartite_layout(drawn, subset_key=layers)
    # multipartite_layout puts a layer's first node lowest: turn it upside down, first on top.
    where = {node: (float(x), -float(y)) for node, (x, y) in positions.items()}
    column = {node: index for index, nodes in enumerate(layers.values()) for node in nodes}
    rows = max(len(nodes) for nodes in layers.values())
    legend = _legend(graph, kept)
    if width is None:
        width = min(12.0, max(5.5, 0.6 + _INCH_PER_LAYER * len(layers)))
    # As many characters a line as a layer's width holds (DejaVu Sans: about 0.55 em each).
    label_length = int(
        min(24, max(8, (width - 0.6) / len(layers) * 72 * 0.8 / (LABEL_SIZE * 0.55)))
    )
    legend_columns = max(2, int(width * 72 // 150))
    legend_inches = (-(-len(legend) // legend_columns)) * (charts.LINE + 3) / 72 + 0.15
    note_inches = charts.LINE / 72 + 0.05 if dropped else 0.0
    # Room above and below for the edges that bow out of the drawing (see _clearance).
    bow_inches = max((_clearance(e, column) / 2 for e in edges), default=0.0) / 72
    height = max(1.6, _INCH_PER_ROW * rows + 0.35) + legend_inches + note_inches + 2 * bow_inches

    def paint(figure: Figure) -> dict[str, str]:
        bottom = (legend_inches + bow_inches) / height
        top = 1 - (note_inches + bow_inches) / height
        ax = figure.add_axes((0.005, bottom, 0.99, top - bottom))
        ax.set_axis_off()
        xs = sorted({x for x, _ in where.values()})
        ys = sorted({y for _, y in where.values()})
        unit = (xs[1] - xs[0]) if len(xs) > 1 else (ys[1] - ys[0]) if len(ys) > 1 else 1.0
        ax.set_xlim(xs[0] - 0.55 * unit, xs[-1] + 0.55 * unit)
        ax.set_ylim(ys[0] - 0.7 * unit, ys[-1] + 0.35 * unit)
        # Points per data unit, across and up: an edge's bend is set in points.
        scale = (
            0.99 * width * 72 / (1.1 * unit + xs[-1] - xs[0]),
            (top - bottom) * height * 72 / (1.05 * unit + ys[-1] - ys[0]),
        )
        middle = (ys[0] + ys[-1]) / 2
        for edge in edges:
            _draw_edge(ax, edge, where, column, scale, middle)
        tips = {}
        for n, node in enumerate(sorted(kept, key=lambda k: (column[k], where[k][1]))):
            tips |= _draw_node(ax, graph, node, where[node], n, label_length)
        figure.legend(
            handles=legend,
            loc="lower center",
            ncols=legend_columns,
            fontsize=LABEL_SIZE,
            handlelength=2.2,
            borderaxespad=0.2,
        )
        if dropped:
            figure.text(
                0.01, 0.99, description.rsplit(". ", 1)[-1], va="top", color=charts.MUTED_INK
            )
        return tips

    ordered_paths = sorted(
        graph.paths,
        key=lambda p: (graph.layers[p.source], graph.name(p.source), p.via, graph.name(p.target)),
    )
    return Chart(
        title=title,
        description=description,
        svg=charts.render(title, description, paint, width=width, height=height),
        columns=("From", "Via", "To", "Outcome"),
        rows=tuple(
            (graph.name(p.source), p.via, graph.name(p.target), p.outcome) for p in ordered_paths
        ),
    )


def _clearance(edge: _Edge, column: Mapping[Node, int]) -> float:
    """How far, in points, the control point of an edge's curve lies off the straight line.

    Straight, an edge skipping layers would run over their nodes (going back, over the edges
    going forward). A quadratic curve whose control point is C off the straight passes
    2t(1 - t)C off it at t, C/2 at most: C is chosen to clear the first layer skipped
    (t = 1/k) by half a row. Neighbouring layers, and held edges (their marker sits on the
    straight midpoint), stay straight.
    """
    skip = column[edge.target] - column[edge.source]
    if skip == 1 or edge.status == HELD:
        return 0.0
    k = max(abs(skip), 2)
    return _BOW * k * k / (2 * (k - 1))


def _draw_edge(
    ax,
    edge: _Edge,
    where: Mapping[Node, tuple[float, float]],
    column: Mapping[Node, int],
    scale: tuple[float, float],
    middle: float,
) -> None:
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.transforms import offset_copy

    start, end = where[edge.source], where[edge.target]
    colour, line, width = {
        CROSSED: (CROSSED_COLOUR, "-", 1.8),
        IF_FAIL: (IF_FAIL_COLOUR, "--", 1.1),
        HELD: (BARRIER_COLOUR, ":", 1.5),
    }[edge.status]
    if edge.target[0] == CATEGORY:
        width *= 0.7  # lighter: the way in (credentials, systems) is the story
    dx, dy = (end[0] - start[0]) * scale[0], (end[1] - start[1]) * scale[1]
    # arc3 takes the offset as a fraction of the length; a negative one bows to the left of
    # the direction of travel. Curves bow outwards, away from the middle row: fewer crossings.
    outwards = 1 if (start[1] + end[1]) / 2 >= middle else -1
    leftwards = 1 if dx >= 0 else -1
    bend = -outwards * leftwards * min(0.6, _clearance(edge, column) / max(math.hypot(dx, dy), 1))
    # add_artist, not add_patch: the limits are set already, and working out an arrow's extent
    # for autoscaling cost more than drawing it.
    ax.add_artist(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>,head_length=0.5,head_width=0.25",
            mutation_scale=10,
            shrinkA=8,
            shrinkB=8,
            color=colour,
            linestyle=line,
            linewidth=width,
            connectionstyle=f"arc3,rad={bend:.4f}",
            zorder=1,
            clip_on=False,  # a bow may leave the axes; the figure keeps room for it
        )
    )
    if edge.status == HELD:
        middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.plot(
            *middle,
            marker="8",
            markersize=10,
            color=BARRIER_COLOUR,
            markeredgecolor="white",
            zorder=5,
        )
        ax.text(
            *middle,
            BARRIER_LABELS[edge.barrier or ""],
            transform=offset_copy(ax.transData, fig=ax.figure, y=7, units="points"),
            ha="center",
            va="bottom",
            fontsize=LABEL_SIZE,
            fontweight="bold",
            color=BARRIER_COLOUR,
            zorder=5,
        )


def _draw_node(
    ax, graph: _Graph, node: Node, at: tuple[float, float], n: int, label_length: int
) -> dict[str, str]:
    from matplotlib.transforms import offset_copy

    kind = node[0]
    marker, colour, size = NODE_STYLE[kind]
    if kind == CATEGORY:
        colour = charts.TONES[SENSITIVITY_TONES[graph.sensitivity(node) - 1]]
    solid = node in graph.reached_despite
    ax.plot(
        *at,
        marker=marker,
        markersize=size,
        markerfacecolor=colour if solid else "white",
        markeredgecolor=charts.INK if solid and kind == CATEGORY else colour,
        markeredgewidth=0.8 if solid else 2,
        linestyle="none",
        gid=f"node{n}",
        zorder=3,
    )
    # Plain text shifted by a transform: an annotation costs twice as much to draw.
    below = offset_copy(ax.transData, fig=ax.figure, y=-size / 2 - 3, units="points")
    ax.text(
        *at,
        # Two lines at most, an ellipsis past them: the full name is in the tooltip and table.
        "\n".join(
            textwrap.wrap(
                graph.name(node),
                label_length,
                max_lines=2,
                placeholder="\u2026",
            )
        ),
        transform=below,
        ha="center",
        va="top",
        fontsize=LABEL_SIZE,
        color=charts.INK if solid else charts.MUTED_INK,
        # A white ground keeps the label legible where edges pass behind it.
        bbox={
            "boxstyle": "square,pad=0.1",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.8,
        },
        gid=f"label{n}",
        zorder=4,
    )
    tip = graph.full_label(node)
    return {f"node{n}": tip, f"label{n}": tip}


def cache_clear() -> None:
    """Forget every diagram drawn (the benchmark measures uncached drawing)."""
    _diagram.cache_clear()
