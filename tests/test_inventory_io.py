"""Bulk import and export of the inventory: the file format, the all-or-nothing import with
located problems, the round trip, the CLI, and CSV lists of vendors."""

from __future__ import annotations

import json
import re
import stat
import textwrap
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from vendor_risk import models
from vendor_risk.core import inventory_file
from vendor_risk.db import db
from vendor_risk.models import (
    AuditEvent,
    Credential,
    CredentialCopy,
    DataCategory,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
)
from vendor_risk.services import ValidationFailed
from vendor_risk.services.audit import Actor
from vendor_risk.services.inventory import bulk as inventory_io

ACTOR = Actor.system("test")
DOCS = Path(__file__).resolve().parent.parent / "docs"
INVENTORY_TABLES = (
    SubprocessorData,
    SubprocessorLink,
    CredentialCopy,
    Credential,
    VendorData,
    SystemData,
    Vendor,
    System,
    DataCategory,
)

# A valid inventory touching every kind of entry and list.
INVENTORY = textwrap.dedent(
    """\
    version: 1
    data_categories:
      - name: Customer PII
        sensitivity: high
        description: Names and email addresses
      - name: Source code
        sensitivity: critical
    systems:
      - name: Bitbucket
        kind: source_control
        owner: platform@example.com
        mfa_required: true
        data:
          - category: Source code
            records: 1200
      - name: Support portal
        kind: support
        environment: corporate
    vendors:
      - name: Okta
        legal_name: Okta, Inc.
        website: https://www.okta.com
        email_domains: [okta.com, Jane.Doe@Partner.example]
        services: Single sign-on
        status: active
        criticality: critical
        substitutability: hard
        business_owner: it@example.com
        contract_start: 2022-01-01
        contract_end: 2025-12-31
        next_review: 2024-06-30
        notes: |
          Support cases may carry HAR files.
          Sanitise them.
        data:
          - category: Customer PII
            records: 50000
        subprocessors:
          - vendor: AWS
            purpose: hosting
            data: [Customer PII]
      - name: AWS
        status: active
    credentials:
      - name: svc-bitbucket
        kind: service_account
        holder: Okta
        opens: Bitbucket
        privilege: admin
        issued_at: 2023-01-15T09:00:00Z
        last_rotated_at: 2023-07-01T10:00:00+02:00
        rotation_period_days: 90
        owner: platform@example.com
        stored_in: [Support portal]
      - name: jira-admin
        kind: user_account
        opens: Support portal
        interactive: true
        mfa_enforced: true
    """
)


def document() -> dict:
    return inventory_file.parse(INVENTORY, name="inventory.yaml").document


def run_import(app, doc, **options) -> inventory_io.ImportReport:
    with app.app_context():
        report = inventory_io.import_inventory(db.session, doc, actor=ACTOR, **options)
        db.session.commit()
        return report


def export(app) -> dict:
    with app.app_context():
        return inventory_io.export_inventory(db.session)


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (*INVENTORY_TABLES, AuditEvent)
        }


def nothing_stored(app) -> bool:
    return not any(row_counts(app).values())


def refused(app, doc) -> list[str]:
    """The problems of a refused import, as ``path: message``."""
    with app.app_context():
        with pytest.raises(inventory_io.InventoryInvalid) as caught:
            inventory_io.import_inventory(db.session, doc, actor=ACTOR)
        db.session.rollback()
    assert isinstance(caught.value, ValidationFailed)
    return [str(problem) for problem in caught.value.problems]


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the only line of ``text`` containing ``fragment``."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]


# ---- the format -------------------------------------------------------------------------------


def test_the_schema_is_valid_and_its_choices_are_the_models():
    schema = inventory_file.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    defs = schema["$defs"]
    choices = [
        ("data_category", "sensitivity", models.Sensitivity),
        ("system", "kind", models.SystemKind),
        ("system", "environment", models.Environment),
        ("vendor", "status", models.VendorStatus),
        ("vendor", "criticality", models.Criticality),
        ("vendor", "substitutability", models.Substitutability),
        ("credential", "kind", models.CredentialKind),
        ("credential", "privilege", models.Privilege),
        ("credential", "status", models.CredentialStatus),
    ]
    for entry, name, enum in choices:
        assert defs[entry]["properties"][name]["enum"] == [m.value for m in enum], name


def test_the_schema_covers_every_column_of_the_models():
    defs = inventory_file.schema()["$defs"]
    # version: the database's own; declared_risk: written by a submitted intake; name_key:
    # the name as compared, derived from it
    not_in_file = {"id", "created_at", "updated_at", "version", "declared_risk", "name_key"}
    renamed = {
        "holder_vendor_id": "holder",
        "system_id": "opens",
        "operator_vendor_id": "operated_by",
    }
    for entry, model in [
        ("data_category", DataCategory),
        ("system", System),
        ("vendor", Vendor),
        ("credential", Credential),
    ]:
        columns = {renamed.get(c.key, c.key) for c in model.__table__.columns} - not_in_file
        assert columns <= set(defs[entry]["properties"]), entry


