"""Choosing a vendor by typing its name (vendor_risk/vendor_field.py): the forms and filters
that pick a vendor take its name in any case, or its id from a link; a page never lists the
whole portfolio; the names offered as one types come from a JSON route, and a real browser
shows them."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa
from browser import launched, log_in, new_page, serving
from conftest import PASSWORD, count, login_as, text
from test_incidents import incident_form
from test_inventory_pages import credential_form

from vendor_risk.db import db
from vendor_risk.models import (
    Credential,
    Finding,
    Incident,
    Role,
    SubprocessorLink,
    System,
    SystemKind,
    User,
    Vendor,
)


@pytest.fixture
def world(app, make_vendor, make_user):
    return {
        "keystone": make_vendor("Keystone Identity"),
        "harbor": make_vendor("Harbor Payroll"),
        "percent": make_vendor("100% Uptime Hosting"),
        "officer": make_user(Role.risk_officer),
        "admin": make_user(Role.admin),
    }


@pytest.fixture
def officer(client, world):
    login_as(client, world["officer"])
    return world["officer"]


def finding_form(**vendor) -> dict:
    return {
        "title": "No review of support access",
        "severity": "medium",
        "description": "Nobody reviews who has support access.",
        "remediation": "Review support access every quarter.",
        "owner": "Dana",
        "due_on": "",
        "visible_to_vendor": "y",
    } | vendor


def rows(app, model):
    with app.app_context():
        return list(db.session.scalars(sa.select(model)))


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


def test_a_vendor_is_chosen_by_its_name_in_any_case(app, client, world, officer):
    form = client.get("/findings/new").get_data(as_text=True)
    assert 'name="vendor_id-name"' in form and 'list="vendor_id-names"' in form
    assert "<option" not in form.split('id="vendor_id"')[1].split("</div>")[0]  # no list of all

    response = client.post(
        "/findings/new", data=finding_form(**{"vendor_id-name": " harbor PAYROLL "})
    )
    assert response.status_code == 302
    [finding] = rows(app, Finding)
    assert finding.vendor_id == world["harbor"]


def test_an_unknown_name_is_refused_at_the_field_and_kept_in_the_box(app, client, world, officer):
    response = client.post("/findings/new", data=finding_form(**{"vendor_id-name": "Harbour"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "vendor_id") == (
        "No vendor is named “Harbour”: type a name the list offers."
    )
    assert 'value="Harbour"' in html and 'aria-invalid="true"' in html
    assert count(app, Finding) == 0


def test_an_empty_box_asks_for_the_vendor(app, client, world, officer):
    response = client.post("/findings/new", data=finding_form(**{"vendor_id-name": ""}))
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "vendor_id") == (
        "Choose one of the listed options."
    )
    assert count(app, Finding) == 0


@pytest.mark.parametrize("value", ["999", "abc", "-1", str(2**63)])
def test_an_id_that_is_no_vendors_is_refused(app, client, world, officer, value):
    response = client.post("/findings/new", data=finding_form(vendor_id=value))
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "vendor_id") == (
        "Choose one of the listed options."
    )
    assert count(app, Finding) == 0


def test_the_id_of_a_link_still_works_and_the_box_shows_the_name(app, client, world, officer):
    response = client.post("/findings/new", data=finding_form(vendor_id=str(world["keystone"])))
    assert response.status_code == 302
    [finding] = rows(app, Finding)
    assert finding.vendor_id == world["keystone"]

    listed = client.get(f"/findings/?vendor_id={world['keystone']}").get_data(as_text=True)
    assert 'value="Keystone Identity"' in listed and "No review of support access" in listed
    other = client.get(f"/findings/?vendor_id={world['harbor']}")
    assert "No review of support access" not in text(other)


def test_list_filters_take_a_name(app, client, world, officer):
    client.post("/findings/new", data=finding_form(vendor_id=str(world["keystone"])))
    by_name = client.get("/findings/", query_string={"vendor_id-name": "keystone identity"})
    assert by_name.status_code == 200 and "No review of support access" in text(by_name)
    none = client.get("/findings/", query_string={"vendor_id-name": "harbor payroll"})
    assert none.status_code == 200 and "No review of support access" not in text(none)
    anyone = client.get("/findings/", query_string={"vendor_id-name": ""})
    assert anyone.status_code == 200 and "No review of support access" in text(anyone)

    unknown = client.get("/requests/", query_string={"vendor_id-name": "Nobody"})
    assert unknown.status_code == 400
    assert "No vendor is named “Nobody”" in unknown.get_data(as_text=True)


def test_an_incident_and_a_credential_holder_by_name(app, client, world, officer, make_user):
    opened = incident_form(0) | {"vendor_id-name": "keystone identity"}
    del opened["vendor_id"]
    assert client.post("/incidents/new", data=opened).status_code == 302
    [incident] = rows(app, Incident)
    assert incident.vendor_id == world["keystone"]

    with app.app_context():
        system = System(name="Bitbucket", kind=SystemKind.source_control)
        db.session.add(system)
        db.session.commit()
        system_id = system.id
    login_as(client, make_user(Role.procurement))
    ours = credential_form(system_id, **{"holder_vendor_id-name": ""})
    held = credential_form(
        system_id, name="svc-harbor", **{"holder_vendor_id-name": "HARBOR payroll"}
    )
    for form in (ours, held):
        del form["holder_vendor_id"]
        assert client.post("/inventory/credentials/new", data=form).status_code == 302
    holders = {c.name: c.holder_vendor_id for c in rows(app, Credential)}
    assert holders == {"svc-bitbucket": None, "svc-harbor": world["harbor"]}


def test_a_vendor_cannot_be_its_own_subprocessor(app, client, world, make_user):
    login_as(client, make_user(Role.procurement))
    url = f"/inventory/vendors/{world['keystone']}/subprocessors"
    page = client.get(url).get_data(as_text=True)
    assert 'name="subprocessor_id-name"' in page
    refused = client.post(url, data={"subprocessor_id-name": "Keystone Identity", "purpose": "x"})
    assert refused.status_code == 400
    assert field_error(refused.get_data(as_text=True), "subprocessor_id") == (
        "A vendor cannot be its own subprocessor."
    )
    assert count(app, SubprocessorLink) == 0
    added = client.post(url, data={"subprocessor_id-name": "harbor payroll", "purpose": "Payroll"})
    assert added.status_code == 302
    [link] = rows(app, SubprocessorLink)
    assert (link.vendor_id, link.subprocessor_id) == (world["keystone"], world["harbor"])


def test_a_new_vendor_contact_by_the_vendor_name(app, client, world):
    login_as(client, world["admin"])
    response = client.post(
        "/admin/users/new",
        data={
            "email": "ana@harbor.example",
            "name": "Ana",
            "role": "vendor_contact",
            "vendor_id-name": "Harbor Payroll",
            "password": "a long enough first password 42",
            "confirm_password": "a long enough first password 42",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [contact] = [u for u in rows(app, User) if u.email == "ana@harbor.example"]
    assert contact.vendor_id == world["harbor"]


def test_names_offered_as_one_types(app, client, world, officer):
    def names(q: str, url: str = "/inventory/vendor-names") -> list[str]:
        response = client.get(url, query_string={"q": q})
        assert response.status_code == 200 and response.is_json
        assert "no-store" in response.headers["Cache-Control"]  # as every signed-in page
        return response.get_json()

    assert names("") == ["100% Uptime Hosting", "Harbor Payroll", "Keystone Identity"]
    assert names("HAR") == ["Harbor Payroll"]
    # Those that start with the text first, then those that contain it.
    assert names("h") == ["Harbor Payroll", "100% Uptime Hosting"]
    assert names("%") == ["100% Uptime Hosting"]  # taken literally, not as a wildcard
    assert names("_") == []
    assert names("x" * 5000) == []

    with app.app_context():
        db.session.execute(sa.insert(Vendor), [{"name": f"Bulk {n:03d}"} for n in range(50)])
        db.session.commit()
    assert names("bulk") == [f"Bulk {n:03d}" for n in range(20)]  # twenty at a time

    login_as(client, world["admin"])
    assert names("key", "/admin/vendor-names") == ["Keystone Identity"]


def test_names_beyond_ascii_are_offered_and_chosen_in_any_case(app, client, world, officer):
    # SQLite's lower() leaves É alone: names are compared by names.name_key instead.
    with app.app_context():
        emile = Vendor(name="Émile Conseil")
        db.session.add(emile)
        db.session.commit()
        emile_id = emile.id
    offered = client.get("/inventory/vendor-names", query_string={"q": "ÉMILE"})
    assert offered.get_json() == ["Émile Conseil"]
    response = client.post(
        "/findings/new", data=finding_form(**{"vendor_id-name": "e\u0301mile CONSEIL"})
    )
    assert response.status_code == 302
    [finding] = rows(app, Finding)
    assert finding.vendor_id == emile_id


def test_pages_weigh_the_same_whatever_the_number_of_vendors(app, client, world, officer):
    pages = ["/findings/", "/findings/new", "/requests/", "/requests/new", "/incidents/new"]
    before = {url: len(client.get(url).data) for url in pages}
    with app.app_context():
        db.session.execute(sa.insert(Vendor), [{"name": f"Vendor {n:05d}"} for n in range(2000)])
        db.session.commit()
    after = {url: len(client.get(url).data) for url in pages}
    assert after == before


def test_in_a_browser_the_box_offers_matching_names(app, world, chromium):
    from playwright.sync_api import expect

    errors: list[str] = []
    officer = world["officer"]
    with serving(app) as base, launched(chromium) as browser:
        page = new_page(browser.new_context(), errors)
        log_in(page, base, officer.email, PASSWORD, pyotp.TOTP(officer.totp_secret).now)
        page.goto(f"{base}/findings/new")
        page.fill("#vendor_id", "harb")
        options = page.locator("#vendor_id-names option")
        expect(options).to_have_count(1)  # "harb": only Harbor Payroll
        assert options.first.get_attribute("value") == "Harbor Payroll"
        page.fill("#vendor_id", "Harbor Payroll")
        page.fill("#title", "No review of support access")
        page.select_option("#severity", "high")
        page.fill("#description", "Nobody reviews who has support access.")
        page.fill("#remediation", "Review it every quarter.")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/findings/\d+$"))
    assert not errors, errors
    [finding] = rows(app, Finding)
    assert finding.vendor_id == world["harbor"]


def test_in_a_browser_a_name_typed_before_the_script_ran_is_offered_too(app, world, chromium):
    """A fast typist (or a test) may type before the deferred script attaches: the box still
    offers the names once it does. The script is held back until the text is typed."""
    from playwright.sync_api import expect

    errors: list[str] = []
    officer = world["officer"]
    held: list = []
    with serving(app) as base, launched(chromium) as browser:
        page = new_page(browser.new_context(), errors)
        log_in(page, base, officer.email, PASSWORD, pyotp.TOTP(officer.totp_secret).now)
        page.route("**/js/vendor-names.js", lambda route: held.append(route))
        page.goto(f"{base}/findings/new", wait_until="commit")
        page.wait_for_selector("#vendor_id")
        page.fill("#vendor_id", "harb")
        page.wait_for_timeout(300)  # the input event has fired, with no listener yet
        assert held, "the script was not requested"
        held[0].continue_()
        options = page.locator("#vendor_id-names option")
        expect(options).to_have_count(1)
        assert options.first.get_attribute("value") == "Harbor Payroll"
    assert not errors, errors


@pytest.mark.parametrize(
    ("url", "field"), [("/findings/", "vendor_id"), ("/inventory/credentials", "holder_vendor_id")]
)
def test_sort_and_page_links_keep_a_typed_vendor(app, client, world, officer, url, field):
    client.post("/findings/new", data=finding_form(vendor_id=str(world["harbor"])))
    with app.app_context():
        system = System(name="Bitbucket", kind=SystemKind.source_control)
        db.session.add(system)
        db.session.flush()
        db.session.add(
            Credential(
                name="svc-harbor",
                kind="api_token",
                system_id=system.id,
                holder_vendor_id=world["harbor"],
            )
        )
        db.session.commit()

    page = client.get(url, query_string={f"{field}-name": "harbor payroll"})
    html = page.get_data(as_text=True).replace("&amp;", "&")
    assert page.status_code == 200 and ("svc-harbor" in html or "No review of support" in html)
    links = re.findall(r'href="([^"]*sort=[^"]*)"', html)
    assert links and all(f"{field}={world['harbor']}" in link for link in links)
    assert not any(f"{field}-name" in link for link in links)

    unknown = client.get(url, query_string={f"{field}-name": "Nobody"})
    assert unknown.status_code == 400
    links = re.findall(r'href="([^"]*sort=[^"]*)"', unknown.get_data(as_text=True))
    assert not any(f"{field}=" in link for link in links)
