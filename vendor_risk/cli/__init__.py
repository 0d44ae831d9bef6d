"""Every ``flask --app app`` command, one module per group, registered here in one place."""

from __future__ import annotations

import click
from flask import Flask

from .audit import audit_cli
from .backup import backup_command, restore_command
from .blast_radius import blast_radius_command
from .common import guard_database_errors
from .database import db_cli
from .findings import findings_cli
from .inventory import inventory_cli
from .notifications import notifications_cli
from .outbox import outbox_cli
from .portfolio import portfolio_cli
from .questionnaires import questionnaires_cli
from .quickstart import demo_command, quickstart
from .reminders import send_reminders_command
from .reports import report_command
from .scoring import rescore_command
from .users import create_user
from .worker import worker_command

COMMANDS: tuple[click.Command, ...] = (
    db_cli,
    audit_cli,
    create_user,
    quickstart,
    demo_command,
    inventory_cli,
    blast_radius_command,
    portfolio_cli,
    questionnaires_cli,
    send_reminders_command,
    notifications_cli,
    outbox_cli,
    rescore_command,
    findings_cli,
    report_command,
    worker_command,
    backup_command,
    restore_command,
)


def register(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
    for command in app.cli.commands.values():
        guard_database_errors(command)