def test_the_documented_example_imports_and_round_trips(app):
    text = (DOCS / "inventory-format.md").read_text()
    example = text.split("## A complete example")[1].split("```yaml\n")[1].split("```")[0]
    parsed = inventory_file.parse(example, name="example.yaml")
    assert parsed.ok, parsed.problems
    report = run_import(app, parsed.document)
    assert (report.created, report.updated) == (7, 0)
    first = export(app)
    assert run_import(app, first).updated == 0
    assert export(app) == first


def test_yaml_and_json_give_the_same_document():
    from_yaml = document()
    as_json = json.dumps(from_yaml, indent="\t")
    from_json = inventory_file.parse(as_json, name="inventory.json")
    assert from_json.ok and from_json.document == from_yaml
    # Dates stay text in YAML, as they are in JSON.
    assert from_yaml["vendors"][0]["contract_start"] == "2022-01-01"


def test_yaml_lines_are_those_of_the_file():
    parsed = inventory_file.parse(INVENTORY, name="inventory.yaml")
    assert parsed.line_of(("vendors", 0)) == line_of(INVENTORY, "- name: Okta")
    assert parsed.line_of(("vendors", 0, "criticality")) == line_of(INVENTORY, "criticality:")
    assert parsed.line_of(("credentials", 0, "stored_in", 0)) == line_of(INVENTORY, "stored_in")
    # A missing field is placed at the entry that lacks it.
    assert parsed.line_of(("vendors", 1, "notes")) == line_of(INVENTORY, "name: AWS")


def test_json_lines_are_found_too():
    text = json.dumps({"version": 1, "vendors": [{"name": "Okta", "criticality": "hgh"}]}, indent=2)
    parsed = inventory_file.parse(text, name="inventory.json")
    assert [str(p) for p in parsed.problems] == [
        f"inventory.json:{line_of(text, 'hgh')}: vendors[0].criticality: "
        "expected one of low, medium, high, critical, not 'hgh'"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nvendors:\n  - name: [Okta\n",
            "inventory.yaml:4: (top level): not valid YAML",
        ),
        ("", "inventory.yaml: (top level): the file is empty"),
        (
            "version: 1\nvendors:\n  - name: Okta\n    name: Okta2\n",
            "inventory.yaml:4: vendors[0].name: given twice in this entry (first on line 3)",
        ),
        (
            "version: 1\nx: &a [1, 2]\nvendors:\n  - name: Okta\n    notes: *a\n",
            "inventory.yaml:5: vendors[0].notes: aliases (*name) are not supported",
        ),
    ],
)
def test_unreadable_files_are_refused_with_their_line(text, expected):
    parsed = inventory_file.parse(text, name="inventory.yaml")
    assert parsed.document is None
    assert str(parsed.problems[0]).startswith(expected)


def test_invalid_json_names_its_line():
    parsed = inventory_file.parse('{"version": 1,\n "vendors": [}\n', name="x.json")
    assert parsed.document is None
    assert str(parsed.problems[0]).startswith("x.json:2: (top level): not valid JSON")


# ---- all or nothing: every kind of problem, located ------------------------------------------


def _set(doc, path, value):
    *parents, last = path
    target = doc
    for part in parents:
        target = target[part]
    target[last] = value


def _drop(doc, path):
    *parents, last = path
    target = doc
    for part in parents:
        target = target[part]
    del target[last]


SECRET = "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"

