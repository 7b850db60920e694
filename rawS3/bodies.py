"""Request bodies: how the bytes of a request are hashed, declared and handed to aiohttp.

``BufferBody`` holds bytes already in memory. It is replayable, so a failed attempt can be
retried, and it is handed to aiohttp in slices: a socket send takes what it can and asyncio
copies the rest, so a slice bounds that copy instead of the whole part.

``SignedChunkedBody`` streams an async iterable of known total size as signed aws-chunked
frames (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``): each frame carries a signature chained to
the previous one, so the body is verified without being hashed up front. It is one-shot.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping

from rawS3.checksums import checksum_header, checksum_value
from rawS3.sigv4 import STREAMING_PAYLOAD, UNSIGNED_PAYLOAD, chunk_frame, encoded_length

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "SLICE_SIZE",
    "BufferBody",
    "ChunkSigner",
    "SignedChunkedBody",
    "with_body_headers",
]

SLICE_SIZE = 256 * 1024
DEFAULT_CHUNK_SIZE = 64 * 1024
ChunkSigner = Callable[[bytes, str], str]
"""``(chunk, previous_signature) -> signature``, bound to one request's date and scope."""


class BufferBody:
    """A body held in memory: hashed once, sent as often as a retry needs.

    Args:
        data: the bytes to send; not copied, so they must stay unchanged until sent.
        sign: put the body's SHA-256 in the signature (else ``UNSIGNED-PAYLOAD``).
        md5: send ``Content-MD5``, so the server refuses a body corrupted on the way.
        checksum: an algorithm of ``rawS3.checksums`` to send an ``x-amz-checksum-*`` header too.
    """

    replayable = True

    def __init__(
        self,
        data: bytes | bytearray | memoryview,
        *,
        sign: bool,
        md5: bool,
        checksum: str | None = None,
    ) -> None:
        self.data = memoryview(data).cast("B")
        self.size = self.data.nbytes
        self.payload_hash = hashlib.sha256(self.data).hexdigest() if sign else UNSIGNED_PAYLOAD
        self.md5 = hashlib.md5(self.data, usedforsecurity=False).digest() if md5 else None
        self.headers = {"Content-Length": str(self.size)}
        if self.md5 is not None:
            self.headers["Content-MD5"] = base64.b64encode(self.md5).decode("ascii")
        self.checksum: tuple[str, str] | None = None
        if checksum is not None:
            self.checksum = (checksum, checksum_value(checksum, self.data))
            self.headers[checksum_header(checksum)] = self.checksum[1]
            # What SDKs send beside it; moto stores and echoes the value only with it.
            self.headers["x-amz-sdk-checksum-algorithm"] = checksum.upper()

    def payload(
        self, signer: ChunkSigner, seed_signature: str
    ) -> AsyncIterator[memoryview] | bytes:
        """Return what aiohttp sends: the bytes themselves when small, else slices of them.

        Args:
            signer: unused; the body's hash is already in the signed headers.
            seed_signature: unused, as ``signer``.

        Returns:
            ``bytes`` when the body fits in ``SLICE_SIZE``, else an async iterator of views
            of at most ``SLICE_SIZE`` bytes.
        """
        if self.size <= SLICE_SIZE:
            whole = self.data.obj  # a view of all of a bytes object: that object, uncopied
            return whole if type(whole) is bytes and len(whole) == self.size else bytes(self.data)
        return self._slices()

    async def _slices(self) -> AsyncIterator[memoryview]:
        for offset in range(0, self.size, SLICE_SIZE):
            yield self.data[offset : offset + SLICE_SIZE]


class SignedChunkedBody:
    """An async iterable of exactly ``size`` bytes, sent once as signed aws-chunked frames.

    Args:
        source: the body in pieces of any size; it is read once.
        size: the exact number of bytes ``source`` yields.
        chunk_size: data bytes per signed frame (the last frame may hold fewer).
    """

    replayable = False
    md5 = None
    checksum = None
    payload_hash = STREAMING_PAYLOAD

    def __init__(self, source: AsyncIterable[bytes], *, size: int, chunk_size: int) -> None:
        self.source = source
        self.size = size
        self.chunk_size = chunk_size
        self.headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(size),
            "Content-Length": str(encoded_length(size, chunk_size)),
        }
        self.error: BaseException | None = None
        self._used = False

    def payload(self, signer: ChunkSigner, seed_signature: str) -> AsyncIterator[bytes]:
        """Return the framed body; a second call is refused because the source is consumed.

        Args:
            signer: signs each chunk, chained to the previous chunk's signature.
            seed_signature: the request's own signature, which the first chunk chains to.

        Returns:
            The frames, ending with the signed empty frame. Iterating them raises
            ``ValueError`` when ``source`` does not yield exactly ``size`` bytes.

        Raises:
            RuntimeError: the body was already handed out once.
        """
        if self._used:
            raise RuntimeError("a streamed body can be sent only once")
        self._used = True
        return self._frames(signer, seed_signature)

    async def _frames(self, signer: ChunkSigner, signature: str) -> AsyncIterator[bytes]:
        sent = 0
        try:
            async for chunk in _exact_chunks(self.source, self.chunk_size):
                sent += len(chunk)
                if sent > self.size:
                    break
                signature = signer(chunk, signature)
                yield chunk_frame(chunk, signature)
            if sent != self.size:
                got = f"more than {self.size:,}" if sent > self.size else f"{sent:,}"
                raise ValueError(f"the body yielded {got} bytes but size={self.size:,}")
            yield chunk_frame(b"", signer(b"", signature))
        except BaseException as exc:
            # aiohttp reports a failing body as a broken connection; keep the cause to re-raise.
            self.error = exc
            raise


async def _exact_chunks(source: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    """Regroup an iterable of arbitrary pieces into ``size``-byte chunks (the last may be short)."""
    pending = bytearray()
    async for piece in source:
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def with_body_headers(
    headers: Mapping[str, str], body_headers: Mapping[str, str]
) -> dict[str, str]:
    """A request's headers with its body's added (the body's win), encodings chained.

    An aws-chunked body sends ``Content-Encoding: aws-chunked``; an encoding of the object
    itself (``gzip``, given in ``headers``) must follow it, ``aws-chunked,gzip``, as S3
    specifies: replaced, the stored object would lose its encoding.

    Args:
        headers: the request's own headers, any case.
        body_headers: the headers the body sets.

    Returns:
        A new dict.
    """
    merged = dict(headers)
    encoding = body_headers.get("Content-Encoding")
    if encoding is not None:
        for name in [name for name in merged if name.lower() == "content-encoding"]:
            own = [token.strip() for token in merged.pop(name).split(",")]
            kept = [token for token in own if token and token.lower() != encoding.lower()]
            encoding = ",".join([encoding, *kept])
    merged.update(body_headers)
    if encoding is not None:
        merged["Content-Encoding"] = encoding
    return merged
