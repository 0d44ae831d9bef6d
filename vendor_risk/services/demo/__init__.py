"""Demo data: an inventory modelled on the 2023 identity-provider breach, a dozen other
plausible vendors, and one demo user per role.

The story (see shared/background): attackers took the support system of an identity provider
and, with it, tokens and service-account credentials its customer had shared in support
tickets. One access token and three service accounts that were never rotated opened the
customer's self-hosted wiki, ticketing and source control; interactive logins protected by
MFA (the identity provider's admin console, the customer dashboard) held.

The questionnaires tell the same story: the identity provider answers well, except on how its
support staff handle the session tokens in customers' HAR files and who can sign in to its
support system, so its control score is capped and findings open; a strong vendor, a weak one
(its own support tooling) and a vendor with one documented exception complete the portfolio,
each at another step of the review.

The package keeps the demo's content as data apart from the code that loads it: ``inventory``
(the inventory), ``people`` (the demo users and the vendors' contacts), ``assessments`` (the
questionnaires and how far each gets), ``replies`` (how a vendor's answers are planned) and
``loading`` (everything that writes, through the services). Every name is re-exported here.
"""

from .assessments import (
    ASSESSMENTS,
    DECISIONS,
    DUE_IN_DAYS,
    KEYSTONE_BASELINE,
    KEYSTONE_CREDENTIALS,
    KEYSTONE_INTAKE,
    MAILRELAY_BASELINE,
    MANUAL_FINDING,
    NIMBUS_BASELINE,
    OUTCOMES,
    RISK_ACCEPTANCE,
    SUPPORTDESK_BASELINE,
    Assessment,
)
from .inventory import CATEGORIES, CREDENTIALS, IDENTITY_PROVIDER, SUBPROCESSORS, SYSTEMS, VENDORS
from .loading import inventory_is_empty, load_assessments, load_demo, load_inventory
from .people import DEMO_USERS, PROCUREMENT, RISK_OFFICER, VENDOR_CONTACT, VENDOR_CONTACTS
from .replies import LEANS, RECENT_DAYS, Replies, best_answer, fair_answer, planned_answers

__all__ = [
    "ASSESSMENTS",
    "CATEGORIES",
    "CREDENTIALS",
    "DECISIONS",
    "DEMO_USERS",
    "DUE_IN_DAYS",
    "IDENTITY_PROVIDER",
    "KEYSTONE_BASELINE",
    "KEYSTONE_CREDENTIALS",
    "KEYSTONE_INTAKE",
    "LEANS",
    "MAILRELAY_BASELINE",
    "MANUAL_FINDING",
    "NIMBUS_BASELINE",
    "OUTCOMES",
    "PROCUREMENT",
    "RECENT_DAYS",
    "RISK_ACCEPTANCE",
    "RISK_OFFICER",
    "SUBPROCESSORS",
    "SUPPORTDESK_BASELINE",
    "SYSTEMS",
    "VENDORS",
    "VENDOR_CONTACT",
    "VENDOR_CONTACTS",
    "Assessment",
    "Replies",
    "best_answer",
    "fair_answer",
    "inventory_is_empty",
    "load_assessments",
    "load_demo",
    "load_inventory",
    "planned_answers",
]
