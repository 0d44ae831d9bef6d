"""The inventory: vendors, systems, data categories, credentials and subprocessors, and the
version counter of what forms edit.

``table=True`` models skip validation in ``__init__``: forms and services validate first.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..core.blast_radius.engine import Sensitivity
from ..core.names import KEY_MAX_LENGTH, NAME_MAX_LENGTH, name_key
from ..db import UTCDateTime, utcnow
from .base import enum_type


class VendorStatus(StrEnum):
    prospect = "prospect"
    onboarding = "onboarding"
    active = "active"
    offboarding = "offboarding"
    offboarded = "offboarded"


class Criticality(StrEnum):
    """How much the business depends on the vendor's service."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Substitutability(StrEnum):
    """How hard the vendor would be to replace."""

    easy = "easy"
    moderate = "moderate"
    hard = "hard"
    none = "none"  # no alternative


def _key_of_inserted_name(context) -> str:
    return name_key(context.get_current_parameters()["name"])


def NameKeyField() -> Any:
    """The name as compared (names.name_key), unique: "Okta" and "OKTA" are one vendor. The
    service layer says so politely; this constraint holds under concurrent writes. Set from the
    name whenever the name is set (``_keep_name_key`` below), and by an INSERT that gives only
    the name."""
    return Field(
        max_length=KEY_MAX_LENGTH,
        unique=True,
        sa_column_kwargs={"default": _key_of_inserted_name},
    )


class Vendor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = NameKeyField()
    # Bumped by every update (models.bump_version): a form sent with an older version is a
    # conflict, not a silent overwrite of someone else's change.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    legal_name: str = Field(default="", max_length=300)
    website: str = Field(default="", max_length=500)
    # The domains (vendor.example) and single addresses (name@mail.example) its contacts may
    # invite from the portal, kept by staff (email_domains.refusal): lower case, each once.
    email_domains: list[str] = Field(
        default_factory=list, sa_type=sa.JSON, sa_column_kwargs={"server_default": "[]"}
    )
    # What the vendor does for us.
    services: str = Field(default="", sa_type=sa.Text)
    status: VendorStatus = Field(
        default=VendorStatus.prospect, sa_type=enum_type(VendorStatus, "vendor_status"), index=True
    )
    criticality: Criticality = Field(
        default=Criticality.medium, sa_type=enum_type(Criticality, "criticality"), index=True
    )
    substitutability: Substitutability = Field(
        default=Substitutability.moderate, sa_type=enum_type(Substitutability, "substitutability")
    )
    # Who in our organisation answers for the relationship (a name or an email address).
    business_owner: str = Field(default="", max_length=200)
    contract_start: date | None = Field(default=None)
    contract_end: date | None = Field(default=None)
    next_review: date | None = Field(default=None, index=True)
    notes: str = Field(default="", sa_type=sa.Text)
    # The inherent-risk factors the latest submitted intake declares (factor -> risk fraction,
    # scoring.inherent.declared_from): inherent risk counts the higher of them and the inventory.
    declared_risk: dict = Field(
        default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"server_default": "{}"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )


class SystemKind(StrEnum):
    identity_provider = "identity_provider"
    wiki = "wiki"
    ticketing = "ticketing"
    source_control = "source_control"
    ci_cd = "ci_cd"
    cloud_account = "cloud_account"
    database = "database"
    data_warehouse = "data_warehouse"
    crm = "crm"
    email = "email"
    chat = "chat"
    file_storage = "file_storage"
    hr = "hr"
    finance = "finance"
    monitoring = "monitoring"
    endpoint_management = "endpoint_management"
    support = "support"
    other = "other"


class Environment(StrEnum):
    production = "production"
    staging = "staging"
    development = "development"
    corporate = "corporate"


