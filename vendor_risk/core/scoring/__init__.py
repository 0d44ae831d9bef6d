"""Scoring: pure functions from inventory and answers to explained figures (docs/scoring.md).

No Flask, no database: the services read the rows and store what comes out. Inherent risk
(``inherent``), the control score (``control``), exposure (``exposure``) and residual risk
(``residual``), all under one :data:`PARAMETERS_VERSION` (earlier versions are still computed,
so that stored scores reproduce).
"""

from .control import (
    CRITICAL_CAP,
    AnswerContribution,
    AnswerStatus,
    AnswerVerdict,
    ControlScore,
    CriticalFailure,
    SectionScore,
    SectionTotals,
    answer_verdict,
    control_score,
    control_score_of,
    section_totals,
)
from .exposure import Exposure, exposure_inputs, exposure_score
from .inherent import MISSING_WORDS, Access, InherentRisk, Profile, inherent_risk
from .parameters import PARAMETERS_VERSION
from .points import Contributor
from .residual import Line, Residual, reproduce, residual_risk, score_inputs
from .tiers import Tier

__all__ = [
    "CRITICAL_CAP",
    "MISSING_WORDS",
    "PARAMETERS_VERSION",
    "Access",
    "AnswerContribution",
    "AnswerStatus",
    "AnswerVerdict",
    "Contributor",
    "ControlScore",
    "CriticalFailure",
    "Exposure",
    "InherentRisk",
    "Line",
    "Profile",
    "Residual",
    "SectionScore",
    "SectionTotals",
    "Tier",
    "answer_verdict",
    "control_score",
    "control_score_of",
    "exposure_inputs",
    "exposure_score",
    "inherent_risk",
    "reproduce",
    "residual_risk",
    "score_inputs",
    "section_totals",
]
