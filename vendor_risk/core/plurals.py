"""Counts in words: "1 user", "2 users", "0 users". One rule for every page (the templates'
``plural`` filter, registered once in web/shell.py) and every command. Pure."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None, *, number: bool = True) -> str:
    """``count`` and the noun in the form that agrees with it: ``plural(1, "user")`` is
    "1 user", ``plural(3, "category", "categories")`` is "3 categories". ``number=False``
    gives the noun alone, for a page that sets the figure apart (``<strong>3</strong> users``).
    Thousands are separated by commas, as everywhere else on the pages."""
    noun = one if count == 1 else (many or f"{one}s")
    return f"{count:,} {noun}" if number else noun
