"""Benchmark: the time to draw each kind of chart, uncached and cached, and the blast-radius
diagram at its largest (60 nodes). The budget is 40 ms for an uncached chart: a dashboard draws
up to eight per request. CPU time of this process (time.process_time), the median of
``--repeat`` runs after a first one that warms matplotlib's font caches. The diagram is drawn
by Graphviz's dot, a child process: its CPU time counts too (``getrusage`` of the children),
and the wall time is reported beside it; without dot the diagram is a note (``"drawn": false``).
Prints one JSON object per line. See docs/charts.md and bench/README.md.

    .venv/bin/python bench/charts.py
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from vendor_risk.core.blast_radius.engine import (
    Credential,
    DataCategory,
    Holding,
    Inventory,
    System,
    Vendor,
    compute,
)
from vendor_risk.reports import charts
from vendor_risk.reports import diagram as diagrams
from vendor_risk.reports.charts import Bar, Series


def _bars() -> charts.Chart:
    tones = ("critical", "high", "medium", "low", "neutral")
    bars = [Bar(t.capitalize(), 10 * n + 3, f"/inventory/vendors?tier={t}", t) for n, t in
            enumerate(tones)]  # fmt: skip
    return charts.bar_chart("Vendors by tier", "Fifty vendors.", bars, value_label="Vendors")


def _stacked() -> charts.Chart:
    statuses = ["Prospect", "Onboarding", "Active", "Offboarding", "Terminated"]
    series = [
        Series(tier, tuple((n + i) % 7 for i in range(5)), tone=tier,
               hrefs=tuple(f"/inventory/vendors?status={s}&residual={tier}" for s in statuses))
        for n, tier in enumerate(("critical", "high", "medium", "low"))
    ]  # fmt: skip
    return charts.stacked_bar_chart("By status", "d", statuses, series, value_label="Vendors")


def _heat() -> charts.Chart:
    tiers = ["Critical", "High", "Medium", "Low"]
    cells = [[(x * 3 + y * 5) % 11 for x in range(4)] for y in range(4)]
    hrefs = [[f"/inventory/vendors?tier={y}&residual={x}" for x in tiers] for y in tiers]
    return charts.heat_map("Tiers", "d", x_labels=tiers, y_labels=tiers, cells=cells,
                           x_title="Residual", y_title="Inherent", hrefs=hrefs)  # fmt: skip


def _line() -> charts.Chart:
    start = date(2026, 1, 1)
    points = [(start + timedelta(days=7 * n), 40 + (n * 7) % 13) for n in range(26)]
    return charts.line_chart("Average score", "Half a year.", points, y_label="Score")


def _largest_diagram() -> tuple[int, Callable[[], charts.Chart]]:
    """A vendor whose breach reaches 20 systems through 20 credentials and 19 data categories:
    exactly the 60 nodes drawn at most."""
    categories = [DataCategory(n, f"category {n}", 1 + n % 4) for n in range(1, 20)]
    systems = [
        System(n, f"system {n}", holdings=(Holding(1 + n % 19, 1000 * n),)) for n in range(1, 21)
    ]
    credentials = [
        Credential(id=n, name=f"credential {n}", kind="service_account", holder_vendor_id=1,
                   system_id=n, privilege=("read", "write", "admin")[n % 3],
                   interactive=n % 5 == 0, mfa_enforced=n % 5 == 0,
                   stored_in=(n - 1,) if n > 10 else ())
        for n in range(1, 21)
    ]  # fmt: skip
    inventory = Inventory.build(
        vendors=[Vendor(1, "Vendor")], systems=systems, credentials=credentials,
        categories=categories,
    )  # fmt: skip
    blast = compute(inventory, [1], as_of=datetime(2026, 1, 1, tzinfo=UTC))
    reach = blast.if_controls_fail
    nodes = 1 + len(reach.credentials_obtained) + len(reach.systems) + len(reach.data)
    return nodes, lambda: diagrams.blast_radius_diagram(blast)


def _median_ms(draw: Callable[[], object], repeat: int, *, uncached: bool) -> float:
    draw()
    times = []
    for _ in range(repeat):
        if uncached:
            charts.cache_clear()
            diagrams.cache_clear()
        started = time.process_time()
        draw()
        times.append(time.process_time() - started)
    return round(statistics.median(times) * 1000, 3)


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (dot), to the
    microsecond (os.times counts in clock ticks of 10 ms)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _diagram_ms(draw: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median CPU and wall milliseconds of an uncached diagram (child processes included)."""
    draw()
    cpu, wall = [], []
    for _ in range(repeat):
        diagrams.cache_clear()
        started, started_wall = _cpu(), time.perf_counter()
        draw()
        cpu.append(_cpu() - started)
        wall.append(time.perf_counter() - started_wall)
    return round(statistics.median(cpu) * 1000, 3), round(statistics.median(wall) * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    kinds = {"bar": _bars, "stacked_bar": _stacked, "heat_map": _heat, "line": _line}
    for name, draw in kinds.items():
        print(json.dumps({
            "chart": name,
            "uncached_ms": _median_ms(draw, args.repeat, uncached=True),
            "cached_ms": _median_ms(draw, args.repeat, uncached=False),
        }))  # fmt: skip
    nodes, diagram = _largest_diagram()
    cpu_ms, wall_ms = _diagram_ms(diagram, args.repeat)
    print(json.dumps({
        "chart": "blast_radius_diagram", "nodes": nodes, "drawn": shutil.which("dot") is not None,
        "uncached_ms": cpu_ms, "uncached_wall_ms": wall_ms,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
