"""`flask --app app backup` and `restore`: a backup of the demo restored into a fresh database
holds every row, every evidence file and an intact audit chain; bad input is one line, exit 1,
and leaves the target as it was. Runs on the suite's database (VR_TEST_BACKEND)."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import BACKEND, create_postgres_database, drop_postgres_database

from vendor_risk.services import backup


@pytest.fixture
def fresh_url(tmp_path):
    """An empty database of the suite's kind: created, never migrated."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'vendor-risk.sqlite'}"
    else:
        url = create_postgres_database()
        yield url
        drop_postgres_database(url)


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            out = {}
            for name in sa.inspect(connection).get_table_names():
                table = sa.Table(name, sa.MetaData(), autoload_with=connection)
                order = list(table.primary_key.columns) or list(table.columns)
                out[name] = [
                    tuple(r) for r in connection.execute(sa.select(table).order_by(*order))
                ]
            return out
    finally:
        engine.dispose()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def demo(make_app, database_url, tmp_path):
    """The demo loaded into the suite's database, with its evidence files, and its backup."""
    source = make_app(EVIDENCE_DIR=str(tmp_path / "evidence"))
    runner = source.test_cli_runner()
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    archive = tmp_path / "backups" / "vr.tar.gz"
    archive.parent.mkdir()
    written = runner.invoke(args=["backup", str(archive)])
    assert written.exit_code == 0, written.output
    assert "Backup written to" in written.output
    return source, archive


def _target(make_app, url: str, tmp_path: Path):
    return make_app(DATABASE_URL=url, EVIDENCE_DIR=str(tmp_path / "restored-evidence"))


def test_restore_into_a_fresh_database_finds_every_row_file_and_an_intact_chain(
    demo, make_app, database_url, fresh_url, tmp_path
):
    _, archive = demo
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # password hashes, TOTP secrets
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["database"] == BACKEND
    assert manifest["tables"]["audit_event"] > 0 and manifest["tables"]["vendor"] > 0
    evidence = _files(tmp_path / "evidence")
    assert evidence and set(manifest["evidence"]) == set(evidence)

    target = _target(make_app, fresh_url, tmp_path)
    restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "every count as in the backup" in restored.output
    assert "Audit chain intact" in restored.output

    assert _rows(fresh_url) == _rows(database_url)
    assert _files(tmp_path / "restored-evidence") == evidence
    verified = target.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    events = manifest["tables"]["audit_event"]
    assert f"Audit chain intact: {events} events verified." in verified.output

    # The restored app serves its users: the demo admin's login page answers and the
    # evidence rows point at files that are there.
    with target.app_context():
        from vendor_risk.db import db
        from vendor_risk.models import Evidence

        stored = db.session.scalars(sa.select(Evidence.stored_name)).all()
    assert stored and all((tmp_path / "restored-evidence" / name).is_file() for name in stored)


def _assert_untouched(url: str, evidence: Path) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            assert sa.inspect(connection).get_table_names() == []
    finally:
        engine.dispose()
    assert not evidence.exists() or not any(evidence.iterdir())


def _restore_fails(app, archive: Path, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["restore", str(archive), *options])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_bad_archives_are_one_line_and_restore_nothing(demo, make_app, fresh_url, tmp_path):
    _, archive = demo
    target = _target(make_app, fresh_url, tmp_path)
    evidence = tmp_path / "restored-evidence"
    data = archive.read_bytes()

    missing = _restore_fails(target, tmp_path / "nowhere.tar.gz")
    assert "no backup file" in missing

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    assert "damaged" in _restore_fails(target, truncated)

    text = tmp_path / "notes.txt"
    text.write_text("not an archive at all\n")
    assert "not a vendor-risk backup" in _restore_fails(target, text)

    no_manifest = _tar(tmp_path / "other.tar.gz", {"hello.txt": b"hi"})
    assert "no manifest.json" in _restore_fails(target, no_manifest)

    # One evidence file altered inside an otherwise good archive: refused before any write.
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src:
            content = src.extractfile(member).read()
            if member.name.startswith("evidence/"):
                content = b"altered" + content
                member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    assert "does not match its SHA-256" in _restore_fails(target, tampered)

    escaping = tmp_path / "escaping.tar.gz"
    with tarfile.open(archive) as src:
        manifest = json.load(src.extractfile("manifest.json"))
    manifest["evidence"] = {"../../escape": {"sha256": "0" * 64, "size": 1}}
    _tar(escaping, {"evidence/../../escape": b"x", "manifest.json": json.dumps(manifest).encode()})
    assert "unexpected entry" in _restore_fails(target, escaping)

    other_kind = "postgresql" if BACKEND == "sqlite" else "sqlite"
    manifest["database"] = other_kind
    wrong = _tar(tmp_path / "wrong.tar.gz", {"manifest.json": json.dumps(manifest).encode()})
    message = _restore_fails(target, wrong)
    assert f"a {other_kind} database and the target is {BACKEND}" in message

    _assert_untouched(fresh_url, evidence)


def test_a_database_that_is_not_empty_is_refused_unless_forced(demo, make_app, tmp_path):
    source, archive = demo
    message = _restore_fails(source, archive)
    assert "not empty" in message and "--force" in message
    forced = source.test_cli_runner().invoke(args=["restore", str(archive), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Audit chain intact" in forced.output


def test_backup_refuses_a_folder_that_does_not_exist(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "no" / "b.tar.gz")])
    assert result.exit_code == 1
    assert "does not exist; nothing was done" in result.output


@pytest.mark.skipif(BACKEND != "postgresql", reason="pg_dump is PostgreSQL's")
def test_a_missing_pg_dump_is_named_with_what_to_install(app, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 1
    assert "pg_dump was not found: install the PostgreSQL 15 client tools" in result.output
    assert not (tmp_path / "b.tar.gz").exists()


def test_the_password_goes_to_pg_tools_by_environment_never_argv():
    conninfo, env = backup.libpq_arguments(
        "postgresql+psycopg://vr:s3cr%27et@db.example:5433/vendor_risk?sslmode=require"
    )
    assert "s3cr" not in conninfo
    assert env["PGPASSWORD"] == "s3cr'et"
    assert "host='db.example'" in conninfo and "port='5433'" in conninfo
    assert "sslmode='require'" in conninfo
