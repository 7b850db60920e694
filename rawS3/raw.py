"""The raw API's values: a request of your own, signed exactly as asked, and its answer.

``prepare_request`` turns a method, a bucket, a key and options into a ``PreparedRequest``: the
wire URL (already encoded), the headers as signed plus any unsigned extras, and the body. Each
option changes one thing a protocol test needs to control:

- ``payload`` picks what ``x-amz-content-sha256`` says: ``"signed"`` (the body's SHA-256, the
  default for bytes), ``"unsigned"`` (``UNSIGNED-PAYLOAD``) or ``"chunked"``
  (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``, the default for an async iterable: the body is sent
  as aws-chunked frames, each signed and chained to the request's seed signature);
- ``content_sha256`` sends and signs any ``x-amz-content-sha256`` value, a wrong one included;
- ``unsigned_headers`` are added after signing: sent, not signed;
- ``anonymous`` sends no authentication at all; ``presign`` puts it in the query instead;
- ``now`` and ``credentials`` sign one request with another time or other keys.

``RawResponse`` and ``RawStream`` are the answers ``S3Client.request`` and ``S3Client.stream``
give; sending is ``rawS3.rawio``'s part. Nothing here does I/O or reads a clock: the time and the
credentials are arguments, so a prepared request is reproducible to the byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal, TypedDict

from rawS3 import sigv4
from rawS3.bodies import DEFAULT_CHUNK_SIZE, SignedChunkedBody
from rawS3.config import Settings
from rawS3.encryption import CUSTOMER_KEY_HEADERS
from rawS3.errors import CredentialsError
from rawS3.sigv4 import Credentials
from rawS3.urls import QueryParams, build_url, host_header
from rawS3.validation import check_buffer, check_header, check_positive_int

__all__ = [
    "ChunkedBody",
    "Expect",
    "Payload",
    "PrepareOptions",
    "PreparedRequest",
    "RawResponse",
    "RawStream",
    "prepare_request",
]

Payload = Literal["signed", "unsigned", "chunked"]
Expect = int | Collection[int] | None
"""The statuses that count as success: one, several, or ``None`` (never raise)."""
BodyLike = bytes | bytearray | memoryview | AsyncIterable[bytes]
_MODES: dict[str, Payload] = {"signed": "signed", "unsigned": "unsigned", "chunked": "chunked"}
_METHOD = re.compile(r"[A-Z]+")
# Shown as *** by repr: a signature can be replayed for minutes, a session token for hours.
_SECRET_PARAMETERS = re.compile(r"(X-Amz-(?:Signature|Security-Token)=)[^&]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChunkedBody:
    """An aws-chunked body: its source framed and signed, chunk by chunk, as it is read.

    Each chunk's signature chains to the previous one, the first to the request's own (seed)
    signature. Bytes can be framed again for a second send; an async iterable only once.

    Attributes:
        source: the decoded body: bytes, or an async iterable of pieces of any size.
        size: the exact number of bytes in ``source`` (``x-amz-decoded-content-length``).
        chunk_size: data bytes per frame (the last frame may hold fewer).
        seed_signature: the signature of the request's headers.
        credentials: the keys the request was signed with.
        region: the region the request was signed for.
        now: the time the request was signed at.
    """

    source: bytes | AsyncIterable[bytes] = field(repr=False)
    size: int
    chunk_size: int
    seed_signature: str = field(repr=False)
    credentials: Credentials
    region: str
    now: datetime

    @property
    def replayable(self) -> bool:
        """Whether the body can be framed again: its source is bytes, not a one-shot stream."""
        return isinstance(self.source, bytes)

    def sign(self, chunk: bytes, previous_signature: str) -> str:
        """Sign one chunk, chained to the signature before it.

        Args:
            chunk: the chunk's data (empty for the final frame).
            previous_signature: the seed signature for the first chunk, else the previous one's.

        Returns:
            64 lower-case hex digits.
        """
        return sigv4.sign_chunk(
            chunk,
            previous_signature,
            credentials=self.credentials,
            region=self.region,
            now=self.now,
        )

    def framing(self) -> SignedChunkedBody:
        """Return a fresh framing of the source, for one send.

        Returns:
            A ``SignedChunkedBody``: ``payload(self.sign, self.seed_signature)`` gives the
            frames, and its ``error`` keeps what failed while reading the source.
        """
        return SignedChunkedBody(_pieces(self.source), size=self.size, chunk_size=self.chunk_size)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.framing().payload(self.sign, self.seed_signature)


async def _pieces(source: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(source, bytes):
        yield source
        return
    async for piece in source:
        yield piece


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready to send: exactly this goes on the wire.

    Made by ``S3Client.prepare`` (or by hand); ``S3Client.request`` sends it unchanged.

    Attributes:
        method: the HTTP method.
        url: the wire URL, already percent-encoded: send it as ``yarl.URL(url, encoded=True)``.
            A presigned request carries its signature here.
        headers: every header to send, Host included: those signed (with ``Authorization``),
            then the unsigned ones. Read-only.
        body: ``None``, the bytes, or a ``ChunkedBody`` that frames its source as it is read.
        bucket: the bucket addressed, if any (errors name it).
        key: the object key addressed, if any (errors name it).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | ChunkedBody | None = None
    bucket: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def __repr__(self) -> str:
        headers = {name: _masked(name, value) for name, value in self.headers.items()}
        body = f"<{len(self.body)} bytes>" if isinstance(self.body, bytes) else self.body
        return (
            f"PreparedRequest(method={self.method!r}, url={_masked('url', self.url)!r}, "
            f"headers={headers!r}, body={body!r})"
        )


def _masked(name: str, value: str) -> str:
    if name.lower() == "authorization":
        head, mark, _ = value.partition("Signature=")
        return f"{head}{mark}***"
    if name.lower() == "x-amz-security-token" or name.lower() in CUSTOMER_KEY_HEADERS:
        return "***"
    return _SECRET_PARAMETERS.sub(r"\1***", value) if name == "url" else value


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An answer as it came: nothing parsed, nothing raised.

    Attributes:
        status: the HTTP status.
        headers: the response headers, case-insensitive (``headers.getall(name)`` gives a
            repeated one in full).
        body: the whole body.
        request: the request this answers (the last attempt's, when retried).
    """

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    request: PreparedRequest = field(repr=False)


