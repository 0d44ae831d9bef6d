"""The review's two decisions: return the request for clarification, or accept it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire.markup import plain
from ....models import Answer, QuestionnaireRequest, RequestStatus
from ... import notifications
from ...assessments import scoring
from ...audit import Actor
from ..request_status import check_move
from ..requests import transition
from .common import ReviewRefused
from .detail import review_detail


def _check_request_version(request: QuestionnaireRequest, expected: int | None) -> None:
    if expected is not None and expected != request.version:
        raise ReviewRefused(
            f"This request changed after you opened it (it is now {request.status.label}): "
            "nothing was done. Read it again below before deciding."
        )


def return_for_clarification(
    session: Session,
    request: QuestionnaireRequest,
    *,
    expected_version: int | None,
    actor: Actor,
) -> int:
    """Send the request back to the vendor with the clarifications written on its asked
    questions (at least one); returns how many. Clarifications left on questions the
    vendor's answers no longer ask are cleared: the vendor could not see them. The audit
    event keeps what was asked, round after round."""
    _check_request_version(request, expected_version)
    check_move(request.status, RequestStatus.returned)
    detail = review_detail(session, request.id)
    asked = detail.clarifications
    if not asked:
        raise ReviewRefused(
            "Write a clarification on at least one answer (and save it) before returning the "
            "request: the vendor needs to know what to change."
        )
    stale = [i.question.id for i in detail.items if not i.asked and i.clarification]
    if stale:
        session.execute(
            sa.update(Answer)
            .where(Answer.request_id == request.id, Answer.question_id.in_(stale))
            .values(clarification="")
        )
    transition(
        session,
        request,
        RequestStatus.returned,
        actor=actor,
        details={
            "clarifications": [{"question": i.question.id, "text": i.clarification} for i in asked]
        },
    )
    notifications.request_returned(
        session,
        request,
        [
            notifications.Clarification(i.number, plain(i.question.text), i.clarification)
            for i in asked
        ],
    )
    return len(asked)


def accept(
    session: Session,
    request: QuestionnaireRequest,
    *,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Accept the request: it becomes read-only for good, and its answers count in the
    vendor's rating, no longer provisionally (the vendor is rescored). Clarifications were
    questions to the vendor, answered by now: they are cleared (each return's audit event
    keeps them); internal notes stay, as the reviewers' record."""
    _check_request_version(request, expected_version)
    check_move(request.status, RequestStatus.accepted)
    cleared = session.execute(
        sa.update(Answer)
        .where(Answer.request_id == request.id, Answer.clarification != "")
        .values(clarification="")
        .execution_options(synchronize_session="fetch")
    ).rowcount
    transition(
        session,
        request,
        RequestStatus.accepted,
        actor=actor,
        details={"clarifications_cleared": cleared},
    )
    scoring.request_closed(session, request)
    notifications.request_accepted(session, request)
