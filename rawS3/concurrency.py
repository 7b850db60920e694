"""How many parts to keep in flight: a memory bound, and a controller that follows throughput.

On loopback one connection is as fast as four; on a real network each connection is capped
(by its round trip and by per-connection limits of the server), so only more parts in flight
raise the aggregate rate, and every part in flight holds its bytes in memory. A fixed number
is wrong somewhere: too few on a far network, too many for a small host.

``AdaptiveConcurrency`` starts low and doubles the limit after each measurement window (as
many answers as the limit) in which the aggregate throughput of completed parts grew enough:
by at least ``gain`` (a fifth) of what the added parts would bring if the rate grew in
proportion to them (4 → 8 parts: 20 %). The first window that does not grow enough ends the
search, and the limit goes back to the best level seen. Doubling rather than adding one part
at a time reaches a far network's need within a few windows, while the file is still being
sent; the price is that the limit may stop up to twice above the knee of the curve, which
the memory budget bounds. It never exceeds ``maximum``, which the caller
derives from its memory budget (``bound_for_memory``). Pure: the time of each completion is an
argument, so the controller is tested with synthetic throughput curves.
"""

from __future__ import annotations

from rawS3.validation import check_positive_int

__all__ = ["DEFAULT_MAXIMUM", "DEFAULT_START", "AdaptiveConcurrency", "bound_for_memory"]

DEFAULT_START = 4
DEFAULT_MAXIMUM = 16


def bound_for_memory(part_size: int, max_memory: int | None, maximum: int) -> int:
    """Return how many parts may be in flight: ``maximum``, lowered to fit ``max_memory``.

    Args:
        part_size: bytes per part (each part in flight holds that much).
        max_memory: the budget in bytes for part data, or ``None`` for no budget.
        maximum: the limit without a budget.

    Returns:
        ``min(maximum, max_memory // part_size)``, at least 1.

    Raises:
        ValueError: ``max_memory`` is smaller than one part.
    """
    if max_memory is None:
        return maximum
    check_positive_int("max_memory", max_memory)
    if max_memory < part_size:
        raise ValueError(
            f"max_memory={max_memory:,} cannot hold one part of {part_size:,} bytes; "
            "raise it or lower part_size"
        )
    return min(maximum, max_memory // part_size)


class AdaptiveConcurrency:
    """A limit on parts in flight that grows while aggregate throughput does.

    Args:
        start: the first limit (lowered to ``maximum`` if above it).
        maximum: the limit is never above this.
        gain: the share of proportional growth a step must bring to go on (0.2: a step from
            4 to 8 parts must raise the rate by 20 %).

    Attributes:
        limit: parts allowed in flight now.
        settled: the search is over; ``limit`` no longer changes.
        best_rate: the best aggregate throughput measured, bytes per second.

    Raises:
        TypeError, ValueError: a ``start`` or ``maximum`` below 1, or a ``gain`` not above 0.
    """

    def __init__(self, *, start: int = DEFAULT_START, maximum: int, gain: float = 0.2) -> None:
        self.maximum = check_positive_int("maximum", maximum)
        self.limit = min(check_positive_int("start", start), self.maximum)
        if not gain > 0:
            raise ValueError(f"gain must be above 0, got {gain!r}")
        self.gain = gain
        self.settled = self.limit == self.maximum
        self.best_rate = 0.0
        self._best_limit = self.limit
        self._window_start: float | None = None
        self._window_bytes = 0
        self._window_parts = 0

    def completed(self, now: float, size: int) -> int:
        """Record a part of ``size`` bytes answered at ``now``; return the limit to use next.

        Args:
            now: the time of the answer, in seconds of any monotonic clock.
            size: the part's length in bytes.

        Returns:
            The new ``limit``.
        """
        if self.settled:
            return self.limit
        if self._window_start is None:
            # The first answer only opens the window: the parts before it started together,
            # so their time says nothing about the rate at this level.
            self._window_start = now
            return self.limit
        self._window_bytes += size
        self._window_parts += 1
        elapsed = now - self._window_start
        if self._window_parts < max(2, self.limit) or elapsed <= 0:
            return self.limit
        self._judge(self._window_bytes / elapsed)
        return self.limit

    def _judge(self, rate: float) -> None:
        """End a window: double while the rate grows enough (see ``gain``), else settle."""
        wanted = 1 + self.gain * (self.limit / self._best_limit - 1)
        if self.best_rate == 0 or rate > self.best_rate * wanted:
            self.best_rate = rate
            self._best_limit = self.limit
            if self.limit < self.maximum:
                self.limit = min(self.maximum, self.limit * 2)
                self._open_window()
                return
        self.best_rate = max(self.best_rate, rate)
        self.limit = self._best_limit
        self.settled = True

    def _open_window(self) -> None:
        self._window_start = None
        self._window_bytes = 0
        self._window_parts = 0
