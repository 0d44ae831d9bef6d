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
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from xml.etree import ElementTree as ET  # builds and serialises; parsing is defused

import matplotlib
from defusedxml.ElementTree import fromstring as parse_xml
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.colors import to_rgb
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

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
# Heat-map cells: white for none, then the amber to dark red of the tiers.
HEAT_COLOURS = ("#ffffff", "#fdeec8", "#fbd38d", "#f6a04d", "#ef6c00", "#b83c0b", "#99000d")
FONT_FAMILY = ("DejaVu Sans", "sans-serif")  # WeasyPrint and every browser have it

NO_DATA = "No data"
NOT_ENOUGH_HISTORY = "Not enough history yet"

_SVG = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_LOCK = threading.Lock()  # matplotlib's font and text caches are not thread-safe
# rcParams apply only inside rc_context, under the lock: nothing global is changed for good.
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "vendor-risk",
    "text.parse_math": False,  # "$5 to $10" is text, not mathematics
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY[0]],
    "font.size": 9,  # FONT_SIZE
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED_INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "figure.facecolor": BACKGROUND,
    "axes.facecolor": BACKGROUND,
}
# The CSS properties matplotlib writes, all of which exist as SVG presentation attributes.
_PRESENTATION = frozenset(
    {
        "clip-path",
        "clip-rule",
        "color",
        "display",
        "dominant-baseline",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-stretch",
        "font-style",
        "font-variant",
        "font-weight",
        "letter-spacing",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
        "visibility",
    }
)
_URL_REFERENCE = re.compile(r"url\(#([^)]+)\)")
_CACHE_SIZE = 256


# ---- what goes in and what comes out ---------------------------------------------------------


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


# ---- rendering: matplotlib, then the SVG made fit for a page ---------------------------------


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height))
    FigureCanvasSVG(figure)  # never pyplot: no global figure manager in a threaded app
    return figure


def render(
    title: str,
    description: str,
    paint: Callable[[Figure], Mapping[str, str] | None],
    *,
    width: float,
    height: float,
) -> Markup:
    """What ``paint`` draws on a figure of ``width`` x ``height`` inches, as an <svg> element
    fit to inline in a page or a PDF. ``paint`` may return tooltips by artist gid: each becomes
    the <title> of that artist and, when the artist is a link, its accessible name."""
    buffer = io.StringIO()
    with _LOCK, matplotlib.rc_context(_RC):
        figure = _new_figure(width, height)
        tips = paint(figure) or {}
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _finish(buffer.getvalue(), title=title, description=description, tips=tips)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32].strip("-") or "chart"


def _presentation_attributes(element: ET.Element) -> None:
    """style="a: b; c: d" -> a="b" c="d": the CSP ignores style attributes."""
    style = element.attrib.pop("style", None)
    if not style:
        return
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name not in _PRESENTATION:
            # A matplotlib upgrade writing something new: fail the tests, not the colours.
            raise ValueError(f"no SVG presentation attribute for CSS property {name!r}")
        element.set(name, value)


def _finish(
    source: str, *, title: str, description: str, tips: Mapping[str, str] = MappingProxyType({})
) -> Markup:
    """matplotlib's SVG document -> an <svg> element to inline in a page under a strict CSP."""
    root = parse_xml(source[source.index("<svg") :])
    for element in root.iter():
        # Plain tag names, the xmlns written once on the root (as HTML inlines SVG).
        element.tag = element.tag.removeprefix(f"{{{_SVG}}}")
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in ("metadata", "style"):
                parent.remove(child)
    # The only rule of matplotlib's <style> element ("*{stroke-linejoin: round; ...}"):
    # inherited, so the same as attributes on the root.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    for element in root.iter():
        _presentation_attributes(element)
        href = element.attrib.pop(_XLINK_HREF, None)
        if href is not None:
            element.set("href", href)  # SVG 2: no xlink namespace needed inline in HTML
        if element.tag == "a":
            element.attrib.pop("target", None)  # stay in the tab
        if "d" in element.attrib:
            element.set("d", " ".join(element.get("d", "").split()))
        if element.tag not in ("text", "tspan"):
            element.text = element.text.strip() or None if element.text else None
        element.tail = None

    # matplotlib's output is deterministic: its digest tells charts apart for their ids.
    digest = hashlib.sha256("\0".join((title, description, source)).encode()).hexdigest()[:10]
    prefix = f"{_slug(title)}-{digest}"
    # Only the ids something points at are kept (prefixed); matplotlib's others go.
    referenced = set()
    for element in root.iter():
        for name, value in element.attrib.items():
            if name == "href" and value.startswith("#"):
                referenced.add(value[1:])
            referenced.update(_URL_REFERENCE.findall(value))
    for element in root.iter():
        own = element.attrib.pop("id", None)
        if own is not None and own in tips:
            tip = ET.Element("title")
            tip.text = tips[own]
            element.insert(0, tip)
            for link in element.iter("a"):
                link.set("aria-label", tips[own])  # a link's accessible name
        if own is not None and own in referenced:
            element.set("id", f"{prefix}-{own}")
        for name, value in list(element.attrib.items()):
            if name == "href" and value.startswith("#"):
                element.set(name, f"#{prefix}-{value[1:]}")
            elif "url(#" in value:
                element.set(name, _URL_REFERENCE.sub(lambda m: f"url(#{prefix}-{m[1]})", value))

    links = list(root.iter("a"))
    if any("aria-label" not in link.attrib for link in links):
        raise RuntimeError("every link in a chart needs a tooltip: its accessible name")
    width, height = (float(v) for v in root.get("viewBox", "0 0 0 0").split()[2:])
    title_element = ET.Element("title", id=f"{prefix}-title")
    title_element.text = title
    desc_element = ET.Element("desc", id=f"{prefix}-desc")
    desc_element.text = description
    root.insert(0, desc_element)
    root.insert(0, title_element)
    root.attrib.pop("version", None)
    root.attrib.update(
        {
            # The natural size in CSS pixels (the viewBox is in points); the page's CSS scales
            # it down to its container (.chart svg { max-width: 100%; height: auto }).
            "width": f"{width * 4 / 3:.0f}",
            "height": f"{height * 4 / 3:.0f}",
            "xmlns": _SVG,
            "class": "chart-svg",
            # Links inside an image would be hidden from assistive technology ("img" has
            # presentational children): a chart with links is a group of labelled links.
            "role": "group" if links else "img",
            "aria-labelledby": f"{prefix}-title {prefix}-desc",
            "font-family": ", ".join(FONT_FAMILY),
        }
    )
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704


# ---- helpers shared by the charts -----------------------------------------------------------

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
    return number(value) if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _luminance(colour: str) -> float:
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


# ---- bar charts ------------------------------------------------------------------------------


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
    )


# ---- heat map --------------------------------------------------------------------------------


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


# ---- a trend ---------------------------------------------------------------------------------


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


def cache_clear() -> None:
    """Forget every rendered chart (the benchmark measures uncached rendering)."""
    for cached in (_bar_chart, _stacked_bar_chart, _heat_map, _line_chart):
        cached.cache_clear()
