"""The control identifiers a question may cite: NIST CSF 2.0 subcategories and ISO/IEC
27001:2022 Annex A controls. A mistyped reference would silently map a question to nothing, so
only identifiers that exist are accepted.
"""

from __future__ import annotations

import re
from difflib import get_close_matches

# NIST CSWP 29 (CSF 2.0, February 2024): each category with the numbers of its subcategories.
# The gaps are withdrawn numbers (moved elsewhere since CSF 1.1); there are 106 in all.
_CSF_SUBCATEGORIES: dict[str, tuple[int, ...]] = {
    "GV.OC": (1, 2, 3, 4, 5),
    "GV.RM": (1, 2, 3, 4, 5, 6, 7),
    "GV.RR": (1, 2, 3, 4),
    "GV.PO": (1, 2),
    "GV.OV": (1, 2, 3),
    "GV.SC": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    "ID.AM": (1, 2, 3, 4, 5, 7, 8),
    "ID.RA": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    "ID.IM": (1, 2, 3, 4),
    "PR.AA": (1, 2, 3, 4, 5, 6),
    "PR.AT": (1, 2),
    "PR.DS": (1, 2, 10, 11),
    "PR.PS": (1, 2, 3, 4, 5, 6),
    "PR.IR": (1, 2, 3, 4),
    "DE.CM": (1, 2, 3, 6, 9),
    "DE.AE": (2, 3, 4, 6, 7, 8),
    "RS.MA": (1, 2, 3, 4, 5),
    "RS.AN": (3, 6, 7, 8),
    "RS.CO": (2, 3),
    "RS.MI": (1, 2),
    "RC.RP": (1, 2, 3, 4, 5, 6),
    "RC.CO": (3, 4),
}
NIST_CSF_SUBCATEGORIES: frozenset[str] = frozenset(
    f"{category}-{number:02d}"
    for category, numbers in _CSF_SUBCATEGORIES.items()
    for number in numbers
)
# CSF 1.1 categories that 2.0 dropped or renamed: the likeliest mistake of all.
_CSF_1_1_ONLY = frozenset(
    {
        "ID.BE", "ID.GV", "ID.SC",
        "PR.AC", "PR.IP", "PR.MA", "PR.PT",
        "DE.DP",
        "RS.RP", "RS.IM",
        "RC.IM",
    }
)  # fmt: skip

# ISO/IEC 27001:2022 Annex A: each theme with its number of controls (93 in all).
_ISO_THEMES = {5: 37, 6: 8, 7: 14, 8: 34}
ISO27001_CONTROLS: frozenset[str] = frozenset(
    f"A.{theme}.{number}" for theme, count in _ISO_THEMES.items() for number in range(1, count + 1)
)

_CSF_SHAPE = re.compile(r"([A-Z]{2}\.[A-Z]{2})-(\d{1,2})")


def nist_csf_problem(identifier: str) -> str | None:
    """Why ``identifier`` is not a CSF 2.0 subcategory, or None when it is one."""
    if identifier in NIST_CSF_SUBCATEGORIES:
        return None
    shape = _CSF_SHAPE.fullmatch(identifier)
    if shape and shape[1] in _CSF_1_1_ONLY:
        return f"{identifier!r} is a CSF 1.1 identifier: use its CSF 2.0 subcategory"
    if shape and shape[1] in _CSF_SUBCATEGORIES:
        padded = f"{shape[1]}-{int(shape[2]):02d}"
        if padded in NIST_CSF_SUBCATEGORIES:
            return f"write {padded!r}, with two digits"
        numbers = ", ".join(f"{n:02d}" for n in _CSF_SUBCATEGORIES[shape[1]])
        return f"{shape[1]} has no subcategory {shape[2]} (it has {numbers})"
    guess = get_close_matches(identifier.upper(), sorted(NIST_CSF_SUBCATEGORIES), n=1)
    hint = f": did you mean {guess[0]!r}?" if guess else " like 'PR.AA-03'"
    return f"{identifier!r} is not a NIST CSF 2.0 subcategory{hint}"


def iso27001_problem(identifier: str) -> str | None:
    """Why ``identifier`` is not an ISO/IEC 27001:2022 Annex A control, or None."""
    if identifier in ISO27001_CONTROLS:
        return None
    ranges = ", ".join(f"A.{t}.1 to A.{t}.{n}" for t, n in _ISO_THEMES.items())
    return f"{identifier!r} is not an ISO/IEC 27001:2022 Annex A control ({ranges})"


# Each framework a question may cite, with the check of its identifiers.
FRAMEWORKS = {"nist_csf": nist_csf_problem, "iso27001": iso27001_problem}
