"""Single sign-on for staff: the account an ID token stands for, found by the provider's
(issuer, subject), linked by a verified address, or created just in time; its roles taken from
the provider's claim at every sign-in. Vendor contacts never sign in this way.

The token reaching :func:`sign_in` has been validated (signature, issuer, audience, expiry,
nonce) by the web layer. Every refusal is audited and raised as :class:`SsoRefused` before
anything is changed, so the caller commits the audit event alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core import sso as rules
from ...db import utcnow
from ...models import AuditAction, AuditOutcome, Role, SsoIdentity, User, UserRole
from .. import audit
from ..audit import Actor
from . import users

# A password hash no password matches (argon2 cannot parse it): an account made by single
# sign-on has no password until an admin sets one.
NO_PASSWORD = "!sso"  # noqa: S105 - not a password: the absence of one


@dataclass(frozen=True)
class SsoPolicy:
    """What the configuration says about single sign-on (config.py, docs/sso.md)."""

    issuer: str
    roles_claim: str
    role_map: Mapping[str, str]
    mfa_amr: tuple[str, ...]
    mfa_acr: tuple[str, ...]
    staff_passwords_disabled: bool = False
    admin_break_glass: bool = False
    email_domain: str = ""
    trust_email: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SsoPolicy:
        return cls(
            issuer=config["SSO_ISSUER"],
            roles_claim=config["SSO_ROLES_CLAIM"],
            role_map=dict(config["SSO_ROLE_MAP"]),
            mfa_amr=tuple(config["SSO_MFA_AMR"]),
            mfa_acr=tuple(config["SSO_MFA_ACR"]),
            staff_passwords_disabled=bool(config["SSO_DISABLE_STAFF_PASSWORDS"]),
            admin_break_glass=bool(config["SSO_ADMIN_BREAK_GLASS"]),
            email_domain=config["SSO_EMAIL_DOMAIN"],
            trust_email=bool(config["SSO_TRUST_EMAIL"]),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)


class SsoRefused(Exception):
    """The provider vouched for someone this app does not let in: ``message`` is for them,
    ``reason`` for the audit trail."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    # The provider asserted a second factor: the app's own TOTP step is skipped.
    mfa_asserted: bool
    created: bool = False
    linked: bool = False


ASK_ADMIN = "Ask an administrator of vendor-risk if you should have access."
NOT_FOR_CONTACTS = (
    "Vendor contacts sign in with their email address, password and authenticator code, not "
    "through the organisation's identity provider."
)


def password_sign_in_allowed(user: User, policy: SsoPolicy) -> bool:
    """Whether ``user`` may sign in with a password: always a vendor contact; staff unless the
    configuration turned staff passwords off (admins then only with the break-glass setting)."""
    if user.role is Role.vendor_contact or not policy.staff_passwords_disabled:
        return True
    return policy.admin_break_glass and Role.admin in user.roles


def refuse_password(session: Session, user: User, *, actor: Actor) -> None:
    """Audit a correct password refused because staff sign in through the provider."""
    users._refused(
        session,
        AuditAction.login_failed,
        user,
        actor,
        reason="password sign-in disabled for staff",
        step="password",
    )


