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
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ...core.questionnaire import conditions
from ...core.questionnaire.markup import plain
from ...core.questionnaire.model import Audience, Option, Question, Questionnaire, QuestionType
from ...models import (
    AuditAction,
    Credential,
    CredentialCopy,
    DataCategory,
    DecisionKind,
    FindingSeverity,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Role,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    User,
    Vendor,
    VendorData,
)
from .. import audit, findings
from ..accounts import users as accounts
from ..assessments import decisions, ratings
from ..audit import Actor
from ..portfolio import aggregates as portfolio
from ..questionnaires import answers, evidence, requests, review
from ..questionnaires import library as questionnaires

IDENTITY_PROVIDER = "Keystone Identity"

# name: (sensitivity, description)
CATEGORIES = {
    "Customer PII": ("high", "Names, e-mail addresses and account details of our customers"),
    "Payment data": ("critical", "Card and bank details (tokenised where possible)"),
    "Source code": ("high", "Our product's source code and its history"),
    "Secrets and keys": ("critical", "Deployment keys and service credentials kept in systems"),
    "Internal documents": ("medium", "Wiki pages: runbooks, designs, meeting notes"),
    "Support tickets": ("medium", "Customer conversations, sometimes with HAR files attached"),
    "HR records": ("high", "Employee contracts, salaries and identity documents"),
    "Telemetry": ("low", "Metrics and logs without personal data"),
}

# name: (kind, environment, owner, mfa_required, {category: records})
SYSTEMS = {
    "Identity provider tenant": (
        "identity_provider",
        "corporate",
        "IT",
        True,
        {"HR records": 3_000},
    ),
    "Confluence (self-hosted wiki)": (
        "wiki",
        "corporate",
        "Engineering",
        False,
        {"Internal documents": 42_000},
    ),
    "Jira (self-hosted ticketing)": (
        "ticketing",
        "corporate",
        "Engineering",
        False,
        {"Support tickets": 380_000, "Customer PII": 51_000},
    ),
    "Bitbucket (self-hosted source control)": (
        "source_control",
        "corporate",
        "Engineering",
        False,
        {"Source code": 1_200},
    ),
    "Build pipeline": ("ci_cd", "production", "Platform", True, {"Secrets and keys": 240}),
    "Cloud sandbox account": (
        "cloud_account",
        "development",
        "Platform",
        True,
        {"Telemetry": None},
    ),
    "Production cloud account": (
        "cloud_account",
        "production",
        "Platform",
        True,
        {"Customer PII": 2_100_000},
    ),
    "Production database": (
        "database",
        "production",
        "Platform",
        True,
        {"Customer PII": 2_100_000, "Payment data": 310_000},
    ),
    "Customer dashboard": ("support", "production", "Support", True, {"Customer PII": 2_100_000}),
    "CRM": ("crm", "production", "Sales", True, {"Customer PII": 820_000}),
    "HR system": ("hr", "corporate", "People", True, {"HR records": 3_000}),
    "Corporate e-mail": ("email", "corporate", "IT", True, {"Internal documents": None}),
    "Monitoring": ("monitoring", "production", "Platform", False, {"Telemetry": None}),
    "Finance ledger": ("finance", "corporate", "Finance", True, {"Payment data": 12_000}),
    "VPN": ("other", "corporate", "IT", True, {}),
}

