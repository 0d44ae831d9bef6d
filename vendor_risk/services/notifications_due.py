"""The time-based notifications, for ``flask --app app notifications run-due`` (cron, daily):
a finding's due date near (its vendor's contacts), a risk acceptance about to expire (risk
officers), a questionnaire request overdue (procurement).

Each is keyed per user, event and object (and the date it is about), so running the command
twice, or every hour, tells nobody twice; a new due date or a new acceptance is a new event.
A separate module from ``notifications`` because it reads the findings' and requests' rules,
whose services emit events through ``notifications``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    EventType,
    Finding,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RiskAcceptance,
    Role,
    Vendor,
)
from . import notifications
from .findings import UNRESOLVED
from .questionnaires.requests import overdue_clause

FINDING_DUE_DAYS = 7
ACCEPTANCE_EXPIRY_DAYS = 14


@dataclass(frozen=True)
class DueRun:
    finding_due_soon: int
    acceptance_expiring: int
    request_overdue: int

    @property
    def total(self) -> int:
        return self.finding_due_soon + self.acceptance_expiring + self.request_overdue


def _findings_due_soon(session: Session, today: date) -> int:
    findings = session.scalars(
        sa.select(Finding)
        .where(
            Finding.visible_to_vendor.is_(True),
            Finding.status.in_(sorted(UNRESOLVED)),
            Finding.due_on >= today,
            Finding.due_on <= today + timedelta(days=FINDING_DUE_DAYS),
        )
        .order_by(Finding.due_on, Finding.id)
    ).all()
    told = 0
    contacts: dict[int, list] = {}
    for finding in findings:
        if finding.vendor_id not in contacts:
            contacts[finding.vendor_id] = notifications.vendor_contacts(session, finding.vendor_id)
        days = (finding.due_on - today).days
        when = "today" if days == 0 else f"in {days} day{'' if days == 1 else 's'}"
        told += len(
            notifications.notify(
                session,
                event=EventType.finding_due_soon,
                users=contacts[finding.vendor_id],
                title=f"Finding due {when}: {finding.title}",
                text=(
                    f"The finding {finding.title} ({finding.severity.value}) is due on "
                    f"{finding.due_on.isoformat()} and is still {finding.status.label}. "
                    "Tell us how its remediation stands with a note or a file on its page."
                ),
                link=("portal.finding", {"finding_id": finding.id}),
                key=f"finding_due_soon:{finding.id}:{finding.due_on.isoformat()}",
            )
        )
    return told


def _acceptances_expiring(session: Session, today: date) -> int:
    rows = session.execute(
        sa.select(RiskAcceptance, Finding.title, Vendor.name)
        .join(Finding, Finding.id == RiskAcceptance.finding_id)
        .join(Vendor, Vendor.id == Finding.vendor_id)
        .where(
            RiskAcceptance.ended_at.is_(None),
            RiskAcceptance.expires_on >= today,
            RiskAcceptance.expires_on <= today + timedelta(days=ACCEPTANCE_EXPIRY_DAYS),
        )
        .order_by(RiskAcceptance.expires_on, RiskAcceptance.id)
    ).all()
    if not rows:
        return 0
    officers = notifications.staff_with_role(session, Role.risk_officer)
    told = 0
    for acceptance, title, vendor in rows:
        told += len(
            notifications.notify(
                session,
                event=EventType.acceptance_expiring,
                users=officers,
                title=f"Risk acceptance expiring {acceptance.expires_on.isoformat()}: {title}",
                text=(
                    f"The accepted risk of the finding {title} ({vendor}) expires on "
                    f"{acceptance.expires_on.isoformat()}; the finding then opens again. "
                    "Renew the acceptance or plan the remediation."
                ),
                link=("findings.finding", {"finding_id": acceptance.finding_id}),
                key=f"acceptance_expiring:{acceptance.id}:{ACCEPTANCE_EXPIRY_DAYS}",
            )
        )
    return told


def _requests_overdue(session: Session, today: date) -> int:
    rows = session.execute(
        sa.select(QuestionnaireRequest, QuestionnaireVersion.title, Vendor.name)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Vendor, Vendor.id == QuestionnaireRequest.vendor_id)
        .where(overdue_clause(today))
        .order_by(QuestionnaireRequest.due_on, QuestionnaireRequest.id)
    ).all()
    if not rows:
        return 0
    buyers = notifications.staff_with_role(session, Role.procurement)
    told = 0
    for request, title, vendor in rows:
        told += len(
            notifications.notify(
                session,
                event=EventType.request_overdue,
                users=buyers,
                title=f"Overdue: {title} ({vendor})",
                text=(
                    f'{vendor} has not submitted "{title}", due on {request.due_on.isoformat()} '
                    f"({request.answered_count} of {request.question_count} questions answered). "
                    "Chase the vendor's contacts, or move the due date."
                ),
                link=("requests.show", {"request_id": request.id}),
                key=f"request_overdue:{request.id}",
            )
        )
    return told


def run_due(session: Session, *, today: date) -> DueRun:
    """Record (and email, as each user prefers) every time-based notification due ``today``
    that was not recorded before. Flushes."""
    notifications.one_run_at_a_time(session, notifications.RUN_DUE_LOCK)
    return DueRun(
        finding_due_soon=_findings_due_soon(session, today),
        acceptance_expiring=_acceptances_expiring(session, today),
        request_overdue=_requests_overdue(session, today),
    )
