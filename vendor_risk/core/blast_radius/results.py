"""The results, what comes out: what a breach reaches in each view with every path explained,
the barriers that held, the credentials to rotate, the fourth parties exposed, the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .entities import (
    Credential,
    DataCategory,
    FourthParty,
    System,
    Vendor,
)
from .moments import _iso
from .paths import (
    ReachedData,
    ReachedSystem,
    Step,
    _node_ref,
    _ref,
    _sum_known,
)

SCHEMA_VERSION = 3


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
class LinkHeld:
    """An edge that needs no credential, stopped by a control (despite-controls view): a
    federated sign-in stopped by the application's own MFA (``mfa``), vendor software whose
    updates we approve (``update_approval``), a network connection to a system that wants its
    own sign-in (``authentication``). The edge counts in the if-controls-fail view."""

    edge: str  # TRUSTED_BY, SUPPLIES or CONNECTS
    source: Step  # the identity provider, the breached vendor, the system with the foothold
    system: System  # the system the edge would have reached
    barrier: str  # mfa, update_approval or authentication

    def to_dict(self) -> dict[str, Any]:
        return {
            "edge": self.edge,
            "from": _node_ref(self.source),
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
    subprocessor: Vendor | FourthParty  # B, breached: our vendor, or a named fourth party
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
            "subprocessor": {
                **_ref(self.subprocessor),
                "kind": "fourth_party" if isinstance(self.subprocessor, FourthParty) else "vendor",
            },
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
    links_held: int = 0  # edges needing no credential that a control stopped

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figures(
    despite: Reach,
    if_fail: Reach,
    to_rotate: Sequence[CredentialToRotate],
    held: Sequence[BarrierHeld],
    fourth_party: Sequence[FourthPartyExposure],
    links_held: Sequence[LinkHeld] = (),
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
        links_held=len(links_held),
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
    links_held: tuple[LinkHeld, ...] = ()
    breached_fourth_parties: tuple[FourthParty, ...] = ()  # ascending id
    figures: Figures = field(init=False)

    def __post_init__(self) -> None:
        # Derived here so the figures can never disagree with the lists they count.
        figures = _figures(
            self.despite_controls,
            self.if_controls_fail,
            self.credentials_to_rotate,
            self.barriers_held,
            self.fourth_party_exposure,
            self.links_held,
        )
        object.__setattr__(self, "figures", figures)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO 8601 dates); the schema is documented in docs/blast-radius.md.

        Linear in the size of the result: each reached system names the step before it
        (``via``), so a reader walks a path back instead of reading it whole every time."""
        return {
            "schema_version": SCHEMA_VERSION,
            "breached_vendors": [_ref(vendor) for vendor in self.breached_vendors],
            "breached_fourth_parties": [_ref(party) for party in self.breached_fourth_parties],
            "as_of": _iso(self.as_of),
            "since": _iso(self.since),
            "figures": self.figures.to_dict(),
            "despite_controls": self.despite_controls.to_dict(),
            "if_controls_fail": self.if_controls_fail.to_dict(),
            "barriers_held": [held.to_dict() for held in self.barriers_held],
            "links_held": [held.to_dict() for held in self.links_held],
            "credentials_to_rotate": [item.to_dict() for item in self.credentials_to_rotate],
            "fourth_party_exposure": [item.to_dict() for item in self.fourth_party_exposure],
        }
