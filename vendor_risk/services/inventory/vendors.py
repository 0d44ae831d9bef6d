"""Vendors: their list page, the names a vendor field offers, the counts of a vendor's tabs,
create and update (the fields a form may set), and deletion with what it removes and what
stops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ...core import email_domains
from ...core.names import name_key
from ...core.scoring.inherent import MISSING_WORDS, Tier
from ...db import utcnow
from ...models import (
    AuditAction,
    Credential,
    Criticality,
    DataCategory,
    FourthParty,
    Incident,
    Role,
    SoftwareSupply,
    SubprocessorLink,
    System,
    User,
    Vendor,
    VendorData,
    VendorRating,
    VendorReach,
    VendorStatus,
)
from .. import ValidationFailed, portfolio_history
from ..audit import Actor
from ..pages import Page, enum_rank, one_page, sort_order
from .edits import (
    _apply,
    _checked,
    _flush,
    _incidents,
    _names,
    _problems,
    _record,
    check_version,
)
from .list_queries import _contains, _count_of, _like_text, _name_contains

# What a form may set on a vendor: field names equal model attributes. The free-text ones
# are checked for secret-looking values.
VENDOR_FIELDS = (
    "name",
    "legal_name",
    "website",
    "email_domains",
    "services",
    "status",
    "criticality",
    "substitutability",
    "business_owner",
    "contract_start",
    "contract_end",
    "next_review",
    "notes",
)
VENDOR_TEXT = ("name", "legal_name", "website", "services", "business_owner", "notes")


SUGGESTED = 20  # vendor names offered at a time as one types


def has_other_vendors(session: Session, vendor_id: int) -> bool:
    return bool(session.scalar(sa.select(sa.exists().where(Vendor.id != vendor_id))))


def vendor_name(session: Session, vendor_id: int) -> str | None:
    return session.scalar(sa.select(Vendor.name).where(Vendor.id == vendor_id))


def vendor_names(session: Session, text: str, limit: int = SUGGESTED) -> list[str]:
    """Up to ``limit`` names of vendors containing ``text`` (any case), those that start with
    it first, then alphabetically: what a vendor field offers as one types, so that no page
    lists the whole portfolio."""
    return list(session.scalars(vendor_names_query(text, limit)))


def vendor_names_query(text: str, limit: int = SUGGESTED) -> sa.Select:
    """The query of :func:`vendor_names`. On PostgreSQL, ``ix_vendor_name_key_trgm`` (a
    trigram index) serves its ``LIKE '%text%'`` whenever the text is selective."""
    text = text.strip()
    query = sa.select(Vendor.name)
    if text:
        starts = Vendor.name_key.like(f"{_like_text(name_key(text))}%", escape="\\")
        query = query.where(_name_contains(Vendor, text)).order_by(
            sa.case((starts, 0), else_=1), Vendor.name_key
        )
    else:
        query = query.order_by(Vendor.name_key)
    return query.limit(limit)


@dataclass(frozen=True)
class VendorRow:
    id: int
    name: str
    legal_name: str
    status: VendorStatus
    criticality: Criticality
    next_review: date | None
    business_owner: str
    credentials: int  # credentials held
    data_categories: int  # data categories held
    # From the portfolio aggregates (None until first computed): services.portfolio.
    tier: Tier | None = None
    systems_reached: int | None = None  # despite controls
    systems_reached_if_controls_fail: int | None = None
    # The current rating (services.scoring; None until first scored) and a risk officer's
    # override of its tier, shown beside it (services.ratings).
    residual_tier: Tier | None = None
    override_tier: Tier | None = None
    # The facts the rating misses, in words (scoring.MISSING_WORDS): incomplete if any.
    missing: tuple[str, ...] = ()
    # The tier with the answers no risk officer has accepted yet (None: none awaiting).
    provisional_tier: Tier | None = None


def _tier(value: str | None) -> Tier | None:
    return Tier(value) if value else None


# The vendor list's "rating" filter: ratings that miss a fact, ratings with a provisional one
# beside them (answers awaiting a risk officer's acceptance).
RATING_STATES = {
    # Greater than "" rather than different from it: a range the index on the column serves.
    "incomplete": VendorRating.missing > "",
    "provisional": VendorRating.provisional_tier.is_not(None),
}


def _missing_words(text: str | None) -> tuple[str, ...]:
    return tuple(MISSING_WORDS[key] for key in (text or "").split())


VENDOR_SORTS = (
    "name",
    "status",
    "criticality",
    "tier",
    "blast_radius",
    "next_review",
    "credentials",
    "data_categories",
)


def search_vendors(
    session: Session,
    *,
    search: str | None = None,
    status: VendorStatus | None = None,
    criticality: Criticality | None = None,
    tier: Tier | None = None,
    residual: str | None = None,
    rating: str | None = None,
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
) -> Page[VendorRow]:
    """``tier``: the inherent tier; ``residual``: the effective residual tier (an override
    counts), or portfolio_history.UNRATED for vendors not rated yet; ``rating``: a key of
    RATING_STATES (incomplete or provisional ratings only)."""
    # Counted for the page's rows only (and for every row when sorted by them).
    credentials = _count_of(Credential.holder_vendor_id, Vendor.id)
    categories = _count_of(VendorData.vendor_id, Vendor.id)
    query = (
        sa.select(
            Vendor.id,
            Vendor.name,
            Vendor.legal_name,
            Vendor.status,
            Vendor.criticality,
            Vendor.next_review,
            Vendor.business_owner,
            credentials.label("credentials"),
            categories.label("data_categories"),
            VendorReach.inherent_tier,
            VendorReach.systems_despite_controls,
            VendorReach.systems_if_controls_fail,
            VendorRating.residual_tier,
            VendorRating.override_tier,
            VendorRating.missing,
            VendorRating.provisional_tier,
        )
        .outerjoin(VendorReach, VendorReach.vendor_id == Vendor.id)
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id)
    )
    filters = dict(
        search=search,
        status=status,
        criticality=criticality,
        tier=tier,
        residual=residual,
        rating=rating,
    )
    query = _filtered(query, **filters)
    count = _filtered(
        sa.select(sa.func.count())
        .select_from(Vendor)
        .outerjoin(VendorReach, VendorReach.vendor_id == Vendor.id)
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id),
        **filters,
    )
    # The name as compared (names.name_key), unique and indexed: the list sorted by name reads
    # its page off the index instead of sorting every vendor.
    name = Vendor.name_key
    key = {
        "name": name,
        "status": enum_rank(Vendor.status, VendorStatus),
        "criticality": enum_rank(Vendor.criticality, Criticality),
        "tier": sa.case({t.value: i for i, t in enumerate(Tier)}, value=VendorReach.inherent_tier),
        "blast_radius": VendorReach.systems_despite_controls * 100_000
        + VendorReach.systems_if_controls_fail,
        "next_review": Vendor.next_review,
        "credentials": credentials,
        "data_categories": categories,
    }[sort]
    nullable = sort in {"next_review", "tier", "blast_radius"}
    order = sort_order(key, descending, name, Vendor.id, nullable=nullable)
    query = query.order_by(*order)

    def row(values) -> VendorRow:
        return VendorRow(
            *values[:9],
            _tier(values.inherent_tier),
            *values[10:12],
            _tier(values.residual_tier),
            _tier(values.override_tier),
            _missing_words(values.missing),
            _tier(values.provisional_tier),
        )

    return one_page(session, query, page, row, count=count)


def _filtered(
    query: sa.Select,
    *,
    search: str | None,
    status: VendorStatus | None,
    criticality: Criticality | None,
    tier: Tier | None,
    residual: str | None,
    rating: str | None,
) -> sa.Select:
    """``query`` (which joins VendorReach and VendorRating) narrowed by the vendor list's
    filters: the one meaning of those filters, for the list and for what is exported of it."""
    if search:
        query = query.where(
            sa.or_(
                _name_contains(Vendor, search),
                _contains(Vendor.legal_name, search),
                _contains(Vendor.services, search),
            )
        )
    if status:
        query = query.where(Vendor.status == status)
    if criticality:
        query = query.where(Vendor.criticality == criticality)
    if tier:
        query = query.where(VendorReach.inherent_tier == tier.value)
    if residual == portfolio_history.UNRATED:
        query = query.where(VendorRating.vendor_id.is_(None))
    elif residual:
        query = query.where(portfolio_history.effective_tier() == residual)
    if rating:
        query = query.where(RATING_STATES[rating])
    return query


@dataclass(frozen=True)
class VendorSelection:
    """The vendors a filter of the list matches: how many, and the first ``limit`` ids by
    name."""

    count: int
    ids: tuple[int, ...]


def select_vendors(
    session: Session,
    *,
    limit: int,
    search: str | None = None,
    status: VendorStatus | None = None,
    criticality: Criticality | None = None,
    tier: Tier | None = None,
    residual: str | None = None,
    rating: str | None = None,
) -> VendorSelection:
    """The vendors the list shows for these filters (search_vendors' meaning), by name."""
    query = _filtered(
        sa.select(Vendor.id)
        .outerjoin(VendorReach, VendorReach.vendor_id == Vendor.id)
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id),
        search=search,
        status=status,
        criticality=criticality,
        tier=tier,
        residual=residual,
        rating=rating,
    )
    count = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    ids = session.scalars(query.order_by(sa.func.lower(Vendor.name), Vendor.id).limit(limit)).all()
    return VendorSelection(count or 0, tuple(ids))


