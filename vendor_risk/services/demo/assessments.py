"""The demo's questionnaires as data: what each vendor answers, how far each request gets
(answered, submitted, reviewed), the review decision, the manual finding and the risk
acceptance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ...models import DecisionKind, FindingSeverity
from ..questionnaires import review
from .inventory import IDENTITY_PROVIDER
from .replies import Replies

DUE_IN_DAYS = 30


@dataclass(frozen=True)
class Assessment:
    """A request the demo sends and how far it gets: answered in half (in progress, as a
    contact leaves it between two sittings) or submitted; then the reviewer's ``notes`` (question
    id -> (clarification for the vendor, internal note)) and ``outcome`` (a key of
    :data:`OUTCOMES`, or None: it waits in the review queue)."""

    vendor: str
    questionnaire: str  # the key of a shipped questionnaire
    replies: Replies
    submitted: bool = True
    notes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    outcome: str | None = None


OUTCOMES: dict[str, Callable[..., Any]] = {
    "returned": review.return_for_clarification,
    "accepted": review.accept,
}

KEYSTONE_INTAKE = Replies(
    "best",
    {
        "service-name": "Keystone Workforce Identity",
        "service-description": (
            "Single sign-on and MFA for every employee and contractor. Keystone's support team "
            "handles our administrators' cases, with the HAR files and logs they ask for."
        ),
        "service-type": "saas",
        "business-owner": "Head of IT",
        "criticality": "critical",
        "outage-tolerance": "under-an-hour",
        "substitutability": "hard",
        "exit-data-portability": "partial",
        "data-categories": ["employee-hr", "credentials-secrets"],
        "data-sensitivity": "critical",
        "data-volume": "1k-100k",
        "data-record-count": 3_000,
        "data-location": "United States, European Union",
        "data-fourth-parties": "yes",
        "access-level": "admin",
        "access-environment": "production",
        "access-credential-kinds": ["sso_admin", "support_access", "api_token", "service_account"],
        "access-interactive-mfa": "phishing-resistant",
        "access-systems": (
            "The identity provider tenant (Head of IT); Confluence, Jira and Bitbucket through "
            "an automation token and service accounts (Engineering tools); the cloud sandbox "
            "(Platform)."
        ),
        "contract-security-terms": "partial",
        "contract-dpa": "yes",
    },
)

# The identity provider answers well, except where the 2023 breach went through: session
# tokens in the HAR files customers upload, and its support system.
KEYSTONE_BASELINE = Replies(
    "best",
    {
        "sc-suppliers-hold-access": "yes",
        "sup-tenant-access-model": "approved-logged",
        "sup-receives-har-files": "yes",
        "sup-har-sanitisation": "customer-only",
        "sup-har-retention": "longer",
        "sup-credentials-in-tickets": "manual-redacted",
        "sup-ticket-readers": "all-support",
        "sup-ticket-system-mfa": "no",
        "sup-ticket-system-monitoring": "no",
        "cred-holds-customer-credentials": "yes",
        "apikey-issued": "yes",
        "ir-notification-time": "within-72h",
        "ir-notify-on-suspicion": "no",
        "ir-past-incidents": "no",
        "ir-security-contact": "security@keystone-identity.example",
        "iam-access-reviews": "half-yearly",
        "log-retention": "six-months",
        "dp-data-regions": ["eu-eea", "us"],
        "bc-recovery-time-hours": 4,
    },
    {
        "sup-har-sanitisation": "Our support guide asks customers to remove cookies and "
        "tokens before they upload a HAR file.",
        "sup-har-retention": "Attachments stay with the case for as long as the customer's "
        "account exists.",
        "sup-ticket-system-mfa": "Agents sign in with MFA; the integration's service account "
        "signs in with a password.",
        "ir-notify-on-suspicion": "We notify customers once our investigation confirms they "
        "are affected.",
    },
)

KEYSTONE_CREDENTIALS = Replies(
    "best",
    {
        "vc-credential-kinds": ["api-token", "service-account", "user-account"],
        "vc-credential-inventory": "no",
        "vc-storage": "encrypted-separate-keys",
        "vc-no-stray-copies": "no",
        "vc-who-can-retrieve": "named-approved",
        "vc-har-handling": "kept",
        "vc-urgent-contact": "Keystone security on call, security@keystone-identity.example",
    },
    {
        "vc-credential-inventory": "Tokens customers share in support cases are not tracked "
        "as credentials.",
        "vc-no-stray-copies": "Copies can remain in the attachments of support cases.",
    },
)

# A strong vendor: its residual tier comes out low.
MAILRELAY_BASELINE = Replies(
    "best",
    {
        "hr-background-checks": "na",
        "iam-mfa-weakest-factor": "app-or-number-matching",
        "priv-production-admin-model": "standing-small-group",
        "sc-suppliers-hold-access": "yes",
        "sup-tenant-access-model": "customer-granted",
        "sup-receives-har-files": "no",
        "sup-outsourced-controls": "na",
        "cred-holds-customer-credentials": "yes",
        "apikey-issued": "yes",
        "ir-past-incidents": "no",
        "ir-security-contact": "security@mailrelay.example, +33 1 84 00 00 00",
        "dp-data-regions": ["eu-eea"],
        "bc-recovery-time-hours": 2,
        "cert-iso27001-expiry": date(2027, 9, 30),
    },
    {
        "hr-background-checks": "French law limits background checks; we verify identity, "
        "right to work and diplomas.",
        "sup-outsourced-controls": "All support is done by our own staff in Lyon.",
    },
)

# Good, with one exception it documents: break-glass accounts without MFA.
NIMBUS_BASELINE = Replies(
    "best",
    {
        "iam-mfa-workforce": "most-systems",
        "iam-mfa-exceptions": "Two break-glass accounts of the cloud console sign in with a "
        "password kept in a safe; every use pages the security team.",
        "sc-suppliers-hold-access": "no",
        "sup-receives-har-files": "yes",
        "sup-outsourced-controls": "na",
        "cred-holds-customer-credentials": "no",
        "apikey-issued": "yes",
        "ir-past-incidents": "yes",
        "ir-past-incidents-description": "In 2024 a misconfigured storage bucket exposed build "
        "logs for six hours; no customer data. A policy check now blocks public buckets.",
        "ir-security-contact": "soc@nimbus-cloud.example",
        "dp-data-regions": ["eu-eea", "uk"],
        "bc-recovery-time-hours": 1,
        "cert-iso27001-expiry": date(2027, 3, 31),
    },
    {"sup-outsourced-controls": "All support is done by our own employees."},
)

# A weak vendor, and the identity provider's own support tooling: middling answers, tokens in
# uploads kept, credentials left in tickets, suppliers neither vetted nor held to MFA.
SUPPORTDESK_BASELINE = Replies(
    "fair",
    {
        "sc-vetting-before-onboarding": "no",
        "sc-suppliers-hold-access": "yes",
        "sc-supplier-access-mfa": "no",
        "iam-mfa-exceptions": "The chat widget's admin console and the reporting tool use "
        "passwords only.",
        "iam-leaver-secret-rotation": "no",
        "sup-receives-har-files": "yes",
        "sup-har-sanitisation": "kept-as-is",
        "sup-har-retention": "longer",
        "sup-credentials-in-tickets": "left",
        "sup-ticket-system-monitoring": "no",
        "cred-holds-customer-credentials": "yes",
        "apikey-issued": "yes",
        "dev-secret-scanning": "no",
        "mon-credential-anomalies": "no",
        "ir-past-incidents": "no",
        "ir-security-contact": "it@supportdesk.example",
        "dp-data-regions": ["us"],
        "bc-recovery-time-hours": 48,
        "bc-backups-protected": "no",
        "vuln-pentest": "no",
        "cert-soc2-type2": "no",
        "cert-iso27001": "no",
    },
)

ASSESSMENTS = (
    Assessment(IDENTITY_PROVIDER, "intake", KEYSTONE_INTAKE, outcome="accepted"),
    # Accepted: the answers that cap the identity provider's control score count in its
    # rating (a vendor's own answers count only once a risk officer accepts them).
    Assessment(IDENTITY_PROVIDER, "baseline-security", KEYSTONE_BASELINE, outcome="accepted"),
    Assessment(IDENTITY_PROVIDER, "vendor-credentials", KEYSTONE_CREDENTIALS, submitted=False),
    Assessment("MailRelay", "baseline-security", MAILRELAY_BASELINE, outcome="accepted"),
    Assessment(
        "Nimbus Cloud",
        "baseline-security",
        NIMBUS_BASELINE,
        notes={
            "iam-mfa-workforce": (
                "",
                "Break-glass accounts only; see the risk acceptance on the finding.",
            )
        },
    ),
    Assessment(
        "SupportDesk",
        "baseline-security",
        SUPPORTDESK_BASELINE,
        notes={
            "sup-har-sanitisation": (
                "Files stored as received keep our session tokens. Will you strip them on "
                "upload, and by when? Please attach your file-handling procedure.",
                "Same weakness as in the 2023 breach of an identity provider's support system.",
            ),
            "sup-credentials-in-tickets": (
                "What do agents do today when they see a password or a token in a ticket?",
                "",
            ),
        },
        outcome="returned",
    ),
)

# (vendor, decision, rationale) taken on the vendor's rating once its request is accepted.
DECISIONS = (
    (
        "MailRelay",
        DecisionKind.approved,
        "Strong answers backed by a SOC 2 Type II report and an ISO 27001 certificate; MFA "
        "everywhere; support never sees our data without our grant.",
    ),
)

# A finding the risk officer writes by hand: what the blast radius shows of the breach story.
MANUAL_FINDING = (
    IDENTITY_PROVIDER,
    {
        "title": "Credentials we shared in support cases are still stored in Keystone's "
        "support system",
        "description": "Our support cases with Keystone hold HAR files and messages with the "
        "atlassian-automation-token and three service accounts, which open our wiki, ticketing "
        "and source control (see the blast-radius tab).",
        "remediation": "Delete the attachments of our closed support cases and confirm it in a "
        "note; on our side, IT rotates the four credentials.",
        "severity": FindingSeverity.high,
        "owner": "Head of IT",
        "visible_to_vendor": True,
    },
)

# (vendor, title of its automatic finding, justification, days until the acceptance expires)
RISK_ACCEPTANCE = (
    "Nimbus Cloud",
    "MFA has exceptions",
    "Two break-glass accounts only, their password in a safe, every use paged to the security "
    "team; hardware keys for them are due next quarter.",
    120,
)
