"""Password hashing (argon2id) and the password policy (NIST SP 800-63B, ASVS V6).

The policy has no composition rules: length of at least 12, long passphrases welcome, and a
refusal of passwords that appear in a list of 30,000 common ones (shipped by zxcvbn).
"""

from __future__ import annotations

import functools
import string

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

MIN_LENGTH = 12
# Long passphrases are welcome; the cap only bounds the work a single request can ask for.
MAX_LENGTH = 1024
_TRAILING_NOISE = string.digits + string.punctuation + " "
# Words an attacker tries first against this site (NIST SP 800-63B: context-specific words).
PRODUCT_WORDS = ("vendor-risk", "vendorrisk", "vendor risk", "vendor_risk")


def hasher() -> PasswordHasher:
    """The app's argon2id hasher (its parameters come from the configuration)."""
    cfg = current_app.config
    key = ("password_hasher", cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    found = current_app.extensions.get(key)
    if found is None:
        found = PasswordHasher(
            time_cost=cfg["ARGON2_TIME_COST"],
            memory_cost=cfg["ARGON2_MEMORY_COST"],
            parallelism=cfg["ARGON2_PARALLELISM"],
            type=Type.ID,
        )
        current_app.extensions[key] = found
    return found


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


_DUMMY_HASH: dict[tuple, str] = {}


def burn_verification_time(password: str) -> None:
    """Spend the time of a real verification when the account does not exist, so response
    times do not reveal which addresses have accounts."""
    current = hasher()
    key = (current.time_cost, current.memory_cost)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = current.hash("not a real password")
    verify_password(_DUMMY_HASH[key], password)


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Why a new password is refused, as messages for the person choosing it (empty: accepted)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(
            f"Use at least {MIN_LENGTH} characters; a passphrase of several words works well."
        )
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    base = lowered.rstrip(_TRAILING_NOISE)
    common = common_passwords()
    if lowered in common or (len(base) >= 6 and base in common):
        problems.append("This password is in a list of commonly used passwords; choose another.")
    elif len(set(password)) <= 3:
        problems.append("This password repeats too few characters; choose another.")
    email = email.strip().lower()
    if lowered in {email.split("@")[0], name.strip().lower()} - {""} or (
        email and email in lowered
    ):
        problems.append("Do not use your name or email address as your password.")
    if any(word in lowered for word in PRODUCT_WORDS):
        problems.append("Do not use the name of this application in your password.")
    return problems