def get_vendor(session: Session, vendor_id: int) -> Vendor | None:
    return session.get(Vendor, vendor_id)


@dataclass(frozen=True)
class VendorCounts:
    """What the tabs of a vendor's page hold."""

    data_categories: int
    credentials: int
    subprocessors: int
    relied_on_by: int


def vendor_counts(session: Session, vendor_id: int) -> VendorCounts:
    def count(model, column):
        return (
            sa.select(sa.func.count())
            .select_from(model)
            .where(column == vendor_id)
            .scalar_subquery()
        )

    row = session.execute(
        sa.select(
            count(VendorData, VendorData.vendor_id),
            count(Credential, Credential.holder_vendor_id),
            count(SubprocessorLink, SubprocessorLink.vendor_id),
            count(SubprocessorLink, SubprocessorLink.subprocessor_id),
        )
    ).one()
    return VendorCounts(*row)


def vendor_problems(
    session: Session, values: Mapping[str, Any], *, vendor_id: int | None = None
) -> dict[str, list[str]]:
    return _problems(session, Vendor, values, VENDOR_TEXT, vendor_id) | _domain_problems(values)


def _domain_problems(values: Mapping[str, Any]) -> dict[str, list[str]]:
    found = email_domains.problems(values.get("email_domains") or ())
    return {"email_domains": found} if found else {}


