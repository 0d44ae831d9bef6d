"""The inventory: vendors, systems, data categories, credentials, and who holds what.

Every query of the inventory pages is built here. Units of work check their input, flush, and
record the audit event in the caller's transaction; the view commits once.

Lists are read in one statement per page: the counts shown on each row come from aggregate
subqueries joined to the page's query, and the total from a window function, so a page costs
the same whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from ...core import email_domains
from ...core.names import name_key
from ...core.scoring.inherent import MISSING_WORDS, Tier
from ...core.secret_detection import secret_problem
from ...db import UTCDateTime, utcnow
from ...models import (
    AuditAction,
    Credential,
    CredentialCopy,
    CredentialStatus,
    Criticality,
    DataCategory,
    Incident,
    IncidentCredential,
    Privilege,
    Role,
    Sensitivity,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    User,
    Vendor,
    VendorData,
    VendorRating,
    VendorReach,
    VendorStatus,
)
from .. import EditConflict, ValidationFailed, audit, portfolio_history
from ..audit import Actor
from ..pages import Page, enum_rank, one_page, sort_order

EXPIRING_SOON_DAYS = 30

# What a form may set on each model: field names equal model attributes. The free-text ones
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
SYSTEM_FIELDS = ("name", "kind", "environment", "owner", "mfa_required", "description")
SYSTEM_TEXT = ("name", "owner", "description")
DATA_CATEGORY_FIELDS = ("name", "sensitivity", "description")
DATA_CATEGORY_TEXT = ("name", "description")
CREDENTIAL_FIELDS = (
    "name",
    "kind",
    "holder_vendor_id",
    "system_id",
    "privilege",
    "interactive",
    "mfa_enforced",
    "phishing_resistant_mfa",
    "ip_restricted",
    "issued_at",
    "last_rotated_at",
    "expires_at",
    "last_used_at",
    "rotation_period_days",
    "owner",
    "status",
    "notes",
)
CREDENTIAL_TEXT = ("name", "owner", "notes")
CREDENTIAL_DATES = ("issued_at", "last_rotated_at", "expires_at", "last_used_at")

_NOUN = {
    Vendor: "vendor",
    System: "system",
    DataCategory: "data category",
    Credential: "credential",
}


# ---- pages ---------------------------------------------------------------------------------


def _contains(column: sa.ColumnElement, text: str) -> sa.ColumnElement[bool]:
    """Case-insensitive substring match, the user's ``%`` and ``_`` taken literally."""
    return sa.func.lower(column).like(f"%{_like_text(text.lower())}%", escape="\\")


def _name_contains(model, text: str) -> sa.ColumnElement[bool]:
    """The model's name contains ``text``, compared as names are (names.name_key): a search
    finds "Émile" from "émile" on SQLite as on PostgreSQL."""
    return model.name_key.like(f"%{_like_text(name_key(text))}%", escape="\\")


def _like_text(text: str) -> str:
    """``text`` for a LIKE pattern, its ``%``, ``_`` and ``\\`` escaped by ``\\``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _count_by(column: sa.ColumnElement, *where) -> sa.Subquery:
    """``column`` -> number of rows, for joining counts to a page's query."""
    return (
        sa.select(column.label("key"), sa.func.count().label("n"))
        .where(*where)
        .group_by(column)
        .subquery()
    )


# ---- rotation status: the one place the rule lives -------------------------------------------


class RotationStatus(StrEnum):
    """Where a credential stands against its rotation and expiry, most urgent first."""

    overdue = "overdue"
    expired = "expired"
    expiring_soon = "expiring_soon"
    never_rotated = "never_rotated"
    active = "active"
    revoked = "revoked"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class _due_before(FunctionElement):
    """``since`` plus ``days`` days is before ``moment``: date arithmetic differs per database."""

    type = sa.Boolean()
    name = "due_before"
    inherit_cache = True


@compiles(_due_before)
def _due_before_postgresql(element, compiler, **kw):
    since, days, moment = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({since} + make_interval(days => {days}) < {moment})"


@compiles(_due_before, "sqlite")
def _due_before_sqlite(element, compiler, **kw):
    since, days, moment = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(julianday({since}) + {days} < julianday({moment}))"


