"""What admins see of the background jobs (vendor_risk/jobs): the jobs that failed for good,
which they run again or dismiss, and the last run of each periodic job.

The queue itself is not known here: the jobs package records a failure or a run through these
functions, and enqueues a retried job after the admin's transaction commits.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import AuditAction, JobFailure, JobRun
from ..models.jobs import ERROR_MAX
from . import ValidationFailed, audit
from .audit import Actor
from .pages import Page, one_page


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record_failure(
    session: Session,
    *,
    task: str,
    args: tuple | list,
    error: BaseException,
    attempts: int,
    request_id: str | None,
) -> JobFailure:
    """A job failed after its retries: keep what admins need to judge it. Only the error's
    type and first characters are kept (a traceback goes to the log, never to a page)."""
    failure = JobFailure(
        task=task,
        args=[int(a) for a in args],
        error_type=_cut(type(error).__name__, 200),
        error=_cut(str(error) or "no detail", ERROR_MAX),
        attempts=attempts,
        failed_at=utcnow(),
        request_id=_cut(request_id or "", 100),
    )
    session.add(failure)
    session.flush()
    return failure


def _open():
    return sa.and_(JobFailure.retried_at.is_(None), JobFailure.dismissed_at.is_(None))


def failed_count(session: Session) -> int:
    """Failures nobody has retried or dismissed yet (the admin home's banner)."""
    return session.scalar(sa.select(sa.func.count()).select_from(JobFailure).where(_open()))


def search_failures(session: Session, *, page: int = 1) -> Page[JobFailure]:
    """The failures waiting for an admin first, then the others; newest first in each."""
    waiting = sa.case((_open(), 0), else_=1)
    query = sa.select(JobFailure).order_by(
        waiting, JobFailure.failed_at.desc(), JobFailure.id.desc()
    )
    return one_page(session, query, page, lambda row: row[0])


def get_failure(session: Session, failure_id: int) -> JobFailure | None:
    return session.get(JobFailure, failure_id)


def state_label(failure: JobFailure) -> str:
    if failure.retried_at is not None:
        return f"run again {failure.retried_at:%Y-%m-%d %H:%M} UTC"
    if failure.dismissed_at is not None:
        return f"dismissed {failure.dismissed_at:%Y-%m-%d %H:%M} UTC"
    return "failed"


def _decide(session: Session, failure: JobFailure, action: AuditAction, actor: Actor) -> None:
    session.refresh(failure, with_for_update=True)
    if failure.retried_at is not None or failure.dismissed_at is not None:
        raise ValidationFailed({"": [f"This job was {state_label(failure)} already."]})
    now = utcnow()
    if action is AuditAction.job_retried:
        failure.retried_at = now
    else:
        failure.dismissed_at = now
    session.flush()
    audit.record(
        session,
        action,
        actor=actor,
        object_type="job",
        object_id=failure.id,
        details={"task": failure.task, "args": list(failure.args)},
    )


def mark_retried(session: Session, failure: JobFailure, *, actor: Actor) -> None:
    """An admin runs a failed job again (the caller enqueues it once this commits); audited.
    ValidationFailed when it was retried or dismissed already."""
    _decide(session, failure, AuditAction.job_retried, actor)


def dismiss(session: Session, failure: JobFailure, *, actor: Actor) -> None:
    """An admin leaves a failed job (seen, nothing to do); audited."""
    _decide(session, failure, AuditAction.job_dismissed, actor)


# ---- the periodic jobs' last runs -------------------------------------------------------------


def claim_slot(session: Session, task: str, *, slot: datetime, started_at: datetime) -> bool:
    """Claim the scheduled minute ``slot`` of a periodic job for this worker. Every worker's
    scheduler enqueues the job at that minute: the first to claim it runs it, the others are
    told False and skip it. One conditional UPDATE decides (the row is created first if this
    job never ran), so two workers racing on SQLite or PostgreSQL claim it once."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(
        insert(JobRun)
        .values(task=task, started_at=started_at, outcome="never", summary="")
        .on_conflict_do_nothing(index_elements=[JobRun.task])
    )
    claimed = session.execute(
        sa.update(JobRun)
        .where(JobRun.task == task, sa.or_(JobRun.slot.is_(None), JobRun.slot < slot))
        .values(slot=slot, started_at=started_at, finished_at=None, outcome="running")
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def run_finished(
    session: Session, task: str, *, started_at: datetime, ok: bool, summary: str = ""
) -> None:
    """Record the end of a periodic job's run: when it started and ended, done or failed, and
    what it did (or its error)."""
    run = session.get(JobRun, task, with_for_update=True)
    if run is None:
        run = JobRun(task=task, started_at=started_at)
        session.add(run)
    run.started_at = started_at
    run.finished_at = utcnow()
    run.outcome = "done" if ok else "failed"
    run.summary = _cut(summary, ERROR_MAX)
    session.flush()


def last_runs(session: Session) -> dict[str, JobRun]:
    return {run.task: run for run in session.scalars(sa.select(JobRun))}
