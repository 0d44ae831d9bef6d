"""Migrations, on SQLite and PostgreSQL: they build exactly the schema the models describe, the
history has one head, they go down and up again with data in the tables, and
`flask --app app db upgrade` builds a new database from nothing.

PostgreSQL cases are skipped when VR_TEST_POSTGRES_URL is unset and fail when it is set but the
server cannot be reached."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import (
    NO_POSTGRES,
    POSTGRES_URL,
    TEST_CONFIG,
    create_postgres_database,
    drop_postgres_database,
    migrate,
)
from sqlmodel import SQLModel

from vendor_risk import create_app
from vendor_risk.db import UTCDateTime, alembic_config, db
from vendor_risk.models import AuditAction, AuditEvent, PortfolioState, Role, User, Vendor
from vendor_risk.models.portfolio import autogenerate_includes
from vendor_risk.services import audit
from vendor_risk.services.audit import Actor

# Every table the models declare (the metadata holds them once vendor_risk.models is imported).
TABLES = set(SQLModel.metadata.tables)
# SQLite cannot reflect indexes on expressions (the names unique ignoring case), so the schema
# comparison skips them there; assert_inventory_schema checks them by their effect.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning"
    ),
]


# ---- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_database(request, tmp_path):
    """The URL of a database with nothing in it: a new SQLite file, or a new PostgreSQL
    database created for this test and dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    url = create_postgres_database()  # fails loudly when the configured server is unreachable
    try:
        yield url
    finally:
        drop_postgres_database(url)


def _config(url: str):
    cfg = alembic_config(url)
    cfg.attributes["configure_logging"] = False
    return cfg


def downgrade(url: str, revision: str) -> None:
    command.downgrade(_config(url), revision)


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config("sqlite://"))


def _render_item(type_, obj, autogen_context):
    # The same rule as migrations/env.py: a UTC column is rendered as DateTime(timezone=True).
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def schema_differences(url: str) -> list:
    """What autogenerate would write into a new revision: nothing when the migrated schema
    is exactly what the models describe."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_item": _render_item,
                    "include_object": autogenerate_includes,
                    "render_as_batch": conn.dialect.name == "sqlite",
                    "target_metadata": SQLModel.metadata,
                },
            )
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def app_on(url: str, tmp_path):
    return create_app(TEST_CONFIG | {"DATABASE_URL": url}, instance_path=str(tmp_path / "inst"))


def dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def write_records(url: str, tmp_path, name: str) -> None:
    """A vendor, a vendor contact and an audit event, written the way the app writes them."""
    app = app_on(url, tmp_path)
    try:
        with app.app_context():
            vendor = Vendor(name=name)
            db.session.add(vendor)
            db.session.flush()
            user = User(
                email=f"contact@{name.lower().replace(' ', '-')}.example",
                name="Vendor Contact",
                role=Role.vendor_contact,
                vendor_id=vendor.id,
                password_hash="not a real hash: this user never logs in",
                session_token=f"session-{name}",
            )
            db.session.add(user)
            db.session.flush()
            audit.record(
                db.session,
                AuditAction.user_created,
                actor=Actor.system("migration test"),
                object_type="user",
                object_id=user.id,
                vendor_id=vendor.id,
                details={"email": user.email},
            )
            db.session.commit()
    finally:
        dispose(app)


def assert_working_schema(url: str, tmp_path) -> None:
    """The app can write, the audit chain verifies and is append-only again."""
    assert schema_differences(url) == []
    write_records(url, tmp_path, "After Upgrade")
    app = app_on(url, tmp_path)
    try:
        with app.app_context():
            assert db.session.scalar(sa.select(Vendor.name).order_by(Vendor.id.desc())) == (
                "After Upgrade"
            )
            report = audit.verify_chain(db.session)
            assert report.ok, report
            assert report.checked >= 1
    finally:
        dispose(app)
    assert_audit_trail_is_append_only(url)


def assert_audit_trail_is_append_only(url: str) -> None:
    """The triggers are in place: changing an existing event is refused by the database."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.update(AuditEvent).values(actor="someone else"))
    finally:
        engine.dispose()


# ---- tests ----------------------------------------------------------------------------------


def test_the_migration_history_has_exactly_one_head():
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"


