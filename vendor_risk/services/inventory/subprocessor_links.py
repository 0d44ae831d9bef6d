"""Subprocessors: the links from a vendor to those it passes our data to (one of our vendors,
or a fourth party that is not), both directions of a vendor's page, adding one (a new fourth
party recorded in the same step) or removing one on the vendor's audit trail, the data passed
on a link (each data category with its own records, added, changed and removed like the
vendor's own holdings), and the portfolio's concentration: how many of our vendors rely on the
same subprocessor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.names import name_key
from ...core.secret_detection import secret_problem
from ...models import (
    AuditAction,
    DataCategory,
    FourthParty,
    SubprocessorData,
    SubprocessorLink,
    Vendor,
)
from .. import ValidationFailed
from ..audit import Actor
from .edits import _names, _record
from .fourth_parties import create_fourth_party

RECORDS_MAX = 2**63 - 1  # the records column is a BIGINT

ALREADY_VENDOR = "This vendor is already one of its subprocessors."
ALREADY_FOURTH_PARTY = "This fourth party is already one of its subprocessors."
RECORDS_PROBLEM = f"Enter a whole number from 0 to {RECORDS_MAX}."
RECORDS_OF_ONE = (
    "Records are one data category's: choose a single category here, or leave the records"
    " empty and enter each category's records on the subprocessor's row once it is added."
)


@dataclass(frozen=True)
class SubprocessorRow:
    link_id: int
    vendor_id: int | None  # the vendor at the other end of the link, if one of ours
    name: str  # the vendor's or the fourth party's
    purpose: str
    data: tuple[tuple[str, int | None], ...]  # (data category, records passed or None)
    fourth_party_id: int | None = None  # a fourth party at the other end
    category_ids: tuple[int, ...] = ()  # the data categories of ``data``, in the same order

    @property
    def data_categories(self) -> tuple[str, ...]:
        return tuple(name for name, _records in self.data)


@dataclass(frozen=True)
class Subprocessors:
    passes_to: tuple[SubprocessorRow, ...]  # subprocessors the vendor relies on
    relied_on_by: tuple[SubprocessorRow, ...]  # vendors relying on this one


def subprocessors(session: Session, vendor_id: int) -> Subprocessors:
    """Both directions in two statements: the links, then the data they pass on."""
    outgoing = SubprocessorLink.vendor_id == vendor_id
    other_id = sa.case(
        (outgoing, SubprocessorLink.subprocessor_id), else_=SubprocessorLink.vendor_id
    )
    name = sa.func.coalesce(Vendor.name, FourthParty.name)
    links = session.execute(
        sa.select(
            SubprocessorLink.id,
            Vendor.id.label("other_id"),
            SubprocessorLink.fourth_party_id,
            name.label("name"),
            SubprocessorLink.purpose,
            outgoing.label("outgoing"),
        )
        .outerjoin(Vendor, Vendor.id == other_id)
        .outerjoin(
            FourthParty, sa.and_(outgoing, FourthParty.id == SubprocessorLink.fourth_party_id)
        )
        .where(sa.or_(outgoing, SubprocessorLink.subprocessor_id == vendor_id))
        .order_by(sa.func.lower(name), SubprocessorLink.id)
    ).all()
    data: dict[int, list[tuple[str, int | None]]] = {}
    category_ids: dict[int, list[int]] = {}
    if links:
        rows = session.execute(
            sa.select(
                SubprocessorData.link_id,
                DataCategory.id,
                DataCategory.name,
                SubprocessorData.records,
            )
            .join(DataCategory, DataCategory.id == SubprocessorData.data_category_id)
            .where(SubprocessorData.link_id.in_([link.id for link in links]))
            .order_by(sa.func.lower(DataCategory.name), DataCategory.id)
        )
        for link_id, category_id, category, records in rows:
            data.setdefault(link_id, []).append((category, records))
            category_ids.setdefault(link_id, []).append(category_id)

    def row(link) -> SubprocessorRow:
        return SubprocessorRow(
            link.id,
            link.other_id,
            link.name,
            link.purpose,
            tuple(data.get(link.id, ())),
            link.fourth_party_id if link.outgoing else None,
            tuple(category_ids.get(link.id, ())),
        )

    return Subprocessors(
        passes_to=tuple(row(link) for link in links if link.outgoing),
        relied_on_by=tuple(row(link) for link in links if not link.outgoing),
    )


def get_subprocessor_link(session: Session, vendor_id: int, link_id: int):
    return session.scalar(
        sa.select(SubprocessorLink).where(
            SubprocessorLink.id == link_id, SubprocessorLink.vendor_id == vendor_id
        )
    )


def _linked(session: Session, vendor: Vendor, *where) -> bool:
    query = sa.select(SubprocessorLink.id).where(SubprocessorLink.vendor_id == vendor.id, *where)
    return session.scalar(query.limit(1)) is not None


def _fourth_party_named(session: Session, name: str) -> FourthParty | None:
    return session.scalar(sa.select(FourthParty).where(FourthParty.name_key == name_key(name)))


def subprocessor_problems(
    session: Session, vendor: Vendor, values: Mapping[str, Any]
) -> dict[str, list[str]]:
    """The subprocessor is exactly one of: one of our vendors (``subprocessor_id``), a recorded
    fourth party (``fourth_party_id``), a new fourth party (``fourth_party_name``, with its
    ``fourth_party_service``); not linked to the vendor already; no secret-looking text; the
    records passed a non-negative whole number a BIGINT holds, given for one data category at
    most (``data_category_ids``): each category passed on has its own records."""
    errors: dict[str, list[str]] = {}
    subprocessor_id = values.get("subprocessor_id")
    fourth_party_id = values.get("fourth_party_id")
    new_name = (values.get("fourth_party_name") or "").strip()
    given = [v for v in (subprocessor_id, fourth_party_id, new_name) if v not in (None, "")]
    if len(given) != 1:
        errors["subprocessor_id"] = [
            "Choose one subprocessor: one of our vendors, a recorded fourth party, or a new one."
        ]
    elif subprocessor_id is not None:
        if subprocessor_id == vendor.id:
            errors["subprocessor_id"] = ["A vendor cannot be its own subprocessor."]
        elif _linked(session, vendor, SubprocessorLink.subprocessor_id == subprocessor_id):
            errors["subprocessor_id"] = [ALREADY_VENDOR]
    elif fourth_party_id is not None:
        if session.get(FourthParty, fourth_party_id) is None:
            errors["fourth_party_id"] = ["Unknown fourth party."]
        elif _linked(session, vendor, SubprocessorLink.fourth_party_id == fourth_party_id):
            errors["fourth_party_id"] = [ALREADY_FOURTH_PARTY]
    else:
        ours = session.scalar(sa.select(Vendor.name).where(Vendor.name_key == name_key(new_name)))
        known = _fourth_party_named(session, new_name)
        if ours is not None:
            errors["fourth_party_name"] = [
                f"{ours} is one of our vendors: choose it under “One of our vendors”."
            ]
        elif known is not None and _linked(
            session, vendor, SubprocessorLink.fourth_party_id == known.id
        ):
            errors["fourth_party_name"] = [ALREADY_FOURTH_PARTY]
    for field in ("purpose", "fourth_party_name", "fourth_party_service"):
        problem = secret_problem(values.get(field))
        if problem:
            errors.setdefault(field, []).append(problem)
    records = values.get("records")
    if records_problem(records):
        errors["records"] = [RECORDS_PROBLEM]
    elif records is not None and len(set(values.get("data_category_ids") or ())) > 1:
        errors["records"] = [RECORDS_OF_ONE]
    return errors


def records_problem(records: Any) -> str | None:
    """None for records that are unknown (None) or a whole number a BIGINT holds."""
    if records is None:
        return None
    if isinstance(records, bool) or not isinstance(records, int) or not 0 <= records <= RECORDS_MAX:
        return RECORDS_PROBLEM
    return None


def add_subprocessor(
    session: Session,
    vendor: Vendor,
    *,
    subprocessor_id: int | None = None,
    fourth_party_id: int | None = None,
    fourth_party_name: str = "",
    fourth_party_service: str = "",
    purpose: str,
    data_category_ids: Iterable[int],
    records: int | None = None,
    actor: Actor,
) -> SubprocessorLink:
    """Link ``vendor`` to its subprocessor, passing it the chosen data categories; ``records``
    (None: unknown) only with a single category, as each category has its own records
    (:func:`set_subprocessor_data` changes them). A new fourth party's name that a fourth
    party has already is that fourth party: it is recorded once, whichever vendor names it
    first."""
    fourth_party_name = fourth_party_name.strip()
    category_ids = sorted(set(data_category_ids))
    values = {
        "data_category_ids": category_ids,
        "subprocessor_id": subprocessor_id,
        "fourth_party_id": fourth_party_id,
        "fourth_party_name": fourth_party_name,
        "fourth_party_service": fourth_party_service,
        "purpose": purpose,
        "records": records,
    }
    errors = subprocessor_problems(session, vendor, values)
    if errors:
        raise ValidationFailed(errors)
    if fourth_party_name:
        party = _fourth_party_named(session, fourth_party_name)
        if party is None:
            try:
                party = create_fourth_party(
                    session,
                    {"name": fourth_party_name, "service": fourth_party_service.strip()},
                    actor=actor,
                )
            except ValidationFailed as exc:  # the name taken by a concurrent request
                raise ValidationFailed({"fourth_party_name": exc.errors.get("name", [])}) from None
        fourth_party_id = party.id
    link = SubprocessorLink(
        vendor_id=vendor.id,
        subprocessor_id=subprocessor_id,
        fourth_party_id=fourth_party_id,
        purpose=purpose,
    )
    session.add(link)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # the same link added by a concurrent request
        field = "subprocessor_id" if subprocessor_id is not None else "fourth_party_id"
        already = ALREADY_VENDOR if subprocessor_id is not None else ALREADY_FOURTH_PARTY
        raise ValidationFailed({field: [already]}) from None
    session.add_all(
        SubprocessorData(link_id=link.id, data_category_id=c, records=records) for c in category_ids
    )
    session.flush()
    _record(
        session,
        AuditAction.vendor_updated,
        actor=actor,
        object_type="vendor",
        object_id=vendor.id,
        vendor_id=vendor.id,
        name=vendor.name,
        change="subprocessor added",
        **_subprocessor_details(session, link),
        data_categories=list(
            _names(
                session,
                sa.select(DataCategory.name)
                .where(DataCategory.id.in_(category_ids))
                .order_by(sa.func.lower(DataCategory.name)),
            )
        ),
        records=records,
    )
    return link


def _subprocessor_details(session: Session, link: SubprocessorLink) -> dict[str, Any]:
    """Who the link's subprocessor is, for the audit record."""
    if link.subprocessor_id is not None:
        name = session.scalar(sa.select(Vendor.name).where(Vendor.id == link.subprocessor_id))
        return {"subprocessor": name, "subprocessor_id": link.subprocessor_id}
    name = session.scalar(sa.select(FourthParty.name).where(FourthParty.id == link.fourth_party_id))
    return {"subprocessor": name, "fourth_party_id": link.fourth_party_id}


