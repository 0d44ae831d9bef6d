"""Background jobs: those that failed for good (admins retry or dismiss them), and the last
run of each periodic job (vendor_risk/jobs, docs/jobs.md)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow

ERROR_MAX = 1000  # characters of an error's message kept


class JobFailure(SQLModel, table=True):
    """A job that failed after all its retries. Its arguments are ids only (a job never
    carries a token or an email's text), so they may be shown and run again."""

    __tablename__ = "job_failure"

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=100)
    args: list = Field(default_factory=list, sa_type=sa.JSON)
    error_type: str = Field(default="", max_length=200)
    error: str = Field(default="", max_length=ERROR_MAX)
    attempts: int = Field(default=1)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    request_id: str = Field(default="", max_length=100)
    # An admin's decision: run it again (a new job), or leave it (seen, nothing to do).
    retried_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dismissed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """The last run of one periodic job: when it started and ended, and how."""

    __tablename__ = "job_run"

    task: str = Field(primary_key=True, max_length=100)
    # The scheduled minute of the last run: every worker's scheduler enqueues a periodic job,
    # and the first worker to claim its minute runs it (services.jobs.claim_slot).
    slot: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="running", max_length=20)  # running, done, failed
    summary: str = Field(default="", max_length=ERROR_MAX)
