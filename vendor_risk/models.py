"""Every table of vendor-risk.

``table=True`` models skip validation in ``__init__``: forms and services validate first.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .db import UTCDateTime, utcnow


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


class Vendor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    website: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=sa.Text)
    status: VendorStatus = Field(
        default=VendorStatus.prospect, sa_type=enum_type(VendorStatus, "vendor_status"), index=True
    )
    # Who in our organisation answers for the relationship (a name or an email address).
    internal_owner: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
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

    login_password = "auth.login.password"  # noqa: S105 - an action name
    login_mfa = "auth.login.mfa"
    login_recovery_code = "auth.login.recovery_code"
    login_failed = "auth.login.failed"
    logout = "auth.logout"
    session_timeout = "auth.session.timeout"
    password_changed = "account.password.changed"  # noqa: S105 - an action name
    mfa_enrolled = "account.mfa.enrolled"
    mfa_failed = "account.mfa.failed"
    recovery_codes_regenerated = "account.recovery_codes.regenerated"
    user_created = "admin.user.created"
    user_disabled = "admin.user.disabled"
    user_enabled = "admin.user.enabled"
    user_mfa_reset = "admin.user.mfa_reset"
    user_password_set = "admin.user.password_set"  # noqa: S105 - an action name
    rate_limited = "auth.rate_limited"
    access_denied = "access.denied"


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
