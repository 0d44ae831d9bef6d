"""``flask --app app rescore [--all | VENDOR]``: compute risk ratings again, on demand.

Ratings follow their inputs by themselves (a submission, an inventory change once the
aggregates are refreshed, a new version of the scoring method): this command is for after a
deployment, for an auditor who wants to see a score computed in front of them, or for cron. It
refreshes the portfolio's aggregates first when they are stale, so that a rating is never
computed from a blast radius older than the inventory. A computation whose inputs did not
change adds no snapshot to the history.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from ..core.plurals import plural
from ..core.scoring import MISSING_WORDS
from ..db import db
from ..models import AuditAction, ScoreTrigger, Vendor
from ..services import audit
from ..services.assessments import scoring
from ..services.blast_radius import vendor_id_by_name
from ..services.portfolio import aggregates as portfolio
from .common import cli_actor, no_vendor_named


def _target(vendor: str | None, every: bool) -> None:
    """Exactly one of VENDOR and --all: rescoring everything by a forgotten argument, or
    guessing which of the two was meant, would both surprise."""
    if every and vendor is not None:
        raise click.UsageError("give either VENDOR or --all, not both")
    if not every and vendor is None:
        raise click.UsageError("give a VENDOR (its name) or --all")


def _vendor(session: Session, name: str) -> Vendor:
    """The vendor by its name in any case, checked before any work is done."""
    vendor_id = vendor_id_by_name(session, name)
    if vendor_id is None:
        raise click.UsageError(no_vendor_named(session, name))
    return session.get_one(Vendor, vendor_id)


def _rescore_all(session: Session) -> scoring.Rescored:
    """Every vendor with aggregates, behind a progress bar: thousands of vendors take seconds.
    The vendors per inherent tier add up to the vendors with aggregates, which ``rescore``
    computes."""
    total = sum(portfolio.tier_counts(session).values())
    with click.progressbar(length=total, label="Rescoring vendors") as bar:
        return scoring.rescore(session, None, trigger=ScoreTrigger.rescore, progress=bar.update)


def _plural(count: int, word: str) -> str:
    return plural(count, word)


def _rating_words(session: Session, vendor: Vendor) -> str:
    """The vendor's rating as a risk officer reads it, with an override beside it (never in
    its place)."""
    found = scoring.rating_of(session, vendor.id)
    if found is None:
        return f"{vendor.name}: not scored (no portfolio aggregates for it)."
    rating, _ = found
    words = f"{vendor.name}: residual risk {rating.residual_score:g}, tier {rating.residual_tier}"
    if rating.override_tier:
        words += f" (overridden to {rating.override_tier} by a risk officer)"
    if rating.missing:
        missing = "; ".join(MISSING_WORDS[key] for key in scoring.missing_facts(rating.missing))
        words += f"; incomplete, missing: {missing}"
    if rating.provisional_tier:
        words += (
            f"; provisional {rating.provisional_score:g}, tier {rating.provisional_tier}, once "
            "the answers awaiting review are accepted (not counted)"
        )
    return words + "."


@click.command("rescore")
@with_appcontext
@click.argument("vendor", required=False)
@click.option("--all", "every", is_flag=True, help="Every vendor.")
def rescore_command(vendor: str | None, every: bool) -> None:
    """Compute the risk rating of VENDOR (its name, any case) or of every vendor (--all) again,
    after refreshing the portfolio's aggregates if they are stale."""
    _target(vendor, every)
    session = db.session
    one = None if vendor is None else _vendor(session, vendor)
    before = portfolio.freshness(session)
    fresh = portfolio.ensure_fresh(session)
    if fresh != before:
        # The refresh rescored the vendors it changed (trigger inventory_changed): say so,
        # or the count below would read as if nothing had moved.
        click.echo(
            f"Refreshed the portfolio's aggregates first (inventory version "
            f"{fresh.computed_version}): the vendors whose figures changed were rescored then."
        )
    if one is None:
        result = _rescore_all(session)
    else:
        result = scoring.rescore(session, [one.id], trigger=ScoreTrigger.rescore)
    audit.record(
        session,
        AuditAction.vendors_rescored,
        actor=cli_actor(),
        object_type=None if one is None else "vendor",
        object_id=None if one is None else one.id,
        vendor_id=None if one is None else one.id,
        details={"count": result.vendors, "recorded": result.recorded}
        | ({"all": True} if one is None else {"vendor": one.name}),
    )
    session.commit()
    click.echo(
        f"Rescored {_plural(result.vendors, 'vendor')}: "
        f"{_plural(result.recorded, 'snapshot')} recorded (only changed inputs add one)."
    )
    if one is not None:
        click.echo(_rating_words(session, one))
