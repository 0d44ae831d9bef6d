"""Sign-in federations: a system trusting an identity provider (another system) for sign-in,
with the privilege it grants and whether it asks its own MFA on top; both directions of a
system's page, and adding or removing one on the trusting system's audit trail (issue 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...db import row_id
from ...models import AuditAction, Federation, Privilege, System
from .. import ValidationFailed
from ..audit import Actor
from .edits import _record

UNKNOWN_SYSTEM = "Choose one of the listed options."  # as the form says


@dataclass(frozen=True)
class FederationRow:
    federation_id: int
    system_id: int  # the system at the other end: the identity provider, or the trusting one
    system_name: str
    privilege: Privilege
    mfa_enforced: bool


@dataclass(frozen=True)
class Federations:
    signs_in_via: tuple[FederationRow, ...]  # identity providers this system trusts
    trusted_by: tuple[FederationRow, ...]  # systems trusting this one for sign-in


def federations(session: Session, system_id: int) -> Federations:
    """Both directions in one statement."""
    trusting = Federation.system_id == system_id
    other_id = sa.case((trusting, Federation.identity_provider_id), else_=Federation.system_id)
    rows = session.execute(
        sa.select(
            Federation.id,
            other_id.label("other_id"),
            System.name,
            Federation.privilege,
            Federation.mfa_enforced,
            trusting.label("trusting"),
        )
        .join(System, System.id == other_id)
        .where(sa.or_(trusting, Federation.identity_provider_id == system_id))
        .order_by(sa.func.lower(System.name), Federation.id)
    ).all()

    def row(r) -> FederationRow:
        return FederationRow(r.id, r.other_id, r.name, r.privilege, r.mfa_enforced)

    return Federations(
        signs_in_via=tuple(row(r) for r in rows if r.trusting),
        trusted_by=tuple(row(r) for r in rows if not r.trusting),
    )


def get_federation(session: Session, system_id: int, federation_id: int) -> Federation | None:
    """A federation of ``system_id`` as the trusting system (the one whose page removes it)."""
    return session.scalar(
        sa.select(Federation).where(
            Federation.id == federation_id, Federation.system_id == system_id
        )
    )


def federation_problems(
    session: Session, system: System, values: Mapping[str, Any]
) -> dict[str, list[str]]:
    """The identity provider: another system that exists, not trusted already."""
    provider = values.get("identity_provider_id")
    if provider is None:
        return {}  # the form says it is required
    provider_id = row_id(provider)
    if provider_id == system.id:
        return {"identity_provider_id": ["A system cannot sign users in via itself."]}
    name = (
        session.scalar(sa.select(System.name).where(System.id == provider_id))
        if provider_id is not None
        else None
    )
    if name is None:
        return {"identity_provider_id": [UNKNOWN_SYSTEM]}
    if session.scalar(
        sa.select(Federation.id).where(
            Federation.system_id == system.id, Federation.identity_provider_id == provider_id
        )
    ):
        return {"identity_provider_id": [f"{system.name} already signs users in via {name}."]}
    return {}


def add_federation(
    session: Session,
    system: System,
    *,
    identity_provider_id: int,
    privilege: Privilege,
    mfa_enforced: bool,
    actor: Actor,
) -> Federation:
    values = {"identity_provider_id": identity_provider_id}
    errors = federation_problems(session, system, values)
    if errors:
        raise ValidationFailed(errors)
    federation = Federation(
        identity_provider_id=identity_provider_id,
        system_id=system.id,
        privilege=Privilege(privilege),
        mfa_enforced=bool(mfa_enforced),
    )
    session.add(federation)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # added, or the provider deleted, by a concurrent request
        raise ValidationFailed(
            {"identity_provider_id": ["This identity provider is already trusted, or is gone."]}
        ) from None
    _record_federation(session, system, federation, "sign-in federation added", actor)
    return federation


def remove_federation(
    session: Session, system: System, federation: Federation, *, actor: Actor
) -> None:
    session.delete(federation)
    session.flush()
    _record_federation(session, system, federation, "sign-in federation removed", actor)


def _record_federation(
    session: Session, system: System, federation: Federation, change: str, actor: Actor
) -> None:
    _record(
        session,
        AuditAction.system_updated,
        actor=actor,
        object_type="system",
        object_id=system.id,
        name=system.name,
        change=change,
        identity_provider=session.scalar(
            sa.select(System.name).where(System.id == federation.identity_provider_id)
        ),
        identity_provider_id=federation.identity_provider_id,
        privilege=str(federation.privilege),
        mfa_enforced=federation.mfa_enforced,
    )
