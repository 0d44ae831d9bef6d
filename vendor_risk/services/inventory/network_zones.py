"""Network zones: the choices a form offers, create and update (the fields a form may set, and
the zones a zone reaches), and deletion with what goes with it (issue 14).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ...models import AuditAction, NetworkZone, System, SystemOpenZone, SystemZone, ZoneReach
from .. import ValidationFailed
from ..audit import Actor
from .edits import _apply, _checked, _flush, _names, _problems, _record, check_version

ZONE_FIELDS = ("name", "description")
ZONE_TEXT = ("name", "description")


def zone_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(NetworkZone.id, NetworkZone.name).order_by(sa.func.lower(NetworkZone.name))
    return [(row.id, row.name) for row in session.execute(query)]


def get_zone(session: Session, zone_id: int) -> NetworkZone | None:
    return session.get(NetworkZone, zone_id)


def zone_problems(
    session: Session, values: Mapping[str, Any], *, zone_id: int | None = None
) -> dict[str, list[str]]:
    return _problems(session, NetworkZone, values, ZONE_TEXT, zone_id)


def reached_zones(session: Session, zone: NetworkZone) -> tuple[str, ...]:
    """The names of the zones this one reaches."""
    return _names(
        session,
        sa.select(NetworkZone.name)
        .join(ZoneReach, ZoneReach.to_zone_id == NetworkZone.id)
        .where(ZoneReach.from_zone_id == zone.id)
        .order_by(sa.func.lower(NetworkZone.name)),
    )


def create_zone(session: Session, values: Mapping[str, Any], *, actor: Actor) -> NetworkZone:
    zone = NetworkZone(**_checked(session, NetworkZone, values, ZONE_FIELDS, ZONE_TEXT))
    session.add(zone)
    _flush(session, NetworkZone)
    _record(
        session,
        AuditAction.network_zone_created,
        actor=actor,
        object_type="network_zone",
        object_id=zone.id,
        name=zone.name,
    )
    return zone


def update_zone(
    session: Session,
    zone: NetworkZone,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None = None,
) -> list[str]:
    check_version(session, zone, expected_version, values)
    values = _checked(session, NetworkZone, values, ZONE_FIELDS, ZONE_TEXT, zone.id)
    changed = _apply(zone, values)
    if changed:
        _flush(session, NetworkZone)
        _record(
            session,
            AuditAction.network_zone_updated,
            actor=actor,
            object_type="network_zone",
            object_id=zone.id,
            name=zone.name,
            changed=changed,
        )
    return changed


def set_reaches(
    session: Session, zone: NetworkZone, zone_ids: Collection[int], *, actor: Actor
) -> bool:
    """Replace the zones this one reaches; True when they changed."""
    wanted = set(zone_ids)
    if zone.id in wanted:
        raise ValidationFailed({"reaches": ["A zone cannot reach itself."]})
    known = set(session.scalars(sa.select(NetworkZone.id).where(NetworkZone.id.in_(wanted))))
    if known != wanted:
        raise ValidationFailed({"reaches": ["Unknown network zone."]})
    current = set(
        session.scalars(sa.select(ZoneReach.to_zone_id).where(ZoneReach.from_zone_id == zone.id))
    )
    if current == wanted:
        return False
    session.execute(
        sa.delete(ZoneReach).where(
            ZoneReach.from_zone_id == zone.id, ZoneReach.to_zone_id.in_(current - wanted)
        )
    )
    session.add_all(ZoneReach(from_zone_id=zone.id, to_zone_id=z) for z in wanted - current)
    session.flush()
    _record(
        session,
        AuditAction.network_zone_updated,
        actor=actor,
        object_type="network_zone",
        object_id=zone.id,
        name=zone.name,
        changed=["reaches"],
    )
    return True


@dataclass(frozen=True)
class ZoneDeletion:
    """What deleting a zone removes with it: nothing stops it."""

    members: tuple[str, ...]  # systems in it: they leave the zone
    open_to: tuple[str, ...]  # systems accepting unauthenticated access from it: no longer
    reaches: tuple[str, ...]  # zones it reaches: the reach goes
    reached_from: tuple[str, ...]  # zones reaching it: the reach goes

    @property
    def blocked(self) -> bool:
        return False


def zone_deletion(session: Session, zone: NetworkZone) -> ZoneDeletion:
    def systems(model) -> tuple[str, ...]:
        return _names(
            session,
            sa.select(System.name)
            .join(model, model.system_id == System.id)
            .where(model.zone_id == zone.id)
            .order_by(sa.func.lower(System.name)),
        )

    other = aliased(NetworkZone)
    return ZoneDeletion(
        members=systems(SystemZone),
        open_to=systems(SystemOpenZone),
        reaches=reached_zones(session, zone),
        reached_from=_names(
            session,
            sa.select(other.name)
            .join(ZoneReach, ZoneReach.from_zone_id == other.id)
            .where(ZoneReach.to_zone_id == zone.id)
            .order_by(sa.func.lower(other.name)),
        ),
    )


def delete_zone(session: Session, zone: NetworkZone, *, actor: Actor) -> ZoneDeletion:
    plan = zone_deletion(session, zone)
    zone_id, name = zone.id, zone.name
    session.delete(zone)
    session.flush()
    _record(
        session,
        AuditAction.network_zone_deleted,
        actor=actor,
        object_type="network_zone",
        object_id=zone_id,
        name=name,
        systems_removed=len(plan.members),
    )
    return plan
