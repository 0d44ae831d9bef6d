"""What the code reads from disk ships with the package: an installed wheel (no source tree, no
docs/) must still check inventory and questionnaire files and offer the starter catalogue."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import vendor_risk
from vendor_risk.core import inventory_file
from vendor_risk.core.questionnaire import loader
from vendor_risk.services.inventory import starter

PACKAGE = Path(vendor_risk.__file__).resolve().parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"


@pytest.mark.parametrize(
    "path",
    [inventory_file.SCHEMA_PATH, loader.SCHEMA_PATH, starter.STARTER_PATH],
    ids=["inventory schema", "questionnaire schema", "starter catalogue"],
)
def test_every_data_file_the_code_reads_is_package_data(path):
    assert path.is_file()
    relative = path.relative_to(PACKAGE)  # raises when the file lies outside the package
    globs = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    assert any(PACKAGE.glob(pattern) for pattern in globs["vendor_risk"])
    assert any(path in set(PACKAGE.glob(pattern)) for pattern in globs["vendor_risk"]), relative
