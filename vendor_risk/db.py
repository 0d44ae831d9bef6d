"""The database layer: the Flask-SQLAlchemy-Lite extension, column types and SQLite tuning.

One session per app context (so per request), closed at teardown by the extension. Services
flush; the view or CLI command commits once.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_sqlalchemy_lite import SQLAlchemy
from sqlmodel import SQLModel

if TYPE_CHECKING:
    from alembic.config import Config

# pool_pre_ping: a connection that died while idle in the pool (PostgreSQL restarted, a failover,
# a firewall's idle timeout) is replaced before a request uses it, instead of failing that request.
db = SQLAlchemy(engine_options={"pool_pre_ping": True})

# Set before any model is declared, so every constraint has a stable name that Alembic can
# alter later (SQLite batch mode cannot touch an unnamed constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


# Row ids are INTEGER columns: 32 bits on PostgreSQL, which answers a query naming a larger
# number with an error ("integer out of range") rather than with nothing.
MAX_ROW_ID = 2**31 - 1


def row_id(value: object) -> int | None:
    """``value`` (a query string's or a form's text, or a number) as an id a row can have, or
    None: not a whole number, zero, negative, or beyond the column's range. Every id taken
    from a request goes through here before it reaches a query."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
            return None
        value = int(text)
    if not isinstance(value, int) or not 0 < value <= MAX_ROW_ID:
        return None
    return value


# Past this many ids, a filter binds them as one parameter (a JSON array on SQLite, an array
# on PostgreSQL) instead of one placeholder each: rendering and binding 10,000 placeholders
# costs more than the query, and SQLite crosses two long IN lists id by id.
LONG_ID_LIST = 200


def in_ids(session, column: sa.ColumnElement, ids: Collection[int]) -> sa.ColumnElement[bool]:
    """``column IN ids`` for a set of row ids of any size, in one bound parameter when long."""
    ordered = sorted(ids)
    if len(ordered) <= LONG_ID_LIST:
        return column.in_(ordered)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, ordered, type_=ARRAY(sa.Integer())))
    listed = sa.func.json_each(sa.bindparam(None, json.dumps(ordered), type_=sa.String()))
    return column.in_(sa.select(sa.column("value", sa.Integer())).select_from(listed))


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_utc() -> date:
    """The day every due date is compared with (UTC, like every timestamp of the app)."""
    return utcnow().date()


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, PostgreSQL keeps ``timestamptz``: both come back as aware UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_connect(dbapi_connection, _record, busy_timeout_ms: int) -> None:
    # Take over transaction control from the sqlite3 module so "begin" below decides the mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first, so that even switching the file to WAL waits for other writers.
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _wants_write_lock() -> bool:
    """Whether the transaction about to begin may write.

    A request with a safe method only reads (no state change on GET) and begins deferred, so it
    never waits for a writer in WAL mode. Anything else, and CLI commands, takes the write
    lock up front: a deferred transaction that reads and then writes (the audit chain always
    does) fails at once with "database is locked" when another writer got in between, where
    an immediate one waits on the busy timeout. :func:`expect_writes` and :func:`read_only`
    override the default for the rest of the app context.
    """
    if has_app_context() and "sqlite_write_lock" in g:
        return g.sqlite_write_lock
    if has_request_context():
        return request.method not in SAFE_METHODS
    return True


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")


def expect_writes(session) -> None:
    """Before writing during a request that began read-only (an audit event on a GET): end
    the read transaction, so the next one takes the write lock on SQLite."""
    if session.in_transaction():
        session.commit()
    g.sqlite_write_lock = True


def read_only() -> None:
    """Declare the rest of this app context read-only (long reads such as verifying the audit
    chain), so on SQLite they never hold the write lock."""
    g.sqlite_write_lock = False


@contextmanager
def snapshot(session) -> Iterator[None]:
    """Several reads that must agree with one another (the whole inventory, one table after
    the other) in one read-only transaction: REPEATABLE READ on PostgreSQL, where each
    statement of a READ COMMITTED transaction could see rows committed after the previous one
    (a credential whose system was not there yet); a deferred transaction on SQLite, which
    reads one snapshot in WAL mode without taking the write lock. The transaction ends after.
    """
    if session.in_transaction():
        session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        yield
        session.commit()
        return
    wanted = g.get("sqlite_write_lock") if has_app_context() else None
    if has_app_context():
        g.sqlite_write_lock = False
    try:
        yield
        session.commit()
    finally:
        if has_app_context():
            if wanted is None:
                g.pop("sqlite_write_lock", None)
            else:
                g.sqlite_write_lock = wanted


