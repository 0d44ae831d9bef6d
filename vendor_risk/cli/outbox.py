"""``flask --app app outbox send [--loop]``: the outbox worker, which sends the queued emails.

Once (for cron, or by hand): send what is due, print a summary, exit 1 when an email failed for
good in this run. With ``--loop``: keep looking every ``--interval`` seconds until stopped
(Ctrl+C or SIGTERM end it after the email being sent). Several workers may run at once
(services/outbox.py claims each email with a lease). The background worker
(``flask --app app worker``, or the one ``quickstart`` runs) sends each email as soon as its
action commits, and needs none of this: the command stays for cron.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..db import db
from ..services import outbox

log = logging.getLogger("vendor_risk.mail")


def _summary(run: outbox.Delivery) -> str:
    parts = [f"{run.sent} sent"]
    if run.kept:
        parts.append(f"{run.kept} kept in the outbox (no SMTP server)")
    parts.append(f"{run.retrying} to retry")
    parts.append(f"{len(run.failed)} failed")
    return ", ".join(parts) + "."


def deliver_once(app: Flask) -> outbox.Delivery:
    """One pass in an app context of its own, so its database session ends with it."""
    with app.app_context():
        try:
            return outbox.deliver_due(db.session)
        finally:
            db.session.rollback()


def run_worker(app: Flask, stop: threading.Event, interval: float) -> None:
    """Pass after pass until ``stop`` is set. An error in one pass (the database restarting)
    is logged and the next pass tries again: a worker outlives a bad moment."""
    while not stop.is_set():
        try:
            run = deliver_once(app)
            if run.total:
                log.info("outbox: %s", _summary(run))
        except Exception:
            log.exception("outbox: a pass failed; trying again in %s s", interval)
        stop.wait(interval)


@click.group("outbox")
def outbox_cli() -> None:
    """The queue of emails."""


@outbox_cli.command("send")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep sending until stopped (Ctrl+C, SIGTERM).")
@click.option(
    "--interval",
    type=click.IntRange(min=1, max=3600),
    default=None,
    help="Seconds between two looks at the queue with --loop (default: VR_OUTBOX_POLL_SECONDS).",
)
def send_command(loop: bool, interval: int | None) -> None:
    """Send the queued emails that are due (retries included); print what happened and exit 1
    when one failed for good. With --loop, keep doing so until stopped."""
    app = current_app._get_current_object()
    if not loop:
        run = outbox.deliver_due(db.session)
        db.session.rollback()
        for recipient, error in run.failed:
            click.echo(f"FAILED: email to {recipient}: {error}", err=True)
        click.echo(_summary(run))
        if run.failed:
            sys.exit(1)
        return
    wait = interval or app.config["OUTBOX_POLL_SECONDS"]
    stop = threading.Event()

    def on_signal(signum, _frame):
        click.echo(f"Stopping the outbox worker ({signal.Signals(signum).name}).")
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"Sending queued emails every {wait} s; Ctrl+C stops.")
    db.session.rollback()  # the command's own session holds nothing while the loop runs
    try:
        run_worker(app, stop, wait)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Outbox worker stopped.")
