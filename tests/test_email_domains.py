"""Whom a vendor contact may invite (vendor_risk/email_domains.py): pure, no app."""

import pytest

from vendor_risk.core import email_domains


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Keystone.Example ", "keystone.example"),
        ("@keystone.example", "keystone.example"),
        ("Jane.Doe@Mail.example", "jane.doe@mail.example"),
        ("localhost", None),  # one label: nobody's domain
        ("https://keystone.example", None),
        ("keystone example", None),
        ("*.keystone.example", None),
        ("a@b@c.example", None),
    ],
)
def test_entries_are_domains_or_addresses(typed, stored):
    assert email_domains.normalise_entry(typed) == stored


def test_a_typed_list_is_checked_then_stored_once_in_lower_case():
    typed = email_domains.split("a.example, B.example;a.example\nJo@C.example  bad entry!")
    assert email_domains.problems(typed) == [
        "'bad' is neither a domain (vendor.example) nor an address (name@vendor.example)",
        "'entry!' is neither a domain (vendor.example) nor an address (name@vendor.example)",
    ]
    assert email_domains.normalised(typed[:4]) == ["a.example", "b.example", "jo@c.example"]
    too_many = [f"d{n}.example" for n in range(email_domains.MAX_ENTRIES + 1)]
    assert email_domains.problems(too_many) == ["List at most 50 domains and addresses."]


def test_suggestions_come_from_the_website_and_the_contacts_never_listed_twice():
    suggested = email_domains.suggested(
        "https://www.Keystone.example/about",
        ["ann@keystone.example", "bob@ks-mail.example", "cy@ks-mail.example"],
        ["ks-mail.example"],
    )
    assert suggested == ["keystone.example"]
    assert email_domains.suggested("keystone.example", [], []) == []  # not a web address


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("bo@a.example", True),
        ("bo@sub.a.example", False),  # exactly the listed domain
        ("jo@mail.example", True),  # listed one by one
        ("other@mail.example", False),
        ("rita@us.example", False),  # a staff account
        ("new@us.example", False),  # at a staff account's domain
        ("temp@us.example", True),  # listed one by one by staff
    ],
)
def test_the_rule(address, allowed):
    stored = ["a.example", "us.example", "jo@mail.example", "temp@us.example"]
    refusal = email_domains.refusal(address, stored, staff_addresses=["Rita@us.example"])
    assert (refusal is None) is allowed, refusal