def remove_subprocessor(
    session: Session, vendor: Vendor, link: SubprocessorLink, *, actor: Actor
) -> None:
    details = _subprocessor_details(session, link)
    session.delete(link)
    session.flush()
    _record(
        session,
        AuditAction.vendor_updated,
        actor=actor,
        object_type="vendor",
        object_id=vendor.id,
        vendor_id=vendor.id,
        name=vendor.name,
        change="subprocessor removed",
        **details,
    )


def get_subprocessor_data(
    session: Session, link: SubprocessorLink, data_category_id: int
) -> SubprocessorData | None:
    return session.get(SubprocessorData, (link.id, data_category_id))


def _record_link_data(
    session: Session,
    vendor: Vendor,
    link: SubprocessorLink,
    change: str,
    data_category_id: int,
    actor: Actor,
    **more,
) -> None:
    _record(
        session,
        AuditAction.vendor_updated,
        actor=actor,
        object_type="vendor",
        object_id=vendor.id,
        vendor_id=vendor.id,
        name=vendor.name,
        change=change,
        **_subprocessor_details(session, link),
        data_category=session.scalar(
            sa.select(DataCategory.name).where(DataCategory.id == data_category_id)
        ),
        **more,
    )


def set_subprocessor_data(
    session: Session,
    vendor: Vendor,
    link: SubprocessorLink,
    data_category_id: int,
    records: int | None,
    *,
    actor: Actor,
) -> None:
    """Pass a data category on a link with its ``records`` (None: unknown), or change the
    records of a category passed already: the same unit of work as a vendor's own holding."""
    errors: dict[str, list[str]] = {}
    if session.get(DataCategory, data_category_id) is None:
        errors["data_category_id"] = ["Unknown data category."]
    if records_problem(records):
        errors["records"] = [RECORDS_PROBLEM]
    if errors:
        raise ValidationFailed(errors)
    passed = get_subprocessor_data(session, link, data_category_id)
    if passed is None:
        session.add(
            SubprocessorData(link_id=link.id, data_category_id=data_category_id, records=records)
        )
        change = "subprocessor data added"
    elif passed.records != records:
        passed.records = records
        change = "subprocessor data records changed"
    else:
        return
    try:
        session.flush()
    except sa.exc.IntegrityError:  # the same category passed on by a concurrent request
        raise ValidationFailed(
            {"data_category_id": ["This data category is passed on already: reload the page."]}
        ) from None
    _record_link_data(session, vendor, link, change, data_category_id, actor, records=records)


