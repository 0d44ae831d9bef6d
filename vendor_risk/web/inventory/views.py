"""The inventory pages: vendors (with tabs), systems, data categories and credentials.

Thin views: parse the form, call a service of ``services.inventory``, render; the view commits
once. Refused forms answer 400 with the errors at their fields, refused deletions 409.

One module per kind of page, each joining the blueprint of ``blueprint``: ``vendor_views``,
``holding_views`` (data held, subprocessors), ``rating_views``, ``system_views``,
``data_category_views``, ``credential_views``, ``zone_views`` (network zones),
``fourth_party_views``, ``portfolio_views``, ``import_views`` (the inventory file import,
the vendor CSV template); what they share is in
``common``. This module imports them all, so that every route is registered, and re-exports
what the other areas use.
"""

from __future__ import annotations

# Every page module joins the blueprint when imported.
from . import (  # noqa: F401 - their routes join the blueprint
    credential_views,
    data_category_views,
    fourth_party_views,
    holding_views,
    import_views,
    portfolio_views,
    rating_views,
    system_views,
    vendor_views,
    zone_views,
)
from .blueprint import bp
from .common import _filter_args, _found, _linker, _show_errors, _submit
from .credential_views import CREDENTIAL_FILTERS
from .vendor_views import VENDOR_FILTERS, vendor_names_json

__all__ = [
    "CREDENTIAL_FILTERS",
    "VENDOR_FILTERS",
    "_filter_args",
    "_found",
    "_linker",
    "_show_errors",
    "_submit",
    "bp",
    "vendor_names_json",
]
