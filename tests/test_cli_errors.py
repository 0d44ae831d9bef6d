"""Every command, when the database is locked past the busy timeout or cannot be reached,
says so in one line and exits 1: never a traceback. An output file in a missing folder is
refused before any work is done."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from conftest import BACKEND, TEST_CONFIG, events, free_port

from vendor_risk import create_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# One invocation per command, with the arguments it needs to reach the database. A command
# added without a line here fails test_every_command_is_listed.
INVOCATIONS: dict[str, list[str]] = {
    "db upgrade": ["db", "upgrade"],
    "db downgrade": ["db", "downgrade", "base"],
    "db current": ["db", "current"],
    "audit verify": ["audit", "verify"],
    "create-user": [
        "create-user",
        "--email=new@example.com",
        "--name=New",
        "--role=admin",
        "--password-stdin",
    ],
    "quickstart": ["quickstart", "--no-serve"],
    "demo": ["demo"],
    "inventory import": ["inventory", "import", "{inventory}"],
    "inventory export": ["inventory", "export", "-o", "{out}/inventory.yaml"],
    "inventory starter": ["inventory", "starter"],
    "blast-radius": ["blast-radius", "Keystone Identity"],
    "portfolio refresh": ["portfolio", "refresh"],
    "portfolio update": ["portfolio", "update"],
    "questionnaires import": ["questionnaires", "import", "{questionnaire}"],
    "send-reminders": ["send-reminders"],
    "outbox send": ["outbox", "send"],
    "rescore": ["rescore", "--all"],
    "findings expire": ["findings", "expire"],
    "notifications run-due": ["notifications", "run-due"],
    "notifications digest": ["notifications", "digest"],
    "report": ["report", "--portfolio", "-o", "{out}/portfolio.pdf"],
    "worker": ["worker"],
    "db grant-app-role": ["db", "grant-app-role", "vr_app"],
    "backup": ["backup", "{out}/backup.tar.gz"],
    "restore": ["restore", "{archive}"],
}
# Commands that never open the database.
WITHOUT_DATABASE = {"questionnaires validate"}


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[str]:
    names = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names |= _leaf_commands(command, (*prefix, name))
        else:
            names.add(" ".join((*prefix, name)))
    return names


def _app(tmp_path, url: str, **overrides):
    config = TEST_CONFIG | {"DATABASE_URL": url} | overrides
    return create_app(config, instance_path=str(tmp_path / "instance"))


def _args(name: str, tmp_path: Path) -> list[str]:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("vendors:\n  - name: Okta\n")
    values = {
        "inventory": str(inventory),
        "questionnaire": str(PROJECT_ROOT / "questionnaires" / "intake.yaml"),
        "out": str(tmp_path),
        "archive": str(tmp_path / "some-backup.tar.gz"),
    }
    (tmp_path / "some-backup.tar.gz").write_bytes(b"not read before the database answers")
    return [part.format(**values) for part in INVOCATIONS[name]]


def _assert_one_line_error(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert expected in errors[0]


def test_every_command_is_listed(tmp_path):
    app = _app(tmp_path, "sqlite://")
    assert _leaf_commands(app.cli) == set(INVOCATIONS) | WITHOUT_DATABASE


@pytest.mark.parametrize("name", sorted(INVOCATIONS))
def test_an_unreachable_database_is_one_line(tmp_path, name):
    # Nobody listens on this port: the server is down.
    url = f"postgresql+psycopg://postgres:hunter2hunter2@127.0.0.1:{free_port()}/vendor_risk"
    app = _app(tmp_path, url)
    result = app.test_cli_runner().invoke(args=_args(name, tmp_path), input="x" * 20 + "\n")
    _assert_one_line_error(result, "the database server cannot be reached")
    assert "hunter2" not in result.output  # the URL is named without its password
    assert not list(tmp_path.glob("*.pdf"))


@pytest.mark.skipif(BACKEND != "sqlite", reason="the write lock is SQLite's")
@pytest.mark.parametrize("name", sorted(INVOCATIONS))
def test_a_locked_database_is_one_line_or_waits_for_nothing(tmp_path, database_url, name):
    """Another process holds SQLite's write lock past the busy timeout. A command that
    writes says the database is busy; one that only reads is not stopped by it (WAL)."""
    app = _app(tmp_path, database_url, SQLITE_BUSY_TIMEOUT_MS=100)
    holder = sqlite3.connect(sa.make_url(database_url).database, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = app.test_cli_runner().invoke(args=_args(name, tmp_path), input="x" * 20 + "\n")
    finally:
        holder.rollback()
        holder.close()
    assert "Traceback" not in result.output
    if result.exit_code == 1 and "database is busy" in result.stderr:
        _assert_one_line_error(result, "the database is busy")
    else:
        # Read-only, or refused for a reason of its own (an unknown vendor): still one line.
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output


def test_a_write_while_another_process_holds_the_lock_is_refused_in_one_line(
    tmp_path, database_url
):
    """The same through a real process: what a user sees in a terminal."""
    if BACKEND != "sqlite":
        pytest.skip("the write lock is SQLite's")
    holder = sqlite3.connect(sa.make_url(database_url).database, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "inventory", "export"],
            cwd=PROJECT_ROOT,
            env=_env(tmp_path, database_url, VR_SQLITE_BUSY_TIMEOUT_MS="200"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.rollback()
        holder.close()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Error: the database is busy: another process holds its write lock and kept it past "
        "the busy timeout (VR_SQLITE_BUSY_TIMEOUT_MS); try again, and if it lasts, stop the "
        f"process that holds it ({database_url})"
    ]


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VR_DATABASE_URL": database_url,
        "VR_SECRET_KEY": "k" * 40,
        "VR_EVIDENCE_DIR": str(tmp_path / "evidence"),
        **extra,
    }


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["report", "--portfolio", "-o", "/no/such/dir/x.pdf"], "the folder '/no/such/dir'"),
        (["inventory", "export", "-o", "/no/such/dir/x.yaml"], "the folder '/no/such/dir'"),
        (["report", "--portfolio", "-o", "{tmp}"], "it is a folder"),
    ],
)
def test_an_output_in_a_missing_folder_is_refused_before_any_work(app, tmp_path, args, problem):
    args = [a.format(tmp=tmp_path) for a in args]
    result = app.test_cli_runner().invoke(args=args)
    _assert_one_line_error(result, problem)
    assert "nothing was done" in result.stderr
    # Refused before the report was built or the export audited.
    assert "Building" not in result.output
    assert events(app, "report.exported") == []
    assert events(app, "inventory.exported") == []


def test_an_output_in_an_existing_folder_is_written_private_and_audited(app, tmp_path):
    target = tmp_path / "inventory.yaml"
    result = app.test_cli_runner().invoke(args=["inventory", "export", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o600
    assert len(events(app, "inventory.exported")) == 1
