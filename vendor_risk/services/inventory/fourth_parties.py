"""Fourth parties (subprocessors of our vendors that are not our vendors): their list page and
a fourth party's page (the vendors relying on it, with the data they pass), the choices a form
offers, create and update, and deletion with the links that go with it (issue 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import (
    AuditAction,
    DataCategory,
    FourthParty,
    SubprocessorData,
    SubprocessorLink,
    Vendor,
)
from ..audit import Actor
from ..pages import Page, one_page
from .edits import _apply, _checked, _flush, _names, _problems, _record, check_version
from .list_queries import _contains, _count_by, _name_contains

FOURTH_PARTY_FIELDS = ("name", "service")
FOURTH_PARTY_TEXT = ("name", "service")


def fourth_party_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(FourthParty.id, FourthParty.name).order_by(sa.func.lower(FourthParty.name))
    return [(row.id, row.name) for row in session.execute(query)]


@dataclass(frozen=True)
class FourthPartyRow:
    id: int
    name: str
    service: str
    relied_on_by: int  # our vendors relying on it


def search_fourth_parties(
    session: Session, *, search: str | None = None, page: int = 1
) -> Page[FourthPartyRow]:
    # One link per (vendor, fourth party): counting links counts the vendors.
    relying = _count_by(
        SubprocessorLink.fourth_party_id, SubprocessorLink.fourth_party_id.is_not(None)
    )
    query = (
        sa.select(
            FourthParty.id,
            FourthParty.name,
            FourthParty.service,
            sa.func.coalesce(relying.c.n, 0),
        )
        .outerjoin(relying, relying.c.key == FourthParty.id)
        .order_by(sa.func.lower(FourthParty.name), FourthParty.id)
    )
    if search:
        query = query.where(
            sa.or_(_name_contains(FourthParty, search), _contains(FourthParty.service, search))
        )
    return one_page(session, query, page, lambda row: FourthPartyRow(*row[:4]))


@dataclass(frozen=True)
class RelyingVendor:
    vendor_id: int
    name: str
    purpose: str
    data: tuple[tuple[str, int | None], ...]  # (data category, records passed or None)


def relying_vendors(session: Session, party: FourthParty) -> tuple[RelyingVendor, ...]:
    """Our vendors relying on ``party`` with the data each passes to it, in one statement."""
    rows = session.execute(
        sa.select(
            SubprocessorLink.id,
            Vendor.id,
            Vendor.name,
            SubprocessorLink.purpose,
            DataCategory.name,
            SubprocessorData.records,
        )
        .join(Vendor, Vendor.id == SubprocessorLink.vendor_id)
        .outerjoin(SubprocessorData, SubprocessorData.link_id == SubprocessorLink.id)
        .outerjoin(DataCategory, DataCategory.id == SubprocessorData.data_category_id)
        .where(SubprocessorLink.fourth_party_id == party.id)
        .order_by(sa.func.lower(Vendor.name), Vendor.id, sa.func.lower(DataCategory.name))
    )
    found: dict[int, tuple[int, str, str, list[tuple[str, int | None]]]] = {}
    for link_id, vendor_id, name, purpose, category, records in rows:
        entry = found.setdefault(link_id, (vendor_id, name, purpose, []))
        if category is not None:
            entry[3].append((category, records))
    return tuple(
        RelyingVendor(vendor_id, name, purpose, tuple(data))
        for vendor_id, name, purpose, data in found.values()
    )


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
