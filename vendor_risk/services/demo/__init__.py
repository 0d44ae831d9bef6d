"""Demo data: an inventory modelled on the 2023 identity-provider breach, a dozen other
plausible vendors, and one demo user per role.

The story (see shared/background): attackers took the support system of an identity provider
and, with it, tokens and service-account credentials its customer had shared in support
tickets. One access token and three service accounts that were never rotated opened the
customer's self-hosted wiki, ticketing and source control; interactive logins protected by
MFA (the identity provider's admin console, the customer dashboard) held against the
credentials themselves. A session token copied from a HAR file in a support case carries the
MFA of its sign-in, but it was revoked when that session hijack was detected, before the
breach of our systems began: the identity provider's tenant held, as in the real incident.
Were it not revoked (reachable if the controls fail), it would open the identity provider as
an administrator, and the wiki and ticketing trust the identity provider for sign-in with no
MFA of their own (source control, the CRM, HR and e-mail ask theirs).

The other vendors show the other ways in: Pipeline CRM operates our CRM (its customer data,
and the billing token stored in it, which opens the finance ledger on the corporate network,
where the payment terminals accept connections with no sign-in); StatusWatch's monitoring
agent runs as administrator on the build pipeline with automatic updates, while BuildRight's
runner there takes only the updates we approve; and PayFlow, SignSure and SupportDesk pass
records on to fourth parties recorded under them.

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
from .inventory import (
    CATEGORIES,
    CREDENTIALS,
    FEDERATIONS,
    FOURTH_PARTIES,
    FOURTH_PARTY_LINKS,
    IDENTITY_PROVIDER,
    OPERATED_BY,
    REVOKED,
    SOFTWARE,
    SUBPROCESSORS,
    SYSTEMS,
    VENDORS,
    ZONE_MEMBERS,
    ZONES,
)
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
    "FEDERATIONS",
    "FOURTH_PARTIES",
    "FOURTH_PARTY_LINKS",
    "IDENTITY_PROVIDER",
    "KEYSTONE_BASELINE",
    "KEYSTONE_CREDENTIALS",
    "KEYSTONE_INTAKE",
    "LEANS",
    "MAILRELAY_BASELINE",
    "MANUAL_FINDING",
    "NIMBUS_BASELINE",
    "OPERATED_BY",
    "OUTCOMES",
    "PROCUREMENT",
    "RECENT_DAYS",
    "REVOKED",
    "RISK_ACCEPTANCE",
    "RISK_OFFICER",
    "SOFTWARE",
    "SUBPROCESSORS",
    "SUPPORTDESK_BASELINE",
    "SYSTEMS",
    "VENDORS",
    "VENDOR_CONTACT",
    "VENDOR_CONTACTS",
    "ZONES",
    "ZONE_MEMBERS",
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
