"""The starter catalogue (vendor_risk/catalogue/starter.yaml): the common data categories with
their sensitivity, imported by ``flask --app app inventory starter`` and from the data
categories page; a category whose name is stored already is left as it is."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import add, count, events, login_as, text

from vendor_risk.core import inventory_file
from vendor_risk.db import db
from vendor_risk.models import DataCategory, Role, Sensitivity
from vendor_risk.services.inventory import starter

ROOT = Path(__file__).resolve().parents[1]
TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*\bvalue="([^"]+)"')

# What the issue asks for, by name, with the sensitivity each starts with.
EXPECTED = {
    "Customer PII": Sensitivity.high,
    "Payment card data": Sensitivity.critical,
    "Health data": Sensitivity.critical,
    "Credentials and secrets": Sensitivity.critical,
    "Source code": Sensitivity.high,
    "HR records": Sensitivity.high,
    "Financial data": Sensitivity.high,
    "Internal documents": Sensitivity.medium,
    "Telemetry and logs": Sensitivity.medium,
}


def stored(app) -> dict[str, tuple[Sensitivity, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(DataCategory)).all()
        return {row.name: (row.sensitivity, row.description) for row in rows}


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["inventory", "starter", *args])


# ---- the file ------------------------------------------------------------------------------


def test_the_file_is_a_valid_inventory_file_with_the_common_categories():
    loaded = inventory_file.read(starter.STARTER_PATH)
    assert loaded.problems == ()
    assert set(loaded.document) == {"version", "data_categories"}  # no invented systems
    entries = loaded.document["data_categories"]
    assert {e["name"]: Sensitivity(e["sensitivity"]) for e in entries} == EXPECTED
    for entry in entries:
        assert entry["description"].strip(), entry["name"]
        assert "\n" not in entry["description"]


def test_an_installed_package_ships_the_file():
    """A wheel (not an editable install) carries it: the package data names it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["vendor_risk"]
    shipped = starter.STARTER_PATH.relative_to(ROOT / "vendor_risk").as_posix()
    assert any(fnmatch.fnmatch(shipped, pattern) for pattern in patterns)


# ---- the command ---------------------------------------------------------------------------


def test_the_command_fills_an_empty_inventory_and_a_second_run_creates_nothing(app):
    first = invoke(app)
    assert first.exit_code == 0, first.output
    assert "data categories created: 9 (Customer PII, Payment card data," in first.output
    assert {name: s for name, (s, _) in stored(app).items()} == EXPECTED

    second = invoke(app)
    assert second.exit_code == 0, second.output
    assert "data categories created: 0 (none)" in second.output
    assert "kept as they are, their name being stored already: 9 (Customer PII," in second.output
    assert count(app, DataCategory) == 9

    # Audited like any import, once per run, with the counts.
    audited = events(app, "inventory.imported")
    assert [e.details["source"] for e in audited] == ["starter catalogue"] * 2
    assert audited[0].details["created"]["data_categories"] == 9
    assert audited[1].details["created"]["data_categories"] == 0
    assert audited[1].details["unchanged"]["data_categories"] == 9


