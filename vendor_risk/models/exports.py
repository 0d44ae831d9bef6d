"""Bulk exports: a zip of vendors' assessment PDFs asked for from the vendor list and built by
a background job (services/bulk_exports.py, reports/bulk_exports.py, docs/jobs.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type

BULK_EXPORT_ERROR_MAX = 1000  # characters of a failure's message kept


class BulkExportStatus(StrEnum):
    queued = "queued"  # asked for, waiting for a worker
    running = "running"  # a worker renders the PDFs: ``done`` of ``total``
    done = "done"  # the zip is ready to download until ``expires_at``
    failed = "failed"  # ``error`` says why; nothing to download


class BulkExport(SQLModel, table=True):
    """One zip of assessment PDFs for the vendors that matched a filter of the vendor list
    when it was asked for. Only its owner may see or download it; it and its file are deleted
    once it expires."""

    __tablename__ = "bulk_export"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The running job's last sign of life (claimed, or a PDF added): an export running with
    # none for a while lost its worker and is queued again.
    progressed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The vendor list's filters, as the list's form read them (shown on the export's page).
    filters: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # The vendors that matched when it was asked for, in the list's order.
    vendor_ids: list = Field(default_factory=list, sa_type=sa.JSON)
    total: int = Field(default=0)
    done: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Vendors deleted between the request and the job: left out of the zip.
    skipped: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    status: BulkExportStatus = Field(
        default=BulkExportStatus.queued,
        sa_type=enum_type(BulkExportStatus, "bulk_export_status"),
        sa_column_kwargs={"server_default": "queued"},
    )
    error: str = Field(default="", max_length=BULK_EXPORT_ERROR_MAX)
    # The zip's random name in VR_BULK_EXPORT_DIR, and the name the download offers.
    stored_name: str = Field(max_length=100, unique=True)
    filename: str = Field(default="", max_length=200)
    sha256: str = Field(default="", max_length=64)
    size: int = Field(default=0, sa_type=sa.BigInteger)  # bytes
