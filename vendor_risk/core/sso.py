"""Single sign-on's rules, on the claims of a validated ID token (plain dicts in, plain values
out): which staff roles the provider grants, and whether it asserts a second factor.

The token itself (signature, issuer, audience, expiry, nonce) is validated before these rules
see it (web/auth/sso.py, with Authlib)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def claim_values(claims: Mapping[str, Any], path: str) -> list[str]:
    """The values of the claim at ``path`` (``groups``, or a dotted path such as Keycloak's
    ``realm_access.roles``): a list of strings, a single string, or nothing."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return []
        value = value.get(part)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str)]
    return []


def mapped_roles(
    claims: Mapping[str, Any], path: str, role_map: Mapping[str, str]
) -> tuple[str, ...]:
    """The roles the claim's values grant, in the order of ``role_map`` (its first role the
    person holds is their primary one), each once; empty when none is granted."""
    held = set(claim_values(claims, path))
    roles = [role for value, role in role_map.items() if value in held]
    return tuple(dict.fromkeys(roles))


def mfa_asserted(
    claims: Mapping[str, Any], amr_values: Iterable[str], acr_values: Iterable[str]
) -> bool:
    """The provider says it checked a second factor: ``amr`` holds one of ``amr_values``, or
    ``acr`` equals one of ``acr_values``. Nothing else counts (not a claim's absence, not a
    value merely containing "mfa")."""
    amr = claims.get("amr")
    amr_list = [amr] if isinstance(amr, str) else amr if isinstance(amr, list) else []
    if any(isinstance(v, str) and v in set(amr_values) for v in amr_list):
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in set(acr_values)


def email_at_domain(email: str, domain: str) -> bool:
    """``email`` is at ``domain`` exactly (not a subdomain, not a look-alike suffix)."""
    return email.rpartition("@")[2].lower() == domain.lower()
