"""notifications and notification preferences

Issue 15: ``notification`` (what each user is told: in the app always, emailed at once or in a
daily digest), with the index the header's unread count probes (user_id, read_at) and a unique
(user_id, dedupe_key) that makes the time-based events idempotent; ``notification_preference``
(each user's choice per event type; no row: email at once).

Revision ID: c3e5a7b91137
Revises: d4f6b8c02248
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "c3e5a7b91137"
down_revision: str | None = "d4f6b8c02248"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = (
    "request_returned",
    "request_accepted",
    "finding_shared",
    "finding_due_soon",
    "submission_waiting",
    "acceptance_expiring",
    "incident_opened",
    "credential_to_rotate",
    "request_overdue",
)
DELIVERIES = ("email", "digest", "in_app")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
    )


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", _enum(EVENTS, "notification_event"), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("endpoint", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("link_values", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("delivery", _enum(DELIVERIES, "notification_delivery"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint(
            "user_id", "dedupe_key", name=op.f("uq_notification_user_id_dedupe_key")
        ),
    )
    op.create_index("ix_notification_user_id_read_at", "notification", ["user_id", "read_at"])
    op.create_index(op.f("ix_notification_emailed_at"), "notification", ["emailed_at"])
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", _enum(EVENTS, "notification_preference_event"), nullable=False),
        sa.Column(
            "delivery", _enum(DELIVERIES, "notification_preference_delivery"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_preference_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "event", name=op.f("pk_notification_preference")),
    )


def downgrade() -> None:
    op.drop_table("notification_preference")
    op.drop_index(op.f("ix_notification_emailed_at"), table_name="notification")
    op.drop_index("ix_notification_user_id_read_at", table_name="notification")
    op.drop_table("notification")
