"""Incident mode: a recorded vendor breach, its rotation checklist made from the blast radius as
of the breach start, the rotation gap, and closing, as procurement and risk officers use them.

The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import INLINE_SCRIPT, add, count, events, get, login_as, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    ChecklistAction,
    ChecklistReason,
    Credential,
    CredentialCopy,
    CredentialKind,
    CredentialStatus,
    Incident,
    IncidentCredential,
    IncidentStatus,
    Role,
    System,
    Vendor,
)
from vendor_risk.services import incidents

TODAY = utcnow().date()
STARTED = TODAY - timedelta(days=10)
DETECTED = TODAY - timedelta(days=2)
REASON = "Bitbucket owners are away until Monday; the wiki is read-only meanwhile."


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


# ---- helpers -------------------------------------------------------------------------------


def field_error(response, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else ""


def gap_names(app, incident_id: int) -> set[str]:
    with app.app_context():
        detail = incidents.incident_detail(db.session, incident_id)
        return {row.name for row in detail.gap}


def checklist(app, incident_id: int) -> dict[str, IncidentCredential]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Credential.name, IncidentCredential)
            .join(Credential, Credential.id == IncidentCredential.credential_id)
            .where(IncidentCredential.incident_id == incident_id)
        ).all()
        for _, item in rows:
            db.session.expunge(item)
        return {name: item for name, item in rows}


@pytest.fixture
def procurement(client, make_user):
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


@pytest.fixture
def world(app):
    """An identity provider whose breach began ten days ago (modelled on the 2023 incident):

    - svc-jira: a service account never rotated; it expired yesterday, so it worked when the
      breach began (and opened Jira, where a deploy key is stored), but not now;
    - svc-wiki: rotated before the breach began (the attacker copied the new value);
    - svc-bitbucket: rotated after the breach began (the attacker's copy is stale);
    - old-token: revoked long ago: nothing to do;
    - deploy-key: ours, no vendor holds it, a copy stored in Jira;
    - other-token: held by another vendor, untouched by this breach.
    """
    [okta, other, jira, wiki, bitbucket, prod] = add(
        app,
        Vendor(name="Okta-like"),
        Vendor(name="Other vendor"),
        System(name="Jira"),
        System(name="Wiki"),
        System(name="Bitbucket"),
        System(name="Production"),
    )

    def held(name: str, system: int, **fields) -> Credential:
        return Credential(
            name=name,
            kind=CredentialKind.service_account,
            holder_vendor_id=okta,
            system_id=system,
            privilege="admin",
            owner=f"{name} owners",
            **fields,
        )

    ids = add(
        app,
        held("svc-jira", jira, expires_at=midnight(TODAY - timedelta(days=1))),
        held("svc-wiki", wiki, last_rotated_at=midnight(STARTED - timedelta(days=30))),
        held("svc-bitbucket", bitbucket, last_rotated_at=midnight(STARTED + timedelta(days=1))),
        held("old-token", jira, status=CredentialStatus.revoked),
        Credential(name="deploy-key", kind=CredentialKind.ssh_key, system_id=prod, owner="SRE"),
        Credential(
            name="other-token",
            kind=CredentialKind.api_token,
            system_id=jira,
            holder_vendor_id=other,
        ),
    )
    credentials = dict(
        zip(
            ["svc-jira", "svc-wiki", "svc-bitbucket", "old-token", "deploy-key", "other-token"],
            ids,
            strict=True,
        )
    )
    add(app, CredentialCopy(credential_id=credentials["deploy-key"], system_id=jira))
    return {"okta": okta, "other": other, "jira": jira, "prod": prod, **credentials}


def incident_form(vendor_id: int, **overrides) -> dict:
    form = {
        "vendor_id": str(vendor_id),
        "title": "Support system breach",
        "started_at": STARTED.isoformat(),
        "detected_at": DETECTED.isoformat(),
        "notes": "Session tokens taken from support tickets.",
    }
    return form | overrides


def open_incident(client, vendor_id: int, **overrides) -> int:
    response = client.post("/incidents/new", data=incident_form(vendor_id, **overrides))
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def mark(client, incident_id: int, credential_id: int, action: str):
    return client.post(
        f"/incidents/{incident_id}/checklist/{credential_id}", data={"action": action}
    )


def close(client, incident_id: int, reason: str = ""):
    return client.post(f"/incidents/{incident_id}/close", data={"exception_reason": reason})


# ---- opening -------------------------------------------------------------------------------


def test_opening_creates_the_checklist_from_the_blast_radius_as_of_the_start(
    app, client, procurement, world
):
    incident_id = open_incident(client, world["okta"])

    incident = get(app, Incident, incident_id)
    assert incident.status is IncidentStatus.open
    assert (incident.started_at, incident.detected_at) == (midnight(STARTED), midnight(DETECTED))
    assert incident.opened_by_id == procurement.id and incident.closed_at is None
    items = checklist(app, incident_id)
    # Everything the attacker has that still works for them: what the vendor held, and the
    # deploy key stored in Jira, which svc-jira opened when the breach began though it has
    # expired since. Not old-token (revoked), nor svc-bitbucket: rotated after the breach
    # began, it is a barrier that held, done before the incident was even opened.
    assert {name: item.reason for name, item in items.items()} == {
        "svc-jira": ChecklistReason.held,
        "svc-wiki": ChecklistReason.held,
        "deploy-key": ChecklistReason.stored,
    }
    assert items["deploy-key"].stored_in == ["Jira"]
    assert all(item.action is ChecklistAction.pending for item in items.values())

    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Rotation gap: 3" in page
    assert "stored in Jira" in page and "held by Okta-like" in page
    assert "svc-jira owners" in page  # the owners, who must act
    assert "Breach began" in page and "Breach detected" in page and "Incident opened" in page
    assert "Blast radius as of the breach start" in page
    assert "rotated after the breach began" in page  # svc-bitbucket's barrier

    [opened] = events(app, "incident.opened")
    assert opened.actor == procurement.email and opened.vendor_id == world["okta"]
    assert opened.object_type == "incident" and opened.object_id == str(incident_id)
    assert opened.details == {
        "title": "Support system breach",
        "started_at": STARTED.isoformat(),
        "detected_at": DETECTED.isoformat(),
        "checklist": 3,
        "held": 2,
        "gap": 3,
    }


def test_a_credential_rotated_before_the_start_stays_in_the_gap_one_rotated_after_does_not(
    app, client, procurement, world
):
    incident_id = open_incident(client, world["okta"])
    # svc-wiki was rotated 30 days before the breach: the attacker copied its new value.
    # svc-bitbucket was rotated the day after: their copy is stale. The deploy key is not held
    # by the vendor, but the attacker took it from Jira: it is in the gap just the same.
    assert gap_names(app, incident_id) == {"svc-jira", "svc-wiki", "deploy-key"}
    with app.app_context():
        assert incidents.gap_size(db.session, incident_id) == 3
    page = text(client.get(f"/incidents/{incident_id}"))
    gap_section = page.split('id="gap-heading"')[1].split('id="checklist"')[0]
    assert "svc-wiki" in gap_section and "before the breach began" in gap_section
    assert "deploy-key, opens Production, owner SRE, stored in Jira: never rotated" in gap_section
    assert "svc-bitbucket" not in gap_section


def test_bad_dates_are_refused_at_the_field_and_nothing_is_opened(app, client, procurement, world):
    # Today now, not at import: the suite may run across midnight (UTC).
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    cases = [
        ({"started_at": tomorrow, "detected_at": tomorrow}, "started_at", "in the future"),
        ({"detected_at": tomorrow}, "detected_at", "in the future"),
        (
            {"started_at": DETECTED.isoformat(), "detected_at": STARTED.isoformat()},
            "detected_at",
            "detected before it began",
        ),
        ({"started_at": "2024-02-30"}, "started_at", "Not a valid date"),
        ({"started_at": ""}, "started_at", "the day the breach began"),
        ({"detected_at": ""}, "detected_at", "the day the breach was detected"),
    ]
    for overrides, field, message in cases:
        response = client.post("/incidents/new", data=incident_form(world["okta"], **overrides))
        assert response.status_code == 400, overrides
        assert message in field_error(response, field), (overrides, text(response))
    response = client.post(
        "/incidents/new", data=incident_form(world["okta"]) | {"title": " ", "vendor_id": ""}
    )
    assert response.status_code == 400
    assert field_error(response, "title") and field_error(response, "vendor_id")
    assert count(app, Incident) == 0 and count(app, IncidentCredential) == 0
    assert events(app, "incident.opened") == []


def test_the_same_day_for_start_and_detection_is_accepted(app, client, procurement, world):
    incident_id = open_incident(
        client, world["okta"], started_at=TODAY.isoformat(), detected_at=TODAY.isoformat()
    )
    assert get(app, Incident, incident_id).detected_at == midnight(TODAY)


def test_a_vendor_has_one_open_incident_at_a_time(app, client, procurement, world):
    open_incident(client, world["okta"])
    again = client.post("/incidents/new", data=incident_form(world["okta"]))
    assert again.status_code == 400
    assert "has an incident open already" in field_error(again, "vendor_id")
    assert count(app, Incident) == 1


def test_secret_looking_text_is_refused(app, client, make_user, world):
    risk = make_user(Role.risk_officer)
    login_as(client, risk)
    refused = client.post(
        "/incidents/new", data=incident_form(world["okta"], notes="key AKIAIOSFODNN7EXAMPLE")
    )
    assert refused.status_code == 400 and "never" in field_error(refused, "notes")
    incident_id = open_incident(client, world["okta"])
    refused = close(client, incident_id, "token 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")
    assert refused.status_code == 400 and "secret" in field_error(refused, "exception_reason")
    assert get(app, Incident, incident_id).status is IncidentStatus.open


def test_the_new_incident_form_can_start_from_a_vendor(app, client, procurement, world):
    tab = client.get(f"/inventory/vendors/{world['okta']}/blast-radius").get_data(as_text=True)
    assert f'href="/incidents/new?vendor_id={world["okta"]}"' in tab
    form = client.get(f"/incidents/new?vendor_id={world['okta']}").get_data(as_text=True)
    assert 'name="vendor_id-name"' in form and 'value="Okta-like"' in form


# ---- the checklist -------------------------------------------------------------------------


def test_rotate_and_revoke_through_the_checklist_update_the_credential_and_the_gap(
    app, client, procurement, world
):
    incident_id = open_incident(client, world["okta"])
    before = utcnow()

    rotated = mark(client, incident_id, world["svc-jira"], "rotated")
    assert rotated.status_code == 302
    assert rotated.headers["Location"] == f"/incidents/{incident_id}#checklist"
    credential = get(app, Credential, world["svc-jira"])
    assert before <= credential.last_rotated_at <= utcnow()
    item = checklist(app, incident_id)["svc-jira"]
    assert item.action is ChecklistAction.rotated and item.acted_by_id == procurement.id
    assert before <= item.acted_at <= utcnow()
    assert gap_names(app, incident_id) == {"svc-wiki", "deploy-key"}

    revoked = mark(client, incident_id, world["svc-wiki"], "revoked")
    assert revoked.status_code == 302
    assert get(app, Credential, world["svc-wiki"]).status is CredentialStatus.revoked
    assert checklist(app, incident_id)["svc-wiki"].action is ChecklistAction.revoked
    assert gap_names(app, incident_id) == {"deploy-key"}

    # The deploy key was taken from Jira: rotating svc-jira, the way in, does not undo that.
    assert mark(client, incident_id, world["deploy-key"], "rotated").status_code == 302
    assert gap_names(app, incident_id) == set()

    # The inventory and the blast radius follow the credential.
    listing = text(client.get("/inventory/credentials?status=revoked"))
    assert "svc-wiki" in listing
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Rotation gap: 0" in page and "The rotation gap is empty" in page
    assert "svc-jira rotated, by" in page and "svc-wiki revoked, by" in page  # the timeline
    assert "svc-wiki (service account, admin) into Wiki: <strong>revoked</strong>" in page

    rotation, _ = events(app, "incident.credential.rotated")
    [revocation] = events(app, "incident.credential.revoked")
    assert rotation.object_type == "credential" and rotation.object_id == str(world["svc-jira"])
    assert rotation.details == {"incident_id": incident_id, "name": "svc-jira", "gap": 2}
    assert revocation.details == {"incident_id": incident_id, "name": "svc-wiki", "gap": 1}
    assert rotation.vendor_id == revocation.vendor_id == world["okta"]
    assert rotation.actor == procurement.email


def test_a_line_is_marked_once(app, client, procurement, world):
    incident_id = open_incident(client, world["okta"])
    assert mark(client, incident_id, world["svc-jira"], "rotated").status_code == 302
    rotated_at = get(app, Credential, world["svc-jira"]).last_rotated_at

    again = mark(client, incident_id, world["svc-jira"], "revoked")
    assert again.status_code == 409
    assert "marked rotated already" in text(again)
    assert get(app, Credential, world["svc-jira"]).status is CredentialStatus.active
    assert get(app, Credential, world["svc-jira"]).last_rotated_at == rotated_at
    assert len(events(app, "incident.credential.rotated")) == 1
    assert events(app, "incident.credential.revoked") == []

    assert mark(client, incident_id, world["svc-wiki"], "pending").status_code == 400
    assert mark(client, incident_id, world["svc-wiki"], "").status_code == 400
    assert mark(client, incident_id, world["other-token"], "rotated").status_code == 404
    assert mark(client, 999, world["svc-wiki"], "rotated").status_code == 404
    assert checklist(app, incident_id)["svc-wiki"].action is ChecklistAction.pending


def test_a_rotation_recorded_on_the_inventory_page_closes_the_gap_too(
    app, client, procurement, world
):
    incident_id = open_incident(client, world["okta"])
    edit = {
        "name": "svc-wiki",
        "kind": "service_account",
        "holder_vendor_id": str(world["okta"]),
        "system_id": str(get(app, Credential, world["svc-wiki"]).system_id),
        "privilege": "admin",
        "last_rotated_at": (TODAY - timedelta(days=1)).isoformat(),
        "owner": "svc-wiki owners",
        "status": "active",
        "notes": "",
        "version": str(get(app, Credential, world["svc-wiki"]).version),
    }
    saved = client.post(f"/inventory/credentials/{world['svc-wiki']}/edit", data=edit)
    assert saved.status_code == 302

    assert gap_names(app, incident_id) == {"svc-jira", "deploy-key"}
    assert checklist(app, incident_id)["svc-wiki"].action is ChecklistAction.pending
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "svc-wiki rotated (recorded in the inventory)" in page  # the timeline
    assert "Rotation gap: 2" in page

    # Setting the date back to before the breach puts it back in the gap: the credential decides.
    saved = client.post(
        f"/inventory/credentials/{world['svc-wiki']}/edit",
        data=edit
        | {
            "last_rotated_at": STARTED.isoformat(),
            "version": str(get(app, Credential, world["svc-wiki"]).version),
        },
    )
    assert saved.status_code == 302
    assert gap_names(app, incident_id) == {"svc-jira", "svc-wiki", "deploy-key"}


def test_a_credential_on_a_checklist_and_a_vendor_with_incidents_are_not_deleted(
    app, client, procurement, world
):
    incident_id = open_incident(client, world["okta"])
    page = client.get(f"/inventory/credentials/{world['deploy-key']}/delete")
    assert "cannot be deleted" in text(page) and "Support system breach" in text(page)
    assert f'href="/incidents/{incident_id}"' in page.get_data(as_text=True)
    refused = client.post(f"/inventory/credentials/{world['deploy-key']}/delete")
    assert refused.status_code == 409
    assert get(app, Credential, world["deploy-key"]) is not None

    # A vendor with an incident but no credential left is still kept, with its incident.
    [quiet] = add(app, Vendor(name="Quiet vendor"))
    quiet_incident = open_incident(client, quiet)
    assert checklist(app, quiet_incident) == {}
    refused = client.post(f"/inventory/vendors/{quiet}/delete")
    assert refused.status_code == 409
    assert "Incidents are recorded for it" in text(refused)
    assert get(app, Vendor, quiet) is not None
    assert events(app, "inventory.credential.deleted") == []
    assert events(app, "inventory.vendor.deleted") == []


# ---- closing -------------------------------------------------------------------------------


def test_closing_is_refused_while_the_gap_is_not_empty(app, client, make_user, world):
    procurement = make_user(Role.procurement)
    login_as(client, procurement)
    incident_id = open_incident(client, world["okta"])

    refused = close(client, incident_id)
    assert refused.status_code == 400
    message = field_error(refused, "exception_reason")
    assert "3 credentials the attacker obtained are still in the rotation gap" in message
    assert "Only a risk officer" in message

    login_as(client, make_user(Role.risk_officer))
    refused = close(client, incident_id, "   ")
    assert refused.status_code == 400
    assert "give the reason" in field_error(refused, "exception_reason")

    assert get(app, Incident, incident_id).status is IncidentStatus.open
    assert events(app, "incident.closed") == []


def test_procurement_cannot_close_with_an_exception(app, client, procurement, world):
    incident_id = open_incident(client, world["okta"])
    refused = close(client, incident_id, REASON)
    assert refused.status_code == 400
    assert "Only a risk officer" in field_error(refused, "exception_reason")
    assert REASON in text(refused)  # what they typed is kept in the form
    incident = get(app, Incident, incident_id)
    assert incident.status is IncidentStatus.open and incident.exception_reason is None
    assert events(app, "incident.closed") == []


def test_a_risk_officer_closes_with_an_exception_reason(app, client, make_user, world):
    risk = make_user(Role.risk_officer)
    login_as(client, risk)
    incident_id = open_incident(client, world["okta"])
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "closing now is an exception" in page

    closed = close(client, incident_id, f"  {REASON}  ")
    assert closed.status_code == 302
    incident = get(app, Incident, incident_id)
    assert incident.status is IncidentStatus.closed
    assert incident.exception_reason == REASON
    assert incident.closed_by_id == risk.id and incident.closed_at is not None
    [event] = events(app, "incident.closed")
    assert event.actor == risk.email and event.object_id == str(incident_id)
    assert event.details == {"gap": 3, "by_exception": True, "exception_reason": REASON}

    page = client.get(f"/incidents/{incident_id}")
    assert REASON in text(page) and "Incident closed by exception" in text(page)
    assert "Rotation gap: 3" in text(page)  # still shown: the work is not done
    assert "/close" not in page.get_data(as_text=True)
    assert "/checklist/" not in page.get_data(as_text=True)  # no more buttons
    listing = text(client.get("/incidents/"))
    assert "by exception" in listing

    # A closed incident changes no more.
    refused = mark(client, incident_id, world["svc-jira"], "rotated")
    assert refused.status_code == 409 and "closed" in text(refused)
    assert get(app, Credential, world["svc-jira"]).last_rotated_at is None
    refused = close(client, incident_id, REASON)
    assert refused.status_code == 409 and "closed already" in text(refused)
    assert len(events(app, "incident.closed")) == 1


def test_the_incident_closes_once_the_gap_is_empty(app, client, procurement, world):
    incident_id = open_incident(client, world["okta"])
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'name="exception_reason"' in page  # a gap: the reason field is offered
    mark(client, incident_id, world["svc-jira"], "rotated")
    mark(client, incident_id, world["svc-wiki"], "revoked")
    # Everything the vendor held is done, but the deploy key taken from Jira is not.
    refused = close(client, incident_id)
    assert refused.status_code == 400
    assert "1 credential the attacker obtained is still in the rotation gap" in field_error(
        refused, "exception_reason"
    )
    mark(client, incident_id, world["deploy-key"], "rotated")
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'name="exception_reason"' not in page

    # A reason given with an empty gap is no exception, and is not kept.
    closed = close(client, incident_id, "all done")
    assert closed.status_code == 302
    incident = get(app, Incident, incident_id)
    assert incident.status is IncidentStatus.closed and incident.exception_reason is None
    assert incident.closed_by_id == procurement.id
    [event] = events(app, "incident.closed")
    assert event.details == {"gap": 0, "by_exception": False}
    page = text(client.get(f"/incidents/{incident_id}"))
    assert "Incident closed, by" in page and "by exception" not in page


# ---- the list, the page's cost, access -----------------------------------------------------


def test_the_list_shows_open_incidents_first_with_their_gap(app, client, make_user, world):
    login_as(client, make_user(Role.risk_officer))
    older = open_incident(client, world["okta"], title="Older breach")
    close(client, older, REASON)
    newer = open_incident(
        client,
        world["other"],
        title="Token leak",
        started_at=(STARTED - timedelta(days=30)).isoformat(),
    )
    page = client.get("/incidents/").get_data(as_text=True)
    rows = re.findall(
        r'<a href="/incidents/\d+">([^<]+)</a>.*?class="num gap-size"><span[^>]*>(\d+)<', page, re.S
    )
    # Open first, older though it is; each with the size of its gap (other-token, and the
    # deploy key stored in the Jira it opens).
    assert rows == [("Token leak", "2"), ("Older breach", "3")]
    assert "2 incidents." in text(client.get("/incidents/"))
    assert f'href="/incidents/{newer}"' in page
    assert client.get("/incidents/?page=0").status_code == 400
    assert client.get("/incidents/?page=2").status_code == 200


def statements_for(app, client, path: str) -> int:
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


def test_pages_cost_the_same_statements_whatever_the_checklist(app, client, procurement, world):
    small = open_incident(client, world["other"])  # other-token, and the key stored in Jira
    [busy, system] = add(app, Vendor(name="Busy vendor"), System(name="Busy system"))
    add(
        app,
        *(
            Credential(
                name=f"busy-{n}",
                kind=CredentialKind.api_token,
                system_id=system,
                holder_vendor_id=busy,
            )
            for n in range(40)
        ),
    )
    large = open_incident(client, busy)
    assert len(checklist(app, small)) == 2 and len(checklist(app, large)) == 40
    # The blast radius reads one statement per hop of lateral movement, never one per row: the
    # small incident's breach goes one hop further (through the key stored in Jira).
    assert statements_for(app, client, f"/incidents/{large}") < statements_for(
        app, client, f"/incidents/{small}"
    )
    assert statements_for(app, client, "/incidents/") <= 5


def incident_requests(app, incident_id: int, credential_id: int) -> list[tuple[str, str]]:
    ids = {"incident_id": incident_id, "credential_id": credential_id}
    with app.test_request_context():
        from flask import url_for

        return sorted(
            (method, url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("incidents.")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        )


@pytest.mark.parametrize("role", [Role.vendor_contact, Role.admin])
def test_vendor_contacts_and_admins_get_403_on_every_incident_page(
    app, client, make_user, world, role
):
    login_as(client, make_user(Role.risk_officer))
    incident_id = open_incident(client, world["okta"])
    # The breached vendor's own contact is refused too: incidents are internal.
    vendor_id = world["okta"] if role is Role.vendor_contact else None
    login_as(client, make_user(role, vendor_id=vendor_id))
    requests = incident_requests(app, incident_id, world["svc-jira"])
    assert len(requests) == 6
    for method, path in requests:
        data = {"action": "revoked", "exception_reason": REASON} | incident_form(world["okta"])
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path)
    assert count(app, Incident) == 1
    assert get(app, Incident, incident_id).status is IncidentStatus.open
    assert get(app, Credential, world["svc-jira"]).status is CredentialStatus.active
    assert len(events(app, "access.denied")) == 6


@pytest.mark.parametrize("role", [Role.procurement, Role.risk_officer])
def test_procurement_and_risk_officers_find_incidents_in_their_navigation(client, make_user, role):
    login_as(client, make_user(role))
    page = client.get("/inventory/vendors").get_data(as_text=True)
    assert 'href="/incidents/"' in page
    page = client.get("/incidents/").get_data(as_text=True)
    assert 'href="/incidents/" aria-current="page"' in page


def test_the_forms_work_with_their_security_tokens(make_app, make_user):
    """With CSRF on, as in production: the opening form, a checklist button and the close form
    send the token their page gave them, and nothing happens without it."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_as(client, make_user(Role.risk_officer))
    [okta, jira] = add(app, Vendor(name="Okta-like"), System(name="Jira"))
    [svc] = add(
        app,
        Credential(
            name="svc-jira",
            kind=CredentialKind.service_account,
            system_id=jira,
            holder_vendor_id=okta,
        ),
    )
    new_page = client.get("/incidents/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', new_page)[1]
    assert client.post("/incidents/new", data=incident_form(okta)).status_code == 400
    opened = client.post("/incidents/new", data=incident_form(okta) | {"csrf_token": token})
    assert opened.status_code == 302
    incident_path = opened.headers["Location"]

    page = client.get(incident_path).get_data(as_text=True)
    button_form = page.split(f"/checklist/{svc}")[1]
    button_token = re.search(r'name="csrf_token" value="([^"]+)"', button_form)[1]
    checklist_path = f"{incident_path}/checklist/{svc}"
    assert client.post(checklist_path, data={"action": "rotated"}).status_code == 400
    assert get(app, Credential, svc).last_rotated_at is None
    rotated = client.post(checklist_path, data={"action": "rotated", "csrf_token": button_token})
    assert rotated.status_code == 302

    page = client.get(incident_path).get_data(as_text=True)
    close_form = page.split(f'action="{incident_path}/close"')[1]
    close_token = re.search(r'value="([^"]+)"', close_form)[1]
    assert client.post(f"{incident_path}/close").status_code == 400
    closed = client.post(f"{incident_path}/close", data={"csrf_token": close_token})
    assert closed.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Incident.status)) is IncidentStatus.closed


