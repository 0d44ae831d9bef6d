"""Data categories: their list page with where each is held, the choices a form offers,
create and update (the fields a form may set), and deletion, refused while one is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ...models import (
    AuditAction,
    DataCategory,
    Sensitivity,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
)
from .. import ValidationFailed
from ..audit import Actor
from ..pages import Page, enum_rank, one_page
from .edits import (
    _apply,
    _checked,
    _flush,
    _names,
    _problems,
    _record,
    check_version,
)
from .list_queries import _count_by

# What a form may set on a data category: field names equal model attributes. The free-text ones
# are checked for secret-looking values.
DATA_CATEGORY_FIELDS = ("name", "sensitivity", "description")
DATA_CATEGORY_TEXT = ("name", "description")


def data_category_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(DataCategory.id, DataCategory.name).order_by(sa.func.lower(DataCategory.name))
    return [(row.id, row.name) for row in session.execute(query)]


@dataclass(frozen=True)
class DataCategoryRow:
    id: int
    name: str
    sensitivity: Sensitivity
    description: str
    systems: int  # systems holding it
    vendors: int  # vendors we send it to
    subprocessor_links: int  # links passing it on to a fourth party


def search_data_categories(session: Session, *, page: int = 1) -> Page[DataCategoryRow]:
    systems = _count_by(SystemData.data_category_id)
    vendors = _count_by(VendorData.data_category_id)
    links = _count_by(SubprocessorData.data_category_id)
    query = (
        sa.select(
            DataCategory.id,
            DataCategory.name,
            DataCategory.sensitivity,
            DataCategory.description,
            sa.func.coalesce(systems.c.n, 0),
            sa.func.coalesce(vendors.c.n, 0),
            sa.func.coalesce(links.c.n, 0),
        )
        .outerjoin(systems, systems.c.key == DataCategory.id)
        .outerjoin(vendors, vendors.c.key == DataCategory.id)
        .outerjoin(links, links.c.key == DataCategory.id)
        .order_by(
            enum_rank(DataCategory.sensitivity, Sensitivity).desc(),
            sa.func.lower(DataCategory.name),
            DataCategory.id,
        )
    )
    return one_page(session, query, page, lambda row: DataCategoryRow(*row[:7]))


def get_data_category(session: Session, data_category_id: int) -> DataCategory | None:
    return session.get(DataCategory, data_category_id)


def data_category_problems(
    session: Session, values: Mapping[str, Any], *, data_category_id: int | None = None
) -> dict[str, list[str]]:
    return _problems(session, DataCategory, values, DATA_CATEGORY_TEXT, data_category_id)


def create_data_category(
    session: Session, values: Mapping[str, Any], *, actor: Actor
) -> DataCategory:
    category = DataCategory(
        **_checked(session, DataCategory, values, DATA_CATEGORY_FIELDS, DATA_CATEGORY_TEXT)
    )
    session.add(category)
    _flush(session, DataCategory)
    _record(
        session,
        AuditAction.data_category_created,
        actor=actor,
        object_type="data_category",
        object_id=category.id,
        name=category.name,
    )
    return category


def update_data_category(
    session: Session,
    category: DataCategory,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None = None,
) -> list[str]:
    check_version(session, category, expected_version, values)
    values = _checked(
        session, DataCategory, values, DATA_CATEGORY_FIELDS, DATA_CATEGORY_TEXT, category.id
    )
    changed = _apply(category, values)
    if changed:
        _flush(session, DataCategory)
        _record(
            session,
            AuditAction.data_category_updated,
            actor=actor,
            object_type="data_category",
            object_id=category.id,
            name=category.name,
            changed=changed,
        )
    return changed


@dataclass(frozen=True)
class DataCategoryDeletion:
    """Where the category is still held: any of these blocks the deletion."""

    systems: tuple[str, ...]
    vendors: tuple[str, ...]
    subprocessor_links: tuple[str, ...]  # "A -> B"

    @property
    def blocked(self) -> bool:
        return bool(self.systems or self.vendors or self.subprocessor_links)


def data_category_deletion(session: Session, category: DataCategory) -> DataCategoryDeletion:
    relying = aliased(Vendor)
    fourth = aliased(Vendor)
    links = session.execute(
        sa.select(relying.name, fourth.name)
        .select_from(SubprocessorData)
        .join(SubprocessorLink, SubprocessorLink.id == SubprocessorData.link_id)
        .join(relying, relying.id == SubprocessorLink.vendor_id)
        .join(fourth, fourth.id == SubprocessorLink.subprocessor_id)
        .where(SubprocessorData.data_category_id == category.id)
        .order_by(sa.func.lower(relying.name), sa.func.lower(fourth.name))
    )
    return DataCategoryDeletion(
        systems=_names(
            session,
            sa.select(System.name)
            .join(SystemData, SystemData.system_id == System.id)
            .where(SystemData.data_category_id == category.id)
            .order_by(sa.func.lower(System.name)),
        ),
        vendors=_names(
            session,
            sa.select(Vendor.name)
            .join(VendorData, VendorData.vendor_id == Vendor.id)
            .where(VendorData.data_category_id == category.id)
            .order_by(sa.func.lower(Vendor.name)),
        ),
        subprocessor_links=tuple(f"{a} → {b}" for a, b in links),
    )


def delete_data_category(
    session: Session, category: DataCategory, *, actor: Actor
) -> DataCategoryDeletion:
    plan = data_category_deletion(session, category)
    if plan.blocked:
        raise ValidationFailed({"": ["This data category is still held."]})
    category_id, name = category.id, category.name
    session.delete(category)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise ValidationFailed({"": ["This data category is still held."]}) from None
    _record(
        session,
        AuditAction.data_category_deleted,
        actor=actor,
        object_type="data_category",
        object_id=category_id,
        name=name,
    )
    return plan
