"""The trend: a value over time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from .layout import (
    _EDGE,
    LINE,
    MONTHS,
    NO_DATA,
    NOT_ENOUGH_HISTORY,
    _axes,
    _grid,
    _no_data,
    _tick_label,
    _with_sentence,
    day_text,
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


MOST_DATE_TICKS = 6
_DAY_STEPS = (1, 2, 3, 7, 14)
_MONTH_STEPS = (1, 2, 3, 6, 12)


def _month_start(day: date, months_later: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


def date_ticks(first: date, last: date) -> tuple[tuple[date, ...], tuple[str, ...]]:
    """Whole days to mark on a date axis, at most :data:`MOST_DATE_TICKS`, and their labels
    as people write dates: "3 Dec" (days apart) or "Dec" (months apart), the year on a second
    line under the first tick and wherever the year changes; "2027" (years apart). Never a
    time of day."""
    span = (last - first).days
    ticks: list[date] = []
    for step in _DAY_STEPS:
        if span // step + 1 <= MOST_DATE_TICKS:
            ticks = [first + timedelta(days=n * step) for n in range(span // step + 1)]
            labels = [f"{d.day} {MONTHS[d.month - 1]}" for d in ticks]
            break
    else:
        start = _month_start(first, 0 if first.day == 1 else 1)
        months = (last.year - start.year) * 12 + last.month - start.month
        step = next((m for m in _MONTH_STEPS if months // m + 1 <= MOST_DATE_TICKS), None)
        if step is None:  # years apart: the first of January, every so many years
            years = last.year - first.year
            every = next(n for n in range(1, years + 2) if years // n + 1 <= MOST_DATE_TICKS)
            begin = first.year + (0 if (first.month, first.day) == (1, 1) else 1)
            ticks = [date(year, 1, 1) for year in range(begin, last.year + 1, every)]
            return tuple(ticks), tuple(str(day.year) for day in ticks)
        ticks = [_month_start(start, n * step) for n in range(months // step + 1)]
        labels = [MONTHS[d.month - 1] for d in ticks]
    shown = []
    for n, (day, label) in enumerate(zip(ticks, labels, strict=True)):
        new_year = n == 0 or day.year != ticks[n - 1].year
        shown.append(f"{label}\n{day.year}" if new_year else label)
    return tuple(ticks), tuple(shown)


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
        first_day = points[0][0]
        if len(points) == 1:
            ax.set_xlim(last_day - timedelta(days=15), last_day + timedelta(days=15))
            ax.set_title(NOT_ENOUGH_HISTORY, color=MUTED_INK, loc="left", pad=LINE)
        else:
            pad = timedelta(days=max(1, (last_day - first_day).days) * 0.04)
            ax.set_xlim(first_day - pad, last_day + pad)
        ax.set_xticks(*date_ticks(first_day, last_day))
        ax.set_ylim(low, high)
        ax.set_yticks(ticks, tick_labels)
        _grid(ax, "y")
        ax.set_ylabel(y_label)

    return Chart(
        title=title,
        description=description,
        svg=render(title, description, paint, width=width, height=height),
        columns=("Date", y_label),
        rows=tuple((day_text(day), value) for day, value in points),
        empty=not points,
    )
