"""The pages of a system's blast-radius edges (issue 14): the vendor operating it and its
network zones on its form, the identity providers it trusts for sign-in and the vendor software
it runs on its page, and both read from the vendor's profile; as procurement uses them."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from conftest import add, count, events, get, login_as, text

from vendor_risk.models import (
    AuditEvent,
    Credential,
    CredentialKind,
    Federation,
    NetworkZone,
    Privilege,
    Role,
    SoftwareSupply,
    System,
    SystemOpenZone,
    SystemZone,
    Vendor,
)

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
CHOOSE = "Choose one of the listed options."
HOSTILE_IDS = [str(2**40), "-1", "0", "1e3", "x", " ", str(2**63)]


@pytest.fixture
def officer(client, make_user):
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


def field_error(response, field: str) -> str:
    """The error shown at a field (tied to it by id), or ''."""
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else ""


def system_form(**overrides) -> dict:
    return {"name": "Data warehouse", "kind": "database", "environment": "production"} | overrides


def section(page: str, start: str, end: str | None = None) -> str:
    """The part of a page from the text ``start`` to the next text ``end`` (or the end)."""
    part = page[page.index(start) :]
    return part[: part.index(end, len(start))] if end else part


def system_events(app, change: str) -> list[AuditEvent]:
    return [e for e in events(app, "inventory.system.updated") if e.details.get("change") == change]


# ---- operated by ----------------------------------------------------------------------------


def test_operator_is_set_shown_and_cleared(app, client, officer):
    [snowflake] = add(app, Vendor(name="Snowflake"))
    created = client.post(
        "/inventory/systems/new", data=system_form(**{"operator_vendor_id-name": "snowflake"})
    )
    assert created.status_code == 302
    system_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert get(app, System, system_id).operator_vendor_id == snowflake
    [created_event] = events(app, "inventory.system.created")
    assert created_event.details["operator_vendor_id"] == snowflake

    page = text(client.get(f"/inventory/systems/{system_id}"))
    assert "Operated by" in page and f'href="/inventory/vendors/{snowflake}">Snowflake' in page
    listed = client.get("/inventory/systems").get_data(as_text=True)
    assert '<th scope="col">Operated by</th>' in listed
    assert f'href="/inventory/vendors/{snowflake}">Snowflake</a>' in listed
    profile = text(client.get(f"/inventory/vendors/{snowflake}"))
    assert f'href="/inventory/systems/{system_id}">Data warehouse' in section(
        profile, "Systems it operates", "Software of this vendor"
    )
    # The edit form shows the vendor's name in its box.
    assert 'value="Snowflake"' in client.get(f"/inventory/systems/{system_id}/edit").get_data(
        as_text=True
    )

    version = get(app, System, system_id).version
    cleared = client.post(
        f"/inventory/systems/{system_id}/edit",
        data=system_form(**{"operator_vendor_id-name": "", "version": str(version)}),
    )
    assert cleared.status_code == 302
    assert get(app, System, system_id).operator_vendor_id is None
    [updated] = events(app, "inventory.system.updated")
    assert updated.details["changed"] == ["operator_vendor_id"]
    assert updated.details["previous_operator_vendor_id"] == snowflake
    assert updated.details["operator_vendor_id"] is None
    assert "us (no vendor runs it)" in text(client.get(f"/inventory/systems/{system_id}"))
    assert "None recorded." in section(
        text(client.get(f"/inventory/vendors/{snowflake}")), "Systems it operates"
    )


def test_an_unknown_operator_is_refused_at_the_field(app, client, officer):
    typed = client.post(
        "/inventory/systems/new", data=system_form(**{"operator_vendor_id-name": "Nobody"})
    )
    assert typed.status_code == 400
    assert "No vendor is named “Nobody”" in field_error(typed, "operator_vendor_id")
    [vendor] = add(app, Vendor(name="Real"))
    for hostile in [h for h in [*HOSTILE_IDS, str(vendor + 999)] if h.strip()]:
        refused = client.post(
            "/inventory/systems/new", data=system_form(operator_vendor_id=hostile)
        )
        assert refused.status_code == 400, hostile
        assert field_error(refused, "operator_vendor_id") == CHOOSE, hostile
    assert count(app, System) == 0
    [system_id] = add(app, System(name="CRM"))
    refused = client.post(
        f"/inventory/systems/{system_id}/edit",
        data=system_form(name="CRM", operator_vendor_id=str(2**40), version="1"),
    )
    assert refused.status_code == 400
    assert field_error(refused, "operator_vendor_id") == CHOOSE
    assert get(app, System, system_id).operator_vendor_id is None


# ---- network zones --------------------------------------------------------------------------


def zone_rows(app, model, system_id: int) -> set[int]:
    return {row.zone_id for row in _all(app, sa.select(model).where(model.system_id == system_id))}


def _all(app, query) -> list:
    from vendor_risk.db import db

    with app.app_context():
        return list(db.session.scalars(query))


def test_zones_are_set_shown_and_cleared(app, client, officer):
    [office, pos, dmz] = add(
        app, NetworkZone(name="Office"), NetworkZone(name="POS network"), NetworkZone(name="DMZ")
    )
    form = client.get("/inventory/systems/new").get_data(as_text=True)
    assert "Network zones" in form and "Accepts unauthenticated network access from" in form
    created = client.post(
        "/inventory/systems/new",
        data=system_form(name="Payments", zones=[str(pos)], accepts_unauthenticated_from=[office]),
    )
    assert created.status_code == 302
    system_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert zone_rows(app, SystemZone, system_id) == {pos}
    assert zone_rows(app, SystemOpenZone, system_id) == {office}
    [created_event] = events(app, "inventory.system.created")
    assert created_event.details["zones"] == [pos]
    assert created_event.details["accepts_unauthenticated_from"] == [office]
    page = text(client.get(f"/inventory/systems/{system_id}"))
    assert "<dt>Network zones</dt><dd>POS network</dd>" in page
    assert "<dt>Accepts unauthenticated network access from</dt><dd>Office</dd>" in page
    edit = client.get(f"/inventory/systems/{system_id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{pos}">POS network</option>', edit)

    version = get(app, System, system_id).version
    changed = client.post(
        f"/inventory/systems/{system_id}/edit",
        data=system_form(name="Payments", zones=[str(pos), str(dmz)], version=str(version)),
    )
    assert changed.status_code == 302
    assert zone_rows(app, SystemZone, system_id) == {pos, dmz}
    assert zone_rows(app, SystemOpenZone, system_id) == set()
    [updated] = events(app, "inventory.system.updated")
    assert updated.details["changed"] == ["zones", "accepts_unauthenticated_from"]
    assert updated.details["zones"] == sorted([pos, dmz])
    # Only memberships changed, yet a form opened before is stale: no silent overwrite.
    assert get(app, System, system_id).version > version
    stale = client.post(
        f"/inventory/systems/{system_id}/edit",
        data=system_form(name="Payments", version=str(version)),
    )
    assert stale.status_code == 400
    assert "Someone else saved this system" in text(stale)
    assert zone_rows(app, SystemZone, system_id) == {pos, dmz}

    cleared = client.post(
        f"/inventory/systems/{system_id}/edit",
        data=system_form(name="Payments", version=str(get(app, System, system_id).version)),
    )
    assert cleared.status_code == 302
    assert zone_rows(app, SystemZone, system_id) == set()
    page = text(client.get(f"/inventory/systems/{system_id}"))
    assert "<dt>Network zones</dt><dd>none recorded</dd>" in page


@pytest.mark.parametrize("field", ["zones", "accepts_unauthenticated_from"])
def test_unknown_zones_are_refused_at_the_field(app, client, officer, field):
    [zone] = add(app, NetworkZone(name="Office"))
    [system_id] = add(app, System(name="CRM", kind="crm"))
    for hostile in [h for h in [*HOSTILE_IDS, str(zone + 999)] if h.strip()]:
        refused = client.post(
            "/inventory/systems/new", data=system_form(**{field: [str(zone), hostile]})
        )
        assert refused.status_code == 400, hostile
        assert field_error(refused, field), hostile
        edit = client.post(
            f"/inventory/systems/{system_id}/edit",
            data=system_form(name="CRM", version="1", **{field: [hostile]}),
        )
        assert edit.status_code == 400, hostile
        assert field_error(edit, field), hostile
    assert count(app, System) == 1
    assert count(app, SystemZone) == count(app, SystemOpenZone) == 0
    assert events(app, "inventory.system.updated") == []


def test_the_service_refuses_a_zone_gone_meanwhile(app):
    """A zone deleted between the form's check and the save: refused at the field, not a 500."""
    from vendor_risk.db import db
    from vendor_risk.services import ValidationFailed, inventory
    from vendor_risk.services.audit import Actor

    [system_id] = add(app, System(name="CRM"))
    with app.app_context():
        system = db.session.get(System, system_id)
        with pytest.raises(ValidationFailed) as refused:
            inventory.update_system(
                db.session, system, {}, zones={"zones": [12345]}, actor=Actor("test")
            )
        assert refused.value.errors == {"zones": ["Choose one of the listed network zones."]}