class System(SQLModel, table=True):
    """An internal asset that credentials open and that holds data and credentials."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = NameKeyField()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    kind: SystemKind = Field(default=SystemKind.other, sa_type=enum_type(SystemKind, "system_kind"))
    environment: Environment = Field(
        default=Environment.production, sa_type=enum_type(Environment, "environment")
    )
    owner: str = Field(default="", max_length=200)
    # Whether an interactive login to the system requires MFA (a barrier for stolen passwords,
    # not for tokens and service accounts).
    mfa_required: bool = Field(default=False)
    description: str = Field(default="", sa_type=sa.Text)
    # The vendor that runs the system for us (a SaaS application): its breach reaches the system.
    operator_vendor_id: int | None = Field(
        default=None, foreign_key="vendor.id", index=True, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )


class DataCategory(SQLModel, table=True):
    __tablename__ = "data_category"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = NameKeyField()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    sensitivity: Sensitivity = Field(
        default=Sensitivity.medium, sa_type=enum_type(Sensitivity, "sensitivity")
    )
    description: str = Field(default="", sa_type=sa.Text)


class SystemData(SQLModel, table=True):
    """A system holds records of a data category."""

    __tablename__ = "system_data"

    system_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    data_category_id: int = Field(
        foreign_key="data_category.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    records: int | None = Field(default=None, sa_type=sa.BigInteger)


class VendorData(SQLModel, table=True):
    """Data we send the vendor directly."""

    __tablename__ = "vendor_data"

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    data_category_id: int = Field(
        foreign_key="data_category.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    records: int | None = Field(default=None, sa_type=sa.BigInteger)


class CredentialKind(StrEnum):
    api_token = "api_token"
    oauth_grant = "oauth_grant"
    service_account = "service_account"
    user_account = "user_account"
    sso_admin = "sso_admin"
    support_access = "support_access"
    ssh_key = "ssh_key"
    vpn = "vpn"
    # A stolen session (a cookie, a bearer token from a HAR file): it carries its sign-in's MFA.
    session_token = "session_token"


class Privilege(StrEnum):
    read = "read"
    write = "write"
    admin = "admin"


class CredentialStatus(StrEnum):
    active = "active"
    revoked = "revoked"


class Credential(SQLModel, table=True):
    """An access grant: METADATA ONLY. There is deliberately no column for a secret value."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = NameKeyField()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    kind: CredentialKind = Field(sa_type=enum_type(CredentialKind, "credential_kind"))
    # The vendor holding it (None: held by no vendor, e.g. one of ours stored in a system).
    holder_vendor_id: int | None = Field(
        default=None, foreign_key="vendor.id", index=True, ondelete="RESTRICT"
    )
    # The system it opens.
    system_id: int = Field(foreign_key="system.id", index=True, ondelete="RESTRICT")
    privilege: Privilege = Field(default=Privilege.read, sa_type=enum_type(Privilege, "privilege"))
    interactive: bool = Field(default=False)  # a person logs in with it (else machine use)
    mfa_enforced: bool = Field(default=False)
    phishing_resistant_mfa: bool = Field(default=False)
    ip_restricted: bool = Field(default=False)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rotation_period_days: int | None = Field(default=None)
    owner: str = Field(default="", max_length=200)
    status: CredentialStatus = Field(
        default=CredentialStatus.active,
        sa_type=enum_type(CredentialStatus, "credential_status"),
        index=True,
    )
    notes: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )


def _keep_name_key(target: Any, value: Any, _old: Any, _initiator: Any) -> None:
    target.name_key = name_key(value) if isinstance(value, str) else value


class NetworkZone(SQLModel, table=True):
    """A network zone: its systems can connect to those of the zones it reaches."""

    __tablename__ = "network_zone"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = NameKeyField()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    description: str = Field(default="", sa_type=sa.Text)


