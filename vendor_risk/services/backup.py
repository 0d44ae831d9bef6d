"""A backup of everything vendor-risk keeps, in one archive file, and its restore.

The archive (a gzip'd tar, mode 0600: it holds password hashes and TOTP secrets) contains:

- the database: on SQLite a copy made with the online backup API (consistent while the app
  writes), on PostgreSQL a ``pg_dump --format=custom`` taken in a snapshot whose row counts
  are the manifest's;
- every evidence file, under ``evidence/``;
- ``manifest.json``: the app's version, the database kind, its Alembic revision, the rows of
  every table, and the SHA-256 and size of the database file and of every evidence file.

A restore goes into a fresh, empty database (a non-empty one is refused unless forced): the
archive is read and every hash checked before the target is touched, the database is
restored in one step (the backup API; ``pg_restore --single-transaction``), then the evidence
files are moved in place, and the counts and hashes are checked again on what was restored.

Every failure is a :class:`BackupError` with one line for the person running the command.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit

FORMAT = "vendor-risk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
EVIDENCE_PREFIX = "evidence/"
CHUNK = 1024 * 1024
# Files the app writes in the evidence folder that are not evidence (the readiness probe's).
_NOT_EVIDENCE = re.compile(r"^\.readyz-")
# The client tools of a PostgreSQL major older than the server's cannot dump it.
_TOOL_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


class BackupError(Exception):
    """Why a backup or a restore cannot be done, in one line; nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    """What a backup wrote or a restore put back (the command's summary)."""

    archive: Path
    database: str
    revision: str | None
    tables: dict[str, int]
    evidence_files: int
    evidence_bytes: int
    created_at: str
    app_version: str

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def app_version() -> str:
    try:
        return metadata.version("vendor-risk")
    except metadata.PackageNotFoundError:  # run from a checkout without being installed
        return "unknown"


def database_kind(url: str | sa.URL) -> str:
    return sa.make_url(url).get_backend_name()


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# ---- what a database holds ---------------------------------------------------------------------


def table_counts(connection: sa.Connection) -> dict[str, int]:
    """The rows of every table of the database (the app's schema), by name."""
    names = sorted(sa.inspect(connection).get_table_names())
    # The names come from the database's own catalogue, quoted as identifiers.
    return {
        name: connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(name))
        ).scalar_one()
        for name in names
    }


def alembic_revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:" or url.query.get("uri"):
        raise BackupError("only a SQLite database in a file can be backed up or restored")
    return Path(url.database)


def _sqlite_counts(path: Path) -> tuple[str | None, dict[str, int]]:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return alembic_revision(connection), table_counts(connection)
    finally:
        engine.dispose()


def _is_empty(url: str) -> bool:
    """No table at all: a database never migrated (``db upgrade`` not run)."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        path = _sqlite_path(sa_url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    engine = sa.create_engine(sa_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return not sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


# ---- PostgreSQL's client tools ---------------------------------------------------------------


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_arguments(url: str | sa.URL) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump/pg_restore without the password, and the environment
    that carries the password (never on the command line, where ``ps`` shows it)."""
    sa_url = sa.make_url(url)
    parts = {
        "host": sa_url.host,
        "port": str(sa_url.port) if sa_url.port else None,
        "user": sa_url.username,
        "dbname": sa_url.database,
    }
    for key, value in sa_url.query.items():  # sslmode, host=/run/postgresql, ...
        if key != "password":
            parts[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_conninfo_value(v)}" for key, v in parts.items() if v)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if sa_url.password:
        env["PGPASSWORD"] = str(sa_url.password)
    return conninfo, env


