"""Sending raw requests: a ``PreparedRequest`` goes on the wire exactly as prepared.

The engine sends it (``Engine.transmit``): the URL as encoded, the headers as given, no header
aiohttp would add of its own but a ``Content-Length: 0`` to a bodiless request other than GET,
HEAD, OPTIONS or TRACE, and no redirect followed. Attempts go round the engine's one retry loop
(``rawS3.engine.retrying``) and are judged by its one rule (``retry_allowed``); what is raw is
decided here.

The answer is returned as it came, whatever its status, unless ``expect`` names the statuses
that count as success; then any other raises the typed ``S3Error``. There is one attempt unless
``retry`` is asked for: then the client's ``RetryPolicy`` decides, and each attempt is built,
and so signed, afresh by the caller's ``build``. A raw answer never moves the client's clock: a
test that signs with a skewed date must not teach it the server's time.

The client loads this module when a raw request is first sent (``S3Client.request`` and
``S3Client.stream``); nothing here imports the client.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from rawS3.bodies import SignedChunkedBody
from rawS3.encryption import CUSTOMER_KEY_HEADERS
from rawS3.engine import TRANSPORT_FAILURES, Engine, retry_allowed, retrying, transport_error
from rawS3.errors import CredentialsError, RawS3Error, ResponseError
from rawS3.operations.request import Request, read_error
from rawS3.raw import ChunkedBody, Expect, PreparedRequest, RawResponse, RawStream

__all__ = ["ERROR_BODY_LIMIT", "expected_statuses", "fetch", "open_stream"]

log = logging.getLogger("rawS3")
# Read to tell a retryable answer or to raise for ``expect``: S3's error documents are small,
# and a hostile server must not make us buffer an unbounded one.
ERROR_BODY_LIMIT = 64 * 1024
_SUCCESS = frozenset(range(200, 300))
Build = Callable[[], PreparedRequest]


async def fetch(
    engine: Engine, build: Build, *, expect: Expect = None, retry: bool = False
) -> RawResponse:
    """Send a request and read its whole answer.

    Args:
        engine: the client's engine: its session, TLS setting and retry policy.
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
    async with _settled(engine, build, expected_statuses(expect), retry) as (sent, answer):
        body = answer.body if isinstance(answer, RawResponse) else await _read_all(answer)
        return RawResponse(answer.status, answer.headers, body, sent)


@contextlib.asynccontextmanager
async def open_stream(
    engine: Engine, build: Build, *, expect: Expect = None, retry: bool = False
) -> AsyncIterator[RawStream]:
    """Send a request and hand out its answer with the body still to read.

    Args:
        engine: the client's engine: its session, TLS setting and retry policy.
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
    async with _settled(engine, build, expected_statuses(expect), retry) as (sent, answer):
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


class _Tries:
    """One raw send's attempts: what was sent last, and which failure earned another."""

    def __init__(self, engine: Engine, expected: frozenset[int] | None, retry: bool) -> None:
        self.engine = engine
        self.expected = expected
        self.retry = retry
        self.number = 0
        self.sent: PreparedRequest | None = None
        self.answered = False
        self.retryable: RawS3Error | None = None

    def allows(self, error: RawS3Error) -> bool:
        sent = self.sent
        if not self.retry or sent is None:
            return False
        return retry_allowed(
            self.engine.retry,
            error,
            self.number,
            method=sent.method,
            replayable=not isinstance(sent.body, ChunkedBody) or sent.body.replayable,
        )

    def again(self, error: RawS3Error) -> float | None:
        # Once an answer came, only the error _decide judged worth another is retried: a body
        # that cannot be read is raised as it is.
        worth = error is self.retryable if self.answered else self.allows(error)
        return self.engine.retry.backoff(self.number, random.random()) if worth else None


@contextlib.asynccontextmanager
async def _settled(
    engine: Engine, build: Build, expected: frozenset[int] | None, retry: bool
) -> AsyncIterator[tuple[PreparedRequest, Answer]]:
    """Send until an answer is final, and release its connection when the caller is done."""
    tries = _Tries(engine, expected, retry)
    sent, response, answer = await retrying(functools.partial(_attempt, build, tries), tries.again)
    try:
        yield sent, answer
    finally:
        response.release()


async def _attempt(
    build: Build, tries: _Tries
) -> tuple[PreparedRequest, aiohttp.ClientResponse, Answer]:
    tries.number += 1
    # A provider's credentials, refreshed if due, before build() signs (it cannot await);
    # if none can be had, build() says so, unless the request is anonymous and needs none.
    with contextlib.suppress(CredentialsError):
        await tries.engine.keys.current()
    tries.sent = sent = build()
    tries.answered = False
    response = await _send(tries.engine, sent)
    tries.answered = True
    return sent, response, await _decide(sent, response, tries)


async def _decide(sent: PreparedRequest, response: aiohttp.ClientResponse, tries: _Tries) -> Answer:
    """Return the answer if it is final; raise it if unexpected or worth another attempt."""
    expected = tries.expected
    if response.status in (expected or _SUCCESS) or (expected is None and not tries.retry):
        return response
    body = await _read_capped(response)
    answer = RawResponse(response.status, response.headers, body, sent)
    error = read_error(answer.status, answer.headers, body, _described(sent), _secrets(sent))
    if tries.allows(error):
        tries.retryable = error
        raise error
    if expected is not None:
        raise error
    return answer


async def _send(engine: Engine, sent: PreparedRequest) -> aiohttp.ClientResponse:
    framing, data = _payload(sent.body)
    response = await engine.transmit(
        sent.method, sent.url, dict(sent.headers), data, body=framing, bare=True
    )
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
    keys = [value for name, value in headers.items() if name in CUSTOMER_KEY_HEADERS]
    return token, signature or query.get("X-Amz-Signature", ""), *keys


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
