"""Texts and ids: plain one-line text for titles, ids in our format derived from VSAQ's ids
and texts, and the unique ids handed out (`-2`, `-3`...).
"""

from __future__ import annotations

import re
import unicodedata

from ..markup import plain
from .limits import _MAX_ID


def _plain(text: str) -> str:
    """Text without markup on one line, for deriving titles and ids (texts shown keep theirs)."""
    return " ".join(plain(text).split())


def _slug(text: str, *, keep_underscore: bool = True, limit: int = _MAX_ID) -> str:
    """`text` as an id: lower-case letters, digits and hyphens (and `_` when kept), cut at a
    word boundary to leave room for a `-2` suffix within our 100 characters."""
    pattern = r"[^a-z0-9_-]+" if keep_underscore else r"[^a-z0-9]+"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()  # é -> e
    slug = re.sub(pattern, "-", ascii_text.lower()).strip("-_")
    if len(slug) > limit:
        head = slug[: limit + 1]
        boundary = max(head.rfind("-"), head.rfind("_"))
        slug = (head[:boundary] if boundary > 0 else head[:limit]).strip("-_")
    return slug


def _shorten(text: str, limit: int = 80) -> str:
    """A plain title of at most `limit` characters, cut at a word."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


class _Ids:
    """Hands out unique ids: a taken id gets `-2`, `-3`, ... appended."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, base: str) -> str:
        candidate, number = base, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{base}-{number}"
        self.taken.add(candidate)
        return candidate
