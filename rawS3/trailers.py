"""aws-chunked bodies that end with a checksum trailer, computed as the body streams by.

Two forms, chosen by the payload hash signed in the seed request:

- ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: frames ``hex(len)\\r\\n data \\r\\n``, then
  ``0\\r\\n``, the trailer line ``x-amz-checksum-<alg>:<base64>\\r\\n`` and ``\\r\\n``. Nothing
  but the headers is signed; the checksum guards the data (TLS guards against tampering).
- ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``: frames signed as in
  ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (each chained to the previous signature), the final
  ``0;chunk-signature=…\\r\\n``, the trailer line, then ``x-amz-trailer-signature:<sig>\\r\\n``
  and ``\\r\\n``. The trailer's string to sign is ``AWS4-HMAC-SHA256-TRAILER``, the timestamp,
  the scope, the final chunk's signature and the hex SHA-256 of the trailer in canonical form
  (``name:value\\n``).

The request declares ``x-amz-trailer`` (the trailer's name) and
``x-amz-decoded-content-length``; its ``Content-Length`` is known in advance because a checksum's
base64 length depends only on its algorithm. Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import AsyncIterable, AsyncIterator

from rawS3 import sigv4
from rawS3.bodies import ChunkSigner, _exact_chunks
from rawS3.checksums import Checksum, check_algorithm, checksum_header, digest_size

__all__ = [
    "SIGNED_TRAILER",
    "TRAILER_ALGORITHM",
    "UNSIGNED_TRAILER",
    "StreamSigner",
    "TrailerChunkedBody",
    "sign_trailer",
    "trailer_encoded_length",
    "trailer_string_to_sign",
]

UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
_SIGNATURE_LENGTH = 64


def trailer_string_to_sign(
    now: datetime.datetime, scope: str, previous_signature: str, trailer: bytes
) -> str:
    """The string to sign for the trailer of a signed aws-chunked body.

    Args:
        now: the signing time of the seed request.
        scope: the seed request's credential scope.
        previous_signature: the signature of the final (empty) chunk.
        trailer: the trailer in canonical form, each line ``name:value\\n``.

    Returns:
        ``AWS4-HMAC-SHA256-TRAILER``, timestamp, scope, previous signature and the hex
        SHA-256 of the trailer, joined by newlines.
    """
    digest = hashlib.sha256(trailer).hexdigest()
    return "\n".join([TRAILER_ALGORITHM, sigv4.amz_date(now), scope, previous_signature, digest])


def sign_trailer(
    trailer: bytes,
    previous_signature: str,
    *,
    credentials: sigv4.Credentials,
    region: str,
    now: datetime.datetime,
    service: str = "s3",
) -> str:
    """The ``x-amz-trailer-signature`` of a signed aws-chunked body.

    Args:
        trailer: the trailer in canonical form, each line ``name:value\\n``.
        previous_signature: the signature of the final (empty) chunk.
        credentials: the key pair used for the seed request.
        region: region name of the seed request.
        now: the signing time of the seed request.
        service: service name of the seed request.

    Returns:
        64 lower-case hex digits.
    """
    scope = sigv4.credential_scope(now, region, service)
    text = trailer_string_to_sign(now, scope, previous_signature, trailer)
    return sigv4.signature(sigv4.signing_key(credentials.secret_key, now, region, service), text)


class StreamSigner:
    """Signs the chunks and the trailer of one aws-chunked request (its date and scope fixed).

    Called as ``signer(chunk, previous)`` it signs a chunk, so it serves every streamed body.

    Args:
        credentials: the key pair of the seed request.
        region: the seed request's region.
        now: the seed request's signing time.
    """

    def __init__(
        self, credentials: sigv4.Credentials, region: str, now: datetime.datetime
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._now = now

    def __repr__(self) -> str:
        return f"StreamSigner(region={self._region!r})"  # never the credentials

    def __call__(self, chunk: bytes, previous: str) -> str:
        return sigv4.sign_chunk(
            chunk, previous, credentials=self._credentials, region=self._region, now=self._now
        )

    def trailer(self, trailer: bytes, previous: str) -> str:
        """Sign the canonical trailer after the final chunk.

        Args:
            trailer: the trailer lines, ``name:value\\n`` each.
            previous: the final chunk's signature.

        Returns:
            The trailer signature.
        """
        return sign_trailer(
            trailer, previous, credentials=self._credentials, region=self._region, now=self._now
        )


def _unsigned_frame_size(size: int) -> int:
    return len(f"{size:x}\r\n\r\n") + size


def _signed_frame_size(size: int) -> int:
    return len(f"{size:x};chunk-signature=\r\n\r\n") + _SIGNATURE_LENGTH + size


def _trailer_line_size(algorithm: str) -> int:
    encoded = 4 * ((digest_size(algorithm) + 2) // 3)
    return len(f"{checksum_header(algorithm)}:\r\n") + encoded


def trailer_encoded_length(size: int, chunk_size: int, algorithm: str, *, signed: bool) -> int:
    """The ``Content-Length`` of an aws-chunked body with a checksum trailer.

    Args:
        size: the payload's size (``x-amz-decoded-content-length``).
        chunk_size: the data bytes of every frame but the last.
        algorithm: the trailer's checksum algorithm.
        signed: whether frames and trailer are signed.

    Returns:
        The number of bytes on the wire.

    Raises:
        ValueError: a negative size or a chunk size below 1.
    """
    if size < 0 or chunk_size <= 0:
        raise ValueError(f"need size >= 0 and chunk_size > 0, got {size}, {chunk_size}")
    full, rest = divmod(size, chunk_size)
    if signed:
        frames = full * _signed_frame_size(chunk_size) + (_signed_frame_size(rest) if rest else 0)
        # The final chunk has no data CRLF: the trailer follows its header line directly.
        final = _signed_frame_size(0) - 2
        signature = len("x-amz-trailer-signature:\r\n") + _SIGNATURE_LENGTH
        return frames + final + _trailer_line_size(algorithm) + signature + 2
    frames = full * _unsigned_frame_size(chunk_size) + (_unsigned_frame_size(rest) if rest else 0)
    return frames + len("0\r\n") + _trailer_line_size(algorithm) + 2


class TrailerChunkedBody:
    """An async iterable of exactly ``size`` bytes, sent once as aws-chunked with a trailer.

    Args:
        source: the body in pieces of any size; read once.
        size: the exact number of bytes ``source`` yields.
        chunk_size: data bytes per frame (the last may hold fewer).
        algorithm: the checksum sent in the trailer.
        signed: sign every frame and the trailer (else only the headers are signed).

    Attributes:
        checksum: after the body was sent, ``(algorithm, base64 value)`` as in the trailer.

    Raises:
        ValueError: no or an unknown algorithm, a negative size or a chunk size below 1.
    """

    replayable = False
    md5 = None

    def __init__(
        self,
        source: AsyncIterable[bytes],
        *,
        size: int,
        chunk_size: int,
        algorithm: str,
        signed: bool,
    ) -> None:
        if check_algorithm(algorithm) is None:
            raise ValueError("a trailer needs a checksum algorithm")
        self.source = source
        self.size = size
        self.chunk_size = chunk_size
        self.algorithm = algorithm
        self.signed = signed
        self.payload_hash = SIGNED_TRAILER if signed else UNSIGNED_TRAILER
        wire_size = trailer_encoded_length(size, chunk_size, algorithm, signed=signed)
        self.headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(size),
            "Content-Length": str(wire_size),
            "x-amz-trailer": checksum_header(algorithm),
            "x-amz-sdk-checksum-algorithm": algorithm.upper(),
        }
        self.checksum: tuple[str, str] | None = None
        self.error: BaseException | None = None
        self._used = False

    def payload(self, signer: ChunkSigner, seed_signature: str) -> AsyncIterator[bytes]:
        """Return the framed body; a second call is refused because the source is consumed.

        Args:
            signer: a ``StreamSigner`` (needed when ``signed``; else unused).
            seed_signature: the request's signature, which the first chunk chains to.

        Returns:
            The frames, then the trailer. Iterating them raises ``ValueError`` when
            ``source`` does not yield exactly ``size`` bytes.

        Raises:
            RuntimeError: the body was already handed out once.
            TypeError: a signed body without a signer that can sign a trailer.
        """
        if self._used:
            raise RuntimeError("a streamed body can be sent only once")
        if self.signed and not isinstance(signer, StreamSigner):
            raise TypeError("a signed trailer needs a StreamSigner")
        self._used = True
        return self._frames(signer, seed_signature)

    async def _frames(self, signer: ChunkSigner, signature: str) -> AsyncIterator[bytes]:
        checksum = Checksum(self.algorithm)
        try:
            async for chunk in _exact_chunks(self.source, self.chunk_size):
                checksum.update(chunk)
                if checksum.size > self.size:
                    break
                if self.signed:
                    signature = signer(chunk, signature)
                    yield sigv4.chunk_frame(chunk, signature)
                else:
                    yield b"%x\r\n%b\r\n" % (len(chunk), chunk)
            if checksum.size != self.size:
                sent = checksum.size
                got = f"more than {self.size:,}" if sent > self.size else f"{sent:,}"
                raise ValueError(f"the body yielded {got} bytes but size={self.size:,}")
            self.checksum = (self.algorithm, checksum.value())
            yield self._ending(signer, signature)
        except BaseException as exc:
            # aiohttp reports a failing body as a broken connection; keep the cause to re-raise.
            self.error = exc
            raise

    def _ending(self, signer: ChunkSigner, signature: str) -> bytes:
        assert self.checksum is not None
        line = f"{checksum_header(self.algorithm)}:{self.checksum[1]}"
        if not self.signed:
            return f"0\r\n{line}\r\n\r\n".encode("ascii")
        assert isinstance(signer, StreamSigner)
        final = signer(b"", signature)
        trailer_signature = signer.trailer(f"{line}\n".encode("ascii"), final)
        return (
            f"0;chunk-signature={final}\r\n{line}\r\n"
            f"x-amz-trailer-signature:{trailer_signature}\r\n\r\n"
        ).encode("ascii")

