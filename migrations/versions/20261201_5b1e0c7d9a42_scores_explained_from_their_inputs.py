"""scores explained from their inputs: vendor_score.explanation dropped

Every snapshot keeps its inputs, from which ``services.scoring.explain`` gives the explanation
again when a page or a report shows it; storing it as well made rescoring a third slower.

Revision ID: 5b1e0c7d9a42
Revises: 0ce6f26047d0
Create Date: 2026-12-01 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c7d9a42"
down_revision: str | None = "0ce6f26047d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER (SQLite 3.35+ drops a column in place): no table rebuild, so the table's
    # indexes stay as they are.
    op.drop_column("vendor_score", "explanation")


def downgrade() -> None:
    # The explanations of past snapshots are not restored: an empty object each, which the
    # code of that revision shows as a score without contributors.
    op.add_column(
        "vendor_score",
        sa.Column("explanation", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
