"""What a VSAQ import refuses: the limits on a document's size and nesting, on how far `^id`
may grow a condition, on ids and titles; and the error that lists every problem found.
"""

from __future__ import annotations

MAX_BYTES = 5 * 1024 * 1024
"""Documents larger than this are refused: the largest VSAQ questionnaire is about 140 kB."""

MAX_BLOCK_DEPTH = 20
"""Blocks nested deeper than this are refused; VSAQ's own questionnaires nest four deep."""

MAX_CONDITION_TESTS = 200
"""A condition holding more tests than this once `^id` is expanded is refused (each `^id`
repeats the conditions of the item it names and of the blocks around it, so a long chain of
them grows fast); VSAQ's own questionnaires need eight at most."""

# Each block level costs two JSON levels (the block and its "items"); the margin covers choices.
_MAX_JSON_DEPTH = 2 * MAX_BLOCK_DEPTH + 16
_MAX_CONDITION_DEPTH = 32
# Parts of conditions resolved one inside the other, through `^id` chains included.
_MAX_EXPANSION_NESTING = 100
_MAX_ID = 90  # our ids and option values have 100 characters at most; the rest is for "-2"
_MAX_TITLE = 300


class VsaqError(ValueError):
    """The document cannot be imported; `problems` lists every reason, each with its location."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
