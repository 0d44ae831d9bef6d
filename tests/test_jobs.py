"""Background jobs on the queue (vendor_risk/jobs, docs/jobs.md), with real parts: a real huey
consumer (threads in this process, or `flask --app app worker` as a process of its own) on the
SQLite queue file and on Redis, the aiosmtpd server of conftest.py, and the admins' page.

An email queued by a page reaches the SMTP server through a running worker, and its job carries
no token; a transaction rolled back enqueues nothing; a job that fails beyond its retries shows
on /admin/jobs and Retry runs it again; the periodic jobs record their last run; the worker
process stops cleanly on SIGTERM. Runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import events, free_port, login_as, text
from conftest import running_worker as shared_running_worker
from conftest import wait_for as shared_wait_for

from vendor_risk import logs
from vendor_risk.config import ConfigError, read_settings
from vendor_risk.db import db
from vendor_risk.jobs import queue_of, readiness
from vendor_risk.models import JobFailure, OutboxMessage, OutboxStatus, Role
from vendor_risk.services import mail

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/13"  # db 13 and a queue name of its own per test


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["sqlite", "redis"])
def queue_config(request, tmp_path):
    """The queue's settings: the SQLite file of the embedded default, or Redis (a queue name of
    this test's own, flushed afterwards)."""
    if request.param == "sqlite":
        yield {"QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}"}
        return
    if not _redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    name = f"vrtest{uuid.uuid4().hex[:12]}"  # huey keeps letters and digits of a name
    yield {"QUEUE_URL": REDIS_URL, "QUEUE_NAME": name}
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"*{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


FAST = {"JOB_RETRIES": 1, "JOB_RETRY_DELAY_SECONDS": 0}


@pytest.fixture
def app(make_app, smtp_server, queue_config):
    return make_app(**smtp_server.config, **queue_config, **FAST, BASE_URL="https://risk.test")


def running_worker(app, *, periodic: bool = False):
    return shared_running_worker(app, workers=2, periodic=periodic)


def wait_for(condition, timeout: float = 15.0, what: str = "the worker"):
    return shared_wait_for(condition, timeout, what, every=0.1)


def raw_queue(app) -> bytes:
    """Every byte the queue holds for the jobs waiting in it."""
    return b"".join(bytes(item) for item in queue_of(app).huey.storage.enqueued_items())


# ---- an email queued by a page, delivered by a running worker --------------------------------


def test_an_invitation_queued_by_a_page_is_delivered_by_a_running_worker(
    app, client, make_vendor, make_user, smtp_server
):
    vendor_id = make_vendor("Keystone Identity", email_domains=["keystone.example"])
    ann = make_user(Role.vendor_contact, email="ann@keystone.example", vendor_id=vendor_id)
    login_as(client, ann)
    done = client.post("/portal/invite", data={"email": "bob@keystone.example"})
    assert done.status_code == 302, text(done)

    # The page committed and enqueued one job; no worker runs yet, so nothing went out.
    assert queue_of(app).pending_count() == 1
    assert smtp_server.to("bob@keystone.example") == []
    held = raw_queue(app)

    with running_worker(app):
        [sent] = wait_for(lambda: smtp_server.to("bob@keystone.example"))
    link = sent.get_content()
    token = link.split("/invite/")[1].split()[0]
    assert len(token) > 30
    # The job carried the outbox's id at most: never the invitation's token nor the body.
    assert token.encode() not in held and b"keystone" not in held
    assert queue_of(app).pending_count() == 0


def test_a_rolled_back_transaction_enqueues_nothing_and_a_committed_one_enqueues_once(app):
    with app.app_context():
        mail.send_mail(db.session, to="a@example.com", subject="Never", body="x\n")
        db.session.rollback()
        assert queue_of(app).pending_count() == 0
        # Two emails in one transaction: one job, which sends both.
        mail.send_mail(db.session, to="a@example.com", subject="One", body="x\n")
        mail.send_mail(db.session, to="b@example.com", subject="Two", body="x\n")
        db.session.commit()
    assert queue_of(app).pending_count() == 1