# ---- sign-in ---------------------------------------------------------------------------------


def test_federations_are_added_shown_and_removed(app, client, officer):
    [idp, wiki, crm] = add(
        app,
        System(name="Identity provider", kind="identity_provider"),
        System(name="Wiki", kind="wiki"),
        System(name="CRM", kind="crm"),
    )
    page = client.get(f"/inventory/systems/{wiki}").get_data(as_text=True)
    offered = section(page, "Add an identity provider", "Trusted by")
    assert ">Identity provider</option>" in offered and ">Wiki</option>" not in offered

    added = client.post(
        f"/inventory/systems/{wiki}/federations",
        data={"identity_provider_id": str(idp), "privilege": "admin"},
    )
    assert added.status_code == 302
    with_mfa = client.post(
        f"/inventory/systems/{crm}/federations",
        data={"identity_provider_id": str(idp), "privilege": "write", "mfa_enforced": "y"},
    )
    assert with_mfa.status_code == 302
    rows = {(f.system_id, f.privilege, f.mfa_enforced) for f in _all(app, sa.select(Federation))}
    assert rows == {(wiki, Privilege.admin, False), (crm, Privilege.write, True)}

    wiki_page = text(client.get(f"/inventory/systems/{wiki}"))
    via = section(wiki_page, "Signs users in via", "Add an identity provider")
    assert f'href="/inventory/systems/{idp}">Identity provider' in via
    assert ">admin<" in via and ">no<" in via
    crm_via = section(text(client.get(f"/inventory/systems/{crm}")), "Signs users in via", "Add an")
    assert ">write<" in crm_via and ">yes<" in crm_via
    trusted = section(text(client.get(f"/inventory/systems/{idp}")), "Trusted by", "Software from")
    assert f'href="/inventory/systems/{wiki}">Wiki' in trusted
    assert f'href="/inventory/systems/{crm}">CRM' in trusted

    [event] = system_events(app, "sign-in federation added")[:1]
    assert event.object_id == str(wiki)
    assert event.details["identity_provider"] == "Identity provider"
    assert event.details["privilege"] == "admin" and event.details["mfa_enforced"] is False

    [wiki_federation] = _all(app, sa.select(Federation.id).where(Federation.system_id == wiki))
    # Removed only from the page of the system that trusts it.
    assert (
        client.post(f"/inventory/systems/{crm}/federations/{wiki_federation}/remove").status_code
        == 404
    )
    removed = client.post(f"/inventory/systems/{wiki}/federations/{wiki_federation}/remove")
    assert removed.status_code == 302
    assert count(app, Federation) == 1
    [gone] = system_events(app, "sign-in federation removed")
    assert gone.object_id == str(wiki) and gone.details["identity_provider_id"] == idp
    assert "None: users sign in to it directly." in text(client.get(f"/inventory/systems/{wiki}"))
    trusted = section(text(client.get(f"/inventory/systems/{idp}")), "Trusted by", "Software from")
    assert "Wiki" not in trusted and "CRM" in trusted


