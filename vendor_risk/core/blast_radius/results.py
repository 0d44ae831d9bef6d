"""The results, what comes out: what a breach reaches in each view with every path explained,
the barriers that held, the credentials to rotate, the fourth parties exposed, the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .entities import (
    _VERB_TO_CREDENTIAL,
    CATEGORY,
    CREDENTIAL,
    HOLDS,
    OPENS,
    SYSTEM,
    VENDOR,
    Credential,
    DataCategory,
    System,
    Vendor,
)
from .moments import _iso

SCHEMA_VERSION = 2

# Paths in words: one longer than this many edges keeps its first two edges and its last six,
# and says how many it leaves out between them. Nothing is lost: every system on the way is
# listed on its own, with its own path. Without it, the words for a chain of N stored
# credentials would grow as N squared (each system repeating the whole way to it).
PATH_TEXT_EDGES = 12
_PATH_TEXT_TAIL = 6  # even: a stored credential and the system it opens


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # vendor, credential, system or category
    id: int
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label}


def _sentence(start: Step, edges: Iterable[str]) -> str:
    """'Okta holds svc-bitbucket (service account, admin) -> opens Bitbucket -> holds ...':
    the first edge reads as a sentence, the rest as arrows."""
    words = list(edges)
    return " -> ".join([" ".join([start.label, *words[:1]]), *words[1:]])


@dataclass(frozen=True, slots=True)
class Path:
    """An explained path: verbs[i] is the edge from steps[i] to steps[i + 1]."""

    steps: tuple[Step, ...]
    verbs: tuple[str, ...] = ()

    def then(self, *edges: tuple[str, Step]) -> Path:
        """This path followed by (verb, step) edges."""
        verbs, steps = zip(*edges, strict=True)
        return Path(self.steps + steps, self.verbs + verbs)

    @property
    def hops(self) -> int:
        return len(self.verbs)

    @property
    def text(self) -> str:
        """The whole path in words, however long (see :attr:`ReachedSystem.path_text`)."""
        return _sentence(
            self.steps[0],
            (f"{verb} {step.label}" for verb, step in zip(self.verbs, self.steps[1:], strict=True)),
        )


def _ref(item: Vendor | System | Credential) -> dict[str, Any]:
    return {"id": item.id, "name": item.name}


def _node_ref(step: Step) -> dict[str, Any]:
    return {"kind": step.kind, "id": step.id, "name": step.label}


@dataclass(frozen=True, slots=True)
class ReachedSystem:
    """A system the attacker opens, and the last step of one shortest path to it.

    The reached systems of a view form a tree: ``parent`` is the reached system the attacker
    took ``via`` from (None when a breached vendor held it), so a path is walked back, never
    copied, and the result stays linear in size however long the chains.
    """

    system: System
    privilege: str  # the highest among the credentials that open it
    credentials: tuple[Credential, ...]  # every obtained credential that opens it, in this view
    hops: int  # edges on one shortest path from a breached vendor: fewest hops
    via: Credential  # the credential that opens it on that path
    source: Step  # where the attacker took ``via``: a breached vendor, or a reached system
    # Objects, not values (left out of comparisons, which ``source`` already decides): the
    # reached system ``source`` names (None: a vendor), and the first system of the path (None:
    # this one), whose source is the breached vendor the path starts from.
    parent: ReachedSystem | None = field(default=None, compare=False, repr=False)
    entry: ReachedSystem | None = field(default=None, compare=False, repr=False)

    def _edges_back(self) -> Iterator[tuple[str, Step]]:
        """The path's (verb, step) edges from its end back to its start."""
        node: ReachedSystem | None = self
        while node is not None:
            yield OPENS, Step(SYSTEM, node.system.id, node.system.name)
            yield (
                _VERB_TO_CREDENTIAL[node.source.kind],
                Step(CREDENTIAL, node.via.id, node.via.label),
            )
            node = node.parent

    @property
    def start(self) -> Step:
        """The breached vendor the path starts from."""
        return (self.entry or self).source

    def steps_back(self) -> Iterator[Step]:
        """The path's steps from this system back to the breached vendor: walk them lazily
        (the diagram stops at the first it has already drawn)."""
        for _, step in self._edges_back():
            yield step
        yield self.start

    @property
    def path(self) -> Path:
        """The whole path, as values: costs its length, so pages use :attr:`path_text`."""
        edges = list(self._edges_back())
        edges.reverse()
        return Path((self.start, *(step for _, step in edges)), tuple(verb for verb, _ in edges))

    @property
    def path_text(self) -> str:
        """The path in words; past :data:`PATH_TEXT_EDGES` edges, the first two and the last
        six, with the number left out between them (every system on the way is listed too)."""
        if self.hops <= PATH_TEXT_EDGES:
            return self.path.text
        entry = self.entry or self
        tail = [edge for edge, _ in zip(self._edges_back(), range(_PATH_TEXT_TAIL), strict=False)]
        tail.reverse()
        left_out = self.hops - 2 - _PATH_TEXT_TAIL
        words = [
            f"{_VERB_TO_CREDENTIAL[VENDOR]} {entry.via.label}",
            f"{OPENS} {entry.system.name}",
            f"\u2026 {left_out:,} more steps \u2026",
            *(f"{verb} {step.label}" for verb, step in tail),
        ]
        return _sentence(entry.source, words)

    def to_dict(self) -> dict[str, Any]:
        system, via = self.system, self.via
        return {
            **_ref(system),
            "kind": system.kind,
            "environment": system.environment,
            "owner": system.owner,
            "privilege": self.privilege,
            "credentials": [_ref(cred) for cred in self.credentials],
            "hops": self.hops,
            "via": {
                "credential": {**_ref(via), "kind": via.kind, "privilege": via.privilege},
                "from": _node_ref(self.source),
            },
        }


