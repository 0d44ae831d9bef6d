"""What every chart's drawing shares: the font size and line height, figures and labels in
words (numbers, shortened and wrapped labels), text measured, axes placed with room for their
labels, a value axis scaled, and the "No data" drawing."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from .palette import FONT_FAMILY, GRID, MUTED_INK, TONES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

NO_DATA = "No data"
NOT_ENOUGH_HISTORY = "Not enough history yet"

FONT_SIZE = 9.0  # points, in a figure drawn 4/3 larger on screen: 12 px
LINE = FONT_SIZE * 1.25  # the height of a line of text, in points
_EDGE = 6.0  # white round the drawing, in points
_TICK = 7.0  # a tick and the gap to its label


def number(value: float) -> str:
    """12 -> "12", 12.5 -> "12.5", 12345 -> "12,345"."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _tick_label(value: float) -> str:
    if float(value).is_integer():
        return number(value)
    return f"{value:,.2f}".rstrip("0").rstrip(".")  # 51.999 -> "52", never "52."


# English month abbreviations, whatever the process's locale (strftime's %b follows it).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date) -> str:
    """A day as people write it: "3 Dec 2026" (never an ISO string)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _wrap(text: str, width: float, max_lines: int = 3) -> str:
    """Lines that fit ``width`` points (about: DejaVu Sans averages 0.55 em a character)."""
    characters = max(4, int(width / (FONT_SIZE * 0.55)))
    return "\n".join(
        textwrap.wrap(text, characters, max_lines=max_lines, placeholder=" \u2026") or [""]
    )


def _text_width(text: str) -> float:
    """The width in points of ``text`` (its widest line) in the chart font: measured once,
    instead of a layout engine's whole extra drawing pass (which doubled the time of a chart).
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(family=FONT_FAMILY[0], size=FONT_SIZE)
    return max(
        (
            text_to_path.get_text_width_height_descent(line, font, ismath=False)[0]
            for line in text.split("\n")
        ),
        default=0.0,
    )


def _axes(
    figure: Figure,
    *,
    left_labels: Iterable[str],
    bottom_lines: int,
    left_title: bool,
    bottom_title: bool,
    top: float = _EDGE,
    right: float = 2 * _EDGE,
) -> Axes:
    """Axes leaving room, in points, for the tick labels and titles on the left and below."""
    width, height = (inches * 72 for inches in figure.get_size_inches())
    left = (
        _EDGE
        + max((_text_width(label) for label in left_labels), default=0.0)
        + _TICK
        + (LINE + 2 if left_title else 0)
    )
    bottom = _EDGE + bottom_lines * LINE + _TICK + (LINE + 2 if bottom_title else 0)
    # Long labels never take more than half the figure from the drawing.
    left, bottom = min(left, width / 2), min(bottom, height / 2)
    return figure.add_axes(
        (
            left / width,
            bottom / height,
            (width - left - right) / width,
            (height - bottom - top) / height,
        )
    )


def _plot_width(figure: Figure, left_labels: Iterable[str]) -> float:
    """The width in points that :func:`_axes` will leave to the drawing."""
    width = figure.get_size_inches()[0] * 72
    return width - 3 * _EDGE - _TICK - max((_text_width(s) for s in left_labels), default=0.0)


def _scale(
    values: Iterable[float], *, headroom: float = 0.0
) -> tuple[float, float, list[float], list[str]]:
    """Limits and ticks of a value axis from zero: whole numbers for counts, a little room
    (a fraction of the span) past the largest value for its printed figure."""
    from matplotlib.ticker import MaxNLocator

    values = list(values)
    low, high = min(0.0, *values), max(0.0, *values)
    if high == low:
        high = low + 1
    high += (high - low) * headroom
    whole = all(float(v).is_integer() for v in values)
    ticks = [
        float(t)
        for t in MaxNLocator(nbins=5, integer=whole).tick_values(low, high)
        if low <= t <= high
    ]
    return low, high, ticks, [_tick_label(t) for t in ticks]


def _with_sentence(description: str, sentence: str) -> str:
    if sentence.lower().rstrip(".") in description.lower():
        return description
    return f"{description.rstrip()} {sentence}.".strip()


def _no_data(figure: Figure, message: str = NO_DATA) -> None:
    figure.text(0.5, 0.5, message, ha="center", va="center", color=MUTED_INK, fontsize=11)


def _tone(tone: str | None, default: str) -> str:
    return TONES[tone] if tone else default


def _grid(ax: Axes, axis: str) -> None:
    ax.grid(axis=axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
