"""blast-radius edges: federation, operated systems, vendor software, network zones, fourth parties

Issue 14's graph:

- ``network_zone`` (named, versioned) and ``zone_reach`` (zone -> zone it can connect to);
  ``system_zone`` (the zones a system is in) and ``system_open_zone`` (the zones it accepts
  connections from with no sign-in);
- ``system.operator_vendor_id``: the vendor that runs the system for us (SaaS), SET NULL when
  the vendor goes;
- ``federation``: a system trusts an identity provider (another system) for sign-in;
- ``software_supply``: a system runs software supplied by a vendor;
- ``fourth_party`` (named, versioned): a subprocessor that is not one of our vendors;
  ``subprocessor_link.subprocessor_id`` becomes nullable beside ``fourth_party_id`` (exactly one
  of the two is set), and ``subprocessor_data.records`` states the records passed;
- ``credential.kind`` accepts ``session_token`` (a stolen session).

Every new table marks the portfolio's aggregates stale like the other inventory tables. SQLite
rebuilds ``system``, ``credential``, ``subprocessor_link`` and ``subprocessor_data`` (batch
mode), which drops their triggers: they are created again.

Downgrade keeps what the older schema can say: links to fourth parties (and the data passed
to them) are deleted, session tokens become access tokens (``api_token``), records passed are
dropped; zones, federations and vendor software go with their tables.

Revision ID: 7c3e9a5d2b14
Revises: 1a9d93087fa7
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "7c3e9a5d2b14"
down_revision: str | None = "1a9d93087fa7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = (
    "network_zone",
    "zone_reach",
    "system_zone",
    "system_open_zone",
    "federation",
    "software_supply",
    "fourth_party",
)
REBUILT_TABLES = ("system", "credential", "subprocessor_link", "subprocessor_data")
KINDS_BEFORE = (
    "api_token",
    "oauth_grant",
    "service_account",
    "user_account",
    "sso_admin",
    "support_access",
    "ssh_key",
    "vpn",
)
KINDS_AFTER = (*KINDS_BEFORE, "session_token")
# As revision ec9533b7bc25 creates them.
BUMP = (
    "INSERT INTO portfolio_state (id, inventory_version, rotation_counts) VALUES (1, 1, '{}')"
    " ON CONFLICT (id) DO UPDATE SET inventory_version = portfolio_state.inventory_version + 1"
)
NO_FK_REFLECTION = {"resolve_fks": False}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _create_triggers(table: str) -> None:
    if not _sqlite():
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION inventory_changed()"
        )
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_changed")
        op.execute(
            f"CREATE TRIGGER {table}_{event}_changed AFTER {event.upper()} ON {table}"
            f" BEGIN {BUMP}; END"
        )


def _drop_triggers(table: str) -> None:
    if not _sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_changed")


def _named_table(name: str, text_column: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=800), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(text_column, sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("name_key", name=op.f(f"uq_{name}_name_key")),
    )


def _zone_pair(name: str, first: str, second: str, first_table: str) -> None:
    op.create_table(
        name,
        sa.Column(first, sa.Integer(), nullable=False),
        sa.Column(second, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            [first],
            [f"{first_table}.id"],
            name=op.f(f"fk_{name}_{first}_{first_table}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            [second],
            ["network_zone.id"],
            name=op.f(f"fk_{name}_{second}_network_zone"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(first, second, name=op.f(f"pk_{name}")),
        *(
            [sa.CheckConstraint(f"{first} <> {second}", name=op.f(f"ck_{name}_not_itself"))]
            if name == "zone_reach"
            else []
        ),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_{second}"), [second], unique=False)


def _privilege() -> sa.Column:
    return sa.Column(
        "privilege",
        sa.Enum(
            "read", "write", "admin", name="privilege", native_enum=False, create_constraint=True
        ),
        nullable=False,
    )


def _kind_check(values: Sequence[str]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table(
        "credential", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_credential_credential_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_credential_credential_kind"), sa.text(f"kind IN ({allowed})")
        )


def upgrade() -> None:
    _named_table("network_zone", "description")
    _named_table("fourth_party", "service")
    _zone_pair("zone_reach", "from_zone_id", "to_zone_id", "network_zone")
    _zone_pair("system_zone", "system_id", "zone_id", "system")
    _zone_pair("system_open_zone", "system_id", "zone_id", "system")
    op.create_table(
        "federation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_provider_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        _privilege(),
        sa.Column("mfa_enforced", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "identity_provider_id <> system_id", name=op.f("ck_federation_not_itself")
        ),
        sa.ForeignKeyConstraint(
            ["identity_provider_id"],
            ["system.id"],
            name=op.f("fk_federation_identity_provider_id_system"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["system.id"],
            name=op.f("fk_federation_system_id_system"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation")),
        sa.UniqueConstraint(
            "identity_provider_id",
            "system_id",
            name=op.f("uq_federation_identity_provider_id"),
        ),
    )
    with op.batch_alter_table("federation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_system_id"), ["system_id"], unique=False)
    op.create_table(
        "software_supply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("software", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        _privilege(),
        sa.Column("automatic_updates", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["system.id"],
            name=op.f("fk_software_supply_system_id_system"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
            name=op.f("fk_software_supply_vendor_id_vendor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_supply")),
        sa.UniqueConstraint(
            "system_id", "vendor_id", "software", name=op.f("uq_software_supply_system_id")
        ),
    )
    with op.batch_alter_table("software_supply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_software_supply_vendor_id"), ["vendor_id"], unique=False
        )

    with op.batch_alter_table("system", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column("operator_vendor_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_system_operator_vendor_id"), ["operator_vendor_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_system_operator_vendor_id_vendor"),
            "vendor",
            ["operator_vendor_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _kind_check(KINDS_AFTER)
    with op.batch_alter_table(
        "subprocessor_link", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.add_column(sa.Column("fourth_party_id", sa.Integer(), nullable=True))
        batch_op.alter_column("subprocessor_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_subprocessor_link_fourth_party_id"), ["fourth_party_id"], unique=False
        )
        batch_op.create_unique_constraint(
            "uq_subprocessor_link_vendor_id_fourth_party_id", ["vendor_id", "fourth_party_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_subprocessor_link_fourth_party_id_fourth_party"),
            "fourth_party",
            ["fourth_party_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            op.f("ck_subprocessor_link_one_subprocessor"),
            sa.text("(subprocessor_id IS NULL) <> (fourth_party_id IS NULL)"),
        )
    with op.batch_alter_table(
        "subprocessor_data", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.add_column(sa.Column("records", sa.BigInteger(), nullable=True))

    for table in NEW_TABLES:
        _create_triggers(table)
    if _sqlite():
        for table in REBUILT_TABLES:
            _create_triggers(table)


def downgrade() -> None:
    op.execute(
        "DELETE FROM subprocessor_data WHERE link_id IN"
        " (SELECT id FROM subprocessor_link WHERE fourth_party_id IS NOT NULL)"
    )
    op.execute("DELETE FROM subprocessor_link WHERE fourth_party_id IS NOT NULL")
    op.execute("UPDATE credential SET kind = 'api_token' WHERE kind = 'session_token'")
    for table in NEW_TABLES:
        _drop_triggers(table)

    with op.batch_alter_table(
        "subprocessor_data", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.drop_column("records")
    with op.batch_alter_table(
        "subprocessor_link", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_subprocessor_link_one_subprocessor"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_subprocessor_link_fourth_party_id_fourth_party"), type_="foreignkey"
        )
        batch_op.drop_constraint("uq_subprocessor_link_vendor_id_fourth_party_id", type_="unique")
        batch_op.drop_index(batch_op.f("ix_subprocessor_link_fourth_party_id"))
        batch_op.alter_column("subprocessor_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("fourth_party_id")
    _kind_check(KINDS_BEFORE)
    with op.batch_alter_table("system", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_system_operator_vendor_id_vendor"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_system_operator_vendor_id"))
        batch_op.drop_column("operator_vendor_id")

    for table in ("software_supply", "federation"):
        op.drop_table(table)
    for table in ("system_open_zone", "system_zone", "zone_reach"):
        op.drop_table(table)
    op.drop_table("fourth_party")
    op.drop_table("network_zone")
    if _sqlite():
        for table in REBUILT_TABLES:
            _create_triggers(table)
