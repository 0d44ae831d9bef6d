"""Units of work of issue 14's entities (network zones, fourth parties), and what a deletion of
a vendor, a system, a zone or a fourth party takes with it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import login_as

from vendor_risk.core import inventory_file
from vendor_risk.db import db
from vendor_risk.models import (
    AuditAction,
    AuditEvent,
    NetworkZone,
    Role,
    System,
    Vendor,
    ZoneReach,
)
from vendor_risk.services import ValidationFailed, inventory
from vendor_risk.services.audit import Actor
from vendor_risk.services.inventory import bulk as inventory_io

ACTOR = Actor.system("test")

FILE = """\
version: 1
network_zones:
  - name: Office
    reaches: [POS network]
  - name: POS network
fourth_parties:
  - name: AWS
systems:
  - name: Identity provider
  - name: Wiki
    sign_in_via:
      - identity_provider: Identity provider
  - name: Warehouse
    operated_by: Snowflake
    zones: [Office]
  - name: Build server
    runs_software:
      - vendor: Snowflake
        software: loader
  - name: Payment terminals
    zones: [POS network]
    accepts_unauthenticated_from: [Office]
vendors:
  - name: Snowflake
    subprocessors:
      - fourth_party: AWS
"""


@pytest.fixture
def stored(app):
    doc = inventory_file.parse(FILE, name="edges.yaml")
    assert doc.ok, doc.problems
    with app.app_context():
        inventory_io.import_inventory(db.session, doc.document, actor=ACTOR)
        db.session.commit()
    return app


def _by_name(model, name):
    return db.session.scalar(sa.select(model).where(model.name == name))


def test_deleting_a_vendor_shows_the_systems_it_runs_its_software_and_fourth_parties(stored):
    with stored.app_context():
        plan = inventory.vendor_deletion(db.session, _by_name(Vendor, "Snowflake"))
        assert plan.operates == ("Warehouse",)
        assert plan.software_on == ("Build server: loader",)
        assert plan.fourth_parties == ("AWS",)
        assert not plan.blocked
        inventory.delete_vendor(db.session, _by_name(Vendor, "Snowflake"), actor=ACTOR)
        db.session.commit()
        assert _by_name(System, "Warehouse").operator_vendor_id is None


def test_deleting_a_system_shows_its_zones_federations_and_software(stored):
    with stored.app_context():
        idp = inventory.system_deletion(db.session, _by_name(System, "Identity provider"))
        assert (idp.trusted_by, idp.signs_in_via) == (("Wiki",), ())
        wiki = inventory.system_deletion(db.session, _by_name(System, "Wiki"))
        assert wiki.signs_in_via == ("Identity provider",)
        warehouse = inventory.system_deletion(db.session, _by_name(System, "Warehouse"))
        assert (warehouse.zones, warehouse.operated_by) == (("Office",), "Snowflake")
        terminals = inventory.system_deletion(db.session, _by_name(System, "Payment terminals"))
        assert terminals.zones == ("Office", "POS network")
        build = inventory.system_deletion(db.session, _by_name(System, "Build server"))
        assert build.software == ("Snowflake: loader",)


def test_a_zone_is_created_updated_given_its_reach_and_deleted_with_what_goes(stored):
    with stored.app_context():
        with pytest.raises(ValidationFailed) as taken:
            inventory.create_zone(db.session, {"name": "OFFICE"}, actor=ACTOR)
        assert "already exists" in taken.value.errors["name"][0]
        lab = inventory.create_zone(db.session, {"name": "Lab"}, actor=ACTOR)
        assert inventory.update_zone(db.session, lab, {"description": "Test"}, actor=ACTOR) == [
            "description"
        ]
        office = _by_name(NetworkZone, "Office")
        with pytest.raises(ValidationFailed):
            inventory.set_reaches(db.session, lab, [lab.id], actor=ACTOR)
        assert inventory.set_reaches(db.session, lab, [office.id], actor=ACTOR)
        assert not inventory.set_reaches(db.session, lab, [office.id], actor=ACTOR)
        assert inventory.reached_zones(db.session, lab) == ("Office",)
        db.session.commit()
        plan = inventory.zone_deletion(db.session, office)
        assert plan.members == ("Warehouse",)
        assert plan.open_to == ("Payment terminals",)
        assert (plan.reaches, plan.reached_from) == (("POS network",), ("Lab",))
        inventory.delete_zone(db.session, office, actor=ACTOR)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ZoneReach)) == 0
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_type == "network_zone")
        ).all()
        assert actions == [
            AuditAction.network_zone_created,
            AuditAction.network_zone_updated,
            AuditAction.network_zone_updated,
            AuditAction.network_zone_deleted,
        ]


def test_a_fourth_party_is_created_updated_and_deleted_with_its_links(stored):
    with stored.app_context():
        party = inventory.create_fourth_party(
            db.session, {"name": "Mailer", "service": "email"}, actor=ACTOR
        )
        assert [name for _, name in inventory.fourth_party_choices(db.session)] == [
            "AWS",
            "Mailer",
        ]
        assert inventory.update_fourth_party(
            db.session, party, {"service": "bulk email"}, actor=ACTOR
        ) == ["service"]
        problems = inventory.fourth_party_problems(db.session, {"name": "aws"})
        assert "already exists" in problems["name"][0]
        aws = inventory.get_fourth_party(
            db.session, next(i for i, n in inventory.fourth_party_choices(db.session) if n == "AWS")
        )
        plan = inventory.fourth_party_deletion(db.session, aws)
        assert plan.relied_on_by == ("Snowflake",)
        inventory.delete_fourth_party(db.session, aws, actor=ACTOR)
        db.session.commit()
        snowflake = next(v for v in inventory_io.export_inventory(db.session)["vendors"])
        assert snowflake["subprocessors"] == []


def test_every_new_table_marks_the_portfolio_stale(stored):
    from vendor_risk.models import (
        Federation,
        FourthParty,
        PortfolioState,
        SoftwareSupply,
        SubprocessorLink,
        SystemOpenZone,
        SystemZone,
    )

    # Children first: SQLite's row triggers fire for the rows a statement deletes.
    tables = (
        ZoneReach,
        SystemZone,
        SystemOpenZone,
        NetworkZone,
        Federation,
        SoftwareSupply,
        SubprocessorLink,  # rebuilt on SQLite by the revision: its triggers made again
        FourthParty,
        System,
    )
    with stored.app_context():
        for model in tables:
            before = db.session.scalar(sa.select(PortfolioState.inventory_version))
            db.session.execute(sa.delete(model))
            db.session.commit()
            after = db.session.scalar(sa.select(PortfolioState.inventory_version))
            assert after > before, model.__tablename__


@pytest.fixture
def officer(client, make_user):
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


def _page_text(response) -> str:
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_the_deletion_pages_say_which_edges_go_and_what_stays(stored, client, officer):
    with stored.app_context():
        snowflake = _by_name(Vendor, "Snowflake").id
        idp, warehouse, build = (
            _by_name(System, name).id for name in ("Identity provider", "Warehouse", "Build server")
        )
    page = _page_text(client.get(f"/inventory/vendors/{snowflake}/delete"))
    assert "fourth parties it relies on (they stay, for the other vendors using them): AWS" in page
    assert "its software running on our systems: Build server: loader" in page
    assert "It operates Warehouse for us: that system stays, operated by nobody" in page
    page = _page_text(client.get(f"/inventory/systems/{idp}/delete"))
    assert "systems trusting it for sign-in (they stay, without this sign-in): Wiki" in page
    page = _page_text(client.get(f"/inventory/systems/{warehouse}/delete"))
    assert "its network zones (the zones stay): Office" in page
    assert "Snowflake operates it for us and stays a vendor." in page
    page = _page_text(client.get(f"/inventory/systems/{build}/delete"))
    assert "vendor software recorded on it: Snowflake: loader." in page
