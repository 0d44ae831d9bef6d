"""A blast-radius result in words: the labels pages and the command share, and the text the
command prints."""

from __future__ import annotations

from .blast_radius import BlastRadius
from .models import Sensitivity

SENSITIVITY_WORDS = {s.level: s.value for s in Sensitivity}
BARRIER_WORDS = {
    "revoked": "revoked",
    "expired": "expired",
    "rotated": "rotated after the breach began",
    "phishing_resistant_mfa": "phishing-resistant MFA",
    "mfa": "MFA",
    "ip_restricted": "IP restriction",
}


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _records(count: int | None, complete: bool = True) -> str:
    if count is None:
        return "records unknown"
    return f"{'at least ' if not complete else ''}{count:,} records"


def render_text(result: BlastRadius) -> str:
    """The result for a terminal: figures first, then every list with its explanation."""
    names = ", ".join(v.name for v in result.breached_vendors)
    f = result.figures
    lines = [f"Breach of {names}, as of {result.as_of:%Y-%m-%d}"]
    if result.since:
        lines[0] += f" (credentials not rotated since {result.since:%Y-%m-%d} count as stolen)"
    lines += [
        f"Reached despite controls: {_count(f.systems_despite_controls, 'system')}, "
        f"{_count(f.categories_despite_controls, 'data category').replace('ys', 'ies')} "
        f"({_records(f.records_despite_controls)})",
        f"Reached if controls fail: {_count(f.systems_if_controls_fail, 'system')}, "
        f"{_count(f.categories_if_controls_fail, 'data category').replace('ys', 'ies')} "
        f"({_records(f.records_if_controls_fail)})",
        "",
        "Systems reached despite controls:",
    ]
    for reached in result.despite_controls.systems:
        lines.append(f"  {reached.system.name} [{reached.privilege}]: {reached.path.text}")
    lines += ["", "Data reached despite controls:"]
    for data in result.despite_controls.data:
        sensitivity = SENSITIVITY_WORDS[data.category.sensitivity]
        lines.append(
            f"  {data.category.name} ({sensitivity}, "
            f"{_records(data.records, data.records_complete)}): {data.path.text}"
        )
    lines += ["", "Barriers that held:"]
    for held in result.barriers_held:
        lines.append(
            f"  {held.credential.label} -> {held.system.name}: {BARRIER_WORDS[held.barrier]}"
        )
    lines += ["", f"Credentials to rotate ({len(result.credentials_to_rotate)}):"]
    for item in result.credentials_to_rotate:
        owner = item.credential.owner or "no owner recorded"
        lines.append(
            f"  {item.credential.label}, opens {item.system.name}, owner {owner}: {item.reason}"
        )
    if result.fourth_party_exposure:
        lines += ["", "Exposed through subprocessors:"]
        for exposure in result.fourth_party_exposure:
            categories = ", ".join(c.name for c in exposure.categories) or "no data recorded"
            lines.append(
                f"  {exposure.vendor.name} passes {categories} to {exposure.subprocessor.name}"
            )
    return "\n".join(lines)
