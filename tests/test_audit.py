"""The audit trail: what a login leaves in it, the hash chain and `flask audit verify`, the
database refusing changes, concurrent appends, the admin page, and redaction.

Runs on the suite's backend (VR_TEST_BACKEND)."""

from __future__ import annotations

import html
import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from conftest import BACKEND, login, login_as, login_password_only, totp_code

from vendor_risk.db import db
from vendor_risk.models import AuditAction, AuditEvent, AuditOutcome, Role, User
from vendor_risk.services import audit
from vendor_risk.services.audit import Actor

ADDRESS = "203.0.113.7"  # TEST-NET-3: the address the browser in these tests comes from


# ---- helpers --------------------------------------------------------------------------------


def events(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
        db.session.expunge_all()
        return list(rows)


def row_text(event: AuditEvent) -> str:
    """Every stored value of the event as one string, except the hashes and the timestamp:
    those are machine-made strings of digits that may contain any six digits by chance."""
    values = {
        column.name: getattr(event, column.name)
        for column in AuditEvent.__table__.columns
        if column.name not in {"hash", "prev_hash", "occurred_at"}
    }
    return json.dumps(values, default=str)


def add_events(app, *specs: tuple[AuditAction, str, AuditOutcome]) -> None:
    with app.app_context():
        for action, actor, outcome in specs:
            audit.record(db.session, action, actor=Actor(actor, ip=ADDRESS), outcome=outcome)
        db.session.commit()


def add_logouts(app, count: int) -> None:
    """``count`` events by different users (user0@..., user1@..., ...)."""
    specs = [
        (AuditAction.logout, f"user{n}@example.com", AuditOutcome.success) for n in range(count)
    ]
    add_events(app, *specs)


def add_events_at(app, monkeypatch, *specs: tuple[datetime, AuditAction, str]) -> None:
    """Events that happened at given times (the clock of the audit module is set for each)."""
    with app.app_context():
        for when, action, actor in specs:
            monkeypatch.setattr(audit, "utcnow", lambda when=when: when)
            audit.record(db.session, action, actor=Actor(actor))
        db.session.commit()
    monkeypatch.undo()


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def tamper(database_url: str, statement: str, **params) -> None:
    """Change the audit table behind the app's back, getting past the append-only triggers:
    on SQLite by dropping them (this test's own copy of the database), on PostgreSQL with
    replica mode in this one connection."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
                conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
            else:
                conn.exec_driver_sql("SET session_replication_role = replica")
            conn.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def listed(page: str) -> list[int]:
    """The event numbers in the audit table of a page, top to bottom."""
    return [int(n) for n in re.findall(r'<tr class="outcome-\w+">\s*<td>(\d+)</td>', page)]


def older_link(page: str) -> str | None:
    match = re.search(r'<a href="([^"]+)">Older events', page)
    return html.unescape(match.group(1)) if match else None


# ---- (a) logins leave events, without secrets -----------------------------------------------


def test_logins_and_failed_logins_are_recorded_in_order_without_secrets(app, client, make_user):
    admin = make_user(Role.admin, email="alice@example.com")
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    wrong_password = "not the right password, nearly"
    unknown_password = "a password typed for nobody"

    refused = client.post("/auth/login", data={"email": admin.email, "password": wrong_password})
    assert refused.status_code == 401
    client.post("/auth/login", data={"email": "nobody@example.com", "password": unknown_password})
    response = login(client, admin)
    assert response.status_code == 302
    with app.app_context():  # the code the server accepted
        step = db.session.get(User, admin.id).totp_last_step
    code = pyotp.TOTP(admin.totp_secret).at(step * 30)

    trail = events(app)
    assert [(e.seq, e.actor, e.action, e.outcome, e.ip) for e in trail] == [
        (1, "alice@example.com", "auth.login.failed", AuditOutcome.failure, ADDRESS),
        (2, "nobody@example.com", "auth.login.failed", AuditOutcome.failure, ADDRESS),
        (3, "alice@example.com", "auth.login.password", AuditOutcome.success, ADDRESS),
        (4, "alice@example.com", "auth.login.mfa", AuditOutcome.success, ADDRESS),
    ]
    assert [e.actor_id for e in trail] == [admin.id, None, admin.id, admin.id]
    assert trail[0].details == {"reason": "wrong password", "step": "password"}
    assert trail[1].details["reason"] == "unknown account"
    assert all(e.occurred_at.tzinfo is not None for e in trail)
    for event in trail:
        text = row_text(event)
        for secret in (admin.password, wrong_password, unknown_password, code, admin.totp_secret):
            assert secret not in text, f"event #{event.seq} contains a secret: {text}"


def test_a_wrong_second_factor_is_recorded_without_the_code(app, client, make_user):
    user = make_user(Role.procurement, email="bob@example.com")
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    login_password_only(client, user)
    wrong_code = "13579" + str((int(totp_code(app, user)[-1]) + 1) % 10)  # never the valid code
    assert client.post("/auth/mfa", data={"code": wrong_code}).status_code == 401

    failed = events(app)[-1]
    assert (failed.actor, failed.action, failed.outcome, failed.ip) == (
        "bob@example.com",
        "auth.login.failed",
        AuditOutcome.failure,
        ADDRESS,
    )
    assert failed.details == {"reason": "wrong or replayed code", "step": "totp"}
    for event in events(app):
        assert wrong_code not in row_text(event)
        assert user.password not in row_text(event)


# ---- (b, c) the chain and `flask audit verify` ----------------------------------------------


def test_verify_reports_an_intact_chain_with_its_length_and_latest_hash(app, client, make_user):
    empty = verify(app)
    assert empty.exit_code == 0, empty.output
    assert "Audit chain intact: 0 events verified." in empty.output
    login(client, make_user(Role.admin))
    add_events(app, (AuditAction.logout, "someone@example.com", AuditOutcome.success))

    result = verify(app)

    assert result.exit_code == 0, result.output
    assert "Audit chain intact: 3 events verified." in result.output
    # The operator keeps this elsewhere: it reveals a removal of the newest events.
    assert f"Latest hash: {events(app)[-1].hash}" in result.output


@pytest.fixture
def three_events(app):
    add_events(
        app,
        (AuditAction.user_created, "admin@example.com", AuditOutcome.success),
        (AuditAction.user_disabled, "admin@example.com", AuditOutcome.success),
        (AuditAction.access_denied, "carol@example.com", AuditOutcome.denied),
    )
    assert verify(app).exit_code == 0


@pytest.mark.parametrize(
    ("statement", "value"),
    [
        ("UPDATE audit_event SET details = :value WHERE seq = 2", '{"email": "x@example.com"}'),
        ("UPDATE audit_event SET actor = :value WHERE seq = 2", "someone-else@example.com"),
    ],
    ids=["details", "actor"],
)
def test_an_altered_event_is_detected_and_named(app, database_url, three_events, statement, value):
    tamper(database_url, statement, value=value)

    result = verify(app)

    assert result.exit_code == 1
    assert "Audit chain BROKEN at event #2" in result.output
    assert "contents do not match the stored hash" in result.output
    assert "1 events before it verified" in result.output


def test_an_altered_event_with_a_recomputed_hash_is_caught_by_the_next_one(
    app, database_url, three_events
):
    with app.app_context():
        forged = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq == 2)).one()
        db.session.expunge(forged)
    forged.actor = "someone-else@example.com"
    tamper(
        database_url,
        "UPDATE audit_event SET actor = :actor, hash = :hash WHERE seq = 2",
        actor=forged.actor,
        hash=audit.event_hash(forged),
    )

    result = verify(app)

    assert result.exit_code == 1
    assert "BROKEN at event #3" in result.output
    assert "previous hash does not match" in result.output


def test_a_deleted_event_in_the_middle_is_detected(app, database_url, three_events):
    tamper(database_url, "DELETE FROM audit_event WHERE seq = 2")

    result = verify(app)

    assert result.exit_code == 1
    assert "BROKEN at event #2: missing (the next event found is #3)" in result.output


@pytest.mark.skipif(
    BACKEND == "postgresql", reason="PostgreSQL refuses text that is not JSON or a timestamp"
)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET details = '{not json' WHERE seq = 2",
        "UPDATE audit_event SET occurred_at = 'yesterday' WHERE seq = 2",
    ],
    ids=["details", "occurred_at"],
)
def test_an_unreadable_event_is_named(app, database_url, three_events, statement):
    tamper(database_url, statement)

    result = verify(app)

    assert result.exit_code == 1
    assert "Audit chain BROKEN at event #2" in result.output


# ---- (d) the database itself refuses changes ------------------------------------------------


def test_the_database_refuses_update_and_delete_of_audit_events(app, database_url, three_events):
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    statements = [
        "UPDATE audit_event SET actor = 'someone-else@example.com' WHERE seq = 2",
        "UPDATE audit_event SET details = '{}'",
        "DELETE FROM audit_event WHERE seq = 3",
        "DELETE FROM audit_event",
    ]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_event")
    try:
        for statement in statements:
            with (
                pytest.raises(sa.exc.DBAPIError, match="append-only") as refused,
                engine.begin() as conn,
            ):
                conn.exec_driver_sql(statement)
            assert statement.split()[0] in str(refused.value)  # the refused operation is named
        with engine.begin() as conn:  # every event is still there
            assert conn.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 3
    finally:
        engine.dispose()
    assert verify(app).exit_code == 0


# ---- (e) concurrent appends -----------------------------------------------------------------


def test_concurrent_appends_make_one_gapless_chain(app):
    threads_count, per_thread = 4, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def append(worker: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                for n in range(per_thread):
                    audit.record(
                        db.session,
                        AuditAction.access_denied,
                        actor=Actor(f"worker{worker}@example.com"),
                        outcome=AuditOutcome.denied,
                        details={"n": n},
                    )
                    db.session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any("database is locked" in str(e) for e in errors), errors
    assert errors == []
    trail = events(app)
    assert [e.seq for e in trail] == list(range(1, 101))
    for worker in range(threads_count):
        mine = [e.details["n"] for e in trail if e.actor == f"worker{worker}@example.com"]
        assert mine == list(range(per_thread))
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "100 events verified" in result.output


# ---- (f) the admin audit page ---------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    login_as(client, make_user(Role.admin))  # writes no audit event
    return client


def test_audit_page_lists_newest_first(app, admin_client):
    add_events(
        app,
        (AuditAction.login_password, "alice@example.com", AuditOutcome.success),
        (AuditAction.login_failed, "mallory@example.com", AuditOutcome.failure),
        (AuditAction.user_created, "alice@example.com", AuditOutcome.success),
    )

    response = admin_client.get("/admin/audit")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert listed(page) == [3, 2, 1]
    assert "mallory@example.com" in page
    assert ADDRESS in page
    assert older_link(page) is None


def test_audit_page_filters_by_action_actor_and_outcome(app, admin_client):
    add_events(
        app,
        (AuditAction.login_password, "alice@example.com", AuditOutcome.success),  # 1
        (AuditAction.login_failed, "mallory@example.com", AuditOutcome.failure),  # 2
        (AuditAction.access_denied, "bob_smith@example.com", AuditOutcome.denied),  # 3
        (AuditAction.login_failed, "Alice@Example.com", AuditOutcome.failure),  # 4
        (AuditAction.access_denied, "bobxsmith@example.com", AuditOutcome.denied),  # 5
    )

    def shown(query: str) -> list[int]:
        response = admin_client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        return listed(response.get_data(as_text=True))

    assert shown("action=auth.login.failed") == [4, 2]
    assert shown("actor=ALICE") == [4, 1]  # contains, case-insensitive
    assert shown("actor=bob_") == [3]  # "_" is a character, not a wildcard
    assert shown("actor=%25") == []  # nor is "%"
    assert shown("outcome=denied") == [5, 3]
    assert shown("action=auth.login.failed&actor=alice&outcome=failure") == [4]
    assert shown("action=auth.login.failed&outcome=success") == []


def test_audit_page_filters_by_date_range_in_utc(app, admin_client, monkeypatch):
    add_events_at(
        app,
        monkeypatch,
        (datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC), AuditAction.logout, "a@example.com"),
        (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), AuditAction.logout, "b@example.com"),
        (datetime(2026, 3, 3, 23, 59, 59, 999999, tzinfo=UTC), AuditAction.logout, "c@e.com"),
        (datetime(2026, 3, 4, 0, 0, tzinfo=UTC), AuditAction.logout, "d@example.com"),
    )

    def shown(query: str) -> list[int]:
        response = admin_client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        return listed(response.get_data(as_text=True))

    assert shown("since=2026-03-02&until=2026-03-03") == [3, 2]  # both days included
    assert shown("since=2026-03-02") == [4, 3, 2]
    assert shown("until=2026-03-01") == [1]
    assert shown("since=2026-03-05") == []


def test_audit_page_paginates_with_older_events(app, admin_client):
    add_logouts(app, 60)

    first = admin_client.get("/admin/audit").get_data(as_text=True)
    assert listed(first) == list(range(60, 10, -1))  # the 50 newest
    link = older_link(first)
    assert link is not None

    second = admin_client.get(link).get_data(as_text=True)
    assert listed(second) == list(range(10, 0, -1))
    assert older_link(second) is None


def test_older_events_keeps_the_filters(app, admin_client):
    pair = [
        (AuditAction.login_failed, "mallory@example.com", AuditOutcome.failure),
        (AuditAction.login_password, "alice@example.com", AuditOutcome.success),
    ]
    add_events(app, *(pair * 60))  # mallory's are the odd numbers 1..119

    first = admin_client.get("/admin/audit?actor=mallory&outcome=failure").get_data(as_text=True)
    assert listed(first) == list(range(119, 19, -2))
    link = older_link(first)
    assert "actor=mallory" in link
    assert "outcome=failure" in link

    second = admin_client.get(link).get_data(as_text=True)
    assert listed(second) == list(range(19, 0, -2))
    assert older_link(second) is None


@pytest.mark.parametrize(
    ("query", "field_id"),
    [("since=2026-02-30", "since"), ("until=yesterday", "until"), ("since=03/01/2026", "since")],
)
def test_audit_page_refuses_a_malformed_date_at_the_field(app, admin_client, query, field_id):
    add_events(app, (AuditAction.logout, "alice@example.com", AuditOutcome.success))

    response = admin_client.get(f"/admin/audit?{query}")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'<p class="error" id="{field_id}-error">Not a valid date value', page)
    assert f'aria-describedby="{field_id}-error"' in page
    assert listed(page) == []  # no results for a question that could not be understood


def test_audit_page_is_for_admins_only(app, client, make_user):
    login_as(client, make_user(Role.risk_officer))
    assert client.get("/admin/audit").status_code == 403


def test_audit_page_accepts_the_last_representable_date(admin_client):
    assert admin_client.get("/admin/audit?until=9999-12-31").status_code == 200


@pytest.mark.parametrize("extra", ["endpoint=x", "_method=POST", "_scheme=x"])
def test_unknown_query_parameters_do_not_break_the_older_link(app, admin_client, extra):
    add_logouts(app, 51)
    response = admin_client.get(f"/admin/audit?{extra}&actor=user")
    assert response.status_code == 200
    link = older_link(response.get_data(as_text=True))
    assert link.startswith("/admin/audit?")  # a link of this page, not another site's
    assert "actor=user" in link
    assert extra not in link


def test_audit_page_refuses_an_out_of_range_page_number(admin_client):
    assert admin_client.get("/admin/audit?before=99999999999999999999").status_code == 400


def test_audit_page_size_follows_the_setting(make_app, make_user):
    app = make_app(AUDIT_PAGE_SIZE=10)
    client = app.test_client()
    login_as(client, make_user(Role.admin))
    add_logouts(app, 15)
    assert listed(client.get("/admin/audit").get_data(as_text=True)) == list(range(15, 5, -1))


# ---- (g) redaction --------------------------------------------------------------------------


def test_redact_drops_values_of_keys_that_look_like_credentials():
    details = {
        "email": "alice@example.com",
        "reason": "wrong password",
        "password": "hunter2-hunter2",
        "new_password": "correct horse battery",
        "api_token": "tok_live_123",
        "client_secret": "s3cr3t-value",
        "code": "123456",
        "totp_code": "654321",
        "recovery_codes": ["aaaa-bbbb", "cccc-dddd"],
        "OTP": "111111",
        "api_key": "AKIAEXAMPLE",
        "password_hash": "$argon2id$v=19$...",
    }

    cleaned = audit.redact(details)

    assert cleaned["email"] == "alice@example.com"
    assert cleaned["reason"] == "wrong password"  # a value is not a key
    for key in set(details) - {"email", "reason"}:
        assert cleaned[key] == audit.REDACTED, key
    stored = json.dumps(cleaned)
    for secret in ("hunter2", "horse", "tok_live", "s3cr3t", "123456", "aaaa", "AKIA", "argon2"):
        assert secret not in stored


def test_redact_works_in_nested_details():
    cleaned = audit.redact(
        {"form": {"email": "bob@example.com", "password": "hunter2-hunter2", "mfa": {"code": "1"}}}
    )
    assert cleaned == {
        "form": {
            "email": "bob@example.com",
            "password": audit.REDACTED,
            "mfa": {"code": audit.REDACTED},
        }
    }
    assert audit.redact(None) == {}


def test_redact_works_in_lists_of_details():
    cleaned = audit.redact(
        {"rows": [{"email": "a@example.com", "password": "hunter2-hunter2"}], "codes": ["1", "2"]}
    )
    assert cleaned["rows"] == [{"email": "a@example.com", "password": audit.REDACTED}]
    assert "hunter2" not in json.dumps(cleaned)
    assert cleaned["codes"] == audit.REDACTED


def test_recorded_details_are_redacted_before_they_are_stored_and_hashed(app):
    with app.app_context():
        audit.record(
            db.session,
            AuditAction.password_changed,
            actor=Actor("alice@example.com"),
            details={"new_password": "hunter2-hunter2", "fields": ["password"]},
        )
        db.session.commit()
    (event,) = events(app)
    assert event.details == {"new_password": audit.REDACTED, "fields": ["password"]}
    assert "hunter2" not in row_text(event)
    assert verify(app).exit_code == 0


def test_audit_actions_and_timestamps(app):
    """The fields an operator reads: an action from the fixed vocabulary, a UTC time."""
    before = datetime.now(UTC)
    add_events(app, (AuditAction.logout, "alice@example.com", AuditOutcome.success))
    (event,) = events(app)
    assert event.action in {a.value for a in AuditAction}
    assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)
    assert event.prev_hash == audit.GENESIS_HASH
    assert re.fullmatch(r"[0-9a-f]{64}", event.hash)