def rotation_status(now: datetime) -> sa.ColumnElement[str]:
    """A credential's :class:`RotationStatus` at ``now``, as SQL (so lists filter, sort and page
    on it). The first rule that matches wins:

    - revoked: its status says so;
    - expired: it expired already;
    - overdue: last rotated (or issued, when never rotated) longer ago than its rotation period;
    - expiring soon: it expires within EXPIRING_SOON_DAYS days;
    - never rotated: it has no rotation date;
    - active: none of the above.
    """
    moment = sa.literal(now, UTCDateTime)
    last_change = sa.func.coalesce(Credential.last_rotated_at, Credential.issued_at)
    overdue = sa.and_(
        Credential.rotation_period_days.is_not(None),
        last_change.is_not(None),
        _due_before(last_change, Credential.rotation_period_days, moment),
    )
    return sa.case(
        (Credential.status == CredentialStatus.revoked, RotationStatus.revoked.value),
        (Credential.expires_at <= now, RotationStatus.expired.value),
        (overdue, RotationStatus.overdue.value),
        (
            Credential.expires_at <= now + timedelta(days=EXPIRING_SOON_DAYS),
            RotationStatus.expiring_soon.value,
        ),
        (Credential.last_rotated_at.is_(None), RotationStatus.never_rotated.value),
        else_=RotationStatus.active.value,
    )


# ---- shared checks and audit -----------------------------------------------------------------


def _name_taken(session: Session, model, name: str, exclude_id: int | None) -> bool:
    query = sa.select(model.id).where(model.name_key == name_key(name.strip()))
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def _problems(
    session: Session,
    model,
    values: Mapping[str, Any],
    text_fields: Iterable[str],
    exclude_id: int | None,
) -> dict[str, list[str]]:
    """A name unique case-insensitively, and no free text that looks like a secret."""
    errors: dict[str, list[str]] = {}
    name = values.get("name")
    if isinstance(name, str) and name.strip() and _name_taken(session, model, name, exclude_id):
        errors["name"] = [f"A {_NOUN[model]} with this name already exists."]
    for field in text_fields:
        value = values.get(field)
        problem = secret_problem(value) if isinstance(value, str) else None
        if problem:
            errors.setdefault(field, []).append(problem)
    return errors


def _checked(
    session: Session,
    model,
    values: Mapping[str, Any],
    fields: tuple[str, ...],
    text_fields: Iterable[str],
    exclude_id: int | None = None,
) -> dict[str, Any]:
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"not fields of {model.__name__}: {sorted(unknown)}")
    errors = _problems(session, model, values, text_fields, exclude_id)
    if errors:
        raise ValidationFailed(errors)
    return dict(values)


def check_version(session: Session, obj, expected: int | None, values: Mapping[str, Any]) -> None:
    """Refuse to save a form over a change made since it was opened (``expected`` is the
    version the form was opened on; None: a caller that reads and writes in one go).

    On PostgreSQL the row is locked first, so a save running at the same moment finishes
    before this one compares; on SQLite the write transaction already holds the lock.
    """
    if expected is None:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(obj, with_for_update=True)
    if obj.version == expected:
        return
    differs = [
        name.replace("_", " ")
        for name, value in values.items()
        if hasattr(obj, name) and getattr(obj, name) != value
    ]
    noun = _NOUN[type(obj)]
    message = (
        f"Someone else saved this {noun} after you opened this form, so nothing was saved."
        " The form still holds your changes;"
        + (f" theirs differ from yours in: {', '.join(differs)}." if differs else "")
        + f" Save again to replace their version with yours, or open the {noun} to see it."
    )
    raise EditConflict({"": [message]}, obj.version)


