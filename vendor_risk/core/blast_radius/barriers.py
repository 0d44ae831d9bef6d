"""Barriers: why a stolen credential may not open its system, each a rule of one credential,
its system and the clock of the breach; and the rotation rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .entities import MFA_EXEMPT_KINDS, Credential, System
from .moments import _utc


@dataclass(frozen=True, slots=True)
class _Clock:
    as_of: datetime
    since: datetime | None  # when the breach began, for an incident


# A timeless barrier (clock: None accepted) holds or not whatever the date: an inventory works
# them out once. A dated one depends on the moment of the breach or when it began.


def rotated_since(last_rotated_at: datetime | None, since: datetime | None) -> bool:
    """Whether a credential was rotated after the breach began (``since``; None: no start is
    known, so no rotation counts). The attacker copied the credential once the breach began: a
    rotation after that makes their copy stale; a rotation before it does not help, since they
    copied the new value. Naive datetimes are taken as UTC."""
    if since is None or last_rotated_at is None:
        return False
    if last_rotated_at.tzinfo is None or since.tzinfo is None:  # aware ones compare as they are
        last_rotated_at, since = _utc(last_rotated_at), _utc(since)
    return last_rotated_at > since


def rotation_done(status: str, last_rotated_at: datetime | None, since: datetime | None) -> bool:
    """Whether the attacker's copy of a credential is dealt with: it was revoked, or rotated
    after the breach began. The one rule behind the list of credentials to rotate (what is not
    done is on it) and an incident's rotation gap (what on its checklist is not done), so that
    the command, the pages, the checklist and the PDFs cannot disagree."""
    return status == "revoked" or rotated_since(last_rotated_at, since)


def _revoked(cred: Credential, system: System, clock: _Clock | None) -> bool:
    return cred.status == "revoked"


def _expired(cred: Credential, system: System, clock: _Clock) -> bool:
    return cred.expires_at is not None and cred.expires_at <= clock.as_of


def _rotated(cred: Credential, system: System, clock: _Clock) -> bool:
    return rotated_since(cred.last_rotated_at, clock.since)


def _meets_mfa(cred: Credential) -> bool:
    # A stolen session token already carries the MFA of its sign-in: no prompt stops it.
    return cred.interactive and cred.kind not in MFA_EXEMPT_KINDS


def _phishing_resistant_mfa(cred: Credential, system: System, clock: _Clock | None) -> bool:
    return _meets_mfa(cred) and cred.phishing_resistant_mfa


def _mfa(cred: Credential, system: System, clock: _Clock | None) -> bool:
    # Machine credentials (tokens, service accounts) never meet an MFA prompt: that is why they
    # are dangerous, and why MFA is tested on interactive ones only.
    return _meets_mfa(cred) and (cred.mfa_enforced or system.mfa_required)


def _ip_restricted(cred: Credential, system: System, clock: _Clock | None) -> bool:
    return cred.ip_restricted


# In reporting order: the first that holds is the one reported.
BARRIERS: Mapping[str, Callable[[Credential, System, _Clock], bool]] = MappingProxyType(
    {
        "revoked": _revoked,
        "expired": _expired,
        "rotated": _rotated,
        "phishing_resistant_mfa": _phishing_resistant_mfa,
        "mfa": _mfa,
        "ip_restricted": _ip_restricted,
    }
)


_TIMELESS_BARRIERS = (_revoked, _phishing_resistant_mfa, _mfa, _ip_restricted)
_DATED_BARRIERS = (_expired, _rotated)
if {*_TIMELESS_BARRIERS, *_DATED_BARRIERS} != set(BARRIERS.values()):
    raise RuntimeError("every barrier must be listed as timeless or dated")


def _any_holds(
    barriers: Iterable[Callable[[Credential, System, Any], bool]],
    cred: Credential,
    system: System,
    clock: _Clock | None,
) -> bool:
    # A loop, not any() over a generator: three times faster, and it runs per credential.
    for holds in barriers:  # noqa: SIM110
        if holds(cred, system, clock):
            return True
    return False