def test_federation_refusals_are_shown_at_the_field(app, client, officer):
    [idp, wiki] = add(app, System(name="Identity provider"), System(name="Wiki"))
    url = f"/inventory/systems/{wiki}/federations"

    def refused(value) -> str:
        response = client.post(url, data={"identity_provider_id": value, "privilege": "admin"})
        assert response.status_code == 400, value
        return field_error(response, "identity_provider_id")

    assert refused(str(wiki)) == "A system cannot sign users in via itself."
    assert refused("") == "Choose the identity provider."
    for hostile in [h for h in [*HOSTILE_IDS, str(idp + 999)] if h.strip()]:
        # An id no row can have is never queried: the field asks for a listed provider.
        assert refused(hostile) in (CHOOSE, "Choose the identity provider."), hostile
    assert count(app, Federation) == 0

    assert (
        client.post(url, data={"identity_provider_id": str(idp), "privilege": "read"}).status_code
        == 302
    )
    assert refused(str(idp)) == "Wiki already signs users in via Identity provider."
    bad_privilege = client.post(url, data={"identity_provider_id": str(idp), "privilege": "root"})
    assert bad_privilege.status_code == 400 and field_error(bad_privilege, "privilege") == CHOOSE
    assert count(app, Federation) == 1
    assert len(system_events(app, "sign-in federation added")) == 1
    assert client.post(f"/inventory/systems/{2**40}/federations").status_code == 404
    assert client.post(f"/inventory/systems/{wiki}/federations/{2**40}/remove").status_code == 404


