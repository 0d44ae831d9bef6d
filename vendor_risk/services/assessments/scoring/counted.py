"""What a score counts: a request's totals, stored when it is submitted, and which of a
vendor's requests count (the latest accepted: the rating; the latest submitted: the
provisional rating)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ....core.questionnaire import model as qmodel
from ....core.scoring import SectionTotals, section_totals
from ....db import utcnow
from ....models import (
    Answer,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestScore,
    RequestStatus,
)


def store_totals(
    session: Session, request: QuestionnaireRequest, questionnaire: qmodel.Questionnaire
) -> tuple[SectionTotals, ...] | None:
    """Reduce the request's answers to per-section totals and store them; None (and nothing
    stored) for a questionnaire that scores nothing or is filled by our staff (the intake)."""
    if questionnaire.audience is not qmodel.Audience.vendor or not questionnaire.scored:
        return None
    rows = session.execute(
        sa.select(Answer.question_id, Answer.value, Answer.comment).where(
            Answer.request_id == request.id
        )
    ).all()
    totals = section_totals(
        questionnaire,
        {row.question_id: row.value for row in rows},
        {row.question_id: row.comment for row in rows},
    )
    stored = session.get(RequestScore, request.id)
    if stored is None:
        stored = RequestScore(request_id=request.id)
        session.add(stored)
    stored.totals = [t.to_dict() for t in totals]
    stored.updated_at = utcnow()
    session.flush()
    return totals


def _counted(vendor_ids: Sequence[int] | None, *columns) -> sa.Subquery:
    """Every counted request of the vendors, with ``columns``: a request counts once it was
    submitted (it has totals) and while it is not cancelled, returned ones included, whose last
    submitted answers count until the vendor submits again. ``rank`` 1 marks the latest of
    each vendor and questionnaire, ``accepted`` the accepted ones, and an accepted one whose
    ``accepted_rank`` is 1 is the latest accepted (the answers that count in the rating)."""
    accepted = QuestionnaireRequest.status == RequestStatus.accepted
    partition = (QuestionnaireRequest.vendor_id, QuestionnaireVersion.questionnaire_id)
    newest = (QuestionnaireRequest.submitted_at.desc(), QuestionnaireRequest.id.desc())
    query = (
        sa.select(
            QuestionnaireRequest.id.label("request_id"),
            QuestionnaireRequest.vendor_id,
            Questionnaire.key,
            accepted.label("accepted"),
            *columns,
            sa.func.row_number().over(partition_by=partition, order_by=newest).label("rank"),
            # The accepted ones so far, newest first: 1 on the latest accepted. The same window
            # as the rank's, so that the database sorts the requests once for both.
            sa.func.sum(sa.case((accepted, 1), else_=0))
            .over(partition_by=partition, order_by=newest, rows=(None, 0))
            .label("accepted_rank"),
        )
        .join(RequestScore, RequestScore.request_id == QuestionnaireRequest.id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireRequest.status != RequestStatus.cancelled)
    )
    if vendor_ids is not None:
        query = query.where(QuestionnaireRequest.vendor_id.in_(vendor_ids))
    return query.subquery()


def _counting(counted: sa.Subquery) -> sa.ColumnElement[bool]:
    """The rows that count somewhere: the latest request, and the latest accepted one."""
    return sa.or_(counted.c.rank == 1, sa.and_(counted.c.accepted, counted.c.accepted_rank == 1))


@dataclass(frozen=True)
class Counted:
    """A vendor's requests whose answers count, by questionnaire key."""

    latest: dict[str, int]  # the latest submitted (accepted or not): the provisional rating's
    accepted: dict[str, int]  # the latest accepted: the rating's

    @property
    def awaiting(self) -> dict[str, int]:
        """The latest requests no risk officer has accepted yet: provisional answers."""
        return {key: rid for key, rid in self.latest.items() if self.accepted.get(key) != rid}


def counted_requests(session: Session, vendor_id: int) -> Counted:
    """The vendor's requests whose answers count, by questionnaire key."""
    counted = _counted([vendor_id])
    latest, accepted = {}, {}
    for row in session.execute(sa.select(counted).where(_counting(counted))):
        if row.rank == 1:
            latest[row.key] = row.request_id
        if row.accepted and row.accepted_rank == 1:
            accepted[row.key] = row.request_id
    return Counted(latest, accepted)


class CountedTotals(NamedTuple):
    """What a vendor's control scores are computed from: the stored totals (JSON text, see
    :func:`_sections`) by questionnaire key. A named tuple: one per vendor of every round."""

    request_id: int  # the latest counted request: the one a snapshot names
    accepted: list[tuple[str, str]]  # of the latest accepted request of each questionnaire
    # Of the latest request of each questionnaire, when one of them is not accepted yet
    # (None: nothing awaits a risk officer, the provisional rating is the rating).
    provisional: list[tuple[str, str]] | None


def counted_totals(
    session: Session, vendor_ids: Sequence[int] | None = None
) -> dict[int, CountedTotals]:
    """For each vendor with a counted request, the totals of its accepted requests and of its
    latest ones (:class:`CountedTotals`). One statement."""
    counted = _counted(vendor_ids, QuestionnaireRequest.submitted_at, _text(RequestScore.totals))
    c = counted.c
    rows = session.execute(
        sa.select(
            c.vendor_id, c.key, c.request_id, c.submitted_at, c.totals, c.rank, c.accepted_rank
        )
        .add_columns(c.accepted)
        .where(_counting(counted))
        .order_by(c.vendor_id, c.key)
    )
    accepted: dict[int, list[tuple[str, str]]] = defaultdict(list)
    latest: dict[int, list[tuple[str, str]]] = defaultdict(list)
    awaiting: set[int] = set()
    newest: dict[int, tuple[datetime, int]] = {}
    # Plain tuples unpacked: a round reads a thousand vendors' rows or more.
    for vendor_id, key, request_id, submitted_at, totals, rank, accepted_rank, is_accepted in rows:
        if is_accepted and accepted_rank == 1:
            accepted[vendor_id].append((key, totals))
        if rank != 1:
            continue
        latest[vendor_id].append((key, totals))
        if not is_accepted:
            awaiting.add(vendor_id)
        moment = (submitted_at, request_id)
        if vendor_id not in newest or moment > newest[vendor_id]:
            newest[vendor_id] = moment
    return {
        vendor_id: CountedTotals(
            newest[vendor_id][1],
            accepted.get(vendor_id, []),
            found if vendor_id in awaiting else None,
        )
        for vendor_id, found in latest.items()
    }


def _text(column: sa.ColumnElement) -> sa.ColumnElement[str]:
    """A JSON column read as its text, decoded only when its vendor's turn comes: a round's
    documents decoded at once outlive several garbage collections and reach the oldest
    generation, whose full collections then cost a tenth of a large rescoring."""
    return sa.cast(column, sa.Text).label(column.key)


def _sections(totals: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The stored totals (``SectionTotals.to_dict`` documents) of each questionnaire, their
    sections prefixed by its key so that two questionnaires' sections never mix. Kept as
    stored: they are part of a score's inputs as they are, so an unchanged vendor is
    recognised without converting them."""
    sections = []
    for key, text in totals:
        for section in json.loads(text):
            section["section_id"] = f"{key}/{section['section_id']}"
            sections.append(section)
    return sections
