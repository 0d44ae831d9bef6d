"""Where the object an audit event names can be seen: the one mapping from an event's
``object_type`` to the page of that object, and the link of each event on a page of events.

An event links only when its object still exists and the person reading may open that page
(an area admits some roles only: admins, who read the trail, do not open the inventory); else
its object stays text, marked "deleted" when the row is gone. Types without a page (an
endpoint, an invitation, an evidence file) are always text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for

from ...db import db
from ...models import (
    AssessmentDecision,
    AuditEvent,
    Credential,
    DataCategory,
    Finding,
    FourthParty,
    Incident,
    NetworkZone,
    OutboxMessage,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Role,
    System,
    User,
    Vendor,
)
from ...services import audit_log
from ..access import admits


@dataclass(frozen=True)
class ObjectPage:
    model: type
    endpoint: str
    args: Callable[[Any], dict[str, Any]]


def _by_id(name: str) -> Callable[[Any], dict[str, Any]]:
    return lambda row: {name: row.id}


# object_type (as services write it to audit.record) -> the page that shows such an object.
OBJECT_PAGES: dict[str, ObjectPage] = {
    "vendor": ObjectPage(Vendor, "inventory.vendor", _by_id("vendor_id")),
    "vendor_rating": ObjectPage(Vendor, "inventory.vendor_risk", _by_id("vendor_id")),
    "assessment_decision": ObjectPage(
        AssessmentDecision, "inventory.vendor_risk", lambda d: {"vendor_id": d.vendor_id}
    ),
    "system": ObjectPage(System, "inventory.system", _by_id("system_id")),
    "credential": ObjectPage(Credential, "inventory.edit_credential", _by_id("credential_id")),
    "data_category": ObjectPage(
        DataCategory, "inventory.edit_data_category", _by_id("data_category_id")
    ),
    "network_zone": ObjectPage(NetworkZone, "inventory.zone", _by_id("zone_id")),
    "fourth_party": ObjectPage(FourthParty, "inventory.fourth_party", _by_id("fourth_party_id")),
    "incident": ObjectPage(Incident, "incidents.incident", _by_id("incident_id")),
    "request": ObjectPage(QuestionnaireRequest, "requests.show", _by_id("request_id")),
    "finding": ObjectPage(Finding, "findings.finding", _by_id("finding_id")),
    "questionnaire_version": ObjectPage(
        QuestionnaireVersion,
        "library.version",
        lambda v: {"questionnaire_id": v.questionnaire_id, "number": v.number},
    ),
    "user": ObjectPage(User, "admin.user", _by_id("user_id")),
    "email": ObjectPage(OutboxMessage, "admin.outbox_message", _by_id("message_id")),
}


# The object types recorded that no page shows: a route (access denied), an invitation, an
# evidence file (its download is itself audited), the whole inventory or portfolio, a failed
# background job (listed on /admin/jobs, with no page of its own), a bulk export of PDFs (its
# page is its owner's alone, and it is deleted after 24 hours).
WITHOUT_PAGE = frozenset(
    {"endpoint", "invite", "evidence", "inventory", "portfolio", "job", "bulk_export"}
)


@dataclass(frozen=True)
class ObjectLink:
    """An event's object as a page shows it: a link, or text (``gone`` when deleted)."""

    text: str
    href: str | None = None
    gone: bool = False


def may_open(endpoint: str, roles: Iterable[Role]) -> bool:
    """Whether the area guard of ``endpoint`` admits someone holding ``roles``."""
    return admits(endpoint.rpartition(".")[0], roles)


def _object_id(event: AuditEvent) -> int | None:
    try:
        value = int(event.object_id or "")
    except ValueError:
        return None
    return value if 0 < value < 2**63 else None


def object_links(events: Iterable[AuditEvent], roles: Iterable[Role]) -> dict[int, ObjectLink]:
    """Each event's object (by the event's sequence number), looked up in one query per type."""
    events = [e for e in events if e.object_type]
    wanted: dict[type, set[int]] = defaultdict(set)
    for event in events:
        page = OBJECT_PAGES.get(event.object_type)
        object_id = _object_id(event)
        if page is not None and object_id is not None:
            wanted[page.model].add(object_id)
    found = audit_log.existing(db.session, wanted)
    links = {}
    for event in events:
        text = f"{event.object_type} {event.object_id or ''}".strip()
        page = OBJECT_PAGES.get(event.object_type)
        object_id = _object_id(event)
        if page is None or object_id is None:
            links[event.seq] = ObjectLink(text)
            continue
        row = found.get(page.model, {}).get(object_id)
        if row is None:
            links[event.seq] = ObjectLink(text, gone=True)
        elif may_open(page.endpoint, roles):
            links[event.seq] = ObjectLink(text, url_for(page.endpoint, **page.args(row)))
        else:
            links[event.seq] = ObjectLink(text)
    return links
