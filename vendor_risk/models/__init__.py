"""The tables of vendor-risk, one module per area, every name re-exported here:
``from vendor_risk.models import Vendor`` whichever module declares it.
"""

from __future__ import annotations

from .accounts import (
    Role,
    User,
)
from .assessments import (
    AssessmentDecision,
    DecisionKind,
    RequestScore,
    ScoreTrigger,
    VendorRating,
    VendorScore,
)
from .audit import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
)
from .base import (
    enum_type,
)
from .findings import (
    Finding,
    FindingFile,
    FindingNote,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    RiskAcceptance,
)
from .incidents import (
    ChecklistAction,
    ChecklistReason,
    Incident,
    IncidentCredential,
    IncidentStatus,
)
from .inventory import (
    VERSIONED,
    Credential,
    CredentialCopy,
    CredentialKind,
    CredentialStatus,
    Criticality,
    DataCategory,
    Environment,
    NameKeyField,
    Privilege,
    Sensitivity,
    SubprocessorData,
    SubprocessorLink,
    Substitutability,
    System,
    SystemData,
    SystemKind,
    Vendor,
    VendorData,
    VendorStatus,
)
from .mail import (
    OutboxMessage,
)
from .portfolio import (
    OpenFindingDay,
    PortfolioDay,
    PortfolioState,
    SystemReach,
    VendorReach,
)
from .questionnaires import (
    Answer,
    Evidence,
    Invite,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
)

__all__ = [
    "VERSIONED",
    "Answer",
    "AssessmentDecision",
    "AuditAction",
    "AuditEvent",
    "AuditOutcome",
    "ChecklistAction",
    "ChecklistReason",
    "Credential",
    "CredentialCopy",
    "CredentialKind",
    "CredentialStatus",
    "Criticality",
    "DataCategory",
    "DecisionKind",
    "Environment",
    "Evidence",
    "Finding",
    "FindingFile",
    "FindingNote",
    "FindingSeverity",
    "FindingSource",
    "FindingStatus",
    "Incident",
    "IncidentCredential",
    "IncidentStatus",
    "Invite",
    "NameKeyField",
    "OpenFindingDay",
    "OutboxMessage",
    "PortfolioDay",
    "PortfolioState",
    "Privilege",
    "Questionnaire",
    "QuestionnaireRequest",
    "QuestionnaireVersion",
    "RequestScore",
    "RequestStatus",
    "RiskAcceptance",
    "Role",
    "ScoreTrigger",
    "Sensitivity",
    "SubprocessorData",
    "SubprocessorLink",
    "Substitutability",
    "System",
    "SystemData",
    "SystemKind",
    "SystemReach",
    "User",
    "Vendor",
    "VendorData",
    "VendorRating",
    "VendorReach",
    "VendorScore",
    "VendorStatus",
    "enum_type",
]
