"""The bar charts: one bar per item, or bars stacked from several series."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from .layout import (
    _EDGE,
    LINE,
    NO_DATA,
    _axes,
    _grid,
    _no_data,
    _plot_width,
    _scale,
    _text_width,
    _tone,
    _with_sentence,
    _wrap,
    number,
    shorten,
)
from .palette import DEFAULT_BAR, INK, SERIES_COLOURS, text_colour_on
from .svg import _CACHE_SIZE, render
from .values import Bar, Chart, Series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _category_axis(
    figure: Figure,
    categories: Sequence[str],
    tick_labels: Sequence[str],
    *,
    horizontal: bool,
    value_label: str,
    top: float = _EDGE,
) -> tuple[Axes, list[str]]:
    """Axes for bars, and the category labels as drawn: shortened on the left of horizontal
    bars, wrapped under vertical ones (the full text is in the tooltip and the table)."""
    if horizontal:
        labels = [shorten(c, 30) for c in categories]
        ax = _axes(
            figure,
            left_labels=labels,
            bottom_lines=1,
            left_title=False,
            bottom_title=bool(value_label),
            top=top,
            right=3 * _EDGE,
        )
        return ax, labels
    slot = _plot_width(figure, tick_labels) / max(len(categories), 1)
    labels = [_wrap(c, slot * 0.95) for c in categories]
    ax = _axes(
        figure,
        left_labels=tick_labels,
        bottom_lines=max(label.count("\n") + 1 for label in labels),
        left_title=bool(value_label),
        bottom_title=False,
        top=top,
    )
    return ax, labels


def _headroom(figure: Figure, largest: float, *, horizontal: bool, low: float = 0) -> float:
    """The fraction of the value axis the largest bar's printed figure needs past its end."""
    width, height = (inches * 72 for inches in figure.get_size_inches())
    if horizontal:
        return min(0.5, (_text_width(number(largest)) + 8) / (width * 0.6))
    return min(0.5, (LINE + 4) / (height * 0.6))


def _figures(
    ax: Axes,
    places: Iterable[float],
    at: Iterable[float],
    labels: Iterable[str],
    *,
    horizontal: bool,
    colour: str = INK,
    centred: bool = False,
) -> None:
    """Figures printed on bars: 2 points past their ends, or centred in them. Plain texts:
    bar_label's annotations cost twice as much to draw."""
    from matplotlib.transforms import offset_copy

    if centred:
        transform, ha, va = ax.transData, "center", "center"
    else:
        away = {"x": 2} if horizontal else {"y": 2}
        transform = offset_copy(ax.transData, fig=ax.figure, units="points", **away)
        ha, va = ("left", "center") if horizontal else ("center", "bottom")
    for place, value, label in zip(places, at, labels, strict=True):
        if label:
            x, y = (value, place) if horizontal else (place, value)
            ax.text(x, y, label, transform=transform, ha=ha, va=va, color=colour)


def _value_ticks(ax: Axes, low: float, high: float, ticks, labels, *, horizontal: bool) -> None:
    if horizontal:
        ax.set_xlim(low, high)
        ax.set_xticks(ticks, labels)
        _grid(ax, "x")
    else:
        ax.set_ylim(low, high)
        ax.set_yticks(ticks, labels)
        _grid(ax, "y")


