"""The inventory file import page (the command line's ``inventory import`` through the web), the
vendor CSV template, and vendor CSV lists as spreadsheets save them (semicolons, tabs,
Windows-1252)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from conftest import count, events, login_as, text

from vendor_risk.db import db
from vendor_risk.models import AuditAction, DataCategory, Role, System, Vendor

PAGE = "/inventory/import"
CSV_PAGE = "/inventory/vendors/import"
TEMPLATE = "/inventory/vendors/import/template.csv"
IMPORTED = AuditAction.inventory_imported.value
# A supplier, in Russian, (supplier) as Windows-1251 saves it: not UTF-8, not Windows-1252.
CYRILLIC_CSV = "name\n\u041f\u043e\u0441\u0442\u0430\u0432\u0449\u0438\u043a\n".encode("cp1251")

INVENTORY = b"""\
version: 1
data_categories:
  - name: Customer PII
    sensitivity: high
systems:
  - name: Wiki
    kind: wiki
    data:
      - category: Customer PII
vendors:
  - name: Nimbus Cloud
    criticality: high
  - name: Okta
    criticality: critical
"""

# Line 5: a criticality no one knows; line 8: a system nobody defined.
REFUSED = b"""\
version: 1
vendors:
  - name: Nimbus Cloud
    criticality: urgent
  - name: MailRelay
    website: https://mail.example
    data:
      - category: Nothing Like It
