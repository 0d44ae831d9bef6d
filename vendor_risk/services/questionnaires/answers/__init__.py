"""Answers of a questionnaire request: saved one by one as they are given (autosave), never a
silent overwrite, checked against the questionnaire on the server, and submitted once complete.

Vendor contacts reach a request only through :func:`request_for_contact`, whose query is
filtered by their vendor (another vendor's request is None, so 404). Staff reach internal
questionnaires (the intake) through :func:`internal_request`.

Each answer carries a version. A save names the version the person last saw: when the stored
answer is newer and says something else, the save is a :class:`Conflict` carrying what is
stored, who saved it and when; saving what is stored already changes nothing. Saves of one
request are serialised by locking the request row (PostgreSQL; SQLite's writers are serialised
by ``BEGIN IMMEDIATE``), so two parallel saves never both win, and the request's counts
(``answered_count``, ``question_count``) are exact.

The counts are of the questions *asked*: visible given the answers (show-if), info texts left
out. ``question_count`` starts as every answerable question of the version (set when the request
is created) and follows the show-if conditions from the first answer saved, so that a complete
request reads 100%.

The package, one module per part: ``reading`` (the questionnaire of a request, its answers and
files, the progress counts), ``access`` (reaching a request, the lists of requests), ``saving``
(one answer, a section, a workbook's), ``carry_over`` (a reassessment's answers carried over)
and ``submitting`` (what is missing, the submission). Every name is re-exported here.
"""

from .access import (
    HIDDEN_FROM_VENDORS,
    RequestRow,
    audience_is,
    internal_request,
    internal_requests,
    request_for_contact,
    requests_of_contact,
)
from .carry_over import prefill_from_previous, previous_accepted
from .reading import (
    Progress,
    answer_values,
    answers_of,
    clarifications_of,
    evidence_of,
    progress_of,
    progress_percent,
    questionnaire_of_request,
    recount,
    values_of,
    vendor_name,
    version_of,
    visible_ids,
)
from .saving import (
    COMMENT_MAX,
    SUBMITTED,
    AnswerRefused,
    Conflict,
    SaveResult,
    SectionSave,
    _clean_comment,  # services.questionnaires.workbooks cleans comments as a save does
    after_change,
    check_editable,
    check_visible,
    is_editable,
    lock_request,
    question_of,
    read_only_reason,
    save_answer,
    save_imported,
    save_section,
    write_answer,
)
from .submitting import (
    SUBMITTABLE,
    Missing,
    SubmitRefused,
    missing_answers,
    needs_evidence,
    question_anchor,
    submit,
)

__all__ = [
    "COMMENT_MAX",
    "HIDDEN_FROM_VENDORS",
    "SUBMITTABLE",
    "SUBMITTED",
    "AnswerRefused",
    "Conflict",
    "Missing",
    "Progress",
    "RequestRow",
    "SaveResult",
    "SectionSave",
    "SubmitRefused",
    "_clean_comment",
    "after_change",
    "answer_values",
    "answers_of",
    "audience_is",
    "check_editable",
    "check_visible",
    "clarifications_of",
    "evidence_of",
    "internal_request",
    "internal_requests",
    "is_editable",
    "lock_request",
    "missing_answers",
    "needs_evidence",
    "prefill_from_previous",
    "previous_accepted",
    "progress_of",
    "progress_percent",
    "question_anchor",
    "question_of",
    "questionnaire_of_request",
    "read_only_reason",
    "recount",
    "request_for_contact",
    "requests_of_contact",
    "save_answer",
    "save_imported",
    "save_section",
    "submit",
    "values_of",
    "vendor_name",
    "version_of",
    "visible_ids",
    "write_answer",
]
