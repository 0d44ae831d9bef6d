"""``flask --app app report VENDOR -o FILE.pdf``: a PDF report from the command line.

VENDOR is a vendor's name (any case) or id; ``--incident ID`` and ``--portfolio`` write those
reports instead. Audited like a download, with the command line's user as the actor.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..db import db, row_id
from ..models import Vendor
from ..services import blast_radius
from .common import OutputFile, cli_actor, no_vendor_named, write_private

# The assessor a report names when no risk officer has decided on the vendor yet.
CLI_ASSESSOR = "command line"


def _vendor_id(vendor: str) -> int | None:
    found = blast_radius.vendor_id_by_name(db.session, vendor)
    if found is None and row_id(vendor) is not None:
        by_id = db.session.get(Vendor, row_id(vendor))
        found = by_id.id if by_id is not None else None
    return found


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.command("report")
@with_appcontext
@click.argument("vendor", required=False)
@click.option(
    "-o",
    "--output",
    required=True,
    type=OutputFile(),
    help="The PDF file to write (its folder must exist).",
)
@click.option("--incident", "incident_id", type=int, help="The report of this incident instead.")
@click.option("--portfolio", is_flag=True, help="The portfolio summary instead.")
def report_command(
    vendor: str | None, output: Path, incident_id: int | None, portfolio: bool
) -> None:
    """Write the PDF assessment of VENDOR (a name or an id), an incident's report, or the
    portfolio summary."""
    from ..reports.exports import export_assessment, export_incident, export_portfolio

    chosen = [vendor is not None, incident_id is not None, portfolio]
    if sum(chosen) != 1:
        _fail("name one report: a VENDOR, --incident ID or --portfolio")
    actor = cli_actor()
    if portfolio:
        click.echo("Building the portfolio summary…", err=True)
        exported = export_portfolio(db.session, actor=actor)
    elif incident_id is not None:
        click.echo(f"Building the report of incident #{incident_id}…", err=True)
        exported = export_incident(db.session, incident_id, actor=actor)
        if exported is None:
            _fail(f"no incident #{incident_id}")
    else:
        vendor_id = _vendor_id(vendor)
        if vendor_id is None:
            _fail(f"{no_vendor_named(db.session, vendor)} (give its name or its id)")
        click.echo(f"Building the assessment of {vendor}…", err=True)
        exported = export_assessment(db.session, vendor_id, actor=actor, exported_by=CLI_ASSESSOR)
    # The export is audited before the file leaves: a report nobody can account for is worse
    # than an audited export whose write then failed (which says so and exits 1).
    db.session.commit()
    write_private(output, exported.rendered.pdf)
    pages = exported.rendered.pages
    click.echo(
        f"Written {pages} page{'' if pages == 1 else 's'} to {output} "
        f"(content SHA-256 {exported.rendered.digest})."
    )
