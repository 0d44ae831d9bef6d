"""Demo data: an inventory modelled on the 2023 identity-provider breach, a dozen other
plausible vendors, and one demo user per role.

The story (see shared/background): attackers took the support system of an identity provider
and, with it, tokens and service-account credentials its customer had shared in support
tickets. One access token and three service accounts that were never rotated opened the
customer's self-hosted wiki, ticketing and source control; interactive logins protected by
MFA (the identity provider's admin console, the customer dashboard) held.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit
from .audit import Actor
from .models import (
    AuditAction,
    Credential,
    CredentialCopy,
    DataCategory,
    Role,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
)
from .services import accounts

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

DEMO_USERS = [
    ("procurement@example.com", "Priya Natarajan", Role.procurement, None),
    ("risk@example.com", "Marcus Lindqvist", Role.risk_officer, None),
    ("contact@keystone-identity.example", "Daniel Okafor", Role.vendor_contact, IDENTITY_PROVIDER),
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


def load_demo(session: Session, *, actor: Actor) -> list[tuple[str, Role, str]]:
    """The demo inventory and one user per role but admin (whom quickstart creates); returns
    (email, role, first password) for each user, to be shown once."""
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
    return created