def assert_inventory_schema(url: str, tmp_path) -> None:
    """Names are unique whatever their case, and every inventory change marks the portfolio's
    aggregates stale in its own transaction."""
    app = app_on(url, tmp_path)
    try:
        with app.app_context():
            before = db.session.scalar(sa.select(PortfolioState.inventory_version))
            db.session.add(Vendor(name="Case Test"))
            db.session.commit()
            after = db.session.scalar(sa.select(PortfolioState.inventory_version))
            assert after == before + 1
            db.session.add(Vendor(name="CASE TEST"))
            with pytest.raises(sa.exc.IntegrityError):
                db.session.commit()
            db.session.rollback()
            db.session.execute(sa.delete(Vendor).where(Vendor.name == "Case Test"))
            db.session.commit()
            # More than one on PostgreSQL: the cascades to child tables are statements too.
            assert db.session.scalar(sa.select(PortfolioState.inventory_version)) > after
    finally:
        dispose(app)


def test_upgrade_from_nothing_builds_exactly_the_schema_of_the_models(empty_database, tmp_path):
    migrate(empty_database)

    assert table_names(empty_database) == TABLES | {"alembic_version"}
    assert current_revision(empty_database) == script_directory().get_current_head()
    assert schema_differences(empty_database) == []
    # The same check through migrations/env.py itself (its own compare and render options).
    command.check(_config(empty_database))
    write_records(empty_database, tmp_path, "First Vendor")
    assert_audit_trail_is_append_only(empty_database)
    assert_inventory_schema(empty_database, tmp_path)


