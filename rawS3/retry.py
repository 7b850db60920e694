"""The retry policy: which failures are worth another attempt, and how long to wait first.

Pure: the random draw for jitter is an argument, so the schedule is testable.
"""

from __future__ import annotations

from dataclasses import dataclass

from rawS3.errors import RETRYABLE_CODES, S3Error
from rawS3.validation import check_positive_int

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy"]

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to try a request, and the exponential backoff between tries.

    Args:
        attempts: total tries, the first included; ``1`` turns retries off.
        base: the first backoff ceiling in seconds; it doubles each retry.
        cap: the largest backoff ceiling in seconds.

    The wait before retry ``n`` is drawn uniformly from ``0 .. min(cap, base * 2**(n-1))``
    ("full jitter"), which spreads out clients that failed together.
    """

    attempts: int = 4
    base: float = 0.1
    cap: float = 5.0

    def __post_init__(self) -> None:
        check_positive_int("attempts", self.attempts, maximum=100)
        if not (0 <= self.base <= self.cap):
            raise ValueError(f"need 0 <= base <= cap, got base={self.base}, cap={self.cap}")

    def backoff(self, retry_number: int, draw: float) -> float:
        """Return the wait before retry ``retry_number`` (1-based), for ``draw`` in [0, 1)."""
        return float(draw * min(self.cap, self.base * 2.0 ** (retry_number - 1)))

    def is_retryable(self, error: S3Error) -> bool:
        """Tell whether an S3 error answer may succeed when sent again unchanged."""
        return error.code in RETRYABLE_CODES or error.status in RETRYABLE_STATUSES
