"""How an enum value reads to a person, on a page, in a PDF or a CSV: ``source_control`` ->
``Source control``, with the few acronyms kept whole. One rule for every face."""

from __future__ import annotations

_LABELS = {
    "api_token": "API token",
    "oauth_grant": "OAuth grant",
    "sso_admin": "SSO admin",
    "ssh_key": "SSH key",
    "vpn": "VPN",
    "ci_cd": "CI/CD",
    "crm": "CRM",
    "hr": "HR",
}


def label(value: str) -> str:
    """How an enum value reads: ``source_control`` -> ``Source control``."""
    value = str(value)
    return _LABELS.get(value) or value.replace("_", " ").capitalize()
