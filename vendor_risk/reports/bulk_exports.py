"""The zip of a bulk export (the ``exports.build`` job): each vendor's assessment PDF rendered
in turn, as the single download renders it, written into the zip under a safe unique name,
the progress committed after each one so the export's page shows it.

The zip is written beside its final name (``.part``) and renamed when whole: a download never
sees half a file. A vendor deleted since the request is left out and counted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from collections.abc import Callable

from sqlalchemy.orm import Session

from ..core.names import slug
from ..models import BulkExport
from ..services import bulk_exports
from .exports import assessment_pdf

log = logging.getLogger("vendor_risk.reports")


def member_name(vendor_id: int, vendor_name: str) -> str:
    """A vendor's file in the zip: its name as a slug (no path, no dot-dot, ASCII), made
    unique by its id (two vendors may share a slug)."""
    return f"{slug(vendor_name)}-{vendor_id}-assessment.pdf"


def build(session: Session, export_id: int, *, checkpoint: Callable[[], None]) -> str:
    """Write the export's zip; ``checkpoint`` commits the progress (the job passes its
    session's commit). Says in a few words what it did. A failure to render or write marks
    the export failed with its reason (the owner sees it and may ask again) instead of
    raising: trying the same vendors again would fail the same way."""
    claimed = bulk_exports.claim(session, export_id)
    checkpoint()
    export = session.get(BulkExport, export_id)
    if export is None:
        return f"export {export_id}: gone (expired)"
    if not claimed:
        return f"export {export_id}: {export.status} already"
    exported_by = bulk_exports.owner_name(session, export)
    path = bulk_exports.file_path(export)
    part = path.with_name(path.name + bulk_exports.PART_SUFFIX)
    step = "the exports folder could not be written"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for vendor_id in list(export.vendor_ids):
                step = f"the assessment of vendor {int(vendor_id)} could not be written"
                pdf = assessment_pdf(session, int(vendor_id), exported_by=exported_by)
                if pdf is not None:
                    name = member_name(pdf.report.vendor.id, pdf.report.vendor.name)
                    archive.writestr(name, pdf.rendered.pdf)
                bulk_exports.progress(session, export, skipped=pdf is None)
                checkpoint()
        step = "the zip could not be finished"
        digest = hashlib.sha256()
        with part.open("rb") as written:
            for block in iter(lambda: written.read(1 << 20), b""):
                digest.update(block)
        os.replace(part, path)
    except Exception as exc:
        log.exception("bulk export %s failed", export_id)
        session.rollback()
        export = session.get(BulkExport, export_id)
        if export is None:
            return f"export {export_id}: gone while it was built"
        # The owner reads what failed; the details (paths, the traceback) go to the log.
        bulk_exports.fail(session, export, f"{step} ({type(exc).__name__})")
        checkpoint()
        return f"export {export_id}: failed ({type(exc).__name__})"
    bulk_exports.finish(session, export, sha256=digest.hexdigest(), size=path.stat().st_size)
    checkpoint()
    return f"export {export_id}: {export.done - export.skipped} assessments, {export.skipped} gone"
