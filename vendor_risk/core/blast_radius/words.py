"""A blast-radius result in words: the labels pages and the command share, and the text the
command prints."""

from __future__ import annotations

from .engine import (
    CONNECTS,
    SUPPLIES,
    SYSTEM,
    TRUSTED_BY,
    BlastRadius,
    DataSource,
    Figures,
    LinkHeld,
    Sensitivity,
)

SENSITIVITY_WORDS = {s.level: s.value for s in Sensitivity}
BARRIER_WORDS = {
    "revoked": "revoked",
    "expired": "expired",
    "rotated": "rotated after the breach began",
    "phishing_resistant_mfa": "phishing-resistant MFA",
    "mfa": "MFA",
    "ip_restricted": "IP restriction",
}
# The controls that stop an edge needing no credential (LinkHeld.barrier).
LINK_BARRIER_WORDS = {
    "mfa": "its own MFA",
    "update_approval": "updates we approve",
    "authentication": "it wants its own sign-in",
}


def link_held_words(held: LinkHeld) -> str:
    """An edge a control stopped, in words: "Wiki trusts Identity provider for sign-in: its
    own MFA"."""
    source, system = held.source.label, held.system.name
    edge = {
        TRUSTED_BY: f"{system} trusts {source} for sign-in",
        SUPPLIES: f"{system} {SUPPLIES} {source}",
        CONNECTS: f"{source} {CONNECTS} {system}",
    }.get(held.edge, f"{source} {held.edge} {system}")
    return f"{edge}: {LINK_BARRIER_WORDS.get(held.barrier, held.barrier)}"


# Whether a credential still to rotate can be used right now (CredentialToRotate.stopped_by).
STOPPED_WORDS = {
    None: "usable now: no barrier stops it",
    "expired": "expired: unusable until its expiry is extended",
    "phishing_resistant_mfa": "phishing-resistant MFA stops its use now",
    "mfa": "MFA stops its use now",
    "ip_restricted": "its IP restriction stops its use now",
}


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _categories(n: int) -> str:
    return f"{n} data categor{'y' if n == 1 else 'ies'}"


def _records(count: int | None, complete: bool = True) -> str:
    if count is None:
        return "records unknown"
    return f"{'at least ' if not complete else ''}{count:,} records"


def through_subprocessors(figures: Figures) -> str:
    """The fourth parties' share of the headline ("" when no subprocessor is breached)."""
    if not figures.fourth_party_links:
        return ""
    return (
        f"including through subprocessors: {_categories(figures.fourth_party_categories)} "
        f"({_records(figures.fourth_party_records)})"
    )


def source_words(source: DataSource) -> str:
    """Where one source of a reached category keeps its records, and how it is reached."""
    where = (
        f"in {source.holder.label}"
        if source.holder.kind == SYSTEM
        else f"held by {source.holder.label} directly"
    )
    return f"{_records(source.records)}, {where}: {source.path_text}"


def render_text(result: BlastRadius) -> str:
    """The result for a terminal: figures first, then every list with its explanation. Paths
    are shortened past a dozen edges (every system on the way has its own line), so the text
    grows with the result, never with the square of a chain's length."""
    names = ", ".join(
        [v.name for v in result.breached_vendors] + [p.name for p in result.breached_fourth_parties]
    )
    f = result.figures
    lines = [f"Breach of {names}, as of {result.as_of:%Y-%m-%d}"]
    if result.since:
        lines[0] += f" (credentials not rotated since {result.since:%Y-%m-%d} count as stolen)"
    fourth = through_subprocessors(f)
    lines += [
        f"Reached despite controls: {_count(f.systems_despite_controls, 'system')}, "
        f"{_categories(f.exposed_categories_despite_controls)} "
        f"({_records(f.exposed_records_despite_controls)})" + (f", {fourth}" if fourth else ""),
        f"Reached if controls fail: {_count(f.systems_if_controls_fail, 'system')}, "
        f"{_categories(f.exposed_categories_if_controls_fail)} "
        f"({_records(f.exposed_records_if_controls_fail)})",
        "",
        "Systems reached despite controls:",
    ]
    for reached in result.despite_controls.systems:
        lines.append(f"  {reached.system.name} [{reached.privilege}]: {reached.path_text}")
    if not result.despite_controls.systems:
        lines.append("  none")
    lines += ["", "Data reached despite controls:"]
    if not result.despite_controls.data:
        lines.append("  none")
    for data in result.despite_controls.data:
        sensitivity = SENSITIVITY_WORDS[data.category.sensitivity]
        lines.append(
            f"  {data.category.name} ({sensitivity}, "
            f"{_records(data.records, data.records_complete)}):"
        )
        lines += [f"    {source_words(source)}" for source in data.sources]
    lines += ["", "Barriers that held:"]
    for held in result.barriers_held:
        lines.append(
            f"  {held.credential.label} -> {held.system.name}: {BARRIER_WORDS[held.barrier]}"
        )
    lines += [f"  {link_held_words(held)}" for held in result.links_held]
    if not result.barriers_held and not result.links_held:
        lines.append("  none")
    lines += [
        "",
        f"Credentials to rotate ({len(result.credentials_to_rotate)}), still valid in the "
        "attacker's hands:",
    ]
    for item in result.credentials_to_rotate:
        owner = item.credential.owner or "no owner recorded"
        lines.append(
            f"  {item.credential.label}, opens {item.system.name}, owner {owner}: "
            f"{item.reason}; {STOPPED_WORDS[item.stopped_by]}"
        )
    if result.fourth_party_exposure:
        lines += ["", "Exposed through subprocessors:"]
        for exposure in result.fourth_party_exposure:
            passed = ", ".join(
                f"{item.category.name} ({_records(item.records)})" for item in exposure.passed_on
            )
            lines.append(
                f"  {exposure.vendor.name} passes {passed or 'no data recorded'} "
                f"to {exposure.subprocessor.name}"
            )
    return "\n".join(lines)


# A page lists this many rows of each list of a result; a breach can reach thousands of
# systems and credentials (the whole result is a CSV download, the counts are all shown).
LIST_SHOWN = 100
# And this many of the places each data category is reached in.
SOURCES_SHOWN = 10


def template_words() -> dict[str, object]:
    """What a page showing a result (``inventory/_blast_radius_result.html``) labels it with."""
    return {
        "list_shown": LIST_SHOWN,
        "sources_shown": SOURCES_SHOWN,
        "barrier_words": BARRIER_WORDS,
        "link_held_words": link_held_words,
        "sensitivity_words": SENSITIVITY_WORDS,
        "stopped_words": STOPPED_WORDS,
        "source_words": source_words,
        "through_subprocessors": through_subprocessors,
    }
