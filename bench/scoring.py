"""Benchmark: rescoring every vendor of a synthetic portfolio, against a plain SQL aggregate.

Generates the portfolio of bench/blast_radius.py (10,000 vendors by default) into a fresh
database (SQLite by default), a scored questionnaire of 300 questions in 10 sections stored as
a version, one submitted request per vendor with an answer to every question (3 million
answers at 10,000 vendors) and its section totals (``request_score``), and the portfolio's
aggregates. Then times, in the same run:

- ``rescore_all``: services.scoring.rescore of every vendor and its commit, every rating
  changing (a snapshot and a rating written per vendor);
- the reference: one SQL aggregate, sum(weight x score) / sum(weight) of the answers grouped by
  request, joining the answers to a table of each option's weight and score;
- ``rescore_one`` (one vendor) and ``rescore_unchanged`` (every vendor, nothing changed).

Prints one JSON object per measurement on stdout and nothing else; progress goes to stderr.
See bench/README.md.

    .venv/bin/python bench/scoring.py
    .venv/bin/python bench/scoring.py --scaling
    .venv/bin/python bench/scoring.py --database-url postgresql+psycopg://user@host/bench
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

# bench/blast_radius.py: the synthetic portfolio, bulk inserts, the migrated database, the
# report's JSON lines (this script's folder is on sys.path when it is run as a script).
from blast_radius import AS_OF, Report, best_of, generate, insert, portfolio_database, progress

from vendor_risk.core.questionnaire import loader
from vendor_risk.core.questionnaire.model import Questionnaire as Definition
from vendor_risk.core.scoring import section_totals
from vendor_risk.db import db
from vendor_risk.models import (
    Answer,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestScore,
    RequestStatus,
    ScoreTrigger,
    SystemReach,
    Vendor,
    VendorRating,
    VendorReach,
    VendorScore,
)
from vendor_risk.services.assessments import scoring
from vendor_risk.services.portfolio import aggregates as portfolio_service

KEY = "bench-scoring"
KINDS = ("yes_no", "yes_no_na", "single_choice")
OPTIONS = [{"value": f"option-{n}", "label": f"Option {n}", "score": n / 4} for n in range(5)]
# Each vendor answers each section with one of this many generated answer sets: a section's
# totals depend on its own answers only (no show-if, no finding rule), so they are computed
# once per set and section, and the vendors' requests still differ (64^10 combinations).
PATTERNS = 64
SAMPLE = 20  # requests whose totals are checked against services.scoring.store_totals
VENDORS_PER_ROUND = 250  # answers are generated and inserted this many vendors at a time
SCALING_VENDORS = (1_000, 10_000)

# The reference's side table: the weight and score of every option of every scored question
# (the answers table holds the value chosen, as JSON, and nothing else to aggregate).
QUESTION_WEIGHT = sa.Table(
    "question_weight",
    sa.MetaData(),
    sa.Column("version_id", sa.Integer, primary_key=True),
    sa.Column("question_id", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(200), primary_key=True),  # the option as the answer stores it
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
)


# ---- the questionnaire and the answers ------------------------------------------------------


def document(sections: int, per_section: int) -> dict[str, Any]:
    """A questionnaire whose every question is scored (yes/no, yes/no/not applicable, a single
    choice of five options), weights 1 to 3, section weights 1 to 3, the first question of each
    section critical."""
    return {
        "format": 1,
        "id": KEY,
        "title": f"Benchmark: {sections * per_section} scored questions",
        "version": 1,
        "audience": "vendor",
        "sections": [
            {
                "id": f"s{s}",
                "title": f"Section {s + 1}",
                "weight": 1 + s % 3,
                "questions": [question(s, q) for q in range(per_section)],
            }
            for s in range(sections)
        ],
    }


def question(section: int, number: int) -> dict[str, Any]:
    """One scored question: the type cycles, the weight too, the first of a section critical."""
    kind = KINDS[number % len(KINDS)]
    spec: dict[str, Any] = {
        "id": f"s{section}-q{number}",
        "type": kind,
        "text": f"Question {number + 1} of section {section + 1}: is topic {number} covered?",
        "weight": 1 + number % 3,
    }
    if kind == "single_choice":
        spec["options"] = OPTIONS
    if number == 0:
        spec["critical"] = True
    return spec


def load(sections: int, per_section: int) -> Definition:
    result = loader.from_document(document(sections, per_section), name="bench")
    if result.questionnaire is None:
        raise SystemExit("\n".join(map(str, result.problems)))
    return result.questionnaire


def answer_sets(questionnaire: Definition, rng: random.Random) -> list[dict[str, tuple]]:
    """``PATTERNS`` answer sets to every question: value and comment. Critical questions
    mostly pass; two "not applicable" in three come with a justification."""
    sets = []
    for _ in range(PATTERNS):
        chosen: dict[str, tuple] = {}
        for q in questionnaire.questions:
            if q.critical:
                chosen[q.id] = ("yes" if rng.random() < 0.97 else "no", "")
            elif str(q.type) == "single_choice":
                chosen[q.id] = (rng.choice([o.value for o in q.options]), "")
            elif str(q.type) == "yes_no_na":
                value = rng.choice(["yes", "no", "na"])
                why = "Not in our service." if value == "na" and rng.random() < 2 / 3 else ""
                chosen[q.id] = (value, why)
            else:
                chosen[q.id] = (rng.choice(["yes", "no"]), "")
        sets.append(chosen)
    return sets


def totals_of_sets(questionnaire: Definition, sets: list[dict[str, tuple]]) -> list[list[dict]]:
    """Per answer set, each section's totals (JSON-ready), by the scoring package itself."""
    return [
        [
            t.to_dict()
            for t in section_totals(
                questionnaire,
                {qid: value for qid, (value, _) in chosen.items()},
                {qid: comment for qid, (_, comment) in chosen.items()},
            )
        ]
        for chosen in sets
    ]


