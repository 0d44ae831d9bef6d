"""The inventory's portfolio page: concentration, super-nodes, the subprocessors most of our
vendors rely on, rotation."""

from __future__ import annotations

from flask import render_template

from ...db import db
from ...services import inventory
from ...services.portfolio import aggregates as portfolio
from .blueprint import bp


@bp.get("/portfolio")
def portfolio_view():
    freshness = portfolio.freshness(db.session)
    rotation = portfolio.rotation_counts(db.session)
    # Counted by the last refresh, as the rotation chart beside it is.
    overdue = inventory.search_credentials(
        db.session,
        rotation=inventory.RotationStatus.overdue,
        sort="last_rotated_at",
        total=rotation[inventory.RotationStatus.overdue],
    )
    return render_template(
        "inventory/portfolio.html",
        freshness=freshness,
        tiers=portfolio.tier_counts(db.session),
        super_nodes=portfolio.super_nodes(db.session),
        concentration=portfolio.concentration(db.session),
        relied_on=inventory.subprocessor_concentration(db.session),
        rotation=rotation,
        overdue=overdue,
    )
