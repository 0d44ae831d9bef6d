"""The blast radius of a breach as a layered diagram: who holds what, what it opens, what is lost.

Pure: the engine's :class:`~vendor_risk.blast_radius.BlastRadius` in, a
:class:`~vendor_risk.charts.Chart` out (no Flask, no database). Left to right: the breached
vendor, the credentials it holds, the systems they open, then hop after hop the credentials
stored in those systems and the systems they open, and last the data categories held. Both
views of the engine show at once: an edge the attacker crosses despite the controls is solid
red; one crossed only if the controls fail is dashed grey; a barrier that held (MFA, revoked,
expired, rotated...) is a dotted green edge ending in a bar, named. Nodes reached only if the
controls fail are white with a dashed outline. The table lists every path, drawn or not.

Graphviz's ``dot`` lays it out and draws it (the ``graphviz`` binding writes the DOT text, every
name escaped); :mod:`vendor_risk.charts` makes the SVG fit for a page. The binding is imported
inside the functions that draw, so importing this package loads none of it. Without ``dot``
(an optional system package) the diagram is a short note, and the table stays.

Two parts: ``graph``, what is shown (the nodes, edges and rows in layers, the nodes kept when
they do not all fit, their order, the description), and ``drawing``, how it is drawn. This
package re-exports their names.
"""

from __future__ import annotations

from .drawing import (
    BARRIER_COLOUR,
    BARRIER_LABELS,
    CROSSED_COLOUR,
    IF_FAIL_COLOUR,
    LABEL_SIZE,
    NO_GRAPHVIZ,
    NODE_STYLE,
    TEXT_ON_TONE,
    blast_radius_diagram,
    cache_clear,
)
from .graph import (
    BARRIER_NAMES,
    CROSSED,
    HELD,
    IF_FAIL,
    LINK_WORDS,
    NODE_NAMES,
    OUTCOME_WORDS,
    SENSITIVITY_TONES,
    Node,
)

__all__ = [
    "BARRIER_COLOUR",
    "BARRIER_LABELS",
    "BARRIER_NAMES",
    "CROSSED",
    "CROSSED_COLOUR",
    "HELD",
    "IF_FAIL",
    "IF_FAIL_COLOUR",
    "LABEL_SIZE",
    "LINK_WORDS",
    "NODE_NAMES",
    "NODE_STYLE",
    "NO_GRAPHVIZ",
    "OUTCOME_WORDS",
    "SENSITIVITY_TONES",
    "TEXT_ON_TONE",
    "Node",
    "blast_radius_diagram",
    "cache_clear",
]
