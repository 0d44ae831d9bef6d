"""The inventory's entities, what goes into the engine: data categories, holdings, systems,
vendors, credentials and subprocessor links, with their vocabularies, and the kinds of node and
the verbs of the graph's edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .moments import _utc

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
        # A stolen session (a cookie, a bearer token from a HAR file): it already carries the
        # MFA of its sign-in, so MFA stops it no more than a machine credential.
        "session_token": "session token",
    }
)
# Kinds that never meet an MFA prompt, whatever the credential's ``interactive`` says.
MFA_EXEMPT_KINDS = frozenset({"session_token"})
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
# The verbs of the edges that need no credential (issue 14), as ``ReachedSystem.edge`` names them.
TRUSTED_BY = "trusted by"  # identity provider A -> system B that trusts it for sign-in
OPERATES = "operates"  # vendor -> the system it runs for us (SaaS)
SUPPLIES = (
    "runs software supplied by"  # vendor -> the system running its software (reversed in words)
)
CONNECTS = "can connect to"  # system -> a system in a zone its zones reach
# How the attacker came by a credential decides the verb of the edge that leads to it.
_VERB_TO_CREDENTIAL: Mapping[str, str] = MappingProxyType({VENDOR: HOLDS, SYSTEM: STORES})


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
    # Issue 14. The vendor that runs the system for us (a SaaS application): its breach reaches
    # the system with no credential.
    operator_vendor_id: int | None = None
    # The network zones the system is in, and the zones from which it accepts connections with
    # no sign-in (then network reach counts despite the controls).
    zone_ids: tuple[int, ...] = ()
    accepts_unauthenticated_from: tuple[int, ...] = ()


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
        # Runs for each of hundreds of thousands of credentials when the portfolio is
        # computed: the usual case (valid values, aware or no dates) costs three lookups.
        if not (
            self.kind in CREDENTIAL_KINDS
            and self.privilege in PRIVILEGE_RANK
            and self.status in CREDENTIAL_STATUSES
        ):
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
            moment = getattr(self, attribute)
            if moment is None or moment.tzinfo is UTC:
                continue
            if moment.tzinfo is None:  # SQLite's, taken as UTC
                object.__setattr__(self, attribute, moment.replace(tzinfo=UTC))
            else:
                object.__setattr__(self, attribute, _utc(moment))

    @property
    def label(self) -> str:
        return f"{self.name} ({CREDENTIAL_KINDS[self.kind]}, {self.privilege})"


@dataclass(frozen=True, slots=True)
class FourthParty:
    """A subprocessor of one of our vendors that is not itself our vendor (no contract, no
    questionnaire): recorded under the vendors that use it, by name."""

    id: int
    name: str
    service: str = ""


@dataclass(frozen=True, slots=True)
class SubprocessorLink:
    """Vendor A (vendor_id) relies on a subprocessor and passes it some of our data: one of our
    vendors (subprocessor_id), or a named fourth party (fourth_party_id, subprocessor_id None).

    ``passed`` states the records passed per category; a category in ``category_ids`` only (or
    passed with no count) assumes all that we send A of it."""

    vendor_id: int
    subprocessor_id: int | None
    category_ids: tuple[int, ...] = ()
    _: KW_ONLY
    fourth_party_id: int | None = None
    passed: tuple[Holding, ...] = ()

    def __post_init__(self) -> None:
        if (self.subprocessor_id is None) == (self.fourth_party_id is None):
            raise ValueError(
                f"subprocessor link of vendor {self.vendor_id}: give one of subprocessor_id "
                "and fourth_party_id"
            )

    @property
    def passed_category_ids(self) -> tuple[int, ...]:
        """Every category passed on, each once: ``category_ids`` then ``passed``."""
        return tuple(dict.fromkeys((*self.category_ids, *(h.category_id for h in self.passed))))


def _check_privilege(what: str, privilege: str) -> None:
    if privilege not in PRIVILEGE_RANK:
        raise ValueError(
            f"{what}: privilege {privilege!r} is not one of {', '.join(sorted(PRIVILEGE_RANK))}"
        )


@dataclass(frozen=True, slots=True)
class Federation:
    """System ``system_id`` trusts system ``identity_provider_id`` for sign-in: a session that
    can sign in at the identity provider (admin there, or a stolen session token) signs in to
    the system with ``privilege``, unless the system asks its own MFA (``mfa_enforced``) for an
    interactive login: then only if the controls fail."""

    identity_provider_id: int
    system_id: int
    privilege: str = "read"
    mfa_enforced: bool = False

    def __post_init__(self) -> None:
        _check_privilege(
            f"federation {self.identity_provider_id}->{self.system_id}", self.privilege
        )


@dataclass(frozen=True, slots=True)
class SoftwareSupply:
    """System ``system_id`` runs software supplied by vendor ``vendor_id`` (an agent, a
    self-hosted server, a CI step) with ``privilege`` there. A breach of the vendor reaches the
    system (machine use: MFA is no barrier); updates we must approve (``automatic_updates``
    False) are a barrier: then only if the controls fail."""

    system_id: int
    vendor_id: int
    privilege: str = "admin"
    automatic_updates: bool = True
    software: str = ""  # the product, for the words: "monitoring agent"

    def __post_init__(self) -> None:
        _check_privilege(f"software on system {self.system_id}", self.privilege)


@dataclass(frozen=True, slots=True)
class NetworkZone:
    """A network zone; its systems can connect to the systems of the zones it ``reaches`` and
    to those of their own zone. Not transitive: going further takes a foothold on the way."""

    id: int
    name: str
    reaches: tuple[int, ...] = ()
