"""What every table module shares: the portable enum column."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


def enum_type(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum column: a VARCHAR with a named CHECK constraint (no PostgreSQL ENUM type,
    so adding a value is an ordinary migration on both databases)."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
