"""portfolio changes and stored reach: the incremental portfolio (issue 16)

- ``portfolio_change``: what an inventory change touched (a vendor, a system, a credential, or
  ``all``), one row each, written by triggers on the inventory tables in the transaction that
  changes them (imports and cascades included), beside the triggers that bump
  ``portfolio_state.inventory_version``. The portfolio's update recomputes only what they touch.
  A later revision that rebuilds one of these tables on SQLite (batch mode) drops its triggers:
  it must create them again (``TOUCHES`` and ``_create_triggers`` below).
- ``vendor_reach.reach_despite`` and ``reach_if_fail``: the systems each vendor's breach
  reaches (zlib-compressed bitsets by system id), from which the update finds the vendors a
  change can concern and counts concentration. Empty until the next full refresh (the
  aggregates are marked stale here, so the first update is a full refresh).
- ``portfolio_state.parameters_version``: the scoring parameters the stored inherent scores
  were computed with (a vendor whose profile did not change keeps its score while it holds).
- PostgreSQL only: the ``pg_trgm`` extension and a trigram index on ``vendor.name_key``, which
  serves the name searches typed on every keystroke (``LIKE '%text%'``). SQLite unchanged.

Revision ID: 8b2c3d4e5f62
Revises: 9a1b2c3d4e51
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "8b2c3d4e5f62"
down_revision: str | None = "9a1b2c3d4e51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table -> (kind recorded, column giving its id) for every row inserted, updated or deleted
# (old and new values both). What each kind means: services/portfolio/incremental.py.
TOUCHES: dict[str, tuple[tuple[str, str], ...]] = {
    "vendor": (("vendor", "id"),),
    "system": (("system", "id"), ("vendor", "operator_vendor_id")),
    "system_data": (("system", "system_id"),),
    "vendor_data": (("vendor", "vendor_id"),),
    "credential": (("credential", "id"), ("vendor", "holder_vendor_id")),
    "credential_copy": (("credential", "credential_id"), ("system", "system_id")),
    "federation": (("system", "identity_provider_id"),),
    "software_supply": (("vendor", "vendor_id"),),
}
# Changes whose effect is too wide to follow (network reach, a category's sensitivity): the
# update computes everything again.
EVERYTHING = ("network_zone", "zone_reach", "system_zone", "system_open_zone")
EVERYTHING_ON_UPDATE = ("data_category",)
EVENTS = ("insert", "update", "delete")
TRIGRAM_INDEX = "ix_vendor_name_key_trgm"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_body(event: str, touches: tuple[tuple[str, str], ...]) -> str:
    rows = []
    for kind, column in touches:
        for row in {"insert": ("NEW",), "delete": ("OLD",), "update": ("OLD", "NEW")}[event]:
            rows.append(f"SELECT '{kind}', {row}.{column} WHERE {row}.{column} IS NOT NULL")
    return f"INSERT INTO portfolio_change (kind, ref_id) {' UNION '.join(rows)};"


def _create_triggers() -> None:
    if _postgresql():
        op.execute(
            "CREATE FUNCTION portfolio_touched() RETURNS trigger LANGUAGE plpgsql AS $$"
            " DECLARE i integer; old_row jsonb; new_row jsonb;"
            " BEGIN"
            "  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;"
            "  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;"
            "  FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP"
            "   INSERT INTO portfolio_change (kind, ref_id)"
            "    SELECT DISTINCT TG_ARGV[2 * i], ref FROM (VALUES"
            "     ((old_row ->> TG_ARGV[2 * i + 1])::bigint),"
            "     ((new_row ->> TG_ARGV[2 * i + 1])::bigint)) AS t(ref)"
            "    WHERE ref IS NOT NULL;"
            "  END LOOP;"
            "  RETURN NULL;"
            " END $$"
        )
        op.execute(
            "CREATE FUNCTION portfolio_touched_all() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN INSERT INTO portfolio_change (kind, ref_id) VALUES ('all', 0);"
            " RETURN NULL; END $$"
        )
        for table, touches in TOUCHES.items():
            arguments = ", ".join(f"'{value}'" for pair in touches for value in pair)
            op.execute(
                f"CREATE TRIGGER {table}_touched AFTER INSERT OR UPDATE OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION portfolio_touched({arguments})"
            )
        for table in (*TOUCHES, *EVERYTHING):
            events = "TRUNCATE" if table in TOUCHES else "INSERT OR UPDATE OR DELETE OR TRUNCATE"
            op.execute(
                f"CREATE TRIGGER {table}_touched_all AFTER {events} ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION portfolio_touched_all()"
            )
        for table in EVERYTHING_ON_UPDATE:
            op.execute(
                f"CREATE TRIGGER {table}_touched_all AFTER UPDATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION portfolio_touched_all()"
            )
        return
    everything = "INSERT INTO portfolio_change (kind, ref_id) VALUES ('all', 0);"
    for table, touches in TOUCHES.items():
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER {table}_{event}_touched AFTER {event.upper()} ON {table}"
                f" BEGIN {_sqlite_body(event, touches)} END"
            )
    for table in EVERYTHING:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER {table}_{event}_touched AFTER {event.upper()} ON {table}"
                f" BEGIN {everything} END"
            )
    for table in EVERYTHING_ON_UPDATE:
        op.execute(
            f"CREATE TRIGGER {table}_update_touched AFTER UPDATE ON {table} BEGIN {everything} END"
        )


def _drop_triggers() -> None:
    if _postgresql():
        for table in TOUCHES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touched ON {table}")
        for table in (*TOUCHES, *EVERYTHING, *EVERYTHING_ON_UPDATE):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touched_all ON {table}")
        op.execute("DROP FUNCTION IF EXISTS portfolio_touched()")
        op.execute("DROP FUNCTION IF EXISTS portfolio_touched_all()")
        return
    for table in (*TOUCHES, *EVERYTHING, *EVERYTHING_ON_UPDATE):
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_touched")


def upgrade() -> None:
    op.create_table(
        "portfolio_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_change")),
    )
    with op.batch_alter_table("vendor_reach", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reach_despite", sa.LargeBinary(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reach_if_fail", sa.LargeBinary(), server_default="", nullable=False)
        )
    with op.batch_alter_table("portfolio_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parameters_version", sa.Integer(), nullable=True))
    # The stored aggregates have no reach yet: the next update computes everything.
    op.execute("INSERT INTO portfolio_change (kind, ref_id) VALUES ('all', 0)")
    _create_triggers()
    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON vendor"
            " USING gin (name_key gin_trgm_ops)"
        )


def downgrade() -> None:
    if _postgresql():
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    _drop_triggers()
    # Plain DROP COLUMN (SQLite 3.35 and later), not batch mode: rebuilding portfolio_state
    # would rename it under the inventory triggers that write to it, which SQLite refuses.
    for table, column in (
        ("portfolio_state", "parameters_version"),
        ("vendor_reach", "reach_if_fail"),
        ("vendor_reach", "reach_despite"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("portfolio_change")
