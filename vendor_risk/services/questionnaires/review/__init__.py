"""Review of submitted questionnaire requests by risk officers: the queue, one request with every
answer in words, a clarification (shown to the vendor) and an internal note (never shown to
vendors) per answer, and the two decisions, return for clarification and accept.

Opening a request never changes it (no state change on GET): the first review note written
moves a submitted request to "under review", in the same transaction; returning and accepting
work from either status, as the request's status rules allow. Scores and findings are the
scoring's work, not this module's.

The package, one module per part: ``queue`` (the lists), ``detail`` (one request as a
reviewer reads it), ``notes`` (clarifications and internal notes), ``decisions`` (return
and accept) and ``common`` (the refusals, the notes' stamp, the days counted). Every name is
re-exported here.
"""

from ..request_status import TransitionRefused
from ..requests import get_request
from .common import NoteConflict, ReviewRefused, UnknownQuestion, note_stamp
from .decisions import accept, return_for_clarification
from .detail import (
    EvidenceFile,
    Reply,
    ReviewDetail,
    ReviewItem,
    ReviewSection,
    get_evidence,
    review_detail,
)
from .notes import CLARIFICATION_MAX, NOTE_MAX, answerable_question, has_question, write_note
from .queue import QueueRow, ReturnedRow, back_with_vendor, returned_requests, review_queue

__all__ = [
    "CLARIFICATION_MAX",
    "NOTE_MAX",
    "EvidenceFile",
    "NoteConflict",
    "QueueRow",
    "Reply",
    "ReturnedRow",
    "ReviewDetail",
    "ReviewItem",
    "ReviewRefused",
    "ReviewSection",
    "TransitionRefused",
    "UnknownQuestion",
    "accept",
    "answerable_question",
    "back_with_vendor",
    "get_evidence",
    "get_request",
    "has_question",
    "note_stamp",
    "return_for_clarification",
    "returned_requests",
    "review_detail",
    "review_queue",
    "write_note",
]