def _vendor_values(
    session: Session, values: Mapping[str, Any], vendor_id: int | None = None
) -> dict[str, Any]:
    """The values checked (ValidationFailed per field), email domains as stored."""
    values = _checked(session, Vendor, values, VENDOR_FIELDS, VENDOR_TEXT, vendor_id)
    if "email_domains" in values:
        if problems := _domain_problems(values):
            raise ValidationFailed(problems)
        values["email_domains"] = email_domains.normalised(values["email_domains"])
    return values


def email_domain_suggestions(session: Session, vendor: Vendor) -> list[str]:
    """Domains staff may want to list for a vendor: from its website and its contacts'
    addresses (email_domains.suggested), in one query."""
    contacts = session.scalars(
        sa.select(User.email).where(User.vendor_id == vendor.id, User.role == Role.vendor_contact)
    )
    return email_domains.suggested(vendor.website, contacts, vendor.email_domains)


def create_vendor(session: Session, values: Mapping[str, Any], *, actor: Actor) -> Vendor:
    vendor = Vendor(**_vendor_values(session, values))
    session.add(vendor)
    _flush(session, Vendor)
    _record(
        session,
        AuditAction.vendor_created,
        actor=actor,
        object_type="vendor",
        object_id=vendor.id,
        vendor_id=vendor.id,
        name=vendor.name,
    )
    return vendor


def update_vendor(
    session: Session,
    vendor: Vendor,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None = None,
) -> list[str]:
    """Returns the names of the fields changed (an unchanged form records nothing)."""
    check_version(session, vendor, expected_version, values)
    values = _vendor_values(session, values, vendor.id)
    changed = _apply(vendor, values)
    if changed:
        _flush(session, Vendor)
        _record(
            session,
            AuditAction.vendor_updated,
            actor=actor,
            object_type="vendor",
            object_id=vendor.id,
            vendor_id=vendor.id,
            name=vendor.name,
            changed=changed,
        )
        if "status" in changed:  # the dashboards count vendors by status
            portfolio_history.record_day(session, utcnow())
    return changed