# ---- vendor software ------------------------------------------------------------------------


def test_vendor_software_is_added_shown_and_removed(app, client, officer):
    [agentco, build] = add(app, Vendor(name="AgentCo"), System(name="Build server"))
    url = f"/inventory/systems/{build}/software"
    automatic = client.post(
        url,
        data={
            "vendor_id-name": "AgentCo",
            "software": "Monitoring agent",
            "privilege": "admin",
            "automatic_updates": "y",
        },
    )
    assert automatic.status_code == 302
    approved = client.post(
        url, data={"vendor_id": str(agentco), "software": "CI uploader", "privilege": "write"}
    )
    assert approved.status_code == 302
    rows = {
        (s.software, s.privilege, s.automatic_updates) for s in _all(app, sa.select(SoftwareSupply))
    }
    assert rows == {
        ("Monitoring agent", Privilege.admin, True),
        ("CI uploader", Privilege.write, False),
    }
    listed = section(text(client.get(f"/inventory/systems/{build}")), "Software from vendors")
    assert "Monitoring agent" in listed and "automatic" in listed
    assert "CI uploader" in listed and "approved by us" in listed
    [event] = system_events(app, "vendor software added")[:1]
    assert event.object_id == str(build) and event.vendor_id == agentco
    assert event.details["software"] == "Monitoring agent"

    [agent_id] = _all(
        app, sa.select(SoftwareSupply.id).where(SoftwareSupply.software == "Monitoring agent")
    )
    removed = client.post(f"/inventory/systems/{build}/software/{agent_id}/remove")
    assert removed.status_code == 302
    assert count(app, SoftwareSupply) == 1
    [gone] = system_events(app, "vendor software removed")
    assert gone.details["software"] == "Monitoring agent"
    [other] = add(app, System(name="Other"))
    [left] = _all(app, sa.select(SoftwareSupply.id))
    assert client.post(f"/inventory/systems/{other}/software/{left}/remove").status_code == 404