def _tool(name: str, server_major: int) -> str:
    """The path of pg_dump or pg_restore, checked to be able to talk to the server."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL {server_major} client tools "
            f"(Debian: apt install postgresql-client-{server_major}) and try again"
        )
    try:
        version = subprocess.run(  # noqa: S603 - a fixed program found on PATH, no shell
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{name} --version failed: {exc}") from None
    found = _TOOL_VERSION.search(version)
    major = int(found.group(1)) if found else 0
    if major < server_major:
        raise BackupError(
            f"{name} is version {major or 'unknown'} but the server is PostgreSQL {server_major}:"
            f" install the PostgreSQL {server_major} client tools "
            f"(Debian: apt install postgresql-client-{server_major})"
        )
    return path


def _server_major(connection: sa.Connection) -> int:
    return int(connection.execute(sa.text("SHOW server_version_num")).scalar()) // 10000


def _run_tool(arguments: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - our arguments, no shell
            arguments, env=env, capture_output=True, text=True, timeout=6 * 3600
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{what} failed: {exc}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit code {result.returncode}"
        raise BackupError(f"{what} failed: {reason}")


# ---- backup ----------------------------------------------------------------------------------


def _backup_sqlite(url: sa.URL, target: Path) -> tuple[str | None, dict[str, int]]:
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"the SQLite database {str(source_path)!r} does not exist")
    source = sqlite3.connect(f"{source_path.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): the copy is of one consistent state, even while the app writes.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")  # the archived file stands alone
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from None
    finally:
        copy.close()
        source.close()
    return _sqlite_counts(target)


def _backup_postgresql(url: sa.URL, target: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump of the snapshot in which the rows are counted, so the manifest's counts are
    exactly the dump's, whatever the app writes meanwhile."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                pg_dump = _tool("pg_dump", _server_major(connection))
                snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
                revision, counts = alembic_revision(connection), table_counts(connection)
                conninfo, env = libpq_arguments(url)
                _run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        f"--file={target}",
                        f"--dbname={conninfo}",
                    ],
                    env,
                    "pg_dump",
                )
    finally:
        engine.dispose()
    return revision, counts


def _evidence_files(folder: Path) -> Iterator[tuple[str, Path]]:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not _NOT_EVIDENCE.match(path.name):
            yield path.relative_to(folder).as_posix(), path


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def create_backup(url: str, evidence_dir: Path, archive_path: Path) -> Outcome:
    """Write the backup archive of the database at ``url`` and the evidence folder."""
    sa_url = sa.make_url(url)
    kind = sa_url.get_backend_name()
    if kind not in DATABASE_MEMBER:
        raise BackupError(f"cannot back up a {kind} database: SQLite or PostgreSQL only")
    member = DATABASE_MEMBER[kind]
    archive_path = archive_path.absolute()
    with tempfile.TemporaryDirectory(prefix=".vr-backup-", dir=archive_path.parent) as work:
        dump = Path(work) / member
        if kind == "sqlite":
            revision, counts = _backup_sqlite(sa_url, dump)
        else:
            revision, counts = _backup_postgresql(sa_url, dump)
        dump_sha, dump_size = _sha256_file(dump)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        evidence: dict[str, dict[str, object]] = {}
        partial = Path(work) / "archive.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(dump, arcname=member)
            for name, path in _evidence_files(evidence_dir):
                try:
                    digest, size = _sha256_file(path)
                    tar.add(path, arcname=EVIDENCE_PREFIX + name)
                except FileNotFoundError:
                    continue  # removed since (its row was deleted): not part of the backup
                evidence[name] = {"sha256": digest, "size": size}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": created,
                "app_version": app_version(),
                "database": kind,
                "alembic_revision": revision,
                "tables": counts,
                "database_file": {"name": member, "sha256": dump_sha, "size": dump_size},
                "evidence": evidence,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        os.replace(partial, archive_path)
    return _outcome(archive_path, manifest)


def _outcome(archive: Path, manifest: dict) -> Outcome:
    evidence = manifest["evidence"]
    return Outcome(
        archive=archive,
        database=manifest["database"],
        revision=manifest["alembic_revision"],
        tables=dict(manifest["tables"]),
        evidence_files=len(evidence),
        evidence_bytes=sum(int(item["size"]) for item in evidence.values()),
        created_at=manifest["created_at"],
        app_version=manifest["app_version"],
    )


# ---- restore ---------------------------------------------------------------------------------


def _safe_member_name(name: str) -> str | None:
    """The member's path if it stays inside the folder it is extracted to, else None."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        return None
    return path.as_posix()


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupError("not a vendor-risk backup: the archive has no manifest.json") from None
    handle = archive.extractfile(member)
    try:
        manifest = json.loads(handle.read()) if handle else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a vendor-risk backup: its manifest.json is not one")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"this backup's format version {manifest.get('format_version')!r} is not one this "
            f"version of vendor-risk reads ({FORMAT_VERSION})"
        )
    required = ("database", "tables", "database_file", "evidence")
    if any(key not in manifest for key in required) or manifest["database"] not in (
        DATABASE_MEMBER
    ):
        raise BackupError("not a vendor-risk backup: its manifest.json is incomplete")
    return manifest


def _extract(archive: tarfile.TarFile, manifest: dict, into: Path) -> tuple[Path, Path]:
    """The database file and the evidence files, written under ``into`` and checked against
    the manifest's hashes. Returns (database file, evidence folder)."""
    expected = {manifest["database_file"]["name"]: manifest["database_file"]["sha256"]}
    expected |= {
        EVIDENCE_PREFIX + name: item["sha256"] for name, item in manifest["evidence"].items()
    }
    found: set[str] = set()
    for member in archive:
        if member.name == MANIFEST:
            continue
        name = _safe_member_name(member.name)
        if name is None or not member.isfile() or name not in expected:
            raise BackupError(f"the archive holds an unexpected entry {member.name!r}: refused")
        target = into / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        source = archive.extractfile(member)
        digest = hashlib.sha256()
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            while source is not None and (block := source.read(CHUNK)):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != expected[name]:
            raise BackupError(f"the archive is damaged: {name} does not match its SHA-256")
        found.add(name)
    missing = sorted(set(expected) - found)
    if missing:
        raise BackupError(f"the archive is incomplete: {missing[0]} is missing")
    return into / manifest["database_file"]["name"], into / EVIDENCE_PREFIX.rstrip("/")