# name: (legal name, services, status, criticality, substitutability, business owner,
#        {category: records} sent directly)
VENDORS = {
    IDENTITY_PROVIDER: (
        "Keystone Identity, Inc.",
        "Single sign-on and MFA for every employee; support cases",
        "active",
        "critical",
        "hard",
        "Head of IT",
        {"HR records": 3_000},
    ),
    "Nimbus Cloud": (
        "Nimbus Cloud Services Ltd",
        "Hosting of the production platform",
        "active",
        "critical",
        "hard",
        "VP Platform",
        {"Customer PII": 2_100_000},
    ),
    "PayFlow Payroll": (
        "PayFlow GmbH",
        "Payroll and expenses",
        "active",
        "high",
        "moderate",
        "Head of People",
        {"HR records": 3_000},
    ),
    "BuildRight CI": (
        "BuildRight Software Oy",
        "Hosted build runners",
        "active",
        "high",
        "moderate",
        "VP Engineering",
        {},
    ),
    "MailRelay": (
        "MailRelay SAS",
        "Transactional e-mail to customers",
        "active",
        "medium",
        "easy",
        "Product Ops",
        {"Customer PII": 1_900_000},
    ),
    "Pipeline CRM": (
        "Pipeline CRM Corp.",
        "Sales CRM",
        "active",
        "high",
        "moderate",
        "VP Sales",
        {"Customer PII": 820_000},
    ),
    "Northwind Contractors": (
        "Northwind Consulting LLP",
        "Contract developers on the billing team",
        "active",
        "medium",
        "easy",
        "VP Engineering",
        {"Source code": 300},
    ),
    "StatusWatch": (
        "StatusWatch AB",
        "Uptime and performance monitoring",
        "active",
        "low",
        "easy",
        "VP Platform",
        {"Telemetry": None},
    ),
    "SupportDesk": (
        "SupportDesk Ltd",
        "Customer support inbox and chat",
        "onboarding",
        "high",
        "moderate",
        "Head of Support",
        {"Support tickets": 120_000, "Customer PII": 400_000},
    ),
    "LedgerLine": (
        "LedgerLine Accounting BV",
        "Accounting and invoicing",
        "active",
        "high",
        "hard",
        "CFO",
        {"Payment data": 12_000},
    ),
    "SignSure": (
        "SignSure Inc.",
        "Electronic signatures for contracts",
        "active",
        "low",
        "easy",
        "General Counsel",
        {"HR records": 400},
    ),
    "ChatterBox": (
        "ChatterBox Technologies",
        "Team chat",
        "active",
        "medium",
        "moderate",
        "Head of IT",
        {"Internal documents": None},
    ),
    "VaultKeep Backups": (
        "VaultKeep Storage SA",
        "Off-site backups",
        "prospect",
        "high",
        "moderate",
        "VP Platform",
        {"Customer PII": 2_100_000, "Payment data": 310_000},
    ),
}

# name: (kind, holder, opens, privilege, interactive, mfa, phishing-resistant, ip restricted,
#        owner, last rotated (days ago, None: never), rotation period (days), status,
#        stored in systems)
CREDENTIALS = {
    # The four the attacker used: shared with the identity provider's support, never rotated.
    "atlassian-automation-token": (
        "api_token",
        IDENTITY_PROVIDER,
        "Confluence (self-hosted wiki)",
        "write",
        False,
        False,
        False,
        False,
        "IT automation",
        None,
        90,
        "active",
        [],
    ),
    "svc-worktracker": (
        "service_account",
        IDENTITY_PROVIDER,
        "Jira (self-hosted ticketing)",
        "write",
        False,
        False,
        False,
        False,
        "Engineering tools",
        400,
        90,
        "active",
        [],
    ),
    "svc-bitbucket": (
        "service_account",
        IDENTITY_PROVIDER,
        "Bitbucket (self-hosted source control)",
        "admin",
        False,
        False,
        False,
        False,
        "Engineering tools",
        700,
        90,
        "active",
        [],
    ),
    "svc-cloud-sandbox": (
        "service_account",
        IDENTITY_PROVIDER,
        "Cloud sandbox account",
        "admin",
        False,
        False,
        False,
        False,
        "Platform",
        365,
        90,
        "active",
        [],
    ),
    # Where MFA held.
    "idp-admin-console": (
        "sso_admin",
        IDENTITY_PROVIDER,
        "Identity provider tenant",
        "admin",
        True,
        True,
        True,
        False,
        "Head of IT",
        30,
        90,
        "active",
        [],
    ),
    "customer-dashboard-support": (
        "support_access",
        IDENTITY_PROVIDER,
        "Customer dashboard",
        "read",
        True,
        True,
        False,
        False,
        "Head of Support",
        60,
        90,
        "active",
        [],
    ),
    # Lateral movement: a deploy key committed to a repository opens the build pipeline.
    "ci-deploy-key": (
        "ssh_key",
        None,
        "Build pipeline",
        "write",
        False,
        False,
        False,
        False,
        "Platform",
        200,
        180,
        "active",
        ["Bitbucket (self-hosted source control)"],
    ),
    # A token pasted in an old ticket, revoked since.
    "crm-export-token": (
        "api_token",
        None,
        "CRM",
        "read",
        False,
        False,
        False,
        False,
        "Sales Ops",
        None,
        90,
        "revoked",
        ["Jira (self-hosted ticketing)"],
    ),
    "terraform-deployer": (
        "service_account",
        "BuildRight CI",
        "Production cloud account",
        "admin",
        False,
        False,
        False,
        True,
        "Platform",
        20,
        90,
        "active",
        ["Build pipeline"],
    ),
    "nimbus-support-access": (
        "support_access",
        "Nimbus Cloud",
        "Production cloud account",
        "admin",
        True,
        True,
        True,
        False,
        "VP Platform",
        10,
        90,
        "active",
        [],
    ),
    "db-backup-reader": (
        "service_account",
        "VaultKeep Backups",
        "Production database",
        "read",
        False,
        False,
        False,
        True,
        "Platform",
        45,
        90,
        "active",
        [],
    ),
    "payflow-hris-sync": (
        "api_token",
        "PayFlow Payroll",
        "HR system",
        "read",
        False,
        False,
        False,
        False,
        "Head of People",
        150,
        90,
        "active",
        [],
    ),
    "mailrelay-smtp": (
        "api_token",
        "MailRelay",
        "Corporate e-mail",
        "write",
        False,
        False,
        False,
        True,
        "Product Ops",
        80,
        180,
        "active",
        [],
    ),
    "crm-sso-admin": (
        "sso_admin",
        "Pipeline CRM",
        "CRM",
        "admin",
        True,
        True,
        False,
        False,
        "VP Sales",
        20,
        90,
        "active",
        [],
    ),
    "northwind-dev-accounts": (
        "user_account",
        "Northwind Contractors",
        "Bitbucket (self-hosted source control)",
        "write",
        True,
        False,
        False,
        False,
        "VP Engineering",
        120,
        90,
        "active",
        [],
    ),
    "northwind-vpn": (
        "vpn",
        "Northwind Contractors",
        "VPN",
        "read",
        True,
        True,
        False,
        False,
        "IT",
        120,
        180,
        "active",
        [],
    ),
    "statuswatch-api": (
        "api_token",
        "StatusWatch",
        "Monitoring",
        "read",
        False,
        False,
        False,
        False,
        "Platform",
        300,
        365,
        "active",
        [],
    ),
    "supportdesk-oauth": (
        "oauth_grant",
        "SupportDesk",
        "Jira (self-hosted ticketing)",
        "write",
        False,
        False,
        False,
        False,
        "Head of Support",
        5,
        90,
        "active",
        [],
    ),
    "ledgerline-bank-feed": (
        "api_token",
        "LedgerLine",
        "Finance ledger",
        "write",
        False,
        False,
        False,
        True,
        "CFO",
        40,
        90,
        "active",
        [],
    ),
}

