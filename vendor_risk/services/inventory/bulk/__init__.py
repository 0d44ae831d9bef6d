"""Bulk import and export of the inventory (docs/inventory-format.md), and CSV lists of vendors.

An import is all-or-nothing: every problem of the document (schema, duplicate names, unknown
references, secret-looking text, dates, numbers) is found before anything changes, and all of
them are reported together with their paths. Entries are matched by name, and references
resolved by name, whatever the case, by the rule of :mod:`vendor_risk.names` that the
database's unique constraints enforce: the checks and the database never disagree, so a file
that passes them is saved. A stored entry keeps its spelling. A field left out of
an entry keeps its stored value (a new entry gets the default); a field given replaces it; a
list given (``data``, ``subprocessors``, ``stored_in``, a system's ``zones``,
``accepts_unauthenticated_from``, ``sign_in_via`` and ``runs_software``, a zone's ``reaches``)
replaces the stored one. Nothing is
deleted but the items of such lists, so a file may describe only part of the inventory.

Both directions load the whole inventory with one query per table, never one per entry.

Where things are (this module only re-exports what the rest of the app uses): ``sections``
(the file's sections and how each field converts), ``stored`` (the stored inventory, loaded
once, and an entry's references), ``checks`` (every problem of a document), ``importing``
(the plan, the batched writes, the report and the audit event), ``exporting``, and
``vendor_csv`` (CSV lists of vendors, checked and saved through the same steps), ``uploaded``
(an inventory file uploaded through the web, imported as the command line does).
"""

from .checks import InventoryInvalid
from .exporting import export_inventory
from .importing import ImportReport, SectionReport, import_inventory
from .sections import SECTIONS
from .uploaded import import_inventory_file
from .vendor_csv import (
    VENDOR_CSV_COLUMNS,
    RowProblem,
    VendorCsvInvalid,
    import_vendor_csv,
    vendor_csv_template,
)

__all__ = [
    "SECTIONS",
    "VENDOR_CSV_COLUMNS",
    "ImportReport",
    "InventoryInvalid",
    "RowProblem",
    "SectionReport",
    "VendorCsvInvalid",
    "export_inventory",
    "import_inventory",
    "import_inventory_file",
    "import_vendor_csv",
    "vendor_csv_template",
]
