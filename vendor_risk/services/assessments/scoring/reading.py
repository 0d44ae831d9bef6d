"""Reading scores: a vendor's current rating, its history, and the vendors per tier."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....models import VendorRating, VendorScore


def rating_of(session: Session, vendor_id: int) -> tuple[VendorRating, VendorScore] | None:
    """The vendor's current rating and the score it comes from."""
    row = session.execute(
        sa.select(VendorRating, VendorScore)
        .join(VendorScore, VendorScore.id == VendorRating.score_id)
        .where(VendorRating.vendor_id == vendor_id)
    ).first()
    return None if row is None else (row[0], row[1])


def history(session: Session, vendor_id: int, limit: int = 50) -> list[VendorScore]:
    """The vendor's scores, newest first."""
    return list(
        session.scalars(
            sa.select(VendorScore)
            .where(VendorScore.vendor_id == vendor_id)
            .order_by(VendorScore.computed_at.desc(), VendorScore.id.desc())
            .limit(limit)
        )
    )


def tier_counts(session: Session) -> dict[str, int]:
    """Vendors per residual tier (computed, not overridden)."""
    return dict(
        session.execute(
            sa.select(VendorRating.residual_tier, sa.func.count()).group_by(
                VendorRating.residual_tier
            )
        ).all()
    )