# ---- writing them ----------------------------------------------------------------------------


def store_questionnaire(session, questionnaire: Definition) -> int:
    """The questionnaire as a stored version (as an import stores it, without its audit event,
    so that a server database can be left as it was given); returns the version's id."""
    parent = Questionnaire(key=KEY, title=questionnaire.title, audience="vendor")
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
    session.add(version)
    session.flush()
    QUESTION_WEIGHT.create(session.connection())
    session.execute(
        QUESTION_WEIGHT.insert(),
        [
            {
                "version_id": version.id,
                "question_id": q.id,
                "value": json.dumps(option.value),
                "weight": q.weight,
                "score": option.score,
            }
            for q in questionnaire.questions
            for option in q.options
            if option.score is not None
        ],
    )
    session.commit()
    return version.id


def submitted_requests(session, vendor_ids: list[int], version_id: int, questions: int):
    """One submitted request per vendor; returns their ids in the vendors' order."""
    rows = [
        {
            "vendor_id": vendor_id,
            "version_id": version_id,
            "status": RequestStatus.submitted,
            "question_count": questions,
            "answered_count": questions,
            "sent_at": AS_OF,
            "submitted_at": AS_OF,
        }
        for vendor_id in vendor_ids
    ]
    return insert(session, QuestionnaireRequest, rows, "vendor_id")


def answers_and_totals(
    session,
    request_ids: list[int],
    questionnaire: Definition,
    rng: random.Random,
) -> int:
    """Every request's answers (one set per section, drawn at random) and their section
    totals, a round of vendors at a time; returns how many answers were written."""
    sets = answer_sets(questionnaire, rng)
    totals = totals_of_sets(questionnaire, sets)
    sections = [[q.id for q in section.questions] for section in questionnaire.sections]
    written = 0
    for start in range(0, len(request_ids), VENDORS_PER_ROUND):
        answers, scores = [], []
        for request_id in request_ids[start : start + VENDORS_PER_ROUND]:
            picks = [rng.randrange(PATTERNS) for _ in sections]
            for pick, question_ids in zip(picks, sections, strict=True):
                for qid in question_ids:
                    value, comment = sets[pick][qid]
                    answers.append(
                        {"request_id": request_id, "question_id": qid, "value": value}
                        | {"comment": comment, "updated_at": AS_OF}
                    )
            scores.append(
                {
                    "request_id": request_id,
                    "totals": [totals[pick][s] for s, pick in enumerate(picks)],
                    "updated_at": AS_OF,
                }
            )
        insert(session, Answer, answers)
        insert(session, RequestScore, scores)
        session.commit()
        written += len(answers)
        progress(f"  answers of {min(start + VENDORS_PER_ROUND, len(request_ids))} requests")
    return written


def check_totals(session, request_ids: list[int], questionnaire: Definition, seed: int) -> float:
    """services.scoring.store_totals on a sample of requests (reading their answers back)
    must store what the bulk generation stored; returns its seconds per request."""
    sample = random.Random(seed).sample(request_ids, min(SAMPLE, len(request_ids)))  # noqa: S311
    bulk = {
        row.request_id: row.totals
        for row in session.execute(
            sa.select(RequestScore.request_id, RequestScore.totals).where(
                RequestScore.request_id.in_(sample)
            )
        )
    }
    start = time.perf_counter()
    for request_id in sample:
        request = session.get(QuestionnaireRequest, request_id)
        stored = scoring.store_totals(session, request, questionnaire)
        if [t.to_dict() for t in stored] != bulk[request_id]:
            raise SystemExit(f"request {request_id}: store_totals disagrees with the bulk totals")
    seconds = (time.perf_counter() - start) / len(sample)
    session.commit()
    return seconds


