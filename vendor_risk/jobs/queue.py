"""The queue: one huey instance per app, built from its settings on first use, with the jobs of
``jobs.tasks`` registered on it; the consumers that run them; and the hooks that enqueue the jobs
a service asked for once its transaction commits.

``VR_QUEUE_URL`` empty: a SQLite file in the instance folder (one machine, no server);
``redis://...``: Redis (several processes and machines). Either way a job is a message with its
task's name, ids and the request id of the page that caused it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from .. import config, logs
from ..db import AFTER_COMMIT_JOBS, db, utcnow
from ..services import jobs as job_records
from .tasks import BY_NAME, JOBS, Job

log = logging.getLogger("vendor_risk.jobs")

EXTENSION = "vendor_risk.jobs"
SQLITE_FILE = "queue.sqlite"
# How long a worker waits for the jobs it is running when asked to stop.
SHUTDOWN_SECONDS = 30
# An idle worker looks at a SQLite queue at most this often (Redis wakes it at once).
MAX_POLL_SECONDS = 1.0


class JobQueue:
    """The app's queue. The huey instance is built when first used: an app that never enqueues
    (a test, `flask db upgrade`) opens no queue file and no connection."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey = None
        self._tasks: dict = {}
        self._lock = threading.Lock()

    @property
    def huey(self):
        with self._lock:
            if self._huey is None:
                self._huey = self._build()
        return self._huey

    def describe(self) -> str:
        """Where the queue lives, without a password."""
        url = self.app.config["QUEUE_URL"]
        if self._sqlite_path() is not None:
            return f"SQLite {self._sqlite_path()}"
        parts = urlsplit(url)
        host = parts.hostname or parts.path
        port = f":{parts.port}" if parts.port else ""
        return f"Redis {host}{port}{parts.path if parts.hostname else ''}"

    def _sqlite_path(self) -> Path | None:
        """The SQLite file of the queue, or None for Redis."""
        url = self.app.config["QUEUE_URL"]
        if not url:
            return Path(self.app.instance_path) / SQLITE_FILE
        if urlsplit(url).scheme == "sqlite":
            return Path(config.queue_sqlite_file(url))
        return None

    def _build(self):
        # huey (and the Redis client it loads) is imported here, when a job is first enqueued
        # or a worker starts: not by every `flask` command and page that never uses it.
        from huey import RedisHuey, SqliteHuey
        from huey.signals import SIGNAL_ERROR

        cfg = self.app.config
        name = cfg["QUEUE_NAME"]
        # No results: nobody waits for a job's return value, and they would pile up.
        path = self._sqlite_path()
        if path is None:
            huey = RedisHuey(name, url=cfg["QUEUE_URL"], results=False)
        else:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            huey = SqliteHuey(name, filename=str(path), results=False)
        for job in JOBS:
            self._tasks[job.name] = self._register(huey, job)
        huey.signal(SIGNAL_ERROR)(self._on_error)
        return huey

    def _register(self, huey, job: Job):
        cfg = self.app.config

        def run(*ids: int, request_id: str | None = None) -> None:
            self.execute(job, ids, request_id)

        run.__module__ = __name__
        if job.schedule is not None:
            # Not retried: it runs again at its next time; its last run is on the admins' page.
            return huey.periodic_task(job.schedule(cfg), name=job.name)(run)
        return huey.task(
            name=job.name,
            retries=cfg["JOB_RETRIES"],
            retry_delay=cfg["JOB_RETRY_DELAY_SECONDS"],
            retry_backoff=2,
        )(run)

    def knows(self, name: str) -> bool:
        job = BY_NAME.get(name)
        return job is not None and job.schedule is None

    def enqueue(self, name: str, *ids: int, request_id: str | None = None) -> None:
        """Put the triggered job ``name`` on the queue, with the current request id."""
        if not self.knows(name):
            raise LookupError(f"no such job: {name!r}")
        self.huey  # noqa: B018 (builds the tasks)
        self._tasks[name](*ids, request_id=request_id or logs.request_id.get())

    def pending_count(self) -> int:
        return self.huey.pending_count()

    # ---- running a job ------------------------------------------------------------------------

    def execute(self, job: Job, ids: tuple[int, ...], request_id: str | None) -> None:
        """Run one job in an app context of its own (its own database session), with the request
        id of the page that caused it; commit what it did, or roll back and raise (huey then
        retries it, or signals its failure for good)."""
        token = logs.request_id.set(request_id)
        started = utcnow()
        try:
            with self.app.app_context():
                session = db.session
                if job.schedule is not None and not self._claim(session, job, started):
                    log.info("job %s: this minute's run was taken by another worker", job.name)
                    return
                try:
                    summary = job.run(session, self.app.config, *ids)
                    session.commit()
                except Exception as exc:
                    session.rollback()
                    if job.schedule is not None:
                        self._record_run(session, job, started, ok=False, summary=_error(exc))
                    raise
                if job.schedule is not None:
                    self._record_run(session, job, started, ok=True, summary=summary)
                log.info("job %s: %s", job.name, summary)
        finally:
            logs.request_id.reset(token)

    @staticmethod
    def _claim(session: Session, job: Job, started) -> bool:
        """Whether this worker runs this minute's run of a periodic job (committed at once, so
        the other workers see the claim)."""
        slot = started.replace(second=0, microsecond=0)
        claimed = job_records.claim_slot(session, job.name, slot=slot, started_at=started)
        session.commit()
        return claimed

    @staticmethod
    def _record_run(session: Session, job: Job, started, *, ok: bool, summary: str) -> None:
        try:
            job_records.run_finished(session, job.name, started_at=started, ok=ok, summary=summary)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("job %s: its run could not be recorded", job.name)

    def _on_error(self, _signal, task, exc=None) -> None:
        """huey's error signal: a job raised. While it has retries left huey tries it again;
        after the last one admins see it on /admin/jobs."""
        name = type(task).__name__
        job = BY_NAME.get(name)
        if task.retries or job is None or job.schedule is not None or exc is None:
            return
        request_id = (task.kwargs or {}).get("request_id")
        try:
            with self.app.app_context():
                job_records.record_failure(
                    db.session,
                    task=name,
                    args=task.args or (),
                    error=exc,
                    attempts=self.app.config["JOB_RETRIES"] + 1,
                    request_id=request_id,
                )
                db.session.commit()
        except Exception:
            log.exception("job %s failed for good and could not be recorded", name)
        log.error("job %s failed after its retries: %s", name, _error(exc))

    # ---- workers ------------------------------------------------------------------------------

    def consumer(self, *, workers: int = 1, periodic: bool = True, in_process: bool = False):
        """A huey consumer of thread workers. ``in_process``: one that runs beside a server
        in the same process (quickstart), started from any thread, touching no signal."""
        from .consumers import InProcessConsumer, WorkerConsumer

        kind = InProcessConsumer if in_process else WorkerConsumer
        return kind(
            self.huey,
            workers=workers,
            periodic=periodic,
            worker_type="thread",
            initial_delay=0.1,
            backoff=1.15,
            max_delay=MAX_POLL_SECONDS,
            scheduler_interval=1,
            shutdown_timeout=SHUTDOWN_SECONDS,
            graceful_signal="TERM",
        )


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def queue_of(app: Flask) -> JobQueue:
    return app.extensions[EXTENSION]