AFTER_COMMIT_JOBS = "vr_after_commit_jobs"
# The job that counts recorded inventory changes in the portfolio's aggregates
# (services.portfolio.aggregates.update_pending); inventory services request it.
PORTFOLIO_UPDATE = "portfolio.update"


def request_job(session, name: str, *ids: int) -> None:
    """Ask for the background job ``name`` (a task of ``vendor_risk.jobs``), with the row
    ``ids`` it works on (ids only, never a token), to run once this session's transaction
    commits, and never if it rolls back. A service calls this instead of knowing the queue;
    the jobs package enqueues the requests gathered here after the commit (several identical
    requests in one transaction make one job)."""
    request = (name, tuple(int(i) for i in ids))
    session.info.setdefault(AFTER_COMMIT_JOBS, set()).add(request)


def configure_engine(engine: sa.Engine, busy_timeout_ms: int) -> None:
    if engine.dialect.name != "sqlite":
        return
    sa.event.listen(
        engine,
        "connect",
        lambda conn, rec: _sqlite_connect(conn, rec, busy_timeout_ms),
    )
    sa.event.listen(engine, "begin", _sqlite_begin)


def private_sqlite_file(url: sa.URL | str) -> None:
    """Create a SQLite database file readable by its owner only (it holds password hashes and
    TOTP secrets); SQLite gives its -wal and -shm files the same mode."""
    url = sa.make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if url.query.get("uri"):
        return
    path = Path(url.database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            private_sqlite_file(engine.url)
            configure_engine(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


# What a database error the user can do something about means, told by the driver's message
# (sqlite3 and psycopg give no portable codes for these).
_UNAVAILABLE: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("database is locked", "database table is locked"),
        "the database is busy: another process holds its write lock and kept it past the busy "
        "timeout (VR_SQLITE_BUSY_TIMEOUT_MS); try again, and if it lasts, stop the process that "
        "holds it",
    ),
    (
        ("unable to open database file",),
        "the SQLite database file cannot be opened: check that its folder exists and is writable",
    ),
    (
        ("connection refused", "could not connect", "connection failed", "timeout expired"),
        "the database server cannot be reached",
    ),
    (("password authentication failed",), "the database server refused the login"),
    (
        ("no such table", "undefinedtable", "relation", "does not exist"),
        "the database schema is missing or out of date: run `flask --app app db upgrade`",
    ),
)


def describe_unavailable(error: BaseException, url: sa.URL | str | None = None) -> str:
    """One line for an error that means the database cannot be used right now (locked,
    unreachable, not built), naming the database without its password."""
    message = str(getattr(error, "orig", None) or error).strip()
    lowered = message.lower()
    where = ""
    if url is not None:
        where = f" ({sa.make_url(url).render_as_string(hide_password=True)})"
    for words, meaning in _UNAVAILABLE:
        if any(word in lowered for word in words):
            if meaning.startswith("the database schema") and lowered.startswith("connection"):
                break  # "connection ... database "x" does not exist": the server has no such db
            return meaning + where
    first_line = message.splitlines()[0] if message else type(error).__name__
    return f"the database cannot be used{where}: {first_line}"


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for this project's migrations, on ``url`` or the app's engine."""
    from alembic.config import Config  # imported when migrating, not on every start

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # The engine's URL, resolved like the app resolves it (a relative SQLite path lives in
    # the instance folder), so migrations and the app always open the same database.
    cfg.attributes["url"] = url or owner_url()
    # The app's logging (vendor_risk.logs) stays: alembic.ini's would replace its handler.
    cfg.attributes["configure_logging"] = False
    return cfg


def owner_url() -> str:
    """The URL of the database's owner, who migrates, grants, backs up and restores:
    ``MIGRATION_DATABASE_URL``, else the app's own (one role for both, as in development)."""
    return current_app.config.get("MIGRATION_DATABASE_URL") or db.engine.url.render_as_string(
        hide_password=False
    )


def migration_url() -> str:
    """The database URL that ``alembic`` uses when run from the shell: the same resolution as
    the app (``VR_MIGRATION_DATABASE_URL``, the owner's, else ``VR_DATABASE_URL``, else the
    SQLite file in the instance folder)."""
    from .config import database_url

    instance_path = Flask("vendor_risk").instance_path
    os.makedirs(instance_path, exist_ok=True)
    url = os.environ.get("VR_MIGRATION_DATABASE_URL") or os.environ.get("VR_DATABASE_URL", "")
    return database_url({"DATABASE_URL": url}, instance_path)
