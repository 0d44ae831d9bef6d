"""The diagram drawn: networkx places the layers, matplotlib draws the edges (solid, dashed, or
dotted with the barrier that held), the nodes with their labels and tooltips, and the legend;
the result is cached by the engine's result."""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from ...core.blast_radius.engine import CATEGORY, CREDENTIAL, SYSTEM, VENDOR, BlastRadius
from .. import charts
from ..charts import Chart
from .graph import (
    CROSSED,
    HELD,
    IF_FAIL,
    SENSITIVITY_TONES,
    Node,
    _description,
    _Edge,
    _Graph,
    _kept,
    _ordered_layers,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

# The engine's barriers as the short label of the marker on a held edge (it sits between two
# columns).
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
LABEL_SIZE = 8.0
_INCH_PER_LAYER = 1.7
_UNDATED = datetime(1970, 1, 1, tzinfo=UTC)
_INCH_PER_ROW = 0.68
_BOW = _INCH_PER_ROW * 72 * 0.45  # points: how far an edge skipping layers bows off the straight


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
