"""An inventory file uploaded through the web: parsed and imported as the command line imports
a file (``flask --app app inventory import``), its problems located at their lines."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core import inventory_file
from ....core.inventory_file import Problem
from ...audit import Actor
from .checks import InventoryInvalid
from .importing import ImportReport, import_inventory


def import_inventory_file(
    session: Session, raw: bytes, *, name: str, actor: Actor, dry_run: bool = False
) -> ImportReport:
    """Import the YAML or JSON inventory file ``raw`` (uploaded as ``name``) as
    :func:`import_inventory` does, audited with ``name`` as its source. Refused:
    :class:`InventoryInvalid` whose problems carry the file's name and their lines, in the
    order of the file; nothing is written then (the caller rolls back)."""
    loaded = inventory_file.parse_bytes(raw, name=name, check=False)  # the import checks all
    if loaded.document is None:
        raise InventoryInvalid(loaded.problems)
    try:
        return import_inventory(session, loaded.document, actor=actor, dry_run=dry_run, source=name)
    except InventoryInvalid as exc:
        raise InventoryInvalid(loaded.locate(exc.problems)) from None
    except sa.exc.IntegrityError:
        # PostgreSQL: another session created one of the same names after the checks.
        message = "the inventory changed during the import: nothing was imported; run it again"
        raise InventoryInvalid([Problem((), message, name)]) from None
