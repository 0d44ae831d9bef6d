"""Accounts: users and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow
from .base import enum_type


class Role(StrEnum):
    admin = "admin"
    procurement = "procurement"
    risk_officer = "risk_officer"
    vendor_contact = "vendor_contact"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


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
    # A keyed, salted SHA-256 digest of each unused recovery code (services/accounts/mfa.py);
    # codes stored before issue 15 are argon2id hashes, still verified as such.
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
