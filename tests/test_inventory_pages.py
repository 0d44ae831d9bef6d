"""The inventory pages: vendors with their tabs, systems, data categories and credentials, as
procurement and risk officers use them."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import add, count, events, get, login_as, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    Credential,
    CredentialCopy,
    CredentialKind,
    CredentialStatus,
    Criticality,
    DataCategory,
    Federation,
    FourthParty,
    NetworkZone,
    Role,
    Sensitivity,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
    VendorStatus,
    ZoneReach,
)
from vendor_risk.services.pages import PAGE_SIZE, Page

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_MESSAGE = "never"  # every refusal says the product never stores credential values
# A supplier, in Russian, (supplier) as Windows-1251 saves it: not UTF-8, not Windows-1252.
CYRILLIC_CSV = "name\n\u041f\u043e\u0441\u0442\u0430\u0432\u0449\u0438\u043a\n".encode("cp1251")


# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def officer(client, make_user):
    """A procurement user, logged in."""
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


def vendor_names(response) -> list[str]:
    """The vendors listed on a page, in order."""
    page = response.get_data(as_text=True)
    return [
        html.unescape(n) for n in re.findall(r'href="/inventory/vendors/\d+">([^<]+)</a>', page)
    ]


def credential_names(response) -> list[str]:
    page = response.get_data(as_text=True)
    # On a vendor's tab the link carries the way back (?next=).
    found = re.findall(r'href="/inventory/credentials/\d+/edit(?:\?[^"]*)?">([^<]+)</a>', page)
    return [html.unescape(n) for n in found]


def field_error(response, field: str) -> str:
    """The error shown at a field (tied to it by id), or ''."""
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else ""


def vendor_form(**overrides) -> dict:
    form = {
        "name": "Keystone Identity",
        "legal_name": "Keystone Identity, Inc.",
        "website": "https://keystone.example",
        "services": "Single sign-on and support for our workforce",
        "status": "active",
        "criticality": "critical",
        "substitutability": "hard",
        "business_owner": "IT",
        "contract_start": "2024-01-01",
        "contract_end": "2026-12-31",
        "next_review": "2026-06-30",
        "notes": "Renewal in Q4",
    }
    return form | overrides


def credential_form(system: int, **overrides) -> dict:
    form = {
        "name": "svc-bitbucket",
        "kind": "service_account",
        "holder_vendor_id": "",
        "system_id": str(system),
        "privilege": "admin",
        "issued_at": "2023-01-10",
        "last_rotated_at": "",
        "expires_at": "",
        "last_used_at": "",
        "rotation_period_days": "90",
        "owner": "Platform team",
        "status": "active",
        "notes": "",
    }
    return form | overrides


# ---- vendors: create, edit, delete ---------------------------------------------------------


def test_vendor_is_created_edited_and_deleted_through_the_pages(app, client, officer):
    created = client.post("/inventory/vendors/new", data=vendor_form())
    assert created.status_code == 302
    vendor_id = int(created.headers["Location"].rsplit("/", 1)[1])
    profile = text(client.get(created.headers["Location"]))
    assert "Keystone Identity, Inc." in profile and "Renewal in Q4" in profile
    vendor = get(app, Vendor, vendor_id)
    assert vendor.criticality is Criticality.critical
    assert vendor.contract_end == date(2026, 12, 31)

    edit_page = client.get(f"/inventory/vendors/{vendor_id}/edit")
    assert 'value="https://keystone.example"' in edit_page.get_data(as_text=True)
    edited = client.post(
        f"/inventory/vendors/{vendor_id}/edit",
        data=vendor_form(status="offboarding", next_review="", version="1"),
    )
    assert edited.status_code == 302
    vendor = get(app, Vendor, vendor_id)
    assert vendor.status is VendorStatus.offboarding
    assert vendor.next_review is None

    confirm = client.get(f"/inventory/vendors/{vendor_id}/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in text(confirm)
    assert get(app, Vendor, vendor_id) is not None  # a GET deletes nothing
    deleted = client.post(f"/inventory/vendors/{vendor_id}/delete")
    assert deleted.status_code == 302
    assert deleted.headers["Location"] == "/inventory/vendors"
    assert get(app, Vendor, vendor_id) is None

    [create] = events(app, "inventory.vendor.created")
    [update] = events(app, "inventory.vendor.updated")
    [delete] = events(app, "inventory.vendor.deleted")
    assert {create.vendor_id, update.vendor_id, delete.vendor_id} == {vendor_id}
    assert create.actor == officer.email
    assert sorted(update.details["changed"]) == ["next_review", "status"]
    assert delete.details["name"] == "Keystone Identity"


def hidden_version(page) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', page.get_data(as_text=True))[1]


def test_two_people_editing_one_vendor_never_lose_a_change_silently(app, client, officer):
    vendor_id = int(
        client.post("/inventory/vendors/new", data=vendor_form()).headers["Location"].split("/")[-1]
    )
    # Two people open the edit form; the first saves a new owner.
    opened = hidden_version(client.get(f"/inventory/vendors/{vendor_id}/edit"))
    first = client.post(
        f"/inventory/vendors/{vendor_id}/edit",
        data=vendor_form(business_owner="Security team", version=opened),
    )
    assert first.status_code == 302
    # The second saves other notes from the form opened before: refused, input kept.
    second = client.post(
        f"/inventory/vendors/{vendor_id}/edit",
        data=vendor_form(notes="Second person's notes", version=opened),
    )
    assert second.status_code == 400
    page = text(second)
    assert "Someone else saved this vendor after you opened this form" in page
    assert "theirs differ from yours in: business owner, notes" in page
    assert "Second person&#39;s notes" in second.get_data(as_text=True)
    vendor = get(app, Vendor, vendor_id)
    assert (vendor.business_owner, vendor.notes) == ("Security team", "Renewal in Q4")
    assert len(events(app, "inventory.vendor.updated")) == 1
    # The refused form now carries their version: saving again is a deliberate overwrite.
    again = client.post(
        f"/inventory/vendors/{vendor_id}/edit",
        data=vendor_form(notes="Second person's notes", version=hidden_version(second)),
    )
    assert again.status_code == 302
    assert get(app, Vendor, vendor_id).notes == "Second person's notes"


def test_an_edit_without_its_version_is_refused(app, client, officer):
    [system_id] = add(app, System(name="Jira"))
    response = client.post(f"/inventory/systems/{system_id}/edit", data={"name": "Jira 2"})
    assert response.status_code == 400
    assert "Someone else saved this system" in text(response)
    assert get(app, System, system_id).name == "Jira"


def test_saving_an_unchanged_vendor_records_nothing(app, client, officer):
    vendor_id = int(
        client.post("/inventory/vendors/new", data=vendor_form()).headers["Location"].split("/")[-1]
    )
    response = client.post(f"/inventory/vendors/{vendor_id}/edit", data=vendor_form(version="1"))
    assert response.status_code == 302
    assert "Nothing changed" in text(client.get(response.headers["Location"]))
    assert events(app, "inventory.vendor.updated") == []


def test_vendor_errors_are_shown_at_each_field_and_nothing_is_saved(app, client, officer):
    response = client.post(
        "/inventory/vendors/new",
        data=vendor_form(
            name="   ",
            website="ftp://files.example",
            contract_start="2025-05-01",
            contract_end="2025-01-01",
            status="bogus",
            next_review="31/12/2025",
        ),
    )
    assert response.status_code == 400
    assert field_error(response, "name") == "Enter the vendor's name."
    assert "https://" in field_error(response, "website")
    assert field_error(response, "contract_end") == "The contract cannot end before it starts."
    assert field_error(response, "status") == "Choose one of the listed options."
    assert field_error(response, "next_review") == "Not a valid date value."
    assert response.get_data(as_text=True).count('aria-invalid="true"') == 5
    assert 'value="ftp://files.example"' in response.get_data(as_text=True)  # kept to correct
    assert count(app, Vendor) == 0
    assert events(app, "inventory.vendor.created") == []


def test_staff_keep_a_vendors_email_domains_on_its_form(
    app, client, officer, make_vendor, make_user
):
    vendor_id = make_vendor("Nimbus Cloud", website="https://www.nimbus.example")
    make_user(Role.vendor_contact, email="ops@nimbus-cloud.example", vendor_id=vendor_id)
    edit = f"/inventory/vendors/{vendor_id}/edit"
    page = text(client.get(edit))
    assert "none recorded" in text(client.get(f"/inventory/vendors/{vendor_id}"))
    assert (
        "Suggested by its website and its contacts' addresses: nimbus.example, "
        "nimbus-cloud.example." in page
    )

    refused = client.post(
        edit,
        data=vendor_form(
            name="Nimbus Cloud",
            website="https://www.nimbus.example",
            version="1",
            email_domains="nimbus.example, https://x.example",
        ),
    )
    assert refused.status_code == 400
    assert field_error(refused, "email_domains") == (
        "'https://x.example' is neither a domain (vendor.example) nor an address "
        "(name@vendor.example)"
    )
    assert get(app, Vendor, vendor_id).email_domains == []

    saved = client.post(
        edit,
        data=vendor_form(
            name="Nimbus Cloud",
            website="https://www.nimbus.example",
            version="1",
            email_domains="Nimbus.example; nimbus-cloud.example\nJo@Mail.example nimbus.example",
        ),
    )
    assert saved.status_code == 302
    stored = ["nimbus.example", "nimbus-cloud.example", "jo@mail.example"]
    assert get(app, Vendor, vendor_id).email_domains == stored
    assert f"Email domains {', '.join(stored)}" in " ".join(
        re.sub(r"<[^>]+>", " ", text(client.get(f"/inventory/vendors/{vendor_id}"))).split()
    )
    again = client.get(edit).get_data(as_text=True)
    assert f'value="{", ".join(stored)}"' in again
    assert "Suggested by" not in again  # all listed already
    [update] = events(app, "inventory.vendor.updated")
    assert "email_domains" in update.details["changed"]


def test_edit_errors_change_nothing(app, client, officer, make_vendor):
    vendor_id = make_vendor("Nimbus Cloud", website="https://nimbus.example")
    response = client.post(
        f"/inventory/vendors/{vendor_id}/edit",
        data=vendor_form(name="Nimbus Cloud", website="javascript:alert(1)"),
    )
    assert response.status_code == 400
    assert field_error(response, "website")
    assert get(app, Vendor, vendor_id).website == "https://nimbus.example"


def test_vendor_names_are_unique_whatever_the_case(app, client, officer, make_vendor):
    make_vendor("Acme Identity")
    other = make_vendor("Other")

    created = client.post("/inventory/vendors/new", data=vendor_form(name="  acme IDENTITY "))
    assert created.status_code == 400
    assert field_error(created, "name") == "A vendor with this name already exists."

    renamed = client.post(
        f"/inventory/vendors/{other}/edit", data=vendor_form(name="ACME identity", version="1")
    )
    assert renamed.status_code == 400
    assert "already exists" in field_error(renamed, "name")
    assert get(app, Vendor, other).name == "Other"

    kept = client.post(
        f"/inventory/vendors/{other}/edit", data=vendor_form(name="other", version="1")
    )
    assert kept.status_code == 302  # its own name, in another case, is not taken
    assert count(app, Vendor) == 2


# Each form that names something: its pages, its model, its form with a given name (a system
# for the credential to open).
NAMED_FORMS = {
    "vendor": ("/inventory/vendors", Vendor, lambda system, name: vendor_form(name=name)),
    "system": (
        "/inventory/systems",
        System,
        lambda system, name: {"name": name, "kind": "wiki", "environment": "production"},
    ),
    "data category": (
        "/inventory/data-categories",
        DataCategory,
        lambda system, name: {"name": name, "sensitivity": "high"},
    ),
    "credential": (
        "/inventory/credentials",
        Credential,
        lambda system, name: credential_form(system, name=name),
    ),
}


def id_named(app, model, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(model.id).where(model.name == name))


@pytest.mark.parametrize("noun", NAMED_FORMS)
def test_every_form_refuses_at_the_field_a_name_taken_in_another_case(app, client, officer, noun):
    pages, model, form = NAMED_FORMS[noun]
    [system] = add(app, System(name="Host system"))

    def post(url: str, name: str, of: int | None = None):
        version = {} if of is None else {"version": str(get(app, model, of).version)}
        return client.post(url, data=form(system, name) | version)

    assert post(f"{pages}/new", "Émile Cloud").status_code == 302
    assert post(f"{pages}/new", "Other").status_code == 302
    first, other = id_named(app, model, "Émile Cloud"), id_named(app, model, "Other")
    # Another case, and É written as E with a combining accent: the same name on SQLite and
    # PostgreSQL alike (whose lower() disagree on É).
    for taken in ("ÉMILE CLOUD", "e\u0301mile cloud"):
        created = post(f"{pages}/new", taken)
        assert created.status_code == 400
        assert field_error(created, "name") == f"A {noun} with this name already exists."
        renamed = post(f"{pages}/{other}/edit", taken, of=other)
        assert renamed.status_code == 400
        assert field_error(renamed, "name") == f"A {noun} with this name already exists."
    assert get(app, model, other).name == "Other"
    # Its own name in another case is not taken: a new spelling.
    assert post(f"{pages}/{first}/edit", "ÉMILE CLOUD", of=first).status_code == 302
    assert get(app, model, first).name == "ÉMILE CLOUD"
    with app.app_context():
        names = db.session.scalars(sa.select(model.name).where(model.name != "Host system"))
        assert sorted(names) == ["Other", "ÉMILE CLOUD"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", AWS_KEY),
        ("legal_name", f"Acme {AWS_KEY}"),
        ("website", f"https://acme.example/?key={AWS_KEY}"),
        ("services", "support\nthe token is ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("business_owner", "xoxb-1234567890-abcdefghijkl"),
        ("notes", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ],
)
def test_secret_looking_text_is_refused_in_every_vendor_field(app, client, officer, field, value):
    response = client.post("/inventory/vendors/new", data=vendor_form(**{field: value}))
    assert response.status_code == 400
    message = field_error(response, field)
    assert "looks like a secret" in message and SECRET_MESSAGE in message
    assert count(app, Vendor) == 0


def test_secret_looking_text_is_refused_in_the_other_inventory_forms(app, client, officer):
    random_run = "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1eg9sK3"
    [vendor_id, other_id, system_id] = add(
        app, Vendor(name="A"), Vendor(name="B"), System(name="Jira")
    )
    cases = [
        ("/inventory/systems/new", {"name": "Wiki", "description": random_run}, "description"),
        ("/inventory/data-categories/new", {"name": "PII", "description": AWS_KEY}, "description"),
        ("/inventory/credentials/new", credential_form(system_id, notes=AWS_KEY), "notes"),
        ("/inventory/credentials/new", credential_form(system_id, owner=random_run), "owner"),
        (
            f"/inventory/vendors/{vendor_id}/subprocessors",
            {"subprocessor_id": str(other_id), "purpose": AWS_KEY},
            "purpose",
        ),
    ]
    for path, form, field in cases:
        response = client.post(path, data=form)
        assert response.status_code == 400, path
        assert SECRET_MESSAGE in field_error(response, field), path
    assert count(app, System) == 1
    assert count(app, DataCategory) == 0
    assert count(app, Credential) == 0
    assert count(app, SubprocessorLink) == 0


def test_hostile_text_is_escaped(app, client, officer):
    hostile = "<script>alert(1)</script>"
    client.post("/inventory/vendors/new", data=vendor_form(name=hostile, notes=hostile))
    for path in ("/inventory/vendors", "/inventory/vendors/1"):
        page = client.get(path).get_data(as_text=True)
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ---- the vendor list -----------------------------------------------------------------------


def sixty_vendors(app) -> None:
    statuses, criticalities = list(VendorStatus), list(Criticality)
    vendors = [
        Vendor(
            name=f"Vendor {n:02d}",
            status=statuses[n % len(statuses)],
            criticality=criticalities[n % len(criticalities)],
            next_review=date(2026, 1, 1) + timedelta(days=n) if n % 2 else None,
        )
        for n in range(1, 61)
    ]
    vendors[6].legal_name = "Seventh Heaven Ltd"
    vendors[7].services = "Payroll processing for the Nordics"
    add(app, *vendors)


def test_vendor_list_pages_by_fifty_with_links_and_a_total(app, client, officer):
    sixty_vendors(app)
    first = client.get("/inventory/vendors")
    assert first.status_code == 200
    assert vendor_names(first) == [f"Vendor {n:02d}" for n in range(1, 51)]
    assert "60 vendors: 1 to 50 shown, page 1 of 2" in text(first)
    assert 'href="/inventory/vendors?page=2"' in first.get_data(as_text=True)

    second = client.get("/inventory/vendors?page=2")
    assert vendor_names(second) == [f"Vendor {n:02d}" for n in range(51, 61)]
    assert 'aria-current="page">2<' in second.get_data(as_text=True)

    beyond = client.get("/inventory/vendors?page=9")
    assert beyond.status_code == 200 and vendor_names(beyond) == []
    assert "60 vendors" in text(beyond)
    assert client.get("/inventory/vendors?page=0").status_code == 400
    assert client.get("/inventory/vendors?page=x").status_code == 400


def test_page_links_show_the_ends_and_a_window_around_the_current_page():
    page = Page(rows=(), number=10, total=PAGE_SIZE * 20 - 1)
    assert page.count == 20
    assert page.links() == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert Page(rows=(), number=1, total=0).links() == [1]
    assert Page(rows=(), number=2, total=PAGE_SIZE + 1).links() == [1, 2]


def test_vendor_list_search_looks_in_name_legal_name_and_services(app, client, officer):
    sixty_vendors(app)
    add(app, Vendor(name="Half_Done"))
    assert vendor_names(client.get("/inventory/vendors?q=vendor+1")) == [
        f"Vendor {n}" for n in range(10, 20)
    ]
    assert vendor_names(client.get("/inventory/vendors?q=HEAVEN")) == ["Vendor 07"]
    assert vendor_names(client.get("/inventory/vendors?q=payroll")) == ["Vendor 08"]
    assert vendor_names(client.get("/inventory/vendors?q=_")) == ["Half_Done"]  # no wildcard
    assert vendor_names(client.get("/inventory/vendors?q=%25")) == []


def test_vendor_list_filters_by_status_and_criticality(app, client, officer):
    sixty_vendors(app)
    active = vendor_names(client.get("/inventory/vendors?status=active"))
    assert len(active) == 12
    assert all(get(app, Vendor, int(n[-2:])).status is VendorStatus.active for n in active)
    both = client.get("/inventory/vendors?status=active&criticality=critical")
    # n % 5 == 2 and n % 4 == 3: 7, 27, 47
    assert vendor_names(both) == ["Vendor 07", "Vendor 27", "Vendor 47"]
    assert client.get("/inventory/vendors?status=bogus").status_code == 400


def test_vendor_list_sorts(app, client, officer):
    sixty_vendors(app)
    by_name = vendor_names(client.get("/inventory/vendors?sort=name&direction=desc"))
    assert by_name[:2] == ["Vendor 60", "Vendor 59"]

    critical_first = vendor_names(client.get("/inventory/vendors?sort=criticality&direction=desc"))
    assert critical_first[:3] == ["Vendor 03", "Vendor 07", "Vendor 11"]  # ties by name

    lifecycle = vendor_names(client.get("/inventory/vendors?sort=status"))
    assert lifecycle[:2] == ["Vendor 05", "Vendor 10"]  # prospects first

    review = client.get("/inventory/vendors?sort=next_review")
    assert vendor_names(review)[:2] == ["Vendor 01", "Vendor 03"]
    last_page = client.get("/inventory/vendors?sort=next_review&direction=desc&page=2")
    assert vendor_names(last_page)[-1] == "Vendor 60"  # never reviewed: last, either way
    assert client.get("/inventory/vendors?sort=secret_column").status_code == 400


def test_vendor_list_counts_credentials_and_data_held(app, client, officer):
    [okta, quiet, jira, pii, code] = add(
        app,
        Vendor(name="Okta-like"),
        Vendor(name="Quiet"),
        System(name="Jira"),
        DataCategory(name="PII"),
        DataCategory(name="Source code"),
    )
    add(
        app,
        *(
            Credential(
                name=f"token-{n}",
                kind=CredentialKind.api_token,
                system_id=jira,
                holder_vendor_id=okta,
            )
            for n in range(3)
        ),
        Credential(name="ours", kind=CredentialKind.ssh_key, system_id=jira),
        VendorData(vendor_id=okta, data_category_id=pii, records=100),
        VendorData(vendor_id=okta, data_category_id=code),
        SystemData(system_id=jira, data_category_id=pii),
    )
    page = client.get("/inventory/vendors?sort=credentials&direction=desc").get_data(as_text=True)
    assert 'aria-label="3 credentials held by Okta-like"' in page
    assert 'aria-label="2 data categories held by Okta-like"' in page
    assert 'aria-label="0 credentials held by Quiet"' in page
    assert 'aria-label="0 data categories held by Quiet"' in page
    assert page.index("Okta-like") < page.index("Quiet")
    assert f'href="/inventory/vendors/{quiet}/data"' in page  # listed, with nothing held


def statements_for(app, client, path: str) -> int:
    """How many SQL statements a request executes."""
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200
    return len(seen)


def with_holdings(app, first: int, last: int, system_id: int, category_id: int) -> None:
    vendors = [Vendor(name=f"Busy {n:02d}") for n in range(first, last)]
    ids = add(app, *vendors)
    add(
        app,
        *(
            Credential(
                name=f"busy-{v}-{k}",
                kind=CredentialKind.api_token,
                system_id=system_id,
                holder_vendor_id=v,
            )
            for v in ids
            for k in range(2)
        ),
        *(VendorData(vendor_id=v, data_category_id=category_id) for v in ids),
    )


def test_vendor_list_costs_the_same_statements_for_60_or_120_vendors(app, client, officer):
    [system_id, category_id] = add(app, System(name="Jira"), DataCategory(name="PII"))
    with_holdings(app, 0, 10, system_id, category_id)
    # The first view after a change recomputes the portfolio's aggregates: one statement per
    # table read and per table written, whatever the number of vendors.
    refresh_ten = statements_for(app, client, "/inventory/vendors")
    with_ten = statements_for(app, client, "/inventory/vendors")
    with_holdings(app, 10, 60, system_id, category_id)
    refresh_sixty = statements_for(app, client, "/inventory/vendors")
    with_sixty = statements_for(app, client, "/inventory/vendors")
    with_holdings(app, 60, 120, system_id, category_id)
    refresh_more = statements_for(app, client, "/inventory/vendors")
    with_more = statements_for(app, client, "/inventory/vendors")
    # Past one page (50 rows), one more statement counts the list; then no more, whatever
    # the number of vendors: the page's counts are read for its rows in the same statement.
    assert refresh_sixty == refresh_ten + 1
    assert refresh_more == refresh_sixty
    assert with_sixty == with_ten + 1
    assert with_more == with_sixty
    # The user, whether the aggregates are fresh, the page (with its counts), its total,
    # transaction control.
    assert with_sixty <= 7
    for path in (
        "/inventory/vendors?sort=credentials",
        "/inventory/credentials",
        "/inventory/systems",
        "/inventory/data-categories",
    ):
        assert statements_for(app, client, path) <= 8, path


# ---- the vendor's tabs ---------------------------------------------------------------------


def test_each_tab_is_a_page_of_its_own(app, client, officer, make_vendor):
    vendor_id = make_vendor("Keystone")
    tabs = ("", "/data", "/credentials", "/subprocessors", "/blast-radius")
    for tab in tabs:
        page = client.get(f"/inventory/vendors/{vendor_id}{tab}").get_data(as_text=True)
        assert f'href="/inventory/vendors/{vendor_id}{tab}" aria-current="page"' in page
        assert page.count('aria-current="page"') == 1
    blast = client.get(f"/inventory/vendors/{vendor_id}/blast-radius")
    assert "reaches <strong>0 systems</strong>" in blast.get_data(as_text=True)  # holds nothing
    assert client.get("/inventory/vendors/999").status_code == 404


def test_data_held_is_added_updated_and_removed(app, client, officer, make_vendor):
    vendor_id = make_vendor("Payroll Co")
    [pii, hr] = add(app, DataCategory(name="Customer PII"), DataCategory(name="HR records"))
    tab = f"/inventory/vendors/{vendor_id}/data"

    added = client.post(tab, data={"data_category_id": str(hr), "records": "3000"})
    assert added.status_code == 302 and added.headers["Location"] == tab
    refused = client.post(tab, data={"data_category_id": str(pii), "records": "-1"})
    assert refused.status_code == 400
    assert field_error(refused, "records")
    page = client.get(tab).get_data(as_text=True)
    assert "HR records" in page and 'value="3000"' in page
    assert f'<option value="{hr}">' not in page  # held already: not offered again

    updated = client.post(f"{tab}/{hr}", data={f"holding-{hr}-records": "3500"})
    assert updated.status_code == 302
    bad = client.post(f"{tab}/{hr}", data={f"holding-{hr}-records": "lots"})
    assert bad.status_code == 400
    assert field_error(bad, f"holding-{hr}-records")
    assert client.post(f"{tab}/{pii}", data={f"holding-{pii}-records": "1"}).status_code == 404
    with app.app_context():
        assert db.session.get(VendorData, (vendor_id, hr)).records == 3500

    assert client.post(f"{tab}/{hr}/remove").status_code == 302
    assert count(app, VendorData) == 0
    changes = [e.details["change"] for e in events(app, "inventory.vendor.updated")]
    assert changes == ["data added", "data records changed", "data removed"]
    assert {e.vendor_id for e in events(app, "inventory.vendor.updated")} == {vendor_id}


def test_subprocessors_are_added_with_the_data_passed_on_and_removed(app, client, officer):
    [crm, email, pii, docs] = add(
        app,
        Vendor(name="Pipeline CRM"),
        Vendor(name="MailRelay"),
        DataCategory(name="Customer PII"),
        DataCategory(name="Internal documents"),
    )
    tab = f"/inventory/vendors/{crm}/subprocessors"
    form = {
        "subprocessor_id": str(email),
        "purpose": "Sends our e-mails",
        "data_category_ids": [str(pii), str(docs)],
    }
    assert client.post(tab, data=form).status_code == 302
    page = text(client.get(tab))
    assert "MailRelay" in page
    assert "Approximate records of Customer PII passed on to MailRelay" in page
    assert "Approximate records of Internal documents passed on to MailRelay" in page
    fourth = text(client.get(f"/inventory/vendors/{email}/subprocessors"))
    assert "Vendors relying on MailRelay" in fourth and "Pipeline CRM" in fourth
    assert "Customer PII (records unknown), Internal documents (records unknown)" in fourth

    again = client.post(tab, data=form)
    assert again.status_code == 400
    assert "already" in field_error(again, "subprocessor_id")
    itself = client.post(tab, data=form | {"subprocessor_id": str(crm)})
    assert itself.status_code == 400
    assert field_error(itself, "subprocessor_id")

    [link] = re.findall(r"/subprocessors/(\d+)/remove", client.get(tab).get_data(as_text=True))
    assert client.post(f"/inventory/vendors/{email}/subprocessors/{link}/remove").status_code == 404
    assert client.post(f"{tab}/{link}/remove").status_code == 302
    assert count(app, SubprocessorLink) == 0 and count(app, SubprocessorData) == 0
    changes = [e.details["change"] for e in events(app, "inventory.vendor.updated")]
    assert changes == ["subprocessor added", "subprocessor removed"]
    added = events(app, "inventory.vendor.updated")[0]
    assert added.vendor_id == crm
    assert added.details["data_categories"] == ["Customer PII", "Internal documents"]


# ---- deletions: what goes, what blocks -----------------------------------------------------


def test_vendor_deletion_lists_what_it_removes(app, client, officer):
    [acme, fourth, pii] = add(
        app, Vendor(name="Acme"), Vendor(name="Fourth Party"), DataCategory(name="Customer PII")
    )
    [link] = add(app, SubprocessorLink(vendor_id=acme, subprocessor_id=fourth))
    add(
        app,
        VendorData(vendor_id=acme, data_category_id=pii, records=10),
        SubprocessorData(link_id=link, data_category_id=pii),
    )
    page = text(client.get(f"/inventory/vendors/{acme}/delete"))
    assert "data held: Customer PII" in page
    assert "subprocessors it relies on: Fourth Party" in page
    assert client.post(f"/inventory/vendors/{acme}/delete").status_code == 302
    assert count(app, VendorData) == count(app, SubprocessorLink) == 0
    assert count(app, SubprocessorData) == 0
    assert get(app, Vendor, fourth) is not None


def test_a_vendor_holding_credentials_or_with_contacts_cannot_be_deleted(
    app, client, officer, make_user
):
    [okta, jira] = add(app, Vendor(name="Okta-like"), System(name="Jira"))
    add(
        app,
        Credential(
            name="svc-jira",
            kind=CredentialKind.service_account,
            system_id=jira,
            holder_vendor_id=okta,
        ),
    )
    page = client.get(f"/inventory/vendors/{okta}/delete")
    assert page.status_code == 200
    assert "cannot be deleted yet" in text(page) and "svc-jira" in text(page)
    assert 'type="submit" class="danger"' not in page.get_data(as_text=True)

    refused = client.post(f"/inventory/vendors/{okta}/delete")
    assert refused.status_code == 409
    assert "svc-jira" in text(refused)
    assert get(app, Vendor, okta) is not None

    [other] = add(app, Vendor(name="Has contacts"))
    contact = make_user(Role.vendor_contact, vendor_id=other)
    refused = client.post(f"/inventory/vendors/{other}/delete")
    assert refused.status_code == 409
    assert contact.email in text(refused)
    assert events(app, "inventory.vendor.deleted") == []


# ---- systems -------------------------------------------------------------------------------


def test_systems_are_created_shown_edited_and_deleted(app, client, officer):
    created = client.post(
        "/inventory/systems/new",
        data={
            "name": "Bitbucket",
            "kind": "source_control",
            "environment": "production",
            "owner": "Platform",
            "mfa_required": "y",
            "description": "Self-hosted",
        },
    )
    assert created.status_code == 302
    system_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert get(app, System, system_id).mfa_required is True
    duplicate = client.post("/inventory/systems/new", data={"name": "BITBUCKET", "kind": "wiki"})
    assert duplicate.status_code == 400
    assert field_error(duplicate, "name") == "A system with this name already exists."
    assert (
        client.post("/inventory/systems/new", data={"name": "X", "kind": "nope"}).status_code == 400
    )

    edited = client.post(
        f"/inventory/systems/{system_id}/edit",
        data={
            "name": "Bitbucket Server",
            "kind": "source_control",
            "environment": "production",
            "owner": "Platform",
            "description": "Self-hosted",
            "version": str(get(app, System, system_id).version),
        },
    )
    assert edited.status_code == 302
    system = get(app, System, system_id)
    assert system.name == "Bitbucket Server" and system.mfa_required is False  # unticked

    [code] = add(app, DataCategory(name="Source code"))
    assert (
        client.post(
            f"/inventory/systems/{system_id}/data", data={"data_category_id": code, "records": "12"}
        ).status_code
        == 302
    )
    assert "Source code" in text(client.get(f"/inventory/systems/{system_id}"))

    confirm = text(client.get(f"/inventory/systems/{system_id}/delete"))
    assert "data held: Source code" in confirm
    assert client.post(f"/inventory/systems/{system_id}/delete").status_code == 302
    assert get(app, System, system_id) is None and count(app, SystemData) == 0
    actions = [e.action for e in events(app, "inventory.system.created")]
    actions += [e.action for e in events(app, "inventory.system.updated")]
    actions += [e.action for e in events(app, "inventory.system.deleted")]
    assert actions == [
        "inventory.system.created",
        "inventory.system.updated",  # edited
        "inventory.system.updated",  # data added
        "inventory.system.deleted",
    ]


def test_system_page_lists_credentials_opening_it_and_stored_in_it(app, client, officer):
    [jira, bitbucket, okta] = add(
        app, System(name="Jira"), System(name="Bitbucket"), Vendor(name="Okta-like")
    )
    [token, deploy_key] = add(
        app,
        Credential(
            name="svc-jira",
            kind=CredentialKind.service_account,
            system_id=jira,
            holder_vendor_id=okta,
        ),
        Credential(name="deploy-key", kind=CredentialKind.ssh_key, system_id=bitbucket),
    )
    add(app, CredentialCopy(credential_id=deploy_key, system_id=jira))
    page = client.get(f"/inventory/systems/{jira}").get_data(as_text=True)
    opening, stored = page.split("Credentials stored in it")
    assert "svc-jira" in opening and "deploy-key" not in opening
    assert "deploy-key" in stored and "svc-jira" not in stored
    rows = client.get("/inventory/systems").get_data(as_text=True)
    jira_row = rows[rows.index(">Jira<") :].split("</tr>")[0]
    assert re.findall(r'class="num">(\d+)<', jira_row) == ["1", "1", "0"]

    refused = client.post(f"/inventory/systems/{jira}/delete")
    assert refused.status_code == 409
    assert "svc-jira" in text(refused)
    assert get(app, System, jira) is not None
    assert get(app, Credential, token).system_id == jira


# ---- data categories -----------------------------------------------------------------------


def test_data_categories_are_created_edited_and_deleted_unless_held(app, client, officer):
    created = client.post(
        "/inventory/data-categories/new",
        data={"name": "Payment data", "sensitivity": "critical", "description": "Cards"},
    )
    assert created.status_code == 302
    page = text(client.get("/inventory/data-categories"))
    assert "Payment data" in page and "critical" in page
    with app.app_context():
        category_id = db.session.scalar(sa.select(DataCategory.id))
    duplicate = client.post("/inventory/data-categories/new", data={"name": "payment DATA"})
    assert duplicate.status_code == 400 and "already exists" in field_error(duplicate, "name")
    empty = client.post("/inventory/data-categories/new", data={"name": ""})
    assert empty.status_code == 400 and field_error(empty, "name")

    edited = client.post(
        f"/inventory/data-categories/{category_id}/edit",
        data={
            "name": "Payment data",
            "sensitivity": "high",
            "description": "Cards",
            "version": str(get(app, DataCategory, category_id).version),
        },
    )
    assert edited.status_code == 302
    assert get(app, DataCategory, category_id).sensitivity is Sensitivity.high

    [payroll] = add(app, Vendor(name="PayFlow"))
    add(app, VendorData(vendor_id=payroll, data_category_id=category_id))
    blocked = client.get(f"/inventory/data-categories/{category_id}/delete")
    assert "cannot be deleted while it is held" in text(blocked) and "PayFlow" in text(blocked)
    assert client.post(f"/inventory/data-categories/{category_id}/delete").status_code == 409
    assert get(app, DataCategory, category_id) is not None

    client.post(f"/inventory/vendors/{payroll}/data/{category_id}/remove")
    assert client.post(f"/inventory/data-categories/{category_id}/delete").status_code == 302
    assert get(app, DataCategory, category_id) is None
    for action in ("created", "updated", "deleted"):
        assert len(events(app, f"inventory.data_category.{action}")) == 1


# ---- credentials ---------------------------------------------------------------------------


def test_the_credential_form_has_every_metadata_field_and_no_secret_field(app, client, officer):
    page = client.get("/inventory/credentials/new").get_data(as_text=True)
    form = page.split('<form method="post" class="wide-form"')[1].split("</form>")[0]
    names = set(re.findall(r'name="([^"]+)"', form)) - {"csrf_token", "version"}
    assert names == {
        "name",
        "kind",
        "holder_vendor_id-name",
        "system_id",
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
    }
    assert 'type="password"' not in form


def test_credentials_are_created_edited_and_deleted(app, client, officer):
    [okta, bitbucket, jira, wiki] = add(
        app,
        Vendor(name="Okta-like"),
        System(name="Bitbucket"),
        System(name="Jira"),
        System(name="Wiki"),
    )
    form = credential_form(
        bitbucket, holder_vendor_id=str(okta), interactive="y", stored_in=[str(jira), str(wiki)]
    )
    created = client.post("/inventory/credentials/new", data=form)
    assert created.status_code == 302
    with app.app_context():
        credential = db.session.scalar(sa.select(Credential))
        credential_id, issued = credential.id, credential.issued_at
    assert issued == datetime(2023, 1, 10, tzinfo=UTC)
    assert count(app, CredentialCopy, CredentialCopy.credential_id == credential_id) == 2
    listing = client.get("/inventory/credentials").get_data(as_text=True)
    assert "svc-bitbucket" in listing and '<td class="num">2</td>' in listing
    assert "svc-bitbucket" in text(client.get(f"/inventory/vendors/{okta}/credentials"))

    # A recorded time survives an edit that keeps the day.
    with app.app_context():
        db.session.get(Credential, credential_id).issued_at = datetime(
            2023, 1, 10, 14, 30, tzinfo=UTC
        )
        db.session.commit()
    edit_page = client.get(f"/inventory/credentials/{credential_id}/edit").get_data(as_text=True)
    assert 'value="2023-01-10"' in edit_page
    assert re.search(rf'<option selected value="{jira}">', edit_page)
    edited = client.post(
        f"/inventory/credentials/{credential_id}/edit",
        data=form
        | {
            "stored_in": [str(wiki)],
            "status": "revoked",
            "holder_vendor_id": "",
            "version": str(get(app, Credential, credential_id).version),
        },
    )
    assert edited.status_code == 302
    credential = get(app, Credential, credential_id)
    assert credential.status is CredentialStatus.revoked and credential.holder_vendor_id is None
    assert credential.issued_at == datetime(2023, 1, 10, 14, 30, tzinfo=UTC)
    with app.app_context():
        assert db.session.scalars(sa.select(CredentialCopy.system_id)).all() == [wiki]

    confirm = text(client.get(f"/inventory/credentials/{credential_id}/delete"))
    assert "copies stored in Wiki" in confirm and "does not revoke it" in confirm
    assert client.post(f"/inventory/credentials/{credential_id}/delete").status_code == 302
    assert count(app, Credential) == 0 and count(app, CredentialCopy) == 0

    [created_event] = events(app, "inventory.credential.created")
    [updated_event] = events(app, "inventory.credential.updated")
    [deleted_event] = events(app, "inventory.credential.deleted")
    assert created_event.vendor_id == okta
    assert created_event.details["stored_in"] == sorted([jira, wiki])
    assert sorted(updated_event.details["changed"]) == ["holder_vendor_id", "status", "stored_in"]
    assert updated_event.details["previous_holder_id"] == okta
    assert deleted_event.object_id == str(credential_id)


def test_credential_errors_are_shown_at_each_field(app, client, officer):
    [jira] = add(app, System(name="Jira"))
    response = client.post(
        "/inventory/credentials/new",
        data=credential_form(
            jira,
            name="",
            kind="",
            system_id="",
            issued_at="2024-05-01",
            last_rotated_at="2024-04-01",
            expires_at="2024-01-01",
            phishing_resistant_mfa="y",
            rotation_period_days="0",
            stored_in=["999"],
        ),
    )
    assert response.status_code == 400
    assert field_error(response, "name")
    assert field_error(response, "kind") == "Choose one of the listed options."
    assert field_error(response, "system_id") == "Choose the system it opens."
    assert "rotated before it was issued" in field_error(response, "last_rotated_at")
    assert "expire before it was issued" in field_error(response, "expires_at")
    assert "MFA enforced" in field_error(response, "phishing_resistant_mfa")
    assert field_error(response, "rotation_period_days")
    assert field_error(response, "stored_in")
    assert count(app, Credential) == 0

    make = client.post("/inventory/credentials/new", data=credential_form(jira))
    assert make.status_code == 302
    duplicate = client.post(
        "/inventory/credentials/new", data=credential_form(jira, name="SVC-Bitbucket")
    )
    assert duplicate.status_code == 400
    assert field_error(duplicate, "name") == "A credential with this name already exists."


def test_rotation_status_of_each_credential(app, client, officer):
    now = utcnow()
    [okta, jira] = add(app, Vendor(name="Okta-like"), System(name="Jira"))

    def credential(name, **fields):
        return Credential(
            name=name,
            kind=CredentialKind.api_token,
            system_id=jira,
            holder_vendor_id=okta,
            **fields,
        )

    days = timedelta(days=1)
    add(
        app,
        credential(
            "revoked-and-old",
            status=CredentialStatus.revoked,
            issued_at=now - 400 * days,
            rotation_period_days=30,
        ),
        credential("expired", expires_at=now - days, last_rotated_at=now - days),
        credential(
            "overdue-since-rotation", last_rotated_at=now - 100 * days, rotation_period_days=90
        ),
        credential("overdue-since-issue", issued_at=now - 100 * days, rotation_period_days=90),
        credential(
            "expiring",
            last_rotated_at=now - days,
            rotation_period_days=90,
            expires_at=now + 10 * days,
        ),
        credential("never-rotated", issued_at=now - 10 * days, rotation_period_days=90),
        credential("never-rotated-no-dates"),
        credential(
            "active",
            last_rotated_at=now - 10 * days,
            rotation_period_days=90,
            expires_at=now + 100 * days,
        ),
        credential("active-without-period", last_rotated_at=now - 400 * days),
        credential("due-tomorrow", last_rotated_at=now - 89 * days, rotation_period_days=90),
    )
    expected = {
        "revoked": ["revoked-and-old"],
        "expired": ["expired"],
        "overdue": ["overdue-since-issue", "overdue-since-rotation"],
        "expiring_soon": ["expiring"],
        "never_rotated": ["never-rotated", "never-rotated-no-dates"],
        "active": ["active", "active-without-period", "due-tomorrow"],
    }
    for status, names in expected.items():
        response = client.get(f"/inventory/credentials?rotation={status}")
        assert credential_names(response) == names, status
    assert client.get("/inventory/credentials?rotation=bogus").status_code == 400

    # Most urgent first, on the list and on the vendor's tab: the same rule.
    urgent = credential_names(client.get("/inventory/credentials?sort=rotation"))
    assert urgent[:3] == ["overdue-since-issue", "overdue-since-rotation", "expired"]
    assert urgent[-1] == "revoked-and-old"
    tab = client.get(f"/inventory/vendors/{okta}/credentials")
    assert credential_names(tab) == urgent
    row = tab.get_data(as_text=True).split(">expiring<")[1].split("</tr>")[0]
    assert "expiring soon" in row


def test_credential_list_filters_sorts_and_pages(app, client, officer):
    [okta, other, jira, wiki] = add(
        app,
        Vendor(name="Okta-like"),
        Vendor(name="Other"),
        System(name="Jira"),
        System(name="Wiki"),
    )
    ids = add(
        app,
        *(
            Credential(
                name=f"cred-{n:02d}",
                kind=CredentialKind.api_token,
                system_id=jira if n % 2 else wiki,
                holder_vendor_id=okta if n < 40 else other,
                status=CredentialStatus.revoked if n % 10 == 0 else CredentialStatus.active,
            )
            for n in range(60)
        ),
    )
    add(app, CredentialCopy(credential_id=ids[5], system_id=wiki))
    first = client.get("/inventory/credentials")
    assert len(credential_names(first)) == 50 and "60 credentials" in text(first)
    assert credential_names(client.get("/inventory/credentials?page=2"))[0] == "cred-50"
    assert (
        len(credential_names(client.get(f"/inventory/credentials?holder_vendor_id={other}"))) == 20
    )
    by_system = credential_names(
        client.get(f"/inventory/credentials?system_id={jira}&status=revoked")
    )
    assert by_system == []  # revoked ones are the multiples of ten: all on the wiki
    revoked = credential_names(client.get("/inventory/credentials?status=revoked"))
    assert revoked == [f"cred-{n:02d}" for n in range(0, 60, 10)]
    assert credential_names(client.get(f"/inventory/credentials?stored_in={wiki}")) == ["cred-05"]
    assert (
        credential_names(client.get("/inventory/credentials?sort=name&direction=desc"))[0]
        == "cred-59"
    )
    holders = credential_names(client.get("/inventory/credentials?sort=holder&direction=desc"))
    assert holders[0] == "cred-40"  # "Other" before "Okta-like", ties by name
    assert client.get("/inventory/credentials?holder_vendor_id=999").status_code == 400


# ---- who may see the inventory -------------------------------------------------------------


@pytest.fixture
def inventory_world(app, make_vendor):
    """One of every object, so each inventory route has something real to act on."""
    vendor = make_vendor("Acme")
    [other, system, category] = add(
        app, Vendor(name="Fourth"), System(name="Jira"), DataCategory(name="PII")
    )
    [credential, link] = add(
        app,
        Credential(
            name="svc", kind=CredentialKind.api_token, system_id=system, holder_vendor_id=vendor
        ),
        SubprocessorLink(vendor_id=vendor, subprocessor_id=other),
    )
    [zone, reached, party] = add(
        app, NetworkZone(name="Office"), NetworkZone(name="Production"), FourthParty(name="Host")
    )
    add(
        app,
        VendorData(vendor_id=vendor, data_category_id=category),
        SystemData(system_id=system, data_category_id=category),
        ZoneReach(from_zone_id=zone, to_zone_id=reached),
    )
    [idp] = add(app, System(name="Okta-like"))
    [federation, supply] = add(
        app,
        Federation(identity_provider_id=idp, system_id=system),
        SoftwareSupply(system_id=system, vendor_id=vendor, software="agent"),
    )
    return {
        "vendor_id": vendor,
        "system_id": system,
        "data_category_id": category,
        "credential_id": credential,
        "link_id": link,
        "zone_id": zone,
        "to_zone_id": reached,
        "fourth_party_id": party,
        "federation_id": federation,
        "supply_id": supply,
    }


def inventory_requests(app, ids) -> list[tuple[str, str]]:
    with app.test_request_context():
        from flask import url_for

        return sorted(
            (method, url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("inventory.")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        )


@pytest.mark.parametrize("role", [Role.vendor_contact, Role.admin])
def test_vendor_contacts_and_admins_get_403_on_every_inventory_page(
    app, client, make_user, inventory_world, role
):
    vendor_id = inventory_world["vendor_id"] if role is Role.vendor_contact else None
    login_as(client, make_user(role, vendor_id=vendor_id))
    requests = inventory_requests(app, inventory_world)
    assert len(requests) == 82
    for method, path in requests:
        response = client.open(path, method=method, data={"name": "x"})
        assert response.status_code == 403, (method, path)
    assert count(app, Vendor) == 2 and count(app, Credential) == 1
    assert count(app, NetworkZone) == 2 and count(app, FourthParty) == 1
    assert count(app, ZoneReach) == 1
    assert len(events(app, "access.denied")) == 82


@pytest.mark.parametrize("role", [Role.procurement, Role.risk_officer])
def test_procurement_and_risk_officers_see_every_inventory_page(
    app, client, make_user, inventory_world, role
):
    login_as(client, make_user(role))
    for method, path in inventory_requests(app, inventory_world):
        if method == "GET":
            assert client.get(path).status_code == 200, path
    navigation = client.get("/inventory/vendors").get_data(as_text=True)
    for path in (
        "/inventory/vendors",
        "/inventory/credentials",
        "/inventory/systems",
        "/inventory/data-categories",
        "/inventory/zones",
        "/inventory/fourth-parties",
    ):
        assert f'href="{path}"' in navigation


# ---- forms as a browser sends them, and hostile input ----------------------------------------


def test_the_small_forms_work_with_their_security_tokens(make_app, make_user):
    """With CSRF on, as in production: the per-row forms (prefixed fields and token) and the
    remove buttons send the token the page gave them."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_as(client, make_user(Role.risk_officer))
    [vendor_id, category_id] = add(app, Vendor(name="Acme"), DataCategory(name="PII"))
    add(app, VendorData(vendor_id=vendor_id, data_category_id=category_id, records=1))
    tab = f"/inventory/vendors/{vendor_id}/data"
    page = client.get(tab).get_data(as_text=True)
    token = re.search(rf'name="holding-{category_id}-csrf_token"[^>]*value="([^"]+)"', page)
    updated = client.post(
        f"{tab}/{category_id}",
        data={f"holding-{category_id}-records": "7", f"holding-{category_id}-csrf_token": token[1]},
    )
    assert updated.status_code == 302
    with app.app_context():
        assert db.session.get(VendorData, (vendor_id, category_id)).records == 7

    remove_form = page.split(f"/data/{category_id}/remove")[1]
    remove_token = re.search(r'name="csrf_token" value="([^"]+)"', remove_form)[1]
    assert client.post(f"{tab}/{category_id}/remove").status_code == 400  # no token
    removed = client.post(f"{tab}/{category_id}/remove", data={"csrf_token": remove_token})
    assert removed.status_code == 302
    assert count(app, VendorData) == 0


HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
hostile_text = st.text(max_size=80) | st.sampled_from(
    [
        *HOSTILE,
        "' OR 1=1 --",
        "%",
        "_",
        "9" * 30,
        "-1",
        "2024-02-30",
        "0001-01-01",
        "\U0001d518\u0307",
    ]
)
fuzz = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(
    name=hostile_text,
    website=hostile_text,
    status=hostile_text,
    contract_start=hostile_text,
    contract_end=hostile_text,
    notes=hostile_text,
)
def test_vendor_form_never_fails_on_hostile_input(
    client, officer, name, website, status, contract_start, contract_end, notes
):
    form = vendor_form(
        name=name,
        website=website,
        email_domains=notes,
        status=status,
        notes=notes,
        contract_start=contract_start,
        contract_end=contract_end,
    )
    response = client.post("/inventory/vendors/new", data=form)
    assert response.status_code in {302, 400}
    page = response.get_data(as_text=True)
    assert not any(value in page for value in HOSTILE)


@fuzz
@given(
    q=hostile_text,
    status=hostile_text,
    sort=hostile_text,
    page=hostile_text,
    rotation=hostile_text,
    vendor=hostile_text,
)
def test_list_filters_never_fail_on_hostile_input(
    client, officer, q, status, sort, page, rotation, vendor
):
    responses = [
        client.get(
            "/inventory/vendors",
            query_string={"q": q, "status": status, "sort": sort, "page": page},
        ),
        client.get(
            "/inventory/credentials",
            query_string={
                "q": q,
                "rotation": rotation,
                "holder_vendor_id": vendor,
                "sort": sort,
                "page": page,
            },
        ),
        client.get("/inventory/systems", query_string={"q": q, "page": page}),
    ]
    for response in responses:
        assert response.status_code in {200, 400}
        assert not any(value in response.get_data(as_text=True) for value in HOSTILE)


