"""The house's layers (docs/architecture.md): import-linter's contracts in pyproject.toml hold,
a forbidden import or a circle fails them, and starting the app loads no heavy library."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Loaded where they are used (a chart, the diagram, a workbook, a migration, a QR code, a secret
# check), never by `import app`: every `flask` command and every worker would pay for them.
HEAVY = (
    "matplotlib",
    "numpy",
    "networkx",
    "graphviz",
    "openpyxl",
    "alembic",
    "weasyprint",
    "segno",
    "detect_secrets",
    "huey",
    "redis",
)

LINT = (
    "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
)


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    # The package is found from the working folder first, so a copy can be checked too.
    return subprocess.run(
        [sys.executable, "-c", LINT], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_layering_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "vendor_risk",
        tmp_path / "vendor_risk",
        ignore=shutil.ignore_patterns("static", "templates", "__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_an_import_upwards_breaks_the_layers(tmp_path):
    tree = _copy(tmp_path)
    _append(tree / "vendor_risk/services/incidents.py", "from ..web import shell  # noqa")
    result = _lint(tree)
    assert result.returncode == 1
    assert "vendor_risk.services is not allowed to import vendor_risk.web" in result.stdout
    assert "vendor_risk.services.incidents -> vendor_risk.web.shell" in result.stdout


def test_the_domain_importing_the_database_breaks_a_contract(tmp_path):
    tree = _copy(tmp_path)
    _append(tree / "vendor_risk/core/names.py", "import sqlalchemy  # noqa")
    result = _lint(tree)
    assert result.returncode == 1
    assert "vendor_risk.core is not allowed to import sqlalchemy" in result.stdout


def test_a_circle_between_two_services_breaks_a_contract(tmp_path):
    tree = _copy(tmp_path)
    # incidents already reads the reach (services.blast_radius); the reach reading incidents
    # closes a circle.
    _append(tree / "vendor_risk/services/blast_radius.py", "from . import incidents  # noqa")
    result = _lint(tree)
    assert result.returncode == 1
    assert "No cycles are allowed in vendor_risk.services" in result.stdout
    assert ".blast_radius -> .incidents" in result.stdout or ".incidents -> .blast_radius" in (
        result.stdout
    )


def test_starting_the_app_loads_no_heavy_library():
    probe = (
        "import json, sys; import app; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
