"""Load test: simulated people (locust, headless) against gunicorn on PostgreSQL, while the
worker runs (issue 16, item 6).

Creates an empty PostgreSQL database on the server given, migrates it, writes the portfolio
of bench/blast_radius.py (50,000 vendors and 250,000 credentials by default) with the work of
bench/dashboard.py around it (findings, requests, incidents), computes the aggregates, and
adds the people: one account per simulated person with a known TOTP secret, and for each
vendor contact a questionnaire request to fill (created through the services). Then starts
gunicorn as docs/deploy/systemd/vendor-risk-web@.service does (4 workers x 2 threads unless
told) and, when this version of the app has it, `flask --app app worker`; runs
bench/load/locustfile.py for a bounded number of users and time; stops everything and reports:

- throughput, p50/p95/p99 and errors per page (locust's figures);
- the answers saved, counted in the database against those the simulated people recorded;
- how long after the load stopped (and after the last inventory edit) the portfolio's
  aggregates were current (portfolio_state.computed_version = inventory_version), polled for
  up to --settle seconds.

Prints one JSON object per line on stdout, then the same as a markdown table on stderr (with
the progress). The database is dropped at the end unless --keep-database. See bench/README.md,
"Load test".

    .venv/bin/pip install -e '.[dev,load]'
    .venv/bin/python bench/load_test.py                       # 50,000 vendors, 200 users, 3 min
    .venv/bin/python bench/load_test.py --vendors 500 --users 20 --duration 60s
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import pyotp
import sqlalchemy as sa
from alembic import command

# bench/blast_radius.py and bench/dashboard.py: the synthetic portfolio and the work around it
# (this script's folder is on sys.path when it is run as a script).
from blast_radius import generate, progress
from dashboard import work

from vendor_risk import create_app
from vendor_risk.db import alembic_config, db, utcnow
from vendor_risk.models import Answer, Credential, Role, System, Vendor, VendorStatus
from vendor_risk.services.accounts import users as accounts
from vendor_risk.services.accounts.mfa import STEP_SECONDS
from vendor_risk.services.audit import Actor
from vendor_risk.services.pages import PAGE_SIZE
from vendor_risk.services.portfolio import aggregates as portfolio
from vendor_risk.services.questionnaires import library, requests

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
QUESTIONNAIRE = "baseline-security"  # the shipped questionnaire vendor contacts fill
# The simulated people, as shares of the users (the locustfile's user classes' weights).
ROLES = {"vendor_contact": 10, "risk_officer": 4, "procurement": 4, "inventory_editor": 2}
ACCOUNT_ROLE = {
    "vendor_contact": Role.vendor_contact,
    "risk_officer": Role.risk_officer,
    "procurement": Role.procurement,
    "inventory_editor": Role.procurement,
}
GOAL_P95_MS = 500
GOAL_CURRENT_SECONDS = 10
# Each simulated person comes from 127.0.0.1: per-address sign-in limits are raised (in
# production each comes from an address of their own); per-account limits stay as they are.
ADDRESS_LIMIT = "100000 per minute"


# ---- the database --------------------------------------------------------------------------


@contextlib.contextmanager
def database(server_url: str, workdir: Path, keep: bool) -> Iterator[tuple[Any, str]]:
    """An app on a new migrated PostgreSQL database, dropped afterwards unless ``keep``."""
    name = f"vr_load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
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
        yield app, url
    finally:
        with app.app_context():
            db.engine.dispose()
        if keep:
            progress(f"kept the database: {url}")
        else:
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def accounts_needed(users: int) -> dict[str, int]:
    """Accounts per role: the share locust gives each user class, rounded up, plus a margin."""
    total = sum(ROLES.values())
    return {role: math.ceil(users * weight / total) + 2 for role, weight in ROLES.items()}


def enrol(session, user, actor: Actor) -> str:
    """Enrol ``user`` in TOTP with a new secret, returned. The code given is the previous
    step's, so the load's first sign-in, in this step, is a new one. Tried again when the
    clock crossed a step meanwhile (a starved process on a loaded machine)."""
    for _attempt in range(3):
        secret = pyotp.random_base32(32)
        earlier = pyotp.TOTP(secret).at(time.time() - STEP_SECONDS)
        if accounts.confirm_enrolment(session, user, secret, earlier, actor=actor) is not None:
            return secret
    raise SystemExit(f"enrolling {user.email} in TOTP failed three times")


def people(session, users: int, workdir: Path) -> dict[str, Any]:
    """The accounts (enrolled in TOTP with a known secret) and each vendor contact's
    questionnaire request, through the services; returns the plan's accounts."""
    system = Actor.system("load test")
    stored = {v.definition.get("id"): v for v in library.latest_versions(session)}
    if QUESTIONNAIRE not in stored:
        library.sync_shipped(session, actor=system)
        stored = {v.definition.get("id"): v for v in library.latest_versions(session)}
    version = stored[QUESTIONNAIRE]
    needed = accounts_needed(users)
    rng = random.Random(16)  # noqa: S311 - which vendors get a contact: not a secret
    open_vendors = list(
        session.scalars(sa.select(Vendor.id).where(Vendor.status != VendorStatus.offboarded))
    )
    contact_vendors = iter(rng.sample(open_vendors, needed["vendor_contact"]))
    plan: dict[str, list[dict]] = {role: [] for role in ROLES}
    sender = None
    for role in ("procurement", "risk_officer", "inventory_editor", "vendor_contact"):
        for n in range(needed[role]):
            email = f"load-{role.replace('_', '-')}-{n:03}@bench.example"
            password = secrets.token_urlsafe(18)
            vendor_id = next(contact_vendors) if role == "vendor_contact" else None
            user = accounts.create_user(
                session,
                email=email,
                name=f"Load {role.replace('_', ' ')} {n}",
                password=password,
                role=ACCOUNT_ROLE[role],
                vendor_id=vendor_id,
                actor=system,
            )
            secret = enrol(session, user, system)
            account = {"email": email, "password": password, "totp_secret": secret}
            if role == "procurement" and sender is None:
                sender = Actor(label=email, user_id=user.id)
            if role == "vendor_contact":
                request = requests.create_request(
                    session,
                    vendor_id=vendor_id,
                    version_id=version.id,
                    due_on=requests.today_utc() + timedelta(days=30),
                    contact_emails=[email],
                    actor=sender,
                )
                account["request_id"] = request.id
            plan[role].append(account)
    session.commit()
    return plan


