"""Invitations: a single-use, expiring link by email that makes or attaches a vendor-contact
account.

The token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is stored, so
once its email is sent the link exists only in the message and a copy of the database opens
nothing (the outbox holds a queued email's body until it is sent, then wipes it). Looking a link
up is a lookup of that hash (an index probe, no comparison of secrets in Python). Resending
makes a new token: the old link stops working. Opening a link (GET) changes nothing, since mail
scanners fetch links; redeeming it is a POST.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ...core import email_domains
from ...db import utcnow
from ...models import (
    AuditAction,
    AuditOutcome,
    Invite,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Role,
    User,
    Vendor,
    VendorStatus,
)
from .. import ValidationFailed, audit, mail
from ..accounts import passwords
from ..accounts import users as accounts
from ..audit import Actor
from .request_status import AWAITING_VENDOR

TOKEN_BYTES = 32  # 256 bits
# What secrets.token_urlsafe(32) produces; anything else is not one of our links.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{40,64}")
NAME_MAX = 200


class InviteState(StrEnum):
    """What a link does now, in the order the checks apply."""

    revoked = "revoked"
    redeemed = "redeemed"
    expired = "expired"
    # The last email failed before the outbox was a queue (now the outbox shows failures).
    not_delivered = "not_delivered"
    sent = "sent"  # usable

    @property
    def label(self) -> str:
        return "not delivered" if self is InviteState.not_delivered else self.value


LIVE = frozenset({InviteState.sent, InviteState.not_delivered})


class InviteRefused(Exception):
    """The link cannot be used by the account its address belongs to. The refusal is audited
    in the session: commit after catching it."""


class InviteNotLive(Exception):
    """The link was revoked, used or has expired (possibly by a request racing this one)."""

    def __init__(self, state: InviteState):
        super().__init__(state.value)
        self.state = state


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state_of(invite: Invite, now: datetime | None = None) -> InviteState:
    now = now or utcnow()
    if invite.revoked_at is not None:
        return InviteState.revoked
    if invite.redeemed_at is not None:
        return InviteState.redeemed
    if invite.expires_at <= now:
        return InviteState.expired
    if invite.last_sent_at is None:
        return InviteState.not_delivered
    return InviteState.sent


def delivered(invite: Invite) -> bool:
    """Whether an email with the current link was queued (the outbox tells whether it then
    went out). False only for invites recorded before the outbox was a queue, whose email
    failed."""
    return invite.last_sent_at is not None


def _new_token(invite: Invite) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite.token_hash = hash_token(token)
    invite.expires_at = utcnow() + timedelta(days=current_app.config["INVITE_DAYS"])
    return token


# ---- sending --------------------------------------------------------------------------------


def _inviter(session: Session, actor: Actor) -> tuple[str, str]:
    """Who invites, as the email names them: a user's name and address, or the app."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        return "vendor-risk", ""
    return user.name, user.email


def _deliver(session: Session, invite: Invite, token: str, *, actor: Actor, resent: bool) -> None:
    """Queue the email with the link (the outbox worker sends it), audit: the token itself
    goes nowhere else (the queued body is held until sent, then wiped)."""
    vendor = session.get(Vendor, invite.vendor_id)
    request = version = None
    if invite.request_id is not None:
        request = session.get(QuestionnaireRequest, invite.request_id)
        version = session.get(QuestionnaireVersion, request.version_id)
    inviter_name, inviter_email = _inviter(session, actor)
    body = mail.render_body(
        "invite.txt",
        vendor=vendor.name,
        inviter_name=inviter_name,
        inviter_email=inviter_email,
        questionnaire=version.title if version else None,
        due_on=request.due_on if request else None,
        link=invite_link(token),
        expires_on=invite.expires_at.date(),
        email=invite.email,
    )
    if version is not None:
        subject = f"Security questionnaire for {vendor.name}: {version.title}"
    else:
        subject = f"Invitation to the vendor portal of {vendor.name}"
    message = mail.send_mail(
        session, to=invite.email, subject=subject, body=body, sender_id=actor.user_id
    )
    _mark_sent(session, invite, actor=actor, message_id=message.id, resent=resent)


def invite_link(token: str) -> str:
    return mail.absolute_url("invites.show", token=token)


