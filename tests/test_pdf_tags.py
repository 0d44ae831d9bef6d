"""The PDF reports are tagged for assistive technology (PDF/UA-1): a structure tree in reading
order with headings, tables and figures that carry alternate text, the document's language and
title; and their text still extracts. Issue 15, section 5."""

from __future__ import annotations

import io
from datetime import timedelta

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
def three_pdfs(app, make_user) -> dict[str, bytes]:
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
        return {kind: render.render(report).pdf for kind, report in reports.items()}


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
    for kind, pdf in three_pdfs.items():
        reader = PdfReader(io.BytesIO(pdf))
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
