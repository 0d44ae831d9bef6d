"""The outbox: every email, as sent or kept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """An email as sent (or, without SMTP settings in development, only recorded here and in
    the log): the admins' outbox page lists them."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = Field(default="", sa_type=sa.Text)
