"""``flask --app app portfolio update`` and ``refresh``: the portfolio's aggregates.

Pages only read the stored aggregates. ``update`` counts the inventory changes recorded since
the last computation (what the background job runs after each change); ``refresh`` computes
every vendor again (after an upgrade, and hourly: reach depends on the date as credentials
expire).
"""

from __future__ import annotations

import os
import time

import click
from flask.cli import AppGroup

from ..db import db
from ..services.portfolio import aggregates as portfolio

portfolio_cli = AppGroup("portfolio", help="The portfolio's aggregates (blast radius, tiers).")


@portfolio_cli.command("refresh")
@click.option("--if-stale", is_flag=True, help="Only if the inventory changed or an hour passed.")
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Compute the vendors in this many chunks at once, each in a process of its own "
    "(default: the machine's cores, at most 4).",
)
def refresh_command(if_stale: bool, processes: int | None) -> None:
    """Recompute every vendor's blast radius figures and tier, and system concentration."""
    started = time.perf_counter()
    if if_stale:
        state = portfolio.ensure_fresh(db.session)
        click.echo(f"Aggregates of inventory version {state.computed_version}, fresh.")
        return
    processes = processes or min(os.cpu_count() or 1, 4)
    aggregates = portfolio.refresh(db.session, processes=processes)
    db.session.commit()
    click.echo(
        f"Computed {len(aggregates.vendors)} vendors and {len(aggregates.systems)} systems"
        f" (inventory version {aggregates.version}) in {time.perf_counter() - started:.2f} s"
        f" ({processes} process{'es' if processes > 1 else ''})."
    )


@portfolio_cli.command("update")
def update_command() -> None:
    """Count the inventory changes recorded since the last computation (only the vendors and
    systems they can concern)."""
    started = time.perf_counter()
    done = portfolio.update_pending(db.session)
    db.session.commit()
    if done is None:
        click.echo("No inventory change pending: the aggregates are current.")
        return
    if not done.changes:
        click.echo(
            "Only what the aggregates do not read changed (names, owners, notes): they are"
            " current, nothing computed."
        )
        return
    vendors = "every vendor" if done.vendors is None else f"{done.vendors} vendors"
    click.echo(
        f"Counted {done.changes} changes: {vendors} and {done.systems} systems computed"
        f" in {time.perf_counter() - started:.2f} s."
    )