def bar_chart(
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    value_label: str,
    horizontal: bool = False,
    width: float = 6.0,
    height: float = 3.0,
    category_label: str = "",
) -> Chart:
    """One bar per item, its value printed on it; a bar with an href links to its list.
    ``category_label`` heads the first column of the table."""
    return _bar_chart(
        title,
        description,
        tuple(bars),
        value_label=value_label,
        horizontal=horizontal,
        width=width,
        height=height,
        category_label=category_label,
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _bar_chart(
    title: str,
    description: str,
    bars: tuple[Bar, ...],
    *,
    value_label: str,
    horizontal: bool,
    width: float,
    height: float,
    category_label: str,
) -> Chart:
    if not bars:
        description = _with_sentence(description, NO_DATA)

    def paint(figure: Figure) -> dict[str, str]:
        if not bars:
            _no_data(figure)
            return {}
        values = [bar.value for bar in bars]
        headroom = _headroom(figure, max(values), horizontal=horizontal)
        low, high, ticks, tick_labels = _scale(values, headroom=headroom)
        categories = [bar.label for bar in bars]
        ax, labels = _category_axis(
            figure, categories, tick_labels, horizontal=horizontal, value_label=value_label
        )
        colours = [_tone(bar.tone, DEFAULT_BAR) for bar in bars]
        places = range(len(bars))
        if horizontal:
            drawn = ax.barh(places, values, color=colours, height=0.65)
            ax.set_yticks(places, labels)
            ax.set_ylim(len(bars) - 0.5, -0.5)  # the first bar on top, as the table reads
            ax.set_xlabel(value_label)
        else:
            drawn = ax.bar(places, values, color=colours, width=0.65)
            ax.set_xticks(places, labels)
            ax.set_xlim(-0.5, len(bars) - 0.5)
            ax.set_ylabel(value_label)
        _value_ticks(ax, low, high, ticks, tick_labels, horizontal=horizontal)
        _figures(ax, places, values, [number(v) for v in values], horizontal=horizontal)
        tips = {}
        for n, (patch, bar) in enumerate(zip(drawn.patches, bars, strict=True)):
            patch.set_gid(f"bar{n}")
            patch.set_url(bar.href)
            tips[f"bar{n}"] = f"{bar.label}: {number(bar.value)} {value_label}".rstrip()
        return tips

    return Chart(
        title=title,
        description=description,
        svg=render(title, description, paint, width=width, height=height),
        columns=(category_label or "Category", value_label),
        rows=tuple((bar.label, bar.value) for bar in bars),
        links=tuple(bar.href for bar in bars) if any(bar.href for bar in bars) else (),
        empty=not any(bar.value for bar in bars),
    )


def stacked_bar_chart(
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    value_label: str,
    horizontal: bool = False,
    width: float = 6.0,
    height: float = 3.0,
    category_label: str = "",
) -> Chart:
    """One bar per category, one segment per series (a legend names them); the total printed
    at the end of each bar, each segment's figure inside it when it is wide enough."""
    categories, series = tuple(categories), tuple(series)
    for item in series:
        if len(item.values) != len(categories):
            raise ValueError(f"series {item.name!r}: one value per category")
    return _stacked_bar_chart(
        title,
        description,
        categories,
        series,
        value_label=value_label,
        horizontal=horizontal,
        width=width,
        height=height,
        category_label=category_label,
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _stacked_bar_chart(
    title: str,
    description: str,
    categories: tuple[str, ...],
    series: tuple[Series, ...],
    *,
    value_label: str,
    horizontal: bool,
    width: float,
    height: float,
    category_label: str,
) -> Chart:
    empty = not categories or not series
    if empty:
        description = _with_sentence(description, NO_DATA)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]

    def paint(figure: Figure) -> dict[str, str]:
        if empty:
            _no_data(figure)
            return {}
        headroom = _headroom(figure, max(totals), horizontal=horizontal)
        low, high, ticks, tick_labels = _scale(totals, headroom=headroom)
        legend_columns = min(len(series), 4)
        legend_rows = math.ceil(len(series) / legend_columns)
        ax, labels = _category_axis(
            figure,
            categories,
            tick_labels,
            horizontal=horizontal,
            value_label=value_label,
            top=_EDGE + legend_rows * (LINE + 4),
        )
        places = range(len(categories))
        base = [0.0] * len(categories)
        thinnest = (high - low) * 0.06  # a thinner segment shows its figure in the tooltip
        tips = {}
        for s_index, item in enumerate(series):
            colour = _tone(item.tone, SERIES_COLOURS[s_index % len(SERIES_COLOURS)])
            common = {"color": colour, "label": item.name}
            if horizontal:
                drawn = ax.barh(places, item.values, left=base, height=0.65, **common)
            else:
                drawn = ax.bar(places, item.values, bottom=base, width=0.65, **common)
            _figures(
                ax,
                places,
                [b + v / 2 for b, v in zip(base, item.values, strict=True)],
                [number(v) if v >= thinnest else "" for v in item.values],
                horizontal=horizontal,
                colour=text_colour_on(colour),
                centred=True,
            )
            for c_index, patch in enumerate(drawn.patches):
                gid = f"seg{s_index}-{c_index}"
                patch.set_gid(gid)
                patch.set_url(item.hrefs[c_index] if item.hrefs else None)
                value = number(item.values[c_index])
                tips[gid] = f"{categories[c_index]}, {item.name}: {value} {value_label}".rstrip()
            base = [b + v for b, v in zip(base, item.values, strict=True)]
        _figures(ax, places, totals, [number(t) for t in totals], horizontal=horizontal)
        if horizontal:
            ax.set_yticks(places, labels)
            ax.set_ylim(len(categories) - 0.5, -0.5)
            ax.set_xlabel(value_label)
        else:
            ax.set_xticks(places, labels)
            ax.set_xlim(-0.5, len(categories) - 0.5)
            ax.set_ylabel(value_label)
        _value_ticks(ax, low, high, ticks, tick_labels, horizontal=horizontal)
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncols=legend_columns,
            borderaxespad=0.3,
            handlelength=1,
        )
        return tips

    cell_links = tuple(
        (None, *(s.hrefs[i] if s.hrefs else None for s in series), None)
        for i in range(len(categories))
    )
    return Chart(
        title=title,
        description=description,
        svg=render(title, description, paint, width=width, height=height),
        columns=(category_label or "Category", *(s.name for s in series), "Total"),
        rows=tuple(
            (category, *(s.values[i] for s in series), totals[i])
            for i, category in enumerate(categories)
        ),
        cell_links=cell_links if any(any(row) for row in cell_links) else (),
        empty=not any(totals),
    )
