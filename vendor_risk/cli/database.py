"""``flask --app app db upgrade|downgrade|current``: the schema, by Alembic."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import alembic_config


def _alembic():
    """Alembic's commands, imported when a command migrates, not on every start."""
    from alembic import command

    return command


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Build or upgrade the schema (from nothing on a new database)."""
    _alembic().upgrade(alembic_config(), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ("base" empties the database)."""
    _alembic().downgrade(alembic_config(), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    _alembic().current(alembic_config(), verbose=False)
