"""Explained paths, what a result says of each reached system and data category: the steps and
verbs of one shortest path from a breached vendor, kept as a tree of reached systems (each
points at the one before it) and written in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .entities import (
    _VERB_TO_CREDENTIAL,
    CATEGORY,
    CREDENTIAL,
    HOLDS,
    OPENS,
    OPERATES,
    SUPPLIES,
    SYSTEM,
    TRUSTED_BY,
    VENDOR,
    Credential,
    DataCategory,
    Federation,
    FourthParty,
    NetworkZone,
    SoftwareSupply,
    System,
    Vendor,
)

# Paths in words: one longer than this many edges keeps its first edges (up to the first
# system) and its last six, and says how many it leaves out between them. Nothing is lost: every
# system on the way is listed on its own, with its own path. Without it, the words for a chain
# of N stored credentials would grow as N squared (each system repeating the whole way to it).
PATH_TEXT_EDGES = 12
_PATH_TEXT_TAIL = 6  # even: a stored credential and the system it opens

Edge = tuple[str, "Step", str]  # verb, the step it leads to, the words after that step's name


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # vendor, credential, system or category
    id: int
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label}


def _sentence(start: Step, edges: Iterable[Edge | str]) -> str:
    """'Okta holds svc-bitbucket (service account, admin) -> opens Bitbucket -> holds ...':
    the first edge reads as a sentence, the rest as arrows. Software reads from the system
    ("Build server runs software supplied by Acme"); a plain string is written as it is."""
    parts = []
    for edge in edges:
        if isinstance(edge, str):
            parts.append(edge)
            continue
        verb, step, note = edge
        if parts:
            parts.append(f"{verb} {step.label}{note}")
        elif verb == SUPPLIES:
            parts.append(f"{step.label} {verb} {start.label}{note}")
        else:
            parts.append(f"{start.label} {verb} {step.label}{note}")
    return " -> ".join(parts) if parts else start.label


@dataclass(frozen=True, slots=True)
class Path:
    """An explained path: verbs[i] is the edge from steps[i] to steps[i + 1]; notes[i], when
    given, the words after steps[i + 1]'s name (" for sign-in", " (zone Corporate)")."""

    steps: tuple[Step, ...]
    verbs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def then(self, *edges: tuple[str, Step]) -> Path:
        """This path followed by (verb, step) edges."""
        verbs, steps = zip(*edges, strict=True)
        return Path(self.steps + steps, self.verbs + verbs, self._notes + ("",) * len(verbs))

    @property
    def _notes(self) -> tuple[str, ...]:
        return self.notes or ("",) * len(self.verbs)

    @property
    def hops(self) -> int:
        return len(self.verbs)

    @property
    def text(self) -> str:
        """The whole path in words, however long (see :attr:`ReachedSystem.path_text`)."""
        return _sentence(self.steps[0], zip(self.verbs, self.steps[1:], self._notes, strict=True))


@dataclass(frozen=True, slots=True)
class ZoneHop:
    """A network edge: a foothold in ``from_zone`` connects to a system of ``to_zone`` (the
    same zone, or one it reaches); ``unauthenticated``: the system accepts it with no sign-in."""

    from_zone: NetworkZone
    to_zone: NetworkZone
    unauthenticated: bool


def _link_note(link: Federation | SoftwareSupply | ZoneHop | None) -> str:
    if isinstance(link, Federation):
        return " for sign-in"
    if isinstance(link, SoftwareSupply):
        updates = (
            "updates applied automatically" if link.automatic_updates else "updates we approve"
        )
        software = f"{link.software}, " if link.software else ""
        return f" ({software}{link.privilege}, {updates})"
    if isinstance(link, ZoneHop):
        zones = (
            f"zone {link.from_zone.name}"
            if link.from_zone.id == link.to_zone.id
            else f"zone {link.from_zone.name} to zone {link.to_zone.name}"
        )
        return f" ({zones}{', no sign-in needed' if link.unauthenticated else ''})"
    return ""


def _link_dict(link: Federation | SoftwareSupply | ZoneHop) -> dict[str, Any]:
    if isinstance(link, Federation):
        return {
            "kind": "federation",
            "privilege": link.privilege,
            "mfa_enforced": link.mfa_enforced,
        }
    if isinstance(link, SoftwareSupply):
        return {
            "kind": "software",
            "software": link.software,
            "privilege": link.privilege,
            "automatic_updates": link.automatic_updates,
        }
    return {
        "kind": "network",
        "from_zone": {"id": link.from_zone.id, "name": link.from_zone.name},
        "to_zone": {"id": link.to_zone.id, "name": link.to_zone.name},
        "unauthenticated": link.unauthenticated,
    }


_LINK_KINDS = {TRUSTED_BY: "federation", OPERATES: "operator", SUPPLIES: "software"}


def _ref(item: Vendor | System | Credential | FourthParty) -> dict[str, Any]:
    return {"id": item.id, "name": item.name}


