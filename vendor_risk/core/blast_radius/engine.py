"""The blast radius of a vendor breach: what an attacker who owns the vendor can reach.

Pure: frozen dataclasses in, frozen dataclasses out; no Flask, no database. The semantics are
written for users in docs/blast-radius.md. The graph, with the verbs used in explained paths::

    vendor --holds--> credential --opens--> system --stores--> credential --opens--> ...
    vendor --holds--> data category          system --holds--> data category
    vendor A relies on vendor B: a breach of B exposes the categories A passes on to B

Build an :class:`Inventory` once, then call :func:`compute` for one breach (explained paths,
credentials to rotate, barriers that held) or :func:`reach_counts_for_all_vendors` for the counts
of every vendor at once (portfolio views).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import KW_ONLY, asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

# Every credential kind, with the words a path uses for it.
CREDENTIAL_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "api_token": "access token",
        "oauth_grant": "OAuth grant",
        "service_account": "service account",
        "user_account": "user account",
        "sso_admin": "SSO admin",
        "support_access": "support access",
        "ssh_key": "SSH key",
        "vpn": "VPN",
    }
)
# Privileges in increasing order of power: a system reached several ways gets the highest.
PRIVILEGE_RANK: Mapping[str, int] = MappingProxyType({"read": 1, "write": 2, "admin": 3})
CREDENTIAL_STATUSES = frozenset({"active", "revoked"})


class Sensitivity(StrEnum):
    """How much a data category's exposure hurts; its level (1 to 4) is what the engine
    compares."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def level(self) -> int:
        return list(Sensitivity).index(self) + 1


SENSITIVITIES = range(1, len(Sensitivity) + 1)  # 1 low ... 4 critical

VENDOR, CREDENTIAL, SYSTEM, CATEGORY = "vendor", "credential", "system", "category"
HOLDS, OPENS, STORES = "holds", "opens", "stores"
# How the attacker came by a credential decides the verb of the edge that leads to it.
_VERB_TO_CREDENTIAL: Mapping[str, str] = MappingProxyType({VENDOR: HOLDS, SYSTEM: STORES})
SCHEMA_VERSION = 2


