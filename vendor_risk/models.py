"""Every table of vendor-risk.

``table=True`` models skip validation in ``__init__``: forms and services validate first.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .db import UTCDateTime, utcnow
from .names import KEY_MAX_LENGTH, NAME_MAX_LENGTH, name_key


def enum_type(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum column: a VARCHAR with a named CHECK constraint (no PostgreSQL ENUM type,
    so adding a value is an ordinary migration on both databases)."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Role(StrEnum):
    admin = "admin"
    procurement = "procurement"
    risk_officer = "risk_officer"
    vendor_contact = "vendor_contact"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


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
    crm = "crm"
    email = "email"
    chat = "chat"
    file_storage = "file_storage"
    hr = "hr"
    finance = "finance"
    monitoring = "monitoring"
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )


class Sensitivity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def level(self) -> int:
        return list(Sensitivity).index(self) + 1


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


# Whenever a name is set (a new row, a rename), its key follows, whoever sets it.
for _named in (Vendor, System, DataCategory, Credential):
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
    """Vendor A relies on vendor B (a fourth party) and passes it some of our data."""

    __tablename__ = "subprocessor_link"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "subprocessor_id"),
        sa.CheckConstraint("vendor_id <> subprocessor_id", name="not_itself"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    subprocessor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    purpose: str = Field(default="", max_length=500)


class SubprocessorData(SQLModel, table=True):
    __tablename__ = "subprocessor_data"

    link_id: int = Field(foreign_key="subprocessor_link.id", primary_key=True, ondelete="CASCADE")
    data_category_id: int = Field(
        foreign_key="data_category.id", primary_key=True, index=True, ondelete="RESTRICT"
    )


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'vendor_contact' AND vendor_id IS NOT NULL)"
            " OR (role <> 'vendor_contact' AND vendor_id IS NULL)",
            name="vendor_contact_has_vendor",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Stored normalised (trimmed, lower case) by the service layer, so the unique constraint
    # makes addresses unique case-insensitively.
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=enum_type(Role, "role"), index=True)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id", index=True)
    active: bool = Field(default=True)
    # TOTP: the secret is set when enrolment starts and confirmed by the first valid code.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last accepted 30-second step: a code from this step or an earlier one is a replay.
    totp_last_step: int | None = Field(default=None, sa_type=sa.BigInteger)
    # SHA-256 of each unused recovery code (80 random bits each, so a fast hash is enough).
    recovery_code_hashes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # What Flask-Login keeps in the session; replacing it ends every session of the user.
    session_token: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_confirmed_at is not None


class AuditOutcome(StrEnum):
    success = "success"
    failure = "failure"
    denied = "denied"


class AuditAction(StrEnum):
    """The fixed vocabulary of audited actions. Stored as text (not a CHECK constraint) so that
    adding an action never rebuilds the append-only table."""

    login_password = "auth.login.password"
    login_mfa = "auth.login.mfa"
    login_recovery_code = "auth.login.recovery_code"
    login_failed = "auth.login.failed"
    logout = "auth.logout"
    session_timeout = "auth.session.timeout"
    password_changed = "account.password.changed"
    mfa_enrolled = "account.mfa.enrolled"
    mfa_failed = "account.mfa.failed"
    recovery_codes_regenerated = "account.recovery_codes.regenerated"
    user_created = "admin.user.created"
    user_disabled = "admin.user.disabled"
    user_enabled = "admin.user.enabled"
    user_mfa_reset = "admin.user.mfa_reset"
    user_password_set = "admin.user.password_set"
    rate_limited = "auth.rate_limited"
    access_denied = "access.denied"
    inventory_imported = "inventory.imported"
    inventory_exported = "inventory.exported"
    report_exported = "report.exported"  # a PDF report: which, of what, its content SHA-256
    vendor_created = "inventory.vendor.created"
    vendor_updated = "inventory.vendor.updated"
    vendor_deleted = "inventory.vendor.deleted"
    system_created = "inventory.system.created"
    system_updated = "inventory.system.updated"
    system_deleted = "inventory.system.deleted"
    data_category_created = "inventory.data_category.created"
    data_category_updated = "inventory.data_category.updated"
    data_category_deleted = "inventory.data_category.deleted"
    credential_created = "inventory.credential.created"
    credential_updated = "inventory.credential.updated"
    credential_deleted = "inventory.credential.deleted"
    incident_opened = "incident.opened"
    incident_credential_rotated = "incident.credential.rotated"
    incident_credential_revoked = "incident.credential.revoked"
    incident_closed = "incident.closed"
    questionnaire_version_created = "questionnaire.version_created"
    request_created = "request.created"
    request_sent = "request.sent"
    request_submitted = "request.submitted"
    request_review_started = "request.review_started"
    request_returned = "request.returned"
    request_accepted = "request.accepted"
    request_cancelled = "request.cancelled"
    request_exported = "request.exported"
    request_imported = "request.imported"
    reminder_sent = "request.reminder_sent"
    invite_sent = "invite.sent"
    invite_revoked = "invite.revoked"
    invite_redeemed = "invite.redeemed"
    evidence_uploaded = "evidence.uploaded"
    evidence_deleted = "evidence.deleted"
    evidence_downloaded = "evidence.downloaded"
    finding_opened = "finding.opened"
    finding_updated = "finding.updated"
    finding_note_added = "finding.note_added"
    finding_file_uploaded = "finding.file_uploaded"
    finding_file_downloaded = "finding.file_downloaded"
    risk_accepted = "finding.risk_accepted"
    risk_acceptance_ended = "finding.risk_acceptance_ended"
    rating_overridden = "rating.overridden"
    rating_override_cleared = "rating.override_cleared"
    assessment_decided = "assessment.decided"
    vendors_rescored = "scoring.rescored"


class AuditEvent(SQLModel, table=True):
    """Append-only and hash-chained: database triggers reject UPDATE and DELETE, and each
    event's hash covers the previous one, so a changed or removed row breaks the chain."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, sa_type=sa.BigInteger)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    # The actor as known at the time: an email address, or "system" for the CLI and jobs.
    actor: str = Field(max_length=320)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    vendor_id: int | None = Field(default=None, index=True)
    outcome: AuditOutcome = Field(sa_type=enum_type(AuditOutcome, "audit_outcome"))
    ip: str | None = Field(default=None, max_length=64)
    details: dict = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