def test_a_savepoint_rolled_back_keeps_the_outer_transactions_job(app):
    with app.app_context():
        mail.send_mail(db.session, to="a@example.com", subject="Kept", body="x\n")
        with db.session.begin_nested() as nested:
            nested.rollback()
        db.session.commit()
    assert queue_of(app).pending_count() == 1


# ---- failures: retried, then shown to admins, run again on Retry -----------------------------


def _hide_outbox_table(app, hidden: bool) -> None:
    """A database that lost its outbox table (a botched restore): the job fails for real."""
    names = ("outbox_message", "outbox_message_away")
    old, new = names if hidden else names[::-1]
    with app.app_context():
        db.session.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))
        db.session.commit()


def test_a_job_failing_beyond_its_retries_shows_on_the_admin_page_and_retry_runs_it_again(
    app, client, make_user, smtp_server
):
    token = logs.request_id.set("req-4711")  # as the page that queued it would
    try:
        with app.app_context():
            message_id = mail.send_mail(
                db.session, to="jane@keystone.example", subject="Due", body="Hello\n"
            ).id
            db.session.commit()
    finally:
        logs.request_id.reset(token)
    _hide_outbox_table(app, hidden=True)

    with running_worker(app):
        wait_for(lambda: _failures(app), what="the failing job")
    [failure] = _failures(app)
    assert (failure.task, failure.attempts, failure.request_id) == ("outbox.deliver", 2, "req-4711")
    assert "outbox_message" in failure.error
    _hide_outbox_table(app, hidden=False)  # the operator restores the table

    admin = make_user(Role.admin)
    login_as(client, admin)
    home = text(client.get("/admin/"))
    assert "1 background job failed" in home
    page = text(client.get("/admin/jobs"))
    assert "outbox.deliver" in page and "req-4711" in page and "Retry" in page

    retried = client.post(f"/admin/jobs/{failure.id}/retry")
    assert retried.status_code == 302
    assert "queued again" in text(client.get("/admin/jobs"))
    [event] = events(app, "job.retried")
    assert event.details == {"task": "outbox.deliver", "args": []}
    assert "background job failed" not in text(client.get("/admin/"))

    with running_worker(app):
        wait_for(lambda: smtp_server.to("jane@keystone.example"))
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status is OutboxStatus.sent

    # A second Retry of the same failure is refused with a message, not run twice.
    again = client.post(f"/admin/jobs/{failure.id}/retry")
    assert again.status_code == 409
    assert "was run again" in text(again)


def test_an_admin_dismisses_a_failed_job_audited(app, client, make_user):
    with app.app_context():
        failure = JobFailure(task="portfolio.update", error_type="OperationalError", error="x")
        db.session.add(failure)
        db.session.commit()
        failure_id = failure.id
    login_as(client, make_user(Role.admin))
    assert client.post(f"/admin/jobs/{failure_id}/dismiss").status_code == 302
    assert "dismissed" in text(client.get("/admin/jobs"))
    assert len(events(app, "job.dismissed")) == 1
    assert client.post("/admin/jobs/999999/dismiss").status_code == 404