def sign_in(
    session: Session, claims: Mapping[str, Any], *, policy: SsoPolicy, actor: Actor
) -> SsoSignIn:
    """The account the validated ID token ``claims`` stand for, its roles synced from the
    provider's claim; SsoRefused (audited, nothing changed) when it may not sign in."""
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    email = users.normalise_email(str(claims.get("email") or ""))[:320]
    seen = {"issuer": issuer, "subject": subject[:255], "email": email or None}

    def refuse(reason: str, message: str, user: User | None = None):
        audit.record(
            session,
            AuditAction.sso_refused,
            actor=Actor(
                label=email or f"sso:{subject[:200]}",
                user_id=user.id if user is not None else None,
                ip=actor.ip,
            ),
            outcome=AuditOutcome.denied,
            object_type="user",
            object_id=user.id if user is not None else None,
            details={"reason": reason, **seen},
        )
        raise SsoRefused(reason, message)

    if not issuer or not subject or len(subject) > 255:
        refuse("no subject", "The identity provider's answer did not say who you are.")
    if policy.email_domain and not (email and rules.email_at_domain(email, policy.email_domain)):
        refuse(
            "address outside the allowed domain",
            f"Only addresses at {policy.email_domain} may sign in this way. {ASK_ADMIN}",
        )
    roles = [Role(r) for r in rules.mapped_roles(claims, policy.roles_claim, policy.role_map)]
    identity = session.scalar(
        sa.select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )
    user = users.get_user(session, identity.user_id) if identity is not None else None
    link = False
    if user is None and email:
        user = users.get_by_email(session, email)
        link = user is not None
    if user is not None and user.role is Role.vendor_contact:
        refuse("vendor contact", NOT_FOR_CONTACTS, user)
    if user is not None and not user.active:
        refuse("account disabled", f"Your account is disabled. {ASK_ADMIN}", user)
    if not roles:
        refuse(
            "no mapped role",
            "The identity provider does not give you any role in vendor-risk (none of your "
            f"groups is mapped to one). {ASK_ADMIN}",
            user,
        )
    if link:
        if not (claims.get("email_verified") is True or policy.trust_email):
            refuse(
                "address not verified",
                "An account with your address exists, but the identity provider does not say "
                f"the address is verified, so it cannot be linked to you. {ASK_ADMIN}",
                user,
            )
        other = session.scalar(
            sa.select(SsoIdentity).where(
                SsoIdentity.user_id == user.id, SsoIdentity.issuer == issuer
            )
        )
        if other is not None:
            refuse(
                "account linked to another subject",
                "The account with your address belongs to another identity at the provider. "
                + ASK_ADMIN,
                user,
            )
    if user is None and not email:
        refuse("no address", "The identity provider did not give your email address.")

    # Every refusal is behind us: from here the account is made, linked or updated.
    created = user is None
    if created:
        user = _create(session, claims, email, roles, actor=actor)
    else:
        _sync_roles(session, user, roles, actor=actor)
    if identity is None:
        identity = SsoIdentity(user_id=user.id, issuer=issuer, subject=subject)
        session.add(identity)
        if link:
            _record(session, AuditAction.sso_account_linked, user, actor, **seen)
    identity.last_login_at = utcnow()
    if not password_sign_in_allowed(user, policy):
        # A password nobody may use is not one to be made to change.
        user.must_change_password = False
    asserted = rules.mfa_asserted(claims, policy.mfa_amr, policy.mfa_acr)
    session.flush()
    _record(
        session,
        AuditAction.login_sso,
        user,
        actor,
        issuer=issuer,
        mfa_asserted=asserted,
        amr=[v for v in claims.get("amr") or [] if isinstance(v, str)][:10]
        if isinstance(claims.get("amr"), list)
        else None,
        acr=claims.get("acr") if isinstance(claims.get("acr"), str) else None,
    )
    return SsoSignIn(user=user, mfa_asserted=asserted, created=created, linked=link)


# An event of the user's own account, as the password sign-in records it.
_record = users._record


def _create(
    session: Session, claims: Mapping[str, Any], email: str, roles: list[Role], *, actor: Actor
) -> User:
    """The account of someone signing in for the first time, with the roles the provider
    grants: the first is their home page's, the others additional."""
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        name = email.partition("@")[0]
    user = User(
        email=email,
        name=name.strip()[:200],
        password_hash=NO_PASSWORD,
        role=roles[0],
        session_token=users.new_session_token(),
    )
    user.extra_roles = [UserRole(role=r) for r in roles[1:]]
    session.add(user)
    session.flush()
    audit.record(
        session,
        AuditAction.sso_user_created,
        actor=Actor(label=email, user_id=user.id, ip=actor.ip),
        object_type="user",
        object_id=user.id,
        details={"email": email, "role": str(roles[0]), "roles": users._names(roles)},
    )
    return user


def _sync_roles(session: Session, user: User, roles: list[Role], *, actor: Actor) -> None:
    """The provider's claim decides the roles: the first mapped one is the primary role."""
    primary = roles[0]
    if user.role is primary and user.roles == frozenset(roles):
        return
    before, before_primary = users._names(user.roles), str(user.role)
    users._set_roles(user, primary, roles)
    session.flush()
    _record(
        session,
        AuditAction.sso_roles_synced,
        user,
        actor,
        roles={"old": before, "new": users._names(roles)},
        home_role={"old": before_primary, "new": str(primary)},
    )
