"""The load test's harness (bench/load_test.py, bench/load/): cheap checks that it still fits
the app. The load itself is run by hand (bench/README.md, "Load test"), never by the suite."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import app_url_map

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "bench" / "load"


def load_pages():
    spec = importlib.util.spec_from_file_location("load_pages", LOAD / "load_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shape(rule: str) -> str:
    return re.sub(r"<[^>]+>", "<>", rule)


def test_every_page_the_simulated_people_use_is_a_route_of_the_app():
    pages = load_pages()
    routes = {
        (method, _shape(rule.rule))
        for rule in app_url_map().iter_rules()
        for method in rule.methods
    }
    missing = [
        f"{name}: {method} {rule}"
        for name, (method, rule) in pages.PAGES.items()
        if (method, _shape(rule)) not in routes
    ]
    assert missing == []
    # The URLs are built from the rules: a variable left out is an error, not a wrong URL.
    assert pages.path("portal: autosave answer", request_id=7, question_id="q-1") == (
        "/portal/requests/7/answers/q-1"
    )
    with pytest.raises(KeyError):
        pages.path("inventory: vendor page")


@pytest.mark.skipif(
    importlib.util.find_spec("locust") is None,
    reason="locust is not installed (the optional extra `load`: pip install -e '.[load]')",
)
def test_the_locustfile_loads_and_names_the_four_kinds_of_people():
    # In a process of its own: locust patches the standard library (gevent) when imported.
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOAD / "locustfile.py"), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    for person in ("VendorContact", "RiskOfficer", "Procurement", "InventoryEditor"):
        assert person in listed.stdout
    source = (LOAD / "locustfile.py").read_text()
    used = set(
        re.findall(
            r'"((?:auth|portal|risk|inventory|review|findings|procurement|requests): [^"{]+)"',
            source,
        )
    )
    used |= {
        f"inventory: {kind} {step}"
        for kind in ("credential", "system")
        for step in ("edit form", "save")
    }
    assert used <= set(load_pages().PAGES), used - set(load_pages().PAGES)