def _mark_sent(
    session: Session,
    invite: Invite,
    *,
    actor: Actor,
    message_id: int,
    resent: bool,
    reminder: bool = False,
) -> None:
    """A link was queued for the invite's address: count it, audit it (the outbox tells
    whether the email then went out)."""
    invite.sent_count += 1
    invite.last_sent_at = utcnow()
    session.flush()
    audit.record(
        session,
        AuditAction.invite_sent,
        actor=actor,
        outcome=AuditOutcome.success,
        object_type="invite",
        object_id=invite.id,
        vendor_id=invite.vendor_id,
        details={
            "email": invite.email,
            "request_id": invite.request_id,
            "resent": resent,
            "message_id": message_id,
            **({"reminder": True} if reminder else {}),
        },
    )


def reissue_for_reminder(session: Session, invite: Invite) -> str:
    """A fresh link for a reminder to an invited address that never joined: a new token and
    a new expiry, so the previous link stops working (one live link per invite). Returns the
    link; call :func:`reminder_queued` once the reminder carrying it is queued."""
    return invite_link(_new_token(invite))


def reminder_queued(session: Session, invite: Invite, *, actor: Actor, message_id: int) -> None:
    _mark_sent(session, invite, actor=actor, message_id=message_id, resent=True, reminder=True)


def invite_contact(
    session: Session, *, vendor_id: int, email: str, request_id: int | None, actor: Actor
) -> Invite:
    """Create an invite to the vendor's portal (for one request, or none: "invite a
    colleague"), queue the email with its link and audit it; the outbox worker sends it (and
    records a failure there; :func:`resend` makes a new link). ValidationFailed for a bad
    address ("email"), an unknown or offboarded vendor ("vendor_id") or a request not waiting
    for the vendor."""
    errors: dict[str, list[str]] = {}
    try:
        email = accounts.check_email(email)
    except ValidationFailed as exc:
        errors |= exc.errors
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        errors["vendor_id"] = ["Choose one of the listed vendors."]
    elif vendor.status is VendorStatus.offboarded:
        errors["vendor_id"] = [f"{vendor.name} is offboarded: nobody can be invited for it."]
    if request_id is not None:
        request = session.get(QuestionnaireRequest, request_id)
        if request is None or request.vendor_id != vendor_id:
            errors[""] = ["This request is not one of this vendor's."]
        elif request.status not in AWAITING_VENDOR:
            errors[""] = [f"This request is {request.status.label}: nobody can be invited to it."]
    if errors:
        raise ValidationFailed(errors)
    invite = Invite(
        vendor_id=vendor_id,
        request_id=request_id,
        email=email,
        token_hash="",
        expires_at=utcnow(),
        created_by_id=actor.user_id,
    )
    token = _new_token(invite)
    session.add(invite)
    session.flush()
    _deliver(session, invite, token, actor=actor, resent=False)
    return invite


class ColleagueRefused(ValidationFailed):
    """A vendor contact asked for an address their vendor's email domains do not allow. The
    refusal is audited in the session: commit after catching it."""


def _staff_addresses_near(session: Session, email: str) -> list[str]:
    """Our staff's addresses equal to ``email`` or at its domain (a vendor contact never
    invites them). Staff are few; the query reads no vendor contact's row."""
    domain = email_domains.domain_of(email)
    return list(
        session.scalars(
            sa.select(User.email).where(
                User.role != Role.vendor_contact,
                sa.or_(User.email == email, User.email.endswith(f"@{domain}", autoescape=True)),
            )
        )
    )


def colleague_refusal(session: Session, vendor: Vendor, email: str) -> str | None:
    """Why a contact of ``vendor`` may not invite ``email`` (normalised), or None."""
    return email_domains.refusal(
        email, vendor.email_domains, staff_addresses=_staff_addresses_near(session, email)
    )


