"""A report's plain data to HTML (Jinja templates in templates/reports/) to PDF (WeasyPrint).

WeasyPrint's own fetcher reads any URL and any local file: a text a vendor typed that ends up
as an image source would make the server fetch it. Every render here goes through
:class:`StaticOnlyFetcher`, which serves ``data:`` URIs and files under the app's static folder
and refuses everything else (WeasyPrint then skips the resource): no network, no other file,
no redirect, nothing outside the folder through ``..`` or a symbolic link.

The templates name static files relative to :data:`BASE_URL` (``css/report.css``), never by
the app's URL: a report is rendered the same way by a request, the command line or a
benchmark, without a request context.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import DataHandler, Request, url2pathname

import pydyf
from flask import current_app
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..db import utcnow
from . import data
from .charts import Bar, Chart, bar_chart
from .diagram import blast_radius_diagram

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
BASE_URL = STATIC_DIR.as_uri() + "/"
TEMPLATES = {
    "assessment": "reports/assessment.html",
    "incident": "reports/incident.html",
    "portfolio": "reports/portfolio.html",
}
# Shown in the footer of every page; the full digest is on the cover.
SHORT_DIGEST = 16
# Tagged PDF for assistive technology (PDF/UA-1): a structure tree of headings, paragraphs,
# lists, tables and figures in reading order, the catalog's /Lang from <html lang> and the
# title from <title> shown as the window title. A chart's <svg> is a Figure whose alternate
# text is its <title> (charts/ and diagram/ write one); the running footer is in a margin box,
# which WeasyPrint leaves out of the tree. It also implies PDF 1.7.
PDF_VARIANT = "pdf/ua-1"


def _display_title(document: Any, pdf: pydyf.PDF) -> None:
    """PDF/UA asks viewers to show the document's title, not its file name, as the window
    title (WeasyPrint writes the title but not this preference)."""
    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})


class URLRefused(ValueError):
    """A resource the report may not load; WeasyPrint logs it and leaves it out."""


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher (its documented hook) allowing ``data:`` URIs and the files
    under ``root`` only."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        # No protocol for the parent's opener: it is never asked to open anything.
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            # The scheme is data: and only the data handler is used: nothing is fetched.
            decoded = DataHandler().data_open(Request(url))  # noqa: S310
            return URLFetcherResponse(url, decoded.read(), dict(decoded.headers.items()))
        if scheme == "file":
            path = self.static_file(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        raise URLRefused(f"refused {url[:200]!r}: reports load only static files and data: URIs")

    def static_file(self, url: str) -> Path:
        """The file a ``file:`` URL names, if it lies inside the static folder once resolved."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise URLRefused(f"refused {url[:200]!r}: not a local file")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise URLRefused(f"refused {url[:200]!r}: not a static file of the app")
        return path


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    digest: str  # SHA-256 of the report's content (data.content_digest)
    generated_at: datetime
    html: str

    @property
    def short_digest(self) -> str:
        return self.digest[:SHORT_DIGEST]


# ---- the charts: pictures of the content, drawn from the plain data (not hashed themselves) ----

TIER_ORDER = ("critical", "high", "medium", "low")


# The width an A4 page prints the diagram at, in inches: drawn at that width, its text keeps
# its size instead of being scaled down to a few points.
DIAGRAM_WIDTH = 7.0


def _diagram(blast: data.BlastSummary) -> Chart:
    return blast_radius_diagram(blast.result, width=DIAGRAM_WIDTH)


def _assessment_charts(report: data.AssessmentReport) -> dict[str, Chart | None]:
    sections = [s for s in report.rating.sections if s.score is not None] if report.rating else []
    chart = None
    if sections:
        weakest = min(sections, key=lambda s: s.score)
        chart = bar_chart(
            "Control score by section",
            f"{len(sections)} sections scored from 0 to 100, higher is better; the weakest is "
            f"{weakest.title} at {weakest.score:.0f}.",
            [Bar(s.title, round(s.score, 1)) for s in sections],
            value_label="Score (0 to 100)",
            horizontal=True,
            width=6.6,
            height=max(1.6, 0.3 * len(sections) + 0.9),
            category_label="Section",
        )
    return {"sections": chart, "diagram": _diagram(report.blast)}


def _incident_charts(report: data.IncidentReport) -> dict[str, Chart | None]:
    progress = bar_chart(
        "Rotation progress",
        f"{report.done} of {report.total} credentials rotated or revoked; {report.gap} in the "
        "rotation gap.",
        [
            Bar("Done", report.done, tone="ok"),
            Bar("In the gap, held by the vendor", report.gap_held, tone="critical"),
            Bar("In the gap, stored copies", report.gap - report.gap_held, tone="critical"),
        ],
        value_label="Credentials",
        horizontal=True,
        width=6.6,
        height=1.7,
    )
    return {"progress": progress, "diagram": _diagram(report.blast)}


def _portfolio_charts(report: data.PortfolioReport) -> dict[str, Chart | None]:
    tiers = bar_chart(
        "Vendors by residual tier",
        "Rated vendors by the tier their residual risk computes to: "
        + ", ".join(f"{line.count} {line.label}" for line in report.residual_tiers)
        + ".",
        [Bar(line.label, line.count, tone=line.label) for line in report.residual_tiers],
        value_label="Vendors",
        width=6.6,
        height=2.4,
        category_label="Tier",
    )
    findings = bar_chart(
        "Open findings by severity",
        f"{report.open_findings_total} findings open or in remediation: "
        + ", ".join(f"{line.count} {line.label}" for line in report.open_findings)
        + ".",
        [Bar(line.label, line.count, tone=line.label) for line in report.open_findings],
        value_label="Findings",
        width=6.6,
        height=2.4,
        category_label="Severity",
    )
    return {"tiers": tiers, "findings": findings}


CHARTS = {
    "assessment": _assessment_charts,
    "incident": _incident_charts,
    "portfolio": _portfolio_charts,
}


def charts_of(report: Any) -> dict[str, Chart | None]:
    """The charts and the diagram a report shows, by name."""
    return CHARTS[report.kind](report)


def report_html(report: Any, *, digest: str, generated_at: datetime) -> str:
    """The report's HTML: its template with the plain data, its charts and the footer's
    figures. Needs an app context (the app's Jinja environment, autoescaping on)."""
    template = current_app.jinja_env.get_template(TEMPLATES[report.kind])
    return template.render(
        report=report,
        charts=charts_of(report),
        digest=digest,
        short_digest=digest[:SHORT_DIGEST],
        generated_at=generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """WeasyPrint alone: the tagged PDF of ``html`` and its number of pages."""
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render()
    return document.write_pdf(pdf_variant=PDF_VARIANT, finisher=_display_title), len(document.pages)


def render(report: Any, *, generated_at: datetime | None = None) -> Rendered:
    """The report as a PDF, with its content digest."""
    generated_at = generated_at or utcnow()
    digest = data.content_digest(report)
    html = report_html(report, digest=digest, generated_at=generated_at)
    pdf, pages = html_to_pdf(html)
    return Rendered(pdf, pages, digest, generated_at, html)
