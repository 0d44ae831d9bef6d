"""``flask --app app portfolio refresh``: recompute the portfolio's aggregates (for cron).

Pages recompute them when the inventory changed, so cron is optional: it keeps the first page
view after a change fast on a large portfolio, and dates current as credentials expire.
"""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..db import db
from ..services.portfolio import aggregates as portfolio

portfolio_cli = AppGroup("portfolio", help="The portfolio's aggregates (blast radius, tiers).")


@portfolio_cli.command("refresh")
@click.option("--if-stale", is_flag=True, help="Only if the inventory changed or an hour passed.")
def refresh_command(if_stale: bool) -> None:
    """Recompute every vendor's blast radius figures and tier, and system concentration."""
    started = time.perf_counter()
    if if_stale:
        state = portfolio.ensure_fresh(db.session)
        click.echo(f"Aggregates of inventory version {state.computed_version}, fresh.")
        return
    aggregates = portfolio.refresh(db.session)
    db.session.commit()
    click.echo(
        f"Computed {len(aggregates.vendors)} vendors and {len(aggregates.systems)} systems"
        f" (inventory version {aggregates.version}) in {time.perf_counter() - started:.2f} s."
    )