# (vendor, relies on, purpose, [categories passed on])
SUBPROCESSORS = [
    ("Pipeline CRM", "Nimbus Cloud", "Hosts the CRM", ["Customer PII"]),
    ("MailRelay", "Nimbus Cloud", "Hosts the mail relay", ["Customer PII"]),
    ("SupportDesk", "ChatterBox", "Live chat widget", ["Support tickets", "Customer PII"]),
    ("PayFlow Payroll", "LedgerLine", "Payroll accounting", ["HR records"]),
    (IDENTITY_PROVIDER, "SupportDesk", "Support case tooling", ["Support tickets"]),
]

PROCUREMENT = "procurement@example.com"
RISK_OFFICER = "risk@example.com"
VENDOR_CONTACT = "contact@keystone-identity.example"  # of the identity provider
DEMO_USERS = [
    (PROCUREMENT, "Priya Natarajan", Role.procurement, None),
    (RISK_OFFICER, "Marcus Lindqvist", Role.risk_officer, None),
    (VENDOR_CONTACT, "Daniel Okafor", Role.vendor_contact, IDENTITY_PROVIDER),
]


def inventory_is_empty(session: Session) -> bool:
    return not session.scalar(sa.select(sa.func.count()).select_from(Vendor))


def load_inventory(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Add the demo inventory (flushes, does not commit). Returns vendor ids by name."""
    now = now or datetime.now(UTC)
    categories = {
        name: DataCategory(name=name, sensitivity=sensitivity, description=description)
        for name, (sensitivity, description) in CATEGORIES.items()
    }
    session.add_all(categories.values())
    systems = {}
    for name, (kind, environment, owner, mfa, _held) in SYSTEMS.items():
        systems[name] = System(
            name=name, kind=kind, environment=environment, owner=owner, mfa_required=mfa
        )
    vendors = {}
    for name, (legal, services, status, criticality, subst, owner, _sent) in VENDORS.items():
        vendors[name] = Vendor(
            name=name,
            legal_name=legal,
            services=services,
            status=status,
            criticality=criticality,
            substitutability=subst,
            business_owner=owner,
            contract_start=date(now.year - 2, 1, 1),
            contract_end=date(now.year + 1, 12, 31),
            next_review=(now + timedelta(days=30 * (len(vendors) % 12 + 1))).date(),
        )
    # The vendors with contacts: those contacts may invite colleagues at their own domain.
    contacts = {IDENTITY_PROVIDER: VENDOR_CONTACT} | {v: e for v, (_, e) in VENDOR_CONTACTS.items()}
    for name, address in contacts.items():
        vendors[name].email_domains = [address.rpartition("@")[2]]
    session.add_all([*systems.values(), *vendors.values()])
    session.flush()
    for name, (*_, held) in SYSTEMS.items():
        session.add_all(
            SystemData(system_id=systems[name].id, data_category_id=categories[c].id, records=n)
            for c, n in held.items()
        )
    for name, (*_, sent) in VENDORS.items():
        session.add_all(
            VendorData(vendor_id=vendors[name].id, data_category_id=categories[c].id, records=n)
            for c, n in sent.items()
        )
    for name, spec in CREDENTIALS.items():
        (
            kind,
            holder,
            opens,
            privilege,
            interactive,
            mfa,
            phishing_resistant,
            ip_restricted,
            owner,
            rotated_days_ago,
            period,
            status,
            stored_in,
        ) = spec
        credential = Credential(
            name=name,
            kind=kind,
            holder_vendor_id=vendors[holder].id if holder else None,
            system_id=systems[opens].id,
            privilege=privilege,
            interactive=interactive,
            mfa_enforced=mfa,
            phishing_resistant_mfa=phishing_resistant,
            ip_restricted=ip_restricted,
            owner=owner,
            rotation_period_days=period,
            status=status,
            issued_at=now - timedelta(days=900),
            last_rotated_at=None if rotated_days_ago is None else now - timedelta(rotated_days_ago),
            last_used_at=now - timedelta(days=2),
        )
        session.add(credential)
        session.flush()
        session.add_all(
            CredentialCopy(credential_id=credential.id, system_id=systems[s].id) for s in stored_in
        )
    for vendor, subprocessor, purpose, passed in SUBPROCESSORS:
        link = SubprocessorLink(
            vendor_id=vendors[vendor].id, subprocessor_id=vendors[subprocessor].id, purpose=purpose
        )
        session.add(link)
        session.flush()
        session.add_all(
            SubprocessorData(link_id=link.id, data_category_id=categories[c].id) for c in passed
        )
    session.flush()
    return {name: vendor.id for name, vendor in vendors.items()}


# ---- questionnaires sent, answered, reviewed and decided --------------------------------------
#
# Everything below goes through the services as in real use (procurement sends, the vendors'
# contacts answer and submit, a risk officer reviews and decides), so that the audit events,
# the totals, the scores and the automatic findings are the ones the app itself produces.

# The contacts of the other vendors that answer a questionnaire: (name, email). Their accounts
# exist as after an invitation; their passwords are shown to nobody (log in as the identity
# provider's contact to see the portal).
VENDOR_CONTACTS = {
    "MailRelay": ("Camille Martin", "security@mailrelay.example"),
    "Nimbus Cloud": ("Aisha Rahman", "trust@nimbus-cloud.example"),
    "SupportDesk": ("Tom Becker", "it@supportdesk.example"),
}
DUE_IN_DAYS = 30
# A date question nobody picked an answer for (the last penetration test, the end of a SOC 2
# period) is answered with a day this long ago.
RECENT_DAYS = 120


@dataclass(frozen=True)
class Replies:
    """How a vendor answers one questionnaire. ``picks`` tell its story (question id ->
    answer) and name every answer that is neither better nor worse than another (texts,
    numbers, facts of weight 0); every other question asked gets the option that ``lean``
    (a key of :data:`LEANS`) chooses. ``comments`` go with some answers: a "na" needs one,
    its justification."""

    lean: str
    picks: Mapping[str, Any]
    comments: Mapping[str, str] = field(default_factory=dict)


def _scoring_options(question: Question) -> list[Option]:
    return [option for option in question.options if option.score is not None]


def best_answer(question: Question) -> Any:
    """The option that scores highest; of a multiple choice, every option that scores."""
    options = _scoring_options(question)
    if question.type is QuestionType.multiple_choice:
        return [option.value for option in options]
    return max(options, key=lambda option: option.score).value


def fair_answer(question: Question) -> Any:
    """A middling answer: the option scoring closest to one half (the first of a tie, so a
    yes/no question gets "yes"); of a multiple choice, the first option that scores."""
    options = _scoring_options(question)
    if question.type is QuestionType.multiple_choice:
        return [options[0].value]
    return min(options, key=lambda option: abs(option.score - 0.5)).value


LEANS: dict[str, Callable[[Question], Any]] = {"best": best_answer, "fair": fair_answer}


def _answer_to(question: Question, replies: Replies, today: date) -> Any:
    if question.id in replies.picks:
        return replies.picks[question.id]
    if question.scored:
        return LEANS[replies.lean](question)
    if question.type is QuestionType.date:
        return today - timedelta(days=RECENT_DAYS)
    raise KeyError(f"{question.id}: no answer is better than another here: pick one")


def planned_answers(
    questionnaire: Questionnaire, replies: Replies, today: date
) -> dict[str, tuple[Any, str]]:
    """(answer, comment) by question id for every question asked that is answered by typing
    or choosing, in the questionnaire's order, each asked or not given the answers before it
    (an answer may show follow-up questions). Optional questions are answered only when
    picked; file questions are answered by their files (:func:`_attach_files`). Pure."""
    visible = conditions.visible_questions
    values: dict[str, Any] = {}
    plan: dict[str, tuple[Any, str]] = {}
    for question in questionnaire.questions:
        if question.type in (QuestionType.info, QuestionType.file):
            continue
        if not question.required and question.id not in replies.picks:
            continue
        if question.show_if is not None and question not in visible(questionnaire, values):
            continue
        values[question.id] = _answer_to(question, replies, today)
        plan[question.id] = (values[question.id], replies.comments.get(question.id, ""))
    return plan


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


def _person(user: User) -> Actor:
    return Actor(label=user.email, user_id=user.id)


def _attach_files(
    session: Session,
    request: QuestionnaireRequest,
    questionnaire: Questionnaire,
    plan: Mapping[str, tuple[Any, str]],
    *,
    vendor: str,
    actor: Actor,
) -> None:
    """A short text file for every required file question asked (a SOC 2 report, a
    certificate), standing in for the document a vendor attaches: submitting needs it."""
    values = {question_id: value for question_id, (value, _) in plan.items()}
    for question in conditions.visible_questions(questionnaire, values):
        if question.type is not QuestionType.file or not question.required:
            continue
        text = f"{vendor}: {plain(question.text)}\n\nA stand-in document of the demo data.\n"
        upload = FileStorage(io.BytesIO(text.encode()), filename=f"{question.id}.txt")
        evidence.store_upload(session, request, question.id, upload, actor=actor)


def _answer(
    session: Session,
    request: QuestionnaireRequest,
    assessment: Assessment,
    *,
    actor: Actor,
    today: date,
) -> None:
    """Answer as a person does in the portal: one answer at a time (autosave) up to half of
    them for a request left in progress; otherwise section by section, then the files, then
    the submission, which scores the request and opens its automatic findings."""
    questionnaire = answers.questionnaire_of_request(session, request)
    plan = planned_answers(questionnaire, assessment.replies, today)
    if not assessment.submitted:
        for question_id, (value, comment) in list(plan.items())[: len(plan) // 2]:
            answers.save_answer(
                session,
                request,
                question_id,
                value=value,
                comment=comment,
                base_version=0,
                actor=actor,
            )
        return
    for section in questionnaire.sections:
        ids = {question.id for question in section.questions}
        submitted = {
            qid: (value, comment, 0) for qid, (value, comment) in plan.items() if qid in ids
        }
        answers.save_section(session, request, section.id, submitted, actor=actor)
    _attach_files(session, request, questionnaire, plan, vendor=assessment.vendor, actor=actor)
    answers.submit(session, request, actor=actor)


def _review(
    session: Session, request: QuestionnaireRequest, assessment: Assessment, *, actor: Actor
) -> None:
    """The reviewer's notes (the first moves the request under review), then the outcome."""
    for question_id, (clarification, note) in assessment.notes.items():
        review.write_note(
            session,
            request,
            question_id,
            clarification=clarification,
            internal_note=note,
            expected_stamp=None,
            actor=actor,
        )
    if assessment.outcome is not None:
        OUTCOMES[assessment.outcome](
            session, request, expected_version=request.version, actor=actor
        )


def _contacts(session: Session, vendor_ids: Mapping[str, int], *, actor: Actor) -> dict[str, User]:
    """Each assessed vendor's contact by vendor name: the identity provider's demo contact, and
    an account for each of :data:`VENDOR_CONTACTS`."""
    found = {IDENTITY_PROVIDER: accounts.get_by_email(session, VENDOR_CONTACT)}
    for vendor, (name, email) in VENDOR_CONTACTS.items():
        found[vendor] = accounts.get_by_email(session, email) or accounts.create_user(
            session,
            email=email,
            name=name,
            password=secrets.token_urlsafe(15),
            role=Role.vendor_contact,
            vendor_id=vendor_ids[vendor],
            actor=actor,
        )
    return found


def load_assessments(session: Session, vendor_ids: Mapping[str, int], *, actor: Actor) -> None:
    """Send, answer and review the demo's questionnaires (:data:`ASSESSMENTS`), take the
    review decisions, write the manual finding and the risk acceptance, and leave the
    portfolio aggregates and every rating computed. Computing the aggregates commits what came
    before it (portfolio.refresh reads in a snapshot of its own); the caller commits the rest.
    Needs the demo's users and the shipped questionnaires stored (the commands store them
    first)."""
    today = requests.today_utc()
    versions: dict[str, QuestionnaireVersion] = {
        version.definition["id"]: version for version in questionnaires.latest_versions(session)
    }
    contacts = _contacts(session, vendor_ids, actor=actor)
    procurement = _person(accounts.get_by_email(session, PROCUREMENT))
    officer = _person(accounts.get_by_email(session, RISK_OFFICER))

    sent = []
    for assessment in ASSESSMENTS:
        version = versions[assessment.questionnaire]
        internal = questionnaires.questionnaire_of(version).audience is Audience.internal
        contact = None if internal else contacts[assessment.vendor]
        request = requests.create_request(
            session,
            vendor_id=vendor_ids[assessment.vendor],
            version_id=version.id,
            due_on=today + timedelta(days=DUE_IN_DAYS),
            contact_emails=[] if contact is None else [contact.email],
            actor=procurement,
        )
        answerer = procurement if contact is None else _person(contact)
        _answer(session, request, assessment, actor=answerer, today=today)
        sent.append((request, assessment))
    for request, assessment in sent:
        _review(session, request, assessment, actor=officer)

    # Ratings exist once the aggregates are computed: decisions are taken on them.
    portfolio.refresh(session)
    cadence = current_app.config["REASSESSMENT_MONTHS"]
    for vendor_name, kind, rationale in DECISIONS:
        vendor = session.get(Vendor, vendor_ids[vendor_name])
        rating = ratings.locked_rating(session, vendor.id)
        decisions.decide(
            session,
            vendor,
            {"decision": kind, "rationale": rationale, "conditions": ""},
            expected_score_id=rating.score_id,
            expected_tier=ratings.effective_tier(rating),
            cadence=cadence,
            actor=officer,
        )

    vendor_name, values = MANUAL_FINDING
    findings.create_finding(session, vendor_ids[vendor_name], values, actor=officer)
    vendor_name, title, justification, days = RISK_ACCEPTANCE
    listed = findings.search_findings(session, vendor_id=vendor_ids[vendor_name]).rows
    accepted = next(row for row in listed if row.title == title)
    findings.accept_risk(
        session,
        findings.get_finding(session, accepted.id, for_update=True),
        justification=justification,
        expires_on=today + timedelta(days=days),
        expected_version=None,
        actor=officer,
    )
    # A decision sets the vendor's next review, an inventory change: compute them again.
    portfolio.refresh(session)


def load_demo(session: Session, *, actor: Actor) -> list[tuple[str, Role, str]]:
    """The demo inventory, one user per role but admin (whom quickstart creates) and the
    questionnaires sent, answered and reviewed (:func:`load_assessments`); returns (email,
    role, first password) for each user created, to be shown once."""
    vendor_ids = load_inventory(session)
    created = []
    for email, name, role, vendor in DEMO_USERS:
        if accounts.get_by_email(session, email):
            continue
        password = secrets.token_urlsafe(15)
        accounts.create_user(
            session,
            email=email,
            name=name,
            password=password,
            role=role,
            vendor_id=vendor_ids[vendor] if vendor else None,
            actor=actor,
        )
        created.append((email, role, password))
    audit.record(
        session,
        AuditAction.inventory_imported,
        actor=actor,
        details={"source": "demo", "vendors": len(VENDORS), "credentials": len(CREDENTIALS)},
    )
    load_assessments(session, vendor_ids, actor=actor)
    return created
