"""The heat map: a grid of counts, darker for more."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from .layout import NO_DATA, _axes, _no_data, _plot_width, _with_sentence, _wrap, number, shorten
from .palette import GRID, HEAT_COLOURS, text_colour_on
from .svg import _CACHE_SIZE, render
from .values import Chart, check_href

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def heat_map(
    title: str,
    description: str,
    *,
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    cells: Sequence[Sequence[int]],
    x_title: str,
    y_title: str,
    hrefs: Sequence[Sequence[str | None]] | None = None,
    width: float = 5.0,
    height: float = 4.0,
) -> Chart:
    """A grid of counts, ``cells[y][x]``, the first y label on top: the count printed in each
    cell, darker for more; a cell with an href links to its list."""
    x_labels, y_labels = tuple(x_labels), tuple(y_labels)
    grid = tuple(tuple(row) for row in cells)
    links = None if hrefs is None else tuple(tuple(check_href(h) for h in row) for row in hrefs)
    for name, rows in (("cells", grid), ("hrefs", links)):
        if rows is not None and (
            len(rows) != len(y_labels) or any(len(row) != len(x_labels) for row in rows)
        ):
            raise ValueError(f"heat map {name}: one row per y label, one value per x label")
    return _heat_map(
        title,
        description,
        x_labels,
        y_labels,
        grid,
        links,
        x_title=x_title,
        y_title=y_title,
        width=width,
        height=height,
    )


def _heat_colour(count: int, highest: int) -> str:
    if count <= 0 or highest <= 0:
        return HEAT_COLOURS[0]
    steps = len(HEAT_COLOURS) - 1
    return HEAT_COLOURS[max(1, math.ceil(count / highest * steps))]


@lru_cache(maxsize=_CACHE_SIZE)
def _heat_map(
    title: str,
    description: str,
    x_labels: tuple[str, ...],
    y_labels: tuple[str, ...],
    cells: tuple[tuple[int, ...], ...],
    hrefs: tuple[tuple[str | None, ...], ...] | None,
    *,
    x_title: str,
    y_title: str,
    width: float,
    height: float,
) -> Chart:
    empty = not x_labels or not y_labels
    if empty:
        description = _with_sentence(description, NO_DATA)
    highest = max((count for row in cells for count in row), default=0)

    def paint(figure: Figure) -> dict[str, str]:
        from matplotlib.patches import Rectangle

        if empty:
            _no_data(figure)
            return {}
        left_labels = [shorten(label, 24) for label in y_labels]
        slot = _plot_width(figure, left_labels) / len(x_labels)
        bottom_labels = [_wrap(label, slot * 0.95, max_lines=2) for label in x_labels]
        ax = _axes(
            figure,
            left_labels=left_labels,
            bottom_lines=max(label.count("\n") + 1 for label in bottom_labels),
            left_title=bool(y_title),
            bottom_title=bool(x_title),
        )
        tips = {}
        for y, row in enumerate(cells):
            for x, count in enumerate(row):
                colour = _heat_colour(count, highest)
                cell = Rectangle(
                    (x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor=GRID, linewidth=1
                )
                cell.set_gid(f"cell{y}-{x}")
                cell.set_url(hrefs[y][x] if hrefs else None)
                ax.add_patch(cell)
                ax.text(x, y, number(count), ha="center", va="center", color=text_colour_on(colour))
                tips[f"cell{y}-{x}"] = (
                    f"{y_title} {y_labels[y]}, {x_title} {x_labels[x]}: {number(count)}"
                )
        ax.set_xlim(-0.5, len(x_labels) - 0.5)
        ax.set_ylim(len(y_labels) - 0.5, -0.5)  # the first row on top
        ax.set_xticks(range(len(x_labels)), bottom_labels)
        ax.set_yticks(range(len(y_labels)), left_labels)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(x_title)
        ax.set_ylabel(y_title)
        return tips

    cell_links = () if hrefs is None else tuple((None, *row) for row in hrefs)
    return Chart(
        title=title,
        description=description,
        svg=render(title, description, paint, width=width, height=height),
        columns=(f"{y_title} / {x_title}", *x_labels),
        rows=tuple((label, *row) for label, row in zip(y_labels, cells, strict=True)),
        cell_links=cell_links if any(any(row) for row in cell_links) else (),
    )