def populate(report: Report, session, sizes: dict[str, Any], seed: int) -> dict[str, Any]:
    """The portfolio, the questionnaire, the requests, answers and totals, the aggregates (whose
    first refresh also scores every vendor)."""
    progress(f"generating {sizes} into {report.sizes['database']}")
    start = time.perf_counter()
    rows = generate(session, sizes, seed)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    questionnaire = load(sizes["sections"], sizes["per_section"])
    version_id = store_questionnaire(session, questionnaire)
    vendor_ids = list(session.scalars(sa.select(Vendor.id).order_by(Vendor.id)))
    request_ids = submitted_requests(session, vendor_ids, version_id, len(questionnaire.questions))
    rows["answers"] = answers_and_totals(session, request_ids, questionnaire, rng)
    rows["requests"] = len(request_ids)
    report.emit("generate", time.perf_counter() - start, rows=rows)

    seconds = check_totals(session, request_ids, questionnaire, seed)
    report.emit("store_totals", seconds, checked=min(SAMPLE, len(request_ids)))

    progress("the portfolio's aggregates (and the first score of every vendor)")
    start = time.perf_counter()
    portfolio_service.refresh(session, AS_OF)
    session.commit()
    report.emit("portfolio_refresh", time.perf_counter() - start, vendors=len(vendor_ids))
    return {"vendor_ids": vendor_ids, "request_ids": request_ids, "version_id": version_id}


# ---- measuring --------------------------------------------------------------------------------


def reference_statement(version_id: int) -> sa.Select:
    """sum(weight x score) / sum(weight) per request, over the answers joined to the weight and
    score of the option each one chose (an answer without a score, "not applicable", joins
    nothing and counts nowhere)."""
    weights = QUESTION_WEIGHT.c
    return (
        sa.select(
            Answer.request_id,
            (sa.func.sum(weights.weight * weights.score) / sa.func.sum(weights.weight)).label(
                "control"
            ),
        )
        .join(
            QUESTION_WEIGHT,
            sa.and_(
                weights.version_id == version_id,
                weights.question_id == Answer.question_id,
                weights.value == sa.cast(Answer.value, sa.String),
            ),
        )
        .group_by(Answer.request_id)
    )


def timed(work: Callable[[], Any], prepare: Callable[[], None] | None = None) -> tuple[Any, float]:
    """One run of ``work`` after ``prepare`` (not timed) and a full garbage collection."""
    if prepare is not None:
        prepare()
    gc.collect()
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def rescored(session, vendor_ids: list[int] | None) -> scoring.Rescored:
    """A rescore as the command does it: computed, stored and committed."""
    session.expunge_all()  # nothing cached from the previous run: every row comes from SQL
    result = scoring.rescore(session, vendor_ids, trigger=ScoreTrigger.rescore, now=AS_OF)
    session.commit()
    return result


def forget_inputs(session, vendor_ids: list[int] | None = None) -> None:
    """Make the stored ratings' inputs differ from what a computation will give, so that every
    rating is written again with a snapshot (as after a change of the scoring method)."""
    statement = sa.update(VendorRating).values(inputs_digest="")
    if vendor_ids is not None:
        statement = statement.where(VendorRating.vendor_id.in_(vendor_ids))
    session.execute(statement)
    session.commit()


