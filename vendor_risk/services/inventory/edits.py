"""The shape every inventory entity's units of work share: the checks of a form's values
(known fields, a name unique whatever its case, no secret-looking text), the version check,
applying the values that differ, the flush that reports a name taken meanwhile, the audit
record, and the lists of names a deletion plan shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.names import name_key
from ...core.secret_detection import secret_problem
from ...db import PORTFOLIO_UPDATE, request_job
from ...models import (
    AuditAction,
    Credential,
    DataCategory,
    FourthParty,
    Incident,
    NetworkZone,
    System,
    Vendor,
)
from .. import EditConflict, ValidationFailed, audit
from ..audit import Actor

_NOUN = {
    Vendor: "vendor",
    System: "system",
    DataCategory: "data category",
    Credential: "credential",
    NetworkZone: "network zone",
    FourthParty: "fourth party",
}


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
    # Every inventory edit goes through here: the portfolio's aggregates are updated by the
    # background job once the change commits (the triggers recorded what it touched).
    request_job(session, PORTFOLIO_UPDATE)
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


def _incidents(session: Session, *where) -> tuple[tuple[int, str], ...]:
    """The incidents matching ``where``: their record is kept, so they block deletions."""
    query = sa.select(Incident.id, Incident.title).where(*where).order_by(Incident.id)
    return tuple((row.id, row.title) for row in session.execute(query))