def _utc(moment: datetime | None) -> datetime | None:
    """Naive datetimes (SQLite hands them back) are taken as UTC, so every comparison works."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# ---------------------------------------------------------------------------------------------
# The inventory: what goes in
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataCategory:
    id: int
    name: str
    sensitivity: int  # 1 public/low ... 4 critical

    def __post_init__(self) -> None:
        if self.sensitivity not in SENSITIVITIES:
            raise ValueError(f"data category {self.name!r}: sensitivity must be 1 to 4")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "sensitivity": self.sensitivity}


@dataclass(frozen=True, slots=True)
class Holding:
    """Some of our data of one category, kept by a system or sent to a vendor."""

    category_id: int
    records: int | None = None  # approximate; None when nobody knows

    def __post_init__(self) -> None:
        if self.records is not None and self.records < 0:
            raise ValueError(f"holding of category {self.category_id}: records must be >= 0")


@dataclass(frozen=True, slots=True)
class System:
    id: int
    name: str
    _: KW_ONLY
    kind: str = ""
    environment: str = ""
    owner: str = ""
    mfa_required: bool = False  # interactive logins need MFA, whatever the credential says
    holdings: tuple[Holding, ...] = ()


@dataclass(frozen=True, slots=True)
class Vendor:
    id: int
    name: str
    holdings: tuple[Holding, ...] = ()  # data we send the vendor directly


# Keyword-only: sixteen fields are too many to pass by position without a silent mix-up.
@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """Metadata of an access grant (never its secret). Naive datetimes are taken as UTC."""

    id: int
    name: str
    kind: str
    holder_vendor_id: int | None = None
    system_id: int  # the system it opens
    privilege: str = "read"
    interactive: bool = False  # a person logs in with it; machine credentials skip MFA
    mfa_enforced: bool = False
    phishing_resistant_mfa: bool = False
    ip_restricted: bool = False
    status: str = "active"
    issued_at: datetime | None = None
    last_rotated_at: datetime | None = None
    expires_at: datetime | None = None
    owner: str = ""
    stored_in: tuple[int, ...] = ()  # systems keeping a copy: the attacker's lateral movement

    def __post_init__(self) -> None:
        checks = {
            "kind": (self.kind, CREDENTIAL_KINDS),
            "privilege": (self.privilege, PRIVILEGE_RANK),
            "status": (self.status, CREDENTIAL_STATUSES),
        }
        for attribute, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(
                    f"credential {self.name!r}: {attribute} {value!r} is not one of "
                    f"{', '.join(sorted(allowed))}"
                )
        for attribute in ("issued_at", "last_rotated_at", "expires_at"):
            object.__setattr__(self, attribute, _utc(getattr(self, attribute)))

    @property
    def label(self) -> str:
        return f"{self.name} ({CREDENTIAL_KINDS[self.kind]}, {self.privilege})"


@dataclass(frozen=True, slots=True)
class SubprocessorLink:
    """Vendor A (vendor_id) relies on vendor B (subprocessor_id) and passes it some of our data."""

    vendor_id: int
    subprocessor_id: int
    category_ids: tuple[int, ...] = ()


def _by_id(items: Iterable[Any], what: str) -> Mapping[int, Any]:
    found: dict[int, Any] = {}
    for item in items:
        if item.id in found:
            raise ValueError(f"duplicate {what} id {item.id}")
        found[item.id] = item
    return MappingProxyType(found)


def _frozen_index(pairs: Iterable[tuple[int, Any]]) -> Mapping[int, tuple[Any, ...]]:
    index: defaultdict[int, list[Any]] = defaultdict(list)
    for key, value in pairs:
        index[key].append(value)
    return MappingProxyType({key: tuple(values) for key, values in index.items()})


# eq=False: two inventories are the same only if they are the same object; comparing or hashing
# tens of thousands of entries by value is never what a caller wants.
@dataclass(frozen=True, slots=True, eq=False)
class Inventory:
    """The whole graph plus the indexes every breach needs; build it once with :meth:`build`."""

    vendors: Mapping[int, Vendor]
    systems: Mapping[int, System]
    credentials: Mapping[int, Credential]
    categories: Mapping[int, DataCategory]
    links: tuple[SubprocessorLink, ...]
    credentials_held_by: Mapping[int, tuple[int, ...]]  # vendor id -> credential ids, ascending
    credentials_stored_in: Mapping[int, tuple[int, ...]]  # system id -> credential ids, ascending
    links_by_subprocessor: Mapping[int, tuple[SubprocessorLink, ...]]
    # Derived once, in __post_init__: which credentials a timeless barrier stops (true whatever
    # the date of the breach), and the others that carry a date a dated barrier reads.
    _stopped_for_good: frozenset[int] = field(init=False, repr=False)
    _dated: tuple[Credential, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        stopped: list[int] = []
        dated: list[Credential] = []
        systems = self.systems
        # One pass, each barrier called in a plain loop: this runs for every credential.
        for cred in self.credentials.values():
            system = systems[cred.system_id]
            for holds in _TIMELESS_BARRIERS:
                if holds(cred, system, None):
                    stopped.append(cred.id)
                    break
            else:
                # The dated barriers read these two dates only: without them, none holds.
                if cred.expires_at is not None or cred.last_rotated_at is not None:
                    dated.append(cred)
        object.__setattr__(self, "_stopped_for_good", frozenset(stopped))
        object.__setattr__(self, "_dated", tuple(dated))

    @classmethod
    def build(
        cls,
        *,
        vendors: Iterable[Vendor] = (),
        systems: Iterable[System] = (),
        credentials: Iterable[Credential] = (),
        categories: Iterable[DataCategory] = (),
        links: Iterable[SubprocessorLink] = (),
    ) -> Inventory:
        """Index the graph; ValueError names the first duplicate id or dangling reference."""
        vendors_ = _by_id(vendors, "vendor")
        systems_ = _by_id(systems, "system")
        credentials_ = _by_id(sorted(credentials, key=lambda c: c.id), "credential")
        categories_ = _by_id(categories, "data category")
        links_ = tuple(links)
        _check_references(vendors_, systems_, credentials_, categories_, links_)
        creds = credentials_.values()
        return cls(
            vendors=vendors_,
            systems=systems_,
            credentials=credentials_,
            categories=categories_,
            links=links_,
            credentials_held_by=_frozen_index(
                (c.holder_vendor_id, c.id) for c in creds if c.holder_vendor_id is not None
            ),
            credentials_stored_in=_frozen_index(
                (system_id, c.id)
                for c in creds
                if c.stored_in
                for system_id in dict.fromkeys(c.stored_in)
            ),
            links_by_subprocessor=_frozen_index((link.subprocessor_id, link) for link in links_),
        )


def _check_references(
    vendors: Mapping[int, Vendor],
    systems: Mapping[int, System],
    credentials: Mapping[int, Credential],
    categories: Mapping[int, DataCategory],
    links: Sequence[SubprocessorLink],
) -> None:
    """A dangling id would silently shrink the blast radius, so refuse it and say where it is."""
    if _references_resolve(vendors, systems, credentials, categories, links):
        return  # the usual case, checked by sets; otherwise find the first culprit below

    def require(table: Mapping[int, Any], key: int | None, where: str, what: str) -> None:
        if key is not None and key not in table:
            raise ValueError(f"{where}: unknown {what} {key}")

    for owner in (*vendors.values(), *systems.values()):
        where = f"{type(owner).__name__.lower()} {owner.name!r}"
        for holding in owner.holdings:
            require(categories, holding.category_id, where, "data category")
    for cred in credentials.values():
        where = f"credential {cred.name!r}"
        require(systems, cred.system_id, where, "system")
        require(vendors, cred.holder_vendor_id, where, "vendor")
        for system_id in cred.stored_in:
            require(systems, system_id, where, "system")
    for link in links:
        where = f"subprocessor link {link.vendor_id}->{link.subprocessor_id}"
        require(vendors, link.vendor_id, where, "vendor")
        require(vendors, link.subprocessor_id, where, "vendor")
        for category_id in link.category_ids:
            require(categories, category_id, where, "data category")


def _references_resolve(
    vendors: Mapping[int, Vendor],
    systems: Mapping[int, System],
    credentials: Mapping[int, Credential],
    categories: Mapping[int, DataCategory],
    links: Sequence[SubprocessorLink],
) -> bool:
    """Whether every id refers to something: set inclusions, quick on large inventories."""
    creds = credentials.values()
    owners = (*vendors.values(), *systems.values())
    return (
        categories.keys() >= {h.category_id for owner in owners for h in owner.holdings}
        and systems.keys() >= {c.system_id for c in creds}
        and systems.keys() >= {s for c in creds if c.stored_in for s in c.stored_in}
        and vendors.keys() >= {c.holder_vendor_id for c in creds} - {None}
        and vendors.keys() >= {v for link in links for v in (link.vendor_id, link.subprocessor_id)}
        and categories.keys() >= {cid for link in links for cid in link.category_ids}
    )


# ---------------------------------------------------------------------------------------------
# Barriers: why a stolen credential may not open its system
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    as_of: datetime
    since: datetime | None  # when the breach began, for an incident


# A timeless barrier (clock: None accepted) holds or not whatever the date: an inventory works
# them out once. A dated one depends on the moment of the breach or when it began.


def rotated_since(last_rotated_at: datetime | None, since: datetime | None) -> bool:
    """Whether a credential was rotated after the breach began (``since``; None: no start is
    known, so no rotation counts). The attacker copied the credential once the breach began: a
    rotation after that makes their copy stale; a rotation before it does not help, since they
    copied the new value. Naive datetimes are taken as UTC."""
    if since is None or last_rotated_at is None:
        return False
    if last_rotated_at.tzinfo is None or since.tzinfo is None:  # aware ones compare as they are
        last_rotated_at, since = _utc(last_rotated_at), _utc(since)
    return last_rotated_at > since


def rotation_done(status: str, last_rotated_at: datetime | None, since: datetime | None) -> bool:
    """Whether the attacker's copy of a credential is dealt with: it was revoked, or rotated
    after the breach began. The one rule behind the list of credentials to rotate (what is not
    done is on it) and an incident's rotation gap (what on its checklist is not done), so that
    the command, the pages, the checklist and the PDFs cannot disagree."""
    return status == "revoked" or rotated_since(last_rotated_at, since)


def _revoked(cred: Credential, system: System, clock: _Clock | None) -> bool:
    return cred.status == "revoked"


def _expired(cred: Credential, system: System, clock: _Clock) -> bool:
    return cred.expires_at is not None and cred.expires_at <= clock.as_of


def _rotated(cred: Credential, system: System, clock: _Clock) -> bool:
    return rotated_since(cred.last_rotated_at, clock.since)


def _phishing_resistant_mfa(cred: Credential, system: System, clock: _Clock | None) -> bool:
    return cred.interactive and cred.phishing_resistant_mfa


def _mfa(cred: Credential, system: System, clock: _Clock | None) -> bool:
    # Machine credentials (tokens, service accounts) never meet an MFA prompt: that is why they
    # are dangerous, and why MFA is tested on interactive ones only.
    return cred.interactive and (cred.mfa_enforced or system.mfa_required)


def _ip_restricted(cred: Credential, system: System, clock: _Clock | None) -> bool:
    return cred.ip_restricted


# In reporting order: the first that holds is the one reported.
BARRIERS: Mapping[str, Callable[[Credential, System, _Clock], bool]] = MappingProxyType(
    {
        "revoked": _revoked,
        "expired": _expired,
        "rotated": _rotated,
        "phishing_resistant_mfa": _phishing_resistant_mfa,
        "mfa": _mfa,
        "ip_restricted": _ip_restricted,
    }
)


_TIMELESS_BARRIERS = (_revoked, _phishing_resistant_mfa, _mfa, _ip_restricted)
_DATED_BARRIERS = (_expired, _rotated)
if {*_TIMELESS_BARRIERS, *_DATED_BARRIERS} != set(BARRIERS.values()):
    raise RuntimeError("every barrier must be listed as timeless or dated")


def _any_holds(
    barriers: Iterable[Callable[[Credential, System, Any], bool]],
    cred: Credential,
    system: System,
    clock: _Clock | None,
) -> bool:
    # A loop, not any() over a generator: three times faster, and it runs per credential.
    for holds in barriers:  # noqa: SIM110
        if holds(cred, system, clock):
            return True
    return False


def _first_barrier(inventory: Inventory, clock: _Clock, cred: Credential) -> str | None:
    system = inventory.systems[cred.system_id]
    for name, holds in BARRIERS.items():
        if holds(cred, system, clock):
            return name
    return None


def _stopped(inventory: Inventory, clock: _Clock) -> AbstractSet[int]:
    """The ids of every credential that some barrier stops at this clock."""
    stopped = set(inventory._stopped_for_good)
    systems = inventory.systems
    for cred in inventory._dated:
        system = systems[cred.system_id]
        for holds in _DATED_BARRIERS:
            if holds(cred, system, clock):
                stopped.add(cred.id)
                break
    return stopped


def _despite_controls(inventory: Inventory, clock: _Clock) -> Callable[[Credential], bool]:
    stopped_for_good, systems = inventory._stopped_for_good, inventory.systems
    return lambda cred: (
        cred.id not in stopped_for_good
        and not _any_holds(_DATED_BARRIERS, cred, systems[cred.system_id], clock)
    )


def _if_controls_fail(cred: Credential) -> bool:
    return True


# ---------------------------------------------------------------------------------------------
# Results: what comes out
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# One breach, explained
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Walk:
    """Breadth-first parents: where the attacker first got each credential, and which credential
    first opened each system. Both dicts keep breadth-first order, so hops never decrease."""

    credential_source: Mapping[int, tuple[str, int]]  # credential -> (VENDOR|SYSTEM, id)
    system_opener: Mapping[int, int]  # system -> credential


def _walk(
    inventory: Inventory, breached: Sequence[Vendor], opens: Callable[[Credential], bool]
) -> _Walk:
    source: dict[int, tuple[str, int]] = {}
    opener: dict[int, int] = {}

    def take(credential_ids: Iterable[int], origin: tuple[str, int]) -> list[int]:
        new = [cid for cid in credential_ids if cid not in source]
        source.update(dict.fromkeys(new, origin))
        return new

    # Layers alternate (credentials, then the systems they open), so each layer is one hop
    # further than the last and the first parent recorded lies on a shortest path.
    layer = [
        cid
        for vendor in breached
        for cid in take(inventory.credentials_held_by.get(vendor.id, ()), (VENDOR, vendor.id))
    ]
    while layer:
        opened = []
        for cid in layer:
            cred = inventory.credentials[cid]
            if cred.system_id not in opener and opens(cred):
                opener[cred.system_id] = cid
                opened.append(cred.system_id)
        layer = [
            cid
            for system_id in opened
            for cid in take(inventory.credentials_stored_in.get(system_id, ()), (SYSTEM, system_id))
        ]
    return _Walk(MappingProxyType(source), MappingProxyType(opener))


def _reached_systems(
    inventory: Inventory, walk: _Walk, opens: Callable[[Credential], bool]
) -> tuple[ReachedSystem, ...]:
    openers: defaultdict[int, list[Credential]] = defaultdict(list)
    for cid in sorted(walk.credential_source):
        cred = inventory.credentials[cid]
        if opens(cred):  # then the walk opened its system too
            openers[cred.system_id].append(cred)
    nodes: dict[int, ReachedSystem] = {}
    # Breadth-first order: the system a credential was taken from is built before the systems
    # that credential opens. Each node points at its parent: constant size, whatever the hops.
    for system_id, cid in walk.system_opener.items():
        via = inventory.credentials[cid]
        origin_kind, origin_id = walk.credential_source[cid]
        creds = openers[system_id]
        parent = nodes[origin_id] if origin_kind == SYSTEM else None
        if parent is None:
            vendor = inventory.vendors[origin_id]
            source, hops, entry = Step(VENDOR, vendor.id, vendor.name), 2, None
        else:
            source = Step(SYSTEM, origin_id, parent.system.name)
            hops, entry = parent.hops + 2, parent.entry or parent
        nodes[system_id] = ReachedSystem(
            system=inventory.systems[system_id],
            privilege=max((c.privilege for c in creds), key=PRIVILEGE_RANK.__getitem__),
            credentials=tuple(creds),
            hops=hops,
            via=via,
            source=source,
            parent=parent,
            entry=entry,
        )
    return tuple(sorted(nodes.values(), key=lambda r: (r.hops, r.system.name, r.system.id)))


def _reached_data(
    inventory: Inventory, breached: Sequence[Vendor], systems: Sequence[ReachedSystem]
) -> tuple[ReachedData, ...]:
    sources: defaultdict[int, list[DataSource]] = defaultdict(list)
    categories = inventory.categories
    # Held by a vendor directly is one hop, fewer than through any system: listed first.
    for vendor in breached:
        holder = Step(VENDOR, vendor.id, vendor.name)
        for holding in vendor.holdings:
            category = categories[holding.category_id]
            sources[category.id].append(DataSource(category, holder, holding.records))
    for reached in systems:
        holder = Step(SYSTEM, reached.system.id, reached.system.name)
        for holding in reached.system.holdings:
            category = categories[holding.category_id]
            sources[category.id].append(
                DataSource(category, holder, holding.records, system=reached)
            )
    data = (ReachedData(categories[cid], tuple(found)) for cid, found in sources.items())
    return tuple(
        sorted(data, key=lambda r: (-r.category.sensitivity, r.category.name, r.category.id))
    )


def _reach(
    inventory: Inventory,
    breached: Sequence[Vendor],
    walk: _Walk,
    opens: Callable[[Credential], bool],
) -> Reach:
    systems = _reached_systems(inventory, walk, opens)
    return Reach(
        systems=systems,
        data=_reached_data(inventory, breached, systems),
        credentials_obtained=tuple(sorted(walk.credential_source)),
    )


def _barriers_held(
    inventory: Inventory, walk: _Walk, clock: _Clock, opens: Callable[[Credential], bool]
) -> tuple[BarrierHeld, ...]:
    held = []
    for cid in walk.credential_source:
        cred = inventory.credentials[cid]
        if opens(cred):  # no barrier holds: the quick test, before naming the first that does
            continue
        barrier = _first_barrier(inventory, clock, cred)
        if barrier is not None:
            held.append(BarrierHeld(cred, inventory.systems[cred.system_id], barrier))
    return tuple(sorted(held, key=lambda b: (b.system.name, b.credential.name, b.credential.id)))


def _credentials_to_rotate(
    inventory: Inventory, breached: Sequence[Vendor], walk: _Walk, clock: _Clock
) -> tuple[CredentialToRotate, ...]:
    # Everything the attacker has (held by a breached vendor, or stored in a system reached
    # despite the controls), whether or not a barrier such as MFA stops it this time, except
    # what is done: revoked, or rotated after the breach began (a barrier that held instead).
    holders: dict[int, Vendor | None] = {}
    stores: defaultdict[int, list[System]] = defaultdict(list)
    for vendor in breached:
        holders.update(dict.fromkeys(inventory.credentials_held_by.get(vendor.id, ()), vendor))
    for system_id in walk.system_opener:
        for cid in inventory.credentials_stored_in.get(system_id, ()):
            holders.setdefault(cid, None)
            stores[cid].append(inventory.systems[system_id])
    items = []
    for cid, holder in holders.items():
        cred = inventory.credentials[cid]
        if rotation_done(cred.status, cred.last_rotated_at, clock.since):
            continue
        items.append(
            CredentialToRotate(
                credential=cred,
                system=inventory.systems[cred.system_id],
                held_by=holder,
                stored_in=tuple(sorted(stores[cid], key=lambda s: (s.name, s.id))),
                # Neither revoked nor rotated: the first barrier that holds, if any, is one
                # that stops its use now (expired, MFA, an IP restriction).
                stopped_by=_first_barrier(inventory, clock, cred),
            )
        )
    return tuple(sorted(items, key=lambda i: (i.system.name, i.credential.name, i.credential.id)))


def _fourth_party_exposure(
    inventory: Inventory, breached: Sequence[Vendor]
) -> tuple[FourthPartyExposure, ...]:
    exposures = []
    for vendor in breached:
        links = sorted(
            inventory.links_by_subprocessor.get(vendor.id, ()),
            key=lambda link: (inventory.vendors[link.vendor_id].name, link.vendor_id),
        )
        for link in links:
            relying = inventory.vendors[link.vendor_id]
            sent: defaultdict[int, list[int | None]] = defaultdict(list)
            for holding in relying.holdings:
                sent[holding.category_id].append(holding.records)
            passed_on = tuple(
                PassedOn(inventory.categories[cid], _sum_known(sent.get(cid, ())))
                for cid in dict.fromkeys(link.category_ids)
            )
            exposures.append(FourthPartyExposure(relying, vendor, passed_on))
    return tuple(exposures)


def _breached(inventory: Inventory, vendor_ids: Iterable[int]) -> tuple[Vendor, ...]:
    ids = sorted(set(vendor_ids))
    for vendor_id in ids:
        if vendor_id not in inventory.vendors:
            raise ValueError(f"unknown breached vendor id {vendor_id}")
    return tuple(inventory.vendors[vendor_id] for vendor_id in ids)


def compute(
    inventory: Inventory,
    breached_vendor_ids: Iterable[int],
    *,
    as_of: datetime,
    since: datetime | None = None,
) -> BlastRadius:
    """The blast radius of a breach of one or several vendors, as of a moment.

    ``since`` is when the breach began (incident mode): credentials rotated after it are stale
    in the attacker's hands. Raises ValueError for an unknown vendor id.
    """
    breached = _breached(inventory, breached_vendor_ids)
    clock = _Clock(_utc(as_of), _utc(since))
    despite_opens = _despite_controls(inventory, clock)
    despite = _walk(inventory, breached, despite_opens)
    if_fail = _walk(inventory, breached, _if_controls_fail)
    return BlastRadius(
        breached_vendors=breached,
        as_of=clock.as_of,
        since=clock.since,
        despite_controls=_reach(inventory, breached, despite, despite_opens),
        if_controls_fail=_reach(inventory, breached, if_fail, _if_controls_fail),
        barriers_held=_barriers_held(inventory, despite, clock, despite_opens),
        credentials_to_rotate=_credentials_to_rotate(inventory, breached, despite, clock),
        fourth_party_exposure=_fourth_party_exposure(inventory, breached),
    )


# ---------------------------------------------------------------------------------------------
# Every vendor at once: counts only
# ---------------------------------------------------------------------------------------------


class ReachCounts(NamedTuple):
    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int


def _strongly_connected(successors: Mapping[int, Iterable[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative (lateral chains can be longer than the recursion limit),
    over the nodes that have successors and those they lead to.

    Components come out sinks first: a component's successors are always finished before it.
    """
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []

    def visit(node: int) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in successors:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, pending = work[-1]
            for succ in pending:
                if succ not in index:
                    visit(succ)
                    work.append((succ, iter(successors.get(succ, ()))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    components.append(component)
    return components


def _closure_bits(
    successors: Mapping[int, Iterable[int]], own: Mapping[int, int]
) -> dict[int, int]:
    """For each node, the OR of ``own`` over every node reachable from it (itself included).

    Every node of a strongly connected component reaches the same set, so one bitset per
    component, computed sinks first, serves them all. A node without successors keeps its own
    bits: most nodes, usually.
    """
    closed = dict(own)
    for component in _strongly_connected(successors):
        bits = 0
        for node in component:
            bits |= own.get(node, 0)
            for succ in successors.get(node, ()):
                # Finished (an earlier component), or in this one: either way, a subset.
                bits |= closed.get(succ, 0)
        for node in component:
            closed[node] = bits
    return closed


def _lateral_edges(inventory: Inventory, stopped: AbstractSet[int]) -> dict[int, set[int]]:
    """System -> the systems that the credentials stored in it open, when the credentials in
    ``stopped`` open nothing."""
    credentials = inventory.credentials
    successors: dict[int, set[int]] = {}
    for system_id, stored in inventory.credentials_stored_in.items():
        opened = {credentials[cid].system_id for cid in stored if cid not in stopped}
        if opened:
            successors[system_id] = opened
    return successors


def _closures(
    inventory: Inventory,
    stopped: AbstractSet[int],
    system_bit: Mapping[int, int],
    category_bits: Mapping[int, int],
) -> tuple[dict[int, int], dict[int, int]]:
    """For each system, the systems and data categories reachable from it, as bitsets (ints),
    when the credentials in ``stopped`` open nothing."""
    successors = _lateral_edges(inventory, stopped)
    return _closure_bits(successors, system_bit), _closure_bits(successors, category_bits)


def _holding_bits(holdings: Iterable[Holding], category_bit: Mapping[int, int]) -> int:
    bits = 0
    for holding in holdings:
        bits |= category_bit[holding.category_id]
    return bits


def reach_counts_for_all_vendors(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, ReachCounts]:
    """For every vendor, how many systems and data categories its breach alone reaches.

    The same counts as :func:`compute` for each vendor, in time close to linear in the inventory.
    """
    figures = reach_figures_for_all_vendors(inventory, as_of=as_of, since=since)
    return {vendor_id: figure.counts for vendor_id, figure in figures.items()}


class VendorFigures(NamedTuple):
    counts: ReachCounts
    # The highest sensitivity (0: none) among the data categories reached despite controls.
    max_sensitivity: int


def _highest_level(categories: int, levels: Sequence[tuple[int, int]]) -> int:
    """The first level, in ``(level, bits)`` pairs from the highest down, with a bit set."""
    return next((level for level, bits in levels if categories & bits), 0)


def reach_figures_for_all_vendors(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, VendorFigures]:
    """:func:`reach_counts_for_all_vendors`, with the most sensitive data each vendor's breach
    reaches despite controls (what exposure weighs)."""
    clock = _Clock(_utc(as_of), _utc(since))
    stopped = _stopped(inventory, clock)
    system_bit = {system_id: 1 << n for n, system_id in enumerate(inventory.systems)}
    category_bit = {category_id: 1 << n for n, category_id in enumerate(inventory.categories)}
    category_bits = {
        system.id: _holding_bits(system.holdings, category_bit)
        for system in inventory.systems.values()
    }
    by_level: dict[int, int] = {}
    for category in inventory.categories.values():
        by_level[category.sensitivity] = (
            by_level.get(category.sensitivity, 0) | category_bit[category.id]
        )
    levels = sorted(by_level.items(), reverse=True)
    despite_systems, despite_categories = _closures(inventory, stopped, system_bit, category_bits)
    fail_systems, _ = _closures(inventory, frozenset(), system_bit, category_bits)

    figures = {}
    for vendor in inventory.vendors.values():
        despite = if_fail = 0
        categories = _holding_bits(vendor.holdings, category_bit)
        for cid in inventory.credentials_held_by.get(vendor.id, ()):
            system_id = inventory.credentials[cid].system_id
            if_fail |= fail_systems[system_id]
            if cid not in stopped:
                despite |= despite_systems[system_id]
                categories |= despite_categories[system_id]
        figures[vendor.id] = VendorFigures(
            ReachCounts(despite.bit_count(), if_fail.bit_count(), categories.bit_count()),
            _highest_level(categories, levels),
        )
    return figures


class Concentration(NamedTuple):
    vendors_despite_controls: int
    vendors_if_controls_fail: int


def _vendors_reaching(inventory: Inventory, stopped: AbstractSet[int]) -> dict[int, int]:
    """For each system, the bitset of vendors whose breach alone reaches it: the vendors that
    enter a system from which it can be reached, i.e. the closure over the reversed graph."""
    vendor_bit = {vendor_id: 1 << n for n, vendor_id in enumerate(inventory.vendors)}
    entered_by: dict[int, int] = {}
    for vendor_id, held in inventory.credentials_held_by.items():
        bit = vendor_bit[vendor_id]
        for cid in held:
            if cid not in stopped:
                system_id = inventory.credentials[cid].system_id
                entered_by[system_id] = entered_by.get(system_id, 0) | bit
    reversed_edges: dict[int, set[int]] = {}
    for source, targets in _lateral_edges(inventory, stopped).items():
        for target in targets:
            reversed_edges.setdefault(target, set()).add(source)
    return _closure_bits(reversed_edges, entered_by)


def concentration(
    inventory: Inventory, *, as_of: datetime, since: datetime | None = None
) -> dict[int, Concentration]:
    """For every system, how many vendors' breach (each alone) reaches it, despite controls and
    if controls fail: the systems where the portfolio's risk concentrates."""
    clock = _Clock(_utc(as_of), _utc(since))
    despite = _vendors_reaching(inventory, _stopped(inventory, clock))
    if_fail = _vendors_reaching(inventory, frozenset())
    return {
        system_id: Concentration(
            despite.get(system_id, 0).bit_count(), if_fail.get(system_id, 0).bit_count()
        )
        for system_id in inventory.systems
    }