class ZoneReach(SQLModel, table=True):
    """Systems of zone ``from_zone_id`` can connect to the systems of ``to_zone_id``."""

    __tablename__ = "zone_reach"
    __table_args__ = (sa.CheckConstraint("from_zone_id <> to_zone_id", name="not_itself"),)

    from_zone_id: int = Field(foreign_key="network_zone.id", primary_key=True, ondelete="CASCADE")
    to_zone_id: int = Field(
        foreign_key="network_zone.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class SystemZone(SQLModel, table=True):
    """A system is in a network zone."""

    __tablename__ = "system_zone"

    system_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    zone_id: int = Field(
        foreign_key="network_zone.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class SystemOpenZone(SQLModel, table=True):
    """A system accepts connections with no sign-in from the systems of a zone."""

    __tablename__ = "system_open_zone"

    system_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    zone_id: int = Field(
        foreign_key="network_zone.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class Federation(SQLModel, table=True):
    """System ``system_id`` trusts the identity provider ``identity_provider_id`` for sign-in,
    granting ``privilege``; ``mfa_enforced``: it asks its own MFA on top."""

    __table_args__ = (
        sa.UniqueConstraint("identity_provider_id", "system_id"),
        sa.CheckConstraint("identity_provider_id <> system_id", name="not_itself"),
    )

    id: int | None = Field(default=None, primary_key=True)
    identity_provider_id: int = Field(foreign_key="system.id", ondelete="CASCADE")
    system_id: int = Field(foreign_key="system.id", index=True, ondelete="CASCADE")
    privilege: Privilege = Field(default=Privilege.read, sa_type=enum_type(Privilege, "privilege"))
    mfa_enforced: bool = Field(default=False)


class SoftwareSupply(SQLModel, table=True):
    """System ``system_id`` runs software supplied by vendor ``vendor_id`` with ``privilege``."""

    __tablename__ = "software_supply"
    __table_args__ = (sa.UniqueConstraint("system_id", "vendor_id", "software"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="system.id", ondelete="CASCADE")
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    software: str = Field(default="", max_length=200)
    privilege: Privilege = Field(default=Privilege.admin, sa_type=enum_type(Privilege, "privilege"))
    automatic_updates: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class FourthParty(SQLModel, table=True):
    """A subprocessor of our vendors that is not one of our vendors."""

    __tablename__ = "fourth_party"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = NameKeyField()
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    service: str = Field(default="", sa_type=sa.Text)


# Whenever a name is set (a new row, a rename), its key follows, whoever sets it.
for _named in (Vendor, System, DataCategory, Credential, NetworkZone, FourthParty):
    sa.event.listen(_named.name, "set", _keep_name_key)


class CredentialCopy(SQLModel, table=True):
    """A copy of the credential is stored inside a system (a token pasted in a ticket, a key
    in a repository): whoever reaches the system can take it."""

    __tablename__ = "credential_copy"

    credential_id: int = Field(foreign_key="credential.id", primary_key=True, ondelete="CASCADE")
    system_id: int = Field(
        foreign_key="system.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class SubprocessorLink(SQLModel, table=True):
    """Vendor A relies on vendor B, or on a fourth party that is not our vendor, and passes it
    some of our data: exactly one of ``subprocessor_id`` and ``fourth_party_id`` is set."""

    __tablename__ = "subprocessor_link"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "subprocessor_id"),
        sa.UniqueConstraint(
            "vendor_id", "fourth_party_id", name="uq_subprocessor_link_vendor_id_fourth_party_id"
        ),
        sa.CheckConstraint("vendor_id <> subprocessor_id", name="not_itself"),
        sa.CheckConstraint(
            "(subprocessor_id IS NULL) <> (fourth_party_id IS NULL)", name="one_subprocessor"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    subprocessor_id: int | None = Field(
        default=None, foreign_key="vendor.id", index=True, ondelete="CASCADE"
    )
    fourth_party_id: int | None = Field(
        default=None, foreign_key="fourth_party.id", index=True, ondelete="CASCADE"
    )
    purpose: str = Field(default="", max_length=500)


class SubprocessorData(SQLModel, table=True):
    __tablename__ = "subprocessor_data"

    link_id: int = Field(foreign_key="subprocessor_link.id", primary_key=True, ondelete="CASCADE")
    data_category_id: int = Field(
        foreign_key="data_category.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    records: int | None = Field(default=None, sa_type=sa.BigInteger)  # records passed


# ---- versions: optimistic locking of what forms edit ------------------------------------------

VERSIONED = (Vendor, System, DataCategory, Credential, NetworkZone, FourthParty)


def _bump_version(mapper, connection, target) -> None:
    target.version = (target.version or 0) + 1


for _model in VERSIONED:
    sa.event.listen(_model, "before_update", _bump_version)


# The dashboards list the vendors due for reassessment by status and date from this index alone.
sa.Index("ix_vendor_status_next_review", Vendor.status, Vendor.next_review)
