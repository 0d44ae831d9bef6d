"""``flask --app app findings expire``: end the risk acceptances that expired (for cron).

The findings pages end them too before they show anything, so cron is optional: it keeps the
audit trail, dashboards and reminders right on days nobody opens a findings page. Running it
again the same day ends nothing twice.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import db, today_utc
from ..services import findings
from .common import cli_actor

findings_cli = AppGroup("findings", help="Findings and risk acceptances.")


@findings_cli.command("expire")
def expire_command() -> None:
    """End every risk acceptance whose expiry date has passed (UTC) and reopen its finding."""
    today = today_utc()
    expired = findings.expire_acceptances(db.session, today, actor=cli_actor())
    db.session.commit()
    for ended in expired:
        click.echo(
            f"Finding #{ended.finding_id} reopened: {ended.title} "
            f"(accepted until {ended.expires_on.isoformat()})"
        )
    count = len(expired)
    noun = "acceptance" if count == 1 else "acceptances"
    click.echo(f"{count} risk {noun} expired ({today.isoformat()}).")
