"""Medians, ranges and paired ratios with seeded bootstrap 95 % intervals.

A ratio is paired: each repetition's figure of one client is divided by another's from the
same repetition (runs of one repetition are seconds apart, so the server's drift cancels), and
the median of those quotients is reported with a percentile bootstrap interval of that median
(``RESAMPLES`` resamples, seeded from the names compared, so a report is reproducible from its
JSON). A target is "met" only when the whole interval clears it, "at the edge" when the
median does but the interval does not, "not met" otherwise.
"""

from __future__ import annotations

import random
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

RESAMPLES = 4000
LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Stat:
    """Median and range (min–max) of one figure."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat | None:
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values))


@dataclass(frozen=True, slots=True)
class Ratio:
    """A paired ratio: median and range of the quotients, and the bootstrap interval."""

    median: float
    low: float
    high: float
    ci_low: float
    ci_high: float
    count: int

    def verdict(self, limit: float, higher: bool) -> str:
        """"met", "at the edge" or "not met" for a target of ``limit`` (``higher``: at least)."""
        if higher:
            whole, centre = self.ci_low >= limit, self.median >= limit
        else:
            whole, centre = self.ci_high <= limit, self.median <= limit
        return "met" if whole else "at the edge" if centre else "not met"


def bootstrap(values: Sequence[float], seed_text: str) -> tuple[float, float]:
    """The percentile bootstrap ``LEVEL`` interval of the median of ``values``."""
    if len(values) == 1:
        return values[0], values[0]
    rng = random.Random(zlib.crc32(seed_text.encode()))
    n = len(values)
    medians = sorted(
        statistics.median(rng.choices(values, k=n)) for _ in range(RESAMPLES)
    )
    tail = (1 - LEVEL) / 2
    return medians[int(tail * RESAMPLES)], medians[min(RESAMPLES - 1, int((1 - tail) * RESAMPLES))]


def ratio(quotients: Sequence[float], seed_text: str) -> Ratio | None:
    """The paired ratio of ``quotients`` (one per repetition)."""
    if not quotients:
        return None
    low, high = bootstrap(quotients, seed_text)
    return Ratio(statistics.median(quotients), min(quotients), max(quotients), low, high,
                 len(quotients))
