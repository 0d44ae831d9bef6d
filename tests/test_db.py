"""The database layer: SQLite tuning (WAL, foreign keys, busy timeout, BEGIN IMMEDIATE) and UTC
timestamps that come back timezone-aware on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from conftest import (
    BACKEND,
    NO_POSTGRES,
    POSTGRES_URL,
    TEST_CONFIG,
    create_postgres_database,
    drop_postgres_database,
    login_as,
    migrate,
)

from vendor_risk import create_app
from vendor_risk.db import db
from vendor_risk.models import AuditAction, AuditEvent, Role, User, Vendor
from vendor_risk.services import audit
from vendor_risk.services.audit import Actor

sqlite_only = pytest.mark.skipif(
    BACKEND == "postgresql",
    reason="SQLite connection settings: this run uses PostgreSQL (VR_TEST_BACKEND=postgresql)",
)


def _sqlite_path(database_url: str) -> str:
    return sa.make_url(database_url).database


# ---- SQLite connection settings -------------------------------------------------------------


@sqlite_only
def test_every_sqlite_connection_uses_wal_foreign_keys_and_the_configured_busy_timeout(make_app):
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=1234)
    with app.app_context():
        # Two connections checked out at once: the settings are per connection, not a one-off.
        first, second = db.engine.raw_connection(), db.engine.raw_connection()
        try:
            for conn in (first, second):
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
                assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
        finally:
            first.close()
            second.close()
        # And the session the views use.
        assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() == 1234


@sqlite_only
def test_default_busy_timeout_is_five_seconds(app):
    assert app.config["SQLITE_BUSY_TIMEOUT_MS"] == 5000
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() == 5000


@sqlite_only
def test_foreign_keys_are_enforced(app):
    with app.app_context():
        db.session.add(
            User(
                email="orphan@example.com",
                name="Orphan",
                role=Role.vendor_contact,
                vendor_id=999,  # no such vendor
                password_hash="not a real hash",
                session_token="orphan-session-token",
            )
        )
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY constraint failed"):
            db.session.commit()


@sqlite_only
def test_a_transaction_holds_the_write_lock_from_its_first_read(app, database_url):
    """BEGIN IMMEDIATE: even before it writes, the app's transaction keeps other writers out."""
    other = sqlite3.connect(_sqlite_path(database_url), timeout=0, isolation_level=None)
    try:
        with app.app_context():
            db.session.scalar(sa.select(sa.func.count()).select_from(Vendor))  # a read only
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            db.session.commit()
        other.execute("BEGIN IMMEDIATE")  # free again once the app's transaction ended
        other.execute("ROLLBACK")
    finally:
        other.close()


@sqlite_only
def test_pages_read_while_a_writer_holds_the_lock_and_forms_wait_for_it(make_app, make_user):
    """GET requests begin deferred: a long write elsewhere never holds up reading a page.
    A POST takes the write lock up front, so it waits; past the busy timeout (300 ms here) the
    user is told to try again, and nothing is half-saved."""
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=300, PROPAGATE_EXCEPTIONS=False, TESTING=False)
    admin = make_user(Role.admin)
    client = app.test_client()
    login_as(client, admin)
    holder = sqlite3.connect(_sqlite_path(app.config["DATABASE_URL"]), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert client.get("/admin/users").status_code == 200
        assert time.monotonic() - started < 0.25
        busy = client.post(f"/admin/users/{admin.id}/reset-mfa")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        assert "Nothing you sent was saved" in busy.get_data(as_text=True)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        assert db.session.get(User, admin.id).mfa_enrolled  # the refused reset left no trace


@sqlite_only
def test_a_blocked_writer_waits_the_configured_busy_timeout_then_gives_up(make_app, database_url):
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=300)
    with app.app_context():
        db.session.scalar(sa.select(1))  # the app has connected once: the file is in WAL mode
    holder = sqlite3.connect(_sqlite_path(database_url), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with app.app_context():
            started = time.monotonic()
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                db.session.scalar(sa.select(sa.func.count()).select_from(Vendor))
            waited = time.monotonic() - started
        assert 0.25 <= waited < 3, f"waited {waited:.2f} s for a 300 ms busy timeout"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@sqlite_only
def test_first_connection_to_a_newly_migrated_database_waits_for_a_writer(app, database_url):
    """Migrations leave the file in WAL mode: the app's first connection does not have to switch
    it (which needs the file to itself and fails at once while anyone else writes), so it just
    waits for the writer like any other connection."""
    holder = sqlite3.connect(
        _sqlite_path(database_url), isolation_level=None, check_same_thread=False
    )
    try:
        holder.execute("BEGIN IMMEDIATE")  # e.g. another worker, or the CLI, writing
        threading.Timer(0.3, holder.rollback).start()
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 0
    finally:
        time.sleep(0.4)
        holder.close()


@sqlite_only
def test_concurrent_read_then_write_transactions_wait_and_lose_no_update(make_app):
    """Two threads each read a counter and write it back +1 while a third transaction holds the
    database. With deferred transactions one of them would fail with "database is locked" (its
    snapshot went stale) or overwrite the other's increment; BEGIN IMMEDIATE makes them queue."""
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=10_000)
    read = sa.text("SELECT value FROM counter WHERE id = 1")
    write = sa.text("UPDATE counter SET value = :value WHERE id = 1")
    with app.app_context():
        # A scratch table in this test's own copy of the database.
        db.session.execute(sa.text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
        db.session.execute(sa.text("INSERT INTO counter (id, value) VALUES (1, 0)"))
        db.session.commit()

    errors: list[BaseException] = []
    ready = threading.Barrier(3)

    def increment() -> None:
        try:
            with app.app_context():
                ready.wait(timeout=10)
                value = db.session.scalar(read)  # waits here while the main thread holds it
                time.sleep(0.05)  # a slow request: the gap between the read and the write
                db.session.execute(write, {"value": value + 1})
                db.session.commit()
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(2)]
    with app.app_context():
        value = db.session.scalar(read)  # this transaction now holds the database
        for thread in threads:
            thread.start()
        ready.wait(timeout=10)
        time.sleep(0.2)  # both threads are now trying to begin their transactions
        db.session.execute(write, {"value": value + 1})
        db.session.commit()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    with app.app_context():
        assert db.session.scalar(read) == 3  # three increments, none lost