def test_a_dry_run_saves_nothing_and_says_what_it_would_create(app):
    result = invoke(app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run of the starter catalogue: nothing was saved.")
    assert "data categories created: 9" in result.output
    assert count(app, DataCategory) == 0
    assert events(app, "inventory.imported") == []


def test_a_category_of_the_same_name_is_kept_as_it_is(app):
    add(app, DataCategory(name="customer pii", sensitivity=Sensitivity.low, description="Ours"))
    result = invoke(app)
    assert result.exit_code == 0, result.output
    assert "data categories created: 8" in result.output
    assert "kept as they are, their name being stored already: 1 (customer pii)" in result.output
    categories = stored(app)
    assert categories["customer pii"] == (Sensitivity.low, "Ours")  # neither renamed nor changed
    assert "Customer PII" not in categories
    assert len(categories) == 9


# ---- the pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.risk_officer, Role.procurement])
def test_the_empty_list_offers_the_catalogue_and_the_button_creates_it(app, make_user, role):
    client = app.test_client()
    login_as(client, make_user(role))
    page = text(client.get("/inventory/data-categories"))
    assert "Start with the common categories" in page
    assert 'action="/inventory/data-categories/starter"' in page

    response = client.post("/inventory/data-categories/starter", follow_redirects=True)
    assert response.status_code == 200
    shown = text(response)
    assert "9 common data categories created: Customer PII, Payment card data" in shown
    assert {name: s for name, (s, _) in stored(app).items()} == EXPECTED
    # The list shows them, most sensitive first; the big button gives way to a small link.
    table = shown.split("<table", 1)[1]
    assert table.index("Payment card data") < table.index("Telemetry and logs")
    assert "Start with the common categories" not in shown
    assert "Add the common data categories" in shown
    assert [e.actor for e in events(app, "inventory.imported")] == [f"{role.value}1@example.com"]


def test_the_preview_shows_what_exists_and_the_button_creates_only_the_rest(app, make_user):
    add(app, DataCategory(name="SOURCE CODE", sensitivity=Sensitivity.critical))
    client = app.test_client()
    login_as(client, make_user(Role.risk_officer))
    page = text(client.get("/inventory/data-categories/starter"))
    assert "exists already as SOURCE CODE: kept as it is" in page
    assert "Create 8 common data categories" in page

    response = client.post("/inventory/data-categories/starter", follow_redirects=True)
    assert "Kept as they were (the name exists already): SOURCE CODE." in text(response)
    assert stored(app)["SOURCE CODE"] == (Sensitivity.critical, "")
    assert count(app, DataCategory) == 9

    again = text(client.get("/inventory/data-categories/starter"))
    assert "there is nothing to create" in again
    assert "<button" not in again.split("<main", 1)[1].split("</main>", 1)[0]
    response = client.post("/inventory/data-categories/starter", follow_redirects=True)
    assert "0 common data categories created." in text(response)
    assert count(app, DataCategory) == 9


@pytest.mark.parametrize("role", [Role.admin, Role.vendor_contact])
def test_other_roles_may_neither_see_nor_import_it(app, make_user, make_vendor, role):
    vendor_id = make_vendor() if role is Role.vendor_contact else None
    client = app.test_client()
    login_as(client, make_user(role, vendor_id=vendor_id))
    assert client.get("/inventory/data-categories/starter").status_code == 403
    assert client.post("/inventory/data-categories/starter").status_code == 403
    assert count(app, DataCategory) == 0
    assert events(app, "inventory.imported") == []
    assert len(events(app, "access.denied")) == 2


def test_the_button_needs_the_forms_security_token(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_as(client, make_user(Role.risk_officer))
    page = client.get("/inventory/data-categories")

    refused = client.post("/inventory/data-categories/starter")
    assert refused.status_code == 400
    assert count(app, DataCategory) == 0

    token = TOKEN_FIELD.search(page.get_data(as_text=True)).group(1)
    done = client.post("/inventory/data-categories/starter", data={"csrf_token": token})
    assert done.status_code == 302
    assert count(app, DataCategory) == 9


def test_the_admins_home_points_to_it_on_an_empty_instance(app, make_user):
    client = app.test_client()
    login_as(client, make_user(Role.admin))
    assert "flask --app app inventory starter" in text(client.get("/admin/"))
    invoke(app)
    assert "inventory starter" not in text(client.get("/admin/"))


def test_quickstart_without_the_demo_points_to_it(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite")
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["quickstart", "--no-serve", "--no-demo"])
    assert empty.exit_code == 0, empty.output
    assert "`flask --app app inventory starter` creates the common ones" in empty.output
    demo = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite")
    loaded = demo.test_cli_runner().invoke(args=["quickstart", "--no-serve"])
    assert loaded.exit_code == 0, loaded.output
    assert "inventory starter" not in loaded.output  # the demo has its categories
