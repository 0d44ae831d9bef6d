"""The version of the scoring method as a whole: inherent risk, control score, exposure and
residual risk with every weight, half-count, cap and band they use (docs/scoring.md).

Every result carries the version that produced it and a stored residual keeps its inputs, so a
past score can be recomputed with the method of its version; a version this code does not
implement is refused rather than silently recomputed with other parameters.

- Version 1: the inherent risk as first shipped plus the control, exposure and residual
  methods written with it. A fact the inventory left out counted as no risk (no data category
  recorded: no data held; no credential recorded: no access).
- Version 2 (current): unknown is not low. A fact neither the inventory nor the intake gives
  counts as its worst value and makes the rating incomplete, naming the fact; the answers of a
  request no risk officer has accepted yet give a provisional rating beside the one that
  counts, which reads accepted requests only.
"""

from __future__ import annotations

PARAMETERS_VERSION = 2
# Every version this code computes: the current one, and those whose stored scores must still
# be reproduced exactly.
IMPLEMENTED = (1, 2)


def check_version(version: object) -> int:
    """``version`` when this code implements it; ValueError, saying which it does, if not."""
    if type(version) is not int or version not in IMPLEMENTED:  # True is no version
        implemented = " and ".join(str(v) for v in IMPLEMENTED)
        raise ValueError(
            f"scoring parameters version {version!r} is not implemented by this code "
            f"(it implements versions {implemented}): the score cannot be reproduced here"
        )
    return version
