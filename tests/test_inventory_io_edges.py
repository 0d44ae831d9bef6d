"""The inventory file's constructs of issue 14: network zones, fourth parties, systems operated
by a vendor, in zones, accepting unauthenticated access from zones, signing in via an identity
provider and running vendor software, and records passed to subprocessors. Import, the round
trip, lists that replace the stored ones, and every problem at its line."""

from __future__ import annotations

import textwrap

import pytest
import sqlalchemy as sa

from vendor_risk.core import inventory_file
from vendor_risk.db import db
from vendor_risk.models import (
    Federation,
    FourthParty,
    NetworkZone,
    Privilege,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemOpenZone,
    SystemZone,
    Vendor,
    ZoneReach,
)
from vendor_risk.services.audit import Actor
from vendor_risk.services.inventory import bulk as inventory_io

ACTOR = Actor.system("test")

EDGES = textwrap.dedent(
    """\
    version: 1
    data_categories:
      - name: Customer PII
        sensitivity: critical
      - name: Internal docs
    network_zones:
      - name: Office
        description: Staff laptops and the contractor portal
        reaches: [POS network]
      - name: POS network
    fourth_parties:
      - name: AWS
        service: Hosting
    systems:
      - name: Identity provider
        kind: identity_provider
      - name: Wiki
        sign_in_via:
          - identity_provider: identity PROVIDER
            privilege: admin
      - name: CRM
        sign_in_via:
          - identity_provider: Identity provider
            mfa_enforced: true
      - name: Warehouse
        operated_by: snowflake
      - name: Build server
        runs_software:
          - vendor: AgentCo
            software: monitoring agent
          - vendor: AgentCo
            software: backup tool
            privilege: write
            automatic_updates: false
      - name: Contractor portal
        zones: [Office]
      - name: Payment terminals
        zones: [POS network]
        accepts_unauthenticated_from: [office]
    vendors:
      - name: Okta
      - name: Snowflake
        subprocessors:
          - fourth_party: aws
            purpose: hosting
            data:
              - category: Customer PII
                records: 500
              - Internal docs
          - vendor: Okta
            data: [Internal docs]
      - name: AgentCo
    """
)


def parsed(text: str = EDGES):
    result = inventory_file.parse(text, name="edges.yaml")
    assert result.ok, result.problems
    return result


def run_import(app, doc):
    with app.app_context():
        report = inventory_io.import_inventory(db.session, doc, actor=ACTOR)
        db.session.commit()
        return report


def export(app) -> dict:
    with app.app_context():
        return inventory_io.export_inventory(db.session)


def refused(app, doc) -> list[str]:
    with app.app_context():
        with pytest.raises(inventory_io.InventoryInvalid) as caught:
            inventory_io.import_inventory(db.session, doc, actor=ACTOR)
        db.session.rollback()
    return [str(problem) for problem in caught.value.problems]


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_every_new_construct_is_imported(app):
    report = run_import(app, parsed().document)
    assert report.sections["network_zones"].created == ("Office", "POS network")
    assert report.sections["fourth_parties"].created == ("AWS",)
    with app.app_context():
        ids = {row.name: row.id for row in db.session.scalars(sa.select(System))}
        vendors = {row.name: row.id for row in db.session.scalars(sa.select(Vendor))}
        zones = {row.name: row.id for row in db.session.scalars(sa.select(NetworkZone))}
        warehouse = db.session.get(System, ids["Warehouse"])
        assert warehouse.operator_vendor_id == vendors["Snowflake"]
        federations = {
            (f.identity_provider_id, f.system_id, f.privilege, f.mfa_enforced)
            for f in db.session.scalars(sa.select(Federation))
        }
        idp = ids["Identity provider"]
        assert federations == {
            (idp, ids["Wiki"], Privilege.admin, False),
            (idp, ids["CRM"], Privilege.read, True),
        }
        software = {
            (s.system_id, s.vendor_id, s.software, s.privilege, s.automatic_updates)
            for s in db.session.scalars(sa.select(SoftwareSupply))
        }
        build, agent = ids["Build server"], vendors["AgentCo"]
        assert software == {
            (build, agent, "monitoring agent", Privilege.admin, True),
            (build, agent, "backup tool", Privilege.write, False),
        }
        reach = db.session.execute(sa.select(ZoneReach.from_zone_id, ZoneReach.to_zone_id)).all()
        assert reach == [(zones["Office"], zones["POS network"])]
        open_zones = db.session.execute(
            sa.select(SystemOpenZone.system_id, SystemOpenZone.zone_id)
        ).all()
        assert open_zones == [(ids["Payment terminals"], zones["Office"])]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SystemZone)) == 2
        link = db.session.scalar(
            sa.select(SubprocessorLink).where(SubprocessorLink.fourth_party_id.is_not(None))
        )
        aws = db.session.scalar(sa.select(FourthParty.id))
        assert (link.vendor_id, link.fourth_party_id, link.subprocessor_id) == (
            vendors["Snowflake"],
            aws,
            None,
        )
        passed = db.session.execute(
            sa.select(SubprocessorData.records).where(SubprocessorData.link_id == link.id)
        ).scalars()
        assert sorted(passed, key=str) == [500, None]


