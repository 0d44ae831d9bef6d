"""The app's PostgreSQL role owns nothing: the database's owner runs the migrations and grants
the app's role exactly what the app does with the tables.

What the app does, and so what it is granted (``grant_app_role``):
- every table: SELECT, INSERT, UPDATE, DELETE; every sequence: USAGE, SELECT (ids);
- the audit trail (``audit_event``): SELECT and INSERT only. The app appends events and reads
  them; it never updates or deletes one (the triggers refuse it anyway), so the privilege is
  not there to abuse: the trail is append-only for the app by the privileges too;
- ``alembic_version``: SELECT only (the owner migrates);
- the same on the tables and sequences later migrations create (default privileges of the
  owner who runs them), so an upgrade needs no new grant.

Not granted, so refused to the app's role: creating, altering or dropping a table, disabling
a trigger (both need ownership), TRUNCATE, and ``session_replication_role`` (superuser).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

APPEND_ONLY_TABLES = ("audit_event",)
READ_ONLY_TABLES = ("alembic_version",)
ROLE_NAME_MAX = 63  # PostgreSQL's NAMEDATALEN - 1


class RoleRefused(Exception):
    """Why the role cannot be the app's (one line)."""


@dataclass(frozen=True)
class Granted:
    role: str
    database: str
    schema: str
    tables: int
    append_only: tuple[str, ...]


def _q(connection: sa.Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _check_role(connection: sa.Connection, role: str) -> None:
    if not role or len(role) > ROLE_NAME_MAX or not role.isprintable():
        raise RoleRefused(f"{role!r} is not a PostgreSQL role name (1 to 63 characters)")
    found = connection.execute(
        sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).first()
    if found is None:
        raise RoleRefused(
            f"no role named {role!r}: create it first, e.g. "
            f"CREATE ROLE {role} LOGIN PASSWORD '...' (as a superuser or a role with CREATEROLE)"
        )
    if found.rolsuper or found.rolbypassrls:
        raise RoleRefused(f"{role!r} is a superuser: it would bypass every privilege")
    current = connection.execute(sa.text("SELECT current_user")).scalar()
    if role == current:
        raise RoleRefused(
            f"{role!r} is the role running this command (the owner): the app needs a role of "
            "its own"
        )
    owned = connection.execute(
        sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND pg_get_userbyid(c.relowner) = :role "
            "ORDER BY 1 LIMIT 1"
        ),
        {"role": role},
    ).scalar()
    if owned is not None:
        raise RoleRefused(
            f"{role!r} owns {owned!r}: the app's role must own nothing (the owner migrates). "
            f"Hand it over first: REASSIGN OWNED BY {role} TO <owner>"
        )


def grant_app_role(connection: sa.Connection, role: str) -> Granted:
    """Grant ``role`` what the app needs on this database (run as the tables' owner, in the
    caller's transaction). Raises RoleRefused for a role that must not be the app's."""
    if connection.dialect.name != "postgresql":
        raise RoleRefused(
            "database roles are PostgreSQL's: SQLite has none (the file's permissions decide)"
        )
    _check_role(connection, role)
    database = connection.execute(sa.text("SELECT current_database()")).scalar()
    schema = connection.execute(sa.text("SELECT current_schema()")).scalar()
    tables = sorted(sa.inspect(connection).get_table_names(schema=schema))
    r, s, d = _q(connection, role), _q(connection, schema), _q(connection, database)
    statements = [
        f"GRANT CONNECT ON DATABASE {d} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        # Nobody but the owner creates in the schema (PostgreSQL 15's default; earlier
        # versions let PUBLIC create, so a role could come to own a table).
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE "
        f"ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
    append_only = tuple(t for t in APPEND_ONLY_TABLES if t in tables)
    for table in append_only:
        statements.append(
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {s}.{_q(connection, table)} FROM {r}"
        )
    for table in (t for t in READ_ONLY_TABLES if t in tables):
        statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {s}.{_q(connection, table)} FROM {r}")
    for statement in statements:
        connection.exec_driver_sql(statement)
    return Granted(role, database, schema, len(tables), append_only)