def _restore_sqlite(dump: Path, url: sa.URL) -> None:
    target_path = _sqlite_path(url)
    target_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(f"{dump.absolute().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        # The backup API replaces the target's pages in one transaction: all or nothing.
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=WAL")  # the app's mode
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite restore failed: {exc}") from None
    finally:
        target.close()
        source.close()


def _restore_postgresql(dump: Path, url: sa.URL, force: bool) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            pg_restore = _tool("pg_restore", _server_major(connection))
    finally:
        engine.dispose()
    conninfo, env = libpq_arguments(url)
    arguments = [
        pg_restore,
        "--single-transaction",  # all or nothing
        "--exit-on-error",
        "--no-owner",  # owned by who restores: the database's owner (MIGRATION_DATABASE_URL)
        "--no-privileges",  # the app's role is granted again: `db grant-app-role`
        f"--dbname={conninfo}",
    ]
    if force:
        arguments += ["--clean", "--if-exists"]
    _run_tool([*arguments, str(dump)], env, "pg_restore")


def _verify(url: str, manifest: dict, evidence_dir: Path) -> list[str]:
    """What differs between the restored database and files and the manifest."""
    problems = []
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            revision, counts = alembic_revision(connection), table_counts(connection)
    finally:
        engine.dispose()
    if revision != manifest.get("alembic_revision"):
        problems.append(f"revision {revision} instead of {manifest.get('alembic_revision')}")
    for table, rows in manifest["tables"].items():
        if counts.get(table) != rows:
            problems.append(f"table {table}: {counts.get(table)} rows instead of {rows}")
    for name, item in manifest["evidence"].items():
        path = evidence_dir / name
        if not path.is_file() or _sha256_file(path)[0] != item["sha256"]:
            problems.append(f"evidence file {name} missing or altered")
    return problems


def restore_backup(url: str, evidence_dir: Path, archive_path: Path, force: bool) -> Outcome:
    """Put the backup at ``archive_path`` into the database at ``url`` (fresh and empty,
    unless ``force``) and ``evidence_dir``; checked against the manifest afterwards."""
    if not archive_path.is_file():
        raise BackupError(f"no backup file at {str(archive_path)!r}")
    kind = database_kind(url)
    # The target first: an unreachable or non-empty database is said before the archive is read.
    if not force and not _is_empty(url):
        raise BackupError(
            "the target database is not empty: restore into a fresh database (created, "
            "not migrated), or add --force to replace everything it holds"
        )
    evidence_dir = evidence_dir.absolute()
    evidence_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with (
            tarfile.open(archive_path, mode="r:*") as archive,
            tempfile.TemporaryDirectory(prefix=".vr-restore-", dir=evidence_dir.parent) as work,
        ):
            manifest = _read_manifest(archive)
            if manifest["database"] != kind:
                raise BackupError(
                    f"this backup is of a {manifest['database']} database and the target is "
                    f"{kind}: restore it into a {manifest['database']} database"
                )
            existing = [p for p in evidence_dir.iterdir()] if evidence_dir.is_dir() else []
            if existing and not force:
                raise BackupError(
                    f"the evidence folder {str(evidence_dir)!r} is not empty: restore into an "
                    "empty one, or add --force to add the backup's files to it"
                )
            dump, staged_evidence = _extract(archive, manifest, Path(work))
            if kind == "sqlite":
                _restore_sqlite(dump, sa.make_url(url))
            else:
                _restore_postgresql(dump, sa.make_url(url), force)
            evidence_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            for name in manifest["evidence"]:
                target = evidence_dir / name
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(staged_evidence / name, target)  # same file system: a rename
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile):
            raise BackupError(f"cannot read or write the backup: {exc}") from None
        reason = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
        raise BackupError(f"not a vendor-risk backup, or a damaged one ({reason})") from None
    problems = _verify(url, manifest, evidence_dir)
    if problems:
        raise BackupError(
            f"restored, but it does not match the backup's manifest: {'; '.join(problems[:3])}"
        )
    return _outcome(archive_path, manifest)


def audit_chain(url: str) -> audit.ChainReport:
    """The restored audit trail's hash chain, verified (what `audit verify` reports)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with Session(engine) as session:
            return audit.verify_chain(session)
    finally:
        engine.dispose()
