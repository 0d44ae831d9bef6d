"""The PDF reports are tagged for assistive technology (PDF/UA-1): a structure tree in reading
order with headings, tables and figures that carry alternate text, the document's language and
title; and their text still extracts. Issue 15, section 5."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import pytest
from conftest import login_as
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from vendor_risk.db import db, snapshot, utcnow
from vendor_risk.models import Role
from vendor_risk.reports import data, render
from vendor_risk.services import blast_radius
from vendor_risk.services.demo import IDENTITY_PROVIDER
from vendor_risk.services.portfolio import aggregates as portfolio

# A sentence of each report's first page.
SAYS = {
    "assessment": "VENDOR RISK ASSESSMENT Keystone Identity",
    "incident": "Support system breach",
    "portfolio": "Vendors by residual tier",
}


@pytest.fixture
def three_pdfs(app, make_user) -> dict[str, render.Rendered]:
    """The demo's assessment of the identity provider, an incident report on it and the
    portfolio summary, as the app renders them."""
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    client = app.test_client()
    login_as(client, make_user(Role.risk_officer))
    with app.app_context():
        keystone = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
    started = (utcnow() - timedelta(days=3)).date()
    opened = client.post(
        "/incidents/new",
        data={
            "vendor_id": keystone,
            "title": "Support system breach",
            "started_at": started.isoformat(),
            "detected_at": started.isoformat(),
        },
    )
    assert opened.status_code == 302, opened.get_data(as_text=True)
    incident_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        portfolio.ensure_fresh(db.session)
        db.session.commit()
        with snapshot(db.session):
            reports = {
                "assessment": data.vendor_assessment(db.session, keystone, exported_by="Tester"),
                "incident": data.incident_report(db.session, incident_id),
                "portfolio": data.portfolio_report(db.session),
            }
        return {kind: render.render(report) for kind, report in reports.items()}


def structure(node, kinds: list[str], alts: dict[str, list[str]]) -> None:
    """Every structure element's type under ``node``, in order, and the figures' /Alt."""
    node = node.get_object()
    if isinstance(node, DictionaryObject):
        kind = node.get("/S")
        if kind is not None:
            kinds.append(str(kind))
            if kind == "/Figure":
                alts.setdefault("/Figure", []).append(str(node.get("/Alt", "")))
        children = node.get("/K")
        if children is None:
            return
        node = children.get_object()
    if isinstance(node, list):
        for child in node:
            structure(child, kinds, alts)
    elif isinstance(node, DictionaryObject):
        structure(node, kinds, alts)


def test_every_report_is_a_tagged_pdf_with_its_language_title_and_figures_described(
    three_pdfs,
):
    for kind, rendered in three_pdfs.items():
        reader = PdfReader(io.BytesIO(rendered.pdf))
        catalog = reader.trailer["/Root"]
        assert catalog["/MarkInfo"]["/Marked"].value is True, kind
        assert catalog["/Lang"] == "en", kind
        assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True, kind
        assert reader.metadata.title, kind
        assert "pdfuaid" in reader.xmp_metadata.rdf_root.toxml(), kind

        kinds: list[str] = []
        alts: dict[str, list[str]] = {}
        structure(catalog["/StructTreeRoot"], kinds, alts)
        # Headings in order, tables with their header cells, the charts as figures.
        assert kinds.count("/H1") == 1, kind
        assert "/H2" in kinds and "/Table" in kinds and "/TH" in kinds and "/TD" in kinds, kind
        assert "/Figure" in kinds, kind
        # Each chart and diagram says what it shows (its SVG <title>).
        assert alts["/Figure"] and all(alt.strip() for alt in alts["/Figure"]), (kind, alts)

        # Tagging changes nothing a reader of the text sees.
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert "Content SHA-256" in text, kind
        assert SAYS[kind] in " ".join(text.split()), kind


# ---- page breaks: a heading stays with what follows it, a figure leaves no blank page -------

PAGE_HEIGHT = 842.0  # A4 in points
TOP, BOTTOM = 51.0, 62.4  # report.css: the page margins (18 mm, 22 mm) in points


def page_lines(page) -> tuple[list[str], float]:
    """The body's lines of text on a page (the footer left out) and how far down the page
    the body's text goes, as a share of the body's height (0 at the top margin, 1 at the bottom)."""
    lowest = [PAGE_HEIGHT]

    def visit(text, cm, tm, font, size):
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        if text.strip() and y > BOTTOM:
            lowest[0] = min(lowest[0], y)

    text = page.extract_text(visitor_text=visit)
    lines = [line for line in text.splitlines() if line.strip()]
    body = [line for line in lines if not line.startswith("Generated ")]
    return body, (PAGE_HEIGHT - TOP - lowest[0]) / (PAGE_HEIGHT - TOP - BOTTOM)


def headings(html: str) -> list[str]:
    """The text of every h2, h3 and h4 of the report's HTML, whitespace left out."""
    found = re.findall(r"<h([234])[^>]*>(.*?)</h\1>", html, flags=re.S)
    return [squeezed(unescape(re.sub(r"<[^>]+>", "", text))) for _, text in found]


