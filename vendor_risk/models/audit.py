"""The audit trail: append-only, hash-chained events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime
from .base import enum_type


class AuditOutcome(StrEnum):
    success = "success"
    failure = "failure"
    denied = "denied"


class AuditAction(StrEnum):
    """The fixed vocabulary of audited actions. Stored as text (not a CHECK constraint) so that
    adding an action never rebuilds the append-only table."""

    login_password = "auth.login.password"
    login_mfa = "auth.login.mfa"
    login_recovery_code = "auth.login.recovery_code"
    login_failed = "auth.login.failed"
    logout = "auth.logout"
    session_timeout = "auth.session.timeout"
    password_changed = "account.password.changed"
    mfa_enrolled = "account.mfa.enrolled"
    mfa_failed = "account.mfa.failed"
    recovery_codes_regenerated = "account.recovery_codes.regenerated"
    notification_preferences_changed = "account.notification_preferences.changed"
    user_created = "admin.user.created"
    user_disabled = "admin.user.disabled"
    user_enabled = "admin.user.enabled"
    user_mfa_reset = "admin.user.mfa_reset"
    user_password_set = "admin.user.password_set"
    user_updated = "admin.user.updated"  # name, roles, a new address (pending): old and new
    user_email_changed = "account.email.changed"  # the new address confirmed by its owner
    rate_limited = "auth.rate_limited"
    access_denied = "access.denied"
    inventory_imported = "inventory.imported"
    inventory_exported = "inventory.exported"
    report_exported = "report.exported"  # a PDF report: which, of what, its content SHA-256
    bulk_export_requested = "report.bulk_export.requested"  # a zip of assessments: filters, count
    bulk_export_downloaded = "report.bulk_export.downloaded"  # the zip: vendors, SHA-256
    audit_exported = "admin.audit.exported"  # the trail downloaded: format, filters, rows
    vendor_created = "inventory.vendor.created"
    vendor_updated = "inventory.vendor.updated"
    vendor_deleted = "inventory.vendor.deleted"
    system_created = "inventory.system.created"
    system_updated = "inventory.system.updated"
    system_deleted = "inventory.system.deleted"
    data_category_created = "inventory.data_category.created"
    data_category_updated = "inventory.data_category.updated"
    data_category_deleted = "inventory.data_category.deleted"
    credential_created = "inventory.credential.created"
    credential_updated = "inventory.credential.updated"
    credential_deleted = "inventory.credential.deleted"
    network_zone_created = "inventory.network_zone.created"
    network_zone_updated = "inventory.network_zone.updated"
    network_zone_deleted = "inventory.network_zone.deleted"
    fourth_party_created = "inventory.fourth_party.created"
    fourth_party_updated = "inventory.fourth_party.updated"
    fourth_party_deleted = "inventory.fourth_party.deleted"
    incident_opened = "incident.opened"
    incident_credential_rotated = "incident.credential.rotated"
    incident_credential_revoked = "incident.credential.revoked"
    incident_closed = "incident.closed"
    questionnaire_version_created = "questionnaire.version_created"
    request_created = "request.created"
    request_sent = "request.sent"
    request_submitted = "request.submitted"
    request_review_started = "request.review_started"
    request_returned = "request.returned"
    request_accepted = "request.accepted"
    request_cancelled = "request.cancelled"
    request_exported = "request.exported"
    request_imported = "request.imported"
    reminder_sent = "request.reminder_sent"
    invite_sent = "invite.sent"
    invite_revoked = "invite.revoked"
    invite_redeemed = "invite.redeemed"
    email_retried = "email.retried"  # an admin sends a failed email again
    job_retried = "job.retried"  # an admin runs a failed background job again
    job_dismissed = "job.dismissed"  # an admin leaves a failed background job
    evidence_uploaded = "evidence.uploaded"
    evidence_deleted = "evidence.deleted"
    evidence_downloaded = "evidence.downloaded"
    finding_opened = "finding.opened"
    finding_updated = "finding.updated"
    finding_note_added = "finding.note_added"
    finding_file_uploaded = "finding.file_uploaded"
    finding_file_downloaded = "finding.file_downloaded"
    risk_accepted = "finding.risk_accepted"
    risk_acceptance_ended = "finding.risk_acceptance_ended"
    rating_overridden = "rating.overridden"
    rating_override_cleared = "rating.override_cleared"
    assessment_decided = "assessment.decided"
    vendors_rescored = "scoring.rescored"
    # Single sign-on (docs/sso.md): the provider's answer accepted, refused, an account made
    # or linked, the roles taken from the provider's claim (old and new).
    login_sso = "auth.login.sso"
    sso_refused = "auth.sso.refused"
    sso_user_created = "auth.sso.user_created"
    sso_account_linked = "auth.sso.account_linked"
    sso_roles_synced = "auth.sso.roles_synced"


class AuditEvent(SQLModel, table=True):
    """Append-only and hash-chained: database triggers reject UPDATE and DELETE, and each
    event's hash covers the previous one, so a changed or removed row breaks the chain."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, sa_type=sa.BigInteger)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    # The actor as known at the time: an email address, or "system" for the CLI and jobs.
    actor: str = Field(max_length=320)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    vendor_id: int | None = Field(default=None, index=True)
    outcome: AuditOutcome = Field(sa_type=enum_type(AuditOutcome, "audit_outcome"))
    ip: str | None = Field(default=None, max_length=64)
    details: dict = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
