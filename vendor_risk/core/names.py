"""How the inventory compares names: one rule for vendors, systems, data categories and
credentials, used by the inventory file, the forms, the commands and the database.

Two names are the same when their keys are equal. The key is the name case-folded the way
Unicode defines it (:meth:`str.casefold`, which knows the cases of every script, so ``Okta``,
``OKTA`` and ``okta`` are one vendor, and so are ``Émile`` and ``ÉMILE``, or ``Straße`` and
``STRASSE``), with accents written either as one character or as a letter followed by a
combining mark compared alike (canonical normalisation, NFC). Nothing else is folded: spaces
inside a name count, ``Okta`` written in full-width letters (U+FF2F...) is another name, and so
is Turkish ``İ`` against ``I``.

The database stores the key beside the name (``name_key``, unique), computed here and nowhere
else: SQL's ``lower()`` would not do, as SQLite lowers only A to Z while PostgreSQL lowers every
letter its locale knows, so the two would disagree with each other and with this rule.

Pure: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata

NAME_MAX_LENGTH = 200
# Case folding and normalisation lengthen a name by at most four times (tests/test_names.py
# checks every character), so the key of a name of 200 characters fits in 800.
KEY_MAX_LENGTH = 4 * NAME_MAX_LENGTH


def name_key(name: str) -> str:
    """The form in which two names are compared: equal keys, same thing."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def slug(text: str) -> str:
    """``text`` as a safe file-name part: ASCII letters, digits and dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "report"
