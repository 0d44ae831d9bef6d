"""The starter catalogue (vendor_risk/catalogue/starter.yaml): the data categories most
organisations hold, each with its sensitivity, offered on an empty instance and importable at
any time (``flask --app app inventory starter``, the data categories page).

It is an inventory file, imported by the inventory import (``bulk.import_inventory``: the same
checks, the same dry run, one ``inventory.imported`` audit event), with one difference: a
category whose name is stored already (in any case) is left as it is, its sensitivity and
description included, and reported as kept. So importing it twice creates nothing the second
time, and never overwrites what someone chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core import inventory_file
from ...core.names import name_key
from ...models import DataCategory, Sensitivity
from .. import ValidationFailed
from ..audit import Actor
from .bulk import InventoryInvalid, import_inventory

STARTER_PATH = Path(__file__).resolve().parents[2] / "catalogue" / "starter.yaml"
# What the audit event and the summaries call it (the import's ``source``).
STARTER_SOURCE = "starter catalogue"


@dataclass(frozen=True)
class StarterCategory:
    """A category of the catalogue, and the name it is stored under when it is already."""

    name: str
    sensitivity: Sensitivity
    description: str
    stored_as: str | None


@dataclass(frozen=True)
class StarterReport:
    """What an import of the catalogue created (or, for a dry run, would create), and the
    categories it left alone because their name is stored already (as stored)."""

    dry_run: bool
    created: tuple[str, ...]
    kept: tuple[str, ...]


def _entries(path: Path) -> list[dict]:
    """The catalogue's data categories; a broken file raises InventoryInvalid with its lines."""
    loaded = inventory_file.read(path)
    if loaded.problems:
        raise InventoryInvalid(loaded.problems)
    return list(loaded.document.get("data_categories") or ())


def _stored_names(session: Session) -> dict[str, str]:
    """The stored data categories' names by their key (names.name_key)."""
    rows = session.execute(sa.select(DataCategory.name_key, DataCategory.name))
    return {row.name_key: row.name for row in rows}


def starter_categories(session: Session, *, path: Path = STARTER_PATH) -> list[StarterCategory]:
    """The catalogue as the page shows it: each category with the stored one of its name."""
    stored = _stored_names(session)
    return [
        StarterCategory(
            name=entry["name"],
            sensitivity=Sensitivity(entry.get("sensitivity", Sensitivity.medium)),
            description=entry.get("description") or "",
            stored_as=stored.get(name_key(entry["name"])),
        )
        for entry in _entries(path)
    ]


def starter_is_pending(session: Session) -> bool:
    """True while no data category is stored: the moment to offer the catalogue."""
    return session.scalar(sa.select(DataCategory.id).limit(1)) is None


def import_starter(
    session: Session, *, actor: Actor, dry_run: bool = False, path: Path = STARTER_PATH
) -> StarterReport:
    """Create the catalogue's categories whose name is not stored yet (flushed, not
    committed), audited as an inventory import; a dry run writes nothing. A category created by
    a concurrent request between the checks and the insert refuses the whole import
    (ValidationFailed; the caller rolls back): nothing is half-saved."""
    stored = _stored_names(session)
    entries = []
    kept = []
    for entry in _entries(path):
        existing = stored.get(name_key(entry["name"]))
        if existing is None:
            entries.append(entry)
        else:
            # Its name only: every field left out keeps its stored value, so it is counted as
            # unchanged and stays exactly as it is.
            entries.append({"name": entry["name"]})
            kept.append(existing)
    document = {"version": inventory_file.FORMAT_VERSION, "data_categories": entries}
    try:
        report = import_inventory(
            session, document, actor=actor, dry_run=dry_run, source=STARTER_SOURCE
        )
    except sa.exc.IntegrityError:
        raise ValidationFailed(
            {"": ["The data categories changed during the import, so nothing was imported."]}
        ) from None
    return StarterReport(
        dry_run=dry_run,
        created=report.sections["data_categories"].created,
        kept=tuple(kept),
    )
