"""Reaching a request: a vendor contact's only through their vendor, staff's internal ones
(the intake), and the lists of requests the portal and the intake page show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import model as qmodel
from ....models import QuestionnaireRequest, QuestionnaireVersion, RequestStatus, User, Vendor
from ..request_status import VENDOR_EDITABLE, is_overdue
from .reading import progress_percent

# Never shown to a vendor contact, whatever their vendor: not sent yet, or withdrawn.
HIDDEN_FROM_VENDORS = frozenset({RequestStatus.draft, RequestStatus.cancelled})


def audience_is(audience: qmodel.Audience) -> sa.ColumnElement[bool]:
    """The audience of the version itself (a questionnaire could change it between versions)."""
    return QuestionnaireVersion.definition["audience"].as_string() == audience.value


def request_for_contact(
    session: Session, user: User, request_id: int
) -> QuestionnaireRequest | None:
    """The request if it is one of the contact's vendor, sent to vendors and not a draft or
    cancelled; None otherwise (the view answers 404, whatever the reason)."""
    if user.vendor_id is None:
        return None
    return session.scalar(
        sa.select(QuestionnaireRequest)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            QuestionnaireRequest.id == request_id,
            QuestionnaireRequest.vendor_id == user.vendor_id,
            QuestionnaireRequest.status.not_in(HIDDEN_FROM_VENDORS),
            audience_is(qmodel.Audience.vendor),
        )
    )


def internal_request(session: Session, request_id: int) -> QuestionnaireRequest | None:
    """A request of an internal questionnaire (the intake), which staff fill; None for the
    questionnaires sent to vendors and for cancelled ones."""
    return session.scalar(
        sa.select(QuestionnaireRequest)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            QuestionnaireRequest.id == request_id,
            QuestionnaireRequest.status != RequestStatus.cancelled,
            audience_is(qmodel.Audience.internal),
        )
    )


@dataclass(frozen=True)
class RequestRow:
    """One request in a list: what the portal's and the intake's lists show."""

    id: int
    title: str
    vendor_name: str
    status: RequestStatus
    due_on: date | None
    answered_count: int
    question_count: int
    overdue: bool
    submitted_at: datetime | None

    @property
    def percent(self) -> int:
        return progress_percent(self.answered_count, self.question_count)

    @property
    def editable(self) -> bool:
        return self.status in VENDOR_EDITABLE


def _rows(session: Session, query: sa.Select, today: date) -> list[RequestRow]:
    rows = session.execute(
        query.add_columns(QuestionnaireVersion.title, Vendor.name)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        # Waiting for the vendor first, soonest due first; then the others, newest first.
        .order_by(
            sa.case((QuestionnaireRequest.status.in_(VENDOR_EDITABLE), 0), else_=1),
            QuestionnaireRequest.due_on.is_(None),
            QuestionnaireRequest.due_on,
            QuestionnaireRequest.id.desc(),
        )
    ).all()
    return [
        RequestRow(
            id=r.id,
            title=title,
            vendor_name=vendor_name,
            status=r.status,
            due_on=r.due_on,
            answered_count=r.answered_count,
            question_count=r.question_count,
            overdue=is_overdue(r.status, r.due_on, today),
            submitted_at=r.submitted_at,
        )
        for r, title, vendor_name in rows
    ]


def requests_of_contact(session: Session, user: User, *, today: date) -> list[RequestRow]:
    """The contact's vendor's requests (not drafts or cancelled ones), in one statement."""
    if user.vendor_id is None:
        return []
    query = sa.select(QuestionnaireRequest).where(
        QuestionnaireRequest.vendor_id == user.vendor_id,
        QuestionnaireRequest.status.not_in(HIDDEN_FROM_VENDORS),
        audience_is(qmodel.Audience.vendor),
    )
    return _rows(session, query, today)


def internal_requests(session: Session, *, today: date, limit: int = 200) -> list[RequestRow]:
    """Requests of internal questionnaires (intakes) waiting to be filled, then the latest
    others: what the intake page lists."""
    query = (
        sa.select(QuestionnaireRequest)
        .where(
            QuestionnaireRequest.status != RequestStatus.cancelled,
            audience_is(qmodel.Audience.internal),
        )
        .limit(limit)
    )
    return _rows(session, query, today)
