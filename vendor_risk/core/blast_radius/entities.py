"""The inventory's entities, what goes into the engine: data categories, holdings, systems,
vendors, credentials and subprocessor links, with their vocabularies, and the kinds of node and
the verbs of the graph's edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
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
