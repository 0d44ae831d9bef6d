"""Benchmark: the PDF assessment of a vendor with a 300-question questionnaire, against
WeasyPrint alone rendering the same final HTML in the same run.

Generates, in a fresh database (SQLite by default): the 300-question questionnaire of
bench/questionnaire.py stored as a version; a vendor holding 20 credentials into 10 systems
with data; a request sent to its contact, every question asked answered (a comment on one in
three), 30 evidence files recorded, submitted (scored, automatic findings opened); 10 manual
findings with two notes each, one risk accepted; the portfolio's aggregates (the vendor's
rating). Then times, in turns in the same loop, so that a busy moment of the machine weighs on
both:

- ``assessment_pdf``: the whole report, ``reports.data.vendor_assessment`` (the database read in
  one snapshot), the HTML (the content hash, the charts and the diagram drawn anew: their
  caches are emptied before each run) and WeasyPrint;
- ``weasyprint_alone``: ``reports.render.html_to_pdf`` on the final HTML of the run above (the
  same URL fetcher, the same base URL).

Prints one JSON object per measurement on stdout and nothing else; progress goes to stderr.
See bench/README.md.

    .venv/bin/python bench/pdf.py
    .venv/bin/python bench/pdf.py --database-url postgresql+psycopg://user@host/bench_pdf
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from alembic import command
from flask import Flask

# bench/questionnaire.py: the generated 300-question questionnaire and an answer per type
# (this script's folder is on sys.path when it is run as a script).
from questionnaire import PER_SECTION, SECTIONS, document, sample_answer

from vendor_risk import create_app
from vendor_risk.core.questionnaire import loader
from vendor_risk.db import alembic_config, db, snapshot, utcnow
from vendor_risk.models import (
    Credential,
    CredentialKind,
    DataCategory,
    Evidence,
    FindingSeverity,
    Privilege,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    Role,
    Sensitivity,
    System,
    SystemData,
    User,
    Vendor,
    VendorData,
)
from vendor_risk.reports import charts, data, render
from vendor_risk.reports import diagram as blast_radius_diagram
from vendor_risk.services import findings
from vendor_risk.services.accounts.users import new_session_token
from vendor_risk.services.audit import Actor
from vendor_risk.services.portfolio import aggregates as portfolio
from vendor_risk.services.questionnaires import answers

VENDOR = "Benchmark vendor"
CREDENTIALS = 20
SYSTEMS = 10
EVIDENCE_FILES = 30
MANUAL_FINDINGS = 10


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the database --------------------------------------------------------------------------


@contextlib.contextmanager
def bench_app(url: str | None, workdir: Path) -> Iterator[Flask]:
    """The app on a migrated database without vendors: a new SQLite file, or the given
    database, which keeps what the run wrote (the audit trail cannot be deleted): give a
    database made for the run, and drop it after."""
    if url is None:
        url = f"sqlite:///{workdir / 'pdf.sqlite'}"
    app = create_app(
        {"SECRET_KEY": "bench" * 8, "DATABASE_URL": url, "RATELIMIT_ENABLED": False},
        instance_path=str(workdir),
    )
    with app.app_context():
        cfg = alembic_config(url)
        cfg.attributes["configure_logging"] = False
        command.upgrade(cfg, "head")
        if db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)):
            raise SystemExit(f"{db.engine.url!r} already holds vendors: give an empty database")
        db.session.commit()
        try:
            yield app
        finally:
            db.session.rollback()
            db.engine.dispose()


def _inventory(session) -> int:
    """The vendor, its systems, data and credentials; returns the vendor's id."""
    vendor = Vendor(name=VENDOR, services="Everything, everywhere.", business_owner="Bench")
    categories = [
        DataCategory(name=f"Data {n}", sensitivity=list(Sensitivity)[n % 4]) for n in range(5)
    ]
    systems = [
        System(name=f"System {n}", owner=f"Team {n}", mfa_required=n % 3 == 0)
        for n in range(SYSTEMS)
    ]
    session.add_all([vendor, *categories, *systems])
    session.flush()
    session.add_all(
        SystemData(system_id=s.id, data_category_id=categories[i % 5].id, records=1000 * (i + 1))
        for i, s in enumerate(systems)
    )
    session.add(VendorData(vendor_id=vendor.id, data_category_id=categories[0].id, records=500))
    kinds, privileges = list(CredentialKind), list(Privilege)
    now = utcnow()
    session.add_all(
        Credential(
            name=f"bench-credential-{n}",
            kind=kinds[n % len(kinds)],
            holder_vendor_id=vendor.id,
            system_id=systems[n % SYSTEMS].id,
            privilege=privileges[n % 3],
            interactive=n % 4 == 0,
            mfa_enforced=n % 8 == 0,
            issued_at=now - timedelta(days=400),
            last_rotated_at=now - timedelta(days=30 * (n % 6)) if n % 5 else None,
            rotation_period_days=90,
            owner=f"Owner {n}",
        )
        for n in range(CREDENTIALS)
    )
    session.flush()
    return vendor.id


