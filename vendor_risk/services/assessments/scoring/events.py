"""The events that rescore: a request submitted, accepted or cancelled, and the portfolio
aggregates computed again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import model as qmodel
from ....core.scoring import SectionTotals
from ....core.scoring.inherent import declared_from
from ....models import (
    Answer,
    QuestionnaireRequest,
    RequestScore,
    RequestStatus,
    ScoreTrigger,
    Vendor,
)
from .counted import store_totals
from .rescoring import Rescored, outdated, rescore, unscored


def request_submitted(
    session: Session,
    request: QuestionnaireRequest,
    questionnaire: qmodel.Questionnaire,
    *,
    again: bool,
) -> tuple[SectionTotals, ...] | None:
    """A request was submitted (``again``: after a return for clarification): store its totals
    and rescore its vendor. Returns the totals (None for a questionnaire that scores nothing),
    from which the caller opens findings. An intake declares the vendor's inherent-risk
    factors: they are written on the vendor, which makes the portfolio aggregates stale, and
    the vendor is rescored when they are computed again."""
    if questionnaire.audience is qmodel.Audience.internal:
        _declare(session, request, questionnaire)
    totals = store_totals(session, request, questionnaire)
    if totals is not None:
        trigger = ScoreTrigger.answers_changed if again else ScoreTrigger.submitted
        rescore(session, [request.vendor_id], trigger=trigger)
    return totals


def request_closed(session: Session, request: QuestionnaireRequest) -> None:
    """A request was accepted (its answers now count in the rating, no longer provisionally)
    or cancelled (they no longer count at all): rescore its vendor, when its answers were
    counted (a scored vendor questionnaire submitted at least once)."""
    trigger = {
        RequestStatus.accepted: ScoreTrigger.accepted,
        RequestStatus.cancelled: ScoreTrigger.cancelled,
    }[request.status]
    if session.get(RequestScore, request.id) is not None:
        rescore(session, [request.vendor_id], trigger=trigger)


def _declare(
    session: Session, request: QuestionnaireRequest, questionnaire: qmodel.Questionnaire
) -> None:
    if not any(q.inherent is not None for q in questionnaire.questions):
        return
    values = dict(
        session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.request_id == request.id)
        ).all()
    )
    vendor = session.get(Vendor, request.vendor_id)
    declared = declared_from(questionnaire, values)
    if vendor.declared_risk != declared:
        vendor.declared_risk = declared
        session.flush()


def after_aggregates(session: Session, changed: Iterable[int], now: datetime) -> Rescored:
    """After the portfolio aggregates were stored: rescore the vendors whose profile or reach
    changed, those not scored yet, and those scored by another version of the method."""
    changed = set(changed) | set(unscored(session))
    outdated_ids = set(outdated(session)) - changed
    result = rescore(session, changed, trigger=ScoreTrigger.inventory_changed, now=now)
    if outdated_ids:
        again = rescore(session, outdated_ids, trigger=ScoreTrigger.parameters_changed, now=now)
        result = Rescored(result.vendors + again.vendors, result.recorded + again.recorded)
    return result
