"""``flask --app app worker``: run the background jobs (docs/jobs.md).

The huey consumer with thread workers: it takes the jobs from the queue (``VR_QUEUE_URL``: the
SQLite file in the instance folder by default, Redis in production), retries the failed ones,
and enqueues the periodic ones on their schedule. SIGTERM or Ctrl+C lets the jobs being run
finish, then exits; a second one stops at once. Several workers, on one machine or several, may
run at once: every job is safe to run twice (the outbox leases each email).
"""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import db
from ..jobs import JOBS, queue_of
from ..services import jobs as job_records


@click.command("worker")
@with_appcontext
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=2,
    show_default=True,
    help="Jobs run at once (threads).",
)
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also enqueue the periodic jobs (reminders, expiry, sweeps) on their schedule.",
)
def worker_command(workers: int, periodic: bool) -> None:
    """Run the background jobs (emails, reminders, notifications, expiry, the portfolio)
    until stopped (SIGTERM or Ctrl+C)."""
    app = current_app._get_current_object()
    queue = queue_of(app)
    if not logging.getLogger().handlers:
        # What the worker does goes to standard error unless logging is configured already.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("huey").setLevel(logging.WARNING)  # its per-task lines: ours say more
    logging.getLogger("vendor_risk.jobs").setLevel(logging.INFO)
    # The database first, as a job would use it (on SQLite a command's transaction takes the
    # write lock): one that is down, busy or not upgraded is one line, not a worker failing
    # every job.
    failed = job_records.failed_count(db.session)
    db.session.rollback()  # the command's own session holds nothing while jobs run
    try:
        waiting = queue.pending_count()
    except Exception as exc:
        raise click.ClickException(
            f"the queue ({queue.describe()}) cannot be reached: {type(exc).__name__}"
        ) from None
    consumer = queue.consumer(workers=workers, periodic=periodic)
    click.echo(
        f"Worker: {workers} thread{'s' if workers != 1 else ''} on the queue "
        f"({queue.describe()}), {waiting} jobs waiting; SIGTERM or Ctrl+C stops."
    )
    if failed:
        click.echo(f"{failed} jobs failed after their retries: see /admin/jobs.", err=True)
    if periodic:
        click.echo("Periodic jobs: " + ", ".join(j.name for j in JOBS if j.schedule) + ".")
    consumer.run()
    click.echo("Worker stopped.")
