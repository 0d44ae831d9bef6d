"""Command line: ``flask --app app COMMAND``."""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import audit, config, demo
from .audit import Actor
from .db import db, describe_unavailable, read_only
from .models import Role
from .services import ValidationFailed, accounts
from .services.blast_radius import vendor_id_by_name

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # The engine's URL, resolved like the app resolves it (a relative SQLite path lives in
    # the instance folder), so migrations and the app always open the same database.
    cfg.attributes["url"] = url or db.engine.url.render_as_string(hide_password=False)
    return cfg


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"cli:{who}")


class OutputFile(click.Path):
    """A file a command is about to write: its folder must exist and be writable, checked
    before any work is done (a PDF is not rendered for a minute to fail at the last step).
    A refusal is one line and exit 1, like every other failure of a command."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(value)
        folder = path.parent
        if path.is_dir():
            problem = "it is a folder"
        elif not folder.is_dir():
            problem = f"the folder {str(folder)!r} does not exist"
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem = f"the folder {str(folder)!r} is not writable"
        elif path.exists() and not os.access(path, os.W_OK):
            problem = f"{str(path)!r} exists and is not writable"
        else:
            return path
        raise click.ClickException(f"cannot write {str(path)!r}: {problem}; nothing was done")


def write_private(path: Path, content: bytes | str) -> None:
    """Write a file readable by its owner only: an export or a report maps which vendor can
    reach which system. Its folder was checked by :class:`OutputFile`; what can still fail
    (a full disk) is one clear line."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {str(path)!r}: {exc.strerror}") from None


