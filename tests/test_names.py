"""How the inventory compares names (vendor_risk.names): one rule, pure."""

from __future__ import annotations

import sys

import pytest

from vendor_risk.core.names import KEY_MAX_LENGTH, NAME_MAX_LENGTH, name_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Okta", "OKTA"),
        ("okta", "oKtA"),
        ("Émile Conseil", "ÉMILE CONSEIL"),
        ("Émile", "E\u0301mile"),  # one character, or a letter and a combining accent
        ("Straße", "STRASSE"),
        ("Ωmega", "ωMEGA"),
        ("Σίσυφος", "ΣΊΣΥΦΟΣ"),  # final sigma folds like any sigma
    ],
)
def test_names_that_are_one(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Okta Inc", "Okta  Inc"),
        ("Okta", "Okta "),
        ("İnci", "Inci"),  # Turkish dotted capital I folds to i with a dot above
        ("Okta", "\uff2fkta"),  # a full-width O
        ("Acme", "Acmé"),
    ],
)
def test_names_that_stay_two(a, b):
    assert name_key(a) != name_key(b)


def test_the_key_of_any_name_fits_its_column():
    # Folding lengthens a character into three at most today ("ﬃ" -> "ffi"); the column holds
    # four per character of the longest name, and composition never lengthens a string.
    longest = max(
        len(name_key(chr(code)))
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF
    )
    assert longest * NAME_MAX_LENGTH <= KEY_MAX_LENGTH
    assert len(name_key("ﬃ" * NAME_MAX_LENGTH)) <= KEY_MAX_LENGTH