def readiness(app: Flask) -> tuple[bool, str]:
    """Whether the queue can be reached (for /readyz): its count of waiting jobs is read."""
    queue = queue_of(app)
    started = time.perf_counter()
    try:
        waiting = queue.pending_count()
    except Exception as exc:
        return False, f"queue ({queue.describe()}) unreachable: {type(exc).__name__}"
    elapsed = (time.perf_counter() - started) * 1000
    return True, f"queue ({queue.describe()}): {waiting} jobs waiting ({elapsed:.0f} ms)"


# ---- after commit: the jobs a service asked for ------------------------------------------------


def _after_commit(session: Session) -> None:
    requests = session.info.pop(AFTER_COMMIT_JOBS, None)
    if not requests or not has_app_context():
        return
    queue = current_app.extensions.get(EXTENSION)
    if queue is None:
        return
    # (name, ids) pairs from db.request_job, identical ones made one by the set.
    for name, ids in sorted(requests):
        try:
            queue.enqueue(name, *ids)
        except Exception:
            # The commit stands; the periodic sweeps (every minute) pick the work up, and a
            # job with ids says on its own page that it waits (a bulk export stays queued).
            log.exception("job %s%s could not be enqueued", name, list(ids) or "")


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's: see below
        session.info.pop(AFTER_COMMIT_JOBS, None)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    # A savepoint rolled back leaves the outer transaction's requests (and its own: a job only
    # goes and looks at what is committed, so one too many does no harm).
    if not previous_transaction.nested:
        session.info.pop(AFTER_COMMIT_JOBS, None)


def install_session_hooks() -> None:
    for name, hook in (
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
        ("after_soft_rollback", _after_soft_rollback),
    ):
        if not sa.event.contains(Session, name, hook):
            sa.event.listen(Session, name, hook)


# /readyz runs the callables of this list (web/health); the queue adds its own.
READINESS_CHECKS = "vr_readiness_checks"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = JobQueue(app)
    install_session_hooks()

    def queue_check() -> tuple[str, bool, str]:
        # The public probe says whether the queue answers, not where it lives.
        ready, words = readiness(app)
        waiting = words.rpartition("): ")[2] if ready else "unreachable"
        return "queue", ready, waiting

    app.extensions.setdefault(READINESS_CHECKS, []).append(queue_check)
