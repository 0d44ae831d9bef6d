"""Systems: their list page, the choices a form offers, create and update (the fields a form
may set, the vendor operating it and its network zones), and deletion with what it removes
and what stops it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified

from ...db import row_id
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
from .list_queries import _contains, _count_of, _name_contains

# What a form may set on a system: field names equal model attributes. The free-text ones
# are checked for secret-looking values.
SYSTEM_FIELDS = (
    "name",
    "kind",
    "environment",
    "owner",
    "mfa_required",
    "description",
    "operator_vendor_id",
)
SYSTEM_TEXT = ("name", "owner", "description")
# The zone memberships a form sets beside the fields, by the field that sets them.
_ZONE_MODELS = {"zones": SystemZone, "accepts_unauthenticated_from": SystemOpenZone}


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
    operator_vendor_id: int | None = None  # the vendor that runs it (a SaaS application)
    operator: str | None = None


def search_systems(
    session: Session, *, search: str | None = None, page: int = 1
) -> Page[SystemRow]:
    # Counted for the page's rows only: a system opened by 100,000 credentials costs its own
    # index range, not a count of every credential at each page view.
    filters = (
        [sa.or_(_name_contains(System, search), _contains(System.owner, search))] if search else []
    )
    query = (
        sa.select(
            System.id,
            System.name,
            System.kind,
            System.environment,
            System.owner,
            System.mfa_required,
            _count_of(Credential.system_id, System.id),
            _count_of(CredentialCopy.system_id, System.id),
            _count_of(SystemData.system_id, System.id),
            System.operator_vendor_id,
            Vendor.name,
        )
        .outerjoin(Vendor, Vendor.id == System.operator_vendor_id)
        .where(*filters)
        .order_by(System.name_key)
    )
    count = sa.select(sa.func.count()).select_from(System).where(*filters)
    return one_page(session, query, page, lambda row: SystemRow(*row[:11]), count=count)


def systems_operated_by(session: Session, vendor_id: int) -> list[tuple[int, str]]:
    """The systems a vendor runs for us (id, name), by name."""
    query = (
        sa.select(System.id, System.name)
        .where(System.operator_vendor_id == vendor_id)
        .order_by(sa.func.lower(System.name))
    )
    return [(row.id, row.name) for row in session.execute(query)]


def get_system(session: Session, system_id: int) -> System | None:
    return session.get(System, system_id)


def system_problems(
    session: Session,
    values: Mapping[str, Any],
    *,
    system_id: int | None = None,
    zones: Mapping[str, Collection[int] | None] | None = None,
) -> dict[str, list[str]]:
    """The shared checks, a vendor operating it that exists, and ``zones`` (zone ids by the
    field that sets them: ``zones``, ``accepts_unauthenticated_from``) that all exist."""
    return _problems(session, System, values, SYSTEM_TEXT, system_id) | _edge_problems(
        session, values, zones
    )


def _edge_problems(
    session: Session, values: Mapping[str, Any], zones: Mapping[str, Collection[int] | None] | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    operator = values.get("operator_vendor_id")
    if operator is not None and _unknown(session, Vendor, [operator]):
        errors["operator_vendor_id"] = ["Choose one of the listed options."]
    for field, ids in (zones or {}).items():
        if ids and _unknown(session, NetworkZone, ids):
            errors[field] = ["Choose one of the listed network zones."]
    return errors


def _unknown(session: Session, model, ids: Collection[Any]) -> bool:
    """Whether any of ``ids`` is no row of ``model`` (an id no row can have included)."""
    wanted = {row_id(value) for value in ids}
    if None in wanted:
        return True
    found = session.scalar(sa.select(sa.func.count()).where(model.id.in_(wanted)))
    return found != len(wanted)


def system_zones(session: Session, system: System) -> dict[str, list[int]]:
    """The zone ids of the system by the form field that sets them."""
    return {
        field: list(
            session.scalars(
                sa.select(model.zone_id).where(model.system_id == system.id).order_by(model.zone_id)
            )
        )
        for field, model in _ZONE_MODELS.items()
    }


def system_zone_names(session: Session, system: System) -> dict[str, tuple[str, ...]]:
    """The zone names of the system by field, as its page shows them."""
    return {
        field: _names(
            session,
            sa.select(NetworkZone.name)
            .join(model, model.zone_id == NetworkZone.id)
            .where(model.system_id == system.id)
            .order_by(sa.func.lower(NetworkZone.name)),
        )
        for field, model in _ZONE_MODELS.items()
    }


def _set_zones(
    session: Session, system: System, zones: Mapping[str, Collection[int] | None]
) -> list[str]:
    """Make the memberships exactly ``zones`` (a field left None is left as it is); returns
    the fields that changed."""
    current = system_zones(session, system)
    changed = []
    for field, ids in zones.items():
        if ids is None:
            continue
        model = _ZONE_MODELS[field]
        wanted, held = set(ids), set(current[field])
        if wanted == held:
            continue
        session.execute(
            sa.delete(model).where(model.system_id == system.id, model.zone_id.in_(held - wanted))
        )
        session.add_all(model(system_id=system.id, zone_id=z) for z in sorted(wanted - held))
        changed.append(field)
    return changed


def _checked_system(
    session: Session,
    values: Mapping[str, Any],
    zones: Mapping[str, Collection[int] | None],
    system_id: int | None = None,
) -> dict[str, Any]:
    values = _checked(session, System, values, SYSTEM_FIELDS, SYSTEM_TEXT, system_id)
    unknown = set(zones) - set(_ZONE_MODELS)
    if unknown:
        raise ValueError(f"not zone fields of System: {sorted(unknown)}")
    errors = _edge_problems(session, values, zones)
    if errors:
        raise ValidationFailed(errors)
    return values


def _flush_system(session: Session) -> None:
    """Flush; a vendor or zone deleted meanwhile is reported like a name taken meanwhile."""
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise ValidationFailed(
            {"": ["A system with this name, or a vendor or zone it names, changed meanwhile."]}
        ) from None


def create_system(
    session: Session,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    zones: Mapping[str, Collection[int] | None] | None = None,
) -> System:
    """``zones``: zone ids by field (``zones``, ``accepts_unauthenticated_from``)."""
    zones = zones or {}
    system = System(**_checked_system(session, values, zones))
    session.add(system)
    _flush(session, System)
    _set_zones(session, system, zones)
    _flush_system(session)
    _record(
        session,
        AuditAction.system_created,
        actor=actor,
        object_type="system",
        object_id=system.id,
        name=system.name,
        operator_vendor_id=system.operator_vendor_id,
        **{field: sorted(set(ids)) for field, ids in zones.items() if ids},
    )
    return system


def update_system(
    session: Session,
    system: System,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None = None,
    zones: Mapping[str, Collection[int] | None] | None = None,
) -> list[str]:
    """``zones``: zone ids by field; a field left out (or None) keeps its zones."""
    zones = zones or {}
    check_version(session, system, expected_version, values)
    values = _checked_system(session, values, zones, system.id)
    previous_operator = system.operator_vendor_id
    changed = _apply(system, values)
    zones_changed = _set_zones(session, system, zones)
    if zones_changed and not changed:
        # The row's version counts the memberships too: a form opened before is then stale.
        flag_modified(system, "name")
    changed += zones_changed
    if changed:
        _flush_system(session)
        details: dict[str, Any] = {}
        if "operator_vendor_id" in changed:
            details |= {
                "previous_operator_vendor_id": previous_operator,
                "operator_vendor_id": system.operator_vendor_id,
            }
        details |= {field: sorted(set(zones[field] or ())) for field in zones_changed}
        _flush(session, System)
        _record(
            session,
            AuditAction.system_updated,
            actor=actor,
            object_type="system",
            object_id=system.id,
            name=system.name,
            changed=changed,
            **details,
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
