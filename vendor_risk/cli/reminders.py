"""``flask --app app send-reminders``: email the contacts of requests due soon or overdue.

Meant for cron (once a day, or more: a request is reminded at most once a day, so running it
again the same day queues nothing). It queues the reminders in the outbox, which the outbox
worker sends (`outbox send`, or the worker `quickstart` runs), prints whom it reminded and
warns about requests with nobody to remind. Each reminder links straight to the request: the
portal's page for a contact who joined, a fresh invitation link for an address invited that
never joined. Links are built on ``VR_BASE_URL`` (in development without it, the address of
``flask run`` and of ``quickstart`` by default, http://127.0.0.1:5000).
"""

from __future__ import annotations

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
    """Queue a reminder to the contacts of every vendor questionnaire waiting for the vendor
    and due within DAYS days or overdue, at most once a day per request."""
    within = current_app.config["REMINDER_DAYS"] if days is None else days
    today = request_service.today_utc()
    reminders = request_service.send_reminders(
        db.session, today=today, within_days=within, actor=cli_actor()
    )
    db.session.commit()
    if not reminders:
        click.echo(f"No reminder due today ({today}): nothing queued.")
        return
    for r in reminders:
        when = f"overdue since {r.due_on}" if r.overdue else f"due {r.due_on}"
        head = f"#{r.request_id} {r.vendor_name}: {r.title} ({when})"
        if r.queued_to:
            click.echo(f"{head}: reminder queued for {', '.join(r.queued_to)}")
        else:
            click.echo(f"{head}: nobody to remind (invite a contact)", err=True)
    queued = sum(len(r.queued_to) for r in reminders)
    click.echo(
        f"{queued} reminder{'s' if queued != 1 else ''} queued for {len(reminders)} requests: "
        "the outbox worker sends them (`flask --app app outbox send`)."
    )
