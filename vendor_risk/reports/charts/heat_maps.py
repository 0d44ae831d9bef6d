"""The heat map: a grid of counts, each cell coloured by how risky its place in the grid is."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from .layout import NO_DATA, _axes, _no_data, _plot_width, _with_sentence, _wrap, number, shorten
from .palette import GRID, HEAT_COLOURS, HEAT_RISK_WORDS, text_colour_on
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
    risk: Sequence[Sequence[float]],
    x_title: str,
    y_title: str,
    hrefs: Sequence[Sequence[str | None]] | None = None,
    width: float = 5.0,
    height: float = 4.0,
) -> Chart:
    """A grid of counts, ``cells[y][x]``, the first y label on top: the count printed in each
    cell, whose colour says how risky that cell is, ``risk[y][x]`` from 0 (least, green) to 1
    (most, dark red), whatever its count; a cell with an href links to its list. The risk is
    said in words too, in each cell's tooltip."""
    x_labels, y_labels = tuple(x_labels), tuple(y_labels)
    grid = tuple(tuple(row) for row in cells)
    levels = tuple(tuple(_risk_level(r) for r in row) for row in risk)
    links = None if hrefs is None else tuple(tuple(check_href(h) for h in row) for row in hrefs)
    for name, rows in (("cells", grid), ("risk", levels), ("hrefs", links)):
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
        levels,
        links,
        x_title=x_title,
        y_title=y_title,
        width=width,
        height=height,
    )


def _risk_level(risk: float) -> int:
    """The step of :data:`HEAT_COLOURS` for a risk from 0 to 1."""
    if not 0 <= risk <= 1:
        raise ValueError(f"heat map risk: {risk} is not between 0 and 1")
    return round(risk * (len(HEAT_COLOURS) - 1))


@lru_cache(maxsize=_CACHE_SIZE)
def _heat_map(
    title: str,
    description: str,
    x_labels: tuple[str, ...],
    y_labels: tuple[str, ...],
    cells: tuple[tuple[int, ...], ...],
    levels: tuple[tuple[int, ...], ...],
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
                level = levels[y][x]
                colour = HEAT_COLOURS[level]
                cell = Rectangle(
                    (x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor=GRID, linewidth=1
                )
                cell.set_gid(f"cell{y}-{x}")
                cell.set_url(hrefs[y][x] if hrefs else None)
                ax.add_patch(cell)
                ax.text(x, y, number(count), ha="center", va="center", color=text_colour_on(colour))
                tips[f"cell{y}-{x}"] = (
                    f"{y_title} {y_labels[y]}, {x_title} {x_labels[x]}: {number(count)} "
                    f"({HEAT_RISK_WORDS[level]} risk)"
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
        empty=not any(any(row) for row in cells),
    )
