"""Accounts: users, passwords, the second factor and sessions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session, joinedload

from ...db import utcnow
from ...models import STAFF_ROLES, AuditAction, AuditOutcome, Role, User, UserRole, Vendor
from .. import ValidationFailed, audit, mail
from ..audit import Actor
from . import mfa, passwords


def normalise_email(email: str) -> str:
    return email.strip().lower()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def check_email(email: str) -> str:
    """The normalised address, or ValidationFailed with a message for the email field."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": [str(exc)]}) from None
    return normalise_email(email)


def get_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_by_session_token(session: Session, token: str) -> User | None:
    """The user a session belongs to; None once the token was rotated or the user disabled."""
    if not token:
        return None
    # Every page loads its user: the roles come in the same statement (a join, not a second query).
    query = (
        sa.select(User)
        .options(joinedload(User.extra_roles))
        .where(User.session_token == token, User.active.is_(True))
    )
    return session.scalars(query).unique().one_or_none()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[tuple[User, str | None]]:
    """Every user with the name of their vendor (for vendor contacts), in one query."""
    rows = session.execute(
        sa.select(User, Vendor.name)
        .outerjoin(Vendor, User.vendor_id == Vendor.id)
        .order_by(User.active.desc(), User.email)
    ).all()
    return [(user, vendor_name) for user, vendor_name in rows]


def new_user_problems(
    session: Session, *, email: str, name: str, password: str, role: str, vendor_id: int | None
) -> dict[str, list[str]]:
    """Everything wrong with a new user's details, per field (empty: acceptable)."""
    errors: dict[str, list[str]] = {}
    try:
        email = check_email(email)
    except ValidationFailed as exc:
        errors |= exc.errors
    else:
        if get_by_email(session, email):
            errors["email"] = ["A user with this email address already exists."]
    if not name.strip():
        errors["name"] = ["Enter the person's name."]
    problems = passwords.password_problems(password, email=email, name=name)
    if problems:
        errors["password"] = problems
    if role not in set(Role):
        errors["role"] = ["Choose one of the roles."]
    elif Role(role) is Role.vendor_contact and (
        vendor_id is None or session.get(Vendor, vendor_id) is None
    ):
        errors["vendor_id"] = ["A vendor contact belongs to a vendor: choose one."]
    return errors


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    vendor_id: int | None = None,
    extra_roles: Iterable[Role] = (),
    must_change_password: bool = False,
    actor: Actor,
) -> User:
    """A new account. ``role`` is the primary one (the home page); ``extra_roles`` are further
    staff roles. ``must_change_password``: someone else chose the password, so the user
    replaces it at first login."""
    errors = new_user_problems(
        session, email=email, name=name, password=password, role=role, vendor_id=vendor_id
    )
    extra: frozenset[Role] = frozenset()
    if not errors:
        extra = frozenset(Role(r) for r in extra_roles) - {Role(role)}
        errors = role_problems(Role(role), {Role(role), *extra})
    if errors:
        raise ValidationFailed(errors)
    email, name, role = normalise_email(email), name.strip(), Role(role)
    if role is not Role.vendor_contact:
        vendor_id = None
    user = User(
        email=email,
        name=name,
        password_hash=passwords.hash_password(password),
        role=role,
        vendor_id=vendor_id,
        session_token=new_session_token(),
        must_change_password=must_change_password,
    )
    user.extra_roles = [UserRole(role=r) for r in _in_order(extra)]
    session.add(user)
    session.flush()
    details = {"role": str(role)}
    if extra:
        details["roles"] = _names({role, *extra})
    _record_admin(session, AuditAction.user_created, user, actor, **details)
    return user


# ---- roles ---------------------------------------------------------------------------------


def _in_order(roles: Iterable[Role]) -> list[Role]:
    held = set(roles)
    return [r for r in (*STAFF_ROLES, Role.vendor_contact) if r in held]


def _names(roles: Iterable[Role]) -> list[str]:
    return [str(r) for r in _in_order(roles)]


