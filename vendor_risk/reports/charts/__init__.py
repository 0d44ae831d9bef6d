"""Every chart of the app, drawn as SVG on the server by matplotlib: pages and PDFs show the same.

Pure: values in, a frozen :class:`Chart` out (no Flask, no database). A chart carries its title,
a description that states the key figures (screen readers read it; so does the PDF), the inline
SVG, and its data as a table (``columns``, ``rows`` and the links of the rows), which the macro
in ``templates/_chart.html`` shows under the chart on request.

matplotlib draws; this module only post-processes its SVG, because the page CSP
(``default-src 'self'``) ignores ``style`` attributes and ``<style>`` elements and would render
everything black: each declaration becomes the equivalent presentation attribute. Text stays text
(``svg.fonttype: none``): searchable in PDFs, read by screen readers. Output is deterministic
(fixed hash salt, no date), and ids are prefixed per chart so that two charts on one page never
clash. Rendered charts are cached (``lru_cache``) by their arguments: dashboards draw several per
request. docs/charts.md explains the choices.

One module per chart family, ``bars``, ``heat_maps`` and ``trends``, over what they share:
``values`` (what goes in and comes out), ``palette`` (colours, font, contrast), ``svg``
(rendering) and ``layout`` (axes, text, scales); ``cache`` empties every family's cache.
matplotlib is imported only inside the functions that draw or measure, so importing this package
loads none of it. This package re-exports their names.
"""

from __future__ import annotations

from .bars import bar_chart, stacked_bar_chart
from .cache import cache_clear
from .heat_maps import heat_map
from .layout import FONT_SIZE, LINE, NO_DATA, NOT_ENOUGH_HISTORY, day_text, number, shorten
from .palette import (
    BACKGROUND,
    DEFAULT_BAR,
    FONT_FAMILY,
    GRID,
    HEAT_COLOURS,
    HEAT_RISK_WORDS,
    INK,
    MUTED_INK,
    SERIES_COLOURS,
    TONES,
    contrast,
    text_colour_on,
)
from .svg import finish, render
from .trends import line_chart
from .values import Bar, Chart, Series, check_href

__all__ = [
    "BACKGROUND",
    "DEFAULT_BAR",
    "FONT_FAMILY",
    "FONT_SIZE",
    "GRID",
    "HEAT_COLOURS",
    "HEAT_RISK_WORDS",
    "INK",
    "LINE",
    "MUTED_INK",
    "NOT_ENOUGH_HISTORY",
    "NO_DATA",
    "SERIES_COLOURS",
    "TONES",
    "Bar",
    "Chart",
    "Series",
    "bar_chart",
    "cache_clear",
    "check_href",
    "contrast",
    "day_text",
    "finish",
    "heat_map",
    "line_chart",
    "number",
    "render",
    "shorten",
    "stacked_bar_chart",
    "text_colour_on",
]
