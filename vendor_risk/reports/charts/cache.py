"""The cache of rendered charts, emptied at once (the benchmark measures uncached rendering)."""

from __future__ import annotations

from .bars import _bar_chart, _stacked_bar_chart
from .heat_maps import _heat_map
from .trends import _line_chart


def cache_clear() -> None:
    """Forget every rendered chart (the benchmark measures uncached rendering)."""
    for cached in (_bar_chart, _stacked_bar_chart, _heat_map, _line_chart):
        cached.cache_clear()
