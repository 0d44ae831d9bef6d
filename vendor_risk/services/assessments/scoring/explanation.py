"""A stored score explained, JSON-ready: what a page or a report shows of it."""

from __future__ import annotations

from ....core.scoring import Residual, reproduce
from ....models import VendorScore

REASONS = 5  # the top reasons an explanation names


def explain(score: VendorScore) -> dict:
    """A stored score explained, from its inputs computed again (``reproduce``): the
    explanation is not stored, since it is what the inputs give, and writing it with every
    snapshot made rescoring the portfolio a third slower."""
    return explanation(reproduce(score.inputs))


def _contributors(items) -> list[dict]:
    return [{"factor": c.factor, "points": c.points, "detail": c.detail} for c in items]


def _lines(lines) -> list[dict]:
    return [
        {
            "source": line.source,
            "factor": line.factor,
            "text": line.text,
            "points": line.points,
            "share": line.share,
        }
        for line in lines
    ]


def explanation(residual: Residual) -> dict:
    """What a page or a report shows of a score, JSON-ready: the residual's three parts, the
    floors, the sections, the critical failures, the lines of the one explanation (every
    contributor of inherent risk, exposure and the control score, each with its points in its
    part and its weighted share of the residual score) and the top ones, the facts the rating
    misses, and the provisional rating beside it."""
    control = residual.control
    provisional = residual.provisional
    return {
        "residual": _contributors(residual.contributors),
        "floor": residual.floor,
        "inherent_floor": residual.inherent.floor,
        "control": None
        if control is None
        else {
            "sections": [
                {"id": s.section_id, "title": s.title, "score": s.score, "points": s.points}
                for s in control.sections
            ],
            "critical_failures": [f.to_dict() for f in control.critical_failures],
            "uncapped": control.uncapped,
        },
        "lines": _lines(residual.lines),
        "reasons": _lines(residual.top_reasons(REASONS)),
        "missing": list(residual.missing),
        "provisional": None
        if provisional is None
        else {
            "score": provisional.score,
            "tier": str(provisional.tier),
            "floor": provisional.floor,
            "control_score": None if provisional.control is None else provisional.control.score,
            "critical_failures": 0
            if provisional.control is None
            else len(provisional.control.critical_failures),
        },
    }