# ---- incidents: a recorded breach of a vendor and its rotation checklist ------------------------


class IncidentStatus(StrEnum):
    open = "open"
    closed = "closed"


class Incident(SQLModel, table=True):
    """A vendor was breached: when it began, when we found out, and how the rotation ended.

    The breach start and detection are known to the day (midnight UTC); the other moments are
    recorded to the second."""

    __table_args__ = (
        sa.CheckConstraint("detected_at >= started_at", name="detected_after_start"),
        sa.CheckConstraint(
            "(status = 'open' AND closed_at IS NULL AND closed_by_id IS NULL"
            " AND exception_reason IS NULL) OR (status = 'closed' AND closed_at IS NOT NULL)",
            name="closed_consistently",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="RESTRICT")
    title: str = Field(max_length=200)
    started_at: datetime = Field(sa_type=UTCDateTime)  # when the breach began
    detected_at: datetime = Field(sa_type=UTCDateTime)
    notes: str = Field(default="", sa_type=sa.Text)
    status: IncidentStatus = Field(
        default=IncidentStatus.open,
        sa_type=enum_type(IncidentStatus, "incident_status"),
        index=True,
    )
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # Why a risk officer closed it with credentials still in the rotation gap (None otherwise).
    exception_reason: str | None = Field(default=None, sa_type=sa.Text)


class ChecklistReason(StrEnum):
    """Why a credential is on an incident's rotation checklist."""

    # Either way the attacker has it: it is in the rotation gap until dealt with.
    held = "held"  # the breached vendor holds it
    stored = "stored"  # a copy is stored in a system the breach reaches


class ChecklistAction(StrEnum):
    pending = "pending"
    rotated = "rotated"
    revoked = "revoked"


class IncidentCredential(SQLModel, table=True):
    """One line of an incident's rotation checklist, made from the blast radius when the
    incident was opened. Its primary key leads with incident_id: that is the index the
    incident page reads the checklist by."""

    __tablename__ = "incident_credential"
    __table_args__ = (
        sa.CheckConstraint(
            "(action = 'pending' AND acted_at IS NULL AND acted_by_id IS NULL)"
            " OR (action <> 'pending' AND acted_at IS NOT NULL)",
            name="acted_consistently",
        ),
    )

    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    # RESTRICT: a credential on a checklist is not deleted (revoke it instead).
    credential_id: int = Field(
        foreign_key="credential.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    reason: ChecklistReason = Field(sa_type=enum_type(ChecklistReason, "checklist_reason"))
    # The reached systems that kept a copy, by name as they were when the incident was opened.
    stored_in: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    action: ChecklistAction = Field(
        default=ChecklistAction.pending, sa_type=enum_type(ChecklistAction, "checklist_action")
    )
    acted_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    acted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- versions: optimistic locking of what forms edit ------------------------------------------

VERSIONED = (Vendor, System, DataCategory, Credential)


def _bump_version(mapper, connection, target) -> None:
    target.version = (target.version or 0) + 1


for _model in VERSIONED:
    sa.event.listen(_model, "before_update", _bump_version)


# ---- portfolio aggregates: kept up to date, never recomputed per page view ---------------------


class PortfolioState(SQLModel, table=True):
    """One row (id 1). Database triggers on every inventory table add one to
    ``inventory_version`` in the transaction that changes the inventory (imports and cascades
    included); the aggregates below are fresh while ``computed_version`` equals it."""

    __tablename__ = "portfolio_state"

    id: int = Field(default=1, primary_key=True)
    inventory_version: int = Field(default=0, sa_type=sa.BigInteger)
    computed_version: int | None = Field(default=None, sa_type=sa.BigInteger)
    computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Credentials per rotation status (services.inventory.RotationStatus) at computed_at.
    rotation_counts: dict = Field(default_factory=dict, sa_type=sa.JSON)


class VendorReach(SQLModel, table=True):
    """A vendor's blast radius in figures and its inherent-risk tier, as last computed."""

    __tablename__ = "vendor_reach"

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    systems_despite_controls: int = Field(index=True)
    systems_if_controls_fail: int
    categories_despite_controls: int
    # The highest sensitivity (0: none, 1 low .. 4 critical) of the data reached despite controls.
    max_sensitivity: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    inherent_score: float
    inherent_tier: str = Field(max_length=16, index=True)
    # What inherent risk was computed from (scoring.inherent.Profile as a dict): scores are
    # computed again from it without reading the inventory.
    profile: dict = Field(
        default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"server_default": "{}"}
    )


class SystemReach(SQLModel, table=True):
    """How many vendors' breach (each alone) reaches a system: concentration."""

    __tablename__ = "system_reach"

    system_id: int = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    vendors_despite_controls: int = Field(index=True)
    vendors_if_controls_fail: int


# ---- questionnaires: immutable versions, requests, invites, answers, evidence ----------------


class Questionnaire(SQLModel, table=True):
    """A questionnaire by its stable key (the file's ``id``); its content lives in versions."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=300)  # of the latest version
    audience: str = Field(max_length=16)  # vendor or internal
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuestionnaireVersion(SQLModel, table=True):
    """One content of a questionnaire, never changed once stored: a request points at the
    version it was sent with forever. ``definition`` is the normalised document
    (vendor_risk.questionnaire.model.Questionnaire.to_document)."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),
        sa.UniqueConstraint(
            "questionnaire_id", "content_hash", name="uq_questionnaire_version_content_hash"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    questionnaire_id: int = Field(foreign_key="questionnaire.id", ondelete="RESTRICT")
    number: int  # 1, 2, 3... per questionnaire, in the order stored
    author_version: int  # the file's own ``version``
    content_hash: str = Field(max_length=64)  # SHA-256 of the canonical JSON
    title: str = Field(max_length=300)
    question_count: int
    definition: dict = Field(sa_type=sa.JSON)
    source: str = Field(max_length=300)  # a file name, "vsaq:FILE" or "edited in the app"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )


class RequestStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    in_progress = "in_progress"
    submitted = "submitted"
    under_review = "under_review"
    returned = "returned"  # returned for clarification
    accepted = "accepted"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return (
            "returned for clarification"
            if self is RequestStatus.returned
            else (self.value.replace("_", " "))
        )


class QuestionnaireRequest(SQLModel, table=True):
    """A questionnaire version sent to a vendor (or filled internally, for the intake)."""

    __tablename__ = "questionnaire_request"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="RESTRICT")
    version_id: int = Field(foreign_key="questionnaire_version.id", ondelete="RESTRICT")
    status: RequestStatus = Field(
        default=RequestStatus.draft,
        sa_type=enum_type(RequestStatus, "request_status"),
        index=True,
    )
    due_on: date | None = Field(default=None, index=True)
    # Answers carried over from this earlier accepted request of the same vendor (reassessment).
    previous_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    # Kept up to date with each answer saved, so lists show progress without reading answers.
    answered_count: int = Field(default=0)
    question_count: int = Field(default=0)  # answerable questions of the version
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # The day the last reminder went out: at most one a day per request.
    last_reminded_on: date | None = Field(default=None)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Invite(SQLModel, table=True):
    """A single-use link to a vendor's requests, sent by email. Only the SHA-256 of its
    256-bit token is stored: the link itself exists only in the message."""

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", index=True, ondelete="CASCADE"
    )
    email: str = Field(max_length=320, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    sent_count: int = Field(default=0)
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Answer(SQLModel, table=True):
    """One answer of a request, saved on its own as it is given (autosave). ``version`` grows
    with each save: a save based on an older version is a conflict, never an overwrite."""

    request_id: int = Field(
        foreign_key="questionnaire_request.id", primary_key=True, ondelete="CASCADE"
    )
    question_id: str = Field(max_length=100, primary_key=True)
    # The normalised answer (vendor_risk.questionnaire.conditions.validate_answer); None: cleared.
    value: dict | list | str | int | float | None = Field(default=None, sa_type=sa.JSON)
    comment: str = Field(default="", sa_type=sa.Text)
    version: int = Field(default=1)
    carried_over: bool = Field(default=False)  # prefilled from the previous accepted request
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # Review: what the reviewer asks the vendor (shown to them) and notes vendors never see.
    clarification: str = Field(default="", sa_type=sa.Text)
    internal_note: str = Field(default="", sa_type=sa.Text)


class Evidence(SQLModel, table=True):
    """A file uploaded as evidence for an answer: stored outside static under a random name,
    served only as an attachment to that vendor's contacts and staff."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="questionnaire_request.id", index=True, ondelete="CASCADE")
    question_id: str = Field(max_length=100)
    filename: str = Field(max_length=255)  # as uploaded, cleaned; shown and sent back
    stored_name: str = Field(max_length=64, unique=True)  # random; the file on disk
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    content_type: str = Field(max_length=100)  # detected from the content, not the name
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    uploaded_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )


class OutboxMessage(SQLModel, table=True):
    """An email as sent (or, without SMTP settings in development, only recorded here and in
    the log): the admins' outbox page lists them."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = Field(default="", sa_type=sa.Text)


# ---- scoring: per-request totals, score snapshots, the current rating -------------------------


class RequestScore(SQLModel, table=True):
    """A request's answers reduced to per-section totals (scoring.control.section_totals),
    rewritten with every answer saved, so rescoring reads one row per request instead of its
    answers."""

    __tablename__ = "request_score"

    request_id: int = Field(
        foreign_key="questionnaire_request.id", primary_key=True, ondelete="CASCADE"
    )
    totals: list = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoreTrigger(StrEnum):
    """What made the app compute a vendor's score again."""

    submitted = "submitted"  # a request was submitted
    answers_changed = "answers_changed"  # an answer changed after submission (review, import)
    accepted = "accepted"  # a risk officer accepted a request: its answers count, settled
    cancelled = "cancelled"  # a submitted request was cancelled: its answers count no more
    decision = "decision"  # a review decision was recorded
    inventory_changed = "inventory_changed"  # credentials, data, MFA, criticality...
    parameters_changed = "parameters_changed"  # the scoring method's version changed
    rescore = "rescore"  # asked for: the rescore command or a risk officer

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class VendorScore(SQLModel, table=True):
    """One computation of a vendor's scores, kept for ever: the history is the trend. ``inputs``
    is everything the computation read (scoring.residual.Residual.inputs), so the score can be
    reproduced, and explained again (services.scoring.explain) whenever it is shown."""

    __tablename__ = "vendor_score"
    __table_args__ = (sa.Index("ix_vendor_score_vendor_computed", "vendor_id", "computed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    # The request whose answers count (the latest submitted or accepted); None before any.
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    trigger: ScoreTrigger = Field(sa_type=enum_type(ScoreTrigger, "score_trigger"))
    parameters_version: int
    inherent_score: float
    inherent_tier: str = Field(max_length=16)
    control_score: float | None = Field(default=None)
    exposure_score: float
    residual_score: float
    residual_tier: str = Field(max_length=16)
    critical_failures: int = Field(default=0)
    # The facts the rating misses (scoring.MISSING_WORDS keys separated by spaces, in that
    # order; "" when complete), each counted at its cautious value: services.scoring.missing_text.
    missing: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    # The rating with the answers no risk officer has accepted yet (None: none awaiting).
    provisional_score: float | None = Field(default=None)
    provisional_tier: str | None = Field(default=None, max_length=16)
    inputs: dict = Field(default_factory=dict, sa_type=sa.JSON)


class VendorRating(SQLModel, table=True):
    """Each vendor's current rating: the latest score's figures (for lists and dashboards to
    filter and sort with an index), and a risk officer's override kept beside them, never in
    their place."""

    __tablename__ = "vendor_rating"

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    score_id: int = Field(foreign_key="vendor_score.id", ondelete="CASCADE")
    computed_at: datetime = Field(sa_type=UTCDateTime)
    parameters_version: int = Field(index=True)
    # SHA-256 of the score's inputs: a computation from the same inputs adds no snapshot.
    inputs_digest: str = Field(max_length=64)
    control_score: float | None = Field(default=None)
    exposure_score: float
    residual_score: float = Field(index=True)
    residual_tier: str = Field(max_length=16, index=True)
    critical_failures: int = Field(default=0)
    # As in its score: the facts it misses ("" when complete), which the vendor list filters
    # on, and the provisional rating beside it.
    missing: str = Field(
        default="", max_length=100, index=True, sa_column_kwargs={"server_default": ""}
    )
    provisional_score: float | None = Field(default=None)
    provisional_tier: str | None = Field(default=None, max_length=16)
    override_tier: str | None = Field(default=None, max_length=16)
    override_reason: str = Field(default="", sa_type=sa.Text)
    override_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    override_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- findings, risk acceptances, review decisions -----------------------------------------------


class FindingSeverity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class FindingStatus(StrEnum):
    open = "open"
    in_remediation = "in_remediation"
    resolved = "resolved"
    accepted = "accepted"  # a risk acceptance is in force (it reopens the finding when it ends)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class FindingSource(StrEnum):
    critical_answer = "critical_answer"  # a failing answer to a critical question
    rule = "rule"  # a finding rule of the questionnaire (VSAQ tips) whose condition holds
    manual = "manual"  # written by a risk officer


class Finding(SQLModel, table=True):
    """A weakness to remediate. Automatic findings carry ``rule_key`` (``critical:<question>``
    or ``rule:<id>``), unique per request, so computing them again never duplicates one."""

    __table_args__ = (
        sa.UniqueConstraint("request_id", "rule_key", name="uq_finding_request_rule"),
        sa.Index("ix_finding_vendor_status", "vendor_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    question_id: str | None = Field(default=None, max_length=100)
    source: FindingSource = Field(sa_type=enum_type(FindingSource, "finding_source"))
    rule_key: str | None = Field(default=None, max_length=120)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    remediation: str = Field(default="", sa_type=sa.Text)
    severity: FindingSeverity = Field(
        sa_type=enum_type(FindingSeverity, "finding_severity"), index=True
    )
    status: FindingStatus = Field(
        default=FindingStatus.open, sa_type=enum_type(FindingStatus, "finding_status"), index=True
    )
    # Shown in the vendor's portal, where its contacts answer with notes and files (automatic
    # findings always are; a risk officer may keep a manual one internal).
    visible_to_vendor: bool = Field(default=True)
    # Who remediates (a name or an address, at the vendor or with us).
    owner: str = Field(default="", max_length=200)
    due_on: date | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    created_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class FindingNote(SQLModel, table=True):
    """A remediation note on a finding: by the vendor's contacts, or by staff."""

    __tablename__ = "finding_note"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True, ondelete="CASCADE")
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")


class FindingFile(SQLModel, table=True):
    """Evidence of a remediation, stored like answers' evidence (services.evidence)."""

    __tablename__ = "finding_file"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=64, unique=True)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    content_type: str = Field(max_length=100)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    uploaded_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )


class RiskAcceptance(SQLModel, table=True):
    """A finding's risk accepted until ``expires_on``: with a justification and an approver.
    When it expires (or is withdrawn) ``ended_at`` is set and the finding reopens."""

    __tablename__ = "risk_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True, ondelete="CASCADE")
    justification: str = Field(sa_type=sa.Text)
    approver_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_on: date = Field(index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_reason: str = Field(default="", max_length=200)


class DecisionKind(StrEnum):
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class AssessmentDecision(SQLModel, table=True):
    """A risk officer's decision on a vendor's assessment, with the rating it was taken on and
    the next reassessment date the tier gives."""

    __tablename__ = "assessment_decision"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="questionnaire_request.id", ondelete="SET NULL"
    )
    score_id: int | None = Field(default=None, foreign_key="vendor_score.id", ondelete="SET NULL")
    decision: DecisionKind = Field(sa_type=enum_type(DecisionKind, "decision_kind"))
    rationale: str = Field(sa_type=sa.Text)
    conditions: str = Field(default="", sa_type=sa.Text)
    tier: str = Field(max_length=16)  # the tier the decision was taken on (override included)
    next_review: date | None = Field(default=None)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")


# ---- dashboards: the portfolio's risk, day by day ----------------------------------------------


class PortfolioDay(SQLModel, table=True):
    """The portfolio's risk figures as they stood at the last write of a day: the dashboard's
    tier, status and heat-map widgets read the latest row (never the 50,000 ratings), its trend
    the rows of past days. Written by services.portfolio_history whenever ratings are written,
    a vendor's status changes or a vendor is deleted. Tiers are effective ones (a risk
    officer's override counts); vendors without a rating count as "unrated"."""

    __tablename__ = "portfolio_day"

    day: date = Field(primary_key=True)  # UTC
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    vendors: int  # every vendor, rated or not
    rated: int
    mean_residual: float | None = Field(default=None)  # of the rated vendors
    # Effective residual tier -> vendors.
    tier_counts: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # Inherent tier -> effective residual tier -> vendors (those with both).
    heat: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # Vendor status -> effective residual tier or "unrated" -> vendors.
    status_tiers: dict = Field(default_factory=dict, sa_type=sa.JSON)
    # Rated vendors whose rating is incomplete, and per missing fact (scoring.MISSING_WORDS
    # key -> vendors); rated vendors with a provisional rating beside theirs.
    incomplete: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    missing: dict = Field(
        default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"server_default": "{}"}
    )
    provisional: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class OpenFindingDay(SQLModel, table=True):
    """Findings still to remediate (open or in remediation) per severity and UTC day opened:
    what the dashboard counts by severity and age, kept by database triggers on ``finding`` in
    the transaction that changes a finding, however it changes (the trigger's statuses are
    services.findings.UNRESOLVED). A count falls to 0 rather than being deleted."""

    __tablename__ = "open_finding_day"

    severity: str = Field(max_length=16, primary_key=True)
    created_on: date = Field(primary_key=True)
    n: int = Field(default=0)


# What the dashboards filter and sort on, beyond the columns' own indexes: the response times
# of the last 90 days; the requests under way, and the vendors due for reassessment, by status
# and date (counted from the index alone); the top vendors by blast radius read in index order.
sa.Index("ix_questionnaire_request_submitted_at", QuestionnaireRequest.submitted_at)
sa.Index("ix_vendor_status_next_review", Vendor.status, Vendor.next_review)
sa.Index(
    "ix_questionnaire_request_status_due_on",
    QuestionnaireRequest.status,
    QuestionnaireRequest.due_on,
)
sa.Index(
    "ix_vendor_reach_blast_radius",
    VendorReach.systems_despite_controls,
    VendorReach.systems_if_controls_fail,
)