def invite_colleague(session: Session, *, vendor_id: int, email: str, actor: Actor) -> Invite:
    """A vendor contact invites a colleague to their vendor's portal (no request): only an
    address the vendor's email domains allow, never one of our staff's (email_domains).
    ValidationFailed at "email" for a malformed address; ColleagueRefused, audited, for one
    the vendor's domains do not allow."""
    email = accounts.check_email(email)
    vendor = session.get(Vendor, vendor_id)
    problem = colleague_refusal(session, vendor, email) if vendor is not None else None
    if problem:
        audit.record(
            session,
            AuditAction.invite_sent,
            actor=actor,
            outcome=AuditOutcome.denied,
            object_type="vendor",
            object_id=vendor_id,
            vendor_id=vendor_id,
            details={"email": email, "reason": "not an address the vendor's domains allow"},
        )
        raise ColleagueRefused({"email": [problem]})
    return invite_contact(session, vendor_id=vendor_id, email=email, request_id=None, actor=actor)


def resend(session: Session, invite: Invite, *, actor: Actor) -> Invite:
    """A new link (and a new expiry) by email; the previous link stops working at once."""
    state = state_of(invite)
    if state in (InviteState.revoked, InviteState.redeemed):
        raise ValidationFailed(
            {"": [f"This invitation was {state.value}: invite the address again instead."]}
        )
    token = _new_token(invite)
    session.flush()
    _deliver(session, invite, token, actor=actor, resent=True)
    return invite


def revoke(session: Session, invite: Invite, *, actor: Actor, reason: str = "") -> None:
    """The link stops working. A used link cannot be revoked: the account exists by then
    (an admin disables it)."""
    state = state_of(invite)
    if state is InviteState.revoked:
        raise ValidationFailed({"": ["This invitation was revoked already."]})
    if state is InviteState.redeemed:
        raise ValidationFailed(
            {"": ["This invitation was used already: ask an admin to disable the account."]}
        )
    invite.revoked_at = utcnow()
    session.flush()
    audit.record(
        session,
        AuditAction.invite_revoked,
        actor=actor,
        object_type="invite",
        object_id=invite.id,
        vendor_id=invite.vendor_id,
        details={"email": invite.email, "request_id": invite.request_id}
        | ({"reason": reason} if reason else {}),
    )


# ---- following a link -----------------------------------------------------------------------


def lookup(session: Session, token: str) -> Invite | None:
    """The invite of a link whatever its state (to explain a dead link), None if unknown."""
    if not _TOKEN_SHAPE.fullmatch(token or ""):
        return None
    return session.scalar(sa.select(Invite).where(Invite.token_hash == hash_token(token)))


def find_live(session: Session, token: str) -> Invite | None:
    """The invite of a link that can still be redeemed; None when unknown, revoked, expired
    or redeemed."""
    invite = lookup(session, token)
    if invite is None or state_of(invite) not in LIVE:
        return None
    return invite


@dataclass(frozen=True)
class InvitePage:
    """What the page of a link shows: whose portal, who invited, what to ask."""

    invite: Invite
    state: InviteState
    vendor_name: str
    inviter_name: str
    inviter_email: str
    questionnaire: str | None
    # The address already has an account that the link attaches to (only a contact of the
    # same vendor: other accounts are never revealed).
    existing_contact: bool


def page_of(session: Session, invite: Invite) -> InvitePage:
    vendor_name = session.scalar(sa.select(Vendor.name).where(Vendor.id == invite.vendor_id))
    inviter = session.get(User, invite.created_by_id) if invite.created_by_id else None
    title = None
    if invite.request_id is not None:
        title = session.scalar(
            sa.select(QuestionnaireVersion.title)
            .join(QuestionnaireRequest, QuestionnaireRequest.version_id == QuestionnaireVersion.id)
            .where(QuestionnaireRequest.id == invite.request_id)
        )
    user = accounts.get_by_email(session, invite.email)
    return InvitePage(
        invite=invite,
        state=state_of(invite),
        vendor_name=vendor_name or "",
        inviter_name=inviter.name if inviter else "",
        inviter_email=inviter.email if inviter else "",
        questionnaire=title,
        existing_contact=_same_vendor_contact(user, invite),
    )


def _same_vendor_contact(user: User | None, invite: Invite) -> bool:
    return (
        user is not None
        and user.active
        and user.role is Role.vendor_contact
        and user.vendor_id == invite.vendor_id
    )


@dataclass(frozen=True)
class Redemption:
    user: User
    created: bool  # a new account (it enrols TOTP next), else an existing contact (logs in)


