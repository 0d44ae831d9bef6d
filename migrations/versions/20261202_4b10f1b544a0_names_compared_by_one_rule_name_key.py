"""names compared by one rule: a name_key column on vendors, systems, data categories, credentials

Names were unique through an index on ``lower(name)``, but SQL's ``lower()`` lowers only A to Z
on SQLite and every letter on PostgreSQL, and matches neither the rule the inventory import
and the forms apply. Each named table now stores ``name_key``, the name as
``vendor_risk.names.name_key`` compares it (Unicode case folding), computed by the app, and the
database keeps it unique: the same rule on both databases, in the checks and in the constraint.

Rows that are one name under the new rule (``Émile`` and ``ÉMILE`` on SQLite, whose old index
let them be) stop the upgrade before anything changes, each clash named: rename all but one of
them, then upgrade again.

SQLite rebuilds each table to make the column NOT NULL (batch mode), which drops its triggers:
those that mark the portfolio's aggregates stale (revision ec9533b7bc25) are created again.

Revision ID: 4b10f1b544a0
Revises: f8eb68e47163
Create Date: 2026-12-02 09:00:00
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The app's rule: a later change of it needs a revision that computes the keys again.
from vendor_risk.core.names import KEY_MAX_LENGTH, name_key

revision: str = "4b10f1b544a0"
down_revision: str | None = "f8eb68e47163"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMED_TABLES = ("vendor", "system", "data_category", "credential")
# As revision ec9533b7bc25 creates them on SQLite.
BUMP = (
    "INSERT INTO portfolio_state (id, inventory_version, rotation_counts) VALUES (1, 1, '{}')"
    " ON CONFLICT (id) DO UPDATE SET inventory_version = portfolio_state.inventory_version + 1"
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _create_sqlite_triggers(table: str) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(
            f"CREATE TRIGGER {table}_{event}_changed AFTER {event.upper()} ON {table}"
            f" BEGIN {BUMP}; END"
        )


def _names(table: str) -> dict[int, str]:
    rows = op.get_bind().execute(sa.text(f"SELECT id, name FROM {table}"))  # noqa: S608
    return {row.id: row.name for row in rows}


def _names_alike(table: str, names: dict[int, str]) -> list[str]:
    ids_by_key: dict[str, list[int]] = defaultdict(list)
    for row_id, name in names.items():
        ids_by_key[name_key(name)].append(row_id)
    return [
        f"{table}: {', '.join(repr(names[i]) for i in sorted(ids))} are one name"
        for ids in ids_by_key.values()
        if len(ids) > 1
    ]


def upgrade() -> None:
    names = {table: _names(table) for table in NAMED_TABLES}
    clashes = [line for table in NAMED_TABLES for line in _names_alike(table, names[table])]
    if clashes:
        raise RuntimeError(
            "names that differ only by case (or by how an accent is written): "
            + "; ".join(clashes)
            + ". Rename all but one of each, then run the upgrade again."
        )
    for table in NAMED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("name_key", sa.String(length=KEY_MAX_LENGTH), nullable=True)
            )
        statement = sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id")  # noqa: S608
        if names[table]:
            op.get_bind().execute(
                statement,
                [{"id": row_id, "key": name_key(name)} for row_id, name in names[table].items()],
            )
        op.drop_index(f"uq_{table}_name_lower", table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "name_key", existing_type=sa.String(length=KEY_MAX_LENGTH), nullable=False
            )
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_name_key"), ["name_key"])
        if _sqlite():
            _create_sqlite_triggers(table)


def downgrade() -> None:
    # lower() may find names alike that the key tells apart (PostgreSQL lowers Turkish "İ" to
    # "i"): say which, rather than fail on the index.
    for table in NAMED_TABLES:
        clash = (
            op.get_bind()
            .execute(
                sa.text(
                    f"SELECT lower(name) FROM {table} GROUP BY lower(name) HAVING count(*) > 1"  # noqa: S608
                )
            )
            .first()
        )
        if clash is not None:
            raise RuntimeError(
                f"{table}: several rows are named {clash[0]!r} apart from upper/lower case;"
                " rename all but one, then run the downgrade again"
            )
    for table in NAMED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_name_key"), type_="unique")
            batch_op.drop_column("name_key")
        op.create_index(f"uq_{table}_name_lower", table, [sa.text("lower(name)")], unique=True)
        if _sqlite():
            _create_sqlite_triggers(table)