ONE_PROBLEM = {
    "unknown field": (
        lambda d: _set(d, ("vendors", 0, "colour"), "blue"),
        "vendors[0].colour: unknown field 'colour'",
    ),
    "missing field": (
        lambda d: _drop(d, ("credentials", 0, "kind")),
        "credentials[0].kind: required, but missing",
    ),
    "wrong type": (
        lambda d: _set(d, ("systems", 0, "mfa_required"), "yes please"),
        "systems[0].mfa_required: expected true or false, not 'yes please'",
    ),
    "bad choice": (
        lambda d: _set(d, ("credentials", 0, "privilege"), "superuser"),
        "credentials[0].privilege: expected one of read, write, admin, not 'superuser'",
    ),
    "bad date": (
        lambda d: _set(d, ("vendors", 0, "contract_start"), "2024-02-30"),
        "vendors[0].contract_start: expected a date like 2024-03-31, not '2024-02-30'",
    ),
    "timestamp without a zone": (
        lambda d: _set(d, ("credentials", 0, "issued_at"), "2023-01-15T09:00:00"),
        "credentials[0].issued_at: expected a date and time with its zone",
    ),
    "contract ends before it starts": (
        lambda d: _set(d, ("vendors", 0, "contract_end"), "2021-12-31"),
        "vendors[0].contract_end: is before the contract start (2022-01-01)",
    ),
    "not an email domain": (
        lambda d: _set(d, ("vendors", 0, "email_domains"), ["okta.com", "https://okta.com"]),
        "vendors[0].email_domains[1]: expected a domain (vendor.example) or an address "
        "(name@vendor.example), not 'https://okta.com'",
    ),
    "unknown system": (
        lambda d: _set(d, ("credentials", 0, "opens"), "Bitbuckt"),
        "credentials[0].opens: unknown system 'Bitbuckt' (neither in this file's systems nor "
        "already stored); did you mean 'Bitbucket'?",
    ),
    "unknown holder": (
        lambda d: _set(d, ("credentials", 0, "holder"), "Oktaa"),
        "credentials[0].holder: unknown vendor 'Oktaa'",
    ),
    "unknown category": (
        lambda d: _set(d, ("vendors", 0, "data", 0, "category"), "PII"),
        "vendors[0].data[0].category: unknown data category 'PII'",
    ),
    "unknown subprocessor": (
        lambda d: _set(d, ("vendors", 0, "subprocessors", 0, "vendor"), "Azure"),
        "vendors[0].subprocessors[0].vendor: unknown vendor 'Azure'",
    ),
    "own subprocessor": (
        lambda d: _set(d, ("vendors", 0, "subprocessors", 0, "vendor"), "Okta"),
        "vendors[0].subprocessors[0].vendor: a vendor cannot be its own subprocessor",
    ),
    "name with spaces around": (
        lambda d: d["systems"].append({"name": "Wiki "}),
        "systems[2].name: has spaces at its start or end",
    ),
    "secret in a note": (
        lambda d: _set(d, ("vendors", 0, "notes"), SECRET),
        "vendors[0].notes: This looks like a secret (GitHub Token)",
    ),
    "secret in a purpose": (
        lambda d: _set(d, ("vendors", 0, "subprocessors", 0, "purpose"), "AKIAIOSFODNN7EXAMPLE"),
        "vendors[0].subprocessors[0].purpose: This looks like a secret",
    ),
    "secret in a name": (
        lambda d: d["data_categories"].append({"name": "-----BEGIN RSA PRIVATE KEY-----"}),
        "data_categories[2].name: This looks like a secret",
    ),
    "negative record count": (
        lambda d: _set(d, ("systems", 0, "data", 0, "records"), -5),
        "systems[0].data[0].records: must be 0 or more, not -5",
    ),
    "fractional rotation period": (
        lambda d: _set(d, ("credentials", 0, "rotation_period_days"), 1.5),
        "credentials[0].rotation_period_days: expected a whole number or nothing (null), not 1.5",
    ),
    "wrong version": (
        lambda d: _set(d, ("version",), 2),
        "version: expected 1",
    ),
}


@pytest.mark.parametrize("case", ONE_PROBLEM, ids=list(ONE_PROBLEM))
def test_one_problem_imports_nothing_and_says_where(app, case):
    break_it, expected = ONE_PROBLEM[case]
    doc = document()
    break_it(doc)
    problems = refused(app, doc)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
    assert nothing_stored(app)


def test_a_reference_may_name_an_entry_already_stored(app):
    run_import(app, document())
    more = {
        "version": 1,
        "credentials": [
            {"name": "okta-wiki", "kind": "api_token", "holder": "Okta", "opens": "Bitbucket"}
        ],
    }
    report = run_import(app, more)
    assert report.sections["credentials"].created == ("okta-wiki",)


BROKEN = textwrap.dedent(
    """\
    version: 1
    data_categories:
      - name: Customer PII
    systems:
      - name: Bitbucket
        kind: source-control
        data:
          - category: Customer PII
            records: -1
    vendors:
      - name: Okta
        criticality: hgh
        contract_start: 2024-13-01
        notes: "the key is AKIAIOSFODNN7EXAMPLE"
        colour: blue
      - name: OKTA  # again
    credentials:
      - name: svc-bitbucket
        kind: service_account
        holder: Okta
        opens: Bitbuckt
        privilege: superuser
    """
)


def invoke(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=["inventory", *args], **kwargs)