def populate(app: Flask) -> int:
    """Everything the report reads (see the module's docstring); returns the vendor's id."""
    result = loader.from_document(document(), name="bench")
    if result.questionnaire is None:
        raise SystemExit("\n".join(map(str, result.problems)))
    questionnaire = result.questionnaire
    with app.app_context():
        session = db.session
        vendor_id = _inventory(session)
        parent = Questionnaire(key="bench-pdf", title=questionnaire.title, audience="vendor")
        session.add(parent)
        session.flush()
        version = QuestionnaireVersion(
            questionnaire_id=parent.id,
            number=1,
            author_version=1,
            content_hash=questionnaire.content_hash(),
            title=questionnaire.title,
            question_count=len(questionnaire.questions),
            definition=questionnaire.to_document(),
            source="bench",
        )
        contact = User(
            email="contact@bench.example",
            name="Bench Contact",
            role=Role.vendor_contact,
            vendor_id=vendor_id,
            password_hash="not used",  # noqa: S106
            session_token=new_session_token(),
        )
        officer = User(
            email="officer@bench.example",
            name="Bench Officer",
            role=Role.risk_officer,
            password_hash="not used",  # noqa: S106
            session_token=new_session_token(),
        )
        session.add_all([version, contact, officer])
        session.flush()
        request = QuestionnaireRequest(
            vendor_id=vendor_id,
            version_id=version.id,
            status=RequestStatus.sent,
            due_on=date.today() + timedelta(days=14),
            question_count=version.question_count,
            sent_at=utcnow(),
        )
        session.add(request)
        session.flush()
        actor = Actor(label=contact.email, user_id=contact.id)
        for s_index, section in enumerate(questionnaire.sections):
            submitted = {
                q.id: (
                    sample_answer(q),
                    f"Comment on {q.id}: how it is done, in a sentence or two." if n % 3 else None,
                    0,
                )
                for n, q in enumerate(section.questions)
                if q.type.takes_answer
            }
            answers.save_section(session, request, section.id, submitted, actor=actor)
            progress(f"  section {s_index + 1} of {len(questionnaire.sections)} answered")
        asked = [q for q in questionnaire.questions if q.type.takes_answer]
        for n in range(EVIDENCE_FILES):
            question = asked[(n * 7) % len(asked)]
            content = f"evidence {n}".encode()
            session.add(
                Evidence(
                    request_id=request.id,
                    question_id=question.id,
                    filename=f"policy-{n:02d}-{question.id}.pdf",
                    stored_name=hashlib.sha256(b"stored" + content).hexdigest(),
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=1000 + n,
                    content_type="application/pdf",
                    uploaded_by_id=contact.id,
                )
            )
        session.flush()
        answers.submit(session, request, actor=actor)
        portfolio.refresh(session)
        by_officer = Actor(label=officer.email, user_id=officer.id)
        for n in range(MANUAL_FINDINGS):
            finding = findings.create_finding(
                session,
                vendor_id,
                {
                    "title": f"Manual finding {n}: a weakness found in the review",
                    "description": "What was found, and why it matters. " * 3,
                    "remediation": "What the vendor must do, and how to show it is done. " * 2,
                    "severity": list(FindingSeverity)[n % 4],
                    "owner": "Vendor security team",
                    "visible_to_vendor": True,
                },
                actor=by_officer,
            )
            for k in range(2):
                findings.add_note(session, finding, f"Note {k} on finding {n}.", actor=actor)
        session.commit()
        return vendor_id


