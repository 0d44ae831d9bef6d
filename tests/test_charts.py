"""The chart module: every chart is SVG text a strict CSP accepts, says what it shows to screen
readers, links its bars to their lists (only inside the app), carries its data as a table, and
comes out the same twice. Pure: no app, no database (the macro renders with plain Jinja)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring
from jinja2 import Environment, FileSystemLoader, select_autoescape

import vendor_risk
from vendor_risk.reports import charts
from vendor_risk.reports.charts import (
    Bar,
    Series,
    bar_chart,
    heat_map,
    line_chart,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
TEMPLATES = Path(vendor_risk.__file__).parent / "templates"

TIERS = (
    Bar("Critical", 2, "/inventory/vendors?tier=critical&status=active", "critical"),
    Bar("High", 5, "/inventory/vendors?tier=high", "high"),
    Bar("Medium", 12, None, "medium"),
    Bar("Low", 30, "/inventory/vendors?tier=low", "low"),
)


def tiers(**options) -> charts.Chart:
    return bar_chart(
        "Vendors by tier",
        "47 vendors: 2 critical, 5 high.",
        TIERS,
        value_label="vendors",
        category_label="Tier",
        **options,
    )


def stacked() -> charts.Chart:
    return stacked_bar_chart(
        "Findings by vendor",
        "Acme has the most open findings.",
        ["Acme", "Globex"],
        [
            Series("Open", (6, 2), "high", ("/findings?vendor=1&status=open", None)),
            Series("Resolved", [3, 4], "ok"),
        ],
        value_label="findings",
        category_label="Vendor",
    )


def heat() -> charts.Chart:
    return heat_map(
        "Inherent against residual tier",
        "Most vendors sit on the diagonal.",
        x_labels=["Low", "High"],
        y_labels=["High", "Low"],
        cells=[[3, 7], [11, 0]],
        risk=[[0.5, 1.0], [0.0, 0.5]],
        x_title="Residual",
        y_title="Inherent",
        hrefs=[["/inventory/vendors?tier=high&residual=low", None], [None, None]],
    )


def trend(points=None) -> charts.Chart:
    if points is None:
        points = [(date(2026, 1, 1), 40.0), (date(2026, 2, 1), 52.5), (date(2026, 3, 1), 61.0)]
    return line_chart("Average residual score", "Up from 40 to 61.", points, y_label="score")


ALL = {
    "bar": tiers,
    "horizontal bar": lambda: tiers(horizontal=True),
    "stacked": stacked,
    "heat map": heat,
    "line": trend,
    "empty bar": lambda: bar_chart("Nothing", "No vendor yet.", [], value_label="vendors"),
    "empty stacked": lambda: stacked_bar_chart("Nothing", "None.", [], [], value_label="x"),
    "empty heat map": lambda: heat_map(
        "Nothing", "None.", x_labels=[], y_labels=[], cells=[], risk=[], x_title="x", y_title="y"
    ),
    "line without history": lambda: trend([]),
    "line with one point": lambda: trend([(date(2026, 3, 1), 61.0)]),
}


def parse(chart: charts.Chart) -> Element:
    return fromstring(str(chart.svg))


def texts(chart: charts.Chart) -> list[str]:
    return [t.text or "" for t in parse(chart).iter(f"{SVG}text")]


def links(chart: charts.Chart) -> dict[str, str]:
    """href -> the link's accessible name."""
    return {a.get("href"): a.get("aria-label") for a in parse(chart).iter(f"{SVG}a")}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_every_chart_is_an_inline_svg_a_strict_csp_accepts(make):
    chart = make()
    source = str(chart.svg)
    assert source.startswith("<svg ") and "<?xml" not in source and "DOCTYPE" not in source
    root = parse(chart)
    assert root.tag == f"{SVG}svg"
    # The CSP forbids inline styles: everything would be drawn black.
    assert not [e.tag for e in root.iter() if "style" in e.attrib]
    assert not list(root.iter(f"{SVG}style"))
    assert "style=" not in source
    # Colours survive as attributes, and the size is responsive (viewBox kept, CSS scales it).
    assert any(e.get("fill") not in (None, "none", "#ffffff") for e in root.iter())
    assert root.get("viewBox") and root.get("width").isdigit()
    assert not list(root.iter(f"{SVG}metadata"))


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_title_and_description_come_first_and_label_the_svg(make):
    chart = make()
    root = parse(chart)
    title, desc = root[0], root[1]
    assert (title.tag, title.text) == (f"{SVG}title", chart.title)
    assert (desc.tag, desc.text) == (f"{SVG}desc", chart.description)
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    # Links inside role="img" would be hidden from assistive technology.
    assert root.get("role") == ("group" if links(chart) else "img")


