"""The version of the scoring method as a whole: inherent risk, control score, exposure and
residual risk with every weight, half-count, cap and band they use (docs/scoring.md).

Every result carries the version that produced it and a stored residual keeps its inputs, so a
past score can be recomputed; a version this code does not implement is refused rather than
silently recomputed with other parameters. Version 1 is the inherent risk as first shipped plus
the control, exposure and residual methods written with it.
"""

from __future__ import annotations

PARAMETERS_VERSION = 1


def check_version(version: object) -> int:
    """``version`` when this code implements it; ValueError, saying which one it does, if not."""
    if isinstance(version, bool) or version != PARAMETERS_VERSION:
        raise ValueError(
            f"scoring parameters version {version!r} is not implemented by this code "
            f"(it implements version {PARAMETERS_VERSION}): the score cannot be reproduced here"
        )
    return PARAMETERS_VERSION
