"""CSV files as spreadsheets write them: their encoding and their separator, recognised or
refused with what was seen.

Excel saves "CSV" in the Windows code page of its locale (Windows-1252 in Western Europe and
the Americas) and, where the decimal comma is used, with semicolons; "CSV UTF-8" starts with a
byte order mark; "Unicode text" is UTF-16 with tabs. All of these are read here.

Pure: no Flask, no database.
"""

from __future__ import annotations

import codecs
import csv
import re

import charset_normalizer

# The separators recognised, and how a person names each.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

# Enough rows for the sniffer to compare; the header alone usually decides.
SNIFF_CHARS = 64 * 1024

# NUL and the control characters no text file carries (tab, line breaks, form feed are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

# Excel's "CSV" outside the UTF-8 option, in the locales whose letters Windows-1252 holds;
# ISO 8859-1 (Latin-1) text reads the same through it.
_LEGACY = "cp1252"


class CsvUnreadable(ValueError):
    """The bytes are not a text file this app reads: the message says what was seen."""


def decode(raw: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without a byte order mark), UTF-16 with its
    byte order mark, or else Windows-1252 when charset-normalizer finds it reads as such;
    :class:`CsvUnreadable` otherwise."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            message = "The file starts as UTF-16 text but is not: save it again."
            raise CsvUnreadable(message) from None
        return _text(text.removeprefix("\ufeff"))
    if b"\x00" in raw:
        raise CsvUnreadable("This is not a CSV file (it contains binary data).")
    try:
        return _text(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    legacy = charset_normalizer.from_bytes(raw, cp_isolation=[_LEGACY]).best()
    if legacy is not None:
        return _text(raw.decode(_LEGACY))
    guess = charset_normalizer.from_bytes(raw).best()
    seen = f": it looks like {guess.encoding}" if guess is not None else ""
    raise CsvUnreadable(
        f"The file is not UTF-8 text, nor Windows-1252{seen}. Save the list as CSV UTF-8."
    )


def _text(text: str) -> str:
    if _CONTROL.search(text):
        raise CsvUnreadable("This is not a CSV file (it contains control characters).")
    return text


def delimiter(text: str) -> str | None:
    """The separator of CSV text: the one :class:`csv.Sniffer` finds in a sample, among
    :data:`DELIMITERS`, when the header line has it; else the one the header line has most
    of; ``None`` when the header line has none (a one-column file, or not a CSV at all)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    if not any(counts.values()):
        return None
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in DELIMITERS and counts[sniffed]:
        return sniffed
    return max(counts, key=lambda d: counts[d])


def first_line(text: str, limit: int = 60) -> str:
    """The first line as a person would quote it, cut at ``limit`` characters."""
    line = text.split("\n", 1)[0].rstrip("\r")
    return line if len(line) <= limit else line[: limit - 1] + "…"


# What a spreadsheet reads as the start of a formula (or, for tab and carriage return, what
# it strips before looking again): such a cell is prefixed with an apostrophe (OWASP, "CSV
# injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """``value`` as a cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
