"""``flask --app app notifications run-due`` and ``... notifications digest`` (for cron).

``run-due`` records the time-based notifications (a finding due within 7 days, a risk
acceptance expiring within 14 days, a questionnaire request overdue), each once per user and
object however often it runs; ``digest`` sends each user who chose the daily digest one email
with what they were told since the last one (nothing when there is nothing).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..db import db, today_utc
from ..services import notifications, notifications_due

notifications_cli = AppGroup("notifications", help="Notifications: time-based events, digests.")


@notifications_cli.command("run-due")
def run_due_command() -> None:
    """Notify what is due today (UTC): findings due soon, risk acceptances about to expire,
    overdue requests. Running it again notifies nobody twice."""
    today = today_utc()
    run = notifications_due.run_due(db.session, today=today)
    db.session.commit()
    click.echo(
        f"{run.finding_due_soon} about findings due soon, {run.acceptance_expiring} about risk "
        f"acceptances expiring, {run.request_overdue} about overdue requests "
        f"({today.isoformat()})."
    )


@notifications_cli.command("digest")
def digest_command() -> None:
    """Email each user who chose the daily digest what they were told since the last one."""
    today = today_utc()
    digests = notifications.send_digests(db.session, today=today)
    db.session.commit()
    if not digests:
        click.echo(f"No digest to send ({today.isoformat()}).")
        return
    failed = False
    for digest in digests:
        if digest.delivered:
            click.echo(
                f"Digest of {digest.count} queued for {digest.email} (the outbox worker sends it)"
            )
        else:
            failed = True
            click.echo(f"Digest NOT SENT to {digest.email} (see the outbox)", err=True)
    if failed:
        sys.exit(1)