def _failures(app) -> list[JobFailure]:
    with app.app_context():
        rows = db.session.scalars(sa.select(JobFailure)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


# ---- periodic jobs, readiness, settings -------------------------------------------------------


def test_the_periodic_jobs_run_from_the_worker_and_show_their_last_run(app, client, make_user):
    with running_worker(app, periodic=True):
        login_as(client, make_user(Role.admin))
        wait_for(
            lambda: text(client.get("/admin/jobs")).count("done") >= 2, what="the periodic jobs"
        )
    page = text(client.get("/admin/jobs"))
    assert "outbox.sweep" in page and "portfolio.sweep" in page and "reminders.send" in page
    assert "0 sent, 0 kept" in page  # what the outbox sweep did
    assert "0 jobs waiting in the queue" in page


def test_readiness_says_whether_the_queue_answers(app, make_app):
    ready, words = readiness(app)
    assert ready and "0 jobs waiting" in words
    down = make_app(QUEUE_URL=f"redis://:hunter2secret@127.0.0.1:{free_port()}/0")
    ready, words = readiness(down)
    assert not ready and "unreachable" in words and "hunter2secret" not in words


def test_readyz_checks_the_queue_without_saying_where_it_lives(app, make_app):
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["queue"]["ok"] is True
    assert "jobs waiting" in ready.json["checks"]["queue"]["detail"]
    port = free_port()
    down = make_app(QUEUE_URL=f"redis://:hunter2secret@127.0.0.1:{port}/0")
    refused = down.test_client().get("/readyz")
    assert refused.status_code == 503 and refused.json["failed"] == ["queue"]
    assert refused.json["checks"]["queue"] == {"ok": False, "detail": "unreachable"}
    assert "hunter2secret" not in refused.text and str(port) not in refused.text


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:6379", "sqlite:///relative.sqlite", "postgresql://x/y"]
)
def test_a_queue_url_the_app_cannot_use_stops_start_up_with_one_line(value):
    with pytest.raises(ConfigError) as caught:
        read_settings({"QUEUE_URL": value})
    [line] = caught.value.lines
    assert line.startswith("VR_QUEUE_URL: expected") and value not in line


# ---- `flask --app app worker`, a process of its own ---------------------------------------


def test_the_worker_command_delivers_a_queued_email_and_stops_on_sigterm(
    app, database_url, queue_config, smtp_server, tmp_path
):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VR_DATABASE_URL": database_url,
        "VR_SECRET_KEY": "worker test secret key, long enough to be accepted",
        "VR_SMTP_HOST": smtp_server.host,
        "VR_SMTP_PORT": str(smtp_server.port),
        "VR_SMTP_SECURITY": "none",
        **{f"VR_{key}": value for key, value in queue_config.items()},
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with app.app_context():
            mail.send_mail(db.session, to="ops@example.com", subject="From the worker", body="x\n")
            db.session.commit()
        [sent] = wait_for(lambda: smtp_server.to("ops@example.com"), timeout=60)
        assert sent["Subject"] == "From the worker"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
    output = log.read_text()
    assert "Worker: 1 thread on the queue" in output and "Worker stopped." in output
    assert "Traceback" not in output


def test_the_worker_refuses_in_one_line_a_queue_it_cannot_reach(make_app):
    port = free_port()
    down = make_app(QUEUE_URL=f"redis://:hunter2secret@127.0.0.1:{port}/0")
    result = down.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"Error: the queue (Redis 127.0.0.1:{port}/0) cannot be reached" in result.output
    assert "hunter2secret" not in result.output


def test_a_periodic_jobs_minute_is_run_by_one_worker_of_several(make_app):
    """Every worker's scheduler enqueues the periodic jobs: the first worker to claim a
    minute runs it, another worker's copy of the same minute is skipped, the next minute
    runs again."""
    from datetime import UTC, datetime, timedelta

    from vendor_risk.services import jobs as job_records

    app = make_app()
    minute = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    with app.app_context():
        claims = [
            job_records.claim_slot(
                db.session, "outbox.sweep", slot=minute, started_at=minute + timedelta(seconds=s)
            )
            for s in (1, 2)
        ]
        db.session.commit()
        later = minute + timedelta(minutes=1)
        next_minute = job_records.claim_slot(
            db.session, "outbox.sweep", slot=later, started_at=later
        )
        other_job = job_records.claim_slot(
            db.session, "portfolio.sweep", slot=minute, started_at=minute
        )
        db.session.commit()
    assert claims == [True, False]
    assert next_minute and other_job