class RawStream:
    """An answer whose body is read in pieces, inside ``async with client.stream(...)``.

    Args:
        status: the HTTP status.
        headers: the response headers, case-insensitive.
        request: the request this answers (the last attempt's, when retried).
        chunks: reads the body: called with a piece size, yields pieces of at most that size.

    Attributes:
        status: the HTTP status.
        headers: the response headers.
        request: the request this answers.
    """

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        request: PreparedRequest,
        chunks: Callable[[int], AsyncIterator[bytes]],
    ) -> None:
        self.status = status
        self.headers = headers
        self.request = request
        self._chunks = chunks

    def __repr__(self) -> str:
        return f"RawStream(status={self.status}, headers={self.headers!r})"

    async def iter_chunks(self, size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Yield the rest of the body in pieces of at most ``size`` bytes.

        Args:
            size: the most bytes per piece.

        Yields:
            The body's bytes, in order.

        Raises:
            ValueError: ``size`` is less than 1.
            TransportError: the connection failed before the body ended.
        """
        check_positive_int("size", size)
        async for chunk in self._chunks(size):
            yield chunk

    async def read(self) -> bytes:
        """Return the rest of the body.

        Returns:
            The bytes not yet read.

        Raises:
            TransportError: the connection failed before the body ended.
        """
        return b"".join([chunk async for chunk in self.iter_chunks()])


class PrepareOptions(TypedDict, total=False):
    """The options of ``prepare_request`` that ``S3Client.prepare``, ``request`` and ``stream``
    pass on (``now`` defaults to the client's clock there); ``prepare_request`` documents each."""

    query: QueryParams | None
    headers: Mapping[str, str] | None
    body: BodyLike | None
    size: int | None
    payload: Payload | None
    chunk_size: int
    content_sha256: str | None
    unsigned_headers: Mapping[str, str] | None
    anonymous: bool
    presign: int | None
    now: datetime
    credentials: Credentials | None


def prepare_request(
    settings: Settings,
    method: str,
    bucket: str | None = None,
    key: str | None = None,
    *,
    now: datetime,
    query: QueryParams | None = None,
    headers: Mapping[str, str] | None = None,
    body: BodyLike | None = None,
    size: int | None = None,
    payload: Payload | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    content_sha256: str | None = None,
    unsigned_headers: Mapping[str, str] | None = None,
    anonymous: bool = False,
    presign: int | None = None,
    credentials: Credentials | None = None,
) -> PreparedRequest:
    """Build and sign a request of your own; nothing is sent.

    Args:
        settings: the client's endpoint, addressing, region and credentials.
        method: the HTTP method, upper-case.
        bucket: the bucket, or ``None`` for a service-level request. Not checked against S3's
            naming rules, so a server's answer to a bad name can be tested.
        key: the object key, or ``None`` for a bucket-level request.
        now: the signing time (aware, or naive UTC).
        query: query parameters, a mapping or ``(name, value)`` pairs; ``None`` values are
            sent as bare names (``?versioning``).
        headers: headers to send and sign (Host is added; ``x-amz-date``,
            ``x-amz-content-sha256`` and ``Authorization`` come from signing).
        body: bytes-like, or an async iterable of bytes with its exact ``size``.
        size: the exact size of an async iterable ``body``; for bytes it must match.
        payload: ``"signed"`` (the body's SHA-256; the default for bytes and no body),
            ``"unsigned"`` (``UNSIGNED-PAYLOAD``) or ``"chunked"`` (signed aws-chunked
            frames; the default, and the only mode, for an async iterable).
        chunk_size: data bytes per aws-chunked frame (S3 wants at least 8 KiB but the last).
        content_sha256: an ``x-amz-content-sha256`` value to send and sign instead of the
            one ``payload`` implies, e.g. the hash of other bytes.
        unsigned_headers: headers added after signing: sent, not signed. One that has the
            name of a signed header replaces its value on the wire (a tampered header).
        anonymous: send no authentication at all.
        presign: authenticate in the query instead (a presigned URL valid this many seconds,
            1 to 604800); ``headers`` are then sent unsigned, the payload is not signed.
        credentials: sign with these keys instead of the client's.

    Returns:
        The method, wire URL, headers and body to send.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: a bad value, or options that cannot go together (``anonymous`` with
            ``presign`` or ``credentials``; ``payload`` with ``anonymous`` or ``presign``; an
            async iterable body without ``size``, or with a mode other than ``"chunked"``).
    """
    mode = _mode(method, body, payload, anonymous=anonymous, presign=presign)
    if anonymous and credentials is not None:
        raise ValueError("anonymous=True sends no signature; credentials= has nothing to sign")
    _check_target(bucket, key)
    url = build_url(settings.endpoint, bucket, key, query, addressing=settings.addressing)
    content = _content(body, size, mode, chunk_size)
    wanted = _merged(
        {"Host": host_header(settings.endpoint, bucket, settings.addressing)},
        _mapping("headers", headers),
        content.headers,
    )
    draft = PreparedRequest(method, url, wanted, content.data, bucket, key)
    keys = credentials or settings.credentials
    if anonymous or keys is None:
        if not anonymous:
            raise CredentialsError("prepare", "no credentials to sign with: pass credentials=")
        sent = _with_hash(draft, content_sha256)
    elif presign is not None:
        signing = _Signing(keys, settings.region, now)
        sent = _with_hash(_presigned(draft, signing, presign), content_sha256)
    else:
        signing = _Signing(keys, settings.region, now)
        sent = _signed(draft, content, content_sha256 or _payload_hash(mode, content), signing)
    extra = _mapping("unsigned_headers", unsigned_headers)
    return dataclasses.replace(sent, headers=_merged(sent.headers, extra))


def _mode(
    method: str, body: object, payload: str | None, *, anonymous: bool, presign: int | None
) -> Payload:
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise ValueError(f"method must be an upper-case HTTP method such as 'GET', not {method!r}")
    streamed = isinstance(body, AsyncIterable)
    if anonymous or presign is not None:
        return _unsigned_mode(streamed, payload, anonymous=anonymous, presign=presign)
    if payload is None:
        return "chunked" if streamed else "signed"
    mode = _MODES.get(payload)
    if mode is None:
        raise ValueError(f"payload must be one of {', '.join(_MODES)}, not {payload!r}")
    if streamed and mode != "chunked":
        raise ValueError(
            f"payload={payload!r} needs a bytes body: an async iterable is sent as signed "
            "aws-chunked frames (payload='chunked')"
        )
    return mode


def _unsigned_mode(
    streamed: bool, payload: str | None, *, anonymous: bool, presign: int | None
) -> Payload:
    kind = "an anonymous" if anonymous else "a presigned"
    if anonymous and presign is not None:
        raise ValueError(
            "anonymous=True and presign= exclude each other: a presigned URL is signed"
        )
    if payload is not None:
        raise ValueError(f"payload= does not apply to {kind} request: it signs no payload")
    if streamed:
        raise ValueError(
            f"{kind} request cannot stream an async iterable body: aws-chunked frames are "
            "signed with the Authorization header's signature"
        )
    return "unsigned"


def _check_target(bucket: object, key: object) -> None:
    for name, value in (("bucket", bucket), ("key", key)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class _Content:
    data: bytes | None  # what a request that is not aws-chunked sends
    source: bytes | AsyncIterable[bytes]
    size: int
    headers: Mapping[str, str]
    chunk_size: int = 0  # 0: not aws-chunked


def _content(body: BodyLike | None, size: int | None, mode: Payload, chunk_size: int) -> _Content:
    if body is None and mode != "chunked":
        if size not in (None, 0):
            raise ValueError(f"size={size} but there is no body")
        return _Content(None, b"", 0, {})
    source, size = _source(b"" if body is None else body, size)
    if mode != "chunked":
        assert isinstance(source, bytes)  # _mode gives an async iterable no other mode
        return _Content(source, source, size, {"Content-Length": str(size)})
    check_positive_int("chunk_size", chunk_size)
    framing = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(size),
        "Content-Length": str(sigv4.encoded_length(size, chunk_size)),
    }
    return _Content(None, source, size, framing, chunk_size)


def _source(body: BodyLike, size: int | None) -> tuple[bytes | AsyncIterable[bytes], int]:
    if isinstance(body, AsyncIterable):
        if size is None:
            raise ValueError("an async iterable body needs its exact size (size=...)")
        return body, check_positive_int("size", size, minimum=0)
    # A copy: the prepared request is a value, and the caller's buffer may change.
    data = bytes(check_buffer("body", body))
    if size is not None and size != len(data):
        raise ValueError(f"size={size} but the body holds {len(data)} bytes")
    return data, len(data)


def _payload_hash(mode: Payload, content: _Content) -> str:
    if mode == "unsigned":
        return sigv4.UNSIGNED_PAYLOAD
    if mode == "chunked":
        return sigv4.STREAMING_PAYLOAD
    return hashlib.sha256(content.data or b"").hexdigest()


@dataclass(frozen=True, slots=True)
class _Signing:
    keys: Credentials
    region: str
    now: datetime


def _with_hash(draft: PreparedRequest, content_sha256: str | None) -> PreparedRequest:
    if content_sha256 is None:
        return draft
    headers = _merged(draft.headers, {"x-amz-content-sha256": content_sha256})
    return dataclasses.replace(draft, headers=headers)


def _presigned(draft: PreparedRequest, signing: _Signing, expires: int) -> PreparedRequest:
    url = sigv4.presign(
        draft.method,
        draft.url,
        credentials=signing.keys,
        region=signing.region,
        now=signing.now,
        expires=expires,
    )
    return dataclasses.replace(draft, url=url)


def _signed(
    draft: PreparedRequest, content: _Content, payload_hash: str, signing: _Signing
) -> PreparedRequest:
    headers = sigv4.sign(
        draft.method,
        draft.url,
        draft.headers,
        payload_hash=payload_hash,
        credentials=signing.keys,
        region=signing.region,
        now=signing.now,
    )
    if not content.chunk_size:
        return dataclasses.replace(draft, headers=headers)
    seed = sigv4.signature_from_authorization(headers["Authorization"])
    body = ChunkedBody(
        content.source,
        content.size,
        content.chunk_size,
        seed,
        signing.keys,
        signing.region,
        signing.now,
    )
    return dataclasses.replace(draft, headers=headers, body=body)


def _mapping(name: str, value: Mapping[str, str] | None) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of str to str, not {type(value).__name__}")
    return value


def _merged(*layers: Mapping[str, str]) -> dict[str, str]:
    """Merge header layers; a later one replaces an earlier header of the same name, any case."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            check_header(name, value)
            merged.pop(name.lower(), None)
            merged[name.lower()] = (name, value)
    return dict(merged.values())
