"""``flask --app app backup PATH`` and ``flask --app app restore PATH``: the database and the
evidence files in one archive, and back (services/backup.py says how)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import owner_url
from ..services import backup as service
from .common import OutputFile


def _evidence_dir() -> Path:
    return Path(current_app.config["EVIDENCE_DIR"])


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


@click.command("backup")
@click.argument("path", type=OutputFile())
@with_appcontext
def backup_command(path: Path) -> None:
    """Write the database and every evidence file into one archive at PATH (mode 0600).

    Safe while the app runs: SQLite is copied with its online backup API, PostgreSQL with
    pg_dump in one snapshot. Connects as VR_MIGRATION_DATABASE_URL when it is set."""
    try:
        done = service.create_backup(owner_url(), _evidence_dir(), path)
    except service.BackupError as exc:
        raise click.ClickException(f"{exc}; no backup was written") from None
    click.echo(
        f"Backup written to {done.archive}: {done.database} database at revision "
        f"{done.revision}, {done.rows:,} rows in {len(done.tables)} tables, "
        f"{done.evidence_files} evidence files ({_size(done.evidence_bytes)})."
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace what a non-empty target database holds (and add to a non-empty evidence "
    "folder) instead of refusing.",
)
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore the archive PATH written by `backup` into this app's database (a fresh, empty
    one: created, never migrated) and evidence folder, then check every table's rows, every
    evidence file's SHA-256 and the audit chain."""
    url = owner_url()
    try:
        done = service.restore_backup(url, _evidence_dir(), path, force)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    chain = service.audit_chain(url)
    click.echo(
        f"Restored {path} (written {done.created_at} by vendor-risk {done.app_version}): "
        f"{done.database} database at revision {done.revision}, {done.rows:,} rows in "
        f"{len(done.tables)} tables, every count as in the backup; {done.evidence_files} "
        f"evidence files ({_size(done.evidence_bytes)}), every SHA-256 as in the backup."
    )
    if not chain.ok:
        raise click.ClickException(
            f"the restored audit chain is BROKEN at event #{chain.first_bad_seq}: {chain.reason}"
        )
    click.echo(f"Audit chain intact: {chain.checked} events verified.")
    if done.database == "postgresql":
        click.echo(
            "Grant the app's role its privileges again: flask --app app db grant-app-role ROLE"
        )
