"""Whom a vendor contact may invite: the vendor's email domains, kept by staff.

A vendor's ``email_domains`` lists entries of two kinds: a domain (``keystone.example``), which
allows every address at exactly that domain, and an address (``jane.doe@mail.example``), which
allows that one address (staff allowing a colleague outside the vendor's domains). Staff
invite whomever they choose; a vendor contact invites only what the list allows, and never an
address of our own staff or at one of their domains, whatever the list says, except an
address staff listed one by one.

Pure: no Flask, no database. The service (services.invites) gives it the staff's addresses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

MAX_ENTRIES = 50
ENTRY_MAX = 320


@dataclass(frozen=True)
class Entries:
    """A vendor's list, read: the domains and the single addresses it allows."""

    domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()


def _checked_address(address: str) -> str | None:
    """Checked and normalised as accounts are (services.accounts.check_email)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    return address.lower()


def normalise_entry(entry: str) -> str | None:
    """An entry as stored (lower case, no spaces), or None when it is neither a domain nor
    an address."""
    entry = entry.strip().lower().removeprefix("@")
    if not entry or len(entry) > ENTRY_MAX:
        return None
    if "@" in entry:
        return _checked_address(entry)
    # A domain is what follows the @ of a valid address; a single label ("localhost") is
    # not a vendor's domain.
    address = _checked_address(f"x@{entry}")
    if address is None or "." not in entry:
        return None
    return address.partition("@")[2]


def problems(entries: Iterable[str]) -> list[str]:
    """What is wrong with a list as typed, one message per bad entry."""
    entries = list(entries)
    found = [
        f"{entry!r} is neither a domain (vendor.example) nor an address (name@vendor.example)"
        for entry in entries
        if normalise_entry(entry) is None
    ]
    if len(entries) > MAX_ENTRIES:
        found.append(f"List at most {MAX_ENTRIES} domains and addresses.")
    return found


def normalised(entries: Iterable[str]) -> list[str]:
    """The entries as stored: checked (see :func:`problems` first), lower case, each once,
    in order."""
    kept = [normalise_entry(entry) for entry in entries]
    return list(dict.fromkeys(entry for entry in kept if entry))


def split(text: str) -> list[str]:
    """A list typed in one box: separated by commas, semicolons, spaces or lines."""
    for separator in ",;\n\r\t":
        text = text.replace(separator, " ")
    return [entry for entry in text.split(" ") if entry]


def read(stored: Iterable[str]) -> Entries:
    stored = list(stored)
    return Entries(
        domains=tuple(e for e in stored if "@" not in e),
        addresses=tuple(e for e in stored if "@" in e),
    )


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


NOT_HERE = (
    "This address cannot be invited from the portal: ask your contact at our organisation to "
    "invite it."
)


def refusal(address: str, stored: Iterable[str], *, staff_addresses: Iterable[str]) -> str | None:
    """None when a vendor contact may invite ``address`` (normalised), else why not, naming
    the domains they may invite. ``staff_addresses``: the addresses of our staff accounts
    at the address's domain or equal to it (the service asks the database only for those)."""
    entries = read(stored)
    staff = {a.lower() for a in staff_addresses}
    if address in staff:
        return NOT_HERE
    if address in entries.addresses:
        return None
    domain = domain_of(address)
    staff_domain = any(domain_of(a) == domain for a in staff)
    if domain in entries.domains and not staff_domain:
        return None
    if staff_domain:
        return NOT_HERE
    if not entries.domains:
        return (
            "Your organisation's email domains are not recorded yet: ask your contact at our "
            "organisation to invite this colleague, or to record your domains."
        )
    allowed = " or ".join(", ".join(entries.domains).rsplit(", ", 1))
    return (
        f"You can invite addresses at {allowed} only. Ask your contact at our organisation to "
        "invite anyone else."
    )


def suggested(website: str, contact_addresses: Iterable[str], listed: Iterable[str]) -> list[str]:
    """Domains staff may want to list: the website's host (without ``www.``) and the domains
    of the vendor's contacts, those listed already left out. Suggestions only: a contact's
    address at a public mail provider is no proof of a domain, so nothing is added unread."""
    listed = set(listed)
    candidates = []
    host = (urlsplit(website).hostname or "") if "://" in website else ""
    if host:
        candidates.append(host.removeprefix("www."))
    candidates += [domain_of(address) for address in contact_addresses]
    found = (normalise_entry(candidate) for candidate in candidates)
    return [d for d in dict.fromkeys(found) if d and "@" not in d and d not in listed]
