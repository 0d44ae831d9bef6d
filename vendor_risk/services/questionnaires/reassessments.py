"""Reassessments due: the vendors whose next review is past or near, and sending them their
questionnaires again in one step.

A reassessment is a new request of each questionnaire the vendor last had accepted, in its
latest version, to the contacts of that accepted request, made by ``services.requests.
create_request``: the same checks, the same prefill from the last accepted answers (marked
carried over), the same invitations by email. Only vendor questionnaires are sent again; the
intake, which our staff fill in, is not part of it.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.scoring import Tier
from ...models import (
    AssessmentDecision,
    DecisionKind,
    Invite,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    User,
    Vendor,
    VendorRating,
    VendorStatus,
)
from .. import ValidationFailed
from ..audit import Actor
from ..pages import Page, one_page
from . import requests as request_service
from .library import latest_versions
from .request_status import NEXT

REASSESSED = (VendorStatus.active, VendorStatus.onboarding)
# A request still under way: any status a request can still move on from.
OPEN = tuple(sorted(status for status, after in NEXT.items() if after))
DEFAULT_WITHIN_DAYS = 30
DEFAULT_DUE_DAYS = 30


@dataclass(frozen=True)
class Accepted:
    """The vendor's last accepted request of one questionnaire: what a reassessment sends
    again (its latest version) and prefills from."""

    request_id: int
    questionnaire_id: int
    title: str
    reviewed_at: datetime | None
    open_request_id: int | None  # a request of the questionnaire still under way


@dataclass(frozen=True)
class DueVendor:
    id: int
    name: str
    status: VendorStatus
    next_review: date
    overdue: bool
    tier: Tier | None  # the computed tier; None before any rating
    override_tier: Tier | None
    last_decision: DecisionKind | None
    last_decided_at: datetime | None
    accepted: tuple[Accepted, ...] = ()


def _last_decisions() -> sa.Subquery:
    return sa.select(
        AssessmentDecision.vendor_id,
        AssessmentDecision.decision,
        AssessmentDecision.decided_at,
        sa.func.row_number()
        .over(
            partition_by=AssessmentDecision.vendor_id,
            order_by=(AssessmentDecision.decided_at.desc(), AssessmentDecision.id.desc()),
        )
        .label("rank"),
    ).subquery()


def _accepted(session: Session, vendor_ids: Iterable[int]) -> dict[int, list[Accepted]]:
    """Vendor -> its last accepted request of each vendor questionnaire (the one the prefill
    copies: answers.previous_accepted orders them the same way), with any request of that
    questionnaire still open. Two statements whatever the number of vendors."""
    ids = sorted(set(vendor_ids))
    ranked = (
        sa.select(
            QuestionnaireRequest.id,
            QuestionnaireRequest.vendor_id,
            QuestionnaireRequest.reviewed_at,
            Questionnaire.id.label("questionnaire_id"),
            Questionnaire.title,
            sa.func.row_number()
            .over(
                partition_by=(QuestionnaireRequest.vendor_id, Questionnaire.id),
                order_by=(
                    QuestionnaireRequest.reviewed_at.desc().nulls_last(),
                    QuestionnaireRequest.id.desc(),
                ),
            )
            .label("rank"),
        )
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(
            QuestionnaireRequest.vendor_id.in_(ids),
            QuestionnaireRequest.status == RequestStatus.accepted,
            Questionnaire.audience == request_service.VENDOR_AUDIENCE,
        )
        .subquery()
    )
    rows = session.execute(
        sa.select(ranked)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.vendor_id, sa.func.lower(ranked.c.title))
    ).all()
    open_rows = session.execute(
        sa.select(
            QuestionnaireRequest.vendor_id,
            QuestionnaireVersion.questionnaire_id,
            sa.func.min(QuestionnaireRequest.id),
        )
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(QuestionnaireRequest.vendor_id.in_(ids), QuestionnaireRequest.status.in_(OPEN))
        .group_by(QuestionnaireRequest.vendor_id, QuestionnaireVersion.questionnaire_id)
    )
    still_open = {(vendor, questionnaire): request for vendor, questionnaire, request in open_rows}
    found: dict[int, list[Accepted]] = defaultdict(list)
    for row in rows:
        found[row.vendor_id].append(
            Accepted(
                request_id=row.id,
                questionnaire_id=row.questionnaire_id,
                title=row.title,
                reviewed_at=row.reviewed_at,
                open_request_id=still_open.get((row.vendor_id, row.questionnaire_id)),
            )
        )
    return found


def due_clause(today: date, within_days: int = DEFAULT_WITHIN_DAYS) -> sa.ColumnElement[bool]:
    """A vendor due for reassessment: active or onboarding, its next review past or within
    ``within_days`` days."""
    return sa.and_(
        Vendor.status.in_(REASSESSED),
        Vendor.next_review <= today + timedelta(days=within_days),
    )


def due(
    session: Session, *, today: date, within_days: int = DEFAULT_WITHIN_DAYS, page: int = 1
) -> Page[DueVendor]:
    """Active and onboarding vendors whose next review is past or within ``within_days``,
    the longest overdue first, with their tier, last decision and last accepted requests:
    three statements a page."""
    last = _last_decisions()
    query = (
        sa.select(
            Vendor.id,
            Vendor.name,
            Vendor.status,
            Vendor.next_review,
            VendorRating.residual_tier,
            VendorRating.override_tier,
            last.c.decision,
            last.c.decided_at,
        )
        .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id)
        .outerjoin(last, sa.and_(last.c.vendor_id == Vendor.id, last.c.rank == 1))
        .where(due_clause(today, within_days))
        .order_by(Vendor.next_review, sa.func.lower(Vendor.name), Vendor.id)
    )

    def row(values) -> DueVendor:
        return DueVendor(
            id=values.id,
            name=values.name,
            status=values.status,
            next_review=values.next_review,
            overdue=values.next_review < today,
            tier=Tier(values.residual_tier) if values.residual_tier else None,
            override_tier=Tier(values.override_tier) if values.override_tier else None,
            last_decision=DecisionKind(values.decision) if values.decision else None,
            last_decided_at=values.decided_at,
        )

    found = one_page(session, query, page, row)
    accepted = _accepted(session, [v.id for v in found.rows])
    rows = tuple(dataclasses.replace(v, accepted=tuple(accepted.get(v.id, ()))) for v in found.rows)
    return dataclasses.replace(found, rows=rows)


# ---- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    request_id: int
    title: str
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """What sending one vendor's reassessment did: the requests sent, and why the others
    were not."""

    vendor_id: int
    vendor_name: str
    sent: tuple[Sent, ...] = ()
    refused: tuple[str, ...] = ()


def _contacts(session: Session, request_ids: Iterable[int]) -> dict[int, list[str]]:
    """Request -> the addresses it was sent to, in the order invited: not those revoked (a
    wrong address), nor those of an account disabled since (someone who left)."""
    rows = session.execute(
        sa.select(Invite.request_id, Invite.email)
        .outerjoin(User, User.email == Invite.email)
        .where(
            Invite.request_id.in_(sorted(set(request_ids))),
            Invite.revoked_at.is_(None),
            sa.or_(User.id.is_(None), User.active.is_(True)),
        )
        .order_by(Invite.created_at, Invite.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for request_id, email in rows:
        if email not in found[request_id]:
            found[request_id].append(email)
    return found


def _send_one(
    session: Session,
    vendor: Vendor,
    accepted: list[Accepted],
    *,
    contacts: dict[int, list[str]],
    versions: dict[int, int],
    due_on: date,
    actor: Actor,
) -> Outcome:
    if vendor.status not in REASSESSED:
        return Outcome(
            vendor.id,
            vendor.name,
            refused=(f"It is {vendor.status.value}: only active and onboarding vendors are.",),
        )
    if not accepted:
        return Outcome(
            vendor.id,
            vendor.name,
            refused=("No questionnaire of it was accepted yet: send one from New request.",),
        )
    sent, refused = [], []
    for previous in accepted:
        emails = contacts.get(previous.request_id, [])
        if previous.open_request_id is not None:
            refused.append(
                f"{previous.title}: request {previous.open_request_id} is still open, so "
                "none was sent."
            )
        elif not emails:
            refused.append(
                f"{previous.title}: its last request (request {previous.request_id}) has no "
                "contact left to send to: send it from New request."
            )
        else:
            try:
                made = request_service.create_request(
                    session,
                    vendor_id=vendor.id,
                    version_id=versions[previous.questionnaire_id],
                    due_on=due_on,
                    contact_emails=emails,
                    actor=actor,
                )
            except ValidationFailed as exc:
                messages = " ".join(m for found in exc.errors.values() for m in found)
                refused.append(f"{previous.title}: {messages}")
            else:
                sent.append(Sent(made.id, previous.title, tuple(emails)))
    return Outcome(vendor.id, vendor.name, tuple(sent), tuple(refused))


def send(
    session: Session, vendor_ids: Iterable[int], *, due_on: date, actor: Actor
) -> list[Outcome]:
    """Send each vendor's reassessment: a new request of every questionnaire it last had
    accepted (latest version, same contacts, prefilled from those answers), one vendor after
    the other; a vendor that cannot be sent to is refused with the reason, never stopping the
    others. The emails are queued in the outbox, which sends them."""
    ids = sorted(set(vendor_ids))
    vendors = {v.id: v for v in session.scalars(sa.select(Vendor).where(Vendor.id.in_(ids)))}
    accepted = _accepted(session, vendors.keys())
    contacts = _contacts(session, (a.request_id for found in accepted.values() for a in found))
    versions = {
        v.questionnaire_id: v.id
        for v in latest_versions(session, audience=request_service.VENDOR_AUDIENCE)
    }
    outcomes = []
    for vendor_id in ids:
        vendor = vendors.get(vendor_id)
        if vendor is None:
            outcomes.append(Outcome(vendor_id, f"Vendor {vendor_id}", refused=("Not found.",)))
            continue
        outcomes.append(
            _send_one(
                session,
                vendor,
                accepted.get(vendor_id, []),
                contacts=contacts,
                versions=versions,
                due_on=due_on,
                actor=actor,
            )
        )
    return outcomes
