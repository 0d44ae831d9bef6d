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


# How a recovery code is stored: ``hmac-sha256$<salt, hex>$<HMAC-SHA256 of salt and code, hex>``.
# Codes stored before issue 15 are argon2id hashes (``$argon2id$...``): they are still verified
# as such (``match_recovery_code``) until used or replaced, as their plain codes are unknown.
RECOVERY_HASH_SCHEME = "hmac-sha256"
_LEGACY_HASH_PREFIX = "$argon2"


def recovery_code_key(secret_key: str) -> bytes:
    """The key recovery codes are hashed with: derived from the app's secret key for this use
    only, so it lives in the configuration and never beside the hashes it protects."""
    return hmac.new(secret_key.encode(), b"recovery-codes", hashlib.sha256).digest()


def _recovery_digest(key: bytes, salt: bytes, candidate: str) -> str:
    return hmac.new(key, salt + candidate.encode(), hashlib.sha256).hexdigest()


def hash_recovery_code(code: str, key: bytes) -> str:
    """A keyed, salted SHA-256 digest (HMAC), computed in microseconds. A code carries 80
    random bits: guessing it from the digest needs the key, which the database does not hold,
    and then 2**79 HMACs on average for one code. The random salt per code keeps two equal
    codes (of two users) from having equal digests."""
    salt = secrets.token_bytes(16)
    digest = _recovery_digest(key, salt, normalise_recovery_code(code))
    return f"{RECOVERY_HASH_SCHEME}${salt.hex()}${digest}"


def _matches(stored: str, candidate: str, key: bytes, hasher: PasswordHasher) -> bool:
    if stored.startswith(f"{RECOVERY_HASH_SCHEME}$"):
        parts = stored.split("$")
        if len(parts) != 3:
            return False  # damaged: matches nothing
        try:
            expected = _recovery_digest(key, bytes.fromhex(parts[1]), candidate)
        except ValueError:
            return False
        return hmac.compare_digest(expected.encode(), parts[2].encode())
    if stored.startswith(_LEGACY_HASH_PREFIX):
        try:
            return hasher.verify(stored, candidate)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return False


def new_recovery_codes() -> list[str]:
    """Ten codes shaped ``xxxx-xxxx-xxxx-xxxx`` for display; only their hashes are stored."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def match_recovery_code(
    hashes: list[str], code: str, key: bytes, hasher: PasswordHasher
) -> str | None:
    """The stored hash the code matches, or None. Input that cannot be a code is refused
    before any hash is computed. Digests are compared in constant time; an argon2id hash of a
    code stored before issue 15 is verified with ``hasher`` (slow, as it always was)."""
    candidate = normalise_recovery_code(code)
    if len(candidate) != 16 or not set(candidate) <= set(_RECOVERY_ALPHABET):
        return None
    found = None
    for stored in hashes:
        # Every digest is compared, so the time does not tell which code of the list matched.
        if _matches(stored, candidate, key, hasher) and found is None:
            found = stored
            if stored.startswith(_LEGACY_HASH_PREFIX):
                break  # a legacy hash is slow: no need to verify the others
    return found
