"""outbox queue: emails are queued in the request's transaction and sent by a worker

``outbox_message`` becomes a durable queue: its ``status`` (queued, sent, kept, failed), the
user whose action caused it (``sender_id``), how many attempts it had, when the next one is
due and the lease of the worker sending it (``claimed_until``). ``outbox_attempt`` records each
attempt: when, its outcome and error.

Existing messages keep what they were: one with ``sent_at`` is sent, one with an error failed,
any other (development without SMTP) kept; each counts one attempt. Their bodies were not kept
when SMTP was configured, so a failed one cannot be sent again (Retry now refuses it).

Revision ID: b2d4f6a81026
Revises: c3e5a7b91137
Create Date: 2026-12-13 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "b2d4f6a81026"
down_revision: str | None = "c3e5a7b91137"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "sent", "kept", "failed")
OUTCOMES = ("sent", "kept", "retry", "failed")


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(*STATUSES, name="outbox_status", native_enum=False, create_constraint=True),
                server_default="queued",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("sender_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("attempt_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_sender_id_user_account"),
            "user_account",
            ["sender_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_sender_id"), ["sender_id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_message_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
    op.execute(
        "UPDATE outbox_message SET attempt_count = 1, next_attempt_at = created_at, status = "
        "CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN error <> '' THEN 'failed' "
        "ELSE 'kept' END"
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column(
            "next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    op.create_table(
        "outbox_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                *OUTCOMES,
                name="outbox_attempt_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_message.id"],
            name=op.f("fk_outbox_attempt_message_id_outbox_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempt")),
    )
    with op.batch_alter_table("outbox_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_attempt_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_attempt_message_id"))
    op.drop_table("outbox_attempt")
    # The older outbox knew no queue: a message still queued is recorded as not sent.
    op.execute(
        "UPDATE outbox_message SET error = 'not sent: still queued when the outbox queue was "
        "removed' WHERE status = 'queued'"
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_message_sender_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_message_sender_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempt_count")
        batch_op.drop_column("sender_id")
        batch_op.drop_constraint(batch_op.f("ck_outbox_message_outbox_status"), type_="check")
        batch_op.drop_column("status")
