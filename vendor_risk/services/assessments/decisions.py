"""Review decisions: a risk officer approves, approves with conditions or rejects a vendor's
assessment, with a rationale, on the rating the Risk tab showed them.

The decision keeps what it was taken on (the score, the tier with any override, the request
under assessment) and sets the next reassessment: the decision's day plus the cadence of that
tier in months (``REASSESSMENT_MONTHS``). The vendor's ``next_review`` follows it, so the
reassessments page (services.reassessments) lists the vendor when the day comes near.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.scoring import Tier
from ...core.secret_detection import secret_problem
from ...db import utcnow
from ...models import (
    AssessmentDecision,
    AuditAction,
    DecisionKind,
    QuestionnaireRequest,
    RequestStatus,
    ScoreTrigger,
    User,
    Vendor,
)
from .. import ValidationFailed, audit, inventory
from ..audit import Actor
from . import scoring
from .ratings import effective_tier, locked_rating

DECISIONS_SHOWN = 50
# The requests a decision is about: the one a risk officer accepted, or is reviewing.
ASSESSED = (RequestStatus.accepted, RequestStatus.under_review)
DECISION_TEXT = ("rationale", "conditions")


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day kept or clamped to the end of a shorter
    month (31 August + 6 months is 28 or 29 February): a cadence in months means the same
    day of the month, which a number of days drifts from."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(decided_on: date, tier: Tier, cadence: Mapping[str, int]) -> date:
    """The day of the next reassessment after a decision taken on ``tier``."""
    return add_months(decided_on, cadence[tier.value])


def decision_problems(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a decision, per field: a rationale always, conditions exactly when
    the approval has some, and no text that looks like a secret."""
    errors: dict[str, list[str]] = {}
    kind = values.get("decision")
    rationale = (values.get("rationale") or "").strip()
    conditions = (values.get("conditions") or "").strip()
    if not isinstance(kind, DecisionKind):
        errors["decision"] = ["Choose the decision."]
    if not rationale:
        errors["rationale"] = ["Write the rationale: why this decision, for the vendor's file."]
    if kind is DecisionKind.approved_with_conditions and not conditions:
        errors["conditions"] = ["List the conditions of the approval."]
    elif conditions and kind in (DecisionKind.approved, DecisionKind.rejected):
        errors["conditions"] = [
            "Conditions go with “approved with conditions”: choose it, or clear them."
        ]
    for name in DECISION_TEXT:
        found = secret_problem(values.get(name))
        if found:
            errors.setdefault(name, []).append(found)
    return errors


def assessed_request(session: Session, vendor_id: int) -> int | None:
    """The vendor's latest accepted or under-review request: the assessment decided on."""
    return session.scalar(
        sa.select(QuestionnaireRequest.id)
        .where(
            QuestionnaireRequest.vendor_id == vendor_id,
            QuestionnaireRequest.status.in_(ASSESSED),
        )
        .order_by(
            QuestionnaireRequest.submitted_at.desc().nulls_last(),
            QuestionnaireRequest.id.desc(),
        )
        .limit(1)
    )


def decide(
    session: Session,
    vendor: Vendor,
    values: Mapping[str, Any],
    *,
    expected_score_id: int | None,
    expected_tier: Tier | None,
    cadence: Mapping[str, int],
    actor: Actor,
) -> AssessmentDecision:
    """Record the decision on the rating the decider saw (``expected_score_id`` and
    ``expected_tier``), set the vendor's next review, audit, and rescore the vendor (a
    decision is a point in the score history). ValidationFailed per field; under "" when the
    vendor has no rating or its rating changed since the page was shown."""
    rating = locked_rating(session, vendor.id)
    tier = effective_tier(rating)
    if rating.score_id != expected_score_id or tier is not expected_tier:
        raise ValidationFailed(
            {
                "": [
                    "The rating changed after you opened this page (a new score, or an "
                    f"override): it is now {tier.value}. Nothing was recorded: read it again "
                    "below before deciding."
                ]
            }
        )
    errors = decision_problems(values)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    decision = AssessmentDecision(
        vendor_id=vendor.id,
        request_id=assessed_request(session, vendor.id),
        score_id=rating.score_id,
        decision=values["decision"],
        rationale=values["rationale"].strip(),
        conditions=(values.get("conditions") or "").strip(),
        tier=tier.value,
        next_review=next_review(now.date(), tier, cadence),
        decided_at=now,
        decided_by_id=actor.user_id,
    )
    session.add(decision)
    session.flush()
    inventory.update_vendor(session, vendor, {"next_review": decision.next_review}, actor=actor)
    audit.record(
        session,
        AuditAction.assessment_decided,
        actor=actor,
        object_type="assessment_decision",
        object_id=decision.id,
        vendor_id=vendor.id,
        details={
            "decision": decision.decision.value,
            "tier": decision.tier,
            "score_id": decision.score_id,
            "request_id": decision.request_id,
            "next_review": decision.next_review.isoformat(),
            "rationale": decision.rationale,
            "conditions": decision.conditions,
        },
    )
    scoring.rescore(session, [vendor.id], trigger=ScoreTrigger.decision, now=now)
    return decision


# ---- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRow:
    decided_at: datetime
    decided_by: str
    decision: DecisionKind
    rationale: str
    conditions: str
    tier: Tier
    next_review: date | None
    request_id: int | None


def decisions_of(session: Session, vendor_id: int) -> tuple[DecisionRow, ...]:
    """The vendor's decisions, newest first (the latest ``DECISIONS_SHOWN``), with who took
    them."""
    rows = session.execute(
        sa.select(AssessmentDecision, User.name)
        .join(User, User.id == AssessmentDecision.decided_by_id)
        .where(AssessmentDecision.vendor_id == vendor_id)
        .order_by(AssessmentDecision.decided_at.desc(), AssessmentDecision.id.desc())
        .limit(DECISIONS_SHOWN)
    )
    return tuple(
        DecisionRow(
            d.decided_at,
            name,
            d.decision,
            d.rationale,
            d.conditions,
            Tier(d.tier),
            d.next_review,
            d.request_id,
        )
        for d, name in rows
    )
