"""The life of a questionnaire request: which status may follow which, in one place.

draft -> sent (invites out) -> in progress (first answer saved) -> submitted (the vendor is
done) -> under review (a risk officer opened it) -> accepted, or returned for clarification ->
in progress again -> submitted... Cancelled ends any request not yet accepted. Overdue is not
a status: it derives from the due date (:func:`is_overdue`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ...db import utcnow
from ...models import (
    AuditAction,
    QuestionnaireRequest,
    RequestStatus,
)
from .. import audit
from ..audit import Actor

S = RequestStatus
NEXT: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.draft: frozenset({S.sent, S.cancelled}),
    S.sent: frozenset({S.in_progress, S.submitted, S.cancelled}),
    S.in_progress: frozenset({S.submitted, S.cancelled}),
    S.submitted: frozenset({S.under_review, S.returned, S.accepted, S.cancelled}),
    S.under_review: frozenset({S.returned, S.accepted, S.cancelled}),
    S.returned: frozenset({S.in_progress, S.submitted, S.cancelled}),
    S.accepted: frozenset(),
    S.cancelled: frozenset(),
}
# The vendor may change answers only in these (after submission: read-only until returned).
VENDOR_EDITABLE = frozenset({S.sent, S.in_progress, S.returned})
# Waiting for the vendor: reminders go out and overdue applies.
AWAITING_VENDOR = VENDOR_EDITABLE
# Waiting for a risk officer.
AWAITING_REVIEW = frozenset({S.submitted, S.under_review})


class TransitionRefused(ValueError):
    """The request cannot go from its status to the one asked for."""


def may_move(current: RequestStatus, to: RequestStatus) -> bool:
    return to in NEXT[current]


def check_move(current: RequestStatus, to: RequestStatus) -> None:
    if not may_move(current, to):
        raise TransitionRefused(f"A request that is {current.label} cannot become {to.label}.")


def is_overdue(status: RequestStatus, due_on: date | None, today: date) -> bool:
    """Past its due date and still waiting for the vendor."""
    return due_on is not None and due_on < today and status in AWAITING_VENDOR


# The audit action of each status a request can be moved to (in progress is not audited: it
# happens with the first answer saved).
_ACTIONS = {
    RequestStatus.sent: AuditAction.request_sent,
    RequestStatus.submitted: AuditAction.request_submitted,
    RequestStatus.under_review: AuditAction.request_review_started,
    RequestStatus.returned: AuditAction.request_returned,
    RequestStatus.accepted: AuditAction.request_accepted,
    RequestStatus.cancelled: AuditAction.request_cancelled,
}


def transition(
    session: Session,
    request: QuestionnaireRequest,
    to: RequestStatus,
    *,
    actor: Actor,
    details: dict | None = None,
) -> None:
    """Move the request to ``to`` (TransitionRefused if its status does not allow it), stamp
    the moment and audit it, in the caller's transaction."""
    check_move(request.status, to)
    now = utcnow()
    previous = request.status
    request.status = to
    request.version += 1
    if to is RequestStatus.sent:
        request.sent_at = now
    elif to is RequestStatus.submitted:
        request.submitted_at = now
    elif to in (RequestStatus.accepted, RequestStatus.returned):
        request.reviewed_at, request.reviewed_by_id = now, actor.user_id
    session.flush()
    action = _ACTIONS.get(to)
    if action is not None:
        audit.record(
            session,
            action,
            actor=actor,
            object_type="request",
            object_id=request.id,
            vendor_id=request.vendor_id,
            details={"from": previous.value, **(details or {})},
        )
