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

    The wait before retry ``n`` is drawn uniformly from ``0 .. min(cap, base * 2**(n-1))``
    ("full jitter"), which spreads out clients that failed together.

    Attributes:
        attempts: total tries, the first included, 1 to 100; ``1`` turns retries off.
        base: the first backoff ceiling in seconds; it doubles each retry.
        cap: the largest backoff ceiling in seconds.

    Raises:
        TypeError: ``attempts`` is not an ``int``.
        ValueError: ``attempts`` is out of range, or not ``0 <= base <= cap``.
    """

    attempts: int = 4
    base: float = 0.1
    cap: float = 5.0

    def __post_init__(self) -> None:
        check_positive_int("attempts", self.attempts, maximum=100)
        if not (0 <= self.base <= self.cap):
            raise ValueError(f"need 0 <= base <= cap, got base={self.base}, cap={self.cap}")

    def backoff(self, retry_number: int, draw: float) -> float:
        """Return the wait before retry ``retry_number`` (1-based), for ``draw`` in [0, 1).

        Args:
            retry_number: 1 for the first retry, 2 for the second, and so on.
            draw: a uniform random number in [0, 1), e.g. ``random.random()``.

        Returns:
            Seconds to wait.
        """
        return float(draw * min(self.cap, self.base * 2.0 ** (retry_number - 1)))

    def is_retryable(self, error: S3Error) -> bool:
        """Tell whether an S3 error answer may succeed when sent again unchanged.

        Args:
            error: the error the server answered with.

        Returns:
            ``True`` for throttling and server-side failures (by code, or a 500, 502, 503 or
            504 status).
        """
        return error.code in RETRYABLE_CODES or error.status in RETRYABLE_STATUSES
