"""portfolio changes: an update records a change only when it changes what the portfolio reads

Issue 16: every UPDATE of a vendor, a system or a credential recorded a portfolio change, so
that renaming a system most vendors reach, or changing its owner, made the background update
compute every vendor again (8 s at 50,000 vendors) for figures that cannot move. The triggers
on UPDATE of these three tables now fire only when a column the portfolio's figures, inherent
risk or rotation counts read changes (``READ_ON_UPDATE``); inserts and deletes still always
record theirs, and the other inventory tables are unchanged (every column of theirs is read).
The inventory's version still moves with every change: the update then finds nothing to
compute and marks the aggregates current for it.

Downgrade restores the triggers that fire on every UPDATE.

Revision ID: 5e6f7a8b9c95
Revises: 6d4e5f6a7b84
Create Date: 2026-12-22 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e6f7a8b9c95"
down_revision: str | None = "6d4e5f6a7b84"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table -> (kind recorded, column giving its id), as revision 8b2c3d4e5f62 records them.
TOUCHES: dict[str, tuple[tuple[str, str], ...]] = {
    "vendor": (("vendor", "id"),),
    "system": (("system", "id"), ("vendor", "operator_vendor_id")),
    "credential": (("credential", "id"), ("vendor", "holder_vendor_id")),
}
# What the portfolio reads of each (services.blast_radius.load_for_vendors, the inherent
# profile, the rotation counts): a change to any other column (a name, an owner, notes, the
# last use, the row's version) changes none of its figures.
READ_ON_UPDATE: dict[str, tuple[str, ...]] = {
    "vendor": ("criticality", "substitutability", "declared_risk"),
    "system": ("kind", "environment", "mfa_required", "operator_vendor_id"),
    "credential": (
        "kind",
        "holder_vendor_id",
        "system_id",
        "privilege",
        "interactive",
        "mfa_enforced",
        "phishing_resistant_mfa",
        "ip_restricted",
        "status",
        "issued_at",
        "last_rotated_at",
        "expires_at",
        "rotation_period_days",
    ),
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _arguments(table: str) -> str:
    return ", ".join(f"'{value}'" for pair in TOUCHES[table] for value in pair)


def _sqlite_update_body(table: str) -> str:
    rows = [
        f"SELECT '{kind}', {row}.{column} WHERE {row}.{column} IS NOT NULL"
        for kind, column in TOUCHES[table]
        for row in ("OLD", "NEW")
    ]
    return f"INSERT INTO portfolio_change (kind, ref_id) {' UNION '.join(rows)};"


def _changed(table: str, distinct: str) -> str:
    # declared_risk is JSON: compared as text (PostgreSQL's json type has no equality).
    columns = [
        f"OLD.{c}::text {distinct} NEW.{c}::text"
        if c == "declared_risk" and distinct == "IS DISTINCT FROM"
        else f"OLD.{c} {distinct} NEW.{c}"
        for c in READ_ON_UPDATE[table]
    ]
    return " OR ".join(columns)


def upgrade() -> None:
    if _postgresql():
        for table in TOUCHES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touched ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_touched AFTER INSERT OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION portfolio_touched({_arguments(table)})"
            )
            op.execute(
                f"CREATE TRIGGER {table}_updated_touched AFTER UPDATE ON {table}"
                f" FOR EACH ROW WHEN ({_changed(table, 'IS DISTINCT FROM')})"
                f" EXECUTE FUNCTION portfolio_touched({_arguments(table)})"
            )
        return
    for table in TOUCHES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_update_touched")
        op.execute(
            f"CREATE TRIGGER {table}_update_touched AFTER UPDATE ON {table}"
            f" WHEN {_changed(table, 'IS NOT')}"
            f" BEGIN {_sqlite_update_body(table)} END"
        )


def downgrade() -> None:
    if _postgresql():
        for table in TOUCHES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_updated_touched ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touched ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_touched AFTER INSERT OR UPDATE OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION portfolio_touched({_arguments(table)})"
            )
        return
    for table in TOUCHES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_update_touched")
        op.execute(
            f"CREATE TRIGGER {table}_update_touched AFTER UPDATE ON {table}"
            f" BEGIN {_sqlite_update_body(table)} END"
        )
