"""system kinds: endpoint management and data warehouse

Two kinds of system that real portfolios hold and incidents go through: endpoint management
(MDM, EDR consoles: an admin there runs code on every laptop) and the data warehouse (a copy
of most of the organisation's data). ``system.kind`` grows from VARCHAR(17) to VARCHAR(19)
and its CHECK constraint admits the two values.

SQLite rebuilds ``system`` (batch mode), which drops its triggers: they are created again, as
revision 7c3e9a5d2b14 does. Downgrade turns both kinds into ``other``.

Revision ID: d4f6b8c02248
Revises: 7c3e9a5d2b14
Create Date: 2026-12-15 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f6b8c02248"
down_revision: str | None = "7c3e9a5d2b14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = (
    "identity_provider",
    "wiki",
    "ticketing",
    "source_control",
    "ci_cd",
    "cloud_account",
    "database",
    "crm",
    "email",
    "chat",
    "file_storage",
    "hr",
    "finance",
    "monitoring",
    "support",
    "other",
)
NEW_KINDS = ("data_warehouse", "endpoint_management")
KINDS_AFTER = (*KINDS_BEFORE, *NEW_KINDS)
# As revision ec9533b7bc25 creates them.
BUMP = (
    "INSERT INTO portfolio_state (id, inventory_version, rotation_counts) VALUES (1, 1, '{}')"
    " ON CONFLICT (id) DO UPDATE SET inventory_version = portfolio_state.inventory_version + 1"
)
NO_FK_REFLECTION = {"resolve_fks": False}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _sqlite_triggers() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS system_{event}_changed")
        op.execute(
            f"CREATE TRIGGER system_{event}_changed AFTER {event.upper()} ON system"
            f" BEGIN {BUMP}; END"
        )


def _kinds(values: Sequence[str]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    length = max(len(value) for value in values)
    with op.batch_alter_table("system", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint(op.f("ck_system_system_kind"), type_="check")
        batch_op.alter_column(
            "kind", type_=sa.String(length=length), existing_nullable=False
        )
        batch_op.create_check_constraint(
            op.f("ck_system_system_kind"), sa.text(f"kind IN ({allowed})")
        )
    if _sqlite():
        _sqlite_triggers()


def upgrade() -> None:
    _kinds(KINDS_AFTER)


def downgrade() -> None:
    kinds = ", ".join(f"'{value}'" for value in NEW_KINDS)
    op.execute(f"UPDATE system SET kind = 'other' WHERE kind IN ({kinds})")
    _kinds(KINDS_BEFORE)
