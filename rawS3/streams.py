"""``ObjectStream``: a GetObject answer being read in pieces.

The engine (and with it aiohttp) is loaded by the time a stream exists; it is imported where
used so that importing rawS3 stays cheap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from rawS3.results import ObjectHead, head_from_headers
from rawS3.validation import check_positive_int
from rawS3.verify import ChecksumVerifier

if TYPE_CHECKING:
    import aiohttp

__all__ = ["ObjectStream", "read_at_least"]


class ObjectStream:
    """A GetObject response being read: its ``head`` and a way to read the body in pieces.

    Args:
        response: the GetObject response, its body not yet read; its owner releases it.
        verifier: checks the body against the stored checksum as it is read, if given.

    Attributes:
        head: the object's metadata, from the response headers.
        verifier: the checksum check, if any; ``verifier.verified`` once the end was read.
    """

    def __init__(
        self, response: aiohttp.ClientResponse, verifier: ChecksumVerifier | None = None
    ) -> None:
        self._response = response
        self.head: ObjectHead = head_from_headers(response.headers)
        self.verifier = verifier

    async def iter_chunks(self, size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Yield the body in pieces of at most ``size`` bytes.

        Args:
            size: the most bytes per piece.

        Yields:
            The body's bytes, in order.

        Raises:
            ValueError: ``size`` is less than 1.
            TransportError: the connection failed before the body ended.
            IntegrityError: with a ``verifier``, the body read to its end does not match the
                stored checksum (raised after the last piece, before the iteration ends).
        """
        from rawS3.engine import TRANSPORT_FAILURES, transport_error

        check_positive_int("size", size)
        verifier = self.verifier
        try:
            async for chunk in self._response.content.iter_chunked(size):
                if verifier is not None:
                    verifier.update(chunk)
                yield chunk
        except TRANSPORT_FAILURES as exc:
            raise transport_error(exc) from exc
        if verifier is not None:
            verifier.finish()

    async def read(self) -> bytes:
        """Return the rest of the body.

        Returns:
            The bytes not yet read.

        Raises:
            TransportError: the connection failed before the body ended.
            IntegrityError: with a ``verifier``, the body does not match the stored checksum.
        """
        return b"".join([chunk async for chunk in self.iter_chunks()])


async def read_at_least(pieces: AsyncIterator[bytes], wanted: int) -> bytearray:
    """Read pieces until ``wanted`` bytes or more have arrived, or the source ends.

    Args:
        pieces: the source.
        wanted: how many bytes to gather at least.

    Returns:
        What was read: fewer than ``wanted`` bytes only when the source ended.
    """
    head = bytearray()
    while len(head) < wanted:
        try:
            head += await anext(pieces)
        except StopAsyncIteration:
            break
    return head
