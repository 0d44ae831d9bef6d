"""``flask --app app audit verify``: the audit trail's hash chain."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..db import db, read_only
from ..services import audit

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; name the first record that was altered or removed."""
    read_only()  # a long read: on SQLite it must not hold the write lock
    report = audit.verify_chain(db.session)
    if report.ok:
        click.echo(f"Audit chain intact: {report.checked} events verified.")
        # Kept outside the database (a monitoring job, a ticket), it also reveals a removal
        # of the newest events, which the chain alone cannot.
        click.echo(f"Latest hash: {report.last_hash}")
        return
    click.echo(
        f"Audit chain BROKEN at event #{report.first_bad_seq}: {report.reason} "
        f"({report.checked} events before it verified).",
        err=True,
    )
    sys.exit(1)