def test_downgrade_to_base_with_data_then_upgrade_again(empty_database, tmp_path):
    migrate(empty_database)
    write_records(empty_database, tmp_path, "Before Downgrade")

    downgrade(empty_database, "base")
    assert table_names(empty_database) == {"alembic_version"}
    assert current_revision(empty_database) is None
    if sa.make_url(empty_database).get_backend_name() == "postgresql":
        engine = sa.create_engine(empty_database, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            leftovers = conn.execute(
                sa.text("SELECT proname FROM pg_proc WHERE proname LIKE 'audit_event%'")
            ).all()
        engine.dispose()
        assert leftovers == []  # the trigger function went with the table

    migrate(empty_database)
    assert_working_schema(empty_database, tmp_path)
    assert_inventory_schema(empty_database, tmp_path)


def test_each_revision_goes_down_one_step_and_up_again_with_data(empty_database, tmp_path):
    revisions = list(reversed(list(script_directory().walk_revisions())))  # oldest first
    for revision in revisions:
        migrate(empty_database, revision.revision)
        downgrade(empty_database, "-1")
        assert current_revision(empty_database) == revision.down_revision
        migrate(empty_database, revision.revision)

    write_records(empty_database, tmp_path, "Before Downgrade")
    downgrade(empty_database, "-1")
    migrate(empty_database)
    assert current_revision(empty_database) == script_directory().get_current_head()
    assert_working_schema(empty_database, tmp_path)


def _insert_vendors(url: str, *names: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    now = "2026-12-01 00:00:00"
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO vendor (name, legal_name, website, services, status, criticality,"
                    " substitutability, business_owner, notes, created_at, updated_at) VALUES"
                    " (:name, '', '', '', 'active', 'low', 'easy', '', '', :now, :now)"
                ),
                [{"name": name, "now": now} for name in names],
            )
    finally:
        engine.dispose()


def test_upgrade_keys_stored_names_and_stops_at_names_alike(empty_database):
    # Before it, lower(name) kept names unique: it told É written as one character from É
    # written as E and a combining accent, which names.name_key counts as one name.
    migrate(empty_database, "f8eb68e47163")
    decomposed = "E\u0301mile Conseil"
    _insert_vendors(empty_database, "Okta", "Émile Conseil", decomposed)

    with pytest.raises(RuntimeError) as refused:
        migrate(empty_database)
    assert f"vendor: 'Émile Conseil', {decomposed!r} are one name" in str(refused.value)
    assert current_revision(empty_database) == "f8eb68e47163"  # nothing changed

    engine = sa.create_engine(empty_database, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE vendor SET name = 'Emile' WHERE name = :n"), {"n": decomposed}
            )
        migrate(empty_database)
        with engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT name, name_key FROM vendor")).all())
    finally:
        engine.dispose()
    assert keys == {"Okta": "okta", "Émile Conseil": "émile conseil", "Emile": "emile"}


@pytest.fixture
def restore_logging():
    """`flask db upgrade` lets alembic.ini configure logging: undo it after the test."""
    names = ["", "alembic", "sqlalchemy", "sqlalchemy.engine"]
    saved = {
        name: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (level, handlers, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.disabled = disabled


@pytest.mark.parametrize("setting", ["VR_DATABASE_URL environment variable", "DATABASE_URL"])
def test_flask_db_upgrade_builds_the_schema_from_nothing(
    empty_database, setting, tmp_path, monkeypatch, restore_logging
):
    monkeypatch.delenv("VR_DATABASE_URL", raising=False)
    config = dict(TEST_CONFIG)
    if setting == "DATABASE_URL":
        config["DATABASE_URL"] = empty_database
    else:
        monkeypatch.setenv("VR_DATABASE_URL", empty_database)
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert "Database upgraded to head." in result.output
    assert table_names(empty_database) == TABLES | {"alembic_version"}
    assert schema_differences(empty_database) == []
    assert current_revision(empty_database) == script_directory().get_current_head()
    # Nothing was created in the instance folder: the configured database was used.
    assert not (tmp_path / "instance" / "vendor-risk.sqlite").exists()
    dispose(app)


def test_blast_radius_edges_go_down_and_up_with_data(empty_database):
    """Revision 7c3e9a5d2b14 (issue 14): its tables take data and go down with it; what the
    older schema can say stays (a session token becomes an access token, a link to a fourth
    party goes, a link to a vendor stays), and the upgrade takes the rows again."""
    migrate(empty_database)
    engine = sa.create_engine(empty_database, poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":  # the cascades, as the app's connections have them

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

    now = "2026-12-01 00:00:00"
    inserts = [
        "INSERT INTO vendor (name, name_key, legal_name, website, services, status, criticality,"
        " substitutability, business_owner, notes, created_at, updated_at) VALUES"
        " ('Okta', 'okta', '', '', '', 'active', 'low', 'easy', '', '', :now, :now),"
        " ('Snowflake', 'snowflake', '', '', '', 'active', 'low', 'easy', '', '', :now, :now)",
        "INSERT INTO system (id, name, name_key, kind, environment, owner, mfa_required,"
        " description, operator_vendor_id, created_at, updated_at) VALUES"
        " (1, 'IdP', 'idp', 'identity_provider', 'production', '', false, '', NULL, :now, :now),"
        " (2, 'Warehouse', 'warehouse', 'database', 'production', '', false, '',"
        " (SELECT id FROM vendor WHERE name = 'Snowflake'), :now, :now)",
        "INSERT INTO network_zone (id, name, name_key, description) VALUES"
        " (1, 'Office', 'office', ''), (2, 'Servers', 'servers', '')",
        "INSERT INTO zone_reach (from_zone_id, to_zone_id) VALUES (1, 2)",
        "INSERT INTO system_zone (system_id, zone_id) VALUES (1, 1), (2, 2)",
        "INSERT INTO system_open_zone (system_id, zone_id) VALUES (2, 1)",
        "INSERT INTO federation (identity_provider_id, system_id, privilege, mfa_enforced)"
        " VALUES (1, 2, 'admin', false)",
        "INSERT INTO software_supply (system_id, vendor_id, software, privilege,"
        " automatic_updates) VALUES (2, (SELECT id FROM vendor WHERE name = 'Okta'),"
        " 'agent', 'admin', true)",
        "INSERT INTO fourth_party (id, name, name_key, service) VALUES (1, 'AWS', 'aws', 'cloud')",
        "INSERT INTO data_category (id, name, name_key, sensitivity, description) VALUES"
        " (1, 'Customers', 'customers', 'high', '')",
        "INSERT INTO subprocessor_link (id, vendor_id, subprocessor_id, fourth_party_id, purpose)"
        " VALUES (1, (SELECT id FROM vendor WHERE name = 'Okta'), NULL, 1, 'hosting'),"
        " (2, (SELECT id FROM vendor WHERE name = 'Okta'),"
        " (SELECT id FROM vendor WHERE name = 'Snowflake'), NULL, 'warehouse')",
        "INSERT INTO subprocessor_data (link_id, data_category_id, records) VALUES"
        " (1, 1, 5000), (2, 1, 700)",
        "INSERT INTO credential (name, name_key, kind, system_id, privilege, interactive,"
        " mfa_enforced, phishing_resistant_mfa, ip_restricted, owner, status, notes,"
        " created_at, updated_at) VALUES ('stolen', 'stolen', 'session_token', 1, 'admin',"
        " false, false, false, false, '', 'active', '', :now, :now)",
    ]
    try:
        with engine.begin() as conn:
            for statement in inserts:
                conn.execute(sa.text(statement), {"now": now})
            one_sided = (
                "INSERT INTO subprocessor_link (vendor_id, subprocessor_id, fourth_party_id)"
                " VALUES ((SELECT id FROM vendor WHERE name = 'Snowflake'), NULL, NULL)"
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(one_sided))
        downgrade(empty_database, "1a9d93087fa7")  # below 7c3e9a5d2b14, whatever came after
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT kind FROM credential")) == "api_token"
            assert conn.execute(sa.text("SELECT id FROM subprocessor_link")).all() == [(2,)]
            assert conn.execute(sa.text("SELECT link_id FROM subprocessor_data")).all() == [(2,)]
        migrate(empty_database)
        with engine.begin() as conn:
            for statement in inserts[2:9]:
                conn.execute(sa.text(statement), {"now": now})
            conn.execute(
                sa.text(
                    "UPDATE system SET operator_vendor_id ="
                    " (SELECT id FROM vendor WHERE name = 'Okta')"
                )
            )
            conn.execute(sa.text("DELETE FROM vendor WHERE name = 'Okta'"))
            assert conn.scalar(sa.text("SELECT count(*) FROM software_supply")) == 0
            assert conn.scalar(sa.text("SELECT count(operator_vendor_id) FROM system")) == 0
            assert conn.scalar(sa.text("SELECT count(*) FROM federation")) == 1
    finally:
        engine.dispose()
    assert schema_differences(empty_database) == []


def test_new_system_kinds_go_down_as_other_and_the_system_triggers_survive(empty_database):
    """Revision d4f6b8c02248: endpoint management and data warehouse are stored kinds; going
    down turns them into ``other``; SQLite's rebuild of ``system`` keeps the triggers that
    mark the portfolio stale on every change (an edit after the upgrade still bumps it)."""
    migrate(empty_database)
    engine = sa.create_engine(empty_database, poolclass=sa.pool.NullPool)
    now = "2026-12-15 00:00:00"
    insert = (
        "INSERT INTO system (name, name_key, kind, environment, owner, mfa_required,"
        " description, created_at, updated_at) VALUES"
        " ('Intune', 'intune', 'endpoint_management', 'corporate', '', true, '', :now, :now),"
        " ('Snowflake', 'snowflake', 'data_warehouse', 'production', '', true, '', :now, :now)"
    )
    version = sa.text("SELECT inventory_version FROM portfolio_state WHERE id = 1")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(insert), {"now": now})
            before = conn.scalar(version)
            conn.execute(sa.text("UPDATE system SET owner = 'IT' WHERE name_key = 'intune'"))
            assert conn.scalar(version) == before + 1
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE system SET kind = 'laptop' WHERE name_key = 'intune'"))
        downgrade(empty_database, "7c3e9a5d2b14")
        with engine.begin() as conn:
            kinds = conn.execute(sa.text("SELECT kind FROM system ORDER BY name_key")).all()
            assert kinds == [("other",), ("other",)]
            before = conn.scalar(version)
            conn.execute(sa.text("DELETE FROM system WHERE name_key = 'snowflake'"))
            after_delete = conn.scalar(version)  # PostgreSQL: the cascades bump it too
            assert after_delete > before
        migrate(empty_database)
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE system SET kind = 'endpoint_management' WHERE name_key = 'intune'")
            )
            assert conn.scalar(version) == after_delete + 1
    finally:
        engine.dispose()
    assert schema_differences(empty_database) == []
