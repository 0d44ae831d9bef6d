"""One export of a report, as the download routes and the command line make it: the data read
in one consistent snapshot, the PDF rendered outside any transaction, then the export audited
(who, which report, of what, its content SHA-256) in the caller's transaction, which commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..core.names import slug
from ..db import expect_writes, row_id, snapshot, utcnow
from ..models import AuditAction, Vendor
from ..services import audit
from ..services.audit import Actor
from . import data
from .render import Rendered, render

MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class Export:
    rendered: Rendered
    filename: str
    report: Any  # the plain data it was made from


def _made(session: Session, build: Callable[[datetime], Any]) -> tuple[Any, Rendered] | None:
    """The report read in one snapshot, then rendered outside any transaction."""
    now = utcnow()
    with snapshot(session):
        report = build(now)
    if report is None:
        return None
    return report, render(report, generated_at=now)


def _export(
    session: Session,
    build: Callable[[datetime], Any],
    *,
    actor: Actor,
    filename: Callable[[Any], str],
    audited: Callable[[Any], dict[str, Any]],
) -> Export | None:
    made = _made(session, build)
    if made is None:
        return None
    report, rendered = made
    expect_writes(session)
    where = audited(report)
    audit.record(
        session,
        AuditAction.report_exported,
        actor=actor,
        object_type=where["object_type"],
        object_id=where.get("object_id"),
        vendor_id=where.get("vendor_id"),
        details={"report": report.kind, "sha256": rendered.digest, "pages": rendered.pages},
    )
    return Export(rendered, filename(report), report)


def export_assessment(
    session: Session, vendor_id: int, *, actor: Actor, exported_by: str
) -> Export | None:
    """The vendor's assessment (None: no such vendor). ``exported_by`` is the assessor named
    when no risk officer has decided on the vendor yet."""
    if row_id(vendor_id) is None or session.get(Vendor, vendor_id) is None:
        return None
    return _export(
        session,
        lambda now: data.vendor_assessment(session, vendor_id, exported_by=exported_by, now=now),
        actor=actor,
        filename=_assessment_filename,
        audited=lambda r: {
            "object_type": "vendor",
            "object_id": r.vendor.id,
            "vendor_id": r.vendor.id,
        },
    )


def assessment_pdf(session: Session, vendor_id: int, *, exported_by: str) -> Export | None:
    """The vendor's assessment as export_assessment makes it, not audited: for a bulk export,
    which audits the request and each download of the zip that holds it."""
    if row_id(vendor_id) is None or session.get(Vendor, vendor_id) is None:
        return None
    made = _made(
        session,
        lambda now: data.vendor_assessment(session, vendor_id, exported_by=exported_by, now=now),
    )
    if made is None:
        return None
    report, rendered = made
    return Export(rendered, _assessment_filename(report), report)


def _assessment_filename(report) -> str:
    return f"{slug(report.vendor.name)}-assessment-{report.as_of.isoformat()}.pdf"


def export_incident(session: Session, incident_id: int, *, actor: Actor) -> Export | None:
    """The incident's report (None: no such incident)."""
    if row_id(incident_id) is None:
        return None
    return _export(
        session,
        lambda now: data.incident_report(session, incident_id, now=now),
        actor=actor,
        filename=lambda r: (
            f"{slug(r.incident.vendor)}-incident-{r.incident.id}-{r.as_of.isoformat()}.pdf"
        ),
        audited=lambda r: {
            "object_type": "incident",
            "object_id": r.incident.id,
            "vendor_id": r.incident.vendor_id,
        },
    )


def export_portfolio(session: Session, *, actor: Actor) -> Export:
    """The portfolio summary."""
    exported = _export(
        session,
        lambda now: data.portfolio_report(session, now=now),
        actor=actor,
        filename=lambda r: f"portfolio-summary-{r.as_of.isoformat()}.pdf",
        audited=lambda r: {"object_type": "portfolio"},
    )
    assert exported is not None  # a portfolio always exists, empty or not
    return exported