@fuzz
@given(records=hostile_text, period=hostile_text, issued=hostile_text, kind=hostile_text)
def test_credential_and_holding_forms_never_fail_on_hostile_input(
    app, client, officer, records, period, issued, kind
):
    with app.app_context():
        system_id = db.session.scalar(sa.select(System.id).where(System.name == "Jira"))
        vendor_id = db.session.scalar(sa.select(Vendor.id).where(Vendor.name == "Acme"))
        category_id = db.session.scalar(sa.select(DataCategory.id))
    if system_id is None:
        [system_id, vendor_id, category_id] = add(
            app, System(name="Jira"), Vendor(name="Acme"), DataCategory(name="PII")
        )
    response = client.post(
        "/inventory/credentials/new",
        data=credential_form(
            system_id,
            name=f"c-{records}"[:200],
            kind=kind,
            issued_at=issued,
            rotation_period_days=period,
        ),
    )
    assert response.status_code in {302, 400}
    held = client.post(
        f"/inventory/vendors/{vendor_id}/data",
        data={"data_category_id": str(category_id), "records": records},
    )
    assert held.status_code in {302, 400}


def test_a_crafted_post_without_free_text_fields_saves_empty_text(app, client, officer):
    [bitbucket] = add(app, System(name="Bitbucket"))
    assert (
        client.post("/inventory/credentials/new", data=credential_form(bitbucket)).status_code
        == 302
    )
    with app.app_context():
        credential_id = db.session.scalar(sa.select(Credential.id))
    form = credential_form(bitbucket, version="1")
    for name in ("notes", "owner"):
        form.pop(name, None)
    edited = client.post(f"/inventory/credentials/{credential_id}/edit", data=form)
    assert edited.status_code == 302
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert (credential.notes, credential.owner) == ("", "")


