"""``flask --app app inventory import|export``: the inventory file (docs/inventory-format.md);
``inventory starter``: the starter catalogue of data categories."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..core import inventory_file
from ..core.inventory_file import Problem
from ..db import db, expect_writes, read_only
from ..models import AuditAction
from ..services import ValidationFailed, audit
from ..services.inventory import bulk as inventory_io
from ..services.inventory import starter
from ..services.inventory.bulk import ImportReport, InventoryInvalid
from .common import OutputFile, cli_actor, write_private

inventory_cli = AppGroup("inventory", help="Bulk import and export of the inventory.")

# Names listed per section in a summary; beyond, a count.
_NAMES_SHOWN = 5


def _fail(problems: Iterable[Problem]) -> None:
    problems = list(problems)
    for problem in problems:
        click.echo(str(problem), err=True)
    plural = "" if len(problems) == 1 else "s"
    click.echo(f"{len(problems)} problem{plural}: nothing was imported.", err=True)
    sys.exit(1)


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return f" ({shown}{f' and {more} more' if more > 0 else ''})" if names else ""


def summary(report: ImportReport, name: str) -> list[str]:
    if report.dry_run:
        lines = [f"Dry run of {name}: nothing was saved. Importing it would give:"]
    else:
        lines = [f"Imported {name}:"]
    for section, part in report.sections.items():
        lines.append(
            f"  {section.replace('_', ' ')}: {len(part.created)} created{_names(part.created)}, "
            f"{len(part.updated)} updated{_names(part.updated)}, {part.unchanged} unchanged"
        )
    return lines


@inventory_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
def import_command(file: Path, dry_run: bool) -> None:
    """Create or update the vendors, systems, data categories and credentials of FILE (YAML or
    JSON), matched by name, all or nothing: any problem imports nothing."""
    loaded = inventory_file.read(file, check=False)  # the import checks everything
    if loaded.document is None:
        _fail(loaded.problems)
    try:
        report = inventory_io.import_inventory(
            db.session, loaded.document, actor=cli_actor(), dry_run=dry_run, source=file.name
        )
    except InventoryInvalid as exc:
        db.session.rollback()
        _fail(loaded.locate(exc.problems))
    except sa.exc.IntegrityError:
        # PostgreSQL: another session created one of the same names after the checks.
        db.session.rollback()
        message = "the inventory changed during the import: nothing was imported; run it again."
        click.echo(f"{file}: {message}", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in summary(report, str(file)):
        click.echo(line)


@inventory_cli.command("export")
@click.option("-o", "--output", type=OutputFile(), help="Default: stdout. Its folder must exist.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(inventory_file.FORMATS),
    help="Default: from the output file's extension, else yaml.",
)
def export_command(output: Path | None, fmt: str | None) -> None:
    """Write the whole inventory in the import format (importing it back changes nothing)."""
    read_only()  # on SQLite, a long read must not hold the write lock
    if fmt is None:
        fmt = inventory_file.format_of(output) if output else "yaml"
    document = inventory_io.export_inventory(db.session)
    text = inventory_file.dump(document, fmt)
    # The export is the whole map of who reaches what: leave a trace of who took it.
    expect_writes(db.session)
    audit.record(
        db.session,
        AuditAction.inventory_exported,
        actor=cli_actor(),
        details={
            "format": fmt,
            "to": str(output) if output else "standard output",
            "vendors": len(document.get("vendors", [])),
        },
    )
    db.session.commit()
    if output is None:
        click.echo(text, nl=False)
        return
    write_private(output, text)
    click.echo(f"Exported the inventory to {output}.")


@inventory_cli.command("starter")
@click.option("--dry-run", is_flag=True, help="Show what would be created, saving nothing.")
def starter_command(dry_run: bool) -> None:
    """Create the starter catalogue's data categories (customer PII, payment cards, health,
    secrets, source code, HR, financial, internal documents, telemetry) with their
    sensitivity. A category whose name is stored already is left as it is: running it again
    creates nothing."""
    try:
        report = starter.import_starter(db.session, actor=cli_actor(), dry_run=dry_run)
    except InventoryInvalid as exc:  # the shipped file was edited into a broken one
        db.session.rollback()
        _fail(exc.problems)
    except ValidationFailed as exc:  # a category created meanwhile by someone else
        db.session.rollback()
        click.echo(f"{starter.STARTER_SOURCE}: {exc}; run it again.", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    if dry_run:
        click.echo("Dry run of the starter catalogue: nothing was saved. Importing it would give:")
    else:
        click.echo("Imported the starter catalogue:")
    # Nine categories at most: every name is shown.
    created = ", ".join(report.created) or "none"
    kept = ", ".join(report.kept) or "none"
    click.echo(f"  data categories created: {len(report.created)} ({created})")
    click.echo(f"  kept as they are, their name being stored already: {len(report.kept)} ({kept})")
