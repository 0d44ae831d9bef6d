"""Subprocessors: the links from a vendor to the fourth parties it passes data to, both
directions of a vendor's page, and adding or removing one on the vendor's audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.secret_detection import secret_problem
from ...models import (
    AuditAction,
    DataCategory,
    SubprocessorData,
    SubprocessorLink,
    Vendor,
)
from .. import ValidationFailed
from ..audit import Actor
from .edits import (
    _names,
    _record,
)


@dataclass(frozen=True)
class SubprocessorRow:
    link_id: int
    vendor_id: int  # the vendor at the other end of the link
    vendor_name: str
    purpose: str
    data_categories: tuple[str, ...]


@dataclass(frozen=True)
class Subprocessors:
    passes_to: tuple[SubprocessorRow, ...]  # fourth parties the vendor relies on
    relied_on_by: tuple[SubprocessorRow, ...]  # vendors relying on this one


def subprocessors(session: Session, vendor_id: int) -> Subprocessors:
    """Both directions in two statements: the links, then the categories they pass on."""
    outgoing = SubprocessorLink.vendor_id == vendor_id
    other_id = sa.case(
        (outgoing, SubprocessorLink.subprocessor_id), else_=SubprocessorLink.vendor_id
    )
    links = session.execute(
        sa.select(
            SubprocessorLink.id,
            other_id.label("other_id"),
            Vendor.name,
            SubprocessorLink.purpose,
            outgoing.label("outgoing"),
        )
        .join(Vendor, Vendor.id == other_id)
        .where(sa.or_(outgoing, SubprocessorLink.subprocessor_id == vendor_id))
        .order_by(sa.func.lower(Vendor.name))
    ).all()
    categories: dict[int, list[str]] = {}
    if links:
        rows = session.execute(
            sa.select(SubprocessorData.link_id, DataCategory.name)
            .join(DataCategory, DataCategory.id == SubprocessorData.data_category_id)
            .where(SubprocessorData.link_id.in_([link.id for link in links]))
            .order_by(sa.func.lower(DataCategory.name))
        )
        for link_id, name in rows:
            categories.setdefault(link_id, []).append(name)

    def row(link) -> SubprocessorRow:
        names = tuple(categories.get(link.id, ()))
        return SubprocessorRow(link.id, link.other_id, link.name, link.purpose, names)

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


def subprocessor_problems(
    session: Session, vendor: Vendor, values: Mapping[str, Any]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    subprocessor_id = values.get("subprocessor_id")
    if subprocessor_id == vendor.id:
        errors["subprocessor_id"] = ["A vendor cannot be its own subprocessor."]
    elif subprocessor_id is not None and session.scalar(
        sa.select(SubprocessorLink.id).where(
            SubprocessorLink.vendor_id == vendor.id,
            SubprocessorLink.subprocessor_id == subprocessor_id,
        )
    ):
        errors["subprocessor_id"] = ["This vendor is already one of its subprocessors."]
    problem = secret_problem(values.get("purpose"))
    if problem:
        errors["purpose"] = [problem]
    return errors


def add_subprocessor(
    session: Session,
    vendor: Vendor,
    *,
    subprocessor_id: int,
    purpose: str,
    data_category_ids: Iterable[int],
    actor: Actor,
) -> SubprocessorLink:
    values = {"subprocessor_id": subprocessor_id, "purpose": purpose}
    errors = subprocessor_problems(session, vendor, values)
    if errors:
        raise ValidationFailed(errors)
    link = SubprocessorLink(vendor_id=vendor.id, subprocessor_id=subprocessor_id, purpose=purpose)
    session.add(link)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # the same link added by a concurrent request
        raise ValidationFailed(
            {"subprocessor_id": ["This vendor is already one of its subprocessors."]}
        ) from None
    category_ids = sorted(set(data_category_ids))
    session.add_all(SubprocessorData(link_id=link.id, data_category_id=c) for c in category_ids)
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
        subprocessor=session.scalar(sa.select(Vendor.name).where(Vendor.id == subprocessor_id)),
        subprocessor_id=subprocessor_id,
        data_categories=list(
            _names(session, sa.select(DataCategory.name).where(DataCategory.id.in_(category_ids)))
        ),
    )
    return link


def remove_subprocessor(
    session: Session, vendor: Vendor, link: SubprocessorLink, *, actor: Actor
) -> None:
    subprocessor_id = link.subprocessor_id
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
        subprocessor=session.scalar(sa.select(Vendor.name).where(Vendor.id == subprocessor_id)),
        subprocessor_id=subprocessor_id,
    )