def _node_ref(step: Step) -> dict[str, Any]:
    return {"kind": step.kind, "id": step.id, "name": step.label}


@dataclass(frozen=True, slots=True)
class ReachedSystem:
    """A system the attacker reaches, and the last step of one shortest path to it.

    The reached systems of a view form a tree: ``parent`` is the reached system the attacker
    came from (the one storing ``via``, the identity provider, the network neighbour; None when
    the path starts at a breached vendor), so a path is walked back, never copied, and the
    result stays linear in size however long the chains.

    ``edge`` is the verb of the last step: ``opens`` (by the credential ``via``), ``trusted
    by`` (a federated sign-in from ``source``, an identity provider), ``can connect to`` (a
    network connection from ``source``), ``operates`` or ``runs software supplied by`` (from
    ``source``, a breached vendor). ``link`` holds that edge's record, for the last four.
    """

    system: System
    privilege: str  # the highest among every way in, in this view
    credentials: tuple[Credential, ...]  # every obtained credential that opens it, in this view
    hops: int  # edges on one shortest path from a breached vendor: fewest hops
    via: Credential | None  # the credential that opens it on that path (edge "opens")
    source: Step  # where the attacker came from: a breached vendor, or a reached system
    edge: str = OPENS
    link: Federation | SoftwareSupply | ZoneHop | None = None
    # Objects, not values (left out of comparisons, which ``source`` already decides): the
    # reached system ``source`` names (None: a vendor), and the first system of the path (None:
    # this one), whose source is the breached vendor the path starts from.
    parent: ReachedSystem | None = field(default=None, compare=False, repr=False)
    entry: ReachedSystem | None = field(default=None, compare=False, repr=False)
    # For an identity provider first reached without a session that signs in, and later with
    # one: the node of that later arrival (the parent of the systems trusting it).
    sign_in: ReachedSystem | None = field(default=None, compare=False, repr=False)

    def _own_edges_back(self) -> Iterator[Edge]:
        """This node's own edges, from the system back: one, or two through a credential."""
        step = Step(SYSTEM, self.system.id, self.system.name)
        if self.via is None:
            yield self.edge, step, _link_note(self.link)
            return
        yield OPENS, step, ""
        yield (
            _VERB_TO_CREDENTIAL[self.source.kind],
            Step(CREDENTIAL, self.via.id, self.via.label),
            "",
        )

    def _edges_back(self) -> Iterator[Edge]:
        """The path's edges from its end back to its start."""
        node: ReachedSystem | None = self
        while node is not None:
            yield from node._own_edges_back()
            node = node.parent

    @property
    def start(self) -> Step:
        """The breached vendor the path starts from."""
        return (self.entry or self).source

    def steps_back(self) -> Iterator[Step]:
        """The path's steps from this system back to the breached vendor: walk them lazily
        (the diagram stops at the first it has already drawn)."""
        for _, step, _ in self._edges_back():
            yield step
        yield self.start

    @property
    def path(self) -> Path:
        """The whole path, as values: costs its length, so pages use :attr:`path_text`."""
        edges = list(self._edges_back())
        edges.reverse()
        return Path(
            (self.start, *(step for _, step, _ in edges)),
            tuple(verb for verb, _, _ in edges),
            tuple(note for _, _, note in edges),
        )

    @property
    def path_text(self) -> str:
        """The path in words; past :data:`PATH_TEXT_EDGES` edges, the edges to the first
        system and the last six, with the number left out between them (every system on the
        way is listed too)."""
        if self.hops <= PATH_TEXT_EDGES:
            return self.path.text
        entry = self.entry or self
        head = list(entry._own_edges_back())
        head.reverse()
        tail = [edge for edge, _ in zip(self._edges_back(), range(_PATH_TEXT_TAIL), strict=False)]
        tail.reverse()
        left_out = self.hops - len(head) - _PATH_TEXT_TAIL
        return _sentence(entry.source, [*head, f"\u2026 {left_out:,} more steps \u2026", *tail])

    def _via_dict(self) -> dict[str, Any]:
        via = self.via
        if via is None:
            kind = _LINK_KINDS.get(self.edge, "network")
            link = {"kind": kind} if self.link is None else _link_dict(self.link)
            return {"link": link, "from": _node_ref(self.source)}
        return {
            "credential": {**_ref(via), "kind": via.kind, "privilege": via.privilege},
            "from": _node_ref(self.source),
        }

    def to_dict(self) -> dict[str, Any]:
        system = self.system
        found = {
            **_ref(system),
            "kind": system.kind,
            "environment": system.environment,
            "owner": system.owner,
            "privilege": self.privilege,
            "credentials": [_ref(cred) for cred in self.credentials],
            "hops": self.hops,
            "via": self._via_dict(),
        }
        if self.sign_in is not None:
            found["sign_in"] = {"hops": self.sign_in.hops, "via": self.sign_in._via_dict()}
        return found


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
            return _sentence(self.holder, [(verb, step, "")])
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
