"""Reassessment: the answers of the vendor's latest accepted request carried over to a new
one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import conditions
from ....core.questionnaire import model as qmodel
from ....db import utcnow
from ....models import Answer, QuestionnaireRequest, QuestionnaireVersion, RequestStatus
from .reading import answers_of, questionnaire_of_request, recount, version_of
from .saving import _stored


def previous_accepted(
    session: Session, request: QuestionnaireRequest
) -> QuestionnaireRequest | None:
    """The vendor's latest accepted request of the same questionnaire (any version)."""
    version = version_of(session, request)
    return session.scalar(
        sa.select(QuestionnaireRequest)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .where(
            QuestionnaireRequest.vendor_id == request.vendor_id,
            QuestionnaireRequest.status == RequestStatus.accepted,
            QuestionnaireRequest.id != request.id,
            QuestionnaireVersion.questionnaire_id == version.questionnaire_id,
        )
        .order_by(
            QuestionnaireRequest.reviewed_at.desc().nulls_last(),
            QuestionnaireRequest.id.desc(),
        )
        .limit(1)
    )


def prefill_from_previous(session: Session, request: QuestionnaireRequest) -> int:
    """Copy the answers of the vendor's latest accepted request of the same questionnaire,
    marked carried over, and link it as ``previous_id``. Only questions that still exist and
    whose stored answer still fits them (same options, limits...) are copied, with their
    comments; never files (each request has its own evidence), clarifications or internal
    notes, and never over an answer the request has already. Sets the request's counts (the
    questions asked, given the show-if conditions) either way. Returns how many were copied."""
    questionnaire = questionnaire_of_request(session, request)
    existing = answers_of(session, request.id)
    # Counted from the start as after every save: the questions asked with these answers.
    recount(request, questionnaire, existing)
    previous = previous_accepted(session, request)
    if previous is None:
        session.flush()
        return 0
    request.previous_id = previous.id
    copied = 0
    for old in answers_of(session, previous.id).values():
        if old.question_id in existing:
            continue
        try:
            question = questionnaire.question(old.question_id)
        except KeyError:
            continue
        if not question.type.takes_answer or question.type is qmodel.QuestionType.file:
            continue
        try:
            value = _stored(conditions.validate_answer(question, old.value))
        except conditions.InvalidAnswer:
            continue
        if value is None:
            continue
        answer = Answer(
            request_id=request.id,
            question_id=old.question_id,
            value=value,
            comment=old.comment,
            version=1,
            carried_over=True,
            updated_at=utcnow(),
            updated_by_id=old.updated_by_id,
        )
        session.add(answer)
        existing[answer.question_id] = answer
        copied += 1
    if copied:
        recount(request, questionnaire, existing)
    session.flush()
    return copied
