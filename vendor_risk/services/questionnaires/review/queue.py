"""The review's lists: requests waiting for a risk officer, and those returned to the vendor
for clarification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....models import Answer, QuestionnaireRequest, QuestionnaireVersion, RequestStatus, Vendor
from ...pages import Page, one_page
from ..request_status import AWAITING_REVIEW, is_overdue
from .common import _days_since, _today


@dataclass(frozen=True)
class QueueRow:
    """A request waiting for a risk officer."""

    id: int
    vendor_id: int
    vendor_name: str
    title: str  # of the questionnaire version
    version_number: int
    status: RequestStatus
    submitted_at: datetime | None
    due_on: date | None
    days_waiting: int | None  # since submission


@dataclass(frozen=True)
class ReturnedRow:
    """A request returned for clarification: waiting for the vendor."""

    id: int
    vendor_id: int
    vendor_name: str
    title: str
    version_number: int
    status: RequestStatus  # returned, or in progress once the vendor started on it
    returned_at: datetime | None
    due_on: date | None
    clarifications: int
    days_waiting: int | None  # since it was returned
    overdue: bool


def _listed() -> sa.Select:
    return (
        sa.select(
            QuestionnaireRequest.id,
            QuestionnaireRequest.vendor_id,
            Vendor.name,
            QuestionnaireVersion.title,
            QuestionnaireVersion.number,
            QuestionnaireRequest.status,
            QuestionnaireRequest.submitted_at,
            QuestionnaireRequest.reviewed_at,
            QuestionnaireRequest.due_on,
        )
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
    )


def review_queue(session: Session, *, page: int = 1, today: date | None = None) -> Page[QueueRow]:
    """Requests submitted or under review, the longest waiting first; one statement a page."""
    today = today or _today()
    query = (
        _listed()
        .where(QuestionnaireRequest.status.in_(sorted(AWAITING_REVIEW)))
        .order_by(QuestionnaireRequest.submitted_at.asc().nulls_first(), QuestionnaireRequest.id)
    )

    def row(r: Any) -> QueueRow:
        return QueueRow(
            id=r.id,
            vendor_id=r.vendor_id,
            vendor_name=r.name,
            title=r.title,
            version_number=r.number,
            status=r.status,
            submitted_at=r.submitted_at,
            due_on=r.due_on,
            days_waiting=_days_since(r.submitted_at, today),
        )

    return one_page(session, query, page, row)


def back_with_vendor() -> sa.ColumnElement[bool]:
    """Returned for clarification and not submitted again: still "returned", or in progress
    once the vendor saved a first change (only a return or an acceptance stamps
    ``reviewed_at``, and an accepted request is never in progress)."""
    return sa.or_(
        QuestionnaireRequest.status == RequestStatus.returned,
        sa.and_(
            QuestionnaireRequest.status == RequestStatus.in_progress,
            QuestionnaireRequest.reviewed_at.is_not(None),
        ),
    )


def returned_requests(
    session: Session, *, page: int = 1, today: date | None = None
) -> Page[ReturnedRow]:
    """Requests returned for clarification (:func:`back_with_vendor`), the longest waiting
    first, with the number of clarifications asked; one statement a page."""
    today = today or _today()
    asked = (
        sa.select(Answer.request_id.label("key"), sa.func.count().label("n"))
        .where(Answer.clarification != "")
        .group_by(Answer.request_id)
        .subquery()
    )
    query = (
        _listed()
        .where(back_with_vendor())
        .add_columns(sa.func.coalesce(asked.c.n, 0).label("clarifications"))
        .outerjoin(asked, asked.c.key == QuestionnaireRequest.id)
        .order_by(QuestionnaireRequest.reviewed_at.asc().nulls_first(), QuestionnaireRequest.id)
    )

    def row(r: Any) -> ReturnedRow:
        return ReturnedRow(
            id=r.id,
            vendor_id=r.vendor_id,
            vendor_name=r.name,
            title=r.title,
            version_number=r.number,
            status=r.status,
            returned_at=r.reviewed_at,
            due_on=r.due_on,
            clarifications=r.clarifications,
            days_waiting=_days_since(r.reviewed_at, today),
            overdue=is_overdue(r.status, r.due_on, today),
        )

    return one_page(session, query, page, row)