def as_entered(session) -> int:
    """The generator draws a credential's dates and MFA flags independently, so a few
    percent of credentials hold what the credential form refuses (rotated or expiring before
    issued, phishing-resistant MFA without MFA enforced): an editor saving one would be stopped
    at the field. They become what the form would have let someone enter; returns how many
    rows changed."""
    day = lambda column: sa.cast(column, sa.Date)  # noqa: E731 - the form compares days
    changes = [
        (
            day(Credential.last_rotated_at) < day(Credential.issued_at),
            {"last_rotated_at": Credential.issued_at},
        ),
        (
            day(Credential.expires_at) < day(Credential.issued_at),
            {"expires_at": Credential.issued_at},
        ),
        (Credential.phishing_resistant_mfa & ~Credential.mfa_enforced, {"mfa_enforced": True}),
    ]
    fixed = 0
    for where, values in changes:
        fixed += session.execute(sa.update(Credential).where(where).values(**values)).rowcount
    session.commit()
    return fixed


def seed(app, args: argparse.Namespace, out: TextIO, workdir: Path) -> dict[str, Any]:
    """The portfolio, its aggregates and the people; returns the locustfile's plan."""
    sizes = {
        "vendors": args.vendors,
        "credentials": args.credentials or 5 * args.vendors,
        "systems": args.systems,
        "links": args.links,
        "stored": args.stored,
        "new_edges": True,
        "database": "postgresql",
    }
    with app.app_context():
        session = db.session
        progress(f"generating {sizes}")
        start = time.perf_counter()
        rows = generate(session, sizes, args.seed)
        vendor_ids = list(session.scalars(sa.select(Vendor.id).order_by(Vendor.id)))
        rows |= work(session, vendor_ids, args.seed, utcnow())
        rows["credentials_made_as_entered"] = as_entered(session)
        emit(out, "generate", sizes, seconds=round(time.perf_counter() - start, 1), rows=rows)
        progress("computing the portfolio's aggregates")
        start = time.perf_counter()
        portfolio.refresh(session, utcnow())
        session.commit()
        emit(out, "portfolio_refresh", sizes, seconds=round(time.perf_counter() - start, 1))
        progress(f"creating the accounts of {args.users} simulated people and their requests")
        start = time.perf_counter()
        plan_accounts = people(session, args.users, workdir)
        emit(
            out,
            "people",
            sizes,
            seconds=round(time.perf_counter() - start, 1),
            accounts={role: len(found) for role, found in plan_accounts.items()},
        )
        # The inventory changed again (accounts do not, but the requests' vendors' dates may):
        # the load starts on current aggregates, as a running installation would.
        portfolio.ensure_fresh(session)
        session.execute(sa.text("ANALYZE"))
        session.commit()

        def span(model) -> list[int]:
            return list(
                session.execute(sa.select(sa.func.min(model.id), sa.func.max(model.id))).one()
            )

        names = session.scalars(sa.select(Vendor.name).order_by(sa.func.random()).limit(1000))
        plan = {
            "accounts": plan_accounts,
            "vendor_ids": span(Vendor),
            "credential_ids": span(Credential),
            "system_ids": span(System),
            "vendor_names": list(names),
            "vendor_pages": max(1, math.ceil(args.vendors / PAGE_SIZE)),
            "answers_file": str(workdir / "answers.jsonl"),
            "edits_file": str(workdir / "edits.jsonl"),
        }
    plan["sizes"] = sizes
    return plan


