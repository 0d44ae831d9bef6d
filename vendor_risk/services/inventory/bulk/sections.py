"""The file's sections, in the order they are written and saved, and their fields: how a value
of the file becomes a column value and back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ....core import email_domains
from ....core.inventory_file import (
    format_timestamp,
    parse_date,
    parse_timestamp,
)
from ....models import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Criticality,
    DataCategory,
    Environment,
    FourthParty,
    NetworkZone,
    Privilege,
    Sensitivity,
    Substitutability,
    System,
    SystemKind,
    Vendor,
    VendorStatus,
)

# In the order they are written and saved: each section's rows refer only to those before it
# (a credential to its holder and the system it opens). The lists of an entry (a system's zones,
# identity providers, operator and vendor software, a zone's reach) are saved once every row
# is, so they may name entries of any section.
SECTIONS = (
    "data_categories",
    "network_zones",
    "fourth_parties",
    "systems",
    "vendors",
    "credentials",
)
# Reported (by an import, the command line and the audit event) only when the file gives them.
OPTIONAL_SECTIONS = frozenset({"network_zones", "fourth_parties"})
_NOUN = {
    "data_categories": "data category",
    "network_zones": "network zone",
    "fourth_parties": "fourth party",
    "systems": "system",
    "vendors": "vendor",
    "credentials": "credential",
}
_MODEL = {
    "data_categories": DataCategory,
    "network_zones": NetworkZone,
    "fourth_parties": FourthParty,
    "systems": System,
    "vendors": Vendor,
    "credentials": Credential,
}


# ---- fields: how a value of the file becomes a column value and back ----------------------


@dataclass(frozen=True)
class _Field:
    to_model: Callable[[Any], Any]
    to_file: Callable[[Any], Any]
    free_text: bool = False  # checked for secret-looking content


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _choice(enum: type) -> _Field:
    return _Field(enum, str)


def _same(value: Any) -> Any:
    return value


_TEXT = _Field(lambda value: value or "", _same, free_text=True)
_FLAG = _Field(bool, _same)
_NUMBER = _Field(_optional(int), _same)
_DATE = _Field(_optional(parse_date), _optional(date.isoformat))
_TIMESTAMP = _Field(_optional(parse_timestamp), _optional(format_timestamp))

# The scalar fields of each section, in the order an export writes them (after the name).
# References to other entries (holder, opens) and lists are handled apart.
_FIELDS: Mapping[str, Mapping[str, _Field]] = {
    "data_categories": {"sensitivity": _choice(Sensitivity), "description": _TEXT},
    "network_zones": {"description": _TEXT},
    "fourth_parties": {"service": _TEXT},
    "systems": {
        "kind": _choice(SystemKind),
        "environment": _choice(Environment),
        "owner": _TEXT,
        "mfa_required": _FLAG,
        "description": _TEXT,
    },
    "vendors": {
        "legal_name": _TEXT,
        "website": _TEXT,
        "email_domains": _Field(email_domains.normalised, list),
        "services": _TEXT,
        "status": _choice(VendorStatus),
        "criticality": _choice(Criticality),
        "substitutability": _choice(Substitutability),
        "business_owner": _TEXT,
        "contract_start": _DATE,
        "contract_end": _DATE,
        "next_review": _DATE,
        "notes": _TEXT,
    },
    "credentials": {
        "kind": _choice(CredentialKind),
        "privilege": _choice(Privilege),
        "interactive": _FLAG,
        "mfa_enforced": _FLAG,
        "phishing_resistant_mfa": _FLAG,
        "ip_restricted": _FLAG,
        "issued_at": _TIMESTAMP,
        "last_rotated_at": _TIMESTAMP,
        "expires_at": _TIMESTAMP,
        "last_used_at": _TIMESTAMP,
        "rotation_period_days": _NUMBER,
        "owner": _TEXT,
        "status": _choice(CredentialStatus),
        "notes": _TEXT,
    },
}