def test_labels_and_values_are_text():
    shown = texts(tiers())
    assert {"Critical", "High", "Medium", "Low", "2", "5", "12", "30", "vendors"} <= set(shown)
    assert {"Acme", "Globex", "6", "2", "3", "4", "9", "Open", "Resolved"} <= set(texts(stacked()))
    assert {"3", "7", "11", "0", "Residual", "Inherent"} <= set(texts(heat()))
    assert "61" in texts(trend())


def test_long_labels_are_shortened_or_wrapped_and_kept_whole_in_the_table():
    name = "Keystone Identity Worldwide Holdings International"
    chart = bar_chart("Long", "One.", [Bar(name, 3)], value_label="v", horizontal=True)
    assert name not in texts(chart)
    assert any(t.startswith("Keystone") and t.endswith("\u2026") for t in texts(chart))
    assert chart.rows == ((name, 3),)


def test_bars_and_cells_link_to_their_lists():
    assert links(tiers()) == {
        "/inventory/vendors?tier=critical&status=active": "Critical: 2 vendors",
        "/inventory/vendors?tier=high": "High: 5 vendors",
        "/inventory/vendors?tier=low": "Low: 30 vendors",
    }
    assert "tier=critical&amp;status=active" in str(tiers().svg)  # escaped in the markup
    assert links(stacked()) == {"/findings?vendor=1&status=open": "Acme, Open: 6 findings"}
    assert links(heat()) == {
        "/inventory/vendors?tier=high&residual=low": "Inherent High, Residual Low: 3 (medium risk)"
    }
    # Each linked bar also has a tooltip, and the links stay in the tab.
    root = parse(tiers())
    assert all(a.get("target") is None for a in root.iter(f"{SVG}a"))
    assert "Critical: 2 vendors" in [t.text for t in root.iter(f"{SVG}title")]


@pytest.mark.parametrize(
    "href",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "inventory/vendors",
        "/inventory\n/vendors",
        "",
    ],
)
def test_a_link_out_of_the_app_is_refused(href):
    with pytest.raises(ValueError, match="paths of this app"):
        Bar("Critical", 2, href)
    with pytest.raises(ValueError, match="paths of this app"):
        Series("Open", (1,), hrefs=(href,))
    with pytest.raises(ValueError, match="paths of this app"):
        heat_map("H", "d", x_labels=["a"], y_labels=["b"], cells=[[1]], risk=[[0]],
                 x_title="x", y_title="y", hrefs=[[href]])  # fmt: skip


def test_unknown_tones_and_ragged_data_are_refused():
    with pytest.raises(ValueError, match="tone"):
        Bar("x", 1, tone="purple")
    with pytest.raises(ValueError, match="one value per category"):
        stacked_bar_chart("S", "d", ["a", "b"], [Series("s", (1,))], value_label="v")
    with pytest.raises(ValueError, match="one row per y label"):
        heat_map("H", "d", x_labels=["a"], y_labels=["b", "c"], cells=[[1]], risk=[[0], [1]],
                 x_title="x", y_title="y")  # fmt: skip


def test_the_table_holds_the_data():
    chart = tiers()
    assert chart.columns == ("Tier", "vendors")
    assert chart.rows == (("Critical", 2), ("High", 5), ("Medium", 12), ("Low", 30))
    assert chart.links == tuple(bar.href for bar in TIERS)
    s = stacked()
    assert s.columns == ("Vendor", "Open", "Resolved", "Total")
    assert s.rows == (("Acme", 6, 3, 9), ("Globex", 2, 4, 6))
    assert s.cell_links[0] == (None, "/findings?vendor=1&status=open", None, None)
    h = heat()
    assert h.columns == ("Inherent / Residual", "Low", "High")
    assert h.rows == (("High", 3, 7), ("Low", 11, 0))
    assert h.cell_links[0][1] == "/inventory/vendors?tier=high&residual=low"
    t = trend()
    assert t.columns == ("Date", "score")
    assert t.rows == (("1 Jan 2026", 40.0), ("1 Feb 2026", 52.5), ("1 Mar 2026", 61.0))


def test_the_same_data_gives_the_same_bytes():
    first = {name: str(make().svg) for name, make in ALL.items()}
    charts.cache_clear()
    again = {name: str(make().svg) for name, make in ALL.items()}
    assert first == again


