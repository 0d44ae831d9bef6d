"""Benchmark: what every `flask` command and every worker pays before doing anything, the
import of the app. Times ``flask --app app --help`` as a whole new process (wall time and peak
memory, the median of ``--repeat`` runs after one warm-up run), against two references measured
in the same run:

- ``framework``: a process that imports only Flask, SQLAlchemy, SQLModel, WTForms and the
  Flask extensions the app uses: the floor no layout can go under;
- ``with heavy libraries``: ``import app`` plus matplotlib, networkx, openpyxl and Alembic, which
  the app imported at start-up before issue 13 (their figure is what the layout saves).

Prints one JSON object per line. See bench/README.md.

    .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))

COMMANDS = {
    "framework": [
        sys.executable,
        "-c",
        "import flask, sqlalchemy, sqlmodel, wtforms, flask_wtf, flask_login, flask_limiter, "
        "pydantic_settings",
    ],
    "flask --app app --help": [FLASK, "--app", "app", "--help"],
    "with heavy libraries": [
        sys.executable,
        "-c",
        "import app, matplotlib.figure, matplotlib.pyplot, networkx, openpyxl, alembic.command",
    ],
}


def _run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one run of ``command`` (its own rusage)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603 (ours)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command} exited with {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (7)")
    args = parser.parse_args()
    figures = {}
    for name, command in COMMANDS.items():
        _run(command)  # warm the file cache and the bytecode
        runs = [_run(command) for _ in range(args.repeat)]
        figures[name] = (
            statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs),
        )
    app_seconds, app_mib = figures["flask --app app --help"]
    for name, (seconds, mib) in figures.items():
        print(
            json.dumps(
                {
                    "command": name,
                    "seconds": round(seconds, 3),
                    "peak_mib": round(mib, 1),
                    "app_over_this_time": round(app_seconds / seconds, 2),
                    "app_over_this_memory": round(app_mib / mib, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