def remove_subprocessor_data(
    session: Session,
    vendor: Vendor,
    link: SubprocessorLink,
    passed: SubprocessorData,
    *,
    actor: Actor,
) -> None:
    """Stop passing a data category on a link (the link stays, with its other data)."""
    data_category_id = passed.data_category_id
    session.delete(passed)
    session.flush()
    _record_link_data(session, vendor, link, "subprocessor data removed", data_category_id, actor)


@dataclass(frozen=True)
class ReliedOn:
    """A subprocessor and how many of our vendors rely on it."""

    vendor_id: int | None  # one of our vendors used as a subprocessor by others
    fourth_party_id: int | None  # or a fourth party
    name: str
    vendors: int  # our vendors relying on it
    data_categories: tuple[str, ...]  # passed to it by any of them
    records: int | None  # total records passed, of the known figures (None: none known)
    records_unknown: bool  # some data is passed with no records figure: the total is a floor


_SEPARATOR = "\x1f"  # between names in an aggregated string: no name holds it


def subprocessor_concentration(session: Session, limit: int = 20) -> list[ReliedOn]:
    """The subprocessors most of our vendors rely on, most relied-on first, in one statement.

    The rule is core.blast_radius.portfolio.fourth_party_concentration's (a subprocessor is one
    of our vendors or a fourth party; it counts each vendor relying on it once), read from the
    tables so that the portfolio page never runs the engine for it. Records are summed as
    floating point: they are approximate, and a sum of BIGINTs may not fit one.
    """
    link = SubprocessorLink
    keys = (link.subprocessor_id, link.fourth_party_id)
    relying = (
        sa.select(*keys, sa.func.count(sa.distinct(link.vendor_id)).label("vendors"))
        .group_by(*keys)
        .subquery()
    )
    per_category = (
        sa.select(
            *keys,
            SubprocessorData.data_category_id,
            sa.func.sum(sa.cast(SubprocessorData.records, sa.Float)).label("records"),
            (sa.func.count() - sa.func.count(SubprocessorData.records)).label("unknown"),
        )
        .join(SubprocessorData, SubprocessorData.link_id == link.id)
        .group_by(*keys, SubprocessorData.data_category_id)
        .subquery()
    )
    passed = (
        sa.select(
            per_category.c.subprocessor_id,
            per_category.c.fourth_party_id,
            sa.func.aggregate_strings(DataCategory.name, _SEPARATOR).label("categories"),
            sa.func.sum(per_category.c.records).label("records"),
            sa.func.sum(per_category.c.unknown).label("unknown"),
        )
        .join(DataCategory, DataCategory.id == per_category.c.data_category_id)
        .group_by(per_category.c.subprocessor_id, per_category.c.fourth_party_id)
        .subquery()
    )
    name = sa.func.coalesce(Vendor.name, FourthParty.name)
    query = (
        sa.select(
            relying.c.subprocessor_id,
            relying.c.fourth_party_id,
            name,
            relying.c.vendors,
            passed.c.categories,
            passed.c.records,
            passed.c.unknown,
        )
        .outerjoin(Vendor, Vendor.id == relying.c.subprocessor_id)
        .outerjoin(FourthParty, FourthParty.id == relying.c.fourth_party_id)
        .outerjoin(
            passed,
            sa.and_(
                passed.c.subprocessor_id.is_not_distinct_from(relying.c.subprocessor_id),
                passed.c.fourth_party_id.is_not_distinct_from(relying.c.fourth_party_id),
            ),
        )
        .order_by(relying.c.vendors.desc(), sa.func.lower(name), name)
        .limit(limit)
    )
    return [
        ReliedOn(
            vendor_id,
            fourth_party_id,
            subprocessor,
            vendors,
            tuple(sorted(categories.split(_SEPARATOR), key=str.lower)) if categories else (),
            round(records) if records is not None else None,
            bool(unknown),
        )
        for vendor_id, fourth_party_id, subprocessor, vendors, categories, records, unknown in (
            session.execute(query)
        )
    ]