"""


@pytest.fixture
def officer(client, make_user):
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


def upload(client, content: bytes, name: str = "inventory.yaml", *, check: bool = False):
    data = {"file": (io.BytesIO(content), name), ("check" if check else "submit"): "y"}
    return client.post(PAGE, data=data, content_type="multipart/form-data")


def upload_csv(client, content: bytes, name: str = "vendors.csv"):
    data = {"file": (io.BytesIO(content), name)}
    return client.post(CSV_PAGE, data=data, content_type="multipart/form-data")


def names(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Vendor.name)))


def test_the_page_is_linked_from_the_vendors_and_their_csv_import(client, officer):
    for page in ("/inventory/vendors", CSV_PAGE):
        assert f'href="{PAGE}"' in client.get(page).get_data(as_text=True)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Check only" in text(page) and 'type="file"' in text(page)


def test_check_only_shows_what_would_change_and_saves_nothing(app, client, officer, make_vendor):
    make_vendor("Okta")

    checked = upload(client, INVENTORY, check=True)

    page = text(checked)
    assert checked.status_code == 200
    assert "Checked: nothing was saved" in page
    assert "Vendors: 1 created (Nimbus Cloud), 1 updated (Okta), 0 unchanged" in page
    assert "Systems: 1 created (Wiki)" in page
    assert "Data categories: 1 created (Customer PII)" in page
    assert names(app) == ["Okta"]
    assert count(app, System) == 0 and count(app, DataCategory) == 0
    assert events(app, IMPORTED) == []


def test_a_refused_file_lists_every_problem_at_its_line_and_saves_nothing(app, client, officer):
    refused = upload(client, REFUSED)

    page = text(refused)
    assert refused.status_code == 400
    assert "Nothing was imported: 2 problems" in page
    assert "<td>4</td><td><code>vendors[0].criticality</code></td>" in page
    assert "urgent" in page
    assert "<td>8</td><td><code>vendors[1].data[0].category</code></td>" in page
    assert "Nothing Like It" in page
    assert count(app, Vendor) == 0 and events(app, IMPORTED) == []

    # The same file asked for a check only is refused the same way.
    assert "Nothing was imported: 2 problems" in text(upload(client, REFUSED, check=True))

    unreadable = upload(client, b"version: 1\nvendors:\n  - name: [unclosed\n")
    assert unreadable.status_code == 400
    assert "Nothing was imported: 1 problem" in text(unreadable)
    latin1 = upload(client, "version: 1\nvendors:\n  - name: Café\n".encode("latin-1"))
    assert latin1.status_code == 400
    assert "<td>3</td><td></td><td>not UTF-8 text</td>" in text(latin1)
    assert count(app, Vendor) == 0

    missing = client.post(PAGE, data={"check": "y"})
    assert missing.status_code == 400
    assert "Choose an inventory file." in text(missing)


def test_import_saves_the_file_and_is_audited_like_the_command_line(
    app, client, officer, make_vendor
):
    make_vendor("Okta")

    done = upload(client, INVENTORY.replace(b"\n", b"\r\n"), name="../../our inventory.yml")

    page = text(done)
    assert done.status_code == 200
    assert "Imported" in page and "Checked" not in page
    assert "Vendors: 1 created (Nimbus Cloud), 1 updated (Okta), 0 unchanged" in page
    assert names(app) == ["Nimbus Cloud", "Okta"]
    assert count(app, System) == 1 and count(app, DataCategory) == 1
    (event,) = events(app, IMPORTED)
    assert event.details["source"] == "our inventory.yml"
    assert (event.actor, event.actor_id) == (officer.email, officer.id)

    again = upload(client, INVENTORY)
    assert "Vendors: 0 created, 0 updated, 2 unchanged" in text(again)


def test_a_json_file_is_read_too(app, client, officer):
    document = b'{"version": 1, "vendors": [{"name": "Nimbus Cloud"}]}'
    assert upload(client, document, name="inventory.json").status_code == 200
    assert names(app) == ["Nimbus Cloud"]


# ---- vendor CSV lists as spreadsheets save them -----------------------------------------------


def test_a_semicolon_csv_and_a_windows_1252_csv_import_with_their_accents(app, client, officer):
    semicolons = "name;criticality;notes\nCafé Müller;High;a, b and c\nSociété Générale;low;\n"
    done = upload_csv(client, semicolons.encode("utf-8"))
    assert done.status_code == 200, text(done)
    assert "2 created (Café Müller, Société Générale)" in text(done)

    excel = "name,criticality\r\nZürich Größe AG,medium\r\nNiño & Cía \u2013 “Café”,low\r\n"
    done = upload_csv(client, excel.encode("cp1252"))
    assert done.status_code == 200, text(done)
    assert "2 created (Zürich Größe AG, Niño & Cía \u2013 “Café”)" in text(done)

    tabs = "\ufeffname\tcriticality\nÅngström Labs\tcritical\n".encode("utf-16")
    assert "1 created (Ångström Labs)" in text(upload_csv(client, tabs))
    assert names(app) == [
        "Café Müller",
        "Niño & Cía \u2013 “Café”",
        "Société Générale",
        "Zürich Größe AG",
        "Ångström Labs",
    ]
    with app.app_context():
        vendor = db.session.scalar(sa.select(Vendor).where(Vendor.name == "Café Müller"))
        assert vendor.notes == "a, b and c"


def test_a_csv_that_cannot_be_read_says_what_was_seen(app, client, officer):
    no_separator = upload_csv(client, b"name criticality\nNimbus high\n")
    assert no_separator.status_code == 400
    assert (
        "the first line ('name criticality') has no comma, semicolon, tab or vertical bar"
        in text(no_separator)
    )

    cyrillic = upload_csv(client, CYRILLIC_CSV)
    assert cyrillic.status_code == 400
    page = text(cyrillic)
    assert 'aria-invalid="true"' in page
    assert "The file is not UTF-8 text, nor Windows-1252: it looks like" in page
    assert count(app, Vendor) == 0


def test_the_template_downloads_and_imports_as_it_is(app, client, officer):
    assert f'href="{TEMPLATE}"' in client.get(CSV_PAGE).get_data(as_text=True)

    template = client.get(TEMPLATE)

    assert template.status_code == 200
    assert template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    header, example, *rest = template.get_data().decode("utf-8-sig").splitlines()
    assert header.startswith("name,legal_name,website,") and header.endswith(",notes")
    assert example.startswith("Example Payroll,") and rest == []
    done = upload_csv(client, template.get_data(), name="vendors-template.csv")
    assert done.status_code == 200, text(done)
    assert "1 created (Example Payroll)" in text(done)
    with app.app_context():
        vendor = db.session.scalar(sa.select(Vendor))
        assert (vendor.criticality, vendor.website) == ("high", "https://payroll.example.com")


# ---- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.procurement, 200),
        (Role.risk_officer, 200),
        (Role.admin, 403),
        (Role.vendor_contact, 403),
    ],
)
def test_procurement_and_risk_officers_only(app, client, make_user, make_vendor, role, status):
    vendor_id = make_vendor("Acme") if role is Role.vendor_contact else None
    login_as(client, make_user(role, vendor_id=vendor_id))
    assert client.get(PAGE).status_code == status
    assert client.get(TEMPLATE).status_code == status
    assert upload(client, INVENTORY).status_code == status
    assert count(app, Vendor) == (2 if status == 200 else 1 if vendor_id else 0)


def test_anonymous_is_sent_to_log_in(client):
    for response in (client.get(PAGE), client.get(TEMPLATE), upload(client, INVENTORY)):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


class TestWithCsrfOn:
    @pytest.fixture
    def app(self, make_app):
        return make_app(WTF_CSRF_ENABLED=True)

    def test_an_import_without_the_security_token_is_refused(self, app, client, make_user):
        login_as(client, make_user(Role.procurement))
        assert client.get(PAGE).status_code == 200

        refused = upload(client, INVENTORY)

        assert refused.status_code == 400
        assert "missing security token" in refused.get_data(as_text=True)
        assert count(app, Vendor) == 0
