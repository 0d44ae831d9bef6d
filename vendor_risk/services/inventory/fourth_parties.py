"""Fourth parties (subprocessors of our vendors that are not our vendors): the choices a form
offers, create and update, and deletion with the links that go with it (issue 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import AuditAction, FourthParty, SubprocessorLink, Vendor
from ..audit import Actor
from .edits import _apply, _checked, _flush, _names, _problems, _record, check_version

FOURTH_PARTY_FIELDS = ("name", "service")
FOURTH_PARTY_TEXT = ("name", "service")


def fourth_party_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(FourthParty.id, FourthParty.name).order_by(sa.func.lower(FourthParty.name))
    return [(row.id, row.name) for row in session.execute(query)]


def get_fourth_party(session: Session, fourth_party_id: int) -> FourthParty | None:
    return session.get(FourthParty, fourth_party_id)


def fourth_party_problems(
    session: Session, values: Mapping[str, Any], *, fourth_party_id: int | None = None
) -> dict[str, list[str]]:
    return _problems(session, FourthParty, values, FOURTH_PARTY_TEXT, fourth_party_id)


def create_fourth_party(
    session: Session, values: Mapping[str, Any], *, actor: Actor
) -> FourthParty:
    party = FourthParty(
        **_checked(session, FourthParty, values, FOURTH_PARTY_FIELDS, FOURTH_PARTY_TEXT)
    )
    session.add(party)
    _flush(session, FourthParty)
    _record(
        session,
        AuditAction.fourth_party_created,
        actor=actor,
        object_type="fourth_party",
        object_id=party.id,
        name=party.name,
    )
    return party


def update_fourth_party(
    session: Session,
    party: FourthParty,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None = None,
) -> list[str]:
    check_version(session, party, expected_version, values)
    values = _checked(
        session, FourthParty, values, FOURTH_PARTY_FIELDS, FOURTH_PARTY_TEXT, party.id
    )
    changed = _apply(party, values)
    if changed:
        _flush(session, FourthParty)
        _record(
            session,
            AuditAction.fourth_party_updated,
            actor=actor,
            object_type="fourth_party",
            object_id=party.id,
            name=party.name,
            changed=changed,
        )
    return changed


@dataclass(frozen=True)
class FourthPartyDeletion:
    """What deleting a fourth party removes with it: nothing stops it."""

    relied_on_by: tuple[str, ...]  # vendors relying on it: their links (and data passed) go

    @property
    def blocked(self) -> bool:
        return False


def fourth_party_deletion(session: Session, party: FourthParty) -> FourthPartyDeletion:
    return FourthPartyDeletion(
        relied_on_by=_names(
            session,
            sa.select(Vendor.name)
            .join(SubprocessorLink, SubprocessorLink.vendor_id == Vendor.id)
            .where(SubprocessorLink.fourth_party_id == party.id)
            .order_by(sa.func.lower(Vendor.name)),
        )
    )


def delete_fourth_party(
    session: Session, party: FourthParty, *, actor: Actor
) -> FourthPartyDeletion:
    plan = fourth_party_deletion(session, party)
    party_id, name = party.id, party.name
    session.delete(party)
    session.flush()
    _record(
        session,
        AuditAction.fourth_party_deleted,
        actor=actor,
        object_type="fourth_party",
        object_id=party_id,
        name=name,
        subprocessor_links_removed=len(plan.relied_on_by),
    )
    return plan
