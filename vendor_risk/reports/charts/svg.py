"""Rendering: matplotlib draws a figure, under a lock and the charts' settings (rcParams in a
context, nothing changed for good), and its SVG is made fit for a page under a strict CSP."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET  # builds and serialises; parsing is defused

from defusedxml.ElementTree import fromstring as parse_xml
from markupsafe import Markup

from .palette import BACKGROUND, FONT_FAMILY, INK, MUTED_INK

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

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
    import matplotlib

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


def finish(
    source: str,
    *,
    title: str,
    description: str,
    tips: Mapping[str, str] = MappingProxyType({}),
    prepare: Callable[[ET.Element], None] | None = None,
) -> Markup:
    """An SVG document (matplotlib's, or Graphviz's for the blast-radius diagram) -> an <svg>
    element to inline in a page under a strict CSP. ``prepare``, if given, changes the parsed
    tree first (plain tag names already)."""
    return _finish(source, title=title, description=description, tips=tips, prepare=prepare)


def _finish(
    source: str,
    *,
    title: str,
    description: str,
    tips: Mapping[str, str] = MappingProxyType({}),
    prepare: Callable[[ET.Element], None] | None = None,
) -> Markup:
    """matplotlib's SVG document -> an <svg> element to inline in a page under a strict CSP."""
    root = parse_xml(source[source.index("<svg") :])
    for element in root.iter():
        # Plain tag names, the xmlns written once on the root (as HTML inlines SVG).
        element.tag = element.tag.removeprefix(f"{{{_SVG}}}")
    if prepare is not None:
        prepare(root)
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
