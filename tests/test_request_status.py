"""The request's status rules (vendor_risk/services/request_status.py)."""

from datetime import date

import pytest

from vendor_risk.models import RequestStatus as S
from vendor_risk.services.questionnaires.request_status import (
    NEXT,
    TransitionRefused,
    check_move,
    is_overdue,
)


def test_every_status_is_reachable_from_draft_and_accepted_and_cancelled_are_final():
    seen, frontier = {S.draft}, [S.draft]
    while frontier:
        for nxt in NEXT[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)
    assert NEXT[S.accepted] == NEXT[S.cancelled] == frozenset()


def test_a_returned_request_goes_back_to_the_vendor_and_an_accepted_one_stays():
    check_move(S.returned, S.in_progress)
    with pytest.raises(TransitionRefused, match="accepted cannot become in progress"):
        check_move(S.accepted, S.in_progress)
    with pytest.raises(TransitionRefused, match="returned for clarification cannot"):
        check_move(S.returned, S.accepted)


def test_overdue_derives_from_the_due_date_while_the_vendor_has_it():
    today = date(2026, 12, 1)
    assert is_overdue(S.in_progress, date(2026, 11, 30), today)
    assert not is_overdue(S.in_progress, today, today)
    assert not is_overdue(S.submitted, date(2026, 11, 1), today)
    assert not is_overdue(S.sent, None, today)