@dataclass(frozen=True)
class VendorDeletion:
    """What deleting a vendor removes, and what stops it."""

    holdings: tuple[str, ...]  # data categories held, removed with the vendor
    passes_to: tuple[str, ...]  # subprocessors it relies on: links removed
    relied_on_by: tuple[str, ...]  # vendors relying on it: links removed
    credentials: tuple[tuple[int, str], ...]  # credentials it holds: block the deletion
    contacts: tuple[str, ...]  # its vendor contacts' accounts: block the deletion
    incidents: tuple[tuple[int, str], ...] = ()  # incidents recorded: block the deletion
    fourth_parties: tuple[str, ...] = ()  # fourth parties it relies on: links removed
    operates: tuple[str, ...] = ()  # systems it runs for us: they stay, run by nobody
    software_on: tuple[str, ...] = ()  # "system: software" it supplies: records removed

    @property
    def blocked(self) -> bool:
        return bool(self.credentials or self.contacts or self.incidents)


def vendor_deletion(session: Session, vendor: Vendor) -> VendorDeletion:
    held = session.execute(
        sa.select(Credential.id, Credential.name)
        .where(Credential.holder_vendor_id == vendor.id)
        .order_by(sa.func.lower(Credential.name))
    )
    other = aliased(Vendor)
    return VendorDeletion(
        holdings=_names(
            session,
            sa.select(DataCategory.name)
            .join(VendorData, VendorData.data_category_id == DataCategory.id)
            .where(VendorData.vendor_id == vendor.id)
            .order_by(sa.func.lower(DataCategory.name)),
        ),
        passes_to=_names(
            session,
            sa.select(other.name)
            .join(SubprocessorLink, SubprocessorLink.subprocessor_id == other.id)
            .where(SubprocessorLink.vendor_id == vendor.id)
            .order_by(sa.func.lower(other.name)),
        ),
        relied_on_by=_names(
            session,
            sa.select(other.name)
            .join(SubprocessorLink, SubprocessorLink.vendor_id == other.id)
            .where(SubprocessorLink.subprocessor_id == vendor.id)
            .order_by(sa.func.lower(other.name)),
        ),
        credentials=tuple((row.id, row.name) for row in held),
        contacts=_names(
            session, sa.select(User.email).where(User.vendor_id == vendor.id).order_by(User.email)
        ),
        incidents=_incidents(session, Incident.vendor_id == vendor.id),
        fourth_parties=_names(
            session,
            sa.select(FourthParty.name)
            .join(SubprocessorLink, SubprocessorLink.fourth_party_id == FourthParty.id)
            .where(SubprocessorLink.vendor_id == vendor.id)
            .order_by(sa.func.lower(FourthParty.name)),
        ),
        operates=_names(
            session,
            sa.select(System.name)
            .where(System.operator_vendor_id == vendor.id)
            .order_by(sa.func.lower(System.name)),
        ),
        software_on=tuple(
            f"{row.name}: {row.software}" if row.software else row.name
            for row in session.execute(
                sa.select(System.name, SoftwareSupply.software)
                .join(SoftwareSupply, SoftwareSupply.system_id == System.id)
                .where(SoftwareSupply.vendor_id == vendor.id)
                .order_by(sa.func.lower(System.name), SoftwareSupply.software)
            )
        ),
    )


def delete_vendor(session: Session, vendor: Vendor, *, actor: Actor) -> VendorDeletion:
    """Delete the vendor with its holdings and subprocessor links; refused while it holds
    credentials (reassign or delete them first) or has vendor contacts (an admin's matter)."""
    plan = vendor_deletion(session, vendor)
    if plan.blocked:
        raise ValidationFailed({"": ["Something still depends on this vendor."]})
    vendor_id, name = vendor.id, vendor.name
    session.delete(vendor)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # a credential or contact added meanwhile
        raise ValidationFailed({"": ["Something still depends on this vendor."]}) from None
    _record(
        session,
        AuditAction.vendor_deleted,
        actor=actor,
        object_type="vendor",
        object_id=vendor_id,
        vendor_id=vendor_id,
        name=name,
        data_categories_removed=list(plan.holdings),
        subprocessor_links_removed=len(plan.passes_to)
        + len(plan.relied_on_by)
        + len(plan.fourth_parties),
    )
    portfolio_history.record_day(session, utcnow())
    return plan