def _apply(obj, values: Mapping[str, Any]) -> list[str]:
    """Set the values that differ; returns the names of the fields changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _flush(session: Session, model) -> None:
    """Flush; a unique name taken by a concurrent request is reported at the name field."""
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise ValidationFailed(
            {"name": [f"A {_NOUN[model]} with this name already exists."]}
        ) from None


def _record(
    session: Session,
    action: AuditAction,
    *,
    actor: Actor,
    object_type: str,
    object_id: int | None,
    vendor_id: int | None = None,
    **details,
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        vendor_id=vendor_id,
        details=details,
    )


def _names(session: Session, query: sa.Select) -> tuple[str, ...]:
    return tuple(session.scalars(query).all())


SUGGESTED = 20  # vendor names offered at a time as one types


def has_other_vendors(session: Session, vendor_id: int) -> bool:
    return bool(session.scalar(sa.select(sa.exists().where(Vendor.id != vendor_id))))


def vendor_name(session: Session, vendor_id: int) -> str | None:
    return session.scalar(sa.select(Vendor.name).where(Vendor.id == vendor_id))


def vendor_names(session: Session, text: str, limit: int = SUGGESTED) -> list[str]:
    """Up to ``limit`` names of vendors containing ``text`` (any case), those that start with
    it first, then alphabetically: what a vendor field offers as one types, so that no page
    lists the whole portfolio."""
    text = text.strip()
    query = sa.select(Vendor.name)
    if text:
        starts = Vendor.name_key.like(f"{_like_text(name_key(text))}%", escape="\\")
        query = query.where(_name_contains(Vendor, text)).order_by(
            sa.case((starts, 0), else_=1), Vendor.name_key
        )
    else:
        query = query.order_by(Vendor.name_key)
    return list(session.scalars(query.limit(limit)))


def system_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(System.id, System.name).order_by(sa.func.lower(System.name))
    return [(row.id, row.name) for row in session.execute(query)]


def data_category_choices(session: Session) -> list[tuple[int, str]]:
    query = sa.select(DataCategory.id, DataCategory.name).order_by(sa.func.lower(DataCategory.name))
    return [(row.id, row.name) for row in session.execute(query)]


# ---- vendors -------------------------------------------------------------------------------


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
    held = _count_by(Credential.holder_vendor_id, Credential.holder_vendor_id.is_not(None))
    data = _count_by(VendorData.vendor_id)
    credentials = sa.func.coalesce(held.c.n, 0)
    categories = sa.func.coalesce(data.c.n, 0)
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
        .outerjoin(held, held.c.key == Vendor.id)
        .outerjoin(data, data.c.key == Vendor.id)
        .outerjoin(VendorReach, VendorReach.vendor_id == Vendor.id)
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id)
    )
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
    name = sa.func.lower(Vendor.name)
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

    return one_page(session, query, page, row)


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
    )


def _incidents(session: Session, *where) -> tuple[tuple[int, str], ...]:
    """The incidents matching ``where``: their record is kept, so they block deletions."""
    query = sa.select(Incident.id, Incident.title).where(*where).order_by(Incident.id)
    return tuple((row.id, row.title) for row in session.execute(query))


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
        subprocessor_links_removed=len(plan.passes_to) + len(plan.relied_on_by),
    )
    portfolio_history.record_day(session, utcnow())
    return plan


# ---- data holdings (a vendor's, a system's) ----------------------------------------------------


@dataclass(frozen=True)
class Holding:
    data_category_id: int
    name: str
    sensitivity: Sensitivity
    records: int | None


_HOLDERS = {Vendor: (VendorData, VendorData.vendor_id), System: (SystemData, SystemData.system_id)}
_HOLDER_AUDIT = {
    Vendor: (AuditAction.vendor_updated, "vendor"),
    System: (AuditAction.system_updated, "system"),
}


def holdings(session: Session, holder: Vendor | System) -> list[Holding]:
    model, owner = _HOLDERS[type(holder)]
    rows = session.execute(
        sa.select(DataCategory.id, DataCategory.name, DataCategory.sensitivity, model.records)
        .join(model, model.data_category_id == DataCategory.id)
        .where(owner == holder.id)
        .order_by(enum_rank(DataCategory.sensitivity, Sensitivity).desc(), DataCategory.name)
    )
    return [Holding(*row) for row in rows]


def get_holding(session: Session, holder: Vendor | System, data_category_id: int):
    model, owner = _HOLDERS[type(holder)]
    return session.scalar(
        sa.select(model).where(owner == holder.id, model.data_category_id == data_category_id)
    )


def _record_holding(
    session: Session, holder: Vendor | System, change: str, category_id: int, actor: Actor, **more
) -> None:
    action, object_type = _HOLDER_AUDIT[type(holder)]
    _record(
        session,
        action,
        actor=actor,
        object_type=object_type,
        object_id=holder.id,
        vendor_id=holder.id if isinstance(holder, Vendor) else None,
        name=holder.name,
        change=change,
        data_category=session.scalar(
            sa.select(DataCategory.name).where(DataCategory.id == category_id)
        ),
        **more,
    )


def set_holding(
    session: Session,
    holder: Vendor | System,
    data_category_id: int,
    records: int | None,
    *,
    actor: Actor,
) -> None:
    """Add a holding of a data category, or change its records when it is held already."""
    model, _owner = _HOLDERS[type(holder)]
    holding = get_holding(session, holder, data_category_id)
    if holding is None:
        owner_field = "vendor_id" if isinstance(holder, Vendor) else "system_id"
        holding = model(
            **{owner_field: holder.id}, data_category_id=data_category_id, records=records
        )
        session.add(holding)
        change = "data added"
    elif holding.records != records:
        holding.records = records
        change = "data records changed"
    else:
        return
    session.flush()
    _record_holding(session, holder, change, data_category_id, actor, records=records)


def remove_holding(session: Session, holder: Vendor | System, holding, *, actor: Actor) -> None:
    category_id = holding.data_category_id
    session.delete(holding)
    session.flush()
    _record_holding(session, holder, "data removed", category_id, actor)


# ---- subprocessors -------------------------------------------------------------------------


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


# ---- systems -------------------------------------------------------------------------------


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
    )


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


# ---- data categories -----------------------------------------------------------------------


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


# ---- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialRow:
    id: int
    name: str
    kind: str
    privilege: Privilege
    interactive: bool
    mfa_enforced: bool
    phishing_resistant_mfa: bool
    status: CredentialStatus
    owner: str
    issued_at: datetime | None
    last_rotated_at: datetime | None
    expires_at: datetime | None
    rotation_period_days: int | None
    holder_vendor_id: int | None
    holder_name: str | None
    system_id: int
    system_name: str
    copies: int  # systems where a copy is stored
    rotation: RotationStatus


CREDENTIAL_SORTS = (
    "name",
    "holder",
    "system",
    "kind",
    "privilege",
    "rotation",
    "last_rotated_at",
    "expires_at",
)


def search_credentials(
    session: Session,
    *,
    search: str | None = None,
    status: CredentialStatus | None = None,
    rotation: RotationStatus | None = None,
    holder_vendor_id: int | None = None,
    system_id: int | None = None,
    stored_in_system_id: int | None = None,
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    now: datetime | None = None,
) -> Page[CredentialRow]:
    """Credentials with their holder, system, copies and rotation status, one page per
    statement; the filters combine."""
    rotation_expr = rotation_status(now or utcnow())
    copies = _count_by(CredentialCopy.credential_id)
    query = (
        sa.select(
            Credential.id,
            Credential.name,
            Credential.kind,
            Credential.privilege,
            Credential.interactive,
            Credential.mfa_enforced,
            Credential.phishing_resistant_mfa,
            Credential.status,
            Credential.owner,
            Credential.issued_at,
            Credential.last_rotated_at,
            Credential.expires_at,
            Credential.rotation_period_days,
            Credential.holder_vendor_id,
            Vendor.name.label("holder_name"),
            Credential.system_id,
            System.name.label("system_name"),
            sa.func.coalesce(copies.c.n, 0).label("copies"),
            rotation_expr.label("rotation"),
        )
        .join(System, System.id == Credential.system_id)
        .outerjoin(Vendor, Vendor.id == Credential.holder_vendor_id)
        .outerjoin(copies, copies.c.key == Credential.id)
    )
    if search:
        query = query.where(
            sa.or_(_name_contains(Credential, search), _contains(Credential.owner, search))
        )
    if status:
        query = query.where(Credential.status == status)
    if rotation:
        query = query.where(rotation_expr == rotation.value)
    if holder_vendor_id is not None:
        query = query.where(Credential.holder_vendor_id == holder_vendor_id)
    if system_id is not None:
        query = query.where(Credential.system_id == system_id)
    if stored_in_system_id is not None:
        query = query.where(
            Credential.id.in_(
                sa.select(CredentialCopy.credential_id).where(
                    CredentialCopy.system_id == stored_in_system_id
                )
            )
        )
    name = sa.func.lower(Credential.name)
    key = {
        "name": name,
        "holder": sa.func.lower(Vendor.name),
        "system": sa.func.lower(System.name),
        "kind": Credential.kind,
        "privilege": enum_rank(Credential.privilege, Privilege),
        "rotation": sa.case(
            {status.value: i for i, status in enumerate(RotationStatus)}, value=rotation_expr
        ),
        "last_rotated_at": Credential.last_rotated_at,
        "expires_at": Credential.expires_at,
    }[sort]
    nullable = sort in {"holder", "last_rotated_at", "expires_at"}
    query = query.order_by(*sort_order(key, descending, name, Credential.id, nullable=nullable))

    def row(values) -> CredentialRow:
        return CredentialRow(*values[:18], rotation=RotationStatus(values.rotation))

    return one_page(session, query, page, row)


def get_credential(session: Session, credential_id: int) -> Credential | None:
    return session.get(Credential, credential_id)


def stored_in(session: Session, credential: Credential) -> list[int]:
    """The systems where a copy of the credential is kept."""
    return list(
        session.scalars(
            sa.select(CredentialCopy.system_id)
            .where(CredentialCopy.credential_id == credential.id)
            .order_by(CredentialCopy.system_id)
        )
    )


def credential_problems(
    session: Session, values: Mapping[str, Any], *, credential_id: int | None = None
) -> dict[str, list[str]]:
    return _problems(session, Credential, values, CREDENTIAL_TEXT, credential_id)


def _store_copies(session: Session, credential: Credential, system_ids: Iterable[int]) -> bool:
    """Make the stored copies exactly ``system_ids``; returns whether anything changed."""
    wanted = set(system_ids)
    current = set(stored_in(session, credential))
    if wanted == current:
        return False
    session.execute(
        sa.delete(CredentialCopy).where(
            CredentialCopy.credential_id == credential.id,
            CredentialCopy.system_id.in_(current - wanted),
        )
    )
    session.add_all(
        CredentialCopy(credential_id=credential.id, system_id=s) for s in sorted(wanted - current)
    )
    return True


def create_credential(
    session: Session,
    values: Mapping[str, Any],
    *,
    stored_in_system_ids: Iterable[int] = (),
    actor: Actor,
) -> Credential:
    credential = Credential(
        **_checked(session, Credential, values, CREDENTIAL_FIELDS, CREDENTIAL_TEXT)
    )
    session.add(credential)
    _flush(session, Credential)
    _store_copies(session, credential, stored_in_system_ids)
    session.flush()
    _record(
        session,
        AuditAction.credential_created,
        actor=actor,
        object_type="credential",
        object_id=credential.id,
        vendor_id=credential.holder_vendor_id,
        name=credential.name,
        system_id=credential.system_id,
        stored_in=sorted(set(stored_in_system_ids)),
    )
    return credential


def update_credential(
    session: Session,
    credential: Credential,
    values: Mapping[str, Any],
    *,
    stored_in_system_ids: Iterable[int],
    actor: Actor,
    expected_version: int | None = None,
) -> list[str]:
    check_version(session, credential, expected_version, values)
    values = _checked(
        session, Credential, values, CREDENTIAL_FIELDS, CREDENTIAL_TEXT, credential.id
    )
    # The form knows dates to the day: a date left as it was keeps its recorded time.
    for name in CREDENTIAL_DATES:
        old, new = getattr(credential, name), values.get(name)
        if old is not None and new is not None and old.date() == new.date():
            values[name] = old
    previous_holder = credential.holder_vendor_id
    changed = _apply(credential, values)
    if _store_copies(session, credential, stored_in_system_ids):
        changed.append("stored_in")
    if changed:
        _flush(session, Credential)
        details = {"previous_holder_id": previous_holder} if "holder_vendor_id" in changed else {}
        _record(
            session,
            AuditAction.credential_updated,
            actor=actor,
            object_type="credential",
            object_id=credential.id,
            vendor_id=credential.holder_vendor_id,
            name=credential.name,
            changed=changed,
            **details,
        )
    return changed


@dataclass(frozen=True)
class CredentialDeletion:
    stored: tuple[str, ...]  # systems holding a copy: the records of those copies go too
    # Incidents whose rotation checklist lists it: they block the deletion (revoke it instead).
    incidents: tuple[tuple[int, str], ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.incidents)


def credential_deletion(session: Session, credential: Credential) -> CredentialDeletion:
    return CredentialDeletion(
        stored=_names(
            session,
            sa.select(System.name)
            .join(CredentialCopy, CredentialCopy.system_id == System.id)
            .where(CredentialCopy.credential_id == credential.id)
            .order_by(sa.func.lower(System.name)),
        ),
        incidents=_incidents(
            session,
            Incident.id.in_(
                sa.select(IncidentCredential.incident_id).where(
                    IncidentCredential.credential_id == credential.id
                )
            ),
        ),
    )


def delete_credential(session: Session, credential: Credential, *, actor: Actor) -> None:
    """Delete the credential's record; refused while an incident's checklist lists it."""
    plan = credential_deletion(session, credential)
    if plan.blocked:
        raise ValidationFailed({"": ["An incident's rotation checklist lists this credential."]})
    credential_id, name, holder = credential.id, credential.name, credential.holder_vendor_id
    session.delete(credential)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # put on a checklist meanwhile
        raise ValidationFailed(
            {"": ["An incident's rotation checklist lists this credential."]}
        ) from None
    _record(
        session,
        AuditAction.credential_deleted,
        actor=actor,
        object_type="credential",
        object_id=credential_id,
        vendor_id=holder,
        name=name,
        copies_removed=len(plan.stored),
    )