# ---- measuring -----------------------------------------------------------------------------


class Report:
    def __init__(self, out: TextIO, database: str, repeat: int) -> None:
        self.out, self.database, self.repeat = out, database, repeat

    def emit(self, name: str, seconds: float, **fields: Any) -> None:
        line = {
            "name": name,
            "database": self.database,
            "questions": SECTIONS * PER_SECTION,
            "repeat": self.repeat,
            "seconds": float(f"{seconds:.4g}"),
            **fields,
        }
        print(json.dumps(line), file=self.out, flush=True)


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def run(args: argparse.Namespace, out: TextIO, workdir: Path) -> None:
    with bench_app(args.database_url, workdir) as app:
        database = "postgresql" if args.database_url else "sqlite"
        report = Report(out, database, args.repeat)
        progress(f"populating ({database})...")
        vendor_id = populate(app)

        def build() -> data.AssessmentReport:
            with snapshot(db.session):
                return data.vendor_assessment(db.session, vendor_id, exported_by="bench")

        def whole() -> tuple[render.Rendered, dict[str, float]]:
            """The whole report, with the time of each step."""
            charts.cache_clear()
            blast_radius_diagram.cache_clear()
            start = time.perf_counter()
            assessment = build()
            built = time.perf_counter()
            digest = data.content_digest(assessment)
            generated_at = utcnow()
            html = render.report_html(assessment, digest=digest, generated_at=generated_at)
            written = time.perf_counter()
            pdf, pages = render.html_to_pdf(html)
            done = time.perf_counter()
            steps = {"data": built - start, "html": written - built, "weasyprint": done - written}
            return render.Rendered(pdf, pages, digest, generated_at, html), steps

        with app.app_context():
            progress("warming up (templates compiled, fonts loaded)...")
            whole()
            full, alone, parts = [], [], {"data": [], "html": [], "weasyprint": []}
            rendered = None
            for n in range(args.repeat):
                (rendered, steps), seconds = _timed(whole)
                full.append(seconds)
                for name, value in steps.items():
                    parts[name].append(value)
                _, seconds = _timed(lambda html=rendered.html: render.html_to_pdf(html))
                alone.append(seconds)
                progress(f"  run {n + 1}: {full[-1]:.2f} s, WeasyPrint alone {alone[-1]:.2f} s")
        median_full, median_alone = statistics.median(full), statistics.median(alone)
        counts = {
            "pages": rendered.pages,
            "html_bytes": len(rendered.html.encode()),
            "pdf_bytes": len(rendered.pdf),
        }
        # Each run against its own WeasyPrint step: what the report adds to the layout, less
        # disturbed by the machine's load than two medians of runs seconds apart.
        within = [f / w for f, w in zip(full, parts["weasyprint"], strict=True)]
        report.emit(
            "assessment_pdf",
            median_full,
            **counts,
            steps={name: float(f"{statistics.median(v):.4g}") for name, v in parts.items()},
            reference_seconds=float(f"{median_alone:.4g}"),
            ratio=round(median_full / median_alone, 2),
            ratio_to_own_weasyprint_step=round(statistics.median(within), 3),
        )
        report.emit("weasyprint_alone", median_alone, **counts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="an empty database made for the run (it keeps the run's rows: drop it after); "
        "default: a new SQLite file",
    )
    parser.add_argument("--repeat", type=int, default=7, help="the median of this many runs")
    args = parser.parse_args(argv)
    out = sys.stdout
    # Only measurements on stdout: anything else that prints (libraries, the app) goes to stderr.
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        run(args, out, Path(tmp))


if __name__ == "__main__":
    main()
