"""Credentials: their list page with each one's rotation status (:mod:`.rotation`), the
systems where copies are stored, create and update (the fields a form may set), and
deletion, refused while an incident's rotation checklist lists one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...db import utcnow
from ...models import (
    AuditAction,
    Credential,
    CredentialCopy,
    CredentialStatus,
    Incident,
    IncidentCredential,
    Privilege,
    System,
    Vendor,
)
from .. import ValidationFailed
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
from .list_queries import _contains, _count_of, _name_contains
from .rotation import RotationStatus, rotation_status

# What a form may set on a credential: field names equal model attributes. The free-text ones
# are checked for secret-looking values.
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
    total: int | None = None,
) -> Page[CredentialRow]:
    """Credentials with their holder, system, copies and rotation status, a page at a time
    (pages.one_page, with a lean count of the same filters); the filters combine. ``total``:
    how many match, when known already (the portfolio's stored rotation counts), instead of
    counting them again."""
    rotation_expr = rotation_status(now or utcnow())
    # Counted for the page's rows only.
    copies = _count_of(CredentialCopy.credential_id, Credential.id)
    filters = []
    if search:
        filters.append(
            sa.or_(_name_contains(Credential, search), _contains(Credential.owner, search))
        )
    if status:
        filters.append(Credential.status == status)
    if rotation:
        filters.append(rotation_expr == rotation.value)
    if holder_vendor_id is not None:
        filters.append(Credential.holder_vendor_id == holder_vendor_id)
    if system_id is not None:
        filters.append(Credential.system_id == system_id)
    if stored_in_system_id is not None:
        filters.append(
            Credential.id.in_(
                sa.select(CredentialCopy.credential_id).where(
                    CredentialCopy.system_id == stored_in_system_id
                )
            )
        )
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
            copies.label("copies"),
            rotation_expr.label("rotation"),
        )
        .join(System, System.id == Credential.system_id)
        .outerjoin(Vendor, Vendor.id == Credential.holder_vendor_id)
        .where(*filters)
    )
    count = sa.select(sa.func.count()).select_from(Credential).where(*filters)
    # The name as compared (names.name_key), unique and indexed: sorted by name, the page is
    # read off the index.
    name = Credential.name_key
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

    return one_page(session, query, page, row, count=count if total is None else total)


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
