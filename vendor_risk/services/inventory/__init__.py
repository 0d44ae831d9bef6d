"""The inventory: vendors, systems, data categories, credentials, and who holds what.

Every query of the inventory pages is built here. Units of work check their input, flush, and
record the audit event in the caller's transaction; the view commits once.

Lists are read in one statement per page: the counts shown on each row come from aggregate
subqueries joined to the page's query, and the total from a window function, so a page costs
the same whatever the number of rows.

Where things are (this module only re-exports what the rest of the app uses):

- ``edits``: the shape every entity's units of work share: the checks of a form's values, the
  version check (``check_version``), apply, flush, the audit record, a deletion plan's names;
- ``list_queries``: what the list pages' queries share (a literal text search, per-row counts);
- ``rotation``: ``RotationStatus`` and ``rotation_status``, the one place the rotation rule lives;
- ``vendors``, ``data_holdings`` (the data a vendor or a system holds), ``subprocessor_links``,
  ``systems``, ``data_categories``, ``credentials``: one module per entity, with its list page,
  its choices or names, create, update and delete; ``network_zones`` and ``fourth_parties``
  (issue 14) likewise; ``subprocessor_links`` also has the portfolio's concentration of
  subprocessors (how many of our vendors rely on each); ``federations`` (systems trusting an
  identity provider for sign-in) and ``software_supply`` (vendor software a system runs),
  listed, added and removed on a system's page;
- ``bulk``: the inventory file's import and export, and CSV lists of vendors;
- ``contacts``: a vendor contact's own vendor.
"""

from .credentials import (
    CREDENTIAL_SORTS,
    create_credential,
    credential_deletion,
    credential_problems,
    delete_credential,
    get_credential,
    search_credentials,
    stored_in,
    update_credential,
)
from .data_categories import (
    create_data_category,
    data_category_choices,
    data_category_deletion,
    data_category_problems,
    delete_data_category,
    get_data_category,
    search_data_categories,
    update_data_category,
)
from .data_holdings import get_holding, holdings, remove_holding, set_holding
from .edits import check_version
from .federations import (
    add_federation,
    federation_problems,
    federations,
    get_federation,
    remove_federation,
)
from .fourth_parties import (
    create_fourth_party,
    delete_fourth_party,
    fourth_party_choices,
    fourth_party_deletion,
    fourth_party_problems,
    get_fourth_party,
    relying_vendors,
    search_fourth_parties,
    update_fourth_party,
)
from .network_zones import (
    add_reach,
    create_zone,
    delete_zone,
    get_reach,
    get_zone,
    reached_zones,
    remove_reach,
    search_zones,
    set_reaches,
    update_zone,
    zone_choices,
    zone_deletion,
    zone_neighbours,
    zone_problems,
)
from .rotation import RotationStatus, rotation_status
from .software_supply import (
    add_software,
    get_software_supply,
    remove_software,
    software_of_system,
    software_of_vendor,
    software_problems,
)
from .subprocessor_links import (
    add_subprocessor,
    get_subprocessor_data,
    get_subprocessor_link,
    remove_subprocessor,
    remove_subprocessor_data,
    set_subprocessor_data,
    subprocessor_concentration,
    subprocessor_problems,
    subprocessors,
)
from .systems import (
    create_system,
    delete_system,
    get_system,
    search_systems,
    system_choices,
    system_deletion,
    system_problems,
    system_zone_names,
    system_zones,
    systems_operated_by,
    update_system,
)
from .vendors import (
    RATING_STATES,
    SUGGESTED,
    VENDOR_SORTS,
    create_vendor,
    delete_vendor,
    email_domain_suggestions,
    get_vendor,
    has_other_vendors,
    search_vendors,
    select_vendors,
    update_vendor,
    vendor_counts,
    vendor_deletion,
    vendor_name,
    vendor_names,
    vendor_problems,
)

__all__ = [
    "CREDENTIAL_SORTS",
    "RATING_STATES",
    "SUGGESTED",
    "VENDOR_SORTS",
    "RotationStatus",
    "add_federation",
    "add_reach",
    "add_software",
    "add_subprocessor",
    "check_version",
    "create_credential",
    "create_data_category",
    "create_fourth_party",
    "create_system",
    "create_vendor",
    "create_zone",
    "credential_deletion",
    "credential_problems",
    "data_category_choices",
    "data_category_deletion",
    "data_category_problems",
    "delete_credential",
    "delete_data_category",
    "delete_fourth_party",
    "delete_system",
    "delete_vendor",
    "delete_zone",
    "email_domain_suggestions",
    "federation_problems",
    "federations",
    "fourth_party_choices",
    "fourth_party_deletion",
    "fourth_party_problems",
    "get_credential",
    "get_data_category",
    "get_federation",
    "get_fourth_party",
    "get_holding",
    "get_reach",
    "get_software_supply",
    "get_subprocessor_data",
    "get_subprocessor_link",
    "get_system",
    "get_vendor",
    "get_zone",
    "has_other_vendors",
    "holdings",
    "reached_zones",
    "relying_vendors",
    "remove_federation",
    "remove_holding",
    "remove_reach",
    "remove_software",
    "remove_subprocessor",
    "remove_subprocessor_data",
    "rotation_status",
    "search_credentials",
    "search_data_categories",
    "search_fourth_parties",
    "search_systems",
    "search_vendors",
    "search_zones",
    "select_vendors",
    "set_holding",
    "set_reaches",
    "set_subprocessor_data",
    "software_of_system",
    "software_of_vendor",
    "software_problems",
    "stored_in",
    "subprocessor_concentration",
    "subprocessor_problems",
    "subprocessors",
    "system_choices",
    "system_deletion",
    "system_problems",
    "system_zone_names",
    "system_zones",
    "systems_operated_by",
    "update_credential",
    "update_data_category",
    "update_fourth_party",
    "update_system",
    "update_vendor",
    "update_zone",
    "vendor_counts",
    "vendor_deletion",
    "vendor_name",
    "vendor_names",
    "vendor_problems",
    "zone_choices",
    "zone_deletion",
    "zone_neighbours",
    "zone_problems",
]
