"""The diagram drawn: Graphviz ``dot`` lays out the layers and routes the edges (solid, dashed,
or dotted and ending in a bar with the barrier that held), the nodes carry their whole names;
its SVG is made fit for a page like every chart's, and the result is cached by the engine's
result.

The DOT source is written with the ``graphviz`` binding, every name escaped (a name is user
data: ``<B>x</B>`` would otherwise be an HTML-like label, ``\\N`` the node's own name); ``dot``
runs as a child process with a timeout, never through a shell. Without ``dot`` (Graphviz is an
optional system package) the diagram is a short note and its table: the page and the PDF keep
working and the lists say the same."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import textwrap
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from markupsafe import Markup

from ...core.blast_radius.engine import CATEGORY, CREDENTIAL, SYSTEM, VENDOR, BlastRadius
from ...core.collection import collection_paused
from .. import charts
from ..charts import Chart
from .graph import (
    CROSSED,
    HELD,
    IF_FAIL,
    LINK_WORDS,
    OUTCOME_WORDS,
    SENSITIVITY_TONES,
    Node,
    _description,
    _Edge,
    _Graph,
    _kept,
    _ordered_layers,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

log = logging.getLogger(__name__)

# The engine's barriers as the label of a held edge (Graphviz keeps it clear of the others).
BARRIER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "revoked": "revoked",
        "expired": "expired",
        "rotated": "rotated",
        "phishing_resistant_mfa": "phishing-resistant\nMFA held",
        "mfa": "MFA held",
        "ip_restricted": "IP restriction\nheld",
        "update_approval": "update approval\nheld",
        "authentication": "own sign-in\nheld",
    }
)

CROSSED_COLOUR = charts.TONES["critical"]
IF_FAIL_COLOUR = charts.MUTED_INK
BARRIER_COLOUR = charts.TONES["ok"]
# Kinds differ by shape first, then by colour; data is coloured by sensitivity. A node reached
# despite the controls is filled (white text on these); one reached only if they fail is white
# with a dashed outline.
NODE_STYLE: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        VENDOR: ("box", charts.INK),
        CREDENTIAL: ("hexagon", "#6a3d9a"),
        SYSTEM: ("ellipse", "#334e68"),
        CATEGORY: ("cylinder", ""),
    }
)
# The text on a data node filled with its sensitivity's tone: ink or white, whichever reads
# better (tests/test_blast_radius_diagram.py checks it against charts.text_colour_on).
TEXT_ON_TONE: Mapping[str, str] = MappingProxyType(
    {
        "critical": charts.BACKGROUND,
        "high": charts.INK,
        "medium": charts.INK,
        "low": charts.BACKGROUND,
    }
)
LABEL_SIZE = 9.0
# Characters a line of a node's label holds before it wraps (at spaces and hyphens, never
# inside a word, never cut short): wider left to right, narrower top to bottom.
_LINE_LENGTH = {"LR": 24, "TB": 18}
TIMEOUT = 10.0  # seconds: dot lays out the largest diagram (60 nodes) in tens of milliseconds
NO_GRAPHVIZ = "The diagram needs Graphviz (apt-get install graphviz); the paths below say the same."
TOO_SLOW = "The diagram took too long to draw; the paths below say the same."
NOT_DRAWN = "The diagram could not be drawn; the paths below say the same."
LEGEND = (
    "solid red line: crossed despite the controls",
    "dashed grey line: only if the controls fail",
    "dotted green line ending in a bar: a barrier held",
    "box: breached vendor; hexagon: credential; ellipse: system; cylinder: data",
    "filled: reached despite the controls; white, dashed outline: only if the controls fail",
)
# C0 and C1 control characters: not text, and not allowed in XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _NotDrawn(Exception):
    """dot is missing, too slow or failed: the note shown instead of the drawing."""


def blast_radius_diagram(
    blast: BlastRadius, *, max_nodes: int = 60, width: float | None = None
) -> Chart:
    """The breach as a layered diagram, both views of the engine at once, and every path as a
    table. Past ``max_nodes`` nodes, the most telling paths are drawn and the description says
    how many nodes are left out.

    Left to right, at its natural size (a page scales it down to its column). ``width`` in
    inches is the most a PDF prints: a drawing wider than that is laid out top to bottom
    instead, and scaled down only if it is still too wide.

    Without Graphviz's ``dot`` (or if it fails or exceeds :data:`TIMEOUT`), the chart's SVG is a
    short note saying so; the title, the description and the table stay. Such a chart is not
    cached: the next view tries again.
    """
    # A large breach's result holds tens of thousands of objects, and so does its graph: no
    # collection walks them while they are built (collection_paused).
    with collection_paused():
        graph, kept, title, description = _shown(blast, max_nodes)
        try:
            drawing = _drawing(graph, kept, title, description, width)
        except _NotDrawn as reason:
            note = Markup('<p class="chart-note">{}</p>').format(str(reason))
            return _chart(graph, title, description, note)
        return _chart(graph, title, description, drawing, natural=True)


# The diagram's table lists the paths in the order drawn, up to this many (a breach reaching
# every system of a large portfolio has tens of thousands of them: the lists below the drawing
# and their CSV hold the rest).
TABLE_ROWS = 200


def _shown(blast: BlastRadius, max_nodes: int) -> tuple[_Graph, set[Node], str, str]:
    graph = _Graph(blast)
    kept = _kept(graph, max(max_nodes, len(graph.vendors)))
    dropped = Counter(kind for kind, _ in set(graph.layers) - kept)
    names = " and ".join(vendor.name for vendor in blast.breached_vendors)
    return graph, kept, f"Blast radius of a breach of {names}", _description(graph, dropped)


def _chart(
    graph: _Graph, title: str, description: str, svg: Markup, natural: bool = False
) -> Chart:
    ordered_paths = sorted(
        graph.paths,
        key=lambda p: (graph.layers[p.source], graph.name(p.source), p.via, graph.name(p.target)),
    )
    rows = [
        (graph.name(p.source), p.via, graph.name(p.target), p.outcome)
        for p in ordered_paths[:TABLE_ROWS]
    ]
    if len(ordered_paths) > TABLE_ROWS:
        left = len(ordered_paths) - TABLE_ROWS
        rows.append((f"{left:,} more paths not listed: see the lists", "", "", ""))
    return Chart(
        title=title,
        description=description,
        svg=svg,
        columns=("From", "Via", "To", "Outcome"),
        rows=tuple(rows),
        natural_size=natural,
    )


def _drawing(
    graph: _Graph, kept: set[Node], title: str, description: str, width: float | None
) -> Markup:
    """The drawing of the nodes kept, laid out by dot. Its DOT text is all it depends on, so
    the same text (the vendor's page shown again, nothing changed) is laid out once: the cache
    is keyed by text, never by the result (hashing and comparing a large result's objects cost
    more than drawing them)."""
    dropped_note = description.rsplit(". ", 1)[-1] if len(kept) < len(graph.layers) else ""
    # Left to right at its natural size first: its width decides whether a PDF needs top to
    # bottom.
    tips: dict[str, str] = {}
    source = _dot_source(graph, kept, "LR", None, dropped_note, tips)
    tips_down: dict[str, str] = {}
    down = None if width is None else _dot_source(graph, kept, "TB", width, dropped_note, tips_down)
    return _laid_out(
        source, tuple(tips.items()), down, tuple(tips_down.items()), width, title, description
    )


@lru_cache(maxsize=32)
def _laid_out(
    source: str,
    tips: tuple[tuple[str, str], ...],
    down: str | None,
    tips_down: tuple[tuple[str, str], ...],
    width: float | None,
    title: str,
    description: str,
) -> Markup:
    svg = _run_dot(source)
    if down is not None and width is not None and _points_wide(svg) > width * 72:
        # Too wide for the page it is printed on: top to bottom (scaled down if still too wide).
        svg, tips = _run_dot(down), tips_down
    return charts.finish(
        svg, title=title, description=description, tips=dict(tips), prepare=_prepare
    )


def _text(value: str, line_length: int | None = None) -> str:
    """A name as a Graphviz label showing exactly its text: whitespace runs (newlines, tabs)
    made one space, control characters dropped, wrapped at spaces and hyphens (never inside a
    word, never shortened), and escaped.

    ``graphviz.escape`` doubles backslashes (``\\N`` would be the node's own name) and marks
    the text as not HTML-like (``<B>x</B>`` would be markup); ``&`` is written ``&amp;``
    because Graphviz passes entities it finds in a label through unchanged (``&lt;`` would
    show as ``<``). Lines are joined with Graphviz's own line break, after escaping."""
    import graphviz

    plain = " ".join(_CONTROL.sub("", value).split())
    lines = (
        textwrap.wrap(plain, line_length, break_long_words=False, break_on_hyphens=True)
        if line_length
        else [plain]
    )
    escaped = [graphviz.escape(line.replace("&", "&amp;")) for line in lines or [""]]
    return graphviz.nohtml("\\n".join(escaped))


def _dot_source(
    graph: _Graph,
    kept: set[Node],
    direction: str,
    width: float | None,
    dropped_note: str,
    tips: dict[str, str],
) -> str:
    """The DOT text of the diagram; ``tips`` receives the tooltip of each node and edge by the
    id given to it in the SVG."""
    import graphviz

    font = charts.FONT_FAMILY[0]
    legend = ([dropped_note] if dropped_note else []) + list(LEGEND)
    graph_attr = {
        "rankdir": direction,
        "splines": "spline",  # routed around the nodes and labels
        "nodesep": "0.18",
        "ranksep": "0.45" if direction == "LR" else "0.35",
        "pad": "0.05",
        "fontname": font,
        "fontsize": f"{LABEL_SIZE:g}",
        "fontcolor": charts.MUTED_INK,
        "labelloc": "b",
        "labeljust": "l",
        # "\l" ends a left-justified line.
        "label": graphviz.nohtml("".join(f"{_text(line)}\\l" for line in legend)),
    }
    if width is not None:
        graph_attr["size"] = f"{width:g},1000"  # never wider than the page (scaled down only)
    dot = graphviz.Digraph(
        "blast_radius",
        graph_attr=graph_attr,
        node_attr={
            "fontname": font,
            "fontsize": f"{LABEL_SIZE:g}",
            "margin": "0.08,0.03",
            "penwidth": "1.2",
            "height": "0.3",
        },
        edge_attr={"arrowsize": "0.6", "fontname": font, "fontsize": f"{LABEL_SIZE:g}"},
    )
    layers = _ordered_layers(graph, kept)
    ids = {}
    for layer in layers.values():
        # A layer is one rank: the graph's layers stay columns (rows top to bottom), in order.
        with dot.subgraph() as rank:
            rank.attr(rank="same")
            for node in layer:
                ids[node] = f"n{len(ids)}"
                tips[f"node{len(tips)}"] = graph.full_label(node)
                rank.node(
                    ids[node],
                    label=_text(graph.name(node), _LINE_LENGTH[direction]),
                    id=f"node{len(tips) - 1}",
                    **_node_style(graph, node),
                )
    for n, edge in enumerate(e for e in graph.edges if e.source in kept and e.target in kept):
        tips[f"edge{n}"] = _edge_tip(graph, edge)
        dot.edge(ids[edge.source], ids[edge.target], id=f"edge{n}", **_edge_style(edge))
    return dot.source


def _node_style(graph: _Graph, node: Node) -> dict[str, str]:
    kind = node[0]
    shape, colour = NODE_STYLE[kind]
    text = charts.BACKGROUND
    if kind == CATEGORY:
        tone = SENSITIVITY_TONES[graph.sensitivity(node) - 1]
        colour, text = charts.TONES[tone], TEXT_ON_TONE[tone]
    if node in graph.reached_despite:
        return {
            "shape": shape,
            "style": "filled",
            "color": charts.INK if kind == CATEGORY else colour,
            "fillcolor": colour,
            "fontcolor": text,
        }
    return {
        "shape": shape,
        "style": "filled,dashed",
        "color": colour,
        "fillcolor": charts.BACKGROUND,
        "fontcolor": charts.MUTED_INK,
        "penwidth": "1.8",
    }


def _edge_style(edge: _Edge) -> dict[str, str]:
    colour, style, width = {
        CROSSED: (CROSSED_COLOUR, "solid", 1.8),
        IF_FAIL: (IF_FAIL_COLOUR, "dashed", 1.1),
        HELD: (BARRIER_COLOUR, "dotted", 1.6),
    }[edge.status]
    if edge.target[0] == CATEGORY:
        width *= 0.7  # lighter: the way in (credentials, systems) is the story
    style_attr = {"color": colour, "style": style, "penwidth": f"{width:.2f}"}
    if edge.status == HELD:
        label = BARRIER_LABELS[edge.barrier or ""]
        style_attr |= {
            "arrowhead": "tee",  # stopped here
            "arrowsize": "1.0",
            "label": _lines(label),
            "fontcolor": BARRIER_COLOUR,
            "fontname": f"{charts.FONT_FAMILY[0]} Bold",
        }
    elif edge.link is not None:  # no credential on the way: the edge says what it is
        style_attr |= {"label": _lines(LINK_WORDS[edge.link]), "fontcolor": charts.INK}
    return style_attr


def _lines(text: str) -> str:
    """A text of several lines (``\\n``) as a Graphviz label, each line escaped."""
    import graphviz

    return graphviz.nohtml("\\n".join(_text(line) for line in text.split("\n")))


def _edge_tip(graph: _Graph, edge: _Edge) -> str:
    outcome = OUTCOME_WORDS[edge.status]
    if edge.status == HELD:
        outcome = BARRIER_LABELS[edge.barrier or ""].replace("\n", " ")
    how = f" ({LINK_WORDS[edge.link]})" if edge.link is not None else ""
    return f"{graph.name(edge.source)} to {graph.name(edge.target)}{how}: {outcome}"


def _run_dot(source: str) -> str:
    """``dot -Tsvg`` on ``source``: a child process with a timeout, never a shell."""
    executable = shutil.which("dot")
    if executable is None:
        raise _NotDrawn(NO_GRAPHVIZ)
    try:
        done = subprocess.run(  # noqa: S603 (a fixed argument list, the DOT text on stdin)
            [executable, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.warning("dot took more than %s s to lay out a blast-radius diagram", TIMEOUT)
        raise _NotDrawn(TOO_SLOW) from None
    except OSError:
        log.warning("dot could not be run", exc_info=True)
        raise _NotDrawn(NO_GRAPHVIZ) from None
    if done.returncode != 0:
        log.error("dot failed (%s): %s", done.returncode, done.stderr.decode(errors="replace"))
        raise _NotDrawn(NOT_DRAWN)
    return done.stdout.decode()


def _points_wide(svg: str) -> float:
    found = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ', svg)
    return float(found[1]) if found else 0.0


def _prepare(root: Element) -> None:
    """Graphviz's SVG before the charts' clean-up: its own <title> elements (DOT node names
    like "n3") go, each node and edge gets its tooltip from ``tips`` instead; the font falls
    back to any sans-serif."""
    for group in root.iter("g"):
        for child in list(group):
            if child.tag == "title":
                group.remove(child)
    family = ", ".join(charts.FONT_FAMILY)
    for text in root.iter("text"):
        if text.get("font-family", "").startswith(charts.FONT_FAMILY[0]):
            text.set("font-family", family)


def cache_clear() -> None:
    """Forget every diagram drawn (the benchmark measures uncached drawing)."""
    _laid_out.cache_clear()
