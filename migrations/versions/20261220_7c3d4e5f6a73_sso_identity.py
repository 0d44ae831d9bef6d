"""single sign-on: the identity provider's (issuer, subject) of each staff account

Issue 16 item 5: ``sso_identity`` links an account to the subject an OpenID Connect provider
knows it by. Single sign-on finds the account by this pair, never by the address alone.

Downgrade forgets the links: staff sign in with their password again (or are linked anew by
their verified address at their next single sign-on).

Revision ID: 7c3d4e5f6a73
Revises: 8b2c3d4e5f62
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op


revision: str = "7c3d4e5f6a73"
down_revision: str | None = "8b2c3d4e5f62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_sso_identity_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identity")),
        sa.UniqueConstraint("issuer", "subject", name="uq_sso_identity_issuer_subject"),
        sa.UniqueConstraint("user_id", "issuer", name="uq_sso_identity_user_issuer"),
    )
    op.create_index(op.f("ix_sso_identity_user_id"), "sso_identity", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sso_identity_user_id"), table_name="sso_identity")
    op.drop_table("sso_identity")
