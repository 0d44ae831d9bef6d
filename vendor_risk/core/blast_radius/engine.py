"""The blast radius of a vendor breach: what an attacker who owns the vendor can reach.

Pure: frozen dataclasses in, frozen dataclasses out; no Flask, no database. The semantics are
written for users in docs/blast-radius.md. The graph, with the verbs used in explained paths::

    vendor --holds--> credential --opens--> system --stores--> credential --opens--> ...
    vendor --holds--> data category          system --holds--> data category
    vendor A relies on vendor B: a breach of B exposes the categories A passes on to B
    identity provider A --trusted by--> system B (federated sign-in, from a session at A)
    vendor --operates--> system          system --runs software supplied by--> vendor
    system --can connect to--> system (network zones)

Build an :class:`Inventory` once, then call :func:`compute` for one breach (explained paths,
credentials to rotate, barriers that held) or :func:`reach_counts_for_all_vendors` for the counts
of every vendor at once (portfolio views).

This module is the engine's face: every name is re-exported from the part that holds it.
``entities`` (what goes in), ``barriers`` (why a stolen credential may not open its system, and
the rotation rule), ``inventory`` (the graph, indexed once), ``paths`` (explained paths),
``results`` (what comes out), ``breach`` (one breach, explained) and ``portfolio`` (every vendor
at once, counts only);
``moments`` takes naive datetimes as UTC for all of them.
"""

from __future__ import annotations

from .barriers import (
    BARRIERS,
    rotated_since,
    rotation_done,
)
from .breach import (
    compute,
)
from .entities import (
    CATEGORY,
    CONNECTS,
    CREDENTIAL,
    CREDENTIAL_KINDS,
    CREDENTIAL_STATUSES,
    HOLDS,
    MFA_EXEMPT_KINDS,
    OPENS,
    OPERATES,
    PRIVILEGE_RANK,
    SENSITIVITIES,
    STORES,
    SUPPLIES,
    SYSTEM,
    TRUSTED_BY,
    VENDOR,
    Credential,
    DataCategory,
    Federation,
    FourthParty,
    Holding,
    NetworkZone,
    Sensitivity,
    SoftwareSupply,
    SubprocessorLink,
    System,
    Vendor,
)
from .inventory import (
    Inventory,
)
from .paths import (
    PATH_TEXT_EDGES,
    DataSource,
    Path,
    ReachedData,
    ReachedSystem,
    Step,
    ZoneHop,
)
from .portfolio import (
    Concentration,
    ReachCounts,
    VendorFigures,
    VendorReachSets,
    concentration,
    fourth_party_concentration,
    reach_counts_for_all_vendors,
    reach_figures_for_all_vendors,
    reach_for_all_vendors,
)
from .results import (
    SCHEMA_VERSION,
    BarrierHeld,
    BlastRadius,
    CredentialToRotate,
    Figures,
    FourthPartyExposure,
    LinkHeld,
    PassedOn,
    Reach,
)

__all__ = [
    "BARRIERS",
    "CATEGORY",
    "CONNECTS",
    "CREDENTIAL",
    "CREDENTIAL_KINDS",
    "CREDENTIAL_STATUSES",
    "HOLDS",
    "MFA_EXEMPT_KINDS",
    "OPENS",
    "OPERATES",
    "PATH_TEXT_EDGES",
    "PRIVILEGE_RANK",
    "SCHEMA_VERSION",
    "SENSITIVITIES",
    "STORES",
    "SUPPLIES",
    "SYSTEM",
    "TRUSTED_BY",
    "VENDOR",
    "BarrierHeld",
    "BlastRadius",
    "Concentration",
    "Credential",
    "CredentialToRotate",
    "DataCategory",
    "DataSource",
    "Federation",
    "Figures",
    "FourthParty",
    "FourthPartyExposure",
    "Holding",
    "Inventory",
    "LinkHeld",
    "NetworkZone",
    "PassedOn",
    "Path",
    "Reach",
    "ReachCounts",
    "ReachedData",
    "ReachedSystem",
    "Sensitivity",
    "SoftwareSupply",
    "Step",
    "SubprocessorLink",
    "System",
    "Vendor",
    "VendorFigures",
    "VendorReachSets",
    "ZoneHop",
    "compute",
    "concentration",
    "fourth_party_concentration",
    "reach_counts_for_all_vendors",
    "reach_figures_for_all_vendors",
    "reach_for_all_vendors",
    "rotated_since",
    "rotation_done",
]
