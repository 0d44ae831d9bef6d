"""Benchmark: the dashboards' server time as the portfolio grows, at 1,000, 10,000 and 50,000
vendors.

For each size, generates into a fresh database (SQLite by default) the portfolio of
bench/blast_radius.py (vendors, systems, data, credentials, copies, subprocessors), rates every
vendor through services.portfolio.refresh (the aggregates and a first score each), and adds
findings, questionnaire requests, incidents and two staff users in realistic proportions. Then
times through the Flask test client, each user's complete session in place, the median of
``--repeat`` requests after a first one (warm: the aggregates fresh, the charts drawn once):

- ``risk_dashboard``: GET /risk/ as a risk officer;
- ``procurement_dashboard``: GET /procurement/ as procurement;
- the lists people page through: ``vendor_list`` (its third page) and ``vendor_search`` as
  procurement, ``credential_list`` (its third page), ``system_list`` and ``portfolio_page``
  (the inventory's portfolio, with the credentials most overdue for rotation) as the risk
  officer;
- ``reference``: GET /account/ as the risk officer, a trivial page behind the same session
  checks, measured in the same loop;

and, to see what is not cached, the risk dashboard with every chart drawn again
(``risk_dashboard_charts_drawn``) and ``record_day`` (what every rescore, status change and
deletion adds). Each line says how many SQL statements the request ran. At the end, one
``scaling`` line per page: its time at the largest size over its time at the smallest, next to
the reference's. Prints one JSON object per line on stdout; progress goes to stderr. See
bench/README.md.

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --backend postgresql \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from alembic import command

# bench/blast_radius.py: the synthetic portfolio and its bulk inserts (this script's folder is
# on sys.path when it is run as a script).
from blast_radius import generate, insert, progress

from vendor_risk import create_app
from vendor_risk.db import alembic_config, db, utcnow
from vendor_risk.models import (
    Finding,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    Incident,
    IncidentStatus,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    Role,
    User,
    Vendor,
    VendorStatus,
)
from vendor_risk.reports import charts
from vendor_risk.services import portfolio_history
from vendor_risk.services.accounts.users import new_session_token
from vendor_risk.services.portfolio import aggregates as portfolio

SIZES = (1_000, 10_000, 50_000)
# name -> (who asks, path): the dashboards, then the lists people page through (issue 16: at
# 50,000 vendors and 250,000 credentials, a list's page reads its own rows, not the whole list).
PAGES = {
    "risk_dashboard": (Role.risk_officer, "/risk/"),
    "procurement_dashboard": (Role.procurement, "/procurement/"),
    "vendor_list": (Role.procurement, "/inventory/vendors?page=3"),
    "vendor_search": (Role.procurement, "/inventory/vendors?q=vendor%2001"),
    "credential_list": (Role.risk_officer, "/inventory/credentials?page=3"),
    "system_list": (Role.risk_officer, "/inventory/systems"),
    "portfolio_page": (Role.risk_officer, "/inventory/portfolio"),
}
REFERENCE = "/account/"
# Proportions, per vendor (a program assesses some vendors, not all, and most work is closed).
ASSESSED = 0.35  # vendors with an accepted questionnaire (1 to 2 years of history)
UNDER_WAY = 0.08  # vendors with a request under way now
WITH_FINDINGS = 0.30  # vendors with findings, 1 to 5 each
FINDING_STATUS = (
    (FindingStatus.open, 0.35),
    (FindingStatus.in_remediation, 0.15),
    (FindingStatus.resolved, 0.40),
    (FindingStatus.accepted, 0.10),
)
SEVERITY = (
    (FindingSeverity.low, 0.3),
    (FindingSeverity.medium, 0.4),
    (FindingSeverity.high, 0.2),
    (FindingSeverity.critical, 0.1),
)
OPEN_STATUSES = (
    RequestStatus.draft,
    RequestStatus.sent,
    RequestStatus.in_progress,
    RequestStatus.returned,
    RequestStatus.submitted,
    RequestStatus.under_review,
)
# Under way, yet submitted once already.
ANSWERED = (RequestStatus.returned, RequestStatus.submitted, RequestStatus.under_review)
INCIDENTS = (5, 20)  # open, closed: a handful whatever the size


# ---- the portfolio ---------------------------------------------------------------------------


def _pick(rng: random.Random, weighted) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def questionnaire_version(session) -> int:
    parent = Questionnaire(key="bench-dashboard", title="Security basics", audience="vendor")
    session.add(parent)
    session.flush()
    version = QuestionnaireVersion(
        questionnaire_id=parent.id,
        number=1,
        author_version=1,
        content_hash="0" * 64,
        title=parent.title,
        question_count=40,
        definition={},
        source="bench",
    )
    session.add(version)
    session.flush()
    return version.id


def work(session, vendor_ids: list[int], seed: int, now) -> dict[str, int]:
    """Review dates, findings, requests, incidents and the two staff users."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    day = timedelta(days=1)
    today = now.date()
    reassessed = (VendorStatus.active, VendorStatus.onboarding)
    reviewed = session.scalars(sa.select(Vendor.id).where(Vendor.status.in_(reassessed)))
    session.execute(
        sa.update(Vendor),
        [{"id": vid, "next_review": today + rng.randint(-60, 700) * day} for vid in reviewed],
    )
    version_id = questionnaire_version(session)
    findings, requests = [], []
    for vendor_id in vendor_ids:
        if rng.random() < WITH_FINDINGS:
            for _ in range(rng.randint(1, 5)):
                created = now - rng.randint(0, 400) * day
                findings.append(
                    {
                        "vendor_id": vendor_id,
                        "source": FindingSource.manual,
                        "title": f"Finding of vendor {vendor_id}",
                        "severity": _pick(rng, SEVERITY),
                        "status": _pick(rng, FINDING_STATUS),
                        "created_at": created,
                        "updated_at": created,
                        "due_on": created.date() + rng.randint(30, 180) * day,
                    }
                )
        if rng.random() < ASSESSED:
            sent = now - rng.randint(30, 700) * day
            submitted = sent + rng.randint(2, 60) * day
            requests.append(
                {
                    "vendor_id": vendor_id,
                    "version_id": version_id,
                    "status": RequestStatus.accepted,
                    "due_on": sent.date() + 30 * day,
                    "sent_at": sent,
                    "submitted_at": min(submitted, now),
                    "reviewed_at": min(submitted + 5 * day, now),
                    "question_count": 40,
                    "answered_count": 40,
                }
            )
        if rng.random() < UNDER_WAY:
            status = rng.choice(OPEN_STATUSES)
            sent = None if status is RequestStatus.draft else now - rng.randint(1, 60) * day
            submitted = min(now, sent + rng.randint(1, 40) * day) if status in ANSWERED else None
            requests.append(
                {
                    "vendor_id": vendor_id,
                    "version_id": version_id,
                    "status": status,
                    "due_on": today + rng.randint(-30, 30) * day,
                    "sent_at": sent,
                    "submitted_at": submitted,
                    "question_count": 40,
                    "answered_count": rng.randint(0, 40),
                }
            )
    insert(session, Finding, findings)
    insert(session, QuestionnaireRequest, requests)
    users = []
    for role in (Role.risk_officer, Role.procurement):
        user = User(
            email=f"{role.value}@bench.example",
            name=role.label,
            role=role,
            password_hash="not used: the benchmark puts the session in place",  # noqa: S106
            session_token=new_session_token(),
        )
        session.add(user)
        users.append(user)
    session.flush()
    incidents = [
        {
            "vendor_id": vendor_id,
            "title": f"Breach of vendor {vendor_id}",
            "started_at": now - 30 * day,
            "detected_at": now - 29 * day,
            "status": IncidentStatus.open if n < INCIDENTS[0] else IncidentStatus.closed,
            "opened_by_id": users[0].id,
            "opened_at": now - 29 * day,
            "closed_at": None if n < INCIDENTS[0] else now - 10 * day,
            "closed_by_id": None if n < INCIDENTS[0] else users[0].id,
        }
        for n, vendor_id in enumerate(rng.sample(vendor_ids, sum(INCIDENTS)))
    ]
    insert(session, Incident, incidents)
    session.commit()
    return {"findings": len(findings), "requests": len(requests), "incidents": len(incidents)}


