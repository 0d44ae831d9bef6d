"""Bulk exports of assessment PDFs: the request (the vendors a filter of the vendor list
matches, capped), its progress as the job records it, its owner's list and download, and the
deletion of the expired ones with their files.

The zip itself is written by ``reports.bulk_exports`` (run by the ``exports.build`` job);
this module keeps the rows and the folder of files, ``BULK_EXPORT_DIR``, where every file has a
random name and is read only through an export its owner may download.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..db import request_job, utcnow
from ..models import AuditAction, BulkExport, BulkExportStatus, User
from ..models.exports import BULK_EXPORT_ERROR_MAX
from . import ValidationFailed, audit, inventory
from .audit import Actor

log = logging.getLogger("vendor_risk.exports")

# The job that writes the zip (vendor_risk/jobs/tasks.py).
BUILD_JOB = "exports.build"
# How long a finished export may be downloaded; the hourly job deletes it after.
LIFETIME = timedelta(hours=24)
# The owner's own exports listed on the exports page.
RECENT = 20
PART_SUFFIX = ".part"
# An export queued this long ago whose job never started is asked for again.
STALE = timedelta(minutes=10)


def folder() -> Path:
    return Path(current_app.config["BULK_EXPORT_DIR"])


def file_path(export: BulkExport) -> Path:
    return folder() / export.stored_name


def request_export(
    session: Session,
    *,
    filters: Mapping[str, Any],
    shown_filters: Mapping[str, str],
    max_vendors: int,
    actor: Actor,
    now: datetime | None = None,
) -> BulkExport:
    """Ask for a zip of the assessments of the vendors that ``filters`` (the keyword arguments
    of ``inventory.select_vendors``) match now. ValidationFailed when none matches or more than
    ``max_vendors`` do; otherwise the export is queued, audited, and its job enqueued when the
    caller commits. ``shown_filters``: the filters in words, kept for the export's page."""
    if actor.user_id is None:
        raise ValueError("a bulk export belongs to a user")
    selection = inventory.select_vendors(session, limit=max_vendors, **filters)
    if selection.count == 0:
        raise ValidationFailed(
            {"": ["No vendor matches these filters: there is nothing to export."]}
        )
    if selection.count > max_vendors:
        raise ValidationFailed(
            {
                "": [
                    f"{selection.count} vendors match these filters; one export holds at most "
                    f"{max_vendors} assessments. Narrow the filters (status, tier, search) "
                    "and export each part."
                ]
            }
        )
    now = now or utcnow()
    export = BulkExport(
        owner_id=actor.user_id,
        created_at=now,
        expires_at=now + LIFETIME,
        filters=dict(shown_filters),
        vendor_ids=list(selection.ids),
        total=len(selection.ids),
        stored_name=secrets.token_hex(16) + ".zip",
        filename=f"vendor-assessments-{now:%Y-%m-%d-%H%M}.zip",
    )
    session.add(export)
    session.flush()
    audit.record(
        session,
        AuditAction.bulk_export_requested,
        actor=actor,
        object_type="bulk_export",
        object_id=export.id,
        details={"vendors": export.total, "filters": dict(shown_filters)},
    )
    request_job(session, BUILD_JOB, export.id)
    return export


def own_export(session: Session, export_id: int, *, owner_id: int) -> BulkExport | None:
    """The export if ``owner_id`` asked for it: anyone else (the same role included) gets
    None, as for an id that does not exist."""
    export = session.get(BulkExport, export_id)
    if export is None or export.owner_id != owner_id:
        return None
    return export


def own_exports(session: Session, *, owner_id: int, limit: int = RECENT) -> list[BulkExport]:
    return list(
        session.scalars(
            sa.select(BulkExport)
            .where(BulkExport.owner_id == owner_id)
            .order_by(BulkExport.created_at.desc(), BulkExport.id.desc())
            .limit(limit)
        )
    )


def is_expired(export: BulkExport, now: datetime | None = None) -> bool:
    return export.expires_at <= (now or utcnow())


def record_download(session: Session, export: BulkExport, *, actor: Actor) -> None:
    audit.record(
        session,
        AuditAction.bulk_export_downloaded,
        actor=actor,
        object_type="bulk_export",
        object_id=export.id,
        details={"vendors": export.done - export.skipped, "sha256": export.sha256},
    )


# ---- the job's steps (reports.bulk_exports calls them; the job commits after each) ------------


def owner_name(session: Session, export: BulkExport) -> str:
    """Named as the assessor in a PDF when no risk officer has decided on the vendor yet."""
    owner = session.get(User, export.owner_id)
    return owner.name if owner is not None else "unknown"


def claim(session: Session, export_id: int) -> bool:
    """Whether this run of the job builds the export: one conditional UPDATE moves it from
    queued to running, so a job enqueued twice (the hourly sweep asking again for one that
    waited long) builds it once."""
    claimed = session.execute(
        sa.update(BulkExport)
        .where(BulkExport.id == export_id, BulkExport.status == BulkExportStatus.queued)
        .values(
            status=BulkExportStatus.running, done=0, skipped=0, error="", progressed_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def ask_again_for_waiting(session: Session, *, now: datetime | None = None) -> int:
    """Ask again for the build of the exports whose job was lost: still queued STALE after the
    request (the queue unreachable at the commit), or running with no PDF added for STALE (its
    worker killed: put back in the queue, built again from the start). How many."""
    cutoff = (now or utcnow()) - STALE
    session.execute(
        sa.update(BulkExport)
        .where(
            BulkExport.status == BulkExportStatus.running,
            sa.or_(BulkExport.progressed_at.is_(None), BulkExport.progressed_at <= cutoff),
        )
        .values(status=BulkExportStatus.queued)
        .execution_options(synchronize_session=False)
    )
    waiting = session.scalars(
        sa.select(BulkExport.id).where(
            BulkExport.status == BulkExportStatus.queued, BulkExport.created_at <= cutoff
        )
    ).all()
    for export_id in waiting:
        request_job(session, BUILD_JOB, export_id)
    return len(waiting)


def progress(session: Session, export: BulkExport, *, skipped: bool = False) -> None:
    export.done += 1
    export.progressed_at = utcnow()
    if skipped:
        export.skipped += 1
    session.flush()


def finish(session: Session, export: BulkExport, *, sha256: str, size: int) -> None:
    export.status = BulkExportStatus.done
    export.sha256 = sha256
    export.size = size
    export.finished_at = utcnow()
    session.flush()


def fail(session: Session, export: BulkExport, error: str) -> None:
    export.status = BulkExportStatus.failed
    export.error = error[:BULK_EXPORT_ERROR_MAX]
    export.finished_at = utcnow()
    session.flush()
    remove_files(export)


def remove_files(export: BulkExport) -> bool:
    """Delete the export's zip and any part of it; False (and logged) when a file stays."""
    path = file_path(export)
    removed = True
    for leftover in (path, path.with_name(path.name + PART_SUFFIX)):
        try:
            leftover.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass  # never written: nothing to delete
        except OSError:
            log.exception("bulk export %s: %s could not be deleted", export.id, leftover.name)
            removed = False
    return removed


def delete_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete the exports whose 24 hours are over, and their files; how many."""
    expired = list(
        session.scalars(sa.select(BulkExport).where(BulkExport.expires_at <= (now or utcnow())))
    )
    deleted = 0
    for export in expired:
        # A file that cannot be deleted keeps its row (past expiry: never downloaded), and the
        # next hour tries again.
        if remove_files(export):
            session.delete(export)
            deleted += 1
    session.flush()
    return deleted