def test_cli_reports_every_problem_with_file_and_line_and_imports_nothing(app, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    result = invoke(app, "import", str(path))
    assert result.exit_code == 1
    at = f"{path}:"
    assert result.output.splitlines() == [
        f"{at}{line_of(BROKEN, 'source-control')}: systems[0].kind: expected one of "
        "identity_provider, wiki, ticketing, source_control, ci_cd, cloud_account, database, "
        "data_warehouse, crm, email, chat, file_storage, hr, finance, monitoring, "
        "endpoint_management, support, other, "
        "not 'source-control'",
        f"{at}{line_of(BROKEN, 'records: -1')}: systems[0].data[0].records: "
        "must be 0 or more, not -1",
        f"{at}{line_of(BROKEN, '- name: Okta')}: vendors[0].name: duplicate vendor name 'Okta' "
        "(also vendors[1] as 'OKTA'; names are compared whatever their case)",
        f"{at}{line_of(BROKEN, 'hgh')}: vendors[0].criticality: expected one of low, medium, "
        "high, critical, not 'hgh'",
        f"{at}{line_of(BROKEN, '2024-13-01')}: vendors[0].contract_start: expected a date like "
        "2024-03-31, not '2024-13-01'",
        f"{at}{line_of(BROKEN, 'AKIA')}: vendors[0].notes: This looks like a secret (AWS Access "
        "Key). vendor-risk records where credentials are and who holds them, never their "
        "values: remove it.",
        f"{at}{line_of(BROKEN, 'colour')}: vendors[0].colour: unknown field 'colour': expected "
        "one of name, legal_name, website, email_domains, services, status, criticality, "
        "substitutability, business_owner, contract_start, contract_end, next_review, notes, "
        "data, subprocessors",
        f"{at}{line_of(BROKEN, '# again')}: vendors[1].name: duplicate vendor name "
        "'OKTA' (also vendors[0] as 'Okta'; names are compared whatever their case)",
        f"{at}{line_of(BROKEN, 'Bitbuckt')}: credentials[0].opens: unknown system 'Bitbuckt' "
        "(neither in this file's systems nor already stored); did you mean 'Bitbucket'?",
        f"{at}{line_of(BROKEN, 'superuser')}: credentials[0].privilege: expected one of read, "
        "write, admin, not 'superuser'",
        "10 problems: nothing was imported.",
    ]
    assert nothing_stored(app)


def test_cli_places_problems_in_a_json_file_too(app, tmp_path):
    doc = document()
    doc["credentials"][0]["opens"] = "Bitbuckt"
    text = json.dumps(doc, indent=2)
    path = tmp_path / "inventory.json"
    path.write_text(text)
    result = invoke(app, "import", str(path))
    assert result.exit_code == 1
    assert result.output.startswith(
        f"{path}:{line_of(text, 'Bitbuckt')}: credentials[0].opens: unknown system 'Bitbuckt'"
    )


def test_cli_refuses_an_unreadable_file(app, tmp_path):
    result = invoke(app, "import", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 1
    assert "missing.yaml: (top level): cannot read: No such file or directory" in result.output
    (tmp_path / "latin1.yaml").write_bytes("version: 1\nnotes: caf\xe9\n".encode("latin-1"))
    result = invoke(app, "import", str(tmp_path / "latin1.yaml"))
    assert result.exit_code == 1
    assert "latin1.yaml:2: (top level): not UTF-8 text" in result.output
    assert nothing_stored(app)


# ---- importing -------------------------------------------------------------------------------


def test_import_creates_everything_the_file_describes(app):
    report = run_import(app, document())
    assert {s: (len(r.created), len(r.updated)) for s, r in report.sections.items()} == {
        "data_categories": (2, 0),
        "systems": (2, 0),
        "vendors": (2, 0),
        "credentials": (2, 0),
    }
    with app.app_context():
        okta = db.session.scalar(sa.select(Vendor).where(Vendor.name == "Okta"))
        assert okta.criticality == models.Criticality.critical
        assert okta.contract_end.isoformat() == "2025-12-31"
        assert okta.email_domains == ["okta.com", "jane.doe@partner.example"]  # lower case
        assert okta.notes == "Support cases may carry HAR files.\nSanitise them.\n"
        svc = db.session.scalar(sa.select(Credential).where(Credential.name == "svc-bitbucket"))
        assert svc.holder_vendor_id == okta.id
        # An offset is converted to UTC.
        assert svc.last_rotated_at.isoformat() == "2023-07-01T08:00:00+00:00"
        jira = db.session.scalar(sa.select(Credential).where(Credential.name == "jira-admin"))
        assert jira.holder_vendor_id is None and jira.interactive and jira.mfa_enforced
    counts = row_counts(app)
    assert counts["vendor_data"] == counts["system_data"] == counts["credential_copy"] == 1
    assert counts["subprocessor_link"] == counts["subprocessor_data"] == 1


def test_a_dry_run_imports_nothing_but_reports_what_it_would_do(app):
    report = run_import(app, document(), dry_run=True)
    assert report.dry_run and report.created == 8
    assert nothing_stored(app)


def test_reimporting_the_same_file_changes_nothing(app):
    run_import(app, document())
    with app.app_context():
        before = {v.name: v.updated_at for v in db.session.scalars(sa.select(Vendor)).all()}
    report = run_import(app, document())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 8)
    with app.app_context():
        after = {v.name: v.updated_at for v in db.session.scalars(sa.select(Vendor)).all()}
    assert after == before


def test_the_audit_event_has_the_counts(app):
    run_import(app, document(), source="inventory.yaml")
    run_import(app, document(), dry_run=True)  # writes nothing, the audit trail included
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent)).one()
        assert event.action == "inventory.imported"
        assert event.actor == "test" and event.object_type == "inventory"
        assert event.details == {
            "source": "inventory.yaml",
            "created": {"data_categories": 2, "systems": 2, "vendors": 2, "access_grants": 2},
            "updated": {"data_categories": 0, "systems": 0, "vendors": 0, "access_grants": 0},
            "unchanged": {"data_categories": 0, "systems": 0, "vendors": 0, "access_grants": 0},
        }


def test_an_update_changes_only_what_changed(app):
    run_import(app, document())
    with app.app_context():
        before = {v.name: v.updated_at for v in db.session.scalars(sa.select(Vendor)).all()}
    doc = document()
    doc["vendors"][0]["criticality"] = "high"
    doc["credentials"][0]["stored_in"] = ["Bitbucket"]
    report = run_import(app, doc)
    assert report.sections["vendors"].updated == ("Okta",)
    assert report.sections["credentials"].updated == ("svc-bitbucket",)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 6)
    with app.app_context():
        vendors = {v.name: v for v in db.session.scalars(sa.select(Vendor)).all()}
        assert vendors["Okta"].criticality == models.Criticality.high
        assert vendors["Okta"].updated_at > before["Okta"]
        assert vendors["AWS"].updated_at == before["AWS"]
        copies = db.session.execute(
            sa.select(Credential.name, System.name)
            .join(CredentialCopy, CredentialCopy.credential_id == Credential.id)
            .join(System, System.id == CredentialCopy.system_id)
        ).all()
        assert [tuple(c) for c in copies] == [("svc-bitbucket", "Bitbucket")]


