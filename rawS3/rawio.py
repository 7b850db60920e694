"""Sending raw requests: a ``PreparedRequest`` goes on the wire exactly as prepared.

The URL is sent as encoded (``yarl.URL(url, encoded=True)``) and the headers as given: aiohttp
adds no ``User-Agent``, ``Accept``, ``Accept-Encoding`` or ``Content-Type``, only a
``Content-Length: 0`` to a bodiless request other than GET, HEAD, OPTIONS or TRACE. Redirects
are not followed.

The answer is returned as it came, whatever its status, unless ``expect`` names the statuses
that count as success; then any other raises the typed ``S3Error``. There is one attempt unless
``retry`` is asked for: then the client's ``RetryPolicy`` decides, and each attempt is built,
and so signed, afresh by the caller's ``build``. A raw answer never moves the client's clock: a
test that signs with a skewed date must not teach it the server's time.

The client loads this module when a raw request is first sent (``S3Client.request`` and
``S3Client.stream``) and passes in what sending needs (``Transport``): nothing here imports the
client; the engine lends its transport-error mapping, the operations their error reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from yarl import URL

from rawS3.bodies import SignedChunkedBody
from rawS3.engine import TRANSPORT_FAILURES, transport_error
from rawS3.errors import ResponseError, S3Error, TransportError, TransportTimeout
from rawS3.operations.request import Request, read_error
from rawS3.raw import ChunkedBody, Expect, PreparedRequest, RawResponse, RawStream
from rawS3.retry import RetryPolicy

__all__ = ["ERROR_BODY_LIMIT", "Transport", "expected_statuses", "fetch", "open_stream"]

log = logging.getLogger("rawS3")
# Read to tell a retryable answer or to raise for ``expect``: S3's error documents are small,
# and a hostile server must not make us buffer an unbounded one.
ERROR_BODY_LIMIT = 64 * 1024
_AUTO_HEADERS = frozenset({"Accept", "Accept-Encoding", "Content-Type", "User-Agent"})
_SUCCESS = frozenset(range(200, 300))
Build = Callable[[], PreparedRequest]


@dataclass(frozen=True, slots=True)
class Transport:
    """What sending needs from a client, handed in so that this module never imports it.

    Attributes:
        session: returns the client's open aiohttp session; raises ``RuntimeError`` once the
            client is closed (the engine's ``session``).
        ssl: the TLS setting for each request, as aiohttp's ``ssl=`` takes it.
        policy: the retry policy, used only when a request asks for retries.
    """

    session: Callable[[], aiohttp.ClientSession]
    ssl: ssl.SSLContext | bool
    policy: RetryPolicy


async def fetch(
    transport: Transport, build: Build, *, expect: Expect = None, retry: bool = False
) -> RawResponse:
    """Send a request and read its whole answer.

    Args:
        transport: the client's session, TLS setting and retry policy.
        build: returns the request to send; called once per attempt.
        expect: the statuses that count as success; another raises (``None``: never).
        retry: retry what the policy retries (one attempt otherwise).

    Returns:
        The last answer: status, headers, body and the request that got it.

    Raises:
        S3Error: only with ``expect``: the final answer has another status.
        ResponseError: an answer had to be read to decide, and it was too long for one.
        TransportError: no usable answer.
        RuntimeError: the client is closed.
    """
    async with _settled(transport, build, expected_statuses(expect), retry) as (sent, answer):
        body = answer.body if isinstance(answer, RawResponse) else await _read_all(answer)
        return RawResponse(answer.status, answer.headers, body, sent)


@contextlib.asynccontextmanager
async def open_stream(
    transport: Transport, build: Build, *, expect: Expect = None, retry: bool = False
) -> AsyncIterator[RawStream]:
    """Send a request and hand out its answer with the body still to read.

    Args:
        transport: the client's session, TLS setting and retry policy.
        build: returns the request to send; called once per attempt.
        expect: the statuses that count as success; another raises (``None``: never).
        retry: retry what the policy retries (one attempt otherwise).

    Yields:
        The answer, its body read in pieces; the connection is released when the block ends.

    Raises:
        S3Error: only with ``expect``: the final answer has another status.
        ResponseError: an answer had to be read to decide, and it was too long for one.
        TransportError: no usable answer.
        RuntimeError: the client is closed.
    """
    async with _settled(transport, build, expected_statuses(expect), retry) as (sent, answer):
        if isinstance(answer, RawResponse):
            yield RawStream(answer.status, answer.headers, sent, _pieces_of(answer.body))
        else:
            yield RawStream(answer.status, answer.headers, sent, _reader(answer))


def expected_statuses(expect: Expect) -> frozenset[int] | None:
    """Normalize ``expect=``: the statuses that count as success.

    Args:
        expect: one status, a collection of statuses, or ``None``.

    Returns:
        The statuses, or ``None`` for "raise for none".

    Raises:
        TypeError: a status that is not an ``int``.
        ValueError: a status outside 100 to 599, or no status at all.
    """
    if expect is None:
        return None
    statuses = [expect] if isinstance(expect, int) else list(expect)
    for status in statuses:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError(f"expect must hold int statuses, not {type(status).__name__}")
        if not 100 <= status <= 599:
            raise ValueError(f"expect holds {status}, which is not an HTTP status (100 to 599)")
    if not statuses:
        raise ValueError("expect is empty: give the statuses that count as success")
    return frozenset(statuses)


Answer = aiohttp.ClientResponse | RawResponse
"""A final answer: still unread, or read already because deciding on it needed the body."""


@contextlib.asynccontextmanager
async def _settled(
    transport: Transport, build: Build, expected: frozenset[int] | None, retry: bool
) -> AsyncIterator[tuple[PreparedRequest, Answer]]:
    """Send until an answer is final, and release its connection when the caller is done."""
    attempt = 0
    while True:  # _again ends it: it refuses a retry past the policy's attempts
        attempt += 1
        sent = build()
        try:
            response = await _send(transport, sent)
        except TransportError as exc:
            if not _again(transport, sent, exc, retry, attempt):
                raise
        else:
            answer = await _decide(transport, sent, response, expected, retry, attempt)
            if answer is not None:
                try:
                    yield sent, answer
                finally:
                    response.release()
                return
        await asyncio.sleep(transport.policy.backoff(attempt, random.random()))


async def _decide(
    transport: Transport,
    sent: PreparedRequest,
    response: aiohttp.ClientResponse,
    expected: frozenset[int] | None,
    retry: bool,
    attempt: int,
) -> Answer | None:
    """Return the answer if it is final, raise it if unexpected, or ``None`` to try again."""
    if response.status in (expected or _SUCCESS) or (expected is None and not retry):
        return response
    body = await _read_capped(response)
    answer = RawResponse(response.status, response.headers, body, sent)
    error = read_error(answer.status, answer.headers, body, _described(sent), _secrets(sent))
    if _again(transport, sent, error, retry, attempt):
        return None
    if expected is not None:
        raise error
    return answer


def _again(
    transport: Transport,
    sent: PreparedRequest,
    error: S3Error | TransportError,
    retry: bool,
    attempt: int,
) -> bool:
    """Tell whether a failed attempt is worth another, as the client's engine judges it."""
    if not retry or attempt >= transport.policy.attempts:
        return False
    if isinstance(sent.body, ChunkedBody) and not sent.body.replayable:
        return False
    if isinstance(error, S3Error):
        return transport.policy.is_retryable(error)
    if isinstance(error.__cause__, aiohttp.ClientConnectorCertificateError):
        return False  # a certificate refused once is refused again
    return sent.method != "POST" or not isinstance(error, TransportTimeout)


async def _send(transport: Transport, sent: PreparedRequest) -> aiohttp.ClientResponse:
    framing, data = _payload(sent.body)
    try:
        response = await transport.session().request(
            sent.method,
            URL(sent.url, encoded=True),
            headers=dict(sent.headers),
            data=data,
            skip_auto_headers=_AUTO_HEADERS,
            allow_redirects=False,
            ssl=transport.ssl,
        )
    except TRANSPORT_FAILURES as exc:
        if framing is not None and framing.error is not None:
            raise framing.error from exc  # the body's source failed, not the connection
        raise transport_error(exc) from exc
    log.debug(
        "raw %s %s -> %d (request id %s)",
        sent.method,
        urlsplit(sent.url).path,
        response.status,
        response.headers.get("x-amz-request-id"),
    )
    return response


def _payload(
    body: bytes | ChunkedBody | None,
) -> tuple[SignedChunkedBody | None, bytes | AsyncIterator[bytes] | None]:
    if not isinstance(body, ChunkedBody):
        return None, body
    framing = body.framing()
    return framing, framing.payload(body.sign, body.seed_signature)


def _described(sent: PreparedRequest) -> Request:
    """What the error mapping reads of a request: the method, bucket and key it names."""
    return Request(sent.method, sent.bucket, sent.key)


def _secrets(sent: PreparedRequest) -> tuple[str, ...]:
    """The session token and signature the request carried, masked where an answer echoes them."""
    headers = {name.lower(): value for name, value in sent.headers.items()}
    query = dict(parse_qsl(urlsplit(sent.url).query))
    token = headers.get("x-amz-security-token") or query.get("X-Amz-Security-Token") or ""
    signature = headers.get("authorization", "").rpartition("Signature=")[2]
    return token, signature or query.get("X-Amz-Signature", "")


async def _read_all(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await response.read()
    except TRANSPORT_FAILURES as exc:
        raise transport_error(exc) from exc


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    body = bytearray()
    try:
        # read(n) gives what has arrived, not n bytes: read on to the end or past the cap.
        while block := await response.content.read(ERROR_BODY_LIMIT + 1 - len(body)):
            body += block
            if len(body) > ERROR_BODY_LIMIT:
                raise ResponseError(
                    f"a {response.status} answer had to be read to decide on it, and its body "
                    f"is longer than {ERROR_BODY_LIMIT:,} bytes; S3 sends short error answers"
                )
    except TRANSPORT_FAILURES as exc:
        raise transport_error(exc) from exc
    finally:
        response.release()
    return bytes(body)


def _reader(response: aiohttp.ClientResponse) -> Callable[[int], AsyncIterator[bytes]]:
    async def chunks(size: int) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.content.iter_chunked(size):
                yield chunk
        except TRANSPORT_FAILURES as exc:
            raise transport_error(exc) from exc

    return chunks


def _pieces_of(body: bytes) -> Callable[[int], AsyncIterator[bytes]]:
    async def chunks(size: int) -> AsyncIterator[bytes]:
        for offset in range(0, len(body), size):
            yield body[offset : offset + size]

    return chunks
