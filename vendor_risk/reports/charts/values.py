"""What goes in a chart (bars, series, links into this app) and what comes out (a Chart: the
SVG, its words and its data as a table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .palette import TONES


def check_href(href: str | None) -> str | None:
    """Only links into this app: a path starting with one "/" (not "//host" nor "/\\host")."""
    if href is None:
        return None
    if (
        not isinstance(href, str)
        or not href.startswith("/")
        or href.startswith(("//", "/\\"))
        or any(ord(c) < 32 or c in "\\ " for c in href)
    ):
        raise ValueError(f"chart links must be paths of this app starting with '/': {href!r}")
    return href


def _check_tone(tone: str | None) -> None:
    if tone is not None and tone not in TONES:
        raise ValueError(f"unknown tone {tone!r}: one of {', '.join(TONES)}")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str | None = None  # the filtered list behind this bar: the bar is a link in the SVG
    tone: str | None = None  # a key of TONES

    def __post_init__(self) -> None:
        check_href(self.href)
        _check_tone(self.tone)


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]  # one per category
    tone: str | None = None
    hrefs: tuple[str | None, ...] | None = None  # one per category

    def __post_init__(self) -> None:
        # Tuples, so that a series given lists still hashes (the cache keys on it).
        object.__setattr__(self, "values", tuple(self.values))
        if self.hrefs is not None:
            object.__setattr__(self, "hrefs", tuple(check_href(h) for h in self.hrefs))
            if len(self.hrefs) != len(self.values):
                raise ValueError(f"series {self.name!r}: one href per value")
        _check_tone(self.tone)


@dataclass(frozen=True)
class Chart:
    title: str
    description: str  # what the chart shows and its key figures, in a sentence or two
    svg: Markup  # inline-ready <svg> with <title> and <desc> first
    columns: tuple[str, ...]  # the data as a table
    rows: tuple[tuple[Any, ...], ...]
    links: tuple[str | None, ...] = ()  # per row, the href of that row's list (as in the SVG)
    # Per row and column, where one row holds several linked figures (stacked bars, heat maps).
    cell_links: tuple[tuple[str | None, ...], ...] = field(default=())
    # Drawn at its natural size: on a page, a drawing wider than the column scrolls sideways
    # instead of shrinking its text (the blast-radius diagram). Charts fit their column.
    natural_size: bool = False
    # Nothing to show: no bars or cells, every figure zero, or no point in time. A dashboard
    # says how to get data instead of drawing it; a PDF still draws it (with "No data").
    empty: bool = False
