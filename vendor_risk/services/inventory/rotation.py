"""Where a credential stands against its rotation and expiry: the one place the rule lives.

:func:`rotation_status` writes the rule as SQL, so that the credential list, the portfolio
aggregates and the documents filter, sort, count and page on the one expression.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ...db import UTCDateTime
from ...models import (
    Credential,
    CredentialStatus,
)

EXPIRING_SOON_DAYS = 30


class RotationStatus(StrEnum):
    """Where a credential stands against its rotation and expiry, most urgent first."""

    overdue = "overdue"
    expired = "expired"
    expiring_soon = "expiring_soon"
    never_rotated = "never_rotated"
    active = "active"
    revoked = "revoked"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class _due_before(FunctionElement):
    """``since`` plus ``days`` days is before ``moment``: date arithmetic differs per database."""

    type = sa.Boolean()
    name = "due_before"
    inherit_cache = True


@compiles(_due_before)
def _due_before_postgresql(element, compiler, **kw):
    since, days, moment = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({since} + make_interval(days => {days}) < {moment})"


@compiles(_due_before, "sqlite")
def _due_before_sqlite(element, compiler, **kw):
    since, days, moment = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(julianday({since}) + {days} < julianday({moment}))"


def rotation_status(now: datetime) -> sa.ColumnElement[str]:
    """A credential's :class:`RotationStatus` at ``now``, as SQL (so lists filter, sort and page
    on it). The first rule that matches wins:

    - revoked: its status says so;
    - expired: it expired already;
    - overdue: last rotated (or issued, when never rotated) longer ago than its rotation period;
    - expiring soon: it expires within EXPIRING_SOON_DAYS days;
    - never rotated: it has no rotation date;
    - active: none of the above.
    """
    moment = sa.literal(now, UTCDateTime)
    last_change = sa.func.coalesce(Credential.last_rotated_at, Credential.issued_at)
    overdue = sa.and_(
        Credential.rotation_period_days.is_not(None),
        last_change.is_not(None),
        _due_before(last_change, Credential.rotation_period_days, moment),
    )
    return sa.case(
        (Credential.status == CredentialStatus.revoked, RotationStatus.revoked.value),
        (Credential.expires_at <= now, RotationStatus.expired.value),
        (overdue, RotationStatus.overdue.value),
        (
            Credential.expires_at <= now + timedelta(days=EXPIRING_SOON_DAYS),
            RotationStatus.expiring_soon.value,
        ),
        (Credential.last_rotated_at.is_(None), RotationStatus.never_rotated.value),
        else_=RotationStatus.active.value,
    )
