"""The content hash of a report: one spelling of what it says (canonical JSON), and its SHA-256.
Fields marked :data:`NOT_CONTENT` are left out (the engine's result kept only for the diagram)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

# Fields that are not content: left out of the digest (see the module's docstring).
NOT_CONTENT = {"content": False}


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses field by field (content fields only), dates
    in ISO 8601, enums by value."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in fields(value)
            if f.metadata.get("content", True)
        }
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def canonical_json(report: Any) -> str:
    """One spelling of a report's content: keys sorted, no spaces, UTF-8 as is."""
    document = {"report": report.kind, "content": _plain(report)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_digest(report: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_json`: what the footer and the audit trail carry."""
    return hashlib.sha256(canonical_json(report).encode("utf-8")).hexdigest()
