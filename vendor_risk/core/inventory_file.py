"""The inventory file (docs/inventory-format.md): YAML or JSON with the same structure.

Reading keeps the line of every entry and field, so that a problem found later (by the schema
here, or by the import service against the stored inventory) can be shown as
``FILE:LINE: vendors[3].criticality: expected one of low, medium, high, critical``.

Pure: no Flask, no database.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from . import documents
from .documents import (
    FORMATS,
    JsonPath,
    Problem,
    dump,
    format_of,
    format_path,
    format_timestamp,
    parse_date,
    parse_timestamp,
    show,
)
from .documents import ParsedDocument as InventoryFile

# The names the inventory import, its CLI and its tests use from here; they live in documents.
__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "MAX_BYTES",
    "SCHEMA_PATH",
    "InventoryFile",
    "JsonPath",
    "Problem",
    "dump",
    "format_of",
    "format_path",
    "format_timestamp",
    "parse",
    "parse_bytes",
    "parse_date",
    "parse_timestamp",
    "read",
    "schema",
    "schema_problems",
    "show",
]

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "inventory.schema.json"
FORMAT_VERSION = 1
# Far above any real inventory; a bigger file is a mistake (or an attack on the parser).
MAX_BYTES = 50 * 1024 * 1024


def _checked(parsed: InventoryFile, check: bool) -> InventoryFile:
    if not check or parsed.document is None:
        return parsed
    problems = parsed.locate(schema_problems(parsed.document))
    return InventoryFile(parsed.name, parsed.document, tuple(problems), parsed.lines)


def parse(
    text: str, *, name: str = "<inventory>", fmt: str | None = None, check: bool = True
) -> InventoryFile:
    """Parse inventory text and (unless ``check`` is false, for a caller that passes the
    document to the import, which checks it anyway) check it against the schema."""
    return _checked(documents.parse_document(text, name=name, fmt=fmt), check)


def parse_bytes(raw: bytes, *, name: str, check: bool = True) -> InventoryFile:
    """An uploaded inventory file (see :func:`parse`), refused above :data:`MAX_BYTES` or when
    it is not UTF-8; the format comes from the name's extension or the content."""
    return _checked(documents.parse_bytes(raw, name=name, max_bytes=MAX_BYTES), check)


def read(path: str | os.PathLike, *, fmt: str | None = None, check: bool = True) -> InventoryFile:
    """Read and parse an inventory file (see :func:`parse`); the format comes from the
    extension or the content."""
    return _checked(documents.read_document(path, max_bytes=MAX_BYTES, fmt=fmt), check)


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Draft202012Validator:
    return documents.compile_schema(schema())


def schema_problems(document: Any) -> list[Problem]:
    """Every way the document departs from schemas/inventory.schema.json, in plain words."""
    return documents.schema_problems(_validator(), document)
