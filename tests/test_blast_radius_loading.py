"""The inventory read from the database into the engine (services.blast_radius), with issue 14's
edges: federation, systems operated by a vendor, vendor software, network zones and fourth
parties with records passed. A hand-built inventory, each construct checked through the
service's result, and the reachable part read for a breach giving what the whole gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vendor_risk.core.blast_radius import engine
from vendor_risk.db import db
from vendor_risk.models import (
    Credential,
    CredentialCopy,
    CredentialKind,
    DataCategory,
    Federation,
    FourthParty,
    NetworkZone,
    Privilege,
    Sensitivity,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    SystemOpenZone,
    SystemZone,
    Vendor,
    ZoneReach,
)
from vendor_risk.services import blast_radius

AS_OF = datetime(2026, 11, 28, tzinfo=UTC)


def _ids(*rows):
    db.session.add_all(rows)
    db.session.flush()
    return [row.id for row in rows]


@pytest.fixture
def inventory(app):
    """Names -> ids of a small inventory with one of each new construct."""
    with app.app_context():
        okta, snowflake, agentco, contractor, other = _ids(
            Vendor(name="Okta"),
            Vendor(name="Snowflake"),
            Vendor(name="AgentCo"),
            Vendor(name="Contractor"),
            Vendor(name="Bystander"),
        )
        pii, docs = _ids(
            DataCategory(name="Customer PII", sensitivity=Sensitivity.critical),
            DataCategory(name="Internal docs", sensitivity=Sensitivity.medium),
        )
        office, pos_zone = _ids(NetworkZone(name="Office"), NetworkZone(name="POS network"))
        idp, wiki, crm, warehouse, billing, build, prod, portal, pos = _ids(
            System(name="Identity provider"),
            System(name="Wiki"),
            System(name="CRM", mfa_required=True),
            System(name="Warehouse", operator_vendor_id=snowflake),
            System(name="Billing"),
            System(name="Build server"),
            System(name="Production"),
            System(name="Contractor portal"),
            System(name="Payment terminals"),
        )
        (aws,) = _ids(FourthParty(name="AWS", service="hosting"))
        session_token, warehouse_admin, vpn, unused = _ids(
            Credential(
                name="okta-session",
                kind=CredentialKind.session_token,
                holder_vendor_id=okta,
                system_id=idp,
                privilege=Privilege.write,
                interactive=True,
                mfa_enforced=True,
            ),
            Credential(
                name="billing-admin",
                kind=CredentialKind.service_account,
                system_id=billing,
                privilege=Privilege.admin,
            ),
            Credential(
                name="contractor-vpn",
                kind=CredentialKind.vpn,
                holder_vendor_id=contractor,
                system_id=portal,
            ),
            Credential(
                name="bystander-token",
                kind=CredentialKind.api_token,
                holder_vendor_id=other,
                system_id=prod,
            ),
        )
        link_okta, link_aws = _ids(
            SubprocessorLink(vendor_id=snowflake, subprocessor_id=okta, purpose="sign-in"),
            SubprocessorLink(vendor_id=snowflake, fourth_party_id=aws, purpose="hosting"),
        )
        db.session.add_all(
            [
                ZoneReach(from_zone_id=office, to_zone_id=pos_zone),
                SystemZone(system_id=portal, zone_id=office),
                SystemZone(system_id=billing, zone_id=office),
                SystemZone(system_id=pos, zone_id=pos_zone),
                SystemOpenZone(system_id=pos, zone_id=office),
                Federation(identity_provider_id=idp, system_id=wiki, privilege=Privilege.admin),
                Federation(
                    identity_provider_id=idp,
                    system_id=crm,
                    privilege=Privilege.read,
                    mfa_enforced=True,
                ),
                SoftwareSupply(system_id=build, vendor_id=agentco, software="monitoring agent"),
                SoftwareSupply(
                    system_id=prod,
                    vendor_id=agentco,
                    software="backup tool",
                    privilege=Privilege.write,
                    automatic_updates=False,
                ),
                CredentialCopy(credential_id=warehouse_admin, system_id=warehouse),
                SystemData(system_id=warehouse, data_category_id=pii, records=1000),
                SystemData(system_id=pos, data_category_id=pii, records=250),
                SystemData(system_id=wiki, data_category_id=docs),
                SubprocessorData(link_id=link_okta, data_category_id=docs),
                SubprocessorData(link_id=link_aws, data_category_id=pii, records=500),
            ]
        )
        db.session.commit()
        return {
            name: value
            for name, value in locals().items()
            if isinstance(value, int) and name not in {"session_token", "vpn", "unused"}
        }


def _breach(app, vendor_ids, **kwargs):
    with app.app_context():
        return blast_radius.vendor_blast_radius(db.session, vendor_ids, as_of=AS_OF, **kwargs)


def _reached(view) -> dict[str, str]:
    return {reached.system.name: reached.edge for reached in view.systems}


def test_a_session_token_signs_in_through_the_identity_provider(app, inventory):
    result = _breach(app, [inventory["okta"]])
    # The session token carries its MFA: the identity provider and Wiki (trusting it) fall;
    # CRM asks its own MFA: only if the controls fail.
    assert _reached(result.despite_controls) == {
        "Identity provider": engine.OPENS,
        "Wiki": engine.TRUSTED_BY,
    }
    assert _reached(result.if_controls_fail) == {
        "Identity provider": engine.OPENS,
        "Wiki": engine.TRUSTED_BY,
        "CRM": engine.TRUSTED_BY,
    }
    held = [(h.edge, h.system.name, h.barrier) for h in result.links_held]
    assert held == [(engine.TRUSTED_BY, "CRM", "mfa")]
    # Snowflake passes internal docs on to Okta.
    exposure = [(e.vendor.name, e.subprocessor.name) for e in result.fourth_party_exposure]
    assert exposure == [("Snowflake", "Okta")]


def test_a_vendor_operating_a_system_exposes_its_data_and_stored_credentials(app, inventory):
    result = _breach(app, [inventory["snowflake"]])
    # Billing's stored credential, then the walk goes on: Billing is in the office zone, whose
    # payment terminals accept connections from it with no sign-in.
    assert _reached(result.despite_controls) == {
        "Warehouse": engine.OPERATES,
        "Billing": engine.OPENS,
        "Payment terminals": engine.CONNECTS,
    }
    data = {d.category.name: d.records for d in result.despite_controls.data}
    assert data == {"Customer PII": 1000 + 250}
    assert [c.credential.name for c in result.credentials_to_rotate] == ["billing-admin"]


def test_vendor_software_reaches_with_automatic_updates_only_despite_the_controls(app, inventory):
    result = _breach(app, [inventory["agentco"]])
    assert _reached(result.despite_controls) == {"Build server": engine.SUPPLIES}
    assert _reached(result.if_controls_fail) == {
        "Build server": engine.SUPPLIES,
        "Production": engine.SUPPLIES,
    }
    assert [(h.edge, h.system.name, h.barrier) for h in result.links_held] == [
        (engine.SUPPLIES, "Production", "update_approval")
    ]


def test_network_zones_reach_open_systems_despite_the_controls_and_others_if_they_fail(
    app, inventory
):
    result = _breach(app, [inventory["contractor"]])
    assert _reached(result.despite_controls) == {
        "Contractor portal": engine.OPENS,
        "Payment terminals": engine.CONNECTS,
    }
    assert _reached(result.if_controls_fail) == {
        "Contractor portal": engine.OPENS,
        "Payment terminals": engine.CONNECTS,
        "Billing": engine.CONNECTS,
    }
    # Billing, reached if the controls fail, stores nothing; its own credential is not taken.
    data = {d.category.name: d.records for d in result.despite_controls.data}
    assert data == {"Customer PII": 250}


def test_a_breached_fourth_party_exposes_the_records_passed_on_to_it(app, inventory):
    result = _breach(app, [], fourth_party_ids=[inventory["aws"]])
    [exposure] = result.fourth_party_exposure
    assert (exposure.vendor.name, exposure.subprocessor.name) == ("Snowflake", "AWS")
    assert [(p.category.name, p.records) for p in exposure.passed_on] == [("Customer PII", 500)]


def test_the_whole_inventory_holds_every_new_construct(app, inventory):
    with app.app_context():
        whole = blast_radius.load_inventory(db.session)
    assert [z.name for z in whole.zones.values()] == ["Office", "POS network"]
    assert whole.zones[inventory["office"]].reaches == (inventory["pos_zone"],)
    assert whole.systems[inventory["pos"]].accepts_unauthenticated_from == (inventory["office"],)
    assert whole.systems[inventory["warehouse"]].operator_vendor_id == inventory["snowflake"]
    assert len(whole.federations) == 2 and len(whole.software) == 2
    assert [p.name for p in whole.fourth_parties.values()] == ["AWS"]
    link = next(link for link in whole.links if link.fourth_party_id is not None)
    assert link.passed == (engine.Holding(inventory["pii"], 500),)


# 0: every list of ids is bound as one parameter (a JSON array on SQLite, an array on
# PostgreSQL), the way a breach reaching thousands of systems and credentials reads them.
@pytest.mark.parametrize("long_id_list", [None, 0], ids=["placeholders", "one-parameter"])
def test_reading_the_reachable_part_gives_what_the_whole_inventory_gives(
    app, inventory, monkeypatch, long_id_list
):
    if long_id_list is not None:
        monkeypatch.setattr("vendor_risk.db.LONG_ID_LIST", long_id_list)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        whole = blast_radius.load_inventory(db.session)
        for vendor_id in whole.vendors:
            part = blast_radius.load_reachable(db.session, [vendor_id])
            assert len(part.systems) <= len(whole.systems)
            for moment in (None, since):
                expected = engine.compute(whole, [vendor_id], as_of=AS_OF, since=moment)
                got = engine.compute(part, [vendor_id], as_of=AS_OF, since=moment)
                assert got.to_dict() == expected.to_dict(), whole.vendors[vendor_id].name
        every = list(whole.vendors)
        parties = [inventory["aws"]]
        part = blast_radius.load_reachable(db.session, every, fourth_party_ids=parties)
        kwargs = {"as_of": AS_OF, "breached_fourth_party_ids": parties}
        assert (
            engine.compute(part, every, **kwargs).to_dict()
            == engine.compute(whole, every, **kwargs).to_dict()
        )
        # A breach of the contractor reads neither Okta's systems nor AgentCo's.
        part = blast_radius.load_reachable(db.session, [inventory["contractor"]])
        assert set(part.systems) == {inventory["portal"], inventory["billing"], inventory["pos"]}


def test_dates_written_by_hand_are_read_as_utc_whatever_their_form(app, inventory):
    """The portfolio reads SQLite's timestamps as text in one step: a date written by raw SQL
    with a "T" or with an offset is read as the same moment, in UTC, as the app writes it."""
    import sqlalchemy as sa

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite keeps timestamps as text")
        by_name = dict(db.session.execute(sa.select(Credential.name, Credential.id)).all())
        for name, text in (
            ("okta-session", "2026-03-01T10:00:00"),
            ("billing-admin", "2026-03-01 12:00:00+02:00"),
        ):
            db.session.execute(
                sa.text("UPDATE credential SET expires_at = :text WHERE id = :id"),
                {"text": text, "id": by_name[name]},
            )
        db.session.commit()
        for load in (
            blast_radius.load_inventory,
            lambda s: blast_radius.load_for_vendors(s, None),
        ):
            whole = load(db.session)
            for name in ("okta-session", "billing-admin"):
                moment = whole.credentials[by_name[name]].expires_at
                assert moment == datetime(2026, 3, 1, 10, tzinfo=UTC), name
