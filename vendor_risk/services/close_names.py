"""Names close to one that matched nothing, for a message such as "no vendor named 'keystone';
did you mean 'Keystone Identity'?". The database narrows the candidates (names containing the
text, or a piece of one of its words, compared as names are: names.name_key), a few hundred at
most; difflib ranks those. A portfolio of 50,000 vendors is never loaded."""

from __future__ import annotations

import difflib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..core.names import name_key
from ..models import Vendor

SUGGESTED = 3  # names a message offers
CANDIDATES = 200  # names difflib compares at most
_PIECE = 3  # the first letters of each word that a candidate must contain
_WORDS = 4  # words of the text that give a piece
_CUTOFF = 0.6  # difflib's similarity below which a name is not offered


def _like(text: str) -> str:
    """``text`` inside a LIKE pattern: its ``%``, ``_`` and ``\\`` escaped by ``\\``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def close_vendor_names(session: Session, name: str, limit: int = SUGGESTED) -> list[str]:
    """Up to ``limit`` vendor names close to ``name``: those containing it first (those that
    start with it before the others, then the shortest), then those difflib finds similar."""
    key = name_key(name.strip())
    if not key:
        return []
    column = Vendor.name_key
    containing = session.execute(
        sa.select(Vendor.name, column)
        .where(column.like(_like(key), escape="\\"))
        .order_by(sa.case((column.like(_like(key)[1:], escape="\\"), 0), else_=1))
        .order_by(sa.func.length(column), column)
        .limit(limit)
    ).all()
    found = [row.name for row in containing]
    if len(found) >= limit:
        return found
    pieces = {word[:_PIECE] for word in key.split()[:_WORDS] if len(word) >= _PIECE}
    if not pieces:
        return found
    first = key[:_PIECE]
    similar = session.execute(
        sa.select(Vendor.name, column)
        .where(sa.or_(*(column.like(_like(piece), escape="\\") for piece in sorted(pieces))))
        .order_by(sa.case((column.like(_like(first)[1:], escape="\\"), 0), else_=1), column)
        .limit(CANDIDATES)
    ).all()
    by_key = {row.name_key: row.name for row in similar if row.name not in found}
    ranked = difflib.get_close_matches(key, list(by_key), n=limit - len(found), cutoff=_CUTOFF)
    return found + [by_key[k] for k in ranked]