def test_vendor_software_refusals_are_shown_at_the_field(app, client, officer):
    [agentco, build] = add(app, Vendor(name="AgentCo"), System(name="Build server"))
    url = f"/inventory/systems/{build}/software"

    def post(**data):
        return client.post(url, data={"privilege": "admin"} | data)

    assert post(vendor_id=str(agentco), software="Agent").status_code == 302
    duplicate = post(vendor_id=str(agentco), software="  AGENT ")
    assert duplicate.status_code == 400
    assert field_error(duplicate, "software") == "Build server already runs AgentCo's AGENT."
    secret = post(vendor_id=str(agentco), software=f"agent {AWS_KEY}")
    assert secret.status_code == 400 and "looks like a secret" in field_error(secret, "software")
    unknown = post(**{"vendor_id-name": "Nobody", "software": "x"})
    assert unknown.status_code == 400
    assert "No vendor is named" in field_error(unknown, "vendor_id")
    for hostile in [h for h in [*HOSTILE_IDS, str(agentco + 999)] if h.strip()]:
        response = post(vendor_id=hostile, software="y")
        assert response.status_code == 400, hostile
        assert field_error(response, "vendor_id") == CHOOSE, hostile
    assert count(app, SoftwareSupply) == 1
    # The refused form keeps what was typed, the secret check included.
    assert AWS_KEY in secret.get_data(as_text=True)


# ---- the vendor's side ----------------------------------------------------------------------


def test_vendor_profile_lists_systems_it_operates_and_its_software(app, client, officer):
    [snowflake, agentco] = add(app, Vendor(name="Snowflake"), Vendor(name="AgentCo"))
    [warehouse, build, laptop] = add(
        app,
        System(name="Data warehouse", operator_vendor_id=snowflake),
        System(name="Build server"),
        System(name="Laptops"),
    )
    add(
        app,
        SoftwareSupply(system_id=build, vendor_id=agentco, software="CI step", privilege="write"),
        SoftwareSupply(
            system_id=laptop, vendor_id=agentco, software="EDR agent", automatic_updates=False
        ),
    )
    saas = text(client.get(f"/inventory/vendors/{snowflake}"))
    assert f'href="/inventory/systems/{warehouse}">Data warehouse' in section(
        saas, "Systems it operates", "Software of this vendor"
    )
    assert "None recorded." in section(saas, "Software of this vendor")

    agent = text(client.get(f"/inventory/vendors/{agentco}"))
    assert "None recorded." in section(agent, "Systems it operates", "Software of this vendor")
    software = section(agent, "Software of this vendor")
    build_row = software[software.index(f'/inventory/systems/{build}"') :].split("</tr>")[0]
    assert "CI step" in build_row and ">write<" in build_row and "automatic" in build_row
    laptop_row = software[software.index(f'/inventory/systems/{laptop}"') :].split("</tr>")[0]
    assert "EDR agent" in laptop_row and ">admin<" in laptop_row
    assert "approved by us" in laptop_row
    # Read-only there: no form.
    assert "<form" not in software


# ---- the blast radius follows ---------------------------------------------------------------


@pytest.mark.parametrize("mfa_enforced", [False, True])
def test_a_federation_added_on_the_page_extends_the_vendors_blast_radius(
    app, client, officer, mfa_enforced
):
    """The vendor's blast-radius tab computes from the inventory at each view (no stored
    aggregate): a federation added through the page is followed at once."""
    [keystone, idp, wiki] = add(
        app,
        Vendor(name="Keystone"),
        System(name="Identity provider", kind="identity_provider"),
        System(name="Wiki", kind="wiki"),
    )
    add(
        app,
        Credential(
            name="idp-admin",
            kind=CredentialKind.service_account,
            holder_vendor_id=keystone,
            system_id=idp,
            privilege=Privilege.admin,
        ),
    )
    url = f"/inventory/vendors/{keystone}/blast-radius"
    before = text(client.get(url))
    assert "Wiki" not in before

    data = {"identity_provider_id": str(idp), "privilege": "write"}
    if mfa_enforced:
        data["mfa_enforced"] = "y"
    assert client.post(f"/inventory/systems/{wiki}/federations", data=data).status_code == 302

    after = client.get(url)
    assert after.status_code == 200
    page = text(after)
    despite = section(page, "Systems reached despite the controls", "<h2>")
    if mfa_enforced:
        assert "Wiki" not in despite
        if_fail = section(page, "Reached only if the controls fail", "Data reached despite")
        assert "Wiki" in if_fail and "Identity provider" in if_fail
    else:
        wiki_row = despite[despite.index(f'/inventory/systems/{wiki}"') :].split("</tr>")[0]
        assert "Wiki" in wiki_row and "idp-admin" in wiki_row and "write" in wiki_row
