"""``flask --app app db upgrade|downgrade|current``: the schema, by Alembic."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import alembic_config, owner_url


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


@db_cli.command("grant-app-role")
@click.argument("role")
def db_grant_app_role(role: str) -> None:
    """Grant the PostgreSQL role ROLE what the app needs, and no more (run as the owner).

    Data privileges on every table (the audit trail: read and append only), the sequences,
    and the tables later migrations create. ROLE must exist, own nothing and not be a
    superuser. Set VR_DATABASE_URL to ROLE's URL and VR_MIGRATION_DATABASE_URL to the owner's.
    """
    import sqlalchemy as sa

    from ..services import database_roles

    engine = sa.create_engine(owner_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            granted = database_roles.grant_app_role(connection, role)
    except database_roles.RoleRefused as exc:
        raise click.ClickException(f"{exc}; nothing was granted") from None
    finally:
        engine.dispose()
    click.echo(
        f"Granted {granted.role} data privileges on the {granted.tables} tables of "
        f"{granted.database} (schema {granted.schema}) and on the tables migrations add; "
        f"{', '.join(granted.append_only) or 'no table'} read and append only. "
        f"{granted.role} owns nothing."
    )
