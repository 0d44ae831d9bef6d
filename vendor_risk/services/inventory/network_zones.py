"""Network zones: their list page and a zone's page, the choices a form offers, create and
update (the fields a form may set, and the zones a zone reaches), and deletion with what goes
with it (issue 14).
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
from ..pages import Page, one_page
from .edits import _apply, _checked, _flush, _names, _problems, _record, check_version
from .list_queries import _contains, _count_by, _name_contains

ZONE_FIELDS = ("name", "description")
ZONE_TEXT = ("name", "description")


def zone_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(NetworkZone.id, NetworkZone.name).order_by(sa.func.lower(NetworkZone.name))
    return [(row.id, row.name) for row in session.execute(query)]


@dataclass(frozen=True)
class ZoneRow:
    id: int
    name: str
    description: str
    members: int  # systems in the zone
    open_to: int  # systems accepting unauthenticated access from it
    reaches: int  # zones it reaches
    reached_from: int  # zones reaching it


def search_zones(session: Session, *, search: str | None = None, page: int = 1) -> Page[ZoneRow]:
    members = _count_by(SystemZone.zone_id)
    open_to = _count_by(SystemOpenZone.zone_id)
    reaches = _count_by(ZoneReach.from_zone_id)
    reached_from = _count_by(ZoneReach.to_zone_id)
    query = (
        sa.select(
            NetworkZone.id,
            NetworkZone.name,
            NetworkZone.description,
            sa.func.coalesce(members.c.n, 0),
            sa.func.coalesce(open_to.c.n, 0),
            sa.func.coalesce(reaches.c.n, 0),
            sa.func.coalesce(reached_from.c.n, 0),
        )
        .outerjoin(members, members.c.key == NetworkZone.id)
        .outerjoin(open_to, open_to.c.key == NetworkZone.id)
        .outerjoin(reaches, reaches.c.key == NetworkZone.id)
        .outerjoin(reached_from, reached_from.c.key == NetworkZone.id)
        .order_by(sa.func.lower(NetworkZone.name), NetworkZone.id)
    )
    if search:
        query = query.where(
            sa.or_(_name_contains(NetworkZone, search), _contains(NetworkZone.description, search))
        )
    return one_page(session, query, page, lambda row: ZoneRow(*row[:7]))


@dataclass(frozen=True)
class ZoneNeighbours:
    """A zone's page: (id, name) pairs, each list by name."""

    reaches: tuple[tuple[int, str], ...]  # zones its systems can connect to
    reached_from: tuple[tuple[int, str], ...]  # zones whose systems can connect to it
    members: tuple[tuple[int, str], ...]  # systems in it
    open_to: tuple[tuple[int, str], ...]  # systems accepting unauthenticated access from it


def zone_neighbours(session: Session, zone: NetworkZone) -> ZoneNeighbours:
    """Everything a zone's page lists, in one statement."""
    other = aliased(NetworkZone)
    parts = [
        sa.select(sa.literal("reaches").label("part"), other.id, other.name)
        .join(ZoneReach, ZoneReach.to_zone_id == other.id)
        .where(ZoneReach.from_zone_id == zone.id),
        sa.select(sa.literal("reached_from").label("part"), other.id, other.name)
        .join(ZoneReach, ZoneReach.from_zone_id == other.id)
        .where(ZoneReach.to_zone_id == zone.id),
        *(
            sa.select(sa.literal(part).label("part"), System.id, System.name)
            .join(model, model.system_id == System.id)
            .where(model.zone_id == zone.id)
            for part, model in (("members", SystemZone), ("open_to", SystemOpenZone))
        ),
    ]
    union = sa.union_all(*parts).subquery()
    found: dict[str, list[tuple[int, str]]] = {
        "reaches": [],
        "reached_from": [],
        "members": [],
        "open_to": [],
    }
    rows = session.execute(
        sa.select(union.c.part, union.c.id, union.c.name).order_by(
            sa.func.lower(union.c.name), union.c.id
        )
    )
    for part, row_id, name in rows:
        found[part].append((row_id, name))
    return ZoneNeighbours(**{part: tuple(rows) for part, rows in found.items()})


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
    _record_reach(session, zone, actor)
    return True


def add_reach(session: Session, zone: NetworkZone, to_zone_id: int, *, actor: Actor) -> str:
    """Systems of ``zone`` can now connect to those of ``to_zone_id`` (a cycle is allowed:
    two zones may reach each other); returns the name of the zone reached."""
    if to_zone_id == zone.id:
        raise ValidationFailed({"to_zone_id": ["A zone cannot reach itself."]})
    target = session.get(NetworkZone, to_zone_id)
    if target is None:
        raise ValidationFailed({"to_zone_id": ["Unknown network zone."]})
    if session.get(ZoneReach, (zone.id, to_zone_id)) is not None:
        raise ValidationFailed({"to_zone_id": [f"{zone.name} reaches {target.name} already."]})
    session.add(ZoneReach(from_zone_id=zone.id, to_zone_id=to_zone_id))
    try:
        session.flush()
    except sa.exc.IntegrityError:  # added by a concurrent request
        raise ValidationFailed(
            {"to_zone_id": [f"{zone.name} reaches {target.name} already."]}
        ) from None
    _record_reach(session, zone, actor, reach_added=target.name)
    return target.name


def get_reach(session: Session, zone: NetworkZone, to_zone_id: int) -> ZoneReach | None:
    return session.get(ZoneReach, (zone.id, to_zone_id))


def remove_reach(session: Session, zone: NetworkZone, reach: ZoneReach, *, actor: Actor) -> str:
    """Returns the name of the zone no longer reached."""
    name = session.scalar(sa.select(NetworkZone.name).where(NetworkZone.id == reach.to_zone_id))
    session.delete(reach)
    session.flush()
    _record_reach(session, zone, actor, reach_removed=name)
    return name or ""


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


def _record_reach(session: Session, zone: NetworkZone, actor: Actor, **details) -> None:
    """The audit event of a change to the zones ``zone`` reaches (one shape for all three)."""
    _record(
        session,
        AuditAction.network_zone_updated,
        actor=actor,
        object_type="network_zone",
        object_id=zone.id,
        name=zone.name,
        changed=["reaches"],
        **details,
    )
