"""What each PDF report shows, read from the database into plain frozen values.

A builder reads the database a bounded number of times whatever the vendor's size (the
services' own reads, a few statements of its own, one set per counted questionnaire), never a
statement per answer, credential or finding, and returns values made of strings, numbers,
dates and tuples: the templates never see an ORM object, and :func:`content_digest` hashes
what a report says, so two copies of the same content carry the same SHA-256.

What is not content stays out of the hash: the moment the file was generated (it is in the
footer, beside the hash), and the engine's blast-radius result kept only to draw the diagram
(its figures and lists are content, copied into plain lines).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core.blast_radius.engine import CREDENTIAL_KINDS, BlastRadius
from ...core.blast_radius.words import (
    BARRIER_WORDS,
    SENSITIVITY_WORDS,
    STOPPED_WORDS,
    source_words,
    through_subprocessors,
)
from ...core.labels import label
from ...core.questionnaire.markup import plain
from ...db import utcnow
from ...models import (
    Credential,
    Finding,
    FindingNote,
    FindingSeverity,
    FindingStatus,
    IncidentStatus,
    RiskAcceptance,
    Role,
    System,
    User,
    Vendor,
)
from ...services import blast_radius, findings, incidents, inventory
from ...services.assessments import decisions, ratings, scoring
from ...services.inventory import RotationStatus
from ...services.portfolio import aggregates as portfolio
from ...services.questionnaires import review

# Fields that are not content: left out of the digest (see the module's docstring).
NOT_CONTENT = {"content": False}
# A portfolio report lists this many rows per table (the pages list them all).
PORTFOLIO_ROWS = 20


def _words(value: Any) -> str:
    return label(value).lower() if value is not None else ""


def _day(moment: datetime | date | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment


# ---- the blast radius, as every report shows it ---------------------------------------------


@dataclass(frozen=True)
class ReachedSystemLine:
    name: str
    environment: str
    privilege: str
    path: str  # one shortest path, in words (shortened past a dozen edges)


@dataclass(frozen=True)
class ReachedDataLine:
    name: str
    sensitivity: str
    records: str  # the total over its sources
    sources: tuple[str, ...]  # each source: its records, where, and its own path


@dataclass(frozen=True)
class RotateLine:
    credential: str  # name (kind, privilege)
    system: str
    owner: str
    reason: str
    usable: str  # whether a barrier stops its use now


@dataclass(frozen=True)
class BarrierLine:
    credential: str
    system: str
    barrier: str


@dataclass(frozen=True)
class FourthPartyLine:
    vendor: str
    subprocessor: str
    categories: str  # each with its records


@dataclass(frozen=True)
class BlastSummary:
    vendor: str
    as_of: date
    since: date | None
    systems_despite_controls: int
    systems_if_controls_fail: int
    # The headline: data reached despite the controls plus what subprocessors expose.
    exposed_categories: int
    exposed_records: int | None
    through_subprocessors: str  # the fourth parties' share, in words ("" when none)
    systems: tuple[ReachedSystemLine, ...]  # reached despite the controls
    only_if_controls_fail: tuple[ReachedSystemLine, ...]
    data: tuple[ReachedDataLine, ...]
    to_rotate: tuple[RotateLine, ...]
    barriers: tuple[BarrierLine, ...]
    fourth_party: tuple[FourthPartyLine, ...]
    # The engine's result, for the diagram only (its moment is to the microsecond).
    result: BlastRadius = field(metadata=NOT_CONTENT, compare=False, repr=False)


def _records(count: int | None, complete: bool) -> str:
    if count is None:
        return "unknown"
    return f"{'' if complete else 'at least '}{count:,}"


def blast_summary(result: BlastRadius) -> BlastSummary:
    despite = result.despite_controls
    despite_ids = despite.system_ids

    def system_line(reached) -> ReachedSystemLine:
        return ReachedSystemLine(
            reached.system.name,
            _words(reached.system.environment),
            reached.privilege,
            reached.path_text,
        )

    f = result.figures
    return BlastSummary(
        vendor=" and ".join(v.name for v in result.breached_vendors),
        as_of=result.as_of.date(),
        since=_day(result.since),
        systems_despite_controls=f.systems_despite_controls,
        systems_if_controls_fail=f.systems_if_controls_fail,
        exposed_categories=f.exposed_categories_despite_controls,
        exposed_records=f.exposed_records_despite_controls,
        through_subprocessors=through_subprocessors(f),
        systems=tuple(system_line(r) for r in despite.systems),
        only_if_controls_fail=tuple(
            system_line(r)
            for r in result.if_controls_fail.systems
            if r.system.id not in despite_ids
        ),
        data=tuple(
            ReachedDataLine(
                d.category.name,
                SENSITIVITY_WORDS[d.category.sensitivity],
                _records(d.records, d.records_complete),
                tuple(source_words(source) for source in d.sources),
            )
            for d in despite.data
        ),
        to_rotate=tuple(
            RotateLine(
                item.credential.label,
                item.system.name,
                item.credential.owner or "no owner recorded",
                item.reason,
                STOPPED_WORDS[item.stopped_by],
            )
            for item in result.credentials_to_rotate
        ),
        barriers=tuple(
            BarrierLine(h.credential.label, h.system.name, BARRIER_WORDS[h.barrier])
            for h in result.barriers_held
        ),
        fourth_party=tuple(
            FourthPartyLine(
                e.vendor.name,
                e.subprocessor.name,
                ", ".join(
                    f"{item.category.name} ("
                    + ("records unknown" if item.records is None else f"{item.records:,} records")
                    + ")"
                    for item in e.passed_on
                )
                or "no recorded data",
            )
            for e in result.fourth_party_exposure
        ),
        result=result,
    )


# ---- the assessment of one vendor -----------------------------------------------------------


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
        blast=blast_summary(blast_radius.vendor_blast_radius(session, [vendor_id], as_of=now)),
        credentials=credentials_held(session, vendor_id, now),
        findings=held,
        acceptances=acceptances,
        questionnaires=answered,
    )


# ---- an incident -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    title: str
    vendor_id: int
    vendor: str
    status: str
    started_on: date
    detected_on: date
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    exception_reason: str | None
    notes: str


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    day_only: bool
    what: str
    who: str


@dataclass(frozen=True)
class ChecklistLine:
    credential: str
    kind: str
    privilege: str
    system: str
    owner: str
    why: str
    done: str  # rotated, revoked or pending
    by: str
    acted_at: datetime | None  # marked on the checklist
    rotated_on: date | None  # a rotation recorded in the inventory instead
    in_gap: bool


@dataclass(frozen=True)
class IncidentReport:
    incident: IncidentFacts
    as_of: date
    timeline: tuple[TimelineLine, ...]
    checklist: tuple[ChecklistLine, ...]
    done: int
    gap: int
    gap_held: int  # of the gap, credentials the breached vendor held (the rest: stored copies)
    blast: BlastSummary

    kind = "incident"

    @property
    def title(self) -> str:
        return f"Incident report: {self.incident.title}"

    @property
    def total(self) -> int:
        return len(self.checklist)

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def _checklist_line(row: incidents.ChecklistRow, vendor: str) -> ChecklistLine:
    why = [f"held by {vendor}"] if row.reason == "held" else []
    if row.stored_in:
        why.append("stored in " + ", ".join(row.stored_in))
    acted_at, rotated_on = None, None
    if row.action != "pending":
        done, by, acted_at = str(row.action), row.acted_by or "unknown", row.acted_at
    elif row.revoked:
        done, by = "revoked", "in the inventory"
    elif row.dealt_with:
        done, by, rotated_on = "rotated", "in the inventory", _day(row.last_rotated_at)
    else:
        done, by = "pending", ""
    return ChecklistLine(
        credential=row.name,
        kind=CREDENTIAL_KINDS[str(row.kind)],
        privilege=str(row.privilege),
        system=row.system_name,
        owner=row.owner or "not recorded",
        why="; ".join(why),
        done=done,
        by=by,
        acted_at=acted_at,
        rotated_on=rotated_on,
        in_gap=row.in_gap,
    )


def incident_report(
    session: Session, incident_id: int, *, now: datetime | None = None
) -> IncidentReport | None:
    """The incident, its timeline, rotation checklist with progress, and its vendor's blast
    radius as of the breach start (None: no such incident). Call it inside a snapshot."""
    detail = incidents.incident_detail(session, incident_id)
    if detail is None:
        return None
    now = now or utcnow()
    summary = detail.incident
    facts = IncidentFacts(
        id=summary.id,
        title=summary.title,
        vendor_id=summary.vendor_id,
        vendor=summary.vendor_name,
        status=str(summary.status),
        started_on=summary.started_at.date(),
        detected_on=summary.detected_at.date(),
        opened_at=summary.opened_at,
        opened_by=summary.opened_by,
        closed_at=summary.closed_at,
        closed_by=summary.closed_by,
        exception_reason=summary.exception_reason,
        notes=summary.notes,
    )
    return IncidentReport(
        incident=facts,
        as_of=now.date(),
        timeline=tuple(
            TimelineLine(e.at, e.day_only, e.what, e.who or "") for e in detail.timeline
        ),
        checklist=tuple(_checklist_line(row, summary.vendor_name) for row in detail.checklist),
        done=sum(1 for row in detail.checklist if row.dealt_with),
        gap=len(detail.gap),
        gap_held=sum(1 for row in detail.gap if row.reason == "held"),
        blast=blast_summary(incidents.blast_radius_at_start(session, summary)),
    )


# ---- the portfolio ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CountLine:
    label: str
    count: int


@dataclass(frozen=True)
class SuperNodeLine:
    vendor: str
    status: str
    inherent_tier: str
    systems_despite_controls: int
    systems_if_controls_fail: int
    categories_despite_controls: int


@dataclass(frozen=True)
class ConcentrationLine:
    system: str
    environment: str
    mfa_required: bool
    vendors_despite_controls: int
    vendors_if_controls_fail: int


@dataclass(frozen=True)
class OverdueLine:
    credential: str
    kind: str
    holder: str
    system: str
    owner: str
    last_rotated: date | None
    rotation_period_days: int | None


@dataclass(frozen=True)
class OpenIncidentLine:
    title: str
    vendor: str
    started_on: date
    checklist: int
    gap: int


@dataclass(frozen=True)
class PortfolioReport:
    as_of: date
    computed_at: datetime | None  # when the aggregates were computed
    residual_tiers: tuple[CountLine, ...]  # computed residual tier of rated vendors
    inherent_tiers: tuple[CountLine, ...]
    super_nodes: tuple[SuperNodeLine, ...]
    concentration: tuple[ConcentrationLine, ...]
    rotation: tuple[CountLine, ...]
    overdue: tuple[OverdueLine, ...]
    overdue_total: int
    open_findings: tuple[CountLine, ...]  # by severity, most severe first
    open_incidents: tuple[OpenIncidentLine, ...]

    kind = "portfolio"
    title = "Portfolio summary"

    @property
    def open_findings_total(self) -> int:
        return sum(line.count for line in self.open_findings)


def _counts(pairs: Iterable[tuple[Any, int]]) -> tuple[CountLine, ...]:
    return tuple(CountLine(_words(key), n) for key, n in pairs)


def portfolio_report(session: Session, *, now: datetime | None = None) -> PortfolioReport:
    """The portfolio's figures as its page shows them, from the stored aggregates (the caller
    makes them fresh first: services.portfolio.ensure_fresh). A dozen statements."""
    now = now or utcnow()
    residual = scoring.tier_counts(session)
    overdue = inventory.search_credentials(
        session, rotation=RotationStatus.overdue, sort="last_rotated_at", now=now
    )
    opened = findings.open_counts(session, now.date())
    listed = incidents.search_incidents(session).rows
    return PortfolioReport(
        as_of=now.date(),
        computed_at=portfolio.freshness(session).computed_at,
        residual_tiers=_counts(
            (tier, residual.get(tier, 0)) for tier in ("critical", "high", "medium", "low")
        ),
        inherent_tiers=_counts(portfolio.tier_counts(session).items()),
        super_nodes=tuple(
            SuperNodeLine(
                n.name,
                _words(n.status),
                n.inherent_tier,
                n.systems_despite_controls,
                n.systems_if_controls_fail,
                n.categories_despite_controls,
            )
            for n in portfolio.super_nodes(session, limit=PORTFOLIO_ROWS)
        ),
        concentration=tuple(
            ConcentrationLine(
                c.name,
                _words(c.environment),
                c.mfa_required,
                c.vendors_despite_controls,
                c.vendors_if_controls_fail,
            )
            for c in portfolio.concentration(session, limit=PORTFOLIO_ROWS)
        ),
        rotation=tuple(
            CountLine(status.label, n) for status, n in portfolio.rotation_counts(session).items()
        ),
        overdue=tuple(
            OverdueLine(
                r.name,
                CREDENTIAL_KINDS[str(r.kind)],
                r.holder_name or "no vendor",
                r.system_name,
                r.owner,
                _day(r.last_rotated_at or r.issued_at),
                r.rotation_period_days,
            )
            for r in overdue.rows[:PORTFOLIO_ROWS]
        ),
        overdue_total=overdue.total,
        open_findings=tuple(
            CountLine(str(s), opened.of_severity(s)) for s in reversed(FindingSeverity)
        ),
        open_incidents=tuple(
            OpenIncidentLine(i.title, i.vendor_name, i.started_at.date(), i.checklist, i.gap)
            for i in listed
            if i.status is IncidentStatus.open
        ),
    )


# ---- the content hash ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses field by field (content fields only), dates
    in ISO 8601, enums by value."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in fields(value)
            if f.metadata.get("content", True)
        }
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def canonical_json(report: Any) -> str:
    """One spelling of a report's content: keys sorted, no spaces, UTF-8 as is."""
    document = {"report": report.kind, "content": _plain(report)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_digest(report: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_json`: what the footer and the audit trail carry."""
    return hashlib.sha256(canonical_json(report).encode("utf-8")).hexdigest()
