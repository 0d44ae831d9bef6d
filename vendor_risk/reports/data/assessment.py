"""The assessment of one vendor: its facts, rating, latest decision, blast radius, credentials,
findings with their risk acceptances, and every counted questionnaire as answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.blast_radius.engine import CREDENTIAL_KINDS
from ...core.blast_radius.words import LIST_SHOWN
from ...core.questionnaire.markup import plain
from ...db import utcnow
from ...models import (
    Credential,
    Finding,
    FindingNote,
    FindingSeverity,
    FindingStatus,
    RiskAcceptance,
    Role,
    System,
    User,
    Vendor,
)
from ...services import blast_radius, findings, inventory
from ...services.assessments import decisions, ratings, scoring
from ...services.inventory import RotationStatus
from ...services.questionnaires import review
from .blast import PRINTED_SOURCES, BlastSummary, blast_summary
from .words import _day, _words


@dataclass(frozen=True)
class VendorFacts:
    id: int
    name: str
    legal_name: str
    status: str
    criticality: str
    substitutability: str
    business_owner: str
    services: str
    contract_end: date | None
    next_review: date | None


@dataclass(frozen=True)
class ReasonLine:
    """A line of the rating's explanation (scoring.Line): its weighted share of the residual
    score, and its points in its own part."""

    text: str
    source: str  # inherent, exposure or controls
    share: float  # residual points
    points: float | None  # of inherent risk, exposure or the control score


@dataclass(frozen=True)
class SectionScore:
    title: str
    score: float | None  # 0 to 100; None: no question of it counted
    points: float  # what it adds to the control score


@dataclass(frozen=True)
class FailureLine:
    text: str
    section: str
    answered: bool  # a failing answer (else: unanswered)


@dataclass(frozen=True)
class RatingFacts:
    computed_at: datetime
    parameters_version: int
    residual_score: float
    computed_tier: str
    effective_tier: str
    floor: str | None
    override_tier: str | None
    override_reason: str
    override_by: str
    inherent_score: float
    inherent_tier: str
    control_score: float | None  # None: no accepted questionnaire counts yet
    exposure_score: float
    reasons: tuple[ReasonLine, ...]
    sections: tuple[SectionScore, ...]
    critical_failures: tuple[FailureLine, ...]
    # The facts the rating misses, in words (each counted at its worst value): incomplete if
    # any. The rating with the answers awaiting a risk officer's acceptance: not counted.
    missing: tuple[str, ...] = ()
    provisional_score: float | None = None
    provisional_tier: str | None = None

    @property
    def incomplete(self) -> bool:
        return bool(self.missing)


@dataclass(frozen=True)
class DecisionFacts:
    decision: str
    by: str
    at: datetime
    tier: str
    rationale: str
    conditions: str
    next_review: date | None


@dataclass(frozen=True)
class CredentialLine:
    name: str
    kind: str
    system: str
    privilege: str
    use: str  # interactive or machine
    mfa: str
    ip_restricted: bool
    status: str
    rotation: str  # services.inventory.RotationStatus, in words
    rotation_urgent: bool  # overdue or expired
    last_rotated: date | None
    expires: date | None
    rotation_period_days: int | None
    owner: str


@dataclass(frozen=True)
class NoteLine:
    author: str
    at: datetime
    body: str
    from_vendor: bool


@dataclass(frozen=True)
class FindingLine:
    id: int
    title: str
    severity: str
    status: str
    source: str
    owner: str
    due_on: date | None
    overdue: bool
    visible_to_vendor: bool
    description: str
    remediation: str
    notes: tuple[NoteLine, ...]


@dataclass(frozen=True)
class AcceptanceLine:
    finding: str
    justification: str
    approver: str
    accepted_on: date
    expires_on: date
    in_force: bool
    ended: str  # how it ended ("expired on ..."), empty while in force


@dataclass(frozen=True)
class EvidenceLine:
    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class AnswerLine:
    number: str  # "2.3"; empty for a text without an answer
    question: str
    asked: bool  # False: hidden by its show-if condition
    answer: str  # empty: not answered
    comment: str
    evidence: tuple[EvidenceLine, ...]


@dataclass(frozen=True)
class AnswerSection:
    number: int
    title: str
    answers: tuple[AnswerLine, ...]


@dataclass(frozen=True)
class AnsweredQuestionnaire:
    title: str
    version_number: int
    request_id: int
    status: str
    submitted_at: datetime | None
    asked: int
    answered: int
    sections: tuple[AnswerSection, ...]


@dataclass(frozen=True)
class AssessmentReport:
    vendor: VendorFacts
    as_of: date
    assessor: str
    rating: RatingFacts | None  # None: never scored
    decision: DecisionFacts | None  # the latest
    blast: BlastSummary
    credentials: tuple[CredentialLine, ...]
    findings: tuple[FindingLine, ...]
    acceptances: tuple[AcceptanceLine, ...]
    questionnaires: tuple[AnsweredQuestionnaire, ...]  # the counted requests

    kind = "assessment"

    @property
    def title(self) -> str:
        return f"Risk assessment: {self.vendor.name}"

    @property
    def assessed(self) -> bool:
        """Whether any questionnaire counts: a vendor never assessed gets a report that says so."""
        return bool(self.questionnaires)

    @property
    def open_findings(self) -> int:
        return sum(1 for f in self.findings if f.status in _UNRESOLVED_WORDS)


_UNRESOLVED_WORDS = frozenset(_words(s) for s in findings.UNRESOLVED)


def _vendor_facts(vendor: Vendor) -> VendorFacts:
    return VendorFacts(
        vendor.id,
        vendor.name,
        vendor.legal_name,
        _words(vendor.status),
        _words(vendor.criticality),
        _words(vendor.substitutability),
        vendor.business_owner,
        vendor.services,
        vendor.contract_end,
        vendor.next_review,
    )


def _rating_facts(rating: ratings.Rating) -> RatingFacts:
    override = rating.override
    control = rating.control
    return RatingFacts(
        computed_at=rating.computed_at,
        parameters_version=rating.parameters_version,
        residual_score=rating.residual.score,
        computed_tier=str(rating.tier),
        effective_tier=str(rating.effective_tier),
        floor=rating.residual.floor,
        override_tier=str(override.tier) if override else None,
        override_reason=override.reason if override else "",
        override_by=override.by if override else "",
        inherent_score=rating.inherent.score,
        inherent_tier=str(rating.inherent.tier),
        control_score=None if control is None else control.score,
        exposure_score=rating.exposure.score,
        reasons=tuple(ReasonLine(r.text, r.source, r.share, r.points) for r in rating.reasons),
        sections=tuple(SectionScore(s.title, s.score, s.points) for s in rating.sections),
        critical_failures=tuple(
            FailureLine(f.text, f.section, f.answered) for f in rating.critical_failures
        ),
        missing=tuple(m.words for m in rating.missing),
        provisional_score=rating.provisional.score if rating.provisional else None,
        provisional_tier=str(rating.provisional.tier) if rating.provisional else None,
    )


def _decision_facts(row: decisions.DecisionRow) -> DecisionFacts:
    return DecisionFacts(
        decision=row.decision.label,
        by=row.decided_by,
        at=row.decided_at,
        tier=str(row.tier),
        rationale=row.rationale,
        conditions=row.conditions,
        next_review=row.next_review,
    )


def _mfa_words(interactive: bool, mfa: bool, phishing_resistant: bool) -> str:
    if phishing_resistant:
        return "phishing-resistant MFA"
    if mfa:
        return "MFA" if interactive else "MFA (no barrier for machine use)"
    return "none"


URGENT = frozenset({RotationStatus.overdue.value, RotationStatus.expired.value})


def credentials_held(session: Session, vendor_id: int, now: datetime) -> tuple[CredentialLine, ...]:
    """Every credential the vendor holds with its rotation status now: one statement."""
    c = Credential
    rotation = inventory.rotation_status(now).label("rotation")
    rows = session.execute(
        sa.select(
            c.name,
            c.kind,
            System.name.label("system"),
            c.privilege,
            c.interactive,
            c.mfa_enforced,
            c.phishing_resistant_mfa,
            c.ip_restricted,
            c.status,
            rotation,
            c.last_rotated_at,
            c.expires_at,
            c.rotation_period_days,
            c.owner,
        )
        .join(System, System.id == c.system_id)
        .where(c.holder_vendor_id == vendor_id)
        .order_by(sa.func.lower(System.name), sa.func.lower(c.name), c.id)
    )
    return tuple(
        CredentialLine(
            name=r.name,
            kind=CREDENTIAL_KINDS[str(r.kind)],
            system=r.system,
            privilege=str(r.privilege),
            use="interactive" if r.interactive else "machine",
            mfa=_mfa_words(r.interactive, r.mfa_enforced, r.phishing_resistant_mfa),
            ip_restricted=r.ip_restricted,
            status=str(r.status),
            rotation=RotationStatus(r.rotation).label,
            rotation_urgent=r.rotation in URGENT,
            last_rotated=_day(r.last_rotated_at),
            expires=_day(r.expires_at),
            rotation_period_days=r.rotation_period_days,
            owner=r.owner,
        )
        for r in rows
    )


_SEVERITY_ORDER = {s: i for i, s in enumerate(reversed(FindingSeverity))}
_STATUS_ORDER = {s: i for i, s in enumerate(FindingStatus)}


def findings_of(
    session: Session, vendor_id: int, today: date
) -> tuple[tuple[FindingLine, ...], tuple[AcceptanceLine, ...]]:
    """The vendor's findings with their notes (those still to remediate first, the most
    severe first), and every risk acceptance of them, newest first: three statements."""
    rows = session.scalars(sa.select(Finding).where(Finding.vendor_id == vendor_id)).all()
    ids = sa.select(Finding.id).where(Finding.vendor_id == vendor_id)
    notes: dict[int, list[NoteLine]] = {}
    for note, name, role in session.execute(
        sa.select(FindingNote, User.name, User.role)
        .outerjoin(User, User.id == FindingNote.author_id)
        .where(FindingNote.finding_id.in_(ids))
        .order_by(FindingNote.created_at, FindingNote.id)
    ):
        notes.setdefault(note.finding_id, []).append(
            NoteLine(
                name or "someone no longer known",
                note.created_at,
                note.body,
                role is Role.vendor_contact,
            )
        )
    rows = sorted(
        rows,
        key=lambda f: (
            f.status not in findings.UNRESOLVED,
            _STATUS_ORDER[f.status],
            _SEVERITY_ORDER[f.severity],
            f.due_on or date.max,
            f.id,
        ),
    )
    lines = tuple(
        FindingLine(
            id=f.id,
            title=f.title,
            severity=str(f.severity),
            status=f.status.label,
            source=_words(f.source),
            owner=f.owner,
            due_on=f.due_on,
            overdue=findings.is_overdue(f.status, f.due_on, today),
            visible_to_vendor=f.visible_to_vendor,
            description=f.description,
            remediation=f.remediation,
            notes=tuple(notes.get(f.id, ())),
        )
        for f in rows
    )
    titles = {f.id: f.title for f in rows}
    acceptances = tuple(
        AcceptanceLine(
            finding=titles[a.finding_id],
            justification=a.justification,
            approver=name or "someone no longer known",
            accepted_on=_day(a.accepted_at),
            expires_on=a.expires_on,
            in_force=a.ended_at is None,
            ended=""
            if a.ended_at is None
            else f"{a.ended_reason or 'ended'} on {a.ended_at.date().isoformat()}",
        )
        for a, name in session.execute(
            sa.select(RiskAcceptance, User.name)
            .outerjoin(User, User.id == RiskAcceptance.approver_id)
            .where(RiskAcceptance.finding_id.in_(ids))
            .order_by(RiskAcceptance.accepted_at.desc(), RiskAcceptance.id.desc())
        )
    )
    return lines, acceptances


def _answer_text(reply: review.Reply | None) -> str:
    if reply is None:
        return ""
    if reply.labels:
        return "; ".join(plain(text) for text in reply.labels)
    return reply.text


def answered_questionnaire(detail: review.ReviewDetail) -> AnsweredQuestionnaire:
    """A request's every question with the answer, the comment and the evidence files, as
    the vendor gave them (reviewers' notes are not part of the report)."""
    sections = []
    for number, section in enumerate(detail.sections, start=1):
        sections.append(
            AnswerSection(
                number,
                plain(section.section.title),
                tuple(
                    AnswerLine(
                        number=item.number,
                        question=plain(item.question.text),
                        asked=item.asked,
                        answer=_answer_text(item.reply),
                        comment=item.comment,
                        evidence=tuple(
                            EvidenceLine(e.filename, e.sha256, e.size) for e in item.evidence
                        ),
                    )
                    for item in section.items
                ),
            )
        )
    return AnsweredQuestionnaire(
        title=plain(detail.title),
        version_number=detail.version_number,
        request_id=detail.request_id,
        status=detail.status.label,
        submitted_at=detail.submitted_at,
        asked=detail.asked,
        answered=detail.answered,
        sections=tuple(sections),
    )


def vendor_assessment(
    session: Session, vendor_id: int, *, exported_by: str, now: datetime | None = None
) -> AssessmentReport | None:
    """The assessment of one vendor (None: no such vendor). ``exported_by`` is named as the
    assessor when no risk officer has decided on the vendor yet. Call it inside
    :func:`vendor_risk.db.snapshot` so that every read sees the same database."""
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        return None
    now = now or utcnow()
    today = now.date()
    page = ratings.risk_page(session, vendor_id)
    latest = decisions.decisions_of(session, vendor_id)[:1]
    # The latest answers of each questionnaire, accepted or awaiting review (each says which).
    counted = scoring.counted_requests(session, vendor_id).latest
    # One review detail per counted questionnaire (three statements each), whatever its size.
    details = (review.review_detail(session, rid, today=today) for rid in sorted(counted.values()))
    answered = tuple(answered_questionnaire(d) for d in details if d is not None)
    held, acceptances = findings_of(session, vendor_id, today)
    decision = _decision_facts(latest[0]) if latest else None
    return AssessmentReport(
        vendor=_vendor_facts(vendor),
        as_of=today,
        assessor=decision.by if decision else exported_by,
        rating=None if page.rating is None else _rating_facts(page.rating),
        decision=decision,
        # The first rows of each list, as the vendor's tab shows them, and the first places
        # of each data category (each with its path: pages of them per category): the blast
        # radius CSV holds every row (an incident's report lists every row: the work to do).
        blast=blast_summary(
            blast_radius.vendor_blast_radius(session, [vendor_id], as_of=now),
            shown=LIST_SHOWN,
            sources_shown=PRINTED_SOURCES,
        ),
        credentials=credentials_held(session, vendor_id, now),
        findings=held,
        acceptances=acceptances,
        questionnaires=answered,
    )
