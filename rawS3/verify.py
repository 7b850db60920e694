"""Verified reads: the bytes of a whole object checked against the checksum S3 stored.

A GetObject sent with ``x-amz-checksum-mode: ENABLED`` may answer with the object's stored
``x-amz-checksum-<algorithm>``. ``ChecksumVerifier`` is fed the body as it arrives and, at the
end, compares. It is pure and incremental, so any reader (a streamed GET, a download written
to a file in order) can use it.

What cannot be verified, and why:

- a ranged read: the stored checksum covers the whole object, so a range is refused up front;
- a COMPOSITE multipart checksum (``value-N``): it is a checksum of the parts' checksums, and
  the part boundaries are not in the answer;
- an answer without a checksum (servers that do not store them, or objects stored without).

In the last two cases ``from_headers`` returns ``None``: the read goes on unverified.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from rawS3.checksums import CHECKSUM_ALGORITHMS, Checksum, checksum_header
from rawS3.errors import IntegrityError

__all__ = ["CHECKSUM_MODE_HEADER", "ChecksumVerifier", "stored_checksum"]

CHECKSUM_MODE_HEADER = "x-amz-checksum-mode"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict may spell names differently
        lowered = {key.lower(): item for key, item in headers.items()}
        value = lowered.get(name)
    return value


def stored_checksum(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """Return the ``(algorithm, value)`` an answer reports for the object, if any.

    Args:
        headers: the GetObject or HeadObject answer's headers.

    Returns:
        The first algorithm found (in ``CHECKSUM_ALGORITHMS`` order) and its value as sent
        (a COMPOSITE value keeps its ``-N``), or ``None``.
    """
    for algorithm in CHECKSUM_ALGORITHMS:
        value = _header(headers, checksum_header(algorithm))
        if value:
            return algorithm, value.strip()
    return None


class ChecksumVerifier:
    """Checks that the bytes read are those the stored checksum describes.

    Args:
        algorithm: the stored checksum's algorithm.
        expected: its base64 value (full-object, without ``-N``).
        what: names the object in messages, e.g. ``bucket/key``.

    Attributes:
        verified: whether ``finish`` has run and the values matched.
    """

    def __init__(self, algorithm: str, expected: str, *, what: str) -> None:
        self.algorithm = algorithm
        self.expected = expected
        self.what = what
        self.verified = False
        self._checksum = Checksum(algorithm)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], *, what: str) -> ChecksumVerifier | None:
        """A verifier for an answer's stored full-object checksum, or ``None`` if none.

        Args:
            headers: the GetObject answer's headers.
            what: names the object in messages.

        Returns:
            The verifier, or ``None`` when the answer carries no checksum or only a
            COMPOSITE one (``value-N``), which the bytes alone cannot reproduce.
        """
        stored = stored_checksum(headers)
        if stored is None or "-" in stored[1]:
            return None
        return cls(stored[0], stored[1], what=what)

    @property
    def size(self) -> int:
        """The bytes fed so far."""
        return self._checksum.size

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed the next bytes of the body, in order.

        Args:
            data: the bytes that follow those already fed.
        """
        self._checksum.update(data)

    def finish(self) -> None:
        """Compare the checksum of everything fed with the stored one.

        Raises:
            IntegrityError: they differ (``expected`` holds the stored value, ``actual``
                the value of the bytes received).
        """
        actual = self._checksum.value()
        if not hmac.compare_digest(actual, self.expected):
            raise IntegrityError(
                f"{self.algorithm} of the {self.size:,} bytes read from {self.what} is {actual}; "
                f"the server stored {self.expected}",
                expected=self.expected,
                actual=actual,
            )
        self.verified = True
