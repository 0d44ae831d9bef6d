"""The pages the load test's simulated people use: one name per page, as locust reports it,
with the method and the app's URL rule. Plain data, without locust, so that the test
(tests/test_bench_load.py) checks every rule against the app's routes, and the locustfile builds
every URL from the rule (never a path typed twice)."""

from __future__ import annotations

import re

# name (what locust's figures are per) -> (method, URL rule of the app)
PAGES: dict[str, tuple[str, str]] = {
    # Signing in, once per simulated person: the password, then the TOTP code.
    "auth: login page": ("GET", "/auth/login"),
    "auth: password": ("POST", "/auth/login"),
    "auth: TOTP page": ("GET", "/auth/mfa"),
    "auth: TOTP code": ("POST", "/auth/mfa"),
    # Vendor contacts filling their questionnaire, each answer saved as it is given.
    "portal: home": ("GET", "/portal/"),
    "portal: questionnaire": ("GET", "/portal/requests/<int:request_id>"),
    "portal: autosave answer": (
        "POST",
        "/portal/requests/<int:request_id>/answers/<question_id>",
    ),
    # Risk officers.
    "risk: dashboard": ("GET", "/risk/"),
    "inventory: vendor page": ("GET", "/inventory/vendors/<int:vendor_id>"),
    "inventory: vendor blast radius": ("GET", "/inventory/vendors/<int:vendor_id>/blast-radius"),
    "inventory: vendor risk": ("GET", "/inventory/vendors/<int:vendor_id>/risk"),
    "inventory: portfolio": ("GET", "/inventory/portfolio"),
    "review: list": ("GET", "/review/"),
    "findings: list": ("GET", "/findings/"),
    # Procurement.
    "procurement: dashboard": ("GET", "/procurement/"),
    "inventory: vendor list": ("GET", "/inventory/vendors"),
    "inventory: vendor search": ("GET", "/inventory/vendors"),
    "inventory: vendor names (keystroke)": ("GET", "/inventory/vendor-names"),
    "requests: list": ("GET", "/requests/"),
    # Inventory edits, each form saved with the version it was opened on.
    "inventory: credentials list": ("GET", "/inventory/credentials"),
    "inventory: credential edit form": ("GET", "/inventory/credentials/<int:credential_id>/edit"),
    "inventory: credential save": ("POST", "/inventory/credentials/<int:credential_id>/edit"),
    "inventory: system edit form": ("GET", "/inventory/systems/<int:system_id>/edit"),
    "inventory: system save": ("POST", "/inventory/systems/<int:system_id>/edit"),
}

_VARIABLE = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def path(name: str, **values: object) -> str:
    """The URL of page ``name`` with its rule's variables filled in (KeyError if one lacks)."""
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]), PAGES[name][1])


def method(name: str) -> str:
    return PAGES[name][0]