# ---- UTC timestamps on both databases -------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def any_backend_app(request, tmp_path):
    """An app on a freshly migrated database of each kind (PostgreSQL skipped when not set up)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'utc.sqlite'}"
    else:
        if not POSTGRES_URL:
            pytest.skip(NO_POSTGRES)
        url = create_postgres_database()
    try:
        migrate(url)
        app = create_app(TEST_CONFIG | {"DATABASE_URL": url}, instance_path=str(tmp_path / "i"))
        yield app
        with app.app_context():
            db.engine.dispose()
    finally:
        if request.param == "postgresql":
            drop_postgres_database(url)


def test_timestamps_are_stored_in_utc_and_come_back_timezone_aware(any_backend_app):
    app = any_backend_app
    noon_in_paris_summer = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with app.app_context():
        vendor = Vendor(name="Zone Test", created_at=noon_in_paris_summer)
        db.session.add(vendor)
        audit.record(db.session, AuditAction.user_created, actor=Actor.system())
        db.session.commit()
        vendor_id = vendor.id

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Whatever zone the database session is in, the app still gets UTC back.
            db.session.execute(sa.text("SET TIME ZONE 'America/New_York'"))
        vendor = db.session.get(Vendor, vendor_id)
        event = db.session.scalars(sa.select(AuditEvent)).one()
        for value in (vendor.created_at, vendor.updated_at, event.occurred_at):
            assert value.tzinfo is not None
            assert value.utcoffset() == timedelta(0)
        assert vendor.created_at == noon_in_paris_summer
        assert (vendor.created_at.hour, vendor.created_at.tzinfo) == (10, UTC)
        assert abs(datetime.now(UTC) - event.occurred_at) < timedelta(minutes=1)

        if db.engine.dialect.name == "sqlite":
            raw = db.session.execute(
                sa.text("SELECT created_at FROM vendor WHERE id = :id"), {"id": vendor_id}
            ).scalar()
            assert raw.startswith("2026-07-01 10:00:00")  # UTC in the file, not Paris time


def test_a_naive_timestamp_is_refused(any_backend_app):
    with any_backend_app.app_context():
        db.session.add(Vendor(name="Naive", created_at=datetime(2026, 7, 1, 12, 0)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            db.session.flush()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        (2147483647, 2147483647),
        ("2147483647", 2147483647),
        ("2147483648", None),
        (2147483648, None),
        ("9223372036854775808", None),
        ("0", None),
        ("-1", None),
        ("", None),
        (" ", None),
        ("1e3", None),
        ("²", None),  # a digit to str.isdigit, not to int()
        ("١٢", None),  # Arabic-Indic digits: int() takes them, an id is ASCII
        (True, None),
        (None, None),
    ],
)
def test_row_id_accepts_only_what_a_row_can_have(value, expected):
    from vendor_risk.db import row_id

    assert row_id(value) == expected


def test_a_long_list_of_ids_filters_as_one_parameter_on_both_databases(any_backend_app):
    """in_ids binds thousands of ids as one parameter (a JSON array on SQLite, an array on
    PostgreSQL) and finds the same rows as a short IN list; ids beyond the rows match nothing."""
    from vendor_risk.db import LONG_ID_LIST, in_ids

    with any_backend_app.app_context():
        session = db.session
        session.add_all(Vendor(name=f"Vendor {n}") for n in range(LONG_ID_LIST * 3))
        session.flush()
        ids = session.scalars(sa.select(Vendor.id).order_by(Vendor.id)).all()
        wanted = set(ids[::2]) | {2**31 - 1}
        assert len(wanted) > LONG_ID_LIST
        statement = sa.select(Vendor.id).where(in_ids(session, Vendor.id, wanted))
        assert "json_each" in str(statement) or "ANY" in str(
            statement.compile(dialect=session.get_bind().dialect)
        )
        assert set(session.scalars(statement)) == set(ids[::2])
        few = set(ids[:3])
        assert (
            set(session.scalars(sa.select(Vendor.id).where(in_ids(session, Vendor.id, few)))) == few
        )
        assert (
            session.scalars(sa.select(Vendor.id).where(in_ids(session, Vendor.id, []))).all() == []
        )
        session.rollback()
