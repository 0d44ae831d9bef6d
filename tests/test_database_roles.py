"""The app's PostgreSQL role owns nothing: the owner migrates and runs `db grant-app-role`;
the app, connected as its own role, serves pages and writes, and cannot change the schema,
disable a trigger, or alter or empty the audit trail."""

from __future__ import annotations

import uuid

import psycopg
import pytest
import sqlalchemy as sa
from conftest import POSTGRES_URL, TEST_CONFIG, login_as, migrate

from vendor_risk import create_app
from vendor_risk.models import Role, Vendor

VENDOR = {
    "name": "Keystone Identity",
    "legal_name": "Keystone Identity, Inc.",
    "website": "https://keystone.example",
    "services": "Single sign-on",
    "status": "active",
    "criticality": "critical",
    "substitutability": "hard",
    "business_owner": "IT",
    "contract_start": "2024-01-01",
    "contract_end": "2026-12-31",
    "next_review": "2026-06-30",
}


def _server() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture
def roles(tmp_path):
    """A database owned by a role of its own, migrated by it, and an app role granted by the
    command, as docs/operations.md says."""
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL: set VR_TEST_POSTGRES_URL")
    tag = uuid.uuid4().hex[:8]
    owner, app_role, database = f"vr_owner_{tag}", f"vr_app_{tag}", f"vr_roles_{tag}"
    server = _server()
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {owner} LOGIN PASSWORD 'owner-pw'")
        conn.exec_driver_sql(f"CREATE ROLE {app_role} LOGIN PASSWORD 'app-pw'")
        conn.exec_driver_sql(f"CREATE DATABASE {database} OWNER {owner}")
    base = sa.make_url(POSTGRES_URL).set(database=database)
    urls = {
        "owner": base.set(username=owner, password="owner-pw").render_as_string(False),
        "app": base.set(username=app_role, password="app-pw").render_as_string(False),
        "app_role": app_role,
        "tmp": tmp_path,
    }
    migrate(urls["owner"])
    yield urls
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {app_role}")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {owner}")
    server.dispose()


def _granted_app(roles, **extra):
    config = TEST_CONFIG | {
        "DATABASE_URL": roles["app"],
        "MIGRATION_DATABASE_URL": roles["owner"],
        "EVIDENCE_DIR": str(roles["tmp"] / "evidence"),
    }
    return create_app(config | extra, instance_path=str(roles["tmp"] / "instance"))


@pytest.fixture
def database_url(roles):
    """The suite's fixtures (app, make_user, client) connect as the app's role."""
    app = _granted_app(roles)
    result = app.test_cli_runner().invoke(args=["db", "grant-app-role", roles["app_role"]])
    assert result.exit_code == 0, result.output
    assert "audit_event read and append only" in result.output
    return roles["app"]


def _as_app_role(roles, statement: str) -> str:
    """Run ``statement`` as the app's role; the error PostgreSQL gives, or "ok"."""
    url = sa.make_url(roles["app"])
    dsn = (
        f"host={url.host} port={url.port or 5432} dbname={url.database} "
        f"user={url.username} password={url.password}"
    )
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return str(exc).splitlines()[0]
    return "ok"


@pytest.mark.postgresql
def test_the_app_role_serves_and_writes_but_owns_and_alters_nothing(roles, app, client, make_user):
    officer = make_user(Role.risk_officer)  # a write: a user, with the audit trail's chain
    login_as(client, officer)
    assert client.get("/risk/").status_code == 200
    assert client.get("/inventory/vendors").status_code == 200
    created = client.post(
        "/inventory/vendors/new",
        data=VENDOR,
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    with app.app_context():
        from vendor_risk.db import db

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 1
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert "Audit chain intact" in verified.output

    owned = _as_app_role(
        roles,
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_class WHERE relowner = "
        "(SELECT oid FROM pg_roles WHERE rolname = current_user)) "
        "THEN RAISE EXCEPTION 'owns something'; END IF; END $$",
    )
    assert owned == "ok"
    refused = {
        "ALTER TABLE vendor ADD COLUMN x integer": "must be owner of table vendor",
        "DROP TABLE vendor": "must be owner of table vendor",
        "CREATE TABLE intruder (x integer)": "permission denied for schema public",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL": "must be owner of table audit_event",
        "TRUNCATE audit_event": "permission denied for table audit_event",
        "UPDATE audit_event SET actor = 'someone else'": "permission denied for table audit_event",
        "DELETE FROM audit_event": "permission denied for table audit_event",
        "SET session_replication_role = replica": "permission denied to set parameter",
        "INSERT INTO alembic_version VALUES ('x')": "permission denied for table alembic_version",
    }
    for statement, error in refused.items():
        assert error in _as_app_role(roles, statement), statement
    assert _as_app_role(roles, "SELECT count(*) FROM audit_event") == "ok"


@pytest.mark.postgresql
def test_tables_a_later_migration_adds_are_granted_by_default(roles, database_url):
    owner = sa.create_engine(roles["owner"], poolclass=sa.pool.NullPool)
    with owner.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE later_table (id serial PRIMARY KEY, note text)")
    owner.dispose()
    assert _as_app_role(roles, "INSERT INTO later_table (note) VALUES ('x')") == "ok"
    assert "must be owner" in _as_app_role(roles, "DROP TABLE later_table")


@pytest.mark.postgresql
def test_grant_refuses_the_owner_a_superuser_and_an_unknown_role(roles):
    runner = _granted_app(roles).test_cli_runner()
    owner = sa.make_url(roles["owner"]).username
    superuser = sa.make_url(POSTGRES_URL).username
    for role, words in (
        (owner, "is the role running this command"),
        (superuser, "is a superuser"),
        ("no_such_role_here", "no role named 'no_such_role_here'"),
    ):
        result = runner.invoke(args=["db", "grant-app-role", role])
        assert result.exit_code == 1
        assert words in result.output and "nothing was granted" in result.output


def test_grant_on_sqlite_says_roles_are_postgresqls(tmp_path):
    config = TEST_CONFIG | {"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["db", "grant-app-role", "vr_app"])
    assert result.exit_code == 1
    assert "database roles are PostgreSQL's" in result.output
