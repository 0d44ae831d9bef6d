"""A breach's whole result as CSV: the pages show the first rows of each list (a breach can
reach thousands of systems and credentials), this file holds every row, for a spreadsheet.

One row per item, the list it belongs to first; every text cell is neutralised against
spreadsheet formulas (a system named ``=HYPERLINK(...)`` stays text).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..core.blast_radius.engine import BlastRadius
from ..core.blast_radius.words import (
    BARRIER_WORDS,
    SENSITIVITY_WORDS,
    STOPPED_WORDS,
    link_held_words,
    source_words,
)
from ..core.csv_text import spreadsheet_safe
from ..core.names import slug
from ..db import expect_writes, snapshot
from ..models import AuditAction
from ..services import audit, blast_radius
from ..services.audit import Actor

MEDIA_TYPE = "text/csv; charset=utf-8"
COLUMNS = ("List", "Item", "Detail", "How or why", "Usable now")


def _rows(blast: BlastRadius) -> Iterator[tuple[str, ...]]:
    despite_ids = blast.despite_controls.system_ids
    for reached in blast.despite_controls.systems:
        yield (
            "system reached despite the controls",
            reached.system.name,
            reached.privilege,
            reached.path_text,
            "",
        )
    for reached in blast.if_controls_fail.systems:
        if reached.system.id not in despite_ids:
            yield (
                "system reached only if the controls fail",
                reached.system.name,
                reached.privilege,
                reached.path_text,
                "",
            )
    for data in blast.despite_controls.data:
        records = (
            "unknown"
            if data.records is None
            else (f"{'' if data.records_complete else 'at least '}{data.records}")
        )
        yield (
            "data reached despite the controls",
            data.category.name,
            f"{SENSITIVITY_WORDS[data.category.sensitivity]}, {records} records",
            "; ".join(source_words(source) for source in data.sources),
            "",
        )
    for held in blast.barriers_held:
        yield (
            "barrier that held",
            f"{held.credential.label} into {held.system.name}",
            BARRIER_WORDS[held.barrier],
            "",
            "",
        )
    for held in blast.links_held:
        yield ("barrier that held", link_held_words(held), "", "", "")
    for item in blast.credentials_to_rotate:
        yield (
            "credential to rotate",
            item.credential.label,
            f"opens {item.system.name}; owner {item.credential.owner or 'not recorded'}",
            item.reason,
            STOPPED_WORDS[item.stopped_by],
        )


def csv_document(blast: BlastRadius) -> str:
    """The whole result, a byte order mark first so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _rows(blast):
        writer.writerow(spreadsheet_safe(cell) for cell in row)
    return "\ufeff" + buffer.getvalue()


def filename(blast: BlastRadius) -> str:
    names = "-".join(slug(vendor.name) for vendor in blast.breached_vendors)
    return f"{names}-blast-radius-{blast.as_of:%Y-%m-%d}.csv"


@dataclass(frozen=True)
class CsvExport:
    text: str
    filename: str


def export_vendor(
    session: Session, vendor_id: int, *, since: datetime | None, actor: Actor
) -> CsvExport:
    """The vendor's breach as CSV (the vendor exists: the caller found it), audited as the
    PDF reports are: which vendor, which breach start, the file's SHA-256 and its rows."""
    with snapshot(session):
        blast = blast_radius.vendor_blast_radius(session, [vendor_id], since=since)
    text = csv_document(blast)
    expect_writes(session)
    audit.record(
        session,
        AuditAction.report_exported,
        actor=actor,
        object_type="vendor",
        object_id=vendor_id,
        vendor_id=vendor_id,
        details={
            "report": "blast_radius_csv",
            "since": since.isoformat() if since else None,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "rows": text.count("\r\n") - 1,
        },
    )
    return CsvExport(text, filename(blast))