@dataclass(frozen=True, slots=True)
class DataSource:
    """One place a reached data category is kept: a breached vendor (data we send it
    directly) or a reached system, with its records and its own path."""

    category: DataCategory
    holder: Step  # a breached vendor, or a reached system
    records: int | None  # approximate; None when nobody knows
    system: ReachedSystem | None = field(default=None, compare=False, repr=False)

    @property
    def hops(self) -> int:
        return 1 if self.system is None else self.system.hops + 1

    @property
    def _end(self) -> tuple[str, Step]:
        return HOLDS, Step(CATEGORY, self.category.id, self.category.name)

    def steps_back(self) -> Iterator[Step]:
        yield self._end[1]
        if self.system is None:
            yield self.holder
        else:
            yield from self.system.steps_back()

    @property
    def path(self) -> Path:
        before = Path((self.holder,)) if self.system is None else self.system.path
        return before.then(self._end)

    @property
    def path_text(self) -> str:
        """In words, shortened like :attr:`ReachedSystem.path_text`."""
        verb, step = self._end
        if self.system is None:
            return _sentence(self.holder, [f"{verb} {step.label}"])
        return f"{self.system.path_text} -> {verb} {step.label}"

    def to_dict(self) -> dict[str, Any]:
        return {**_node_ref(self.holder), "records": self.records}


def _sum_known(counts: Iterable[int | None]) -> int | None:
    """The sum of the counts that are known; None when none is."""
    known = [count for count in counts if count is not None]
    return sum(known) if known else None


@dataclass(frozen=True, slots=True)
class ReachedData:
    """A data category the attacker reaches, with every source of its records."""

    category: DataCategory
    # Breached vendors holding it directly first (ascending id), then the reached systems
    # holding it in the order systems are listed (hops, then name): the first is a shortest.
    sources: tuple[DataSource, ...]

    @property
    def records(self) -> int | None:
        """The sum over the sources that state a count; None if none does."""
        return _sum_known(source.records for source in self.sources)

    @property
    def records_complete(self) -> bool:
        """False when some source has no count: :attr:`records` is then a floor."""
        return all(source.records is not None for source in self.sources)

    @property
    def system_ids(self) -> tuple[int, ...]:  # reached systems holding it, ascending
        return tuple(sorted({s.holder.id for s in self.sources if s.holder.kind == SYSTEM}))

    @property
    def vendor_ids(self) -> tuple[int, ...]:  # breached vendors holding it directly
        return tuple(sorted({s.holder.id for s in self.sources if s.holder.kind == VENDOR}))

    @property
    def hops(self) -> int:
        return self.sources[0].hops

    @property
    def path(self) -> Path:
        """One shortest path, ending "-> holds <category>"."""
        return self.sources[0].path

    def steps_back(self) -> Iterator[Step]:
        return self.sources[0].steps_back()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.category.to_dict(),
            "records": self.records,
            "records_complete": self.records_complete,
            "system_ids": list(self.system_ids),
            "vendor_ids": list(self.vendor_ids),
            "hops": self.hops,
            "sources": [source.to_dict() for source in self.sources],
        }


