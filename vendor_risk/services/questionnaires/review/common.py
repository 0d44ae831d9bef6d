"""What every part of the review shares: its refusals, the stamp of an answer's review
notes, and the days it counts (UTC)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from ....db import utcnow
from ....models import Answer
from ... import ValidationFailed


class UnknownQuestion(LookupError):
    """No answerable question of the request's questionnaire has this id."""


class NoteConflict(ValidationFailed):
    """A note saved over texts someone else saved after the form was opened."""

    def __init__(self, message: str, current_stamp: str):
        super().__init__({"": [message]})
        self.current_stamp = current_stamp


class ReviewRefused(ValidationFailed):
    """The request's state does not allow this review step (the message says why)."""

    def __init__(self, message: str):
        super().__init__({"": [message]})


def note_stamp(answer: Answer | None) -> str:
    """A short digest of the reviewers' two texts on an answer, which a note form carries to
    detect a save over someone else's. Not the answer's ``version``: that one is the
    vendor's (their autosave compares it), and a reviewer's note must not look like a newer
    answer to them."""
    texts = (answer.clarification, answer.internal_note) if answer is not None else ("", "")
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]


def _today() -> date:
    return utcnow().date()


def _days_since(moment: datetime | None, today: date) -> int | None:
    return None if moment is None else max(0, (today - moment.astimezone(UTC).date()).days)
