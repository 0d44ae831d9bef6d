"""The background jobs: each one calls a service with the session (and ids, never a token or an
email's text) and says in a few words what it did. The queue (``jobs.queue``) runs them in an
app context of their own and commits; these functions only call services.

Two kinds: *triggered* jobs, enqueued by a service after its transaction commits
(``db.request_job``) or by an admin's Retry, which are retried when they fail; and *periodic*
jobs, which every worker's scheduler enqueues on their schedule (UTC). Every job is safe to run
twice, or in two workers at once: the outbox leases each email, the reminders, notifications
and digests are recorded once per day or per user, an expired acceptance is ended once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..db import today_utc
from ..services import bulk_exports, findings, notifications, notifications_due, outbox
from ..services.audit import Actor
from ..services.portfolio import aggregates as portfolio
from ..services.questionnaires import requests as request_service

# Who the audit trail names for what the worker does by itself.
WORKER_ACTOR = Actor.system("worker")


def deliver_outbox(session: Session, config: dict) -> str:
    run = outbox.deliver_due(session)
    return f"{run.sent} sent, {run.kept} kept, {run.retrying} to retry, {len(run.failed)} failed"


def update_portfolio(session: Session, config: dict) -> str:
    # The portfolio's own service decides which vendors the recorded changes concern.
    update = portfolio.update_pending(session)
    if update is None:
        return "nothing pending"
    if not update.changes:
        return "only what the aggregates do not read changed: marked current"
    vendors = "every vendor" if update.vendors is None else f"{update.vendors} vendors"
    return f"{update.changes} changes: {vendors} computed again"


def refresh_portfolio(session: Session, config: dict) -> str:
    # Reach depends on the date too (credentials expire): a full refresh when the last one is
    # an hour old.
    aggregates = portfolio.refresh_if_old(session)
    if aggregates is None:
        return "computed less than an hour ago"
    return f"full refresh, inventory version {aggregates.version}"


def send_reminders(session: Session, config: dict) -> str:
    reminders = request_service.send_reminders(
        session,
        today=today_utc(),
        within_days=config["REMINDER_DAYS"],
        actor=Actor.system("reminders"),
    )
    queued = sum(len(r.queued_to) for r in reminders)
    return f"{queued} reminders queued for {len(reminders)} requests"


def run_due_notifications(session: Session, config: dict) -> str:
    run = notifications_due.run_due(session, today=today_utc())
    return (
        f"{run.finding_due_soon} findings due soon, {run.acceptance_expiring} acceptances "
        f"expiring, {run.request_overdue} requests overdue"
    )


def send_digests(session: Session, config: dict) -> str:
    digests = notifications.send_digests(session, today=today_utc())
    return f"{len(digests)} digests queued"


def expire_acceptances(session: Session, config: dict) -> str:
    expired = findings.expire_acceptances(session, today_utc(), actor=WORKER_ACTOR)
    return f"{len(expired)} risk acceptances expired"


def build_bulk_export(session: Session, config: dict, export_id: int) -> str:
    # WeasyPrint comes with the reports: imported when the job runs, not by every start of the
    # app. Each vendor's progress is committed as it goes, so the export's page shows it.
    from ..reports import bulk_exports as zips

    return zips.build(session, export_id, checkpoint=session.commit)


def expire_bulk_exports(session: Session, config: dict) -> str:
    expired = bulk_exports.delete_expired(session)
    asked = bulk_exports.ask_again_for_waiting(session)
    return f"{expired} bulk exports expired, {asked} waiting ones asked for again"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[..., str]  # (session, config, *ids) -> what it did
    # When a periodic job runs, from the settings (None: a triggered job).
    schedule: Callable[[dict], Callable] | None = None
    what: str = ""  # for the admins' page and docs/jobs.md


def crontab(**when: str):
    """huey's schedule, imported when a worker registers the jobs (not at `import app`)."""
    from huey import crontab as huey_crontab

    return huey_crontab(**when)


def _every_minute(_config: dict):
    return crontab()


JOBS: tuple[Job, ...] = (
    Job("outbox.deliver", deliver_outbox, what="sends the emails due (asked by every email)"),
    Job("portfolio.update", update_portfolio, what="brings the portfolio's aggregates up to date"),
    Job(
        bulk_exports.BUILD_JOB,
        build_bulk_export,
        what="writes the zip of a bulk export of assessment PDFs (asked from the vendor list)",
    ),
    Job(
        "outbox.sweep",
        deliver_outbox,
        _every_minute,
        "every minute: sends the emails whose retry is due",
    ),
    Job(
        "portfolio.sweep",
        update_portfolio,
        _every_minute,
        "every minute: counts the inventory changes no job has counted yet",
    ),
    Job(
        "portfolio.refresh",
        refresh_portfolio,
        lambda _config: crontab(minute="5"),
        "every hour: computes the whole portfolio again when its figures are an hour old",
    ),
    Job(
        "findings.expire",
        expire_acceptances,
        lambda _config: crontab(minute="1"),
        "every hour: ends the risk acceptances that expired and reopens their findings",
    ),
    Job(
        "exports.expire",
        expire_bulk_exports,
        lambda _config: crontab(minute="3"),
        "every hour: deletes the bulk exports older than 24 hours with their zips, and asks again "
        "for those whose job was lost",
    ),
    Job(
        "notifications.run_due",
        run_due_notifications,
        lambda _config: crontab(minute="2"),
        "every hour: findings due soon, acceptances expiring, requests overdue",
    ),
    Job(
        "reminders.send",
        send_reminders,
        lambda config: crontab(minute="0", hour=str(config["JOB_REMINDERS_HOUR"])),
        "every day at VR_JOB_REMINDERS_HOUR: reminds the vendors of requests due soon",
    ),
    Job(
        "notifications.digest",
        send_digests,
        lambda config: crontab(minute="10", hour=str(config["JOB_DIGEST_HOUR"])),
        "every day at VR_JOB_DIGEST_HOUR (10 past): sends the daily digests",
    ),
)

BY_NAME = {job.name: job for job in JOBS}
