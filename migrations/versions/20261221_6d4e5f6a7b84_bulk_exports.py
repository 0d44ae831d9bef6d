"""bulk exports: zips of vendors' assessment PDFs, built by a background job

Issue 16 item 2: ``bulk_export`` records a zip asked for from the vendor list (its owner, the
filters, the vendors that matched, the job's progress and outcome, the file's random name in
VR_BULK_EXPORT_DIR) until it expires 24 hours later.

Downgrade drops the table; the files left in the exports folder are no longer reachable and
may be deleted by hand.

Revision ID: 6d4e5f6a7b84
Revises: 7c3d4e5f6a73
Create Date: 2026-12-21 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "6d4e5f6a7b84"
down_revision: str | None = "7c3d4e5f6a73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "running", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "bulk_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("vendor_ids", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *STATUSES,
                name="bulk_export_status",
                native_enum=False,
                create_constraint=True,
                length=7,
            ),
            server_default="queued",
            nullable=False,
        ),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_bulk_export_owner_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_export")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_bulk_export_stored_name")),
    )
    with op.batch_alter_table("bulk_export", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_export_expires_at"), ["expires_at"])
        batch_op.create_index(batch_op.f("ix_bulk_export_owner_id"), ["owner_id"])


def downgrade() -> None:
    with op.batch_alter_table("bulk_export", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_export_owner_id"))
        batch_op.drop_index(batch_op.f("ix_bulk_export_expires_at"))
    op.drop_table("bulk_export")
