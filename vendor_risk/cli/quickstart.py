"""``flask --app app quickstart`` and ``demo``: a working instance from nothing, the demo data."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import config
from ..db import alembic_config, db
from ..jobs import queue_of
from ..models import Role
from ..services import demo
from ..services.accounts import users as accounts
from ..services.inventory import starter
from .common import cli_actor


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
        # Printed on the terminal (and perhaps kept in its scroll-back): replaced at first login.
        must_change_password=True,
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
    from ..services.questionnaires.library import sync_shipped

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
    if any(role is Role.admin for _email, role, _password in accounts_created):
        click.echo(
            "The admin then replaces this password with their own, and finds on their home page "
            "the first steps (team, vendors, systems and data, a first questionnaire)."
        )


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
    serve the app, with the background worker (emails, reminders...) in threads of the same
    process."""
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
    if no_serve:
        click.echo("")
        return
    app = current_app._get_current_object()
    if app.config["SMTP_HOST"]:
        where = f"through {app.config['SMTP_HOST']}"
    else:
        where = "into the log and the admins' outbox (no SMTP server is configured)"
    queue = queue_of(app)
    click.echo(
        f"Background jobs run in this process ({queue.describe()}): emails go out at once, "
        f"{where}; reminders and expiry run on their schedule. No `worker` needed while it runs."
    )
    click.echo("")
    # Flask ignores app.run() inside its own CLI; werkzeug's server is what `flask run` uses.
    from werkzeug.serving import run_simple

    # The worker's threads beside the server's; the server keeps the signals (Ctrl+C).
    consumer = queue.consumer(workers=2, in_process=True)
    consumer.start()
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        consumer.stop_and_wait()  # the jobs being run finish first


def _prepare(no_demo: bool) -> list[tuple[str, Role, str]]:
    """Upgrade the schema, store the shipped questionnaires and, on first start, create the
    first admin and the demo; returns the accounts created (empty when users existed)."""
    from alembic import command  # imported when migrating, not on every start

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
    if starter.starter_is_pending(db.session):
        click.echo(
            "No data category yet: `flask --app app inventory starter` creates the common ones "
            "(customer PII, payment cards, health, secrets...), as does a risk officer's or "
            "procurement's Data categories page."
        )
    db.session.rollback()  # the read of an inventory found not empty ends here too
    return created
