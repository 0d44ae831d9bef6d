"""The blast radius of a breach as every report shows it: the engine's figures and lists in
plain lines (the assessment and the incident report both carry one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ...core.blast_radius.engine import BlastRadius
from ...core.blast_radius.words import (
    BARRIER_WORDS,
    SENSITIVITY_WORDS,
    STOPPED_WORDS,
    link_held_words,
    source_words,
    through_subprocessors,
)
from .digest import NOT_CONTENT
from .words import _day, _words

# An assessment prints this many places where each data category is reached, each with its
# own path (the vendor's tab shows core.blast_radius.words.SOURCES_SHOWN).
PRINTED_SOURCES = 3


@dataclass(frozen=True)
class ReachedSystemLine:
    name: str
    environment: str
    privilege: str
    path: str  # one shortest path, in words (shortened past a dozen edges)


@dataclass(frozen=True)
class ReachedDataLine:
    name: str
    sensitivity: str
    records: str  # the total over its sources
    sources: tuple[str, ...]  # each source: its records, where, and its own path
    sources_total: int = 0  # how many there are (``sources`` may list the first ones only)


@dataclass(frozen=True)
class RotateLine:
    credential: str  # name (kind, privilege)
    system: str
    owner: str
    reason: str
    usable: str  # whether a barrier stops its use now


@dataclass(frozen=True)
class BarrierLine:
    credential: str
    system: str
    barrier: str


@dataclass(frozen=True)
class FourthPartyLine:
    vendor: str
    subprocessor: str
    categories: str  # each with its records


@dataclass(frozen=True)
class BlastSummary:
    vendor: str
    as_of: date
    since: date | None
    systems_despite_controls: int
    systems_if_controls_fail: int
    # The headline: data reached despite the controls plus what subprocessors expose.
    exposed_categories: int
    exposed_records: int | None
    through_subprocessors: str  # the fourth parties' share, in words ("" when none)
    systems: tuple[ReachedSystemLine, ...]  # reached despite the controls
    only_if_controls_fail: tuple[ReachedSystemLine, ...]
    data: tuple[ReachedDataLine, ...]
    to_rotate: tuple[RotateLine, ...]
    barriers: tuple[BarrierLine, ...]
    # Edges needing no credential that a control stopped ("Wiki trusts Identity provider for
    # sign-in: its own MFA").
    links_held: tuple[str, ...]
    fourth_party: tuple[FourthPartyLine, ...]
    # The engine's result, for the diagram only (its moment is to the microsecond).
    result: BlastRadius = field(metadata=NOT_CONTENT, compare=False, repr=False)
    # How many rows each list has; a report listing only the first ones says so.
    systems_total: int = 0
    only_if_controls_fail_total: int = 0
    to_rotate_total: int = 0
    barriers_total: int = 0
    links_held_total: int = 0


def _records(count: int | None, complete: bool) -> str:
    if count is None:
        return "unknown"
    return f"{'' if complete else 'at least '}{count:,}"


def blast_summary(
    result: BlastRadius, *, shown: int | None = None, sources_shown: int | None = None
) -> BlastSummary:
    """The result in lines; with ``shown``, each list's first ``shown`` rows only (and the
    first ``sources_shown`` places of each data category), its total kept: a breach reaching
    every system lists thousands of credentials, hundreds of pages that say no more than the
    counts and the CSV of the whole result."""
    despite = result.despite_controls
    despite_ids = despite.system_ids
    only_if_fail = [r for r in result.if_controls_fail.systems if r.system.id not in despite_ids]

    def first(rows, limit: int | None = shown):
        return rows if limit is None else rows[:limit]

    def system_line(reached) -> ReachedSystemLine:
        return ReachedSystemLine(
            reached.system.name,
            _words(reached.system.environment),
            reached.privilege,
            reached.path_text,
        )

    f = result.figures
    return BlastSummary(
        vendor=" and ".join(v.name for v in result.breached_vendors),
        as_of=result.as_of.date(),
        since=_day(result.since),
        systems_despite_controls=f.systems_despite_controls,
        systems_if_controls_fail=f.systems_if_controls_fail,
        exposed_categories=f.exposed_categories_despite_controls,
        exposed_records=f.exposed_records_despite_controls,
        through_subprocessors=through_subprocessors(f),
        systems=tuple(system_line(r) for r in first(despite.systems)),
        only_if_controls_fail=tuple(system_line(r) for r in first(only_if_fail)),
        data=tuple(
            ReachedDataLine(
                d.category.name,
                SENSITIVITY_WORDS[d.category.sensitivity],
                _records(d.records, d.records_complete),
                tuple(source_words(source) for source in first(d.sources, sources_shown)),
                len(d.sources),
            )
            for d in despite.data
        ),
        to_rotate=tuple(
            RotateLine(
                item.credential.label,
                item.system.name,
                item.credential.owner or "no owner recorded",
                item.reason,
                STOPPED_WORDS[item.stopped_by],
            )
            for item in first(result.credentials_to_rotate)
        ),
        barriers=tuple(
            BarrierLine(h.credential.label, h.system.name, BARRIER_WORDS[h.barrier])
            for h in first(result.barriers_held)
        ),
        links_held=tuple(link_held_words(h) for h in first(result.links_held)),
        fourth_party=tuple(
            FourthPartyLine(
                e.vendor.name,
                e.subprocessor.name,
                ", ".join(
                    f"{item.category.name} ("
                    + ("records unknown" if item.records is None else f"{item.records:,} records")
                    + ")"
                    for item in e.passed_on
                )
                or "no recorded data",
            )
            for e in result.fourth_party_exposure
        ),
        result=result,
        systems_total=len(despite.systems),
        only_if_controls_fail_total=len(only_if_fail),
        to_rotate_total=len(result.credentials_to_rotate),
        barriers_total=len(result.barriers_held),
        links_held_total=len(result.links_held),
    )
