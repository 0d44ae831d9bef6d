"""Refuse free text that looks like a secret value.

vendor-risk stores credential metadata, never credentials: a token pasted into a note would
turn the inventory into the very thing an attacker wants. Two checks:
- the detectors of detect-secrets (Yelp) for known formats: AWS keys (AKIA...), GitHub
  tokens (ghp_...), Slack tokens (xoxb-...), private keys (-----BEGIN), JSON Web Tokens,
  Stripe, Twilio, SendGrid, npm, PyPI and other providers;
- a high-entropy check for any long run of letters and digits that no prose contains.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

# Runs of base64/hex/token characters long enough to be a key.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_\-]{24,}")
# Bits per character above which a run looks random (English words score about 3 to 3.5,
# hex keys about 3.7 to 4, base64 keys 5 and more).
_ENTROPY_LIMIT = 3.6
# Detectors of detect-secrets that only make sense inside source files.
_SKIPPED_DETECTORS = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}


@functools.cache
def _detectors() -> tuple:
    # Imported on the first check, not at start-up: most commands never check free text.
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import default_settings

    with default_settings():
        return tuple(
            cls()
            for secret_type, cls in get_mapping_from_secret_type_to_class().items()
            if secret_type not in _SKIPPED_DETECTORS
        )


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_random(run: str) -> bool:
    has_digit = any(ch.isdigit() for ch in run)
    has_letter = any(ch.isalpha() for ch in run)
    return has_digit and has_letter and _entropy(run) >= _ENTROPY_LIMIT


def secret_problem(text: str | None) -> str | None:
    """Why ``text`` looks like a secret value, as a message for the person typing it, or None."""
    if not text:
        return None
    for line in text.splitlines():
        for detector in _detectors():
            for found in detector.analyze_line(filename="input", line=line, line_number=1):
                return (
                    f"This looks like a secret ({found.type}). vendor-risk records where "
                    "credentials are and who holds them, never their values: remove it."
                )
        for run in _TOKEN_RUN.findall(line):
            if _looks_random(run):
                return (
                    "This contains a long random-looking string, like a key or a token. "
                    "vendor-risk never stores credential values: remove it."
                )
    return None
