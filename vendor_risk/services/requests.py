"""Questionnaire requests: creating, sending and moving them through their statuses."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from ..audit import Actor
from ..db import utcnow
from ..models import AuditAction, QuestionnaireRequest, RequestStatus
from .request_status import check_move

# The audit action of each status a request can be moved to (in progress is not audited: it
# happens with the first answer saved).
_ACTIONS = {
    RequestStatus.sent: AuditAction.request_sent,
    RequestStatus.submitted: AuditAction.request_submitted,
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