def squeezed(text: str) -> str:
    return "".join(text.split())


def test_a_heading_stays_with_what_follows_and_no_page_is_left_mostly_blank(three_pdfs):
    for kind, rendered in three_pdfs.items():
        titles = [title for title in headings(rendered.html) if title]
        assert titles, kind
        pages = [page_lines(page) for page in PdfReader(io.BytesIO(rendered.pdf)).pages]
        for number, (body, depth) in enumerate(pages, 1):
            last = squeezed(" ".join(body[-2:]))
            ending = [t for t in titles if last.endswith(t)]
            assert not ending, f"{kind}, page {number} ends with the heading {ending[0]!r}"
            if number == 1 or number == len(pages):
                continue  # the cover stands alone; the last page ends where the text does
            next_first = pages[number][0][0] if pages[number][0] else ""
            if next_first.startswith("Appendix"):
                continue  # the appendix starts on a page of its own
            assert depth > 0.5, f"{kind}, page {number} is mostly blank ({depth:.0%} used)"


def test_a_tall_figure_shrinks_onto_the_page_and_a_table_keeps_its_heading_and_rows(app):
    """Made to break badly: 40% of a page of text then a figure taller than the rest of the
    page (it used to move to the next page, leaving 60% blank); then text down to the foot of
    a page before a heading and its table."""
    words = "The vendor keeps our credentials in a vault. " * 12
    tall = (
        '<figure class="chart"><figcaption>Tall diagram</figcaption>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="500" height="900" viewBox="0 0 500 900">'
        '<title>Tall diagram</title><rect width="500" height="900" fill="#d9e2ec"/>'
        '<text x="10" y="890">Foot of the diagram</text></svg></figure>'
    )
    rows = "".join(f"<tr><td>Row {n}</td><td>value {n}</td></tr>" for n in range(1, 30))
    table = (
        "<h2>Credentials held</h2><table><thead><tr><th class='w50'>Name</th>"
        f"<th class='w50'>Value</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    filler = "".join(f"<p>{words}</p>" for _ in range(3))
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Layout</title>'
        '<link rel="stylesheet" href="css/report.css"></head><body>'
        f"{filler}{tall}{''.join(f'<p>{words}</p>' for _ in range(8))}{table}</body></html>"
    )
    with app.app_context():
        pdf, _ = render.html_to_pdf(html)
    pages = [page_lines(page) for page in PdfReader(io.BytesIO(pdf)).pages]
    first_body, first_depth = pages[0]
    assert "Foot of the diagram" in first_body and first_depth > 0.5
    for body, _ in pages:
        assert squeezed(body[-1]) != "Credentialsheld"
        if "Credentials held" in body:
            assert body[body.index("Credentials held") + 1 :][:3] == [
                "Name Value",
                "Row 1 value 1",
                "Row 2 value 2",
            ]
