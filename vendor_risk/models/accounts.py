"""Accounts: users and their roles.

A user's ``role`` is their primary role: it decides their home page (and, for a vendor contact,
that they belong to a vendor). Staff may hold further staff roles (``user_role``): the founder
of a small team is admin, risk officer and procurement at once. ``User.roles`` is the set of
both, and every access check asks it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import relationship
from sqlmodel import Field, Relationship, SQLModel

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


# The roles a member of staff can hold, in the order menus and lists show them. A vendor
# contact holds no other role.
STAFF_ROLES = (Role.admin, Role.risk_officer, Role.procurement)


class UserRole(SQLModel, table=True):
    """A staff role a user holds besides their primary one (``User.role``)."""

    __tablename__ = "user_role"
    __table_args__ = (
        # The service refuses staff roles to vendor contacts; the database at least refuses
        # the vendor-contact role here (a contact is one by their primary role only).
        sa.CheckConstraint("role <> 'vendor_contact'", name="staff_only"),
    )

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    role: Role = Field(sa_type=enum_type(Role, "role"), primary_key=True)


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
    # Set when someone else chose the password (an admin, the command line, quickstart): the
    # user changes it after logging in, before any other page.
    must_change_password: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    # A new address an admin entered, in force once its owner follows the emailed link.
    pending_email: str | None = Field(default=None, max_length=320)
    # Loaded with the user (one more query per user loaded, not per role asked; the signed-in
    # user of a page is loaded with them in one statement, users.get_by_session_token).
    # (The target is named: SQLModel cannot read ``list[UserRole]`` under postponed annotations.)
    extra_roles: list[UserRole] = Relationship(
        sa_relationship=relationship("UserRole", lazy="selectin", cascade="all, delete-orphan")
    )

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
    def roles(self) -> frozenset[Role]:
        """Every role the user holds: the primary one and the additional staff roles."""
        return frozenset({self.role, *(extra.role for extra in self.extra_roles)})

    @property
    def role_labels(self) -> str:
        """ "Admin, Risk officer": the roles held, primary first, then in the usual order."""
        held = self.roles
        ordered = [self.role, *(r for r in (*STAFF_ROLES, Role.vendor_contact) if r in held)]
        return ", ".join(dict.fromkeys(r.label for r in ordered))

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_confirmed_at is not None


class SsoIdentity(SQLModel, table=True):
    """A member of staff as the identity provider knows them: its issuer and their subject
    (``sub``, stable where an address may change or be given to someone else). Single sign-on
    finds the account by this pair, never by the address alone (docs/sso.md)."""

    __tablename__ = "sso_identity"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "subject", name="uq_sso_identity_issuer_subject"),
        # One identity per provider and account: a second subject claiming the same account
        # (an address handed on to someone else) is refused, not linked.
        sa.UniqueConstraint("user_id", "issuer", name="uq_sso_identity_user_issuer"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    # OpenID Connect: an issuer is an https URL; a subject at most 255 ASCII characters.
    issuer: str = Field(max_length=512)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
