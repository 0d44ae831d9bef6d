"""Systems: their list page, the choices a form offers, create and update (the fields a form
may set), and deletion with what it removes and what stops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ...models import (
    AuditAction,
    Credential,
    CredentialCopy,
    Federation,
    NetworkZone,
    SoftwareSupply,
    System,
    SystemData,
    SystemOpenZone,
    SystemZone,
    Vendor,
)
from .. import ValidationFailed
from ..audit import Actor
from ..pages import Page, one_page
from .data_holdings import holdings
from .edits import (
    _apply,
    _checked,
    _flush,
    _names,
    _problems,
    _record,
    check_version,
)
from .list_queries import _contains, _count_by, _name_contains

# What a form may set on a system: field names equal model attributes. The free-text ones
# are checked for secret-looking values.
SYSTEM_FIELDS = ("name", "kind", "environment", "owner", "mfa_required", "description")
SYSTEM_TEXT = ("name", "owner", "description")


def system_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(System.id, System.name).order_by(sa.func.lower(System.name))
    return [(row.id, row.name) for row in session.execute(query)]


@dataclass(frozen=True)
class SystemRow:
    id: int
    name: str
    kind: str
    environment: str
    owner: str
    mfa_required: bool
    opened_by: int  # credentials that open it
    stored: int  # credentials with a copy stored in it
    data_categories: int


def search_systems(
    session: Session, *, search: str | None = None, page: int = 1
) -> Page[SystemRow]:
    opened = _count_by(Credential.system_id)
    stored = _count_by(CredentialCopy.system_id)
    data = _count_by(SystemData.system_id)
    query = (
        sa.select(
            System.id,
            System.name,
            System.kind,
            System.environment,
            System.owner,
            System.mfa_required,
            sa.func.coalesce(opened.c.n, 0),
            sa.func.coalesce(stored.c.n, 0),
            sa.func.coalesce(data.c.n, 0),
        )
        .outerjoin(opened, opened.c.key == System.id)
        .outerjoin(stored, stored.c.key == System.id)
        .outerjoin(data, data.c.key == System.id)
        .order_by(sa.func.lower(System.name), System.id)
    )
    if search:
        query = query.where(sa.or_(_name_contains(System, search), _contains(System.owner, search)))
    return one_page(session, query, page, lambda row: SystemRow(*row[:9]))


def get_system(session: Session, system_id: int) -> System | None:
    return session.get(System, system_id)


def system_problems(
    session: Session, values: Mapping[str, Any], *, system_id: int | None = None
) -> dict[str, list[str]]:
    return _problems(session, System, values, SYSTEM_TEXT, system_id)


def create_system(session: Session, values: Mapping[str, Any], *, actor: Actor) -> System:
    system = System(**_checked(session, System, values, SYSTEM_FIELDS, SYSTEM_TEXT))
    session.add(system)
    _flush(session, System)
    _record(
        session,
        AuditAction.system_created,
        actor=actor,
        object_type="system",
        object_id=system.id,
        name=system.name,
    )
    return system


def update_system(
    session: Session,
    system: System,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None = None,
) -> list[str]:
    check_version(session, system, expected_version, values)
    values = _checked(session, System, values, SYSTEM_FIELDS, SYSTEM_TEXT, system.id)
    changed = _apply(system, values)
    if changed:
        _flush(session, System)
        _record(
            session,
            AuditAction.system_updated,
            actor=actor,
            object_type="system",
            object_id=system.id,
            name=system.name,
            changed=changed,
        )
    return changed


@dataclass(frozen=True)
class SystemDeletion:
    holdings: tuple[str, ...]  # data categories it holds: removed with it
    stored: tuple[str, ...]  # credentials with a copy stored in it: the copies are removed
    opened_by: tuple[tuple[int, str], ...]  # credentials that open it: block the deletion
    zones: tuple[str, ...] = ()  # zones it is in or accepts unauthenticated access from
    trusted_by: tuple[str, ...] = ()  # systems trusting it for sign-in: federations removed
    signs_in_via: tuple[str, ...] = ()  # identity providers it trusts: federations removed
    software: tuple[str, ...] = ()  # "vendor: software" running on it: records removed
    operated_by: str | None = None  # the vendor that runs it (stays a vendor)

    @property
    def blocked(self) -> bool:
        return bool(self.opened_by)


def system_deletion(session: Session, system: System) -> SystemDeletion:
    opened_by = session.execute(
        sa.select(Credential.id, Credential.name)
        .where(Credential.system_id == system.id)
        .order_by(sa.func.lower(Credential.name))
    )
    return SystemDeletion(
        holdings=tuple(h.name for h in holdings(session, system)),
        stored=_names(
            session,
            sa.select(Credential.name)
            .join(CredentialCopy, CredentialCopy.credential_id == Credential.id)
            .where(CredentialCopy.system_id == system.id)
            .order_by(sa.func.lower(Credential.name)),
        ),
        opened_by=tuple((row.id, row.name) for row in opened_by),
        **_edges_of(session, system),
    )


def _edges_of(session: Session, system: System) -> dict[str, Any]:
    """The blast-radius edges of the system (issue 14) that go with it."""
    zone_ids = sa.union(
        sa.select(SystemZone.zone_id).where(SystemZone.system_id == system.id),
        sa.select(SystemOpenZone.zone_id).where(SystemOpenZone.system_id == system.id),
    ).subquery()
    other = aliased(System)

    def federated(mine, theirs) -> tuple[str, ...]:
        return _names(
            session,
            sa.select(other.name)
            .join(Federation, theirs == other.id)
            .where(mine == system.id)
            .order_by(sa.func.lower(other.name)),
        )

    return {
        "zones": _names(
            session,
            sa.select(NetworkZone.name)
            .where(NetworkZone.id.in_(sa.select(zone_ids.c.zone_id)))
            .order_by(sa.func.lower(NetworkZone.name)),
        ),
        "trusted_by": federated(Federation.identity_provider_id, Federation.system_id),
        "signs_in_via": federated(Federation.system_id, Federation.identity_provider_id),
        "software": tuple(
            f"{row.name}: {row.software}" if row.software else row.name
            for row in session.execute(
                sa.select(Vendor.name, SoftwareSupply.software)
                .join(SoftwareSupply, SoftwareSupply.vendor_id == Vendor.id)
                .where(SoftwareSupply.system_id == system.id)
                .order_by(sa.func.lower(Vendor.name), SoftwareSupply.software)
            )
        ),
        "operated_by": session.scalar(
            sa.select(Vendor.name).where(Vendor.id == system.operator_vendor_id)
        )
        if system.operator_vendor_id is not None
        else None,
    }


def delete_system(session: Session, system: System, *, actor: Actor) -> SystemDeletion:
    plan = system_deletion(session, system)
    if plan.blocked:
        raise ValidationFailed({"": ["Credentials still open this system."]})
    system_id, name = system.id, system.name
    session.delete(system)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise ValidationFailed({"": ["Credentials still open this system."]}) from None
    _record(
        session,
        AuditAction.system_deleted,
        actor=actor,
        object_type="system",
        object_id=system_id,
        name=name,
        data_categories_removed=list(plan.holdings),
        copies_removed=len(plan.stored),
    )
    return plan