def test_a_field_left_out_keeps_its_value_and_a_list_given_replaces(app):
    run_import(app, document())
    report = run_import(
        app,
        {
            "version": 1,
            "vendors": [
                {"name": "Okta", "notes": None, "data": [], "subprocessors": []},
                {"name": "AWS"},
            ],
            "systems": [{"name": "Bitbucket", "data": [{"category": "Customer PII"}]}],
        },
    )
    assert report.sections["vendors"].updated == ("Okta",)
    assert report.sections["systems"].updated == ("Bitbucket",)
    exported = export(app)
    okta = exported["vendors"][1]
    assert okta["name"] == "Okta" and okta["criticality"] == "critical"  # kept
    assert (okta["notes"], okta["data"], okta["subprocessors"]) == ("", [], [])  # replaced
    assert exported["systems"][0]["data"] == [{"category": "Customer PII", "records": None}]
    counts = row_counts(app)
    assert counts["vendor_data"] == counts["subprocessor_link"] == 0
    assert counts["subprocessor_data"] == 0  # went with its link


def test_subprocessor_data_and_purpose_are_updated_in_place(app):
    run_import(app, document())
    doc = document()
    doc["vendors"][0]["subprocessors"][0] |= {"purpose": "backups", "data": ["Source code"]}
    assert run_import(app, doc).sections["vendors"].updated == ("Okta",)
    link = export(app)["vendors"][1]["subprocessors"]
    assert link == [{"vendor": "AWS", "purpose": "backups", "data": ["Source code"]}]


# ---- names, whatever their case (vendor_risk.names) ----------------------------------------


def _with_every_name_twice(doc: dict) -> None:
    """Each section and each list of names given one of its names again, in another case."""
    doc["data_categories"].append({"name": "SOURCE CODE"})
    doc["systems"].append({"name": "support PORTAL"})
    doc["vendors"].append({"name": "aws"})
    doc["credentials"].append({"name": "SVC-Bitbucket", "kind": "api_token", "opens": "Bitbucket"})
    doc["credentials"][0]["stored_in"] = ["Support portal", "SUPPORT portal"]
    doc["systems"][0]["data"].append({"category": "source code", "records": 3})
    okta = doc["vendors"][0]
    okta["subprocessors"].append({"vendor": "Aws"})
    okta["subprocessors"][0]["data"] = ["Customer PII", "customer pii"]


