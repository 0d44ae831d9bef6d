"""The demo's people: one user per role but admin, and the contacts of the other vendors that
answer a questionnaire."""

from ...models import Role
from .inventory import IDENTITY_PROVIDER

PROCUREMENT = "procurement@example.com"
RISK_OFFICER = "risk@example.com"
VENDOR_CONTACT = "contact@keystone-identity.example"  # of the identity provider
DEMO_USERS = [
    (PROCUREMENT, "Priya Natarajan", Role.procurement, None),
    (RISK_OFFICER, "Marcus Lindqvist", Role.risk_officer, None),
    (VENDOR_CONTACT, "Daniel Okafor", Role.vendor_contact, IDENTITY_PROVIDER),
]


# The contacts of the other vendors that answer a questionnaire: (name, email). Their accounts
# exist as after an invitation; their passwords are shown to nobody (log in as the identity
# provider's contact to see the portal).
VENDOR_CONTACTS = {
    "MailRelay": ("Camille Martin", "security@mailrelay.example"),
    "Nimbus Cloud": ("Aisha Rahman", "trust@nimbus-cloud.example"),
    "SupportDesk": ("Tom Becker", "it@supportdesk.example"),
}
