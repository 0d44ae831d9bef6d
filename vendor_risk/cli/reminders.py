"""``flask --app app send-reminders``: email the contacts of requests due soon or overdue.

Meant for cron (once a day, or more: a request is reminded at most once a day, so running it
again the same day sends nothing). It prints what was sent, warns about requests with nobody to
remind, and exits 1 when an email could not be sent, so that cron reports it (a run later the
same day tries those again).
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import db
from ..services.questionnaires import requests as request_service
from .common import cli_actor


@click.command("send-reminders")
@with_appcontext
@click.option(
    "--days",
    type=click.IntRange(min=0, max=365),
    default=None,
    help="Remind requests due within this many days (default: VR_REMINDER_DAYS, 3); "
    "overdue ones are always reminded.",
)
def send_reminders_command(days: int | None) -> None:
    """Email the contacts of every vendor questionnaire waiting for the vendor and due within
    DAYS days or overdue, at most once a day per request."""
    within = current_app.config["REMINDER_DAYS"] if days is None else days
    today = request_service.today_utc()
    reminders = request_service.send_reminders(
        db.session, today=today, within_days=within, actor=cli_actor()
    )
    db.session.commit()
    if not reminders:
        click.echo(f"No reminder due today ({today}): nothing sent.")
        return
    trouble = False
    for r in reminders:
        when = f"overdue since {r.due_on}" if r.overdue else f"due {r.due_on}"
        head = f"#{r.request_id} {r.vendor_name}: {r.title} ({when})"
        if r.sent_to:
            click.echo(f"{head}: reminded {', '.join(r.sent_to)}")
        if r.failed:
            trouble = True
            click.echo(f"{head}: NOT SENT to {', '.join(r.failed)} (see the outbox)", err=True)
        if not r.sent_to and not r.failed:
            click.echo(f"{head}: nobody to remind (invite a contact)", err=True)
    sent = sum(len(r.sent_to) for r in reminders)
    click.echo(f"{sent} reminder{'s' if sent != 1 else ''} sent for {len(reminders)} requests.")
    if trouble:
        sys.exit(1)