def test_two_charts_on_one_page_share_no_id_and_every_reference_resolves():
    one, two = tiers(), tiers(horizontal=True)
    ids = []
    for chart in (one, two):
        root = parse(chart)
        own = {e.get("id") for e in root.iter() if e.get("id")}
        ids.append(own)
        source = str(chart.svg)
        referenced = set(re.findall(r'href="#([^"]+)"', source)) | set(
            re.findall(r"url\(#([^)]+)\)", source)
        )
        assert referenced <= own
    assert not ids[0] & ids[1]


def test_empty_data_gives_a_valid_chart_saying_so():
    for name in ("empty bar", "empty stacked", "empty heat map"):
        chart = ALL[name]()
        assert "No data" in chart.description
        assert "No data" in texts(chart)
        assert chart.rows == ()
    none, one = trend([]), trend([(date(2026, 3, 1), 61.0)])
    assert "Not enough history yet" in none.description
    assert "Not enough history yet" in one.description
    assert "Not enough history yet" in texts(one) and "61" in texts(one)
    assert "Not enough history yet" not in trend().description


def test_hostile_text_is_escaped_and_dollars_are_not_mathematics():
    chart = bar_chart(
        "<script>alert(1)</script>",
        'Says "hi" & <b>bye</b>',
        [Bar("$5 to $10 <img src=x>", 3)],
        value_label="vendors",
    )
    source = str(chart.svg)
    assert "<script>" not in source and "<img" not in source and "<b>" not in source
    root = parse(chart)
    assert root[0].text == "<script>alert(1)</script>"
    assert "$5 to $10 <img src=x>" in texts(chart)


def test_every_colour_with_a_figure_on_it_keeps_a_contrast_of_4_5():
    backgrounds = [*charts.TONES.values(), *charts.SERIES_COLOURS, *charts.HEAT_COLOURS]
    for colour in backgrounds:
        assert charts.contrast(charts.text_colour_on(colour), colour) >= 4.5, colour
    assert charts.contrast(charts.INK, charts.BACKGROUND) >= 4.5
    assert charts.contrast(charts.MUTED_INK, charts.BACKGROUND) >= 4.5
    # And the figures printed inside segments and cells use that colour.
    for chart in (stacked(), heat()):
        fills = {t.get("fill") for t in parse(chart).iter(f"{SVG}text")}
        assert fills <= {charts.INK, charts.BACKGROUND, charts.MUTED_INK}


def cell_fills(chart: charts.Chart) -> dict[str, str]:
    """The tooltip of each heat-map cell -> its fill."""
    fills = {}
    for group in parse(chart).iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        path = next(group.iter(f"{SVG}path"), None)
        if title is not None and path is not None:
            fills[title.text] = path.get("fill")
    return fills


def test_heat_map_cells_are_coloured_by_their_risk_not_their_count():
    chart = heat_map(
        "Inherent against residual tier",
        "d",
        x_labels=["Low", "Critical"],
        y_labels=["Critical", "Low"],
        cells=[[5, 5], [5, 40]],  # the same count in the least and the most risky cell
        risk=[[0.5, 1.0], [0.0, 0.5]],
        x_title="Residual",
        y_title="Inherent",
    )
    fills = cell_fills(chart)
    lowest = fills["Inherent Low, Residual Low: 5 (lowest risk)"]
    highest = fills["Inherent Critical, Residual Critical: 5 (highest risk)"]
    assert lowest == charts.HEAT_COLOURS[0]  # green
    assert highest == charts.HEAT_COLOURS[-1]  # dark red
    # Eight times the vendors, the same risk: the same colour.
    assert (
        fills["Inherent Critical, Residual Low: 5 (medium risk)"]
        == fills["Inherent Low, Residual Critical: 40 (medium risk)"]
    )
    # The count is printed in each cell, and the risk said in words (not by colour alone).
    assert {"5", "40"} <= set(texts(chart))
    # Green to red, darker as the risk grows: the order reads without colour vision.
    lightness = [charts.contrast(c, charts.INK) for c in charts.HEAT_COLOURS]
    assert lightness == sorted(lightness, reverse=True)


def test_a_risk_out_of_its_range_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        heat_map("H", "d", x_labels=["a"], y_labels=["b"], cells=[[1]], risk=[[3]],
                 x_title="x", y_title="y")  # fmt: skip


DAY_LABEL = re.compile(r"^([1-9]|[12]\d|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$")
MONTH_LABEL = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$")
YEAR_LABEL = re.compile(r"^20\d\d$")