def test_pages_carry_no_inline_script_or_style(client, procurement, world):
    incident_id = open_incident(client, world["okta"])
    for path in ("/incidents/", "/incidents/new", f"/incidents/{incident_id}"):
        page = client.get(path).get_data(as_text=True)
        assert not INLINE_SCRIPT.search(page), path
        assert "style=" not in page and "<style" not in page, path


# ---- hostile input -------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
hostile_text = st.text(max_size=80) | st.sampled_from(
    [*HOSTILE, "' OR 1=1 --", "9" * 30, "-1", "2024-02-30", "0001-01-01", "9999-12-31"]
)
fuzz = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(
    title=hostile_text,
    notes=hostile_text,
    started=hostile_text,
    detected=hostile_text,
    vendor=hostile_text,
    reason=hostile_text,
    action=hostile_text,
)
def test_incident_forms_never_fail_on_hostile_input(
    app, client, make_user, title, notes, started, detected, vendor, reason, action
):
    login_as(client, make_user(Role.risk_officer))
    with app.app_context():
        vendor_id = db.session.scalar(sa.select(Vendor.id).where(Vendor.name == "Acme"))
    if vendor_id is None:
        [vendor_id] = add(app, Vendor(name="Acme"))
    opened = client.post(
        "/incidents/new",
        data={
            "vendor_id": vendor if vendor else str(vendor_id),
            "title": title,
            "notes": notes,
            "started_at": started,
            "detected_at": detected,
        },
    )
    assert opened.status_code in {302, 400}
    assert not any(value in opened.get_data(as_text=True) for value in HOSTILE)
    if opened.status_code == 302:
        page = client.get(opened.headers["Location"])
        assert page.status_code == 200
        assert not any(value in page.get_data(as_text=True) for value in HOSTILE)
        incident_id = int(opened.headers["Location"].rsplit("/", 1)[1])
        marked = client.post(f"/incidents/{incident_id}/checklist/1", data={"action": action})
        assert marked.status_code in {302, 400, 404, 409}
        closed = close(client, incident_id, reason)
        assert closed.status_code in {302, 400}
        assert not any(value in closed.get_data(as_text=True) for value in HOSTILE)
