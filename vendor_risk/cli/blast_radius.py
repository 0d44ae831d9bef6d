"""``flask --app app blast-radius VENDOR``: what a breach of the vendor reaches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from ..core.blast_radius.words import render_text
from ..db import db, read_only, snapshot
from ..services import blast_radius as service
from .common import no_vendor_named


@click.command("blast-radius")
@with_appcontext
@click.argument("vendor")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Start of the breach: credentials rotated after it no longer work for the attacker.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON (schema in docs/blast-radius.md).")
def blast_radius_command(vendor: str, since: datetime | None, as_json: bool) -> None:
    """What a breach of VENDOR (its name) reaches, the barriers that held, what to rotate."""
    read_only()
    vendor_id = service.vendor_id_by_name(db.session, vendor)
    if vendor_id is None:
        raise click.UsageError(no_vendor_named(db.session, vendor))
    with snapshot(db.session):
        result = service.vendor_blast_radius(
            db.session, [vendor_id], since=since.replace(tzinfo=UTC) if since else None
        )
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else render_text(result))
