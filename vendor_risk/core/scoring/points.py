"""Contributors: what each fact adds to a score, in points, so a score can be explained to a
vendor and an auditor by adding up its parts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Contributor:
    factor: str
    points: float
    detail: str


def apportion(values: Sequence[float], total: float | None = None) -> tuple[float, ...]:
    """``values`` rounded to hundredths so that they add up to ``total`` (by default their own
    sum) rounded to hundredths.

    Rounding each part on its own can leave the parts a few hundredths away from the rounded
    score, and an explanation whose points do not add up reads as an error. The parts with the
    largest remainders take the hundredths that rounding down left over (ties: the earlier
    part); should float noise make ``total`` fall below the parts rounded down, the parts with
    the smallest remainders give hundredths back. ``total`` is meant to be the sum of
    ``values``, computed another way.
    """
    exact = [value * 100 for value in values]
    target = round((math.fsum(values) if total is None else total) * 100)
    parts = [math.floor(x) for x in exact]
    left = target - sum(parts)
    order = sorted(range(len(exact)), key=lambda i: parts[i] - exact[i])
    if left < 0:
        order.reverse()
    for k in range(abs(left)):
        parts[order[k % len(order)]] += 1 if left > 0 else -1
    return tuple(part / 100 for part in parts)
