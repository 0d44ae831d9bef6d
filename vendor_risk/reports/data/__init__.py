"""What each PDF report shows, read from the database into plain frozen values.

A builder reads the database a bounded number of times whatever the vendor's size (the
services' own reads, a few statements of its own, one set per counted questionnaire), never a
statement per answer, credential or finding, and returns values made of strings, numbers,
dates and tuples: the templates never see an ORM object, and :func:`content_digest` hashes
what a report says, so two copies of the same content carry the same SHA-256.

What is not content stays out of the hash: the moment the file was generated (it is in the
footer, beside the hash), and the engine's blast-radius result kept only to draw the diagram
(its figures and lists are content, copied into plain lines).

One module per document, ``assessment``, ``incident`` and ``portfolio``, over what they share:
``blast`` (the blast radius as every report shows it), ``digest`` (the content hash) and
``words``. This package re-exports their names.
"""

from __future__ import annotations

from .assessment import (
    URGENT,
    AcceptanceLine,
    AnsweredQuestionnaire,
    AnswerLine,
    AnswerSection,
    AssessmentReport,
    CredentialLine,
    DecisionFacts,
    EvidenceLine,
    FailureLine,
    FindingLine,
    NoteLine,
    RatingFacts,
    ReasonLine,
    SectionScore,
    VendorFacts,
    answered_questionnaire,
    credentials_held,
    findings_of,
    vendor_assessment,
)
from .blast import (
    BarrierLine,
    BlastSummary,
    FourthPartyLine,
    ReachedDataLine,
    ReachedSystemLine,
    RotateLine,
    blast_summary,
)
from .digest import NOT_CONTENT, canonical_json, content_digest
from .incident import ChecklistLine, IncidentFacts, IncidentReport, TimelineLine, incident_report
from .portfolio import (
    PORTFOLIO_ROWS,
    ConcentrationLine,
    CountLine,
    OpenIncidentLine,
    OverdueLine,
    PortfolioReport,
    SuperNodeLine,
    portfolio_report,
)

__all__ = [
    "NOT_CONTENT",
    "PORTFOLIO_ROWS",
    "URGENT",
    "AcceptanceLine",
    "AnswerLine",
    "AnswerSection",
    "AnsweredQuestionnaire",
    "AssessmentReport",
    "BarrierLine",
    "BlastSummary",
    "ChecklistLine",
    "ConcentrationLine",
    "CountLine",
    "CredentialLine",
    "DecisionFacts",
    "EvidenceLine",
    "FailureLine",
    "FindingLine",
    "FourthPartyLine",
    "IncidentFacts",
    "IncidentReport",
    "NoteLine",
    "OpenIncidentLine",
    "OverdueLine",
    "PortfolioReport",
    "RatingFacts",
    "ReachedDataLine",
    "ReachedSystemLine",
    "ReasonLine",
    "RotateLine",
    "SectionScore",
    "SuperNodeLine",
    "TimelineLine",
    "VendorFacts",
    "answered_questionnaire",
    "blast_summary",
    "canonical_json",
    "content_digest",
    "credentials_held",
    "findings_of",
    "incident_report",
    "portfolio_report",
    "vendor_assessment",
]
