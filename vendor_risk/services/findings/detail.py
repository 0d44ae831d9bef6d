"""Finding one finding (staff: any; a vendor contact: their vendor's, visible to vendors),
one of its files, and everything its page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ...db import today_utc
from ...models import (
    Finding,
    FindingFile,
    FindingNote,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    RiskAcceptance,
    Role,
    User,
    Vendor,
)
from .lifecycle import ACCEPTABLE, is_overdue, may_move


def get_finding(session: Session, finding_id: int, *, for_update: bool = False) -> Finding | None:
    """Any finding (staff see every vendor's). ``for_update``: locked (PostgreSQL) and read
    again, for a change compared with the version its form carries."""
    query = sa.select(Finding).where(Finding.id == finding_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def finding_for_contact(session: Session, user: User, finding_id: int) -> Finding | None:
    """A finding of the contact's vendor that vendors may see; None for any other (another
    vendor's, or an internal one: 404)."""
    if user.vendor_id is None:
        return None
    return session.scalar(
        sa.select(Finding).where(
            Finding.id == finding_id,
            Finding.vendor_id == user.vendor_id,
            Finding.visible_to_vendor.is_(True),
        )
    )


def file_of(session: Session, finding: Finding, file_id: int) -> FindingFile | None:
    """One file of this finding (None for another finding's: the caller found the finding
    through the query that confines its user)."""
    return session.scalar(
        sa.select(FindingFile).where(
            FindingFile.id == file_id, FindingFile.finding_id == finding.id
        )
    )


@dataclass(frozen=True)
class NoteView:
    id: int
    body: str
    created_at: datetime
    author: str
    from_vendor: bool  # written by one of the vendor's contacts


@dataclass(frozen=True)
class FileView:
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    from_vendor: bool


@dataclass(frozen=True)
class AcceptanceView:
    id: int
    justification: str
    approver: str
    accepted_at: datetime
    expires_on: date
    ended_at: datetime | None
    ended_reason: str

    @property
    def in_force(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class FindingDetail:
    """One finding with its notes and files (oldest first) and acceptances (newest first)."""

    id: int
    vendor_id: int
    vendor_name: str
    request_id: int | None
    question_id: str | None
    source: FindingSource
    title: str
    description: str
    remediation: str
    severity: FindingSeverity
    status: FindingStatus
    visible_to_vendor: bool
    owner: str
    due_on: date | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    resolved_at: datetime | None
    version: int
    overdue: bool
    notes: tuple[NoteView, ...]
    files: tuple[FileView, ...]
    acceptances: tuple[AcceptanceView, ...]

    @property
    def acceptance(self) -> AcceptanceView | None:
        """The acceptance in force, if any."""
        return next((a for a in self.acceptances if a.in_force), None)

    @property
    def moves(self) -> tuple[FindingStatus, ...]:
        """The statuses a risk officer may move it to from here (acceptance apart)."""
        return tuple(s for s in FindingStatus if may_move(self.status, s))

    @property
    def acceptable(self) -> bool:
        return self.status in ACCEPTABLE


def _name(user_name: str | None) -> str:
    return user_name or "someone no longer known"


def finding_detail(
    session: Session, finding: Finding, *, today: date | None = None
) -> FindingDetail:
    """Everything a finding's page shows, in four statements (the finding, its notes, files
    and acceptances, each with the people's names). ``finding`` was found through the query
    that confines the user (staff: any; a contact: :func:`finding_for_contact`)."""
    today = today or today_utc()
    creator = aliased(User)
    head = session.execute(
        sa.select(Vendor.name, creator.name)
        .select_from(Finding)
        .join(Vendor, Vendor.id == Finding.vendor_id)
        .outerjoin(creator, creator.id == Finding.created_by_id)
        .where(Finding.id == finding.id)
    ).one()
    notes = session.execute(
        sa.select(FindingNote, User.name, User.role)
        .outerjoin(User, User.id == FindingNote.author_id)
        .where(FindingNote.finding_id == finding.id)
        .order_by(FindingNote.created_at, FindingNote.id)
    ).all()
    files = session.execute(
        sa.select(FindingFile, User.name, User.role)
        .outerjoin(User, User.id == FindingFile.uploaded_by_id)
        .where(FindingFile.finding_id == finding.id)
        .order_by(FindingFile.id)
    ).all()
    acceptances = session.execute(
        sa.select(RiskAcceptance, User.name)
        .outerjoin(User, User.id == RiskAcceptance.approver_id)
        .where(RiskAcceptance.finding_id == finding.id)
        .order_by(RiskAcceptance.id.desc())
    ).all()
    return FindingDetail(
        id=finding.id,
        vendor_id=finding.vendor_id,
        vendor_name=head[0],
        request_id=finding.request_id,
        question_id=finding.question_id,
        source=finding.source,
        title=finding.title,
        description=finding.description,
        remediation=finding.remediation,
        severity=finding.severity,
        status=finding.status,
        visible_to_vendor=finding.visible_to_vendor,
        owner=finding.owner,
        due_on=finding.due_on,
        created_at=finding.created_at,
        created_by=head[1],
        updated_at=finding.updated_at,
        resolved_at=finding.resolved_at,
        version=finding.version,
        overdue=is_overdue(finding.status, finding.due_on, today),
        notes=tuple(
            NoteView(n.id, n.body, n.created_at, _name(name), role is Role.vendor_contact)
            for n, name, role in notes
        ),
        files=tuple(
            FileView(
                f.id,
                f.filename,
                f.size,
                f.content_type,
                f.sha256,
                f.uploaded_at,
                _name(name),
                role is Role.vendor_contact,
            )
            for f, name, role in files
        ),
        acceptances=tuple(
            AcceptanceView(
                a.id,
                a.justification,
                _name(name),
                a.accepted_at,
                a.expires_on,
                a.ended_at,
                a.ended_reason,
            )
            for a, name in acceptances
        ),
    )