def role_problems(primary: Role, roles: Iterable[Role]) -> dict[str, list[str]]:
    """What is wrong with a set of roles held with ``primary`` as the home page's role."""
    roles = set(roles)
    if Role.vendor_contact in roles | {primary}:
        if roles - {Role.vendor_contact} or primary is not Role.vendor_contact:
            return {"roles": ["A vendor contact holds no staff role, and staff cannot become one."]}
        return {}
    if not roles:
        return {"roles": ["Tick at least one role."]}
    if primary not in roles:
        return {"role": ["The home page's role must be one of the roles ticked."]}
    return {}


def staff_with_role(session: Session, role: Role) -> list[User]:
    """Active users holding ``role``, as their primary role or an additional one (for example
    the recipients of a notification meant for risk officers), by email address."""
    additional = sa.exists().where(UserRole.user_id == User.id, UserRole.role == role)
    return list(
        session.scalars(
            sa.select(User)
            .where(User.active.is_(True), sa.or_(User.role == role, additional))
            .order_by(User.email)
        )
    )


def holders_exist(role: Role) -> sa.Exists:
    """An EXISTS clause: some active user holds ``role`` (for counts gathered in one query)."""
    additional = sa.exists().where(UserRole.user_id == User.id, UserRole.role == role)
    return sa.exists().where(User.active.is_(True), sa.or_(User.role == role, additional))


def _is_last_active_admin(session: Session, user: User) -> bool:
    if not user.active or Role.admin not in user.roles:
        return False
    others = [u for u in staff_with_role(session, Role.admin) if u.id != user.id]
    return not others


def _set_roles(user: User, primary: Role, roles: Iterable[Role]) -> None:
    user.role = primary
    extra = set(roles) - {primary}
    kept = [e for e in user.extra_roles if e.role in extra]
    kept_roles = {e.role for e in kept}
    user.extra_roles = kept + [UserRole(role=r) for r in _in_order(extra - kept_roles)]


def grant_roles(session: Session, user: User, roles: Iterable[Role], *, actor: Actor) -> bool:
    """Add staff roles to a member of staff (the admin of a small team taking on the risk
    officer's and procurement's work); False when they held them all already."""
    new = set(roles) - user.roles
    problems = role_problems(user.role, user.roles | new)
    if problems:
        raise ValidationFailed(problems)
    if not new:
        return False
    before = _names(user.roles)
    _set_roles(user, user.role, user.roles | new)
    session.flush()
    _record_admin(
        session,
        AuditAction.user_updated,
        user,
        actor,
        changes={"roles": {"old": before, "new": _names(user.roles)}},
    )
    return True


def authenticate(session: Session, email: str, password: str, *, actor: Actor) -> User | None:
    """First factor. Every failure is audited and looks the same to the caller."""
    user = get_by_email(session, email)
    if user is None:
        passwords.burn_verification_time(password)
        audit.record(
            session,
            AuditAction.login_failed,
            actor=Actor(label=_typed_address(email), ip=actor.ip),
            outcome=AuditOutcome.failure,
            object_type="user",
            details={"reason": "unknown account", "step": "password"},
        )
        return None
    if not passwords.verify_password(user.password_hash, password):
        reason = "wrong password"
    elif not user.active:
        reason = "account disabled"
    else:
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        _record(session, AuditAction.login_password, user, actor)
        return user
    _refused(session, AuditAction.login_failed, user, actor, reason=reason, step="password")
    return None


def _typed_address(email: str) -> str:
    """What to record of an address typed for an unknown account: the address if it is one,
    never other text (people type passwords into the wrong field)."""
    try:
        return check_email(email)[:320]
    except ValidationFailed:
        return "(not an email address)"


# ---- audit helpers: the user acting on their own account, or an admin acting on a user ----


def _record(session: Session, action: AuditAction, user: User, actor: Actor, **details) -> None:
    audit.record(
        session,
        action,
        actor=Actor(label=user.email, user_id=user.id, ip=actor.ip),
        object_type="user",
        object_id=user.id,
        details=details,
    )


def _refused(session: Session, action: AuditAction, user: User, actor: Actor, **details) -> None:
    audit.record(
        session,
        action,
        actor=Actor(label=user.email, user_id=user.id, ip=actor.ip),
        outcome=AuditOutcome.failure,
        object_type="user",
        object_id=user.id,
        details=details,
    )