@pytest.mark.parametrize(
    ("days", "step", "label"),
    [
        (2, 1, DAY_LABEL),
        (10, 1, DAY_LABEL),
        (30, 1, DAY_LABEL),
        (60, 1, DAY_LABEL),
        (26, 7, MONTH_LABEL),
        (24, 30, MONTH_LABEL),
        (60, 60, YEAR_LABEL),
    ],
)
def test_a_date_axis_reads_as_dates(days, step, label):
    points = [(date(2026, 12, 3) + timedelta(days=n * step), 40.0 + n % 5) for n in range(days)]
    chart = trend(points)
    y_and_others = {"Mean", "score", charts.number(points[-1][1])}
    shown = [t for t in texts(chart) if not re.fullmatch(r"[\d.,]+", t) or YEAR_LABEL.match(t)]
    dates = [t for t in shown if t not in y_and_others]
    marks = [t for t in dates if label.match(t)]
    assert 2 <= len(marks) <= 6, dates
    # Every label is a day, a month or a year: never an ISO date, a time or an ordinal number.
    for text in dates:
        assert DAY_LABEL.match(text) or MONTH_LABEL.match(text) or YEAR_LABEL.match(text), text
    assert any(YEAR_LABEL.match(t) for t in dates)  # the year is said once at least
    # The description and the data table say the days as people write them too.
    assert chart.rows[0][0] == "3 Dec 2026"


def test_a_single_day_is_labelled_with_its_day_and_year():
    chart = trend([(date(2026, 12, 3), 61.0)])
    assert {"3 Dec", "2026"} <= set(texts(chart))
    assert not any(":" in t for t in texts(chart))  # no time of day


def test_tier_colours_are_the_same_in_every_chart():
    root = parse(tiers())
    fills = [p.get("fill") for a in root.iter(f"{SVG}a") for p in a.iter(f"{SVG}path")]
    assert fills == [charts.TONES["critical"], charts.TONES["high"], charts.TONES["low"]]


def test_rendering_is_cached_by_the_arguments():
    charts.cache_clear()
    first = tiers()
    assert tiers() is first
    assert (
        bar_chart(
            "Vendors by tier",
            "47 vendors: 2 critical, 5 high.",
            list(TIERS),  # a list hashes as the same tuple
            value_label="vendors",
            category_label="Tier",
        )
        is first
    )


# ---- the macro -------------------------------------------------------------------------------


def macro(chart: charts.Chart, **options) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    template = env.from_string('{% from "_chart.html" import chart %}{{ chart(c, **o) }}')
    return template.render(c=chart, o=options)


def test_the_macro_shows_the_figure_its_title_and_the_data_table():
    html = macro(tiers(), caption="Active vendors only")
    assert html.count("<figure") == 1 and "<svg " in html
    assert "<figcaption>Vendors by tier" in html and "Active vendors only" in html
    assert '<details class="chart-data">' in html
    assert '<summary>Data for "Vendors by tier" as a table</summary>' in html
    assert '<th scope="col">Tier</th>' in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    assert len(rows) == 4
    assert re.search(
        r'<th scope="row"><a href="/inventory/vendors\?tier=critical&amp;status=active">'
        r"Critical</a></th>\s*<td class=\"num\">2</td>",
        rows[0],
    )
    assert '<th scope="row">Medium</th>' in rows[2]  # no link: no anchor


def test_the_macro_links_each_cell_of_a_stacked_chart_and_formats_numbers():
    html = macro(stacked())
    assert '<td class="num"><a href="/findings?vendor=1&amp;status=open">6</a></td>' in html
    assert '<td class="num">9</td>' in html
    assert ">52.5<" in macro(trend())
    assert "No data." in macro(ALL["empty bar"]())


# ---- the same chart in a PDF -----------------------------------------------------------------


def test_a_chart_in_a_pdf_keeps_its_labels_as_text():
    pypdf = pytest.importorskip("pypdf")
    weasyprint = pytest.importorskip("weasyprint")
    page = f"<html><body><h1>Portfolio</h1>{macro(tiers())}{macro(heat())}</body></html>"
    pdf = weasyprint.HTML(string=page).write_pdf()
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    words = set(text.split())
    assert {"Critical", "High", "Medium", "Low", "30", "Residual", "Inherent", "11"} <= words
    # WeasyPrint lays the table out too: the data is in the PDF as text.
    assert "Data for" in text


def test_an_uncached_chart_renders_quickly():
    """Dashboards draw several charts per request; the budget is 40 ms a chart on a quiet
    machine. Checked loosely here (shared CI machines are not quiet): 10x the budget."""
    import time

    charts.cache_clear()
    tiers()  # matplotlib's own caches (fonts) warm
    charts.cache_clear()
    started = time.process_time()
    for make in (tiers, stacked, heat, trend):
        make()
    assert (time.process_time() - started) / 4 < 0.4