# ---- the processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(url: str, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env |= {
        "VR_DATABASE_URL": url,
        "VR_SECRET_KEY": secrets.token_urlsafe(48),
        "VR_RATELIMIT_STORAGE_URI": args.ratelimit_storage,
        "VR_RATELIMIT_LOGIN_PER_ADDRESS": ADDRESS_LIMIT,
        "VR_RATELIMIT_MFA_PER_ADDRESS": ADDRESS_LIMIT,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_DEBUG", None)
    return env


def executable(name: str) -> str:
    """A command of this virtual environment (the one running this script), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def control_socket(workdir: Path) -> tuple[str, ...]:
    """No control socket, as the unit runs gunicorn: from 26 each gunicorn opens one at a fixed
    path in the home folder, which another gunicorn of the machine (a test, another run) may
    hold."""
    return ("--no-control-socket",)


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    progress(f"starting: {' '.join(argv)} (log: {log})")
    return subprocess.Popen(  # noqa: S603 - our own commands
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen | None, grace: float = 45) -> None:
    """SIGTERM (gunicorn finishes the requests in flight), then SIGKILL after ``grace``."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_serving(base: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}: see its log")
        try:
            with urllib.request.urlopen(f"{base}/auth/login", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {base}/auth/login within {seconds:.0f} s")


def cpu_seconds(group: int | None) -> float:
    """CPU time (user and system) of the processes of session ``group`` (a server started by
    :func:`start`, with its workers); a leader's reaped children (workers replaced after
    --max-requests) count through its cutime and cstime."""
    if group is None:
        return 0.0
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            # fields[0] is the state (field 3 of proc(5)): session is 6, utime 14 .. cstime 17
            if int(fields[3]) != group:
                continue
            used = fields[11:15] if int(stat.parent.name) == group else fields[11:13]
            ticks += sum(int(value) for value in used)
    return ticks / os.sysconf("SC_CLK_TCK")


def has_worker(env: dict) -> bool:
    """Whether this version of the app has `flask --app app worker` (the job queue)."""
    found = subprocess.run(  # noqa: S603 - our own command
        [executable("flask"), "--app", "app", "worker", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


# ---- the figures ---------------------------------------------------------------------------


def emit(out: TextIO, name: str, sizes: dict, **fields: Any) -> None:
    print(json.dumps({"name": name, "sizes": sizes, **fields}), file=out, flush=True)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def page_figures(stats_csv: Path) -> list[dict[str, Any]]:
    """locust's per-page line: requests, failures, throughput and percentiles (ms)."""
    rows = []
    with stats_csv.open(newline="") as found:
        for row in csv.DictReader(found):
            rows.append(
                {
                    "page": row["Name"] if row["Name"] != "Aggregated" else "all pages",
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "requests_per_s": round(float(row["Requests/s"]), 2),
                    "p50_ms": _number(row["50%"]),
                    "p95_ms": _number(row["95%"]),
                    "p99_ms": _number(row["99%"]),
                    "max_ms": _number(row["Max Response Time"]),
                }
            )
    return rows


def failure_figures(failures_csv: Path) -> list[dict[str, Any]]:
    if not failures_csv.exists():
        return []
    with failures_csv.open(newline="") as found:
        return [
            {
                "page": row["Name"],
                "method": row["Method"],
                "error": row["Error"],
                "occurrences": int(row["Occurrences"]),
            }
            for row in csv.DictReader(found)
        ]


def _lines(file: Path) -> list[dict]:
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


def _same(saved: Any, sent: Any) -> bool:
    """An answer as stored against the value the person sent (a number is sent as text)."""
    if isinstance(sent, list):
        return isinstance(saved, list) and sorted(map(str, saved)) == sorted(map(str, sent))
    if isinstance(saved, int | float) and not isinstance(saved, bool):
        return _number(str(sent)) == float(saved)
    return saved == sent


def count_answers(app, plan: dict) -> dict[str, Any]:
    """Every answer the simulated people saw saved, looked up in the database: the last value
    each person saved of each question must be the one stored."""
    saves = _lines(Path(plan["answers_file"]))
    last: dict[tuple[int, str], dict] = {}
    for save in saves:
        key = (save["request_id"], save["question_id"])
        if key not in last or save["version"] >= last[key]["version"]:
            last[key] = save
    request_ids = [a["request_id"] for a in plan["accounts"]["vendor_contact"]]
    with app.app_context():
        stored = {
            (request_id, question_id): value
            for request_id, question_id, value in db.session.execute(
                sa.select(Answer.request_id, Answer.question_id, Answer.value).where(
                    Answer.request_id.in_(request_ids)
                )
            )
        }
    missing = [key for key in last if key not in stored]
    different = [
        key for key in last if key in stored and not _same(stored[key], last[key]["value"])
    ]
    return {
        "saves": len(saves),
        "answers_recorded": len(last),
        "answers_in_database": len(stored),
        "answers_present": len(last) - len(missing) - len(different),
        "missing": len(missing),
        "different": len(different),
        "examples": [list(key) for key in (missing + different)[:5]],
    }


class Versions(threading.Thread):
    """Samples portfolio_state (inventory_version, computed_version) twice a second, during
    the load and after it, so that the moment the aggregates caught up with the last edit is
    known to half a second."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.samples: list[tuple[float, int, int | None]] = []
        self.done = threading.Event()

    def sample(self) -> tuple[float, int, int | None]:
        with self.engine.connect() as conn:
            inventory, computed = conn.execute(
                sa.text(
                    "SELECT inventory_version, computed_version FROM portfolio_state WHERE id = 1"
                )
            ).one()
        found = (time.time(), inventory, computed)
        self.samples.append(found)
        return found

    def run(self) -> None:
        while not self.done.wait(0.5):
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.sample()

    def stop(self) -> None:
        self.done.set()
        self.join()
        self.engine.dispose()


def aggregates_current(versions: Versions, plan: dict, stopped_at: float, settle: float):
    """When the aggregates were current again after the last edit: the first sample whose
    computed_version reached the inventory's last version (polled up to ``settle`` s after
    the load stopped)."""
    edits = _lines(Path(plan["edits_file"]))
    last_edit = max((e["at"] for e in edits), default=None)
    deadline = stopped_at + settle
    while True:
        now, inventory, computed = versions.sample()
        if computed == inventory or now >= deadline:
            break
        time.sleep(0.5)
    versions.stop()
    current = computed == inventory
    caught_up = next(
        (at for at, _, done in versions.samples if done is not None and done >= inventory),
        None,
    )
    if last_edit is not None and caught_up is not None and caught_up < last_edit:
        caught_up = last_edit  # current before the edit's commit was sampled: no lag seen
    return {
        "edits": len(edits),
        "current": current,
        "inventory_version": inventory,
        "computed_version": computed,
        "seconds_after_load_stopped": (
            round(max(0.0, caught_up - stopped_at), 1) if current and caught_up else None
        ),
        "seconds_after_last_edit": (
            round(caught_up - last_edit, 1) if current and caught_up and last_edit else None
        ),
        "polled_seconds": settle,
    }


def markdown(figures: list[dict], answers: dict, aggregates: dict, run: dict) -> str:
    lines = [
        f"Load test: {run['vendors']:,} vendors, {run['users']} users, {run['duration']}, "
        f"gunicorn {run['workers']} workers x {run['threads']} threads, "
        f"worker {'running' if run['worker'] else 'absent'}",
        "",
        "| page | requests | errors | req/s | p50 ms | p95 ms | p99 ms | p95 goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in figures:
        ok = row["p95_ms"] is not None and row["p95_ms"] < GOAL_P95_MS and not row["failures"]
        lines.append(
            f"| {row['page']} | {row['requests']:,} | {row['failures']} | "
            f"{row['requests_per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
            f"{'met' if ok else 'MISSED'} |"
        )
    lines += [
        "",
        f"Web processes' CPU: {run['web_cpu_seconds']} s, "
        f"{run['web_cpu_ms_per_request']} ms per request; worker: {run['worker_cpu_seconds']} "
        f"s. Load average {run['load_average'][0]} then {run['load_average'][1]} "
        f"(2 cores).",
        "",
        f"Saved answers: {answers['answers_present']:,} of {answers['answers_recorded']:,} "
        f"present ({answers['saves']:,} saves; {answers['missing']} missing, "
        f"{answers['different']} different).",
    ]
    if aggregates["current"]:
        lines.append(
            f"Aggregates current {aggregates['seconds_after_load_stopped']} s after the load "
            f"stopped ({aggregates['seconds_after_last_edit']} s after the last of "
            f"{aggregates['edits']} edits; goal {GOAL_CURRENT_SECONDS} s)."
        )
    else:
        lines.append(
            f"Aggregates NOT current {aggregates['polled_seconds']:.0f} s after the load "
            f"stopped (computed version {aggregates['computed_version']}, inventory version "
            f"{aggregates['inventory_version']}; {aggregates['edits']} edits)."
        )
    return "\n".join(lines)


# ---- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace, out: TextIO, workdir: Path) -> None:
    with database(args.database_url, workdir, args.keep_database) as (app, url):
        plan = seed(app, args, out, workdir)
        sizes = plan["sizes"]
        plan_file = workdir / "plan.json"
        plan_file.write_text(json.dumps(plan))
        env = app_environment(url, args)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = worker = None
        try:
            # As docs/deploy/systemd/vendor-risk-web@.service starts it.
            web = start(
                [
                    executable("gunicorn"),
                    *("--bind", f"127.0.0.1:{port}"),
                    *("--workers", str(args.workers), "--threads", str(args.threads)),
                    *("--timeout", "60", "--graceful-timeout", "30", "--keep-alive", "75"),
                    *("--max-requests", "2000", "--max-requests-jitter", "200"),
                    *control_socket(workdir),
                    *("--worker-tmp-dir", "/dev/shm"),  # noqa: S108 - as the unit: heartbeats in memory
                    "app:app",
                ],
                env,
                workdir / "gunicorn.log",
            )
            wait_until_serving(base, web)
            with_worker = has_worker(env)
            if with_worker:
                worker = start(
                    [executable("flask"), "--app", "app", "worker"], env, workdir / "worker.log"
                )
            else:
                progress("no `flask --app app worker` in this version: running without it")
            progress(f"load: {args.users} users, {args.spawn_rate}/s, for {args.duration}")
            locust_env = dict(os.environ) | {"VR_LOAD_PLAN": str(plan_file)}
            versions = Versions(url)
            versions.start()
            load_before = os.getloadavg()[0]
            cpu_before = cpu_seconds(web.pid), cpu_seconds(worker.pid if worker else None)
            started = time.time()
            subprocess.run(  # noqa: S603 - our own command
                [
                    executable("locust"),
                    *("-f", str(LOCUSTFILE), "--headless", "--only-summary"),
                    *("-u", str(args.users), "-r", str(args.spawn_rate)),
                    *("-t", args.duration, "--stop-timeout", "10"),
                    *("--host", base, "--csv", str(workdir / "locust")),
                    *("--loglevel", "WARNING"),
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=(workdir / "locust.log").open("ab"),
                stderr=subprocess.STDOUT,
                check=False,  # locust exits with 1 when a request failed: counted below
            )
            stopped = time.time()
            cpu_used = [
                round(after - before, 1)
                for before, after in zip(
                    cpu_before,
                    (cpu_seconds(web.pid), cpu_seconds(worker.pid if worker else None)),
                    strict=True,
                )
            ]
            load_after = os.getloadavg()[0]
            progress(f"load stopped after {stopped - started:.0f} s; polling the aggregates")
            aggregates = aggregates_current(versions, plan, stopped, args.settle)
        finally:
            stop(worker)
            stop(web)
        figures = page_figures(workdir / "locust_stats.csv")
        failures = failure_figures(workdir / "locust_failures.csv")
        answers = count_answers(app, plan)
        run_info = {
            "vendors": args.vendors,
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "duration": args.duration,
            "workers": args.workers,
            "threads": args.threads,
            "worker": with_worker,
            "seconds": round(stopped - started, 1),
            # The machine's 1-minute load average as the load began and ended: on 2 cores,
            # above 2 means the app waited for the CPU behind other work too.
            "load_average": [round(load_before, 1), round(load_after, 1)],
        }
        total = next((row for row in figures if row["page"] == "all pages"), None)
        # CPU the web processes spent per request: the budget is about 30 ms a page, and
        # unlike the times above it hardly grows when other work shares the cores.
        cpu = {
            "web_cpu_seconds": cpu_used[0],
            "worker_cpu_seconds": cpu_used[1],
            "web_cpu_ms_per_request": (
                round(1000 * cpu_used[0] / total["requests"], 1)
                if total and total["requests"]
                else None
            ),
        }
        for row in figures:
            emit(out, "page", sizes, run=run_info, **row)
        for row in failures:
            emit(out, "failure", sizes, **row)
        emit(out, "answers", sizes, **answers)
        emit(out, "aggregates", sizes, **aggregates)
        emit(
            out,
            "summary",
            sizes,
            run=run_info,
            requests_per_s=total["requests_per_s"] if total else None,
            errors=total["failures"] if total else None,
            **cpu,
            pages_over_p95_goal=[
                row["page"]
                for row in figures
                if row["page"] != "all pages"
                and (row["p95_ms"] is None or row["p95_ms"] >= GOAL_P95_MS)
            ],
            answers_all_present=answers["missing"] == 0 and answers["different"] == 0,
            aggregates_current_within_goal=bool(
                aggregates["current"]
                and (aggregates["seconds_after_last_edit"] or 0) <= GOAL_CURRENT_SECONDS
            ),
            output=str(workdir),
        )
        progress("")
        progress(markdown(figures, answers, aggregates, run_info | cpu))
        progress(f"\nlocust's CSV files, the plan and the servers' logs: {workdir}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server URL (any database on it): the test creates a database of its "
        "own there, and drops it at the end",
    )
    parser.add_argument("--vendors", type=int, default=50_000)
    parser.add_argument("--credentials", type=int, help="default: 5 per vendor")
    parser.add_argument("--systems", type=int, default=2_000)
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--stored", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=200, help="simulated people")
    parser.add_argument("--spawn-rate", type=float, default=5, help="people starting per second")
    parser.add_argument(
        "--duration", default="3m", help="how long the load lasts (locust's -t: 60s, 3m...)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (>= 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--settle",
        type=float,
        default=60,
        help="seconds to wait after the load for the aggregates to be current",
    )
    parser.add_argument(
        "--ratelimit-storage",
        default="memory://",
        help="VR_RATELIMIT_STORAGE_URI of the app (e.g. redis://127.0.0.1:6379/0)",
    )
    parser.add_argument(
        "--output", type=Path, help="folder for locust's CSV files and the logs (default: new)"
    )
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)
    if sa.make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a PostgreSQL server URL")
    workdir = args.output or Path(tempfile.mkdtemp(prefix="vr-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        run(args, out, workdir)


if __name__ == "__main__":
    main()
