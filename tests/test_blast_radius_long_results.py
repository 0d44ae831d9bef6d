"""A breach reaching more than a page can list: the vendor's blast-radius tab shows every count
and the first rows of each list, and offers the whole result as a CSV file (audited, formula
text neutralised). At 50,000 vendors one breach reached 2,000 systems and 11,000 credentials:
the tab was 11.8 MB of HTML."""

from __future__ import annotations

import csv
import io
import re

import pytest
from conftest import add, events, login_as, text

from vendor_risk.core.blast_radius.words import LIST_SHOWN
from vendor_risk.models import Credential, CredentialKind, Privilege, Role, System, Vendor

SYSTEMS = LIST_SHOWN + 20


@pytest.fixture
def wide_breach(app):
    """A vendor holding one admin key into each of SYSTEMS systems, the first one named like
    a spreadsheet formula."""
    [vendor] = add(app, Vendor(name="Everywhere Inc"))
    names = ['=HYPERLINK("http://evil.example","x")'] + [
        f"System {n:03d}" for n in range(1, SYSTEMS)
    ]
    system_ids = add(app, *(System(name=name, kind="other") for name in names))
    add(
        app,
        *(
            Credential(
                name=f"key-{n:03d}",
                kind=CredentialKind.ssh_key,
                holder_vendor_id=vendor,
                system_id=system_id,
                privilege=Privilege.admin,
            )
            for n, system_id in enumerate(system_ids)
        ),
    )
    return vendor


@pytest.mark.parametrize("role", [Role.procurement, Role.risk_officer])
def test_the_tab_lists_the_first_rows_and_offers_the_whole_result_as_csv(
    app, client, make_user, wide_breach, role
):
    login_as(client, make_user(role))
    response = client.get(f"/inventory/vendors/{wide_breach}/blast-radius")
    assert response.status_code == 200
    page = text(response)
    # Every count is whole; each list shows its first rows and says so.
    assert f"an attacker reaches {SYSTEMS} systems" in page
    assert f"{SYSTEMS} credentials to rotate" in page
    systems = page[page.index("Systems reached despite the controls</h2>") :]
    systems = systems[: systems.index("</table>")]
    assert len(re.findall(r"<tr>", systems)) == LIST_SHOWN + 1  # the header row
    assert f"The first {LIST_SHOWN} of {SYSTEMS} systems reached despite the controls." in page
    assert f"The first {LIST_SHOWN} of {SYSTEMS} credentials to rotate." in page
    link = re.search(r'href="([^"]+blast-radius\.csv[^"]*)"', page)
    assert link and "Download the whole result as CSV" in page

    download = client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith(
        'attachment; filename="everywhere-inc-blast-radius-'
    )
    body = download.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["List", "Item", "Detail", "How or why", "Usable now"]
    reached = [row for row in rows if row[0] == "system reached despite the controls"]
    rotate = [row for row in rows if row[0] == "credential to rotate"]
    assert len(reached) == SYSTEMS and len(rotate) == SYSTEMS
    # The formula-like name stays text in a spreadsheet.
    assert '\'=HYPERLINK("http://evil.example","x")' in {row[1] for row in reached}
    assert not any(cell.startswith("=") for row in rows for cell in row)

    [event] = events(app, "report.exported")
    assert event.vendor_id == wide_breach
    assert event.details["report"] == "blast_radius_csv"
    assert event.details["rows"] == len(rows) - 1


def test_the_csv_follows_the_breach_start_and_refuses_a_bad_date(
    app, client, make_user, wide_breach
):
    login_as(client, make_user(Role.risk_officer))
    url = f"/inventory/vendors/{wide_breach}/blast-radius"
    page = text(client.get(url, query_string={"since": "2026-01-01"}))
    assert "blast-radius.csv?since=2026-01-01" in page
    assert client.get(url + ".csv", query_string={"since": "not a date"}).status_code == 400
    assert client.get(f"/inventory/vendors/{2**31}/blast-radius.csv").status_code == 404
    assert events(app, "report.exported") == []


def test_a_small_result_is_listed_whole_without_a_note(app, client, make_user):
    [vendor] = add(app, Vendor(name="Small"))
    [system] = add(app, System(name="Wiki", kind="wiki"))
    add(
        app,
        Credential(
            name="wiki-token",
            kind=CredentialKind.api_token,
            holder_vendor_id=vendor,
            system_id=system,
        ),
    )
    login_as(client, make_user(Role.procurement))
    page = text(client.get(f"/inventory/vendors/{vendor}/blast-radius"))
    assert "Wiki" in page and "The first" not in page
