"""vendor email domains: whom a vendor's contacts may invite from the portal

``vendor.email_domains``: the domains (``vendor.example``) and single addresses staff allow a
vendor's contacts to invite (email_domains.refusal). Existing vendors start with an empty
list, so that after the upgrade a contact invites nobody until staff record the domains (the
vendor's edit page suggests them from its website and its contacts' addresses): before this
revision any contact could invite any address, and the addresses so invited prove nothing.

Added in place: batch mode on SQLite adds a column with ALTER TABLE, without rebuilding the
table (whose triggers and unique name_key constraint stay as they are).

Revision ID: 15fcf7fd5f1a
Revises: 4b10f1b544a0
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = '15fcf7fd5f1a'
down_revision: str | None = '4b10f1b544a0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('email_domains', sa.JSON(), server_default='[]', nullable=False)
        )


def downgrade() -> None:
    # Not in batch mode: rebuilding the vendor table on SQLite would drop its inventory
    # triggers. SQLite drops a plain column in place.
    op.execute('ALTER TABLE vendor DROP COLUMN email_domains')