def _record_admin(
    session: Session, action: AuditAction, user: User, actor: Actor, **details
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        object_type="user",
        object_id=user.id,
        vendor_id=user.vendor_id,
        details={"email": user.email, **details},
    )


# ---- the second factor ----------------------------------------------------------------------


def _lock(session: Session, user: User) -> None:
    """Re-read the user row with a row lock (PostgreSQL), so two requests presenting the same
    code one after the other cannot both succeed. SQLite's write transactions are already
    serial. Only the user's row: the roles loaded with it come through an outer join, which
    PostgreSQL cannot lock."""
    session.refresh(user, with_for_update={"of": User})


def recovery_code_key() -> bytes:
    """The key of this app's recovery-code digests (mfa.recovery_code_key)."""
    return mfa.recovery_code_key(current_app.config["SECRET_KEY"])


def hash_recovery_codes(codes: list[str]) -> list[str]:
    key = recovery_code_key()
    return [mfa.hash_recovery_code(code, key) for code in codes]


def matching_recovery_code(hashes: list[str], code: str) -> str | None:
    """The stored hash ``code`` matches (new digests, or argon2id hashes stored before)."""
    return mfa.match_recovery_code(hashes, code, recovery_code_key(), passwords.hasher())


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the plain codes are returned to be shown once."""
    codes = mfa.new_recovery_codes()
    user.recovery_code_hashes = hash_recovery_codes(codes)
    return codes


def _accept_totp(session: Session, user: User, code: str, *, actor: Actor, refusal: dict) -> bool:
    """Accept a TOTP code of a step after the last accepted one (so never twice), under the
    row lock; a refusal is audited with ``refusal`` as its action and details."""
    _lock(session, user)
    step = None
    if user.mfa_enrolled:
        step = mfa.matching_step(user.totp_secret or "", code, user.totp_last_step)
    if step is None:
        _refused(session, user=user, actor=actor, **refusal)
        return False
    user.totp_last_step = step
    return True


class AlreadyEnrolled(Exception):
    """Another request confirmed an authenticator first (two tabs, a double submit)."""


@dataclass(frozen=True)
class Enrolment:
    recovery_codes: list[str]


def confirm_enrolment(
    session: Session, user: User, secret: str, code: str, *, actor: Actor
) -> Enrolment | None:
    """Keep the secret being enrolled once a first code proves the app has it; returns the
    recovery codes, shown once."""
    _lock(session, user)
    if user.mfa_enrolled:
        raise AlreadyEnrolled
    step = mfa.matching_step(secret, code, None)
    if step is None:
        _refused(session, AuditAction.mfa_failed, user, actor, step="enrolment")
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    user.totp_confirmed_at = utcnow()
    codes = _new_recovery_codes(user)
    _record(session, AuditAction.mfa_enrolled, user, actor)
    return Enrolment(codes)


def verify_totp(session: Session, user: User, code: str, *, actor: Actor) -> bool:
    return _accept_totp(
        session,
        user,
        code,
        actor=actor,
        refusal={
            "action": AuditAction.login_failed,
            "reason": "wrong or replayed code",
            "step": "totp",
        },
    )


def use_recovery_code(session: Session, user: User, code: str, *, actor: Actor) -> bool:
    """Accept a recovery code once: its hash is removed in the same transaction."""
    _lock(session, user)
    match = None
    if user.mfa_enrolled:
        match = matching_recovery_code(user.recovery_code_hashes, code)
    if match is None:
        _refused(
            session,
            AuditAction.login_failed,
            user,
            actor,
            reason="wrong or used recovery code",
            step="recovery",
        )
        return False
    user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != match]
    _record(
        session,
        AuditAction.login_recovery_code,
        user,
        actor,
        remaining=len(user.recovery_code_hashes),
    )
    return True


def record_login(session: Session, user: User, *, actor: Actor, method: str) -> None:
    user.last_login_at = utcnow()
    if method == "totp":
        _record(session, AuditAction.login_mfa, user, actor)


def regenerate_recovery_codes(
    session: Session, user: User, code: str, *, actor: Actor
) -> list[str] | None:
    """New codes replace every old one; a current TOTP code proves the second factor."""
    refusal = {"action": AuditAction.mfa_failed, "step": "recovery codes"}
    if not _accept_totp(session, user, code, actor=actor, refusal=refusal):
        return None
    codes = _new_recovery_codes(user)
    _record(session, AuditAction.recovery_codes_regenerated, user, actor)
    return codes


# ---- an admin edits a user: name, roles, email (confirmed by its owner) ------------------

# How long the link sent to a new address works.
EMAIL_CHANGE_HOURS = 48
EMAIL_CHANGE_SALT = "vendor-risk email change"


@dataclass(frozen=True)
class UserUpdate:
    changed: bool
    # The confirmation email sent to a new address (None when the address did not change).
    confirmation: object | None = None


def update_problems(
    session: Session, user: User, *, name: str, email: str, role: str, roles: Iterable[str]
) -> dict[str, list[str]]:
    """Everything wrong with a user's new details, per field (empty: acceptable)."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Enter the person's name."]
    try:
        new_email = check_email(email)
    except ValidationFailed as exc:
        errors |= exc.errors
    else:
        other = get_by_email(session, new_email)
        if other is not None and other.id != user.id:
            errors["email"] = ["Another user has this email address."]
    known = {r.value for r in Role}
    if role not in known or not set(roles) <= known:
        return errors | {"roles": ["Choose among the roles offered."]}
    role, roles = Role(role), {Role(r) for r in roles}
    problems = role_problems(role, roles)
    errors |= problems
    if not problems and Role.admin not in roles and _is_last_active_admin(session, user):
        errors["roles"] = [
            f"{user.email} is the last active admin: give another active account the admin "
            "role first, or nobody could manage users any more."
        ]
    return errors


