"""The charts' colours and font: colour-blind safe, the same tier colours everywhere, and the
contrast of a text on a fill (WCAG)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# ---- colours: colour-blind safe, the same tier colours everywhere ----------------------------

INK = "#1f2933"  # the page's text colour: 14:1 on white
MUTED_INK = "#52606d"  # 7:1 on white, for secondary text
BACKGROUND = "#ffffff"
GRID = "#d9e2ec"
# Ordered by lightness as well as hue, so the order reads without colour vision too; on each,
# ink or white text has a contrast of at least 4.5:1 (tests/test_charts.py checks).
TONES: Mapping[str, str] = MappingProxyType(
    {
        "critical": "#99000d",  # dark red
        "high": "#ef6c00",  # orange
        "medium": "#f0b429",  # amber
        "low": "#2b6cb0",  # blue
        "ok": "#1b7837",  # green
        "neutral": "#616e7c",  # grey
    }
)
# Series without a tone take these in turn: Okabe and Ito's palette (safe for colour blindness),
# the green and vermilion darkened so that a figure printed on them keeps a 4.5:1 contrast.
SERIES_COLOURS = ("#0072b2", "#e69f00", "#007a5a", "#cc79a7", "#56b4e9", "#c05000", "#f0e442")
DEFAULT_BAR = SERIES_COLOURS[0]
# Heat-map cells, by the risk of the cell's place (not its count): green for the least risky,
# through amber, to dark red for the most. Darker as the risk grows, so the order reads in
# grey too; and each cell's tooltip and the chart's table name the risk in words.
HEAT_COLOURS = ("#d9f0d3", "#a6d96a", "#f0b429", "#ef6c00", "#99000d")
HEAT_RISK_WORDS = ("lowest", "low", "medium", "high", "highest")
FONT_FAMILY = ("DejaVu Sans", "sans-serif")  # WeasyPrint and every browser have it


def _luminance(colour: str) -> float:
    from matplotlib.colors import to_rgb

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(fill: str) -> str:
    """Ink or white, whichever reads better on ``fill``."""
    return INK if contrast(INK, fill) >= contrast(BACKGROUND, fill) else BACKGROUND
