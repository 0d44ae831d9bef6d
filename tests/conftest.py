"""Fixtures: a migrated database per test (SQLite by default, PostgreSQL with
VR_TEST_BACKEND=postgresql), the app, users of every role, and login helpers.

- VR_TEST_POSTGRES_URL: a PostgreSQL server (any database on it) where the tests create and
  drop their own databases. Unset: PostgreSQL tests are skipped with that reason. Set but
  unreachable: they fail.
- VR_TEST_BACKEND: "sqlite" (default) or "postgresql": the database the whole suite runs on.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import html
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import pyotp
import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, settings

from vendor_risk import create_app
from vendor_risk.db import alembic_config, db
from vendor_risk.models import Role, User, Vendor

# Property tests check what is computed, never how fast (speed goals live in bench/): no
# deadline per example, and no health check on slow data generation, which a loaded CI
# machine trips now and then. A test's own @settings still adds to or overrides this.
settings.register_profile(
    "vendor-risk", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("vendor-risk")

BACKEND = os.environ.get("VR_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("VR_TEST_POSTGRES_URL", "")
PASSWORD = "correct horse battery staple"
# A script element without a src: what the CSP forbids (scripts come only from static files).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
NO_POSTGRES = (
    "needs PostgreSQL: set VR_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)

if BACKEND not in {"sqlite", "postgresql"}:
    raise pytest.UsageError("VR_TEST_BACKEND must be sqlite or postgresql")
if BACKEND == "postgresql" and not POSTGRES_URL:
    raise pytest.UsageError("VR_TEST_BACKEND=postgresql needs VR_TEST_POSTGRES_URL")


# ---- databases -----------------------------------------------------------------------------


def _server_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_postgres_database() -> str:
    """A new empty database on the test server; returns its URL."""
    name = f"vr_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = _server_engine()
    with engine.connect() as conn:  # fails loudly when the configured server is unreachable
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = sa.make_url(url).database
    engine = _server_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh, empty PostgreSQL database for one test module's use; dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def migrate(url: str, revision: str = "head") -> None:
    cfg = alembic_config(url)
    cfg.attributes["configure_logging"] = False
    command.upgrade(cfg, revision)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The schema built once per run by the real migrations (never create_all)."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        url = f"sqlite:///{path}"
        migrate(url)
        yield url
    else:
        url = create_postgres_database()
        migrate(url)
        yield url
        drop_postgres_database(url)


_TABLES: dict[str, list[str]] = {}


def _truncate_postgres(url: str) -> None:
    """Empty every table and restart every sequence, as a new database would be. DELETE of the
    tables a test wrote to, not TRUNCATE of them all: TRUNCATE pays a new file per table (about
    a second per test for sixty tables, most of them empty), DELETE of a few rows pays nothing."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        tables = _TABLES.get(url)
        if tables is None:
            tables = _TABLES[url] = conn.scalars(
                sa.text(
                    "SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            ).all()
        written = conn.scalars(
            sa.text(
                " UNION ALL ".join(
                    # The names come from pg_tables, quoted by quote_ident.
                    f"SELECT {n} WHERE EXISTS (SELECT FROM {table})"  # noqa: S608
                    for n, table in enumerate(tables)
                )
            )
        ).all()
        # Replica mode skips every ordinary trigger (the audit trail's append-only ones, the
        # portfolio's change records) and the foreign keys' checks: only the tests do this.
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for n in written:
            conn.exec_driver_sql(f"DELETE FROM {tables[n]}")  # noqa: S608 (as above)
        conn.exec_driver_sql(
            "SELECT setval(oid::regclass, 1, false) FROM pg_class "
            "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
        )
    engine.dispose()


@pytest.fixture
def database_url(migrated_template, tmp_path):
    if BACKEND == "sqlite":
        source = sa.make_url(migrated_template).database
        target = tmp_path / "test.sqlite"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
    else:
        yield migrated_template
        _truncate_postgres(migrated_template)


# ---- the app -------------------------------------------------------------------------------

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test secret key, not for production",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    # Cheap argon2id parameters: the tests hash many passwords.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
}

# What an app in production mode needs beyond TEST_CONFIG: its address for the links in emails,
# and argon2id parameters at OWASP's minimum (production refuses cheaper ones).
PRODUCTION = {
    "ENV": "production",
    "BASE_URL": "https://risk.example.org",
    "ARGON2_MEMORY_COST": 19 * 1024,
    "ARGON2_TIME_COST": 2,
}


@pytest.fixture
def make_app(database_url, tmp_path):
    apps = []

    def factory(**overrides):
        config = TEST_CONFIG | {"DATABASE_URL": database_url} | overrides
        application = create_app(config, instance_path=str(tmp_path / "instance"))
        apps.append(application)
        return application

    yield factory
    for application in apps:
        with application.app_context():
            for engine in db.engines.values():
                engine.dispose()


def app_url_map():
    """The URL rules of a freshly built app (no database is touched)."""
    with tempfile.TemporaryDirectory() as instance:
        config = TEST_CONFIG | {"DATABASE_URL": "sqlite://"}
        return create_app(config, instance_path=instance).url_map


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# ---- users ---------------------------------------------------------------------------------


@dataclass
class TestUser:
    id: int
    email: str
    role: Role
    password: str = PASSWORD
    totp_secret: str | None = None
    recovery_codes: list[str] = field(default_factory=list)
    vendor_id: int | None = None


@pytest.fixture
def make_vendor(app):
    def factory(name: str = "Acme Identity", **fields) -> int:
        with app.app_context():
            vendor = Vendor(name=name, **fields)
            db.session.add(vendor)
            db.session.commit()
            return vendor.id

    return factory


@pytest.fixture
def make_user(app):
    """Create a user directly in the database; ``enrolled`` gives them a TOTP secret and
    recovery codes already confirmed."""
    from vendor_risk.db import utcnow
    from vendor_risk.services.accounts import mfa, passwords
    from vendor_risk.services.accounts.users import hash_recovery_codes, new_session_token

    counter = iter(range(1, 10_000))

    def factory(
        role: Role = Role.admin,
        *,
        email: str | None = None,
        enrolled: bool = True,
        vendor_id: int | None = None,
        active: bool = True,
        password: str = PASSWORD,
    ) -> TestUser:
        email = email or f"{role.value}{next(counter)}@example.com"
        with app.app_context():
            user = User(
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                vendor_id=vendor_id,
                password_hash=passwords.hash_password(password),
                active=active,
                session_token=new_session_token(),
            )
            codes: list[str] = []
            if enrolled:
                codes = mfa.new_recovery_codes()
                user.totp_secret = mfa.new_totp_secret()
                user.totp_confirmed_at = utcnow()
                user.recovery_code_hashes = hash_recovery_codes(codes)
            db.session.add(user)
            db.session.commit()
            return TestUser(user.id, email, role, password, user.totp_secret, codes, vendor_id)

    return factory


def totp_code(app, user: TestUser) -> str:
    """A valid code the server has not accepted yet (the next step if this one is used)."""
    with app.app_context():
        last = db.session.get(User, user.id).totp_last_step
    step = int(time.time() // 30)
    if last is not None and step <= last:
        step = last + 1
    return pyotp.TOTP(user.totp_secret).at(step * 30)


def login(client, user: TestUser, *, next_url: str | None = None):
    """The real two-step login: password, then a TOTP code computed by pyotp."""
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    response = client.post(url, data={"email": user.email, "password": user.password})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/auth/mfa")
    return client.post("/auth/mfa", data={"code": totp_code(client.application, user)})


def login_as(client, user: TestUser) -> None:
    """A fully logged-in session without going through the forms (for matrix tests)."""
    with client.application.app_context():
        token = db.session.get(User, user.id).session_token
    now = int(time.time())
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = token
        sess["_fresh"] = True
        sess["auth_at"] = now
        sess["seen_at"] = now


def login_password_only(client, user: TestUser) -> None:
    """Half logged in: the password step succeeded, the second factor not yet."""
    response = client.post("/auth/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 302


# ---- database helpers for page tests -------------------------------------------------------


def add(app, *objects) -> list[int | None]:
    """Insert rows directly; returns their ids (None for tables without one)."""
    with app.app_context():
        db.session.add_all(objects)
        db.session.commit()
        return [getattr(obj, "id", None) for obj in objects]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def get(app, model, key):
    """A row detached from its session, or None."""
    with app.app_context():
        obj = db.session.get(model, key)
        if obj is not None:
            db.session.expunge(obj)
        return obj


def events(app, action: str) -> list:
    """The audit events of one action, oldest first."""
    from vendor_risk.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def text(response) -> str:
    """The page as a person reads it (HTML entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


# ---- a real SMTP server on loopback ----------------------------------------------------------


@dataclass
class SmtpServer:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    host: str
    port: int
    messages: list = field(default_factory=list)  # email.message.EmailMessage, in order

    @property
    def config(self) -> dict:
        """The app's settings that send through this server."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": self.port, "SMTP_SECURITY": "none"}

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def deliver(app, now=None):
    """Run the outbox worker once, as `flask --app app outbox send` does: emails are queued by
    the actions that cause them and sent here (or kept, without SMTP)."""
    from vendor_risk.services import outbox

    with app.app_context():
        return outbox.deliver_due(db.session, now=now)


def free_port() -> int:
    """A TCP port nobody listens on (a moment ago): for a server, or for a server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    server = SmtpServer("127.0.0.1", free_port())

    class Collect:
        async def handle_DATA(self, _server, _session, envelope):
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            server.messages.append(message)
            return "250 Message accepted"

    controller = Controller(Collect(), hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def chromium() -> str:
    """Debian's chromium for Playwright's end-to-end tests. Skipped where it is absent, unless
    VR_REQUIRE_BROWSER is set (CI sets it, so a missing browser fails instead of hiding)."""
    pytest.importorskip("playwright.sync_api", reason="needs playwright (dev extras)")
    path = shutil.which("chromium")
    if path is None:
        message = "needs chromium (apt-get install chromium)"
        if os.environ.get("VR_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def update_portfolio(app, now=None):
    """Run the portfolio's update once, as the job after an inventory change (or `flask --app
    app portfolio update`) does: pages read the stored aggregates and never compute them."""
    from vendor_risk.services.portfolio import aggregates

    with app.app_context():
        done = aggregates.update_pending(db.session, now)
        db.session.commit()
        return done


# ---- a worker in this process -------------------------------------------------------------


@contextlib.contextmanager
def running_worker(app, *, workers: int = 1, periodic: bool = False):
    """A real huey consumer of the app's queue, in threads of this process, while the block
    runs (as quickstart's worker)."""
    from vendor_risk.jobs import queue_of

    consumer = queue_of(app).consumer(workers=workers, periodic=periodic, in_process=True)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop_and_wait()


def wait_for(condition, timeout: float = 30.0, what: str = "the worker", every: float = 0.1):
    """``condition()``'s first true value, polled until ``timeout``; fails saying ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} did not finish within {timeout} s")
