"""several roles per user, a password to change at first login, an email change pending

Issue 15 (an empty instance to a first scored vendor):

- ``user_role``: the staff roles a user holds besides their primary ``user_account.role``
  (a small team's founder is admin, risk officer and procurement at once). Never
  ``vendor_contact``: a contact is one by their primary role only;
- ``user_account.must_change_password``: the password was chosen by someone else (an admin,
  the command line, quickstart), so the user changes it after logging in;
- ``user_account.pending_email``: a new address an admin entered, in force once its owner
  follows the link emailed to it.

Downgrade forgets the additional roles (each user keeps their primary one), the pending
addresses and the flag.

Revision ID: a1c3e5f70915
Revises: b2d4f6a81026
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "a1c3e5f70915"
down_revision: str | None = "b2d4f6a81026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "procurement", "risk_officer", "vendor_contact")


def upgrade() -> None:
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.CheckConstraint("role <> 'vendor_contact'", name=op.f("ck_user_role_staff_only")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_role_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_role")),
    )
    # Added in place (no batch rebuild of the table every other table refers to).
    op.add_column(
        "user_account",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "user_account",
        sa.Column("pending_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    )


def downgrade() -> None:
    # SQLite drops a plain column in place; a batch rebuild is not needed.
    op.execute("ALTER TABLE user_account DROP COLUMN pending_email")
    op.execute("ALTER TABLE user_account DROP COLUMN must_change_password")
    op.drop_table("user_role")
