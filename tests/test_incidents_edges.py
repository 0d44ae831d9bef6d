"""Incident mode follows issue 14's edges: the rotation checklist of a breach takes the
credentials stored in the systems that the vendor operates, in the systems trusting the identity
provider that a stolen session signs in to, and in the systems running the vendor's software
(when updates apply automatically), as a risk officer opening the incident sees them.

The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import add, login_as, text
from test_incidents import checklist, open_incident

from vendor_risk.db import utcnow
from vendor_risk.models import (
    ChecklistReason,
    Credential,
    CredentialCopy,
    CredentialKind,
    Federation,
    Role,
    SoftwareSupply,
    System,
    SystemKind,
    Vendor,
)

STARTED = utcnow().date() - timedelta(days=10)


@pytest.fixture
def officer(client, make_user):
    user = make_user(Role.risk_officer)
    login_as(client, user)
    return user


def stored_credential(name: str, opens: int, **fields) -> Credential:
    """Ours, held by no vendor: a token kept inside a system, opening another one."""
    return Credential(
        name=name,
        kind=CredentialKind.api_token,
        system_id=opens,
        privilege="write",
        owner=f"{name} owners",
        **fields,
    )


def test_a_vendor_operating_a_system_puts_the_credentials_stored_in_it_on_the_checklist(
    app, client, officer
):
    """The vendor holds no credential of ours: it runs our data warehouse, where a loader's
    token to the production database is kept. A breach of the vendor hands the token over."""
    [saas] = add(app, Vendor(name="Warehouse SaaS"))
    [warehouse, production] = add(
        app,
        System(name="Data warehouse", kind=SystemKind.database, operator_vendor_id=saas),
        System(name="Production database", kind=SystemKind.database),
    )
    [loader, _not_stored_anywhere] = add(
        app,
        stored_credential("warehouse-loader", production),
        stored_credential("unrelated-token", production),
    )
    add(app, CredentialCopy(credential_id=loader, system_id=warehouse))

    incident_id = open_incident(client, saas, started_at=STARTED.isoformat())

    items = checklist(app, incident_id)
    assert set(items) == {"warehouse-loader"}
    assert items["warehouse-loader"].reason is ChecklistReason.stored
    assert items["warehouse-loader"].stored_in == ["Data warehouse"]
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Rotation gap: 1" in page
    assert "stored in Data warehouse" in page and "warehouse-loader owners" in page
    assert "Warehouse SaaS operates Data warehouse" in page  # why the warehouse is reached
    row = page.split("<li>warehouse-loader,")[1].split("</li>")[0]
    assert "stored in Data warehouse" in row and "held by" not in row  # the vendor holds none


@pytest.fixture
def identity_provider(app):
    """An identity provider vendor holding a session token stolen from a support case into our
    identity provider tenant (which enforces MFA), trusted for sign-in by the wiki (no MFA of
    its own) and by source control (its own MFA). Each keeps a token of ours."""
    [vendor] = add(app, Vendor(name="Okta-like"))
    [tenant, wiki, git, production] = add(
        app,
        System(name="IdP tenant", kind=SystemKind.identity_provider, mfa_required=True),
        System(name="Wiki", kind=SystemKind.wiki),
        System(name="Git", kind=SystemKind.source_control),
        System(name="Production"),
    )
    add(
        app,
        Federation(identity_provider_id=tenant, system_id=wiki, privilege="write"),
        Federation(
            identity_provider_id=tenant, system_id=git, privilege="write", mfa_enforced=True
        ),
    )
    [_, in_wiki, in_git] = add(
        app,
        Credential(
            name="har-session",
            kind=CredentialKind.session_token,
            holder_vendor_id=vendor,
            system_id=tenant,
            privilege="read",
            interactive=True,
            mfa_enforced=True,
            owner="IT",
        ),
        stored_credential("wiki-deploy-token", production),
        stored_credential("git-deploy-token", production),
    )
    add(
        app,
        CredentialCopy(credential_id=in_wiki, system_id=wiki),
        CredentialCopy(credential_id=in_git, system_id=git),
    )
    return vendor


def test_a_stolen_session_token_past_mfa_puts_what_the_trusting_systems_store_on_the_checklist(
    app, client, officer, identity_provider
):
    incident_id = open_incident(client, identity_provider, started_at=STARTED.isoformat())

    items = checklist(app, incident_id)
    # MFA is enforced at the tenant, but the session carries its sign-in's MFA: it signs in,
    # and the wiki trusts the tenant; source control asks its own MFA, which holds.
    assert {name: item.reason for name, item in items.items()} == {
        "har-session": ChecklistReason.held,
        "wiki-deploy-token": ChecklistReason.stored,
    }
    assert items["wiki-deploy-token"].stored_in == ["Wiki"]
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Rotation gap: 2" in page
    assert "held by Okta-like" in page and "stored in Wiki" in page
    assert "git-deploy-token" not in page.split("Blast radius as of the breach start")[0]
    assert "trusted by Wiki for sign-in" in page


def software_on_build_server(app, *, automatic_updates: bool) -> int:
    [agent] = add(app, Vendor(name="Agent vendor"))
    [build, production] = add(
        app,
        System(name="Build server", kind=SystemKind.ci_cd),
        System(name="Production"),
    )
    add(
        app,
        SoftwareSupply(
            system_id=build,
            vendor_id=agent,
            software="monitoring agent",
            privilege="admin",
            automatic_updates=automatic_updates,
        ),
    )
    [deploy] = add(app, stored_credential("deploy-key", production))
    add(app, CredentialCopy(credential_id=deploy, system_id=build))
    return agent


def test_vendor_software_with_automatic_updates_puts_the_build_servers_credentials_on_it(
    app, client, officer
):
    agent = software_on_build_server(app, automatic_updates=True)

    incident_id = open_incident(client, agent, started_at=STARTED.isoformat())

    items = checklist(app, incident_id)
    assert set(items) == {"deploy-key"}
    assert items["deploy-key"].reason is ChecklistReason.stored
    assert items["deploy-key"].stored_in == ["Build server"]
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Rotation gap: 1" in page and "stored in Build server" in page
    assert "Build server runs software supplied by Agent vendor" in page


def test_vendor_software_taking_approved_updates_only_leaves_the_checklist_empty(
    app, client, officer
):
    """Updates we must approve are a barrier despite the controls: the build server is not
    reached, so nothing stored in it is on the checklist (it is reached only if they fail)."""
    agent = software_on_build_server(app, automatic_updates=False)

    incident_id = open_incident(client, agent, started_at=STARTED.isoformat())

    assert checklist(app, incident_id) == {}
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Rotation gap: 0" in page
    assert "stored in Build server" not in page