TWICE = [
    "data_categories[1].name: duplicate data category name 'Source code' "
    "(also data_categories[2] as 'SOURCE CODE'; names are compared whatever their case)",
    "data_categories[2].name: duplicate data category name 'SOURCE CODE' "
    "(also data_categories[1] as 'Source code'; names are compared whatever their case)",
    "systems[0].data[0].category: 'Source code' listed twice (also systems[0].data[1].category "
    "as 'source code'; names are compared whatever their case)",
    "systems[0].data[1].category: 'source code' listed twice (also systems[0].data[0].category "
    "as 'Source code'; names are compared whatever their case)",
    "systems[1].name: duplicate system name 'Support portal' "
    "(also systems[2] as 'support PORTAL'; names are compared whatever their case)",
    "systems[2].name: duplicate system name 'support PORTAL' "
    "(also systems[1] as 'Support portal'; names are compared whatever their case)",
    "vendors[0].subprocessors[0].data[0]: 'Customer PII' listed twice "
    "(also vendors[0].subprocessors[0].data[1] as 'customer pii'; names are compared "
    "whatever their case)",
    "vendors[0].subprocessors[0].data[1]: 'customer pii' listed twice "
    "(also vendors[0].subprocessors[0].data[0] as 'Customer PII'; names are compared "
    "whatever their case)",
    "vendors[0].subprocessors[0].vendor: 'AWS' listed twice (also "
    "vendors[0].subprocessors[1].vendor as 'Aws'; names are compared whatever their case)",
    "vendors[0].subprocessors[1].vendor: 'Aws' listed twice (also "
    "vendors[0].subprocessors[0].vendor as 'AWS'; names are compared whatever their case)",
    "vendors[1].name: duplicate vendor name 'AWS' "
    "(also vendors[2] as 'aws'; names are compared whatever their case)",
    "vendors[2].name: duplicate vendor name 'aws' "
    "(also vendors[1] as 'AWS'; names are compared whatever their case)",
    "credentials[0].name: duplicate credential name 'svc-bitbucket' "
    "(also credentials[2] as 'SVC-Bitbucket'; names are compared whatever their case)",
    "credentials[0].stored_in[0]: 'Support portal' listed twice "
    "(also credentials[0].stored_in[1] as 'SUPPORT portal'; names are compared whatever "
    "their case)",
    "credentials[0].stored_in[1]: 'SUPPORT portal' listed twice "
    "(also credentials[0].stored_in[0] as 'Support portal'; names are compared whatever "
    "their case)",
    "credentials[2].name: duplicate credential name 'SVC-Bitbucket' "
    "(also credentials[0] as 'svc-bitbucket'; names are compared whatever their case)",
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry run"])
def test_a_name_given_twice_in_any_case_is_refused_at_both_places(app, dry_run):
    doc = document()
    _with_every_name_twice(doc)
    with app.app_context():
        with pytest.raises(inventory_io.InventoryInvalid) as caught:
            inventory_io.import_inventory(db.session, doc, actor=ACTOR, dry_run=dry_run)
        db.session.rollback()
    assert sorted(str(p) for p in caught.value.problems) == sorted(TWICE)
    assert nothing_stored(app)


def test_a_name_given_three_times_names_the_two_others_at_each(app):
    doc = document()
    doc["vendors"] += [{"name": "okta"}, {"name": "Okta"}]
    assert refused(app, doc) == [
        "vendors[0].name: duplicate vendor name 'Okta' (also vendors[2] as 'okta', vendors[3]; "
        "names are compared whatever their case)",
        "vendors[2].name: duplicate vendor name 'okta' (also vendors[0] as 'Okta', vendors[3] "
        "as 'Okta'; names are compared whatever their case)",
        "vendors[3].name: duplicate vendor name 'Okta' (also vendors[0], vendors[2] as 'okta'; "
        "names are compared whatever their case)",
    ]


def test_cli_dry_run_reports_both_lines_of_a_name_given_twice(app, tmp_path):
    # The file: a dry run said "2 created", then the import failed every time.
    text = "version: 1\nvendors:\n  - name: Okta\n  - name: okta\n"
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    for options in (["--dry-run"], []):
        result = invoke(app, "import", str(path), *options)
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            f"{path}:3: vendors[0].name: duplicate vendor name 'Okta' (also vendors[1] as "
            "'okta'; names are compared whatever their case)",
            f"{path}:4: vendors[1].name: duplicate vendor name 'okta' (also vendors[0] as "
            "'Okta'; names are compared whatever their case)",
            "2 problems: nothing was imported.",
        ]
    assert nothing_stored(app)


