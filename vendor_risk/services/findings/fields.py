"""What a finding's fields may hold: the fields a risk officer writes, their lengths, and the
checks of free text (secret-looking text refused)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ...core.secret_detection import secret_problem
from ...db import today_utc
from ...models import Finding, FindingSeverity, FindingSource
from .. import ValidationFailed

TITLE_MAX = 300
TEXT_MAX = 10_000
OWNER_MAX = 200
TITLE_ELLIPSIS = "…"
FINDING_FIELDS = (
    "title",
    "description",
    "remediation",
    "severity",
    "owner",
    "due_on",
    "visible_to_vendor",
)
# The free-text fields, with their longest length; checked for secret-looking text too.
TEXT_LIMITS = {
    "title": TITLE_MAX,
    "description": TEXT_MAX,
    "remediation": TEXT_MAX,
    "owner": OWNER_MAX,
}


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def finding_problems(
    values: Mapping[str, Any], *, finding: Finding | None = None, today: date | None = None
) -> dict[str, list[str]]:
    """What is wrong with a finding's fields, by field: required title and severity, lengths,
    secret-looking text, a due date in the past (when set or changed), and an automatic
    finding made internal (vendors always see those). ``finding``: the one being edited."""
    today = today or today_utc()
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    title = values.get("title")
    if not isinstance(title, str) or not title.strip():
        add("title", "Enter a title: the weakness in a few words.")
    for name, limit in TEXT_LIMITS.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            add(name, f"Keep it within {limit:,} characters ({len(value):,}).")
        elif isinstance(value, str) and (found := secret_problem(value)):
            add(name, found)
    if not isinstance(values.get("severity"), FindingSeverity):
        add("severity", "Choose a severity.")
    due_on = values.get("due_on")
    if finding is not None and due_on is None:
        add("due_on", "Enter a due date.")
    changed = finding is None or due_on != finding.due_on
    if isinstance(due_on, date) and changed and due_on < today:
        add("due_on", "The due date is in the past: choose today or a later day.")
    automatic = finding is not None and finding.source is not FindingSource.manual
    if automatic and values.get("visible_to_vendor") is False:
        add(
            "visible_to_vendor",
            "Findings opened by the vendor's answers are always shown to the vendor.",
        )
    return problems


def _checked(
    values: Mapping[str, Any], *, finding: Finding | None, today: date | None
) -> dict[str, Any]:
    unknown = set(values) - set(FINDING_FIELDS)
    if unknown:
        raise ValueError(f"not fields of a finding: {sorted(unknown)}")
    cleaned = {
        name: _clean(value) if name in TEXT_LIMITS and isinstance(value, str) else value
        for name, value in values.items()
    }
    problems = finding_problems(cleaned, finding=finding, today=today)
    if problems:
        raise ValidationFailed(problems)
    return cleaned


def _text_problem(text: str, *, required: str) -> str | None:
    if not text:
        return required
    if len(text) > TEXT_MAX:
        return f"Keep it within {TEXT_MAX:,} characters ({len(text):,})."
    return secret_problem(text)
