"""Submitting a request: what stops a submission (an unanswered question, required evidence
not attached), and the submission, which scores the request and opens its findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ....core.questionnaire import conditions
from ....core.questionnaire import model as qmodel
from ....core.questionnaire.markup import plain
from ....models import QuestionnaireRequest, RequestStatus
from ... import ValidationFailed, notifications
from ...assessments import scoring
from ...audit import Actor
from ..request_status import VENDOR_EDITABLE, transition
from .reading import answers_of, evidence_of, questionnaire_of_request, recount, values_of
from .saving import SUBMITTED, lock_request, read_only_reason

# May be submitted from these (the vendor may submit a request with every answer carried over).
SUBMITTABLE = VENDOR_EDITABLE


@dataclass(frozen=True)
class Missing:
    """A question that stops a submission: unanswered, or its required evidence not attached."""

    question_id: str
    section_title: str
    text: str  # the question's text without markup
    reason: str  # "answer" or "evidence"

    @property
    def anchor(self) -> str:
        """The id of the question on the form page (a link ``#anchor`` goes to it)."""
        return question_anchor(self.question_id)

    @property
    def message(self) -> str:
        return "Attach the evidence asked for." if self.reason == "evidence" else "Answer this."


def question_anchor(question_id: str) -> str:
    return f"q-{question_id}"


def needs_evidence(question: qmodel.Question, value: Any) -> bool:
    """Whether a visible question still needs a file: evidence is required, the question
    is not answered "not applicable" (nothing to prove), and it is not a file question (whose
    files are its answer)."""
    return (
        question.evidence is qmodel.Evidence.required
        and question.type is not qmodel.QuestionType.file
        and value != "na"
    )


def missing_answers(
    questionnaire: qmodel.Questionnaire,
    answers: Mapping[str, Any],
    evidence: Mapping[str, Sequence[Any]] | None = None,
) -> list[Missing]:
    """Every visible question that stops a submission, in the order of the questionnaire:
    required ones without an answer (conditionally required ones included, hidden ones not),
    and those whose evidence is required without a file. ``answers`` maps question ids to
    stored answers or values; ``evidence`` maps question ids to their files (``evidence_of``):
    without it, every required evidence counts as missing."""
    values = values_of(answers)
    evidence = evidence or {}
    sections = {q.id: s.title for s in questionnaire.sections for q in s.questions}
    missing = []
    for question in conditions.visible_questions(questionnaire, values):
        value = values.get(question.id)
        if question.required and not conditions.is_answered(value):
            reason = "answer"
        elif needs_evidence(question, value) and not evidence.get(question.id):
            reason = "evidence"
        else:
            continue
        missing.append(
            Missing(question.id, plain(sections[question.id]), plain(question.text), reason)
        )
    return missing


class SubmitRefused(ValidationFailed):
    """A submission refused: ``missing`` lists every question that stops it, in order."""

    def __init__(self, missing: list[Missing], message: str | None = None):
        errors = {m.question_id: [m.message] for m in missing}
        if message:
            errors[""] = [message]
        super().__init__(errors or {"": ["This questionnaire cannot be submitted."]})
        self.missing = missing
        self.message = message


def submit(session: Session, request: QuestionnaireRequest, *, actor: Actor) -> bool:
    """Submit the request when nothing is missing (:class:`SubmitRefused` lists what is);
    answers are read-only after it until a reviewer returns it. Submitting a request already
    submitted changes nothing and returns False (a second click)."""

    request = lock_request(session, request)
    if request.status in SUBMITTED:
        return False
    if request.status not in SUBMITTABLE:
        raise SubmitRefused([], read_only_reason(request))
    questionnaire = questionnaire_of_request(session, request)
    answers = answers_of(session, request.id)
    missing = missing_answers(questionnaire, answers, evidence_of(session, request.id))
    if missing:
        raise SubmitRefused(missing)
    recount(request, questionnaire, answers)
    again = request.reviewed_at is not None  # returned for clarification, answered again
    transition(
        session,
        request,
        RequestStatus.submitted,
        actor=actor,
        details={"answered": request.answered_count, "asked": request.question_count},
    )
    totals = scoring.request_submitted(session, request, questionnaire, again=again)
    if totals is not None:
        from ... import findings  # findings build on evidence, which builds on this module

        holding = {rule_id for section in totals for rule_id in section.findings}
        opened = findings.open_automatic(
            session,
            request,
            [failure for section in totals for failure in section.critical_failures],
            [rule for rule in questionnaire.findings if rule.id in holding],
            actor=actor,
        )
        notifications.findings_shared(session, opened)
    notifications.submission_waiting(session, request)
    return True
