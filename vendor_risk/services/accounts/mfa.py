"""Second factor: TOTP (RFC 6238, 30-second steps, one step of clock drift) with replay
protection, and single-use recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# 16 characters of a 32-letter alphabet (no l, o, 0 or 1): 80 random bits per code.
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_totp_secret() -> str:
    return pyotp.random_base32(length=32)


def enrolment_secret(key: str, *context: object) -> str:
    """The secret offered during enrolment, derived (HMAC-SHA256) from the app's key and the
    pending login. Reloading the page shows the same QR code, and nothing is written before a
    code confirms it: a GET changes no state."""
    material = "\x1f".join(str(part) for part in context).encode()
    digest = hmac.new(key.encode(), b"totp-enrolment\x1f" + material, hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no style attributes, so the CSP holds)."""
    import segno  # imported when a QR code is drawn, not at start-up

    return segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code for your authenticator app"
    )


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(
    secret: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step the code belongs to, if it is valid and newer than ``last_step``.

    A code of an already used step, or of an earlier one, is refused: that is what stops a
    code observed by an attacker from being replayed within its validity window.
    """
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = current_step(now)
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(code: str, hasher: PasswordHasher) -> str:
    """A salted argon2id hash: a code carries 80 random bits, below the 112 that would make a
    fast unsalted hash acceptable (ASVS 6.5.2)."""
    return hasher.hash(normalise_recovery_code(code))


def new_recovery_codes() -> list[str]:
    """Ten codes shaped ``xxxx-xxxx-xxxx-xxxx`` for display; only their hashes are stored."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def match_recovery_code(hashes: list[str], code: str, hasher: PasswordHasher) -> str | None:
    """The stored hash the code matches, or None. Input that cannot be a code is refused
    before any (deliberately slow) hash is computed."""
    candidate = normalise_recovery_code(code)
    if len(candidate) != 16 or not set(candidate) <= set(_RECOVERY_ALPHABET):
        return None
    for stored in hashes:
        try:
            if hasher.verify(stored, candidate):
                return stored
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
    return None