def measure(report: Report, session, made: dict[str, Any]) -> dict[str, float]:
    """Every figure; returns the seconds of rescore_all and of the reference. The two take
    turns, so that a busy moment of the machine weighs on both alike; each figure is the
    fastest of ``report.repeat`` runs."""
    vendors, requests = len(made["vendor_ids"]), len(made["request_ids"])
    reference = reference_statement(made["version_id"])
    best = {"rescore_all": float("inf"), "reference": float("inf")}
    for run in range(report.repeat):
        progress(f"reference and rescore_all, run {run + 1} of {report.repeat}")
        rows, seconds = timed(lambda: session.execute(reference).all())
        session.commit()
        if len(rows) != requests:
            raise SystemExit(f"the reference gave {len(rows)} rows for {requests} requests")
        best["reference"] = min(best["reference"], seconds)
        result, seconds = timed(lambda: rescored(session, None), lambda: forget_inputs(session))
        if result.recorded != vendors:
            raise SystemExit(f"rescore_all recorded {result.recorded} of {vendors} vendors")
        best["rescore_all"] = min(best["rescore_all"], seconds)
    report.emit(
        "reference",
        best["reference"],
        reads="answer JOIN question_weight GROUP BY answer.request_id",
        requests=requests,
    )
    report.emit(
        "rescore_all",
        best["rescore_all"],
        vendors=vendors,
        recorded=vendors,
        microseconds_per_vendor=round(best["rescore_all"] / vendors * 1e6, 1),
        reference_seconds=round(best["reference"], 4),
        ratio=round(best["rescore_all"] / best["reference"], 2),
    )

    one = [made["vendor_ids"][vendors // 2]]
    fastest = min(
        timed(lambda: rescored(session, one), lambda: forget_inputs(session, one))[1]
        for _ in range(report.repeat)
    )
    report.emit("rescore_one", fastest, milliseconds=round(fastest * 1000, 2))

    result, seconds = best_of(report.repeat, lambda: rescored(session, None))
    if result.recorded:
        raise SystemExit(f"nothing changed, yet {result.recorded} snapshots were recorded")
    report.emit("rescore_unchanged", seconds, vendors=result.vendors, recorded=0)
    return best


# ---- databases ------------------------------------------------------------------------------

# What the run adds besides the inventory, children first: removed from a server database
# before bench/blast_radius.py's own clean-up removes the inventory.
SCORING_TABLES = (
    VendorRating,
    VendorScore,
    RequestScore,
    Answer,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Questionnaire,
    VendorReach,
    SystemReach,
)


@contextlib.contextmanager
def scoring_database(url: str | None, workdir: Path, label: str) -> Iterator[Any]:
    """bench/blast_radius.py's database (a new SQLite file, or an empty server database
    emptied again at the end), with this benchmark's rows and table removed first."""
    with portfolio_database(url, workdir, label) as session:
        try:
            yield session
        finally:
            session.rollback()
            if db.engine.dialect.name != "sqlite":
                for model in SCORING_TABLES:
                    session.execute(sa.delete(model))
                QUESTION_WEIGHT.drop(session.connection(), checkfirst=True)
                session.commit()


# ---- running ----------------------------------------------------------------------------------


def sizes_of(args: argparse.Namespace, vendors: int) -> dict[str, Any]:
    return {
        "vendors": vendors,
        "credentials": args.credentials_per_vendor * vendors,
        "systems": args.systems,
        "links": args.links,
        "stored": args.stored,
        "sections": args.sections,
        "per_section": args.per_section,
    }


def run_size(args: argparse.Namespace, out: TextIO, workdir: Path, vendors: int):
    """Generate one portfolio and measure everything on it; the seconds of the two goals."""
    sizes = sizes_of(args, vendors)
    with scoring_database(args.database_url, workdir, str(vendors)) as session:
        report = Report(out, sizes | {"database": db.engine.dialect.name}, args.repeat)
        made = populate(report, session, sizes, args.seed)
        return sizes, measure(report, session, made)


def scaling_lines(timings: list[tuple[dict, dict[str, float]]]) -> Iterator[dict[str, Any]]:
    """For rescore_all and the reference: the time factor between sizes over the size factor
    (1 is linear)."""
    for (small, before), (large, after) in itertools.pairwise(timings):
        size_factor = large["vendors"] / small["vendors"]
        for name in ("rescore_all", "reference"):
            time_factor = after[name] / before[name]
            yield {
                "name": f"scaling_{name}",
                "sizes": {"from": small, "to": large},
                "seconds_from": round(before[name], 4),
                "seconds_to": round(after[name], 4),
                "size_factor": round(size_factor, 2),
                "time_factor": round(time_factor, 2),
                "time_factor_per_size_factor": round(time_factor / size_factor, 2),
            }


def run(args: argparse.Namespace, out: TextIO, workdir: Path) -> None:
    sizes = SCALING_VENDORS if args.scaling else (args.vendors,)
    timings = [run_size(args, out, workdir, vendors) for vendors in sizes]
    for line in scaling_lines(timings):
        print(json.dumps(line), file=out, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--credentials-per-vendor", type=int, default=5)
    parser.add_argument("--systems", type=int, default=2_000)
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument(
        "--stored",
        type=float,
        default=0.05,
        help="fraction of credentials with a copy stored in a system (lateral edges)",
    )
    parser.add_argument("--sections", type=int, default=10)
    parser.add_argument("--per-section", type=int, default=30, help="questions per section")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database (emptied again afterwards); default: a new SQLite file",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="every figure at 1,000 and at 10,000 vendors, and how they grow",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    # Only measurements on stdout: anything else that prints (libraries, the app) goes to stderr.
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        run(args, out, Path(tmp))


if __name__ == "__main__":
    main()