# ---- databases -------------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, server_url: str | None, workdir: Path, label: str) -> Iterator[Any]:
    """An app on a new migrated database: a SQLite file, or a PostgreSQL database created on
    the server for this size and dropped after it."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'dashboard-{label}.sqlite'}"
    else:
        name = f"vr_bench_dashboard_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {"SECRET_KEY": "bench", "DATABASE_URL": url, "RATELIMIT_ENABLED": False},
        instance_path=str(workdir),
    )
    try:
        with app.app_context():
            cfg = alembic_config(url)
            cfg.attributes["configure_logging"] = False
            command.upgrade(cfg, "head")
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        if backend != "sqlite":
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server.dispose()


# ---- measuring -------------------------------------------------------------------------------


class Statements:
    """Counts the SQL statements the app runs (no query per vendor: the count stays the same
    whatever the size)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


def logged_in(app, token: str):
    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session.update({"_user_id": token, "_fresh": True, "auth_at": now, "seen_at": now})
    return client


def timed_get(client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    return seconds


def emit(out: TextIO, name: str, sizes: dict, **fields: Any) -> None:
    print(json.dumps({"name": name, "sizes": sizes, **fields}), file=out, flush=True)


def ms(seconds: float) -> float:
    return float(f"{seconds * 1000:.4g}")


def measure(app, out: TextIO, sizes: dict, tokens: dict[Role, str], repeat: int) -> dict:
    """Median server time of each page (and of the reference, in the same loop)."""
    clients = {name: logged_in(app, tokens[role]) for name, (role, _) in PAGES.items()}
    clients["reference"] = logged_in(app, tokens[Role.risk_officer])
    paths = {name: path for name, (_, path) in PAGES.items()} | {"reference": REFERENCE}
    with app.app_context():
        statements = Statements(db.engine)
    counted = {}
    for name, client in clients.items():  # warm: aggregates fresh, charts drawn, pools open
        before = statements.count
        timed_get(client, paths[name])
        timed_get(client, paths[name])
        counted[name] = statements.count - before
        counted[name] //= 2
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(repeat):
        for name, client in clients.items():
            gc.collect()
            times[name].append(timed_get(client, paths[name]))
    medians = {name: statistics.median(found) for name, found in times.items()}
    for name in clients:
        emit(
            out,
            name,
            sizes,
            ms=ms(medians[name]),
            min_ms=ms(min(times[name])),
            statements=counted[name],
            repeat=repeat,
            reference_ms=ms(medians["reference"]),
            ratio_to_reference=round(medians[name] / medians["reference"], 2),
        )
    drawn = []
    for _ in range(max(3, repeat // 4)):
        charts.cache_clear()
        gc.collect()
        drawn.append(timed_get(clients["risk_dashboard"], paths["risk_dashboard"]))
    emit(out, "risk_dashboard_charts_drawn", sizes, ms=ms(statistics.median(drawn)))
    with app.app_context():
        recorded = []
        for _ in range(max(3, repeat // 4)):
            start = time.perf_counter()
            portfolio_history.record_day(db.session, utcnow())
            db.session.commit()
            recorded.append(time.perf_counter() - start)
    emit(out, "record_day", sizes, ms=ms(statistics.median(recorded)))
    return medians


def run_size(args: argparse.Namespace, out: TextIO, workdir: Path, vendors: int) -> dict:
    sizes = {
        "vendors": vendors,
        "credentials": 5 * vendors,
        "systems": args.systems,
        "links": args.links,
        "stored": args.stored,
        "database": args.backend,
    }
    with database(args.backend, args.database_url, workdir, str(vendors)) as app:
        with app.app_context():
            session = db.session
            progress(f"generating {sizes}")
            start = time.perf_counter()
            rows = generate(session, sizes, args.seed)
            now = utcnow()
            vendor_ids = list(session.scalars(sa.select(Vendor.id).order_by(Vendor.id)))
            rows |= work(session, vendor_ids, args.seed, now)
            emit(out, "generate", sizes, seconds=round(time.perf_counter() - start, 1), rows=rows)
            progress("rating every vendor (the portfolio's aggregates)")
            start = time.perf_counter()
            portfolio.refresh(session, now)
            session.commit()
            emit(out, "portfolio_refresh", sizes, seconds=round(time.perf_counter() - start, 1))
            if args.backend == "postgresql":
                # The planner's statistics, as autovacuum gathers them after bulk writes (the
                # runs would otherwise depend on whether it came by yet).
                session.execute(sa.text("ANALYZE"))
                session.commit()
            tokens = dict(session.execute(sa.select(User.role, User.session_token)).all())
        progress("timing the pages")
        return measure(app, out, sizes, tokens, args.repeat)


def run(args: argparse.Namespace, out: TextIO, workdir: Path) -> None:
    found = {vendors: run_size(args, out, workdir, vendors) for vendors in args.sizes}
    small, large = min(found), max(found)
    if small == large:
        return
    for name in (*PAGES, "reference"):
        ratio = found[large][name] / found[small][name]
        reference = found[large]["reference"] / found[small]["reference"]
        emit(
            out,
            "scaling",
            {"from": small, "to": large, "database": args.backend},
            page=name,
            ms_from=ms(found[small][name]),
            ms_to=ms(found[large][name]),
            size_factor=round(large / small, 1),
            time_factor=round(ratio, 2),
            reference_time_factor=round(reference, 2),
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL: a server URL (any database on it) where the benchmark creates, and "
        "drops again, one database per size",
    )
    parser.add_argument(
        "--sizes", type=lambda text: [int(n) for n in text.split(",")], default=list(SIZES)
    )
    parser.add_argument("--systems", type=int, default=2_000)
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--stored", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=30, help="requests timed per page")
    args = parser.parse_args(argv)
    if args.backend == "postgresql" and not args.database_url:
        parser.error("--backend postgresql needs --database-url")
    out = sys.stdout
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        run(args, out, Path(tmp))


if __name__ == "__main__":
    main()
