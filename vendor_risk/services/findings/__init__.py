"""Findings: weaknesses a vendor has to remediate, and risk acceptances, in one place.

A finding is opened automatically (a failing answer to a critical question, a finding rule of
the questionnaire whose condition holds) or by hand by a risk officer. Its life:

    open -> in remediation -> resolved -> (reopened) open
    open or in remediation -> accepted, only by :func:`accept_risk` (a justification, the
    acting risk officer as approver, an expiry date)
    accepted -> open, only when the acceptance ends: withdrawn (:func:`end_acceptance`) or
    expired (:func:`expire_acceptances`, which runs by itself: see its docstring)

Vendor contacts see their vendor's findings that are visible to vendors (automatic ones always
are; a risk officer may keep a manual one internal), and answer them with notes and files.
Every change is audited in the caller's transaction; services flush, the caller commits.
Dates are UTC days, like every due date of the app.

The package, one module per part: ``lifecycle`` (statuses, moves, due dates, what every change
does), ``fields`` (what a finding's fields may hold), ``automatic`` (findings the answers open),
``editing`` (a risk officer's writes), ``remediation`` (notes and files), ``acceptance`` (risk
acceptances and their expiry), ``detail`` (one finding and its page), ``lists`` (the lists and
the dashboard's counts). Every name is re-exported here.
"""

from .acceptance import (
    ENDED_EXPIRED,
    ENDED_WITHDRAWN,
    EXPIRY_ACTOR,
    ExpiredAcceptance,
    accept_risk,
    acceptance_problems,
    acceptances_due,
    end_acceptance,
    expire_acceptances,
)
from .automatic import AUTOMATIC_REMEDIATION, open_automatic
from .detail import (
    AcceptanceView,
    FileView,
    FindingDetail,
    NoteView,
    file_of,
    finding_detail,
    finding_for_contact,
    get_finding,
)
from .editing import change_status, create_finding, update_finding
from .fields import (
    FINDING_FIELDS,
    OWNER_MAX,
    TEXT_LIMITS,
    TEXT_MAX,
    TITLE_ELLIPSIS,
    TITLE_MAX,
    finding_problems,
)
from .lifecycle import (
    ACCEPTABLE,
    NEXT,
    UNRESOLVED,
    S,
    TransitionRefused,
    check_move,
    due_days,
    is_overdue,
    may_move,
)
from .lists import (
    FINDING_SORTS,
    AgeBucket,
    FindingRow,
    OpenCounts,
    findings_of_contact,
    open_counts,
    open_for_contact,
    search_findings,
    sort_order,
)
from .remediation import add_file, add_note, record_file_download

__all__ = [
    "ACCEPTABLE",
    "AUTOMATIC_REMEDIATION",
    "ENDED_EXPIRED",
    "ENDED_WITHDRAWN",
    "EXPIRY_ACTOR",
    "FINDING_FIELDS",
    "FINDING_SORTS",
    "NEXT",
    "OWNER_MAX",
    "TEXT_LIMITS",
    "TEXT_MAX",
    "TITLE_ELLIPSIS",
    "TITLE_MAX",
    "UNRESOLVED",
    "AcceptanceView",
    "AgeBucket",
    "ExpiredAcceptance",
    "FileView",
    "FindingDetail",
    "FindingRow",
    "NoteView",
    "OpenCounts",
    "S",
    "TransitionRefused",
    "accept_risk",
    "acceptance_problems",
    "acceptances_due",
    "add_file",
    "add_note",
    "change_status",
    "check_move",
    "create_finding",
    "due_days",
    "end_acceptance",
    "expire_acceptances",
    "file_of",
    "finding_detail",
    "finding_for_contact",
    "finding_problems",
    "findings_of_contact",
    "get_finding",
    "is_overdue",
    "may_move",
    "open_automatic",
    "open_counts",
    "open_for_contact",
    "record_file_download",
    "search_findings",
    "sort_order",
    "update_finding",
]
