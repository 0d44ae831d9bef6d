"""``flask --app app create-user``: an account, its password never on the command line.

The password is typed by whoever runs the command: unless ``--own-password`` says that it is
their own account, its owner replaces it with their own at first login."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..db import db
from ..models import Role
from ..services import ValidationFailed
from ..services.accounts import users as accounts
from ..services.blast_radius import vendor_id_by_name
from .common import cli_actor, no_vendor_named


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    type=click.Choice([r.value for r in Role]),
    required=True,
    multiple=True,
    help="Repeat for a person holding several staff roles; the first decides their home page.",
)
@click.option("--vendor", "vendor_name", help="Vendor name, for a vendor contact.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.option(
    "--own-password",
    is_flag=True,
    help="The account is yours and so is the password: no change is asked at first login.",
)
def create_user(
    email: str,
    name: str,
    roles: tuple[str, ...],
    vendor_name: str | None,
    password_stdin: bool,
    own_password: bool,
) -> None:
    """Create a user. The password is prompted for (never a command-line argument); its owner
    replaces it at first login unless --own-password is given."""
    vendor_id = None
    if vendor_name:
        vendor_id = vendor_id_by_name(db.session, vendor_name)
        if vendor_id is None:
            raise click.UsageError(no_vendor_named(db.session, vendor_name))
    password = _read_password(password_stdin)
    try:
        user = accounts.create_user(
            db.session,
            email=email,
            name=name,
            password=password,
            role=Role(roles[0]),
            extra_roles=[Role(r) for r in roles[1:]],
            vendor_id=vendor_id,
            must_change_password=not own_password,
            actor=cli_actor(),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"{field or 'error'}: {message}", err=True)
        sys.exit(1)
    db.session.commit()
    then = "MFA enrolment happens" if own_password else "A password change and MFA enrolment happen"
    click.echo(f"Created {user.role_labels.lower()} {user.email}. {then} at first login.")
