"""unknown is not low: missing facts and provisional ratings (scoring parameters version 2)

- ``vendor_score`` and ``vendor_rating``: ``missing``, the facts a rating misses (their keys
  separated by spaces, "" when complete: the vendor list filters on it), and the provisional
  rating beside it (``provisional_score``, ``provisional_tier``: the answers no risk officer has
  accepted yet counted);
- ``vendor_score.trigger`` accepts two more events: a request ``accepted`` (its answers count,
  settled) and ``cancelled``;
- ``portfolio_day``: rated vendors whose rating is incomplete (in all and per missing fact) and
  those with a provisional rating, which the risk officer's dashboard shows.

Existing rows are complete and without a provisional rating, as version 1 computed them: their
ratings are computed again by version 2 at the next refresh of the aggregates, as any rating of
another version; their past snapshots keep version 1 and reproduce by it.

On SQLite the new CHECK constraint of ``vendor_score.trigger`` rebuilds that table (batch
mode, its indexes created again; it has no trigger); the other columns are added in place.

Revision ID: 1a9d93087fa7
Revises: 15fcf7fd5f1a
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "1a9d93087fa7"
down_revision: str | None = "15fcf7fd5f1a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS_BEFORE = (
    "submitted",
    "answers_changed",
    "decision",
    "inventory_changed",
    "parameters_changed",
    "rescore",
)
TRIGGERS_AFTER = (*TRIGGERS_BEFORE, "accepted", "cancelled")
CHECK = "ck_vendor_score_score_trigger"


def _trigger_check(values: Sequence[str]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    # resolve_fks=False: the tables vendor_score refers to are not reflected (the vendor
    # table's expression index cannot be, and nothing of theirs changes).
    with op.batch_alter_table(
        "vendor_score", schema=None, reflect_kwargs={"resolve_fks": False}
    ) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), sa.text(f'"trigger" IN ({allowed})'))


def _rating_columns(batch_op) -> None:
    batch_op.add_column(
        sa.Column(
            "missing",
            sqlmodel.sql.sqltypes.AutoString(length=100),
            nullable=False,
            server_default="",
        )
    )
    batch_op.add_column(sa.Column("provisional_score", sa.Float(), nullable=True))
    batch_op.add_column(
        sa.Column("provisional_tier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
    )


def upgrade() -> None:
    with op.batch_alter_table("vendor_score", schema=None) as batch_op:
        _rating_columns(batch_op)
    _trigger_check(TRIGGERS_AFTER)
    with op.batch_alter_table("vendor_rating", schema=None) as batch_op:
        _rating_columns(batch_op)
        batch_op.create_index(batch_op.f("ix_vendor_rating_missing"), ["missing"], unique=False)
    with op.batch_alter_table("portfolio_day", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("incomplete", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("missing", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column("provisional", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    # The code of version 1 cannot explain a rating of version 2: computing the aggregates
    # again (the first page that needs them does) rescores every rating by version 1 first.
    op.execute("UPDATE portfolio_state SET computed_version = NULL")
    # Snapshots recorded after an acceptance or a cancellation keep their figures, their
    # trigger read as what version 1 called any rescore asked for.
    op.execute(
        "UPDATE vendor_score SET \"trigger\" = 'rescore'"
        " WHERE \"trigger\" IN ('accepted', 'cancelled')"
    )
    with op.batch_alter_table("portfolio_day", schema=None) as batch_op:
        batch_op.drop_column("provisional")
        batch_op.drop_column("missing")
        batch_op.drop_column("incomplete")
    with op.batch_alter_table("vendor_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_rating_missing"))
        batch_op.drop_column("provisional_tier")
        batch_op.drop_column("provisional_score")
        batch_op.drop_column("missing")
    _trigger_check(TRIGGERS_BEFORE)
    with op.batch_alter_table("vendor_score", schema=None) as batch_op:
        batch_op.drop_column("provisional_tier")
        batch_op.drop_column("provisional_score")
        batch_op.drop_column("missing")