def update_user(
    session: Session,
    user: User,
    *,
    name: str,
    email: str,
    role: Role,
    roles: Iterable[Role],
    actor: Actor,
) -> UserUpdate:
    """An admin changes a user's name, roles and address. A new address is only pending: its
    owner confirms it by the link emailed to it, and the old one stays in force until then.
    Entering the current address again cancels a pending change. Refused: a vendor contact
    with a staff role (or staff made a contact), and the last active admin losing the role."""
    errors = update_problems(session, user, name=name, email=email, role=role, roles=roles)
    if errors:
        raise ValidationFailed(errors)
    name, new_email = name.strip(), normalise_email(email)
    role, roles = Role(role), {Role(r) for r in roles}
    changes: dict[str, dict] = {}
    if name != user.name:
        changes["name"] = {"old": user.name, "new": name}
        user.name = name
    if roles != user.roles or role is not user.role:
        changes["roles"] = {"old": _names(user.roles), "new": _names(roles)}
        if role is not user.role:
            changes["home_role"] = {"old": str(user.role), "new": str(role)}
        _set_roles(user, role, roles)
    confirmation = None
    if new_email == user.email:
        if user.pending_email:
            changes["email"] = {"old": user.email, "cancelled": user.pending_email}
            user.pending_email = None
    elif new_email != user.pending_email:
        changes["email"] = {"old": user.email, "pending": new_email}
        user.pending_email = new_email
        confirmation = _send_email_confirmation(session, user)
    if not changes:
        return UserUpdate(changed=False)
    session.flush()
    _record_admin(session, AuditAction.user_updated, user, actor, changes=changes)
    return UserUpdate(changed=True, confirmation=confirmation)


def resend_email_confirmation(session: Session, user: User, *, actor: Actor):
    """Send the link for the pending address again (the previous one keeps working)."""
    if not user.pending_email:
        raise ValidationFailed({"": ["No new address is waiting for confirmation."]})
    message = _send_email_confirmation(session, user)
    _record_admin(session, AuditAction.user_updated, user, actor, resent_to=user.pending_email)
    return message


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EMAIL_CHANGE_SALT)


def _send_email_confirmation(session: Session, user: User):
    token = _serializer().dumps({"user": user.id, "email": user.pending_email})
    body = mail.render_body(
        "email_change.txt",
        name=user.name,
        old_email=user.email,
        new_email=user.pending_email,
        link=mail.absolute_url("auth.confirm_email", token=token),
        hours=EMAIL_CHANGE_HOURS,
    )
    subject = "Confirm your new address for vendor-risk"
    return mail.send_mail(session, to=user.pending_email, subject=subject, body=body)