def test_an_entry_updates_the_stored_one_of_its_name_in_any_case_which_keeps_its_spelling(
    app, tmp_path
):
    run_import(app, document())
    path = tmp_path / "lower.yaml"
    path.write_text("version: 1\nvendors:\n  - name: okta\n    criticality: low\n")
    result = invoke(app, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "  vendors: 0 created, 1 updated (Okta), 0 unchanged" in result.output
    again = invoke(app, "import", str(path))
    assert "  vendors: 0 created, 0 updated, 1 unchanged" in again.output
    vendors = export(app)["vendors"]
    assert [(v["name"], v["criticality"]) for v in vendors] == [("AWS", "medium"), ("Okta", "low")]


def test_references_resolve_whatever_their_case_and_reimporting_changes_nothing(app):
    run_import(app, document())
    stored = export(app)
    shouting = document()
    for section in ("data_categories", "systems", "vendors", "credentials"):
        for entry in shouting[section]:
            entry["name"] = entry["name"].upper()
    okta = shouting["vendors"][0]
    okta["data"][0]["category"] = "customer pii"
    okta["subprocessors"][0] |= {"vendor": "aws", "data": ["CUSTOMER pii"]}
    shouting["systems"][0]["data"][0]["category"] = "SOURCE CODE"
    svc = shouting["credentials"][0]
    svc |= {"holder": "OKTA", "opens": "bitbucket", "stored_in": ["support PORTAL"]}
    shouting["credentials"][1]["opens"] = "SUPPORT PORTAL"

    report = run_import(app, shouting)
    assert (report.created, report.updated) == (0, 0)
    assert export(app) == stored  # the stored spellings, every link as it was


def test_a_file_may_refer_to_its_own_entries_in_another_case(app):
    doc = {
        "version": 1,
        "data_categories": [{"name": "Customer PII"}],
        "systems": [{"name": "Bitbucket", "data": [{"category": "CUSTOMER PII"}]}],
        "vendors": [
            {"name": "Okta", "subprocessors": [{"vendor": "aws", "data": ["customer pii"]}]},
            {"name": "AWS"},
        ],
        "credentials": [
            {"name": "t", "kind": "api_token", "holder": "OKTA", "opens": "bitbucket"},
        ],
    }
    run_import(app, doc)
    exported = export(app)
    assert exported["systems"][0]["data"] == [{"category": "Customer PII", "records": None}]
    assert exported["vendors"][1]["subprocessors"][0]["vendor"] == "AWS"
    credential = exported["credentials"][0]
    assert (credential["holder"], credential["opens"]) == ("Okta", "Bitbucket")


def test_a_vendor_is_not_its_own_subprocessor_in_another_case(app):
    doc = document()
    doc["vendors"][0]["subprocessors"][0]["vendor"] = "OKTA"
    assert refused(app, doc) == [
        "vendors[0].subprocessors[0].vendor: a vendor cannot be its own subprocessor"
    ]


def test_names_beyond_ascii_are_compared_by_the_same_rule_on_every_database(app):
    # SQLite's lower() leaves É alone and PostgreSQL's lowers it: the rule is names.name_key
    # on both, in the checks and in the unique constraint.
    run_import(app, {"version": 1, "vendors": [{"name": "Émile Conseil"}, {"name": "Straße"}]})
    decomposed = "E\u0301MILE CONSEIL"  # É written as E and a combining accent
    report = run_import(
        app,
        {
            "version": 1,
            "vendors": [{"name": decomposed, "notes": "x"}, {"name": "STRASSE", "notes": "y"}],
        },
    )
    assert report.sections["vendors"].updated == ("Émile Conseil", "Straße")
    assert [v["name"] for v in export(app)["vendors"]] == ["Straße", "Émile Conseil"]
    doc = {"version": 1, "vendors": [{"name": "émile conseil"}, {"name": "ÉMILE CONSEIL"}]}
    assert [p.split(":")[0] for p in refused(app, doc)] == ["vendors[0].name", "vendors[1].name"]
    # Turkish dotted İ is not I: two names.
    run_import(app, {"version": 1, "vendors": [{"name": "İnci"}, {"name": "Inci"}]})
    assert len(export(app)["vendors"]) == 4


def test_csv_rows_match_stored_vendors_whatever_their_case(app):
    import_csv(app, GOOD_CSV)
    report = import_csv(app, "name,criticality\nOKTA,low\nslack,low\n")
    assert report.sections["vendors"].updated == ("Okta",)
    assert report.sections["vendors"].unchanged == 1
    assert sorted(v["name"] for v in export(app)["vendors"]) == ["AWS", "Okta", "Slack"]


# ---- export and the round trip -------------------------------------------------------------


def _empty_the_inventory(app) -> None:
    with app.app_context():
        for model in INVENTORY_TABLES:
            db.session.execute(sa.delete(model))
        db.session.commit()


def test_export_import_export_is_identical(app):
    run_import(app, document())
    first = inventory_file.dump(export(app))
    again = inventory_file.parse(first, name="export.yaml")
    assert again.ok, again.problems
    report = run_import(app, again.document)
    assert (report.created, report.updated) == (0, 0)
    assert inventory_file.dump(export(app)) == first
    # Into an empty inventory: the same file comes back out.
    _empty_the_inventory(app)
    assert run_import(app, again.document).created == 8
    assert inventory_file.dump(export(app)) == first


def test_export_is_sorted_and_complete(app):
    run_import(app, document())
    exported = export(app)
    assert [v["name"] for v in exported["vendors"]] == ["AWS", "Okta"]
    assert list(exported["credentials"][1]) == [
        "name",
        "kind",
        "holder",
        "opens",
        "privilege",
        "interactive",
        "mfa_enforced",
        "phishing_resistant_mfa",
        "ip_restricted",
        "issued_at",
        "last_rotated_at",
        "expires_at",
        "last_used_at",
        "rotation_period_days",
        "owner",
        "status",
        "notes",
        "stored_in",
    ]
    assert exported["credentials"][1]["last_rotated_at"] == "2023-07-01T08:00:00Z"
    assert not inventory_file.schema_problems(exported)


def test_import_and_export_cost_a_few_statements_whatever_the_size(app):
    def statements(size: int) -> tuple[int, int]:
        _empty_the_inventory(app)
        doc = document()
        doc["vendors"] += [
            {"name": f"Vendor {n}", "data": [{"category": "Customer PII", "records": n}]}
            for n in range(size)
        ]
        doc["credentials"] += [
            {
                "name": f"token {n}",
                "kind": "api_token",
                "holder": f"Vendor {n}",
                "opens": "Bitbucket",
                "stored_in": ["Support portal"],
            }
            for n in range(size)
        ]
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            seen.append(statement)

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                inventory_io.import_inventory(db.session, doc, actor=ACTOR)
                db.session.commit()
                imported = len(seen)
                inventory_io.export_inventory(db.session)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
        return imported, len(seen) - imported

    assert statements(3) == statements(60)


def test_cli_export_writes_yaml_to_stdout_and_json_to_a_private_file(app, tmp_path):
    run_import(app, document())
    result = invoke(app, "export")
    assert result.exit_code == 0
    assert result.output == inventory_file.dump(export(app))
    assert result.output.startswith("version: 1\ndata_categories:\n  - name: Customer PII\n")
    path = tmp_path / "inventory.json"
    result = invoke(app, "export", "-o", str(path))
    assert result.exit_code == 0 and "Exported the inventory" in result.output
    assert json.loads(path.read_text()) == export(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    result = invoke(app, "export", "--format", "json")
    assert json.loads(result.output) == export(app)
    with app.app_context():
        exports = db.session.query(AuditEvent).filter_by(action="inventory.exported").all()
    assert [e.details["format"] for e in exports] == ["yaml", "json", "json"]


def test_cli_import_prints_a_summary_and_dry_run_saves_nothing(app, tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    result = invoke(app, "import", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Dry run of {path}: nothing was saved.")
    assert "vendors: 2 created (Okta, AWS), 0 updated, 0 unchanged" in result.output
    assert nothing_stored(app)
    result = invoke(app, "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Imported {path}:",
        "  data categories: 2 created (Customer PII, Source code), 0 updated, 0 unchanged",
        "  systems: 2 created (Bitbucket, Support portal), 0 updated, 0 unchanged",
        "  vendors: 2 created (Okta, AWS), 0 updated, 0 unchanged",
        "  credentials: 2 created (svc-bitbucket, jira-admin), 0 updated, 0 unchanged",
    ]
    result = invoke(app, "import", str(path))
    assert "  vendors: 0 created, 0 updated, 2 unchanged" in result.output
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).first()
        assert event.actor.startswith("cli:") and event.details["source"] == "inventory.yaml"


# ---- CSV lists of vendors ----------------------------------------------------------------------

GOOD_CSV = (
    "name,criticality,status,contract_start,notes,website\r\n"
    'Okta,Critical,active,2022-01-01,"SSO, MFA",https://www.okta.com\r\n'
    "Slack,low,,,,\r\n"
    "\r\n"
    "AWS,high,active,,,\r\n"
)


def import_csv(app, text, **options):
    with app.app_context():
        report = inventory_io.import_vendor_csv(db.session, text, actor=ACTOR, **options)
        db.session.commit()
        return report


def refused_csv(app, text) -> list[str]:
    with app.app_context():
        with pytest.raises(inventory_io.VendorCsvInvalid) as caught:
            inventory_io.import_vendor_csv(db.session, text, actor=ACTOR)
        db.session.rollback()
    return [str(problem) for problem in caught.value.problems]


def test_csv_vendors_are_upserted_by_name(app):
    report = import_csv(app, "\ufeff" + GOOD_CSV)  # with the BOM Excel writes
    assert report.sections["vendors"].created == ("Okta", "Slack", "AWS")
    with app.app_context():
        okta = db.session.scalar(sa.select(Vendor).where(Vendor.name == "Okta"))
        assert (okta.criticality, okta.notes) == (models.Criticality.critical, "SSO, MFA")
    # An empty cell leaves the stored value; a changed one updates the vendor.
    report = import_csv(app, "name,criticality,notes\nOkta,high,\nSlack,low,\n")
    assert report.sections["vendors"].updated == ("Okta",)
    assert report.sections["vendors"].unchanged == 1
    vendors = {v["name"]: v for v in export(app)["vendors"]}
    assert vendors["Okta"]["criticality"] == "high" and vendors["Okta"]["notes"] == "SSO, MFA"
    with app.app_context():
        assert db.session.scalars(sa.select(AuditEvent.details)).all()[-1]["source"] == "vendor CSV"


def test_csv_problems_are_reported_by_row_all_at_once_and_nothing_is_saved(app):
    text = (
        "name,criticality,contract_start,contract_end,notes\n"
        "Okta,high,2022-01-01,2025-12-31,\n"
        "Slack,urgent,2022-01-01,,\n"
        "AWS,low,31/12/2022,,\n"
        "okta,low,,,\n"
        "GitHub,low,2024-01-01,2023-01-01,ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"
        ",low,,,\n"
        "Jira,low,,,,extra\n"
    )
    assert refused_csv(app, text) == [
        "row 2, column name: duplicate vendor name 'Okta' (also row 5 as 'okta'; names are "
        "compared whatever their case)",
        "row 3, column criticality: expected one of low, medium, high, critical, not 'urgent'",
        "row 4, column contract_start: expected a date like 2024-03-31, not '31/12/2022'",
        "row 5, column name: duplicate vendor name 'okta' (also row 2 as 'Okta'; names are "
        "compared whatever their case)",
        "row 6, column contract_end: is before the contract start (2024-01-01)",
        "row 6, column notes: This looks like a secret (GitHub Token). vendor-risk records "
        "where credentials are and who holds them, never their values: remove it.",
        "row 7, column name: required, but missing",
        "row 8: more cells than columns in the header",
    ]
    assert nothing_stored(app)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,colour\nOkta,blue\n", "row 1, column colour: unknown column; the columns are"),
        ("legal_name\nOkta Inc\n", "row 1: the header has no 'name' column"),
        ("name,notes,Name\nOkta,,\n", "row 1, column name: appears twice in the header"),
        ("", "row 1: empty: the first row names the columns"),
    ],
)
def test_csv_with_a_bad_header_is_refused(app, text, expected):
    problems = refused_csv(app, text)
    assert problems[0].startswith(expected), problems
    assert nothing_stored(app)


def test_every_problem_message_names_its_place():
    # A ValidationFailed for generic handlers, keyed by location.
    exc = inventory_io.InventoryInvalid(
        [inventory_file.Problem(("vendors", 3, "credentials", 0, "privilege"), "bad")]
    )
    assert exc.errors == {"vendors[3].credentials[0].privilege": ["bad"]}
    assert exc.problems[0].field == "privilege"
    assert re.fullmatch(r"vendors\[3\]\.credentials\[0\]\.privilege: bad", str(exc.problems[0]))