@dataclass(frozen=True, slots=True)
class Reach:
    """What the attacker reaches in one view (despite controls, or if controls fail)."""

    systems: tuple[ReachedSystem, ...]  # by hops, then name
    data: tuple[ReachedData, ...]  # most sensitive first, then name
    credentials_obtained: tuple[int, ...]  # ids, ascending, whether or not they opened anything

    @property
    def system_ids(self) -> frozenset[int]:
        return frozenset(reached.system.id for reached in self.systems)

    @property
    def category_ids(self) -> frozenset[int]:
        return frozenset(reached.category.id for reached in self.data)

    @property
    def records(self) -> int | None:
        return _sum_known(reached.records for reached in self.data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "systems": [reached.to_dict() for reached in self.systems],
            "data": [reached.to_dict() for reached in self.data],
            "credentials_obtained": list(self.credentials_obtained),
        }


@dataclass(frozen=True, slots=True)
class BarrierHeld:
    """A credential the attacker had but could not use (despite-controls view)."""

    credential: Credential
    system: System
    barrier: str  # the first that holds, in BARRIERS order

    def to_dict(self) -> dict[str, Any]:
        return {
            "credential": {**_ref(self.credential), "kind": self.credential.kind},
            "system": _ref(self.system),
            "barrier": self.barrier,
        }


@dataclass(frozen=True, slots=True)
class CredentialToRotate:
    """A credential the attacker obtained that still works for them: neither revoked nor
    rotated after the breach began (:func:`rotation_done`)."""

    credential: Credential
    system: System  # the system it opens
    held_by: Vendor | None  # the breached vendor holding it, if any
    stored_in: tuple[System, ...]  # the systems reached despite controls that store a copy
    # The barrier that stops its use right now (expired, phishing-resistant MFA, MFA, an IP
    # restriction: the first in BARRIERS order), or None: the attacker can use it as it is.
    stopped_by: str | None = None

    @property
    def reason(self) -> str:
        reasons = [f"held by {self.held_by.name}"] if self.held_by else []
        if self.stored_in:
            reasons.append("stored in " + ", ".join(system.name for system in self.stored_in))
        return "; ".join(reasons)

    def to_dict(self) -> dict[str, Any]:
        cred = self.credential
        return {
            **_ref(cred),
            "kind": cred.kind,
            "privilege": cred.privilege,
            "owner": cred.owner,
            "system": _ref(self.system),
            "held_by": _ref(self.held_by) if self.held_by else None,
            "stored_in": [_ref(system) for system in self.stored_in],
            "reason": self.reason,
            "stopped_by": self.stopped_by,
            "last_rotated_at": _iso(cred.last_rotated_at),
            "expires_at": _iso(cred.expires_at),
        }


@dataclass(frozen=True, slots=True)
class PassedOn:
    """A data category a vendor passes on to its subprocessor."""

    category: DataCategory
    # What we send the relying vendor of this category (we do not know how much of it it passes
    # on: the figure assumes all of it); None when no count is recorded.
    records: int | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.category.to_dict(), "records": self.records}


@dataclass(frozen=True, slots=True)
class FourthPartyExposure:
    """A breached subprocessor exposes what the vendor relying on it passes on."""

    vendor: Vendor  # A, who relies on the breached vendor
    subprocessor: Vendor  # B, breached
    passed_on: tuple[PassedOn, ...]

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return tuple(item.category for item in self.passed_on)

    @property
    def records(self) -> int | None:
        return _sum_known(item.records for item in self.passed_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": _ref(self.vendor),
            "subprocessor": _ref(self.subprocessor),
            "categories": [item.to_dict() for item in self.passed_on],
        }