def test_export_writes_every_construct_back_and_the_round_trip_is_identical(app):
    run_import(app, parsed().document)
    first = export(app)
    assert first["network_zones"] == [
        {
            "name": "Office",
            "description": "Staff laptops and the contractor portal",
            "reaches": ["POS network"],
        },
        {"name": "POS network", "description": "", "reaches": []},
    ]
    assert first["fourth_parties"] == [{"name": "AWS", "service": "Hosting"}]
    systems = {entry["name"]: entry for entry in first["systems"]}
    assert systems["Warehouse"]["operated_by"] == "Snowflake"
    assert systems["Wiki"]["sign_in_via"] == [
        {"identity_provider": "Identity provider", "privilege": "admin", "mfa_enforced": False}
    ]
    assert systems["Build server"]["runs_software"] == [
        {
            "vendor": "AgentCo",
            "software": "backup tool",
            "privilege": "write",
            "automatic_updates": False,
        },
        {
            "vendor": "AgentCo",
            "software": "monitoring agent",
            "privilege": "admin",
            "automatic_updates": True,
        },
    ]
    terminals = systems["Payment terminals"]
    assert (terminals["zones"], terminals["accepts_unauthenticated_from"]) == (
        ["POS network"],
        ["Office"],
    )
    snowflake = next(v for v in first["vendors"] if v["name"] == "Snowflake")
    assert snowflake["subprocessors"] == [
        {
            "fourth_party": "AWS",
            "purpose": "hosting",
            "data": [{"category": "Customer PII", "records": 500}, "Internal docs"],
        },
        {"vendor": "Okta", "purpose": "", "data": ["Internal docs"]},
    ]
    report = run_import(app, first)
    assert (report.created, report.updated) == (0, 0)
    assert export(app) == first
    # Through the file's text too: YAML written, parsed, imported.
    again = inventory_file.parse(inventory_file.dump(first), name="export.yaml")
    assert again.ok, again.problems
    assert run_import(app, again.document).updated == 0
    assert export(app) == first


def test_a_list_given_replaces_the_stored_one_and_a_field_left_out_keeps_it(app):
    run_import(app, parsed().document)
    change = parsed(
        textwrap.dedent(
            """\
            version: 1
            network_zones:
              - name: Office
                reaches: []
            systems:
              - name: Wiki
                sign_in_via: []
              - name: CRM
                sign_in_via:
                  - identity_provider: Identity provider
                    privilege: write
              - name: Warehouse
                operated_by: null
              - name: Build server
                runs_software:
                  - vendor: agentco
                    software: monitoring agent
                    automatic_updates: false
              - name: Payment terminals
                zones: []
            vendors:
              - name: Snowflake
                subprocessors:
                  - fourth_party: AWS
                    data:
                      - category: Customer PII
                        records: 700
            """
        )
    )
    report = run_import(app, change.document)
    assert report.sections["systems"].updated == (
        "Wiki",
        "CRM",
        "Warehouse",
        "Build server",
        "Payment terminals",
    )
    assert "fourth_parties" not in report.sections  # not in the file: not reported
    assert rows(app, ZoneReach) == 0 and rows(app, SystemZone) == 1
    assert rows(app, SystemOpenZone) == 1  # left out: kept
    systems = {entry["name"]: entry for entry in export(app)["systems"]}
    assert systems["Wiki"]["sign_in_via"] == []
    assert systems["CRM"]["sign_in_via"] == [
        {"identity_provider": "Identity provider", "privilege": "write", "mfa_enforced": False}
    ]
    assert systems["Warehouse"]["operated_by"] is None
    assert systems["Build server"]["runs_software"] == [
        {
            "vendor": "AgentCo",
            "software": "monitoring agent",
            "privilege": "admin",
            "automatic_updates": False,
        }
    ]
    snowflake = next(v for v in export(app)["vendors"] if v["name"] == "Snowflake")
    assert snowflake["subprocessors"] == [
        {
            "fourth_party": "AWS",
            "purpose": "",
            "data": [{"category": "Customer PII", "records": 700}],
        }
    ]
    assert rows(app, SubprocessorLink) == 1