def _upload(client, content: bytes, **fields):
    data = {"file": (io.BytesIO(content), "vendors.csv"), **fields}
    return client.post("/inventory/vendors/import", data=data, content_type="multipart/form-data")


def test_a_csv_list_of_vendors_is_imported_all_or_nothing(app, client, officer, make_vendor):
    make_vendor("Okta")
    page = client.get("/inventory/vendors").get_data(as_text=True)
    assert 'href="/inventory/vendors/import"' in page

    bad = _upload(
        client,
        b"name,criticality,website\nNimbus Cloud,urgent,https://nimbus.example\n"
        b",high,\nMailRelay,low,ftp://mail.example\n",
    )
    text_bad = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Nothing was imported: " in text_bad
    assert "criticality" in text_bad and "urgent" in text_bad
    assert count(app, Vendor) == 1  # only Okta, made before

    checked = _upload(client, b"name,criticality\nNimbus Cloud,high\nOkta,critical\n", dry_run="y")
    assert checked.status_code == 200
    assert "Checked: nothing was saved" in checked.get_data(as_text=True)
    assert count(app, Vendor) == 1

    done = _upload(client, b"\xef\xbb\xbfname,criticality\nNimbus Cloud,high\nOkta,critical\n")
    text_done = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "1 created (Nimbus Cloud)" in text_done and "1 updated (Okta)" in text_done
    assert count(app, Vendor) == 2


def test_a_file_that_is_not_csv_text_is_refused_at_the_field(client, officer):
    # Latin-1 is read (tests/test_inventory_import_page.py); Cyrillic in Windows-1251 is not.
    for content in (b"\x89PNG\r\n\x1a\n\x00\x00", CYRILLIC_CSV):
        response = _upload(client, content)
        assert response.status_code == 400
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    missing = client.post("/inventory/vendors/import", data={})
    assert "Choose a CSV file." in missing.get_data(as_text=True)
