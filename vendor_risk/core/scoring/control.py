"""Control score: how well a vendor protects itself, by its questionnaire answers (0 to 100,
higher is better), per section and overall (docs/scoring.md, "Control score").

Only the questions asked count (a question hidden by its show-if is neither asked nor scored),
and only scored ones (a scored type with a weight above 0) enter the score. An answer with a
score counts its weight times its score; "not applicable" with a justification is left out of
the numerator and the denominator; everything else (no answer, "not applicable" without a
justification, an option without a score) counts as the worst answer, 0, with its full weight,
so that leaving a question blank never pays. A section's score is its weighted mean; the overall
score weighs the sections that have a score by their weights. A critical question failing
(scoring below 0.5) or counted as unanswered caps the overall score at :data:`CRITICAL_CAP`.

Two ways in, because the app keeps per-request figures up to date as answers are saved and
rescores whole portfolios without reading every answer again: :func:`section_totals` gives
plain, JSON-ready sums per section, and :func:`control_score` turns stored sums into the score;
:func:`control_score_of` does both at once and explains the score answer by answer too.

Texts in the results are plain text (markup removed): escape them wherever HTML is made.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from ..questionnaire.conditions import (
    answer_score,
    is_answered,
    triggered_findings,
    visible_questions,
)
from ..questionnaire.markup import plain
from ..questionnaire.model import Question, Questionnaire, Section
from .parameters import PARAMETERS_VERSION
from .points import Contributor, apportion

# A critical question failing or counted as unanswered caps the control score at this: a vendor
# without MFA cannot make up for it with good answers elsewhere.
CRITICAL_CAP = 40.0
# An answer scoring below this is failing (docs/questionnaire-format.md).
FAILING_BELOW = 0.5
# The option value that says "not applicable".
NOT_APPLICABLE = "na"


class AnswerStatus(StrEnum):
    answered = "answered"  # its answer has a score
    not_applicable = "not_applicable"  # "na" with a justification: left out of the score
    # Counted as the worst answer: no answer, "na" without a justification, or an option
    # without a score.
    unanswered = "unanswered"


class AnswerVerdict(StrEnum):
    """How one scored answer fares, as a reviewer reads it: the rule behind the words."""

    passes = "passes"  # the best score (1)
    partial = "partial"  # at least FAILING_BELOW, below the best
    fails = "fails"  # below FAILING_BELOW
    not_applicable = "not_applicable"  # justified "na": left out of the score
    unanswered = "unanswered"  # counted as the worst answer (0)

    @property
    def label(self) -> str:
        return _VERDICT_WORDS[self]


_VERDICT_WORDS = {
    AnswerVerdict.passes: "passes",
    AnswerVerdict.partial: "partly passes",
    AnswerVerdict.fails: "fails",
    AnswerVerdict.not_applicable: "not applicable",
    AnswerVerdict.unanswered: "not answered",
}


def answer_verdict(status: AnswerStatus, score: float | None) -> AnswerVerdict:
    """Passes (the best score), partly passes (failing below :data:`FAILING_BELOW` no
    more), fails; or left out (justified "na"), or counted as the worst answer (unanswered)."""
    if status is AnswerStatus.not_applicable:
        return AnswerVerdict.not_applicable
    if status is AnswerStatus.unanswered or score is None:
        return AnswerVerdict.unanswered
    if score >= 1:
        return AnswerVerdict.passes
    if score >= FAILING_BELOW:
        return AnswerVerdict.partial
    return AnswerVerdict.fails


@dataclass(frozen=True)
class CriticalFailure:
    """A critical question asked and failing or counted as unanswered: it caps the control
    score and opens a finding."""

    question_id: str
    section_id: str
    text: str
    status: AnswerStatus  # answered (with a failing answer) or unanswered

    def to_dict(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies recursively, ten times slower.
        return {
            "question_id": self.question_id,
            "section_id": self.section_id,
            "text": self.text,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CriticalFailure:
        return cls(
            question_id=data["question_id"],
            section_id=data["section_id"],
            text=data["text"],
            status=AnswerStatus(data["status"]),
        )


@dataclass(frozen=True)
class SectionTotals:
    """The sums of one section's answers that the control score needs: what the app stores
    per request (``to_dict`` is JSON-ready) and rescores from."""

    section_id: str
    title: str
    weight: float  # the section's weight
    weighted_score: float  # sum of weight x score over its counted questions
    counted_weight: float  # sum of the weights of its counted questions
    answered: int
    not_applicable: int  # with a justification: left out
    unanswered: int  # counted as the worst answer
    critical_failures: tuple[CriticalFailure, ...] = ()
    findings: tuple[str, ...] = ()  # ids of the section's finding rules whose condition holds

    @property
    def counted(self) -> int:
        """The questions in the score: answered, or counted as the worst answer."""
        return self.answered + self.unanswered

    @property
    def fraction(self) -> float | None:
        """The section's score from 0 to 1; None when no question of it counts."""
        return self.weighted_score / self.counted_weight if self.counted_weight else None

    def to_dict(self) -> dict[str, Any]:
        # Field by field, as CriticalFailure.to_dict, the keys in the fields' order.
        return {
            "section_id": self.section_id,
            "title": self.title,
            "weight": self.weight,
            "weighted_score": self.weighted_score,
            "counted_weight": self.counted_weight,
            "answered": self.answered,
            "not_applicable": self.not_applicable,
            "unanswered": self.unanswered,
            "critical_failures": [f.to_dict() for f in self.critical_failures],
            "findings": list(self.findings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SectionTotals:
        return cls(
            section_id=data["section_id"],
            title=data["title"],
            weight=data["weight"],
            weighted_score=data["weighted_score"],
            counted_weight=data["counted_weight"],
            answered=data["answered"],
            not_applicable=data["not_applicable"],
            unanswered=data["unanswered"],
            critical_failures=tuple(
                CriticalFailure.from_dict(f) for f in data["critical_failures"]
            ),
            findings=tuple(data["findings"]),
        )


@dataclass(frozen=True)
class SectionScore:
    section_id: str
    title: str
    score: float | None  # 0 to 100; None when no question of it counts
    share: float  # the part of the overall score it weighs, 0 to 1
    points: float  # what it adds to the overall score (before the cap)


@dataclass(frozen=True)
class AnswerContribution:
    """One scored question asked: what its answer adds to the control score, and what the
    best answer would have added more (the explanation's "worst answers")."""

    question_id: str
    section_id: str
    text: str
    answer: str  # the answer in words
    status: AnswerStatus
    score: float | None  # the answer's score, 0 to 1 (0 when unanswered, None when N/A)
    weight: float
    points: float
    points_lost: float
    critical: bool = False  # a critical question (failing caps the score)
    # What the best answer would add (0 when left out as not applicable); never below
    # ``points``, which rounding to add up may have raised by a hundredth.
    points_possible: float = 0.0

    @property
    def verdict(self) -> AnswerVerdict:
        return answer_verdict(self.status, self.score)

    @property
    def fails_critically(self) -> bool:
        """A critical question failing or counted as unanswered: it caps the score."""
        return self.critical and self.score is not None and self.score < FAILING_BELOW


@dataclass(frozen=True)
class ControlScore:
    """The control score with its explanation: one contributor per section (and the cap), whose
    points add up to the score.

    Two results are equal when their figures are: the answer-by-answer detail (``answers``,
    only from :func:`control_score_of`) explains them and does not take part.
    """

    score: float | None  # 0 to 100 after the cap; None when no question counts
    uncapped: float | None
    critical_failures: tuple[CriticalFailure, ...]
    findings: tuple[str, ...]  # ids of the finding rules whose condition holds
    totals: tuple[SectionTotals, ...]  # what it was computed from
    parameters_version: int = PARAMETERS_VERSION
    answers: tuple[AnswerContribution, ...] = field(default=(), compare=False)

    @property
    def capped(self) -> bool:
        """Whether a critical failure lowered the score."""
        return self.score != self.uncapped

    # The explanation is worked out when asked for: rescoring a portfolio stores the figures
    # only (the pages explain a score from its stored inputs), and the sections' points and
    # words were a third of its computation.

    @functools.cached_property
    def sections(self) -> tuple[SectionScore, ...]:
        shares = _shares(self.totals)
        weighing = [t for t in self.totals if t.section_id in shares]
        exact = [100 * shares[t.section_id] * (t.fraction or 0.0) for t in weighing]
        points = dict(
            zip(
                (t.section_id for t in weighing),
                apportion(exact, self.uncapped or 0.0),
                strict=True,
            )
        )
        return tuple(
            SectionScore(
                t.section_id,
                t.title,
                None if t.fraction is None else round(100 * t.fraction, 2),
                shares.get(t.section_id, 0.0),
                points.get(t.section_id, 0.0),
            )
            for t in self.totals
        )

    @functools.cached_property
    def contributors(self) -> tuple[Contributor, ...]:
        """One per section that weighs, and the cap: they add up to the score."""
        contributors = [
            Contributor(f"section:{s.section_id}", s.points, _section_words(t, s.score or 0.0))
            for s, t in zip(self.sections, self.totals, strict=True)
            if s.share
        ]
        if self.capped and self.uncapped is not None:
            contributors.append(_cap(self.uncapped, self.critical_failures))
        return tuple(contributors)


class _Assessed(NamedTuple):
    question: Question
    status: AnswerStatus
    score: float | None


def _chosen(answer: Any) -> tuple[str, ...]:
    """The option values an answer names, whether stored as text or as a list."""
    if isinstance(answer, str):
        return (answer,)
    if isinstance(answer, Collection):
        return tuple(answer)
    return ()


def _assess(question: Question, answer: Any, justification: str) -> _Assessed:
    """How one stored answer counts: its status and its score (0 when it counts as the worst
    answer, None when it is left out as not applicable)."""
    score = answer_score(question, answer)
    if score is not None:
        return _Assessed(question, AnswerStatus.answered, score)
    if _chosen(answer) == (NOT_APPLICABLE,) and justification.strip():
        return _Assessed(question, AnswerStatus.not_applicable, None)
    return _Assessed(question, AnswerStatus.unanswered, 0.0)


def _fails_critically(assessed: _Assessed) -> bool:
    return (
        assessed.question.critical and assessed.score is not None and assessed.score < FAILING_BELOW
    )


def _assess_sections(
    questionnaire: Questionnaire, answers: Mapping[str, Any], justifications: Mapping[str, str]
) -> tuple[tuple[Section, tuple[_Assessed, ...]], ...]:
    """Every section with its questions that are asked and scored or critical, assessed."""
    asked = {q.id for q in visible_questions(questionnaire, answers)}
    return tuple(
        (
            section,
            tuple(
                _assess(q, answers.get(q.id), justifications.get(q.id) or "")
                for q in section.questions
                if q.id in asked and (q.scored or q.critical)
            ),
        )
        for section in questionnaire.sections
    )


def _totals(
    section: Section, assessed: Sequence[_Assessed], triggered: Collection[str]
) -> SectionTotals:
    scored = [a for a in assessed if a.question.scored]
    counted = [a for a in scored if a.score is not None]
    return SectionTotals(
        section_id=section.id,
        title=plain(section.title),
        weight=section.weight,
        weighted_score=sum(a.question.weight * (a.score or 0.0) for a in counted),
        counted_weight=sum(a.question.weight for a in counted),
        answered=sum(a.status is AnswerStatus.answered for a in scored),
        not_applicable=sum(a.status is AnswerStatus.not_applicable for a in scored),
        unanswered=sum(a.status is AnswerStatus.unanswered for a in scored),
        critical_failures=tuple(
            CriticalFailure(a.question.id, section.id, plain(a.question.text), a.status)
            for a in assessed
            if _fails_critically(a)
        ),
        findings=tuple(f.id for f in section.findings if f.id in triggered),
    )


def _triggered(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(f.id for f in triggered_findings(questionnaire, answers))


def section_totals(
    questionnaire: Questionnaire, answers: Mapping[str, Any], justifications: Mapping[str, str]
) -> tuple[SectionTotals, ...]:
    """Per section, the sums :func:`control_score` needs, from the answers (question id to the
    value as stored) and the vendor's comments (question id to text: they justify "na")."""
    triggered = _triggered(questionnaire, answers)
    return tuple(
        _totals(section, assessed, triggered)
        for section, assessed in _assess_sections(questionnaire, answers, justifications)
    )


def _shares(totals: Sequence[SectionTotals]) -> dict[str, float]:
    """The part of the overall score each section weighs: sections without a score (or with
    weight 0) weigh nothing, and the others share the whole."""
    weighing = [t for t in totals if t.fraction is not None and t.weight > 0]
    total_weight = sum(t.weight for t in weighing)
    return {t.section_id: t.weight / total_weight for t in weighing}


def _section_words(totals: SectionTotals, score: float) -> str:
    return f"{totals.title}: {score:g} of 100 (section weight {totals.weight:g})"


def _cap(uncapped: float, failures: Sequence[CriticalFailure]) -> Contributor:
    texts = "; ".join(f.text for f in failures)
    return Contributor(
        "critical_cap",
        round(CRITICAL_CAP - uncapped, 2),
        f"capped at {CRITICAL_CAP:g}: critical question failing or unanswered ({texts})",
    )


def control_score(totals: Sequence[SectionTotals]) -> ControlScore:
    """The control score from the sums of :func:`section_totals` (stored or fresh)."""
    totals = tuple(totals)
    shares = _shares(totals)
    exact = [
        100 * share * (t.fraction or 0.0) for t in totals if (share := shares.get(t.section_id))
    ]
    uncapped = round(sum(exact), 2) if shares else None
    failures = tuple(f for t in totals for f in t.critical_failures)
    score = uncapped
    if failures and uncapped is not None and uncapped > CRITICAL_CAP:
        score = CRITICAL_CAP
    return ControlScore(
        score=score,
        uncapped=uncapped,
        critical_failures=failures,
        findings=tuple(f for t in totals for f in t.findings),
        totals=totals,
    )


def _answer_words(question: Question, answer: Any, status: AnswerStatus) -> str:
    if not is_answered(answer):
        return "not answered"
    if status is AnswerStatus.unanswered and _chosen(answer) == (NOT_APPLICABLE,):
        return "not applicable, without a justification"
    options = (question.option(value) for value in _chosen(answer))
    return ", ".join(plain(o.label) for o in options if o is not None)


def _answer_contributions(
    assessed: Sequence[_Assessed],
    totals: SectionTotals,
    section: SectionScore,
    answers: Mapping[str, Any],
) -> tuple[AnswerContribution, ...]:
    """Each scored question's share of its section's points: 100 x section share x weight x
    score / the section's counted weight, apportioned so they add up to the section's points."""
    scored = [a for a in assessed if a.question.scored]
    scale = 100 * section.share / totals.counted_weight if totals.counted_weight else 0.0
    exact = [scale * a.question.weight * (a.score or 0.0) for a in scored]
    return tuple(
        AnswerContribution(
            question_id=a.question.id,
            section_id=totals.section_id,
            text=plain(a.question.text),
            answer=_answer_words(a.question, answers.get(a.question.id), a.status),
            status=a.status,
            score=a.score,
            weight=a.question.weight,
            points=points,
            points_lost=(
                0.0 if a.score is None else round(scale * a.question.weight * (1 - a.score), 2)
            ),
            critical=a.question.critical,
            points_possible=(
                0.0 if a.score is None else max(points, round(scale * a.question.weight, 2))
            ),
        )
        for a, points in zip(scored, apportion(exact, section.points), strict=True)
    )


def control_score_of(
    questionnaire: Questionnaire, answers: Mapping[str, Any], justifications: Mapping[str, str]
) -> ControlScore:
    """The control score of these answers, explained answer by answer as well: what
    ``control_score(section_totals(...))`` gives, with ``answers`` filled in."""
    triggered = _triggered(questionnaire, answers)
    assessed = _assess_sections(questionnaire, answers, justifications)
    result = control_score(tuple(_totals(s, found, triggered) for s, found in assessed))
    detail = tuple(
        contribution
        for (_, found), totals, section in zip(
            assessed, result.totals, result.sections, strict=True
        )
        for contribution in _answer_contributions(found, totals, section, answers)
    )
    return dataclasses.replace(result, answers=detail)
