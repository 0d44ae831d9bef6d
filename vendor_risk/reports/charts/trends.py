"""The trend: a value over time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from .layout import (
    _EDGE,
    LINE,
    NO_DATA,
    NOT_ENOUGH_HISTORY,
    _axes,
    _grid,
    _no_data,
    _tick_label,
    _with_sentence,
    number,
)
from .palette import DEFAULT_BAR, INK, MUTED_INK
from .svg import _CACHE_SIZE, render
from .values import Chart

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def line_chart(
    title: str,
    description: str,
    points: Sequence[tuple[date, float]],
    *,
    y_label: str,
    y_range: tuple[float, float] | None = None,
    width: float = 6.0,
    height: float = 2.6,
) -> Chart:
    """A value over time, a marker per point and the last value printed. With fewer than two
    points the description (and the drawing) say there is not enough history yet."""
    return _line_chart(
        title,
        description,
        tuple(sorted((day, value) for day, value in points)),
        y_label=y_label,
        y_range=None if y_range is None else (y_range[0], y_range[1]),
        width=width,
        height=height,
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _line_chart(
    title: str,
    description: str,
    points: tuple[tuple[date, float], ...],
    *,
    y_label: str,
    y_range: tuple[float, float] | None,
    width: float,
    height: float,
) -> Chart:
    if len(points) < 2:
        description = _with_sentence(description, NOT_ENOUGH_HISTORY)

    def paint(figure: Figure) -> None:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
        from matplotlib.ticker import MaxNLocator

        if not points:
            _no_data(figure, f"{NO_DATA}: {NOT_ENOUGH_HISTORY.lower()}")
            return
        days = [day for day, _ in points]
        values = [value for _, value in points]
        if y_range is not None:
            low, high = y_range
        else:
            low, high = min(values), max(values)
            pad = (high - low) * 0.2 or max(abs(high) * 0.2, 1)
            low, high = low - pad, high + pad
        ticks = [float(t) for t in MaxNLocator(nbins=4).tick_values(low, high) if low <= t <= high]
        tick_labels = [_tick_label(t) for t in ticks]
        ax = _axes(
            figure,
            left_labels=tick_labels,
            bottom_lines=2,  # the dates, and the year or month under them
            left_title=bool(y_label),
            bottom_title=False,
            top=_EDGE + LINE + (LINE if len(points) == 1 else 0),
            right=4 * _EDGE,
        )
        ax.plot(days, values, color=DEFAULT_BAR, linewidth=2, marker="o", markersize=4)
        last_day, last_value = points[-1]
        ax.annotate(
            number(last_value),
            (last_day, last_value),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            color=INK,
        )
        if len(points) == 1:
            ax.set_xlim(last_day - timedelta(days=15), last_day + timedelta(days=15))
            ax.set_title(NOT_ENOUGH_HISTORY, color=MUTED_INK, loc="left", pad=LINE)
        locator = AutoDateLocator(minticks=2, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_ylim(low, high)
        ax.set_yticks(ticks, tick_labels)
        _grid(ax, "y")
        ax.set_ylabel(y_label)

    return Chart(
        title=title,
        description=description,
        svg=render(title, description, paint, width=width, height=height),
        columns=("Date", y_label),
        rows=tuple((day.isoformat(), value) for day, value in points),
    )