BROKEN = textwrap.dedent(
    """\
    version: 1
    network_zones:
      - name: Office
        reaches: [office, Nowhere]
    systems:
      - name: Wiki
        zones: [Offce]
        accepts_unauthenticated_from: [Lab]
        operated_by: Nobody
        sign_in_via:
          - identity_provider: wiki
          - identity_provider: Okta SSO
        runs_software:
          - vendor: Ghost
            software: agent
          - vendor: Acme
            software: agent
          - vendor: ACME
            software: agent
            privilege: root
    vendors:
      - name: Acme
        subprocessors:
          - vendor: Acme
            fourth_party: AWS
          - purpose: nobody
          - fourth_party: Unknown party
            data:
              - category: Customer PII
                records: -5
    """
)


def test_every_problem_of_the_new_fields_is_reported_at_its_place_and_nothing_is_saved(app):
    doc = inventory_file.parse(BROKEN, name="broken.yaml", check=False)
    problems = refused(app, doc.document)
    expected = [
        "vendors[0].subprocessors[0]: has the fields vendor, fourth_party: give only one of them",
        "vendors[0].subprocessors[1]: needs one of the fields vendor, fourth_party",
        "systems[0].runs_software[2].privilege: expected one of read, write, admin, not 'root'",
        "network_zones[0].reaches[1]: unknown network zone 'Nowhere'",
        "network_zones[0].reaches[0]: a zone cannot reach itself",
        "systems[0].zones[0]: unknown network zone 'Offce'",
        "systems[0].accepts_unauthenticated_from[0]: unknown network zone 'Lab'",
        "systems[0].operated_by: unknown vendor 'Nobody'",
        "systems[0].sign_in_via[0].identity_provider: a system cannot sign in via itself",
        "systems[0].sign_in_via[1].identity_provider: unknown system 'Okta SSO'",
        "systems[0].runs_software[0].vendor: unknown vendor 'Ghost'",
        "systems[0].runs_software[2]: software 'agent' of 'ACME' listed twice",
        "vendors[0].subprocessors[0].vendor: a vendor cannot be its own subprocessor",
        "vendors[0].subprocessors[0].fourth_party: unknown fourth party 'AWS'",
        "vendors[0].subprocessors[2].fourth_party: unknown fourth party 'Unknown party'",
        "vendors[0].subprocessors[2].data[0].category: unknown data category 'Customer PII'",
    ]
    for message in expected:
        assert any(p.startswith(message) for p in problems), (message, problems)
    assert any(p.startswith("vendors[0].subprocessors[2].data[0].records:") for p in problems), (
        problems
    )
    assert rows(app, NetworkZone) == rows(app, System) == rows(app, Vendor) == 0


def test_problems_carry_the_line_of_the_file(app):
    doc = inventory_file.parse(BROKEN, name="broken.yaml", check=False)
    with app.app_context(), pytest.raises(inventory_io.InventoryInvalid) as caught:
        inventory_io.import_inventory(db.session, doc.document, actor=ACTOR)
    lines = BROKEN.splitlines()
    for problem in caught.value.problems:
        line = doc.line_of(problem.path)
        assert line is not None, problem
        assert 1 <= line <= len(lines)
    at = {str(p).split(":")[0]: doc.line_of(p.path) for p in caught.value.problems}
    assert at["systems[0].zones[0]"] == line_of("zones: [Offce]")
    assert at["systems[0].sign_in_via[0].identity_provider"] == line_of(": wiki")
    assert at["vendors[0].subprocessors[2].data[0].records"] == line_of("records: -5")


def line_of(fragment: str) -> int:
    [line] = [n for n, text in enumerate(BROKEN.splitlines(), start=1) if fragment in text]
    return line


def test_the_documented_example_of_the_edges_imports_and_round_trips(app):
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "inventory-format.md").read_text()
    section = text.split("## The blast-radius edges")[1]
    example = section.split("```yaml\n")[1].split("```")[0]
    report = run_import(app, parsed(example).document)
    assert report.created == 2 + 2 + 1 + 7 + 3 + 2
    first = export(app)
    assert run_import(app, first).updated == 0
    assert export(app) == first
    # The documented problems are those of BROKEN above, word for word.
    documented = section.split("```text\n")[1].split("```")[0].splitlines()
    doc = inventory_file.parse(BROKEN, name="edges.yaml", check=False)
    with app.app_context(), pytest.raises(inventory_io.InventoryInvalid) as caught:
        inventory_io.import_inventory(db.session, doc.document, actor=ACTOR)
    located = {f"edges.yaml:{doc.line_of(p.path)}: {p}" for p in caught.value.problems}
    for line in documented:
        assert line in located, (line, sorted(located))
