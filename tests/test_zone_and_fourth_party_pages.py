"""The pages of issue 14's network zones and fourth parties, the vendor's Subprocessors tab with
fourth parties and the records passed, and the portfolio's table of the subprocessors most of
our vendors rely on: as procurement and risk officers use them."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from conftest import add, count, events, get, login_as, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.db import db
from vendor_risk.models import (
    DataCategory,
    FourthParty,
    NetworkZone,
    Role,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemOpenZone,
    SystemZone,
    Vendor,
    ZoneReach,
)

BIGINT_MAX = 2**63 - 1


@pytest.fixture
def officer(client, make_user):
    """A procurement user, logged in."""
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


def field_error(response, field: str) -> str:
    """The error shown at a field (tied to it by id), or ''."""
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else ""


def created_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


# ---- network zones -------------------------------------------------------------------------


def test_a_zone_is_created_edited_and_deleted_through_the_pages(app, client, officer):
    zone_id = created_id(
        client.post("/inventory/zones/new", data={"name": "Office LAN", "description": "Desks"})
    )
    [wiki, other] = add(app, System(name="Wiki"), NetworkZone(name="Production"))
    add(
        app,
        SystemZone(system_id=wiki, zone_id=zone_id),
        ZoneReach(from_zone_id=other, to_zone_id=zone_id),
    )
    page = text(client.get(f"/inventory/zones/{zone_id}"))
    assert "Office LAN" in page and "Desks" in page and "Wiki" in page
    listed = text(client.get("/inventory/zones?q=office"))
    assert "Office LAN" in listed and "Production" not in listed
    assert re.search(r"Office LAN</a></td>\s*<td>Desks</td>\s*<td class=\"num\">1</td>", listed)

    edit_page = client.get(f"/inventory/zones/{zone_id}/edit")
    assert 'value="Office LAN"' in edit_page.get_data(as_text=True)
    edited = client.post(
        f"/inventory/zones/{zone_id}/edit",
        data={"name": "Office network", "description": "Desks and printers", "version": "1"},
    )
    assert edited.status_code == 302
    assert get(app, NetworkZone, zone_id).name == "Office network"

    confirm = text(client.get(f"/inventory/zones/{zone_id}/delete"))
    assert "the membership of its systems: Wiki" in confirm
    assert "the reach to it from the zones: Production" in confirm
    assert get(app, NetworkZone, zone_id) is not None  # a GET deletes nothing
    deleted = client.post(f"/inventory/zones/{zone_id}/delete")
    assert deleted.status_code == 302 and deleted.headers["Location"] == "/inventory/zones"
    assert get(app, NetworkZone, zone_id) is None
    assert get(app, System, wiki) is not None and count(app, SystemZone) == 0
    assert count(app, ZoneReach) == 0
    assert [
        len(events(app, f"inventory.network_zone.{a}")) for a in ("created", "updated", "deleted")
    ] == [1, 1, 1]


def test_a_zone_form_refuses_bad_input_at_the_field_and_saves_nothing(app, client, officer):
    [zone_id] = add(app, NetworkZone(name="DMZ"))
    empty = client.post("/inventory/zones/new", data={"name": "  ", "description": ""})
    assert empty.status_code == 400 and "Enter the zone's name." in field_error(empty, "name")
    taken = client.post("/inventory/zones/new", data={"name": "dmz"})
    assert taken.status_code == 400 and "already exists" in field_error(taken, "name")
    long = client.post("/inventory/zones/new", data={"name": "z" * 201})
    assert long.status_code == 400 and field_error(long, "name")
    assert count(app, NetworkZone) == 1

    [other] = add(app, NetworkZone(name="Office"))
    renamed = client.post(f"/inventory/zones/{other}/edit", data={"name": "DMZ", "version": "1"})
    assert renamed.status_code == 400 and "already exists" in field_error(renamed, "name")
    # Someone saved the zone after this form was opened: a conflict, never an overwrite.
    assert (
        client.post(
            f"/inventory/zones/{zone_id}/edit",
            data={"name": "DMZ", "description": "v2", "version": "1"},
        ).status_code
        == 302
    )
    stale = client.post(
        f"/inventory/zones/{zone_id}/edit",
        data={"name": "DMZ", "description": "mine", "version": "1"},
    )
    assert stale.status_code == 400 and "Someone else saved this network zone" in text(stale)
    assert get(app, NetworkZone, zone_id).description == "v2"
    assert client.get("/inventory/zones?page=0").status_code == 400


def test_zones_reach_each_other_in_a_cycle_and_reaches_are_removed(app, client, officer):
    [office, prod, lab] = add(
        app, NetworkZone(name="Office"), NetworkZone(name="Production"), NetworkZone(name="Lab")
    )
    [printer, db_server] = add(app, System(name="Printer"), System(name="Database"))
    add(
        app,
        SystemZone(system_id=printer, zone_id=office),
        SystemOpenZone(system_id=db_server, zone_id=office),
    )
    assert (
        client.post(
            f"/inventory/zones/{office}/reaches", data={"to_zone_id": str(prod)}
        ).status_code
        == 302
    )
    # The reverse too: a cycle is how flat networks are.
    assert (
        client.post(
            f"/inventory/zones/{prod}/reaches", data={"to_zone_id": str(office)}
        ).status_code
        == 302
    )
    assert count(app, ZoneReach) == 2

    page = client.get(f"/inventory/zones/{office}")
    body = text(page)
    reaches = body.split("Zones it reaches")[1].split("Add a zone it reaches")[0]
    reaching = body.split("Zones reaching it")[1].split("Systems in it")[0]
    assert "Production" in reaches and "Production" in reaching and "Lab" not in reaches
    assert "Printer" in body.split("Systems in it")[1].split("Systems open to it")[0]
    assert "Database" in body.split("Systems open to it without sign-in")[1]
    # The add form offers only the zones not reached yet, never the zone itself.
    options = re.findall(r'<option value="(\d+)"', page.get_data(as_text=True))
    assert options == [str(lab)]

    again = client.post(f"/inventory/zones/{office}/reaches", data={"to_zone_id": str(prod)})
    assert again.status_code == 400 and field_error(again, "to_zone_id")
    itself = client.post(f"/inventory/zones/{office}/reaches", data={"to_zone_id": str(office)})
    assert itself.status_code == 400 and field_error(itself, "to_zone_id")
    for bad in ("", "999", "x", str(2**64)):
        refused = client.post(f"/inventory/zones/{office}/reaches", data={"to_zone_id": bad})
        assert refused.status_code == 400 and field_error(refused, "to_zone_id"), bad
    assert count(app, ZoneReach) == 2

    assert client.post(f"/inventory/zones/{office}/reaches/{prod}/remove").status_code == 302
    assert client.post(f"/inventory/zones/{office}/reaches/{prod}/remove").status_code == 404
    assert client.post(f"/inventory/zones/{lab}/reaches/{office}/remove").status_code == 404
    with app.app_context():
        left = db.session.execute(sa.select(ZoneReach.from_zone_id, ZoneReach.to_zone_id)).all()
    assert left == [(prod, office)]
    changes = [e.details for e in events(app, "inventory.network_zone.updated")]
    assert [c.get("reach_added") or c.get("reach_removed") for c in changes] == [
        "Production",
        "Office",
        "Production",
    ]


# ---- fourth parties ------------------------------------------------------------------------


def test_a_fourth_party_is_created_edited_and_deleted_through_the_pages(app, client, officer):
    party = created_id(
        client.post(
            "/inventory/fourth-parties/new", data={"name": "CloudStore", "service": "Hosting"}
        )
    )
    [crm, mail, pii] = add(
        app,
        Vendor(name="Pipeline CRM"),
        Vendor(name="MailRelay"),
        DataCategory(name="Customer PII"),
    )
    [link, _] = add(
        app,
        SubprocessorLink(vendor_id=crm, fourth_party_id=party, purpose="Backups"),
        SubprocessorLink(vendor_id=mail, fourth_party_id=party, purpose="Storage"),
    )
    add(app, SubprocessorData(link_id=link, data_category_id=pii, records=12000))
    page = text(client.get(f"/inventory/fourth-parties/{party}"))
    assert "Hosting" in page and "Our vendors relying on it (2)" in page
    assert "Pipeline CRM" in page and "Customer PII (12,000 records)" in page
    listed = text(client.get("/inventory/fourth-parties?q=cloud"))
    assert re.search(r"CloudStore</a></td>\s*<td>Hosting</td>\s*<td class=\"num\">2</td>", listed)
    assert "CloudStore" not in text(client.get("/inventory/fourth-parties?q=nothing"))

    edited = client.post(
        f"/inventory/fourth-parties/{party}/edit",
        data={"name": "CloudStore Inc", "service": "Object storage", "version": "1"},
    )
    assert edited.status_code == 302
    assert get(app, FourthParty, party).service == "Object storage"

    confirm = text(client.get(f"/inventory/fourth-parties/{party}/delete"))
    assert "MailRelay, Pipeline CRM" in confirm
    assert client.post(f"/inventory/fourth-parties/{party}/delete").status_code == 302
    assert get(app, FourthParty, party) is None
    assert count(app, SubprocessorLink) == count(app, SubprocessorData) == 0
    assert get(app, Vendor, crm) is not None
    assert len(events(app, "inventory.fourth_party.deleted")) == 1


def test_a_fourth_party_form_refuses_bad_input_at_the_field(app, client, officer):
    add(app, FourthParty(name="CloudStore"))
    new = "/inventory/fourth-parties/new"
    empty = client.post(new, data={"name": "", "service": "x"})
    assert empty.status_code == 400 and field_error(empty, "name")
    taken = client.post(new, data={"name": "CLOUDSTORE"})
    assert taken.status_code == 400 and "already exists" in field_error(taken, "name")
    long = client.post(new, data={"name": "n" * 201})
    assert long.status_code == 400 and field_error(long, "name")
    secret = client.post(new, data={"name": "Box", "service": "AKIAIOSFODNN7EXAMPLE"})
    assert secret.status_code == 400 and "never" in field_error(secret, "service")
    assert count(app, FourthParty) == 1
    assert client.get("/inventory/fourth-parties/999").status_code == 404


# ---- the vendor's Subprocessors tab --------------------------------------------------------


def subprocessor_form(**overrides) -> dict:
    form = {
        "subprocessor_id": "",
        "fourth_party_id": "",
        "fourth_party_name": "",
        "fourth_party_service": "",
        "purpose": "Stores the backups",
        "records": "",
    }
    return form | overrides


def test_a_new_fourth_party_typed_on_the_tab_is_recorded_once(app, client, officer):
    [crm, mail, pii, docs] = add(
        app,
        Vendor(name="Pipeline CRM"),
        Vendor(name="MailRelay"),
        DataCategory(name="Customer PII"),
        DataCategory(name="Internal documents"),
    )
    tab = f"/inventory/vendors/{crm}/subprocessors"
    form = subprocessor_form(
        fourth_party_name="CloudStore",
        fourth_party_service="Object storage",
        data_category_ids=[str(pii), str(docs)],
        records="250000",
    )
    # One records figure for two categories: refused at the field, nothing saved.
    several = client.post(tab, data=form)
    assert several.status_code == 400 and "one data category" in field_error(several, "records")
    assert count(app, FourthParty) == count(app, SubprocessorLink) == 0
    form["records"] = ""
    assert client.post(tab, data=form).status_code == 302
    [party] = [p.id for p in _all(app, FourthParty)]
    assert get(app, FourthParty, party).service == "Object storage"
    page = text(client.get(tab))
    assert "CloudStore" in page and "fourth party" in page
    assert passed_records(app) == {"Customer PII": None, "Internal documents": None}
    assert f"/inventory/fourth-parties/{party}" in page

    # The same again: refused at the field, no second fourth party.
    again = client.post(tab, data=form)
    assert again.status_code == 400 and "already" in field_error(again, "fourth_party_name")
    # Another vendor typing the same name (any case) relies on the same fourth party.
    other = f"/inventory/vendors/{mail}/subprocessors"
    assert (
        client.post(other, data=subprocessor_form(fourth_party_name="cloudstore")).status_code
        == 302
    )
    assert count(app, FourthParty) == 1 and count(app, SubprocessorLink) == 2
    assert len(events(app, "inventory.fourth_party.created")) == 1
    # ...or choosing it from the list of recorded ones.
    chosen = client.post(tab, data=subprocessor_form(fourth_party_id=str(party)))
    assert chosen.status_code == 400 and "already" in field_error(chosen, "fourth_party_id")

    added = [
        e
        for e in events(app, "inventory.vendor.updated")
        if e.details["change"] == "subprocessor added"
    ]
    assert [(e.vendor_id, e.details["subprocessor"]) for e in added] == [
        (crm, "CloudStore"),
        (mail, "CloudStore"),
    ]
    assert added[0].details["records"] is None
    assert added[0].details["data_categories"] == ["Customer PII", "Internal documents"]

    # Removing the link leaves the fourth party recorded.
    [link] = re.findall(r"/subprocessors/(\d+)/remove", client.get(tab).get_data(as_text=True))
    assert client.post(f"{tab}/{link}/remove").status_code == 302
    assert count(app, SubprocessorLink) == 1 and count(app, FourthParty) == 1
    assert "None recorded." in text(client.get(tab))


def test_the_tab_adds_our_vendors_and_recorded_fourth_parties_and_removes_both(
    app, client, officer
):
    [crm, mail, party, pii] = add(
        app,
        Vendor(name="Pipeline CRM"),
        Vendor(name="MailRelay"),
        FourthParty(name="CloudStore"),
        DataCategory(name="Customer PII"),
    )
    tab = f"/inventory/vendors/{crm}/subprocessors"
    ours = subprocessor_form(subprocessor_id=str(mail), data_category_ids=[str(pii)])
    assert client.post(tab, data=ours).status_code == 302
    theirs = subprocessor_form(
        fourth_party_id=str(party), data_category_ids=[str(pii)], records=str(BIGINT_MAX)
    )
    assert client.post(tab, data=theirs).status_code == 302
    with app.app_context():
        records = set(db.session.scalars(sa.select(SubprocessorData.records)))
    assert records == {None, BIGINT_MAX}
    page = client.get(tab).get_data(as_text=True)
    assert f'value="{BIGINT_MAX}"' in page
    relying = text(client.get(f"/inventory/vendors/{mail}/subprocessors"))
    assert "Pipeline CRM" in relying and "Customer PII (records unknown)" in relying

    links = re.findall(r"/subprocessors/(\d+)/remove", client.get(tab).get_data(as_text=True))
    assert len(links) == 2
    for link in links:
        assert client.post(f"{tab}/{link}/remove").status_code == 302
    assert count(app, SubprocessorLink) == 0 and count(app, SubprocessorData) == 0
    assert count(app, FourthParty) == 1
    removed = [
        e.details
        for e in events(app, "inventory.vendor.updated")
        if e.details["change"] == "subprocessor removed"
    ]
    assert sorted(d["subprocessor"] for d in removed) == ["CloudStore", "MailRelay"]


@pytest.mark.parametrize("records", ["-1", str(2**63), str(10**30), "12abc", "1e3", "1.5"])
def test_bad_records_are_refused_at_the_field_and_nothing_is_saved(app, client, officer, records):
    [crm, pii] = add(app, Vendor(name="Pipeline CRM"), DataCategory(name="Customer PII"))
    tab = f"/inventory/vendors/{crm}/subprocessors"
    form = subprocessor_form(
        fourth_party_name="CloudStore", data_category_ids=[str(pii)], records=records
    )
    refused = client.post(tab, data=form)
    assert refused.status_code == 400
    assert field_error(refused, "records")
    assert 'value="CloudStore"' in refused.get_data(as_text=True)  # what was typed stays
    assert count(app, FourthParty) == count(app, SubprocessorLink) == 0


def test_records_without_a_category_are_refused(app, client, officer):
    [crm] = add(app, Vendor(name="Pipeline CRM"))
    tab = f"/inventory/vendors/{crm}/subprocessors"
    refused = client.post(tab, data=subprocessor_form(fourth_party_name="CloudStore", records="5"))
    assert refused.status_code == 400 and "categories" in field_error(refused, "records")
    assert count(app, FourthParty) == 0


# ---- the data passed on a link: a row per data category, with its own records -------------


def passed_records(app, link: int | None = None) -> dict[str, int | None]:
    """The records passed on per data category (of one link, or of every link)."""
    query = sa.select(DataCategory.name, SubprocessorData.records).join(
        SubprocessorData, SubprocessorData.data_category_id == DataCategory.id
    )
    if link is not None:
        query = query.where(SubprocessorData.link_id == link)
    with app.app_context():
        return dict(db.session.execute(query).all())


def field_value(page: str, field: str) -> str | None:
    """The value of the input of that id ('' when it has none), or None without the input."""
    tag = re.search(rf'<input[^>]*\bid="{re.escape(field)}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def inventory_version(app) -> int:
    """Bumped by every inventory change: the portfolio aggregates are stale until recomputed."""
    from vendor_risk.services.portfolio import aggregates as portfolio

    with app.app_context():
        return portfolio.freshness(db.session).inventory_version


def data_changes(app) -> list[dict]:
    return [
        e.details
        for e in events(app, "inventory.vendor.updated")
        if e.details["change"].startswith("subprocessor data")
    ]


@pytest.fixture
def link_with_data(app, client, officer):
    """Pipeline CRM passes Customer PII and Internal documents to the fourth party CloudStore
    (records unknown); a third category, Source code, is not passed on."""
    [crm, pii, docs, code] = add(
        app,
        Vendor(name="Pipeline CRM"),
        DataCategory(name="Customer PII"),
        DataCategory(name="Internal documents"),
        DataCategory(name="Source code"),
    )
    tab = f"/inventory/vendors/{crm}/subprocessors"
    form = subprocessor_form(
        fourth_party_name="CloudStore", data_category_ids=[str(pii), str(docs)]
    )
    assert client.post(tab, data=form).status_code == 302
    [link] = [link.id for link in _all(app, SubprocessorLink)]
    return {"crm": crm, "pii": pii, "docs": docs, "code": code, "tab": tab, "link": link}


def test_each_category_passed_on_has_its_own_records_edited_at_its_row(app, client, link_with_data):
    d = link_with_data
    tab, link, pii, docs = d["tab"], d["link"], d["pii"], d["docs"]
    page = client.get(tab).get_data(as_text=True)
    # A labelled records field per category passed on.
    for category, category_id in (("Customer PII", pii), ("Internal documents", docs)):
        field = f"link-{link}-data-{category_id}-records"
        assert f'for="{field}">Approximate records of {category} passed on to CloudStore' in page
        assert f'id="{field}"' in page

    version = inventory_version(app)
    row = f"{tab}/{link}/data/{pii}"
    assert client.post(row, data={f"link-{link}-data-{pii}-records": "1500000"}).status_code == 302
    assert passed_records(app, link) == {"Customer PII": 1500000, "Internal documents": None}
    assert inventory_version(app) > version  # the portfolio's aggregates are stale
    page = client.get(tab).get_data(as_text=True)
    assert "Records saved." in page
    assert field_value(page, f"link-{link}-data-{pii}-records") == "1500000"
    assert field_value(page, f"link-{link}-data-{docs}-records") == ""

    # The largest figure, then back to unknown (the field emptied).
    big = {f"link-{link}-data-{docs}-records": str(BIGINT_MAX)}
    assert client.post(f"{tab}/{link}/data/{docs}", data=big).status_code == 302
    assert client.post(row, data={f"link-{link}-data-{pii}-records": ""}).status_code == 302
    assert passed_records(app, link) == {"Customer PII": None, "Internal documents": BIGINT_MAX}
    # Saving the same figure again changes nothing and records nothing.
    assert client.post(f"{tab}/{link}/data/{docs}", data=big).status_code == 302

    assert [(c["data_category"], c["records"], c["change"]) for c in data_changes(app)] == [
        ("Customer PII", 1500000, "subprocessor data records changed"),
        ("Internal documents", BIGINT_MAX, "subprocessor data records changed"),
        ("Customer PII", None, "subprocessor data records changed"),
    ]
    assert {c["subprocessor"] for c in data_changes(app)} == {"CloudStore"}
    [event] = events(app, "inventory.vendor.updated")[-1:]
    assert event.vendor_id == d["crm"] and event.details["name"] == "Pipeline CRM"


@pytest.mark.parametrize("records", ["-1", str(2**63), str(10**30), "12abc", "1e3", "1.5", " "])
def test_bad_records_on_a_row_are_refused_at_that_row_and_nothing_is_saved(
    app, client, link_with_data, records
):
    d = link_with_data
    tab, link, pii, docs = d["tab"], d["link"], d["pii"], d["docs"]
    assert (
        client.post(f"{tab}/{link}/data/{docs}", data={f"link-{link}-data-{docs}-records": "7"})
    ).status_code == 302
    before = len(data_changes(app))
    version = inventory_version(app)
    field = f"link-{link}-data-{pii}-records"
    refused = client.post(f"{tab}/{link}/data/{pii}", data={field: records})
    if records == " ":  # blank is "unknown", as it was: nothing to save
        assert refused.status_code == 302
    else:
        assert refused.status_code == 400
        assert field_error(refused, field)
        assert not field_error(refused, f"link-{link}-data-{docs}-records")  # not the other row
        body = refused.get_data(as_text=True)
        assert f'aria-describedby="{field}-error"' in body
        assert field_value(body, f"link-{link}-data-{docs}-records") == "7"  # as saved
        assert field_value(body, field) == records  # what was typed stays
    assert passed_records(app, link) == {"Customer PII": None, "Internal documents": 7}
    assert len(data_changes(app)) == before and inventory_version(app) == version


def test_a_category_is_added_to_a_link_and_removed_from_it(app, client, link_with_data):
    d = link_with_data
    tab, link, pii, code = d["tab"], d["link"], d["pii"], d["code"]
    add_url = f"{tab}/{link}/data"
    # The add form offers only the category not passed on yet.
    page = client.get(tab).get_data(as_text=True)
    offered = re.search(
        rf'<select id="link-{link}-data_category_id"[^>]*>(.*?)</select>', page, re.S
    )
    assert offered and "Source code" in offered.group(1) and "Customer PII" not in offered.group(1)
    assert f'for="link-{link}-data_category_id">Another data category passed on to CloudStore' in (
        page
    )

    # Bad input at the field, nothing saved.
    version = inventory_version(app)
    for values, field in (
        ({f"link-{link}-data_category_id": str(code), f"link-{link}-records": "-5"}, "records"),
        ({f"link-{link}-data_category_id": str(code), f"link-{link}-records": "x"}, "records"),
        ({f"link-{link}-data_category_id": "", f"link-{link}-records": "5"}, "data_category_id"),
        ({f"link-{link}-data_category_id": "999", f"link-{link}-records": ""}, "data_category_id"),
    ):
        refused = client.post(add_url, data=values)
        assert refused.status_code == 400, values
        assert field_error(refused, f"link-{link}-{field}"), values
    assert "Source code" not in passed_records(app, link)
    assert inventory_version(app) == version and data_changes(app) == []

    added = client.post(
        add_url, data={f"link-{link}-data_category_id": str(code), f"link-{link}-records": "42"}
    )
    assert added.status_code == 302
    assert passed_records(app, link) == {
        "Customer PII": None,
        "Internal documents": None,
        "Source code": 42,
    }
    assert inventory_version(app) > version
    # Every category passed on: no add form left on the row.
    assert f'id="link-{link}-data_category_id"' not in client.get(tab).get_data(as_text=True)

    version = inventory_version(app)
    assert client.post(f"{tab}/{link}/data/{pii}/remove").status_code == 302
    assert passed_records(app, link) == {"Internal documents": None, "Source code": 42}
    assert count(app, SubprocessorLink) == 1  # the link stays, with its other data
    assert inventory_version(app) > version
    # Gone: a second removal, or an edit of its records, finds nothing.
    assert client.post(f"{tab}/{link}/data/{pii}/remove").status_code == 404
    gone = {f"link-{link}-data-{pii}-records": "1"}
    assert client.post(f"{tab}/{link}/data/{pii}", data=gone).status_code == 404
    assert "Source code" in text(client.get(tab))

    assert [(c["change"], c["data_category"], c.get("records")) for c in data_changes(app)] == [
        ("subprocessor data added", "Source code", 42),
        ("subprocessor data removed", "Customer PII", None),
    ]
    assert all(c["subprocessor"] == "CloudStore" for c in data_changes(app))


def test_a_link_is_reached_only_through_its_own_vendor(app, client, link_with_data):
    d = link_with_data
    [other] = add(app, Vendor(name="MailRelay"))
    link, pii = d["link"], d["pii"]
    elsewhere = f"/inventory/vendors/{other}/subprocessors/{link}"
    assert client.post(f"{elsewhere}/data/{pii}/remove").status_code == 404
    field = {f"link-{link}-data-{pii}-records": "1"}
    assert client.post(f"{elsewhere}/data/{pii}", data=field).status_code == 404
    assert client.post(f"{elsewhere}/data", data={}).status_code == 404
    assert passed_records(app, link) == {"Customer PII": None, "Internal documents": None}


def test_one_records_figure_with_one_category_is_that_categorys(app, client, officer):
    [crm, pii] = add(app, Vendor(name="Pipeline CRM"), DataCategory(name="Customer PII"))
    tab = f"/inventory/vendors/{crm}/subprocessors"
    form = subprocessor_form(
        fourth_party_name="CloudStore", data_category_ids=[str(pii)], records="250000"
    )
    assert client.post(tab, data=form).status_code == 302
    assert passed_records(app) == {"Customer PII": 250000}


HOSTILE = "<script>alert(1)</script>"
hostile_text = st.text(max_size=250) | st.sampled_from(
    [HOSTILE, '"><img src=x onerror=alert(1)>', "' OR 1=1 --", "%", "\\", "1" * 40]
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=hostile_text,
    service=hostile_text,
    purpose=hostile_text,
    records=hostile_text | st.integers().map(str),
)
def test_hostile_input_on_the_tab_never_fails_and_is_escaped(
    app, client, make_user, name, service, purpose, records
):
    with app.app_context():
        vendor = db.session.scalar(sa.select(Vendor).where(Vendor.name == "Fuzzed"))
        if vendor is None:
            vendor = Vendor(name="Fuzzed")
            db.session.add_all([vendor, DataCategory(name="Customer PII")])
            db.session.commit()
            login_as(client, make_user(Role.procurement))
        vendor_id = vendor.id
        pii = db.session.scalar(sa.select(DataCategory.id))
    form = subprocessor_form(
        fourth_party_name=name,
        fourth_party_service=service,
        purpose=purpose,
        records=records,
        data_category_ids=[str(pii)],
    )
    response = client.post(f"/inventory/vendors/{vendor_id}/subprocessors", data=form)
    assert response.status_code in (302, 400)
    for url in (f"/inventory/vendors/{vendor_id}/subprocessors", "/inventory/fourth-parties"):
        page = client.get(url)
        assert page.status_code == 200
        assert HOSTILE not in page.get_data(as_text=True)


def test_the_tab_wants_exactly_one_subprocessor(app, client, officer):
    [crm, mail, party] = add(
        app, Vendor(name="Pipeline CRM"), Vendor(name="MailRelay"), FourthParty(name="CloudStore")
    )
    tab = f"/inventory/vendors/{crm}/subprocessors"
    none = client.post(tab, data=subprocessor_form())
    assert none.status_code == 400 and field_error(none, "subprocessor_id")
    both = client.post(
        tab, data=subprocessor_form(subprocessor_id=str(mail), fourth_party_name="Other")
    )
    assert both.status_code == 400 and field_error(both, "fourth_party_name")
    ours = client.post(tab, data=subprocessor_form(fourth_party_name="mailrelay"))
    assert ours.status_code == 400 and "one of our vendors" in field_error(
        ours, "fourth_party_name"
    )
    service_only = client.post(
        tab, data=subprocessor_form(subprocessor_id=str(mail), fourth_party_service="Hosting")
    )
    assert service_only.status_code == 400 and field_error(service_only, "fourth_party_service")
    unknown = client.post(tab, data=subprocessor_form(fourth_party_id="999"))
    assert unknown.status_code == 400 and field_error(unknown, "fourth_party_id")
    long = client.post(tab, data=subprocessor_form(fourth_party_name="n" * 201))
    assert long.status_code == 400 and field_error(long, "fourth_party_name")
    itself = client.post(tab, data=subprocessor_form(subprocessor_id=str(crm)))
    assert itself.status_code == 400 and field_error(itself, "subprocessor_id")
    assert count(app, SubprocessorLink) == 0 and count(app, FourthParty) == 1
    assert party


# ---- the portfolio -------------------------------------------------------------------------


def test_the_portfolio_counts_the_vendors_relying_on_each_subprocessor(app, client, officer):
    [crm, mail, hr, party, lonely, pii, docs] = add(
        app,
        Vendor(name="Pipeline CRM"),
        Vendor(name="MailRelay"),
        Vendor(name="PeopleHR"),
        FourthParty(name="CloudStore"),
        FourthParty(name="Nobody uses"),
        DataCategory(name="Customer PII"),
        DataCategory(name="Internal documents"),
    )
    [a, b, c] = add(
        app,
        SubprocessorLink(vendor_id=crm, fourth_party_id=party),
        SubprocessorLink(vendor_id=mail, fourth_party_id=party),
        SubprocessorLink(vendor_id=hr, subprocessor_id=mail),
    )
    add(
        app,
        SubprocessorData(link_id=a, data_category_id=pii, records=BIGINT_MAX),
        SubprocessorData(link_id=b, data_category_id=pii, records=BIGINT_MAX),
        SubprocessorData(link_id=b, data_category_id=docs, records=None),
        SubprocessorData(link_id=c, data_category_id=docs, records=40),
    )
    page = client.get("/inventory/portfolio")
    assert page.status_code == 200
    body = text(page)
    table = body.split("Fourth parties our vendors rely on")[1].split(
        "Credentials by rotation status"
    )[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    cells = [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]
    assert [row[:4] for row in cells] == [
        ["CloudStore", "fourth party", "2", "Customer PII, Internal documents"],
        ["MailRelay", "our vendor", "1", "Internal documents"],
    ]
    assert cells[1][4] == "40"
    # Two BIGINT maxima summed: approximate, never an overflow.
    assert cells[0][4].startswith("at least 18,446,744,073,709,5")
    assert f"/inventory/fourth-parties/{party}" in table
    assert f"/inventory/vendors/{mail}/subprocessors" in table
    assert "Nobody uses" not in table and lonely

    # The page's query follows the engine's rule.
    from vendor_risk.core.blast_radius import engine
    from vendor_risk.services import inventory
    from vendor_risk.services.blast_radius import load_inventory

    with app.app_context():
        rule = engine.fourth_party_concentration(load_inventory(db.session))
        rows = inventory.subprocessor_concentration(db.session)
    assert rule == {
        ("vendor" if r.vendor_id else "fourth_party", r.vendor_id or r.fourth_party_id): r.vendors
        for r in rows
    }


# ---- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.procurement, Role.risk_officer])
def test_procurement_and_risk_officers_see_the_pages_and_the_navigation(
    app, client, make_user, role
):
    login_as(client, make_user(role))
    home = client.get("/inventory/zones")
    assert home.status_code == 200
    assert 'href="/inventory/zones" aria-current="page">Zones' in home.get_data(as_text=True)
    assert 'href="/inventory/fourth-parties">Fourth parties' in home.get_data(as_text=True)
    assert client.get("/inventory/fourth-parties").status_code == 200


@pytest.mark.parametrize("role", [Role.vendor_contact, Role.admin])
def test_vendor_contacts_and_admins_are_refused(app, client, make_user, make_vendor, role):
    vendor = make_vendor("Contact's vendor")
    [zone, party] = add(app, NetworkZone(name="DMZ"), FourthParty(name="CloudStore"))
    user = make_user(role, vendor_id=vendor if role is Role.vendor_contact else None)
    login_as(client, user)
    for url in (
        "/inventory/zones",
        f"/inventory/zones/{zone}",
        "/inventory/fourth-parties",
        f"/inventory/fourth-parties/{party}",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/inventory/zones/new", data={"name": "Mine"}).status_code == 403
    assert client.post(f"/inventory/fourth-parties/{party}/delete").status_code == 403
    assert count(app, NetworkZone) == 1 and count(app, FourthParty) == 1
    assert "Zones" not in client.get("/").get_data(as_text=True)


def _all(app, model) -> list:
    with app.app_context():
        rows = db.session.scalars(sa.select(model)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)