def redemption_problems(invite: Invite, *, name: str, password: str) -> dict[str, list[str]]:
    """What is wrong with the new account's details, per field (the same password policy and
    messages as everywhere else)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Enter your name."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"Use at most {NAME_MAX} characters."]
    problems = passwords.password_problems(password or "", email=invite.email, name=name)
    if problems:
        errors["password"] = problems
    return errors


def redeem(
    session: Session, invite: Invite, *, name: str = "", password: str = "", actor: Actor
) -> Redemption:
    """Use the link once. An existing contact of the same vendor is attached (they log in);
    an address with any other account is refused without saying whose (InviteRefused, audited:
    commit); otherwise a vendor-contact account is created with ``name`` and ``password``
    (ValidationFailed per field, nothing written). InviteNotLive when another request used,
    or someone revoked, the link first."""
    session.refresh(invite, with_for_update=True)  # two clicks racing: one wins
    state = state_of(invite)
    if state not in LIVE:
        raise InviteNotLive(state)
    who = Actor(label=invite.email, user_id=None, ip=actor.ip)
    user = accounts.get_by_email(session, invite.email)
    if user is not None and not _same_vendor_contact(user, invite):
        audit.record(
            session,
            AuditAction.invite_redeemed,
            actor=who,
            outcome=AuditOutcome.denied,
            object_type="invite",
            object_id=invite.id,
            vendor_id=invite.vendor_id,
            details={"reason": "the address belongs to another kind of account"},
        )
        raise InviteRefused
    created = user is None
    if created:
        errors = redemption_problems(invite, name=name, password=password)
        if errors:
            raise ValidationFailed(errors)
        user = accounts.create_user(
            session,
            email=invite.email,
            name=name.strip(),
            password=password,
            role=Role.vendor_contact,
            vendor_id=invite.vendor_id,
            actor=who,
        )
    invite.redeemed_at = utcnow()
    invite.redeemed_by_id = user.id
    session.flush()
    audit.record(
        session,
        AuditAction.invite_redeemed,
        actor=Actor(label=user.email, user_id=user.id, ip=actor.ip),
        object_type="invite",
        object_id=invite.id,
        vendor_id=invite.vendor_id,
        details={"email": invite.email, "account_created": created},
    )
    return Redemption(user, created)


# ---- staff pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteRow:
    id: int
    email: str
    state: InviteState
    expires_at: datetime
    sent_count: int
    last_sent_at: datetime | None
    redeemed_at: datetime | None
    revoked_at: datetime | None
    invited_by: str

    @property
    def may_resend(self) -> bool:
        return self.state not in (InviteState.revoked, InviteState.redeemed)

    @property
    def may_revoke(self) -> bool:
        return self.state not in (InviteState.revoked, InviteState.redeemed)


def invites_of_request(session: Session, request_id: int) -> list[InviteRow]:
    """A request's invites with their state and who sent them, in one query."""
    rows = session.execute(
        sa.select(Invite, User.name)
        .outerjoin(User, User.id == Invite.created_by_id)
        .where(Invite.request_id == request_id)
        .order_by(Invite.created_at, Invite.id)
    ).all()
    now = utcnow()
    return [
        InviteRow(
            id=invite.id,
            email=invite.email,
            state=state_of(invite, now),
            expires_at=invite.expires_at,
            sent_count=invite.sent_count,
            last_sent_at=invite.last_sent_at,
            redeemed_at=invite.redeemed_at,
            revoked_at=invite.revoked_at,
            invited_by=inviter or "",
        )
        for invite, inviter in rows
    ]


def get_invite(session: Session, invite_id: int, *, request_id: int) -> Invite | None:
    """An invite of this request (another request's invite id is not found)."""
    return session.scalar(
        sa.select(Invite)
        .where(Invite.id == invite_id, Invite.request_id == request_id)
        .with_for_update()
    )


def live_invites_of_request(session: Session, request_id: int) -> list[Invite]:
    now = utcnow()
    invites = session.scalars(
        sa.select(Invite).where(
            Invite.request_id == request_id,
            Invite.revoked_at.is_(None),
            Invite.redeemed_at.is_(None),
            Invite.expires_at > now,
        )
    ).all()
    return list(invites)
