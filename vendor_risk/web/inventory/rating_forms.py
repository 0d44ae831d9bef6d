"""Forms of a vendor's Risk tab: the override of its tier and the review decision. Field
names equal the model attributes they set (VendorRating, AssessmentDecision).

Formats are checked here (choices, lengths); the rules (a reason long enough, a rationale,
conditions exactly when the approval has some, no secret-looking text) are the services'
(services.ratings, services.decisions), so that every way in is held to them.
"""

from __future__ import annotations

from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from ...core.scoring import Tier
from ...db import row_id
from ...models import DecisionKind
from ...services.assessments.ratings import OVERRIDE_REASON_MIN
from ..forms import TEXT_MAX, ModelForm, enum_field, strip_text

REASON_MAX = 2_000
TIERS = frozenset(t.value for t in Tier)


def _text(text: str, max_length: int, **kwargs) -> TextAreaField:
    return TextAreaField(
        text,
        validators=[Length(max=max_length)],
        filters=[strip_text],
        render_kw={"rows": 3},
        **kwargs,
    )


class OverrideForm(ModelForm):
    """A risk officer's tier for the vendor, shown beside the computed one."""

    override_tier = enum_field("Tier", Tier, blank="Choose…")
    override_reason = _text(
        "Reason",
        REASON_MAX,
        description=f"Why the computed tier is wrong for this vendor, in at least "
        f"{OVERRIDE_REASON_MIN} characters: shown beside the rating, kept in the audit trail.",
    )


def _score_id(value) -> int | None:
    """The hidden score id as a number; anything else (missing, tampered) as None."""
    return row_id(value)


class AssessmentDecisionForm(ModelForm):
    """The decision, with the rating the page showed (``score_id`` and ``tier``): a decision
    on a rating changed meanwhile is refused."""

    decision = enum_field("Decision", DecisionKind, blank="Choose…")
    rationale = _text(
        "Rationale", TEXT_MAX, description="Why: for the vendor's file and the auditors."
    )
    conditions = _text(
        "Conditions",
        TEXT_MAX,
        description="Only for “approved with conditions”: what the vendor must do, and by when.",
    )
    score_id = HiddenField()
    tier = HiddenField()

    @property
    def expected_score_id(self) -> int | None:
        return _score_id(self.score_id.data)

    @property
    def expected_tier(self) -> Tier | None:
        value = self.tier.data
        return Tier(value) if value in TIERS else None