@dataclass(frozen=True, slots=True)
class Figures:
    """The counts. The headline of a breach is ``systems_*`` with ``exposed_*``: our systems
    reached, and the data reached plus the data exposed through breached subprocessors (a
    category counted once, records added), the fourth parties' share in ``fourth_party_*``.
    ``categories_*`` and ``records_*`` count our own reach alone: the portfolio's counts and
    the exposure score use them (:func:`reach_figures_for_all_vendors`)."""

    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int
    categories_if_controls_fail: int
    records_despite_controls: int | None
    records_if_controls_fail: int | None
    credentials_to_rotate: int
    barriers_held: int
    fourth_party_links: int
    fourth_party_categories: int  # distinct categories exposed through subprocessors
    fourth_party_records: int | None  # records they pass on, where a count is recorded
    exposed_categories_despite_controls: int
    exposed_records_despite_controls: int | None
    exposed_categories_if_controls_fail: int
    exposed_records_if_controls_fail: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figures(
    despite: Reach,
    if_fail: Reach,
    to_rotate: Sequence[CredentialToRotate],
    held: Sequence[BarrierHeld],
    fourth_party: Sequence[FourthPartyExposure],
) -> Figures:
    passed_on = {c.id for exposure in fourth_party for c in exposure.categories}
    fourth_party_records = _sum_known(exposure.records for exposure in fourth_party)
    return Figures(
        systems_despite_controls=len(despite.systems),
        systems_if_controls_fail=len(if_fail.systems),
        categories_despite_controls=len(despite.data),
        categories_if_controls_fail=len(if_fail.data),
        records_despite_controls=despite.records,
        records_if_controls_fail=if_fail.records,
        credentials_to_rotate=len(to_rotate),
        barriers_held=len(held),
        fourth_party_links=len(fourth_party),
        fourth_party_categories=len(passed_on),
        fourth_party_records=fourth_party_records,
        exposed_categories_despite_controls=len(despite.category_ids | passed_on),
        exposed_records_despite_controls=_sum_known([despite.records, fourth_party_records]),
        exposed_categories_if_controls_fail=len(if_fail.category_ids | passed_on),
        exposed_records_if_controls_fail=_sum_known([if_fail.records, fourth_party_records]),
    )


@dataclass(frozen=True, slots=True)
class BlastRadius:
    breached_vendors: tuple[Vendor, ...]  # ascending id
    as_of: datetime
    since: datetime | None
    despite_controls: Reach
    if_controls_fail: Reach
    barriers_held: tuple[BarrierHeld, ...]
    credentials_to_rotate: tuple[CredentialToRotate, ...]
    fourth_party_exposure: tuple[FourthPartyExposure, ...]
    figures: Figures = field(init=False)

    def __post_init__(self) -> None:
        # Derived here so the figures can never disagree with the lists they count.
        figures = _figures(
            self.despite_controls,
            self.if_controls_fail,
            self.credentials_to_rotate,
            self.barriers_held,
            self.fourth_party_exposure,
        )
        object.__setattr__(self, "figures", figures)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO 8601 dates); the schema is documented in docs/blast-radius.md.

        Linear in the size of the result: each reached system names the step before it
        (``via``), so a reader walks a path back instead of reading it whole every time."""
        return {
            "schema_version": SCHEMA_VERSION,
            "breached_vendors": [_ref(vendor) for vendor in self.breached_vendors],
            "as_of": _iso(self.as_of),
            "since": _iso(self.since),
            "figures": self.figures.to_dict(),
            "despite_controls": self.despite_controls.to_dict(),
            "if_controls_fail": self.if_controls_fail.to_dict(),
            "barriers_held": [held.to_dict() for held in self.barriers_held],
            "credentials_to_rotate": [item.to_dict() for item in self.credentials_to_rotate],
            "fourth_party_exposure": [item.to_dict() for item in self.fourth_party_exposure],
        }