INVALID_LINK = (
    "This link is not valid or has expired. Ask an administrator to send a new one from your "
    "user page."
)
USED_LINK = (
    "This link was already used, or a newer change replaced it: the address it confirms is not "
    "waiting for confirmation any more."
)


def email_change_of(session: Session, token: str) -> tuple[User, str]:
    """The user and the new address a confirmation link stands for, or ValidationFailed with
    the reason (forged, expired, used, replaced)."""
    try:
        data = _serializer().loads(token, max_age=EMAIL_CHANGE_HOURS * 3600)
    except (SignatureExpired, BadSignature):
        raise ValidationFailed({"": [INVALID_LINK]}) from None
    if not isinstance(data, dict):
        raise ValidationFailed({"": [INVALID_LINK]})
    user_id, email = data.get("user"), data.get("email")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not isinstance(email, str) or user.pending_email != email:
        raise ValidationFailed({"": [USED_LINK]})
    return user, email


def confirm_email_change(session: Session, token: str, *, actor: Actor) -> User:
    """The owner of the new address followed the link: it becomes the account's address."""
    user, email = email_change_of(session, token)
    other = get_by_email(session, email)
    if other is not None and other.id != user.id:
        raise ValidationFailed({"": ["Another account uses this address now: ask an admin."]})
    old = user.email
    user.email = email
    user.pending_email = None
    session.flush()
    _record(session, AuditAction.user_email_changed, user, actor, old=old, new=email)
    return user


# ---- passwords and sessions ----------------------------------------------------------------


def _replace_password(user: User, new: str) -> None:
    """A new password ends every session of the user (the session token changes)."""
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()


def change_password(session: Session, user: User, *, current: str, new: str, actor: Actor) -> None:
    """Change the password and end every other session of the user (the caller keeps its own
    by logging in again with the new token)."""
    errors: dict[str, list[str]] = {}
    if not passwords.verify_password(user.password_hash, current):
        errors["current_password"] = ["This is not your current password."]
    problems = passwords.password_problems(new, email=user.email, name=user.name)
    if problems:
        errors["new_password"] = problems
    elif new == current:
        errors["new_password"] = ["Choose a password different from the current one."]
    if errors:
        _refused(session, AuditAction.password_changed, user, actor, fields=sorted(errors))
        raise ValidationFailed(errors)
    _replace_password(user, new)
    user.must_change_password = False
    _record(session, AuditAction.password_changed, user, actor)


def set_password(session: Session, user: User, new: str, *, actor: Actor) -> None:
    """An admin sets a new password for someone who lost theirs; their sessions end."""
    problems = passwords.password_problems(new, email=user.email, name=user.name)
    if problems:
        raise ValidationFailed({"password": problems})
    _replace_password(user, new)
    # Someone else knows it: the user chooses their own at their next login.
    user.must_change_password = True
    _record_admin(session, AuditAction.user_password_set, user, actor)


def logout(session: Session, user: User, *, actor: Actor) -> None:
    """End the session on the server: the session token is replaced, so a copy of the cookie
    taken before logout is worthless. Every other session of the user ends too."""
    user.session_token = new_session_token()
    _record(session, AuditAction.logout, user, actor)


# ---- administration ------------------------------------------------------------------------


def set_active(session: Session, user: User, active: bool, *, actor: Actor) -> None:
    if actor.user_id == user.id and not active:
        raise ValidationFailed({"": ["You cannot disable your own account."]})
    if not active and _is_last_active_admin(session, user):
        raise ValidationFailed({"": [f"{user.email} is the last active admin."]})
    if user.active == active:
        return
    user.active = active
    # Disabling ends every session at once; re-enabling starts from a fresh login.
    user.session_token = new_session_token()
    action = AuditAction.user_enabled if active else AuditAction.user_disabled
    _record_admin(session, action, user, actor)


def reset_mfa(session: Session, user: User, *, actor: Actor) -> None:
    """Forget the user's authenticator and recovery codes: they enrol again at next login."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.recovery_code_hashes = []
    user.session_token = new_session_token()
    _record_admin(session, AuditAction.user_mfa_reset, user, actor)


def count_users(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