def _database_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A command that finds the database locked past the busy timeout, unreachable or not
    built prints one line saying so and exits 1, never a traceback."""

    @functools.wraps(callback)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (sa.exc.OperationalError, sa.exc.TimeoutError) as exc:
            url = None
            with contextlib.suppress(RuntimeError, KeyError):  # outside an app, or no engine
                url = current_app.config["SQLALCHEMY_ENGINES"]["default"]
            raise click.ClickException(describe_unavailable(exc, url)) from None

    return guarded


def _guard_database_errors(command: click.Command) -> None:
    if command.callback is not None and not getattr(command.callback, "_db_guarded", False):
        command.callback = _database_errors(command.callback)
        command.callback._db_guarded = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard_database_errors(sub)


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Build or upgrade the schema (from nothing on a new database)."""
    command.upgrade(alembic_config(), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ("base" empties the database)."""
    command.downgrade(alembic_config(), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config(), verbose=False)


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


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--vendor", "vendor_name", help="Vendor name, for a vendor contact.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
def create_user(
    email: str, name: str, role: str, vendor_name: str | None, password_stdin: bool
) -> None:
    """Create a user. The password is prompted for (never a command-line argument)."""
    vendor_id = None
    if vendor_name:
        vendor_id = vendor_id_by_name(db.session, vendor_name)
        if vendor_id is None:
            raise click.UsageError(f"no vendor named {vendor_name!r}")
    password = _read_password(password_stdin)
    try:
        user = accounts.create_user(
            db.session,
            email=email,
            name=name,
            password=password,
            role=Role(role),
            vendor_id=vendor_id,
            actor=cli_actor(),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"{field or 'error'}: {message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Created {user.role.label.lower()} {user.email}. MFA enrolment happens at first login."
    )


def ensure_first_admin(email: str = "admin@example.com") -> str | None:
    """Create the first admin when the database has no user; returns its one-time password.
    Either way the transaction ends here: on SQLite a command's transaction holds the write
    lock, which nobody else could take until it ended."""
    if accounts.count_users(db.session):
        db.session.rollback()
        return None
    password = secrets.token_urlsafe(15)
    accounts.create_user(
        db.session,
        email=email,
        name="First admin",
        password=password,
        role=Role.admin,
        actor=cli_actor(),
    )
    db.session.commit()
    return password


def _load_demo() -> list[tuple[str, Role, str]]:
    created = demo.load_demo(db.session, actor=cli_actor())
    db.session.commit()
    return created


def _sync_questionnaires() -> None:
    """Store the shipped questionnaires (new content only: unchanged files are a no-op), so
    that they can be sent from the first start and an upgrade brings their new versions."""
    from .services.questionnaires import sync_shipped

    stored = sync_shipped(db.session, actor=cli_actor())
    db.session.commit()
    new = [s.version for s in stored if s.created]
    if new:
        titles = ", ".join(f"{v.title} (version {v.number})" for v in new)
        click.echo(f"Questionnaires stored: {titles}.")


def _print_accounts(accounts_created: list[tuple[str, Role, str]]) -> None:
    click.echo("These passwords are shown once; store them now:")
    for email, role, password in accounts_created:
        click.echo(f"    {role.label:<15} {email:<36} {password}")
    click.echo("Each account enrols an authenticator app (TOTP) at its first login.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo inventory (modelled on the 2023 identity-provider breach) and one demo
    user per role into an empty database."""
    if not demo.inventory_is_empty(db.session):
        raise click.ClickException(
            "the inventory is not empty: the demo loads only into an empty one"
        )
    _sync_questionnaires()
    _print_accounts(_load_demo())


@click.command("quickstart")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
@click.option("--no-demo", is_flag=True, help="Do not load the demo data on first start.")
def quickstart(host: str, port: int, no_serve: bool, no_demo: bool) -> None:
    """Upgrade the database; on first start create the first admin and load the demo data;
    serve the app."""
    if not current_app.config["BASE_URL"]:  # links in emails point where it serves
        current_app.config["BASE_URL"] = config.served_base_url(host, port)
    url = f"http://{host}:{port}/"
    # The preparation is a unit of work of its own: its app context, and with it its database
    # session, ends before the server starts, so the serving process holds no transaction (on
    # SQLite, a transaction left open here kept the write lock for as long as the app served).
    with current_app.app_context():
        created = _prepare(no_demo)
    click.echo("")
    if created:
        _print_accounts(created)
    else:
        click.echo("Users exist already: log in with your account.")
    click.echo(f"vendor-risk is at {url}  (development server; Ctrl+C stops it)")
    click.echo("")
    if not no_serve:
        # Flask ignores app.run() inside its own CLI; werkzeug's server is what `flask run` uses.
        from werkzeug.serving import run_simple

        run_simple(host, port, current_app._get_current_object(), threaded=True)


def _prepare(no_demo: bool) -> list[tuple[str, Role, str]]:
    """Upgrade the schema, store the shipped questionnaires and, on first start, create the
    first admin and the demo; returns the accounts created (empty when users existed)."""
    command.upgrade(alembic_config(), "head")
    _sync_questionnaires()
    password = ensure_first_admin()
    if not password:
        return []
    created = [("admin@example.com", Role.admin, password)]
    if not no_demo and demo.inventory_is_empty(db.session):
        created += _load_demo()
        click.echo(
            f"Demo inventory loaded: {len(demo.VENDORS)} vendors, among them "
            f"{demo.IDENTITY_PROVIDER}, the identity provider of the 2023 breach story."
        )
    db.session.rollback()  # the read of an inventory found not empty ends here too
    return created


def register(app: Flask) -> None:
    from .blast_radius_cli import blast_radius_command
    from .findings_cli import findings_cli
    from .inventory_cli import inventory_cli  # it imports cli_actor from this module
    from .portfolio_cli import portfolio_cli
    from .questionnaire.cli import questionnaires_cli
    from .reports.cli import report_command
    from .requests_cli import send_reminders_command
    from .scoring_cli import rescore_command

    commands = (db_cli, audit_cli, create_user, quickstart, demo_command)
    for cmd in (*commands, inventory_cli, blast_radius_command, portfolio_cli, questionnaires_cli):
        app.cli.add_command(cmd)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(rescore_command)
    app.cli.add_command(findings_cli)
    app.cli.add_command(report_command)
    for cmd in app.cli.commands.values():
        _guard_database_errors(cmd)
