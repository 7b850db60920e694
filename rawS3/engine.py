"""The one place rawS3 does I/O: it performs a :class:`~rawS3.operations.request.Request`.

Each attempt is signed afresh with the client's clock (and the offset a server taught it),
sent over aiohttp exactly as signed (``yarl.URL(..., encoded=True)``), and its answer read: a
status the request counts as success goes to the caller's reader; any other becomes the typed
``S3Error`` its code names, with a diagnosis for ``SignatureDoesNotMatch``; an exchange that
breaks becomes a ``TransportError`` raised from the aiohttp error. What the ``RetryPolicy``
allows is retried, and a ``RequestTimeTooSkewed`` answer corrects the clock once.

Raw requests (``rawS3.rawio``) go out through the same ``Engine.transmit``, round the same
``retrying`` loop and under the same ``retry_allowed`` rule, judged by their own rules.

The facade imports this module when its first session opens, so importing rawS3 (or only
presigning) never loads asyncio or aiohttp.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TypeVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from rawS3 import sigv4
from rawS3.bodies import BufferBody, with_body_headers
from rawS3.canonical import canonical_request
from rawS3.config import Settings, SigningClock, Timeouts
from rawS3.diagnosis import (
    diagnose_signature_mismatch,
    redact_headers,
    signing_texts_from_details,
)
from rawS3.encryption import customer_keys
from rawS3.errors import (
    RawS3Error,
    RequestTimeTooSkewed,
    ResponseError,
    S3Error,
    SignatureDoesNotMatch,
    TransportError,
    TransportTimeout,
)
from rawS3.operations.request import Body, Reply, Request, read_error
from rawS3.part_signing import sign_parts
from rawS3.proxies import proxy_for, proxy_options
from rawS3.refresh import CredentialsCache
from rawS3.replies import (
    ERROR_BODY_LIMIT,
    keep_open,
    log_exchange,
    read_capped,
    read_checked_reply,
    read_reply,
)
from rawS3.retry import RetryPolicy
from rawS3.tls import DeferredCA
from rawS3.trailers import StreamSigner
from rawS3.urls import url_parts

__all__ = [
    "TRANSPORT_FAILURES",
    "Engine",
    "retry_allowed",
    "retrying",
    "transport_error",
]

log = logging.getLogger("rawS3")
T = TypeVar("T")
FailureHook = Callable[[RawS3Error], None] | None
_NO_AUTO_HEADERS = frozenset({"Content-Type", "Accept-Encoding"})
_BARE = _NO_AUTO_HEADERS | {"Accept", "User-Agent"}
TRANSPORT_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError)
"""What a failed exchange raises through aiohttp."""


class Engine:
    """Sends requests for one client: its session, signing, retries and error answers.

    Args:
        settings: endpoint, credentials, region, addressing, payload signing.
        clock: the signing clock, shared with the facade's presigning.
        session: a borrowed session, used as is and never closed; else one is made.
        retry: what to retry and how long to wait.
        timeouts: the limits of the session the engine makes.
        ssl: what aiohttp's ``ssl=`` takes.
        max_connections: the size of the pool the engine makes.
        keys: the credentials to sign with, refreshed before they expire; default: the
            settings' fixed credentials.

    Raises:
        ValueError: no ``keys`` and no fixed credentials in ``settings``.
    """

    def __init__(
        self,
        settings: Settings,
        clock: SigningClock,
        *,
        session: aiohttp.ClientSession | None,
        retry: RetryPolicy,
        timeouts: Timeouts,
        ssl: object,
        max_connections: int,
        keys: CredentialsCache | None = None,
    ) -> None:
        if keys is None:
            if settings.credentials is None:
                raise ValueError("an Engine needs keys= when the settings hold no credentials")
            keys = CredentialsCache(settings.credentials, clock.read)
        self.keys = keys
        self.settings = settings
        self.clock = clock
        self.retry = retry
        self.timeouts = timeouts
        self._ssl = ssl
        self._max_connections = max_connections
        self._borrowed = session
        self._session = session
        # HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read once; a borrowed session keeps its own
        # proxy settings (its trust_env), so only the engine's own session uses these.
        self._proxy_env = {k: v for k, v in os.environ.items() if k.lower().endswith("_proxy")}
        # The loop the engine's own session was made on: aiohttp binds a session to it.
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        """Return the session to send with, making one for the running loop if needed.

        Returns:
            The borrowed session, or the engine's own.

        Raises:
            RuntimeError: the engine is closed, or its session belongs to another running
                event loop.
        """
        if self.closed:
            raise RuntimeError(
                "this S3Client is closed; open it again with `async with client:` "
                "or make a new one"
            )
        loop = asyncio.get_running_loop()
        if self._session is not None and self._session is not self._borrowed:
            self._forget_dead_session(loop)
        if self._session is None or self._session.closed:
            self._session_loop = loop
            self._session = self._new_session()
        return self._session

    def _new_session(self) -> aiohttp.ClientSession:
        t = self.timeouts
        tls = True if isinstance(self._ssl, DeferredCA) else self._ssl
        connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=tls)  # type: ignore[arg-type]
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            # Set once here, so a request need not pass (and aiohttp rebuild) the set.
            skip_auto_headers=_NO_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(
                total=t.total,
                sock_connect=t.connect,
                sock_read=t.read,
            ),
        )
        # aiohttp would resend an idempotent request once on a dropped connection, with
        # the old signature and unseen by the RetryPolicy; let the policy alone decide.
        session._retry_connection = False
        return session

    def _forget_dead_session(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drop a session made on an event loop that has ended (e.g. an earlier asyncio.run).

        Its connections died with their loop and cannot be closed from this one; a session
        of a loop still running belongs to that loop, and using it here is a mistake.
        """
        owner = self._session_loop
        if owner is None or owner is loop:
            return
        if not owner.is_closed():
            raise RuntimeError(
                "this S3Client is in use on another running event loop; make one client "
                "per event loop"
            )
        log.warning(
            "S3Client was not closed before its event loop ended; its connections are lost. "
            "Use `async with S3Client(...)` or `await client.close()` in each event loop."
        )
        # Closing needs its loop; the garbage collector closes the sockets instead.
        self._session = None

    def reopen(self) -> None:
        """Allow requests again after :meth:`close` (``async with`` on the facade)."""
        self.closed = False

    async def close(self) -> None:
        """Close the engine's own session (a borrowed one stays open); later requests fail."""
        self.closed = True
        session, self._session = self._session, self._borrowed
        if session is not None and session is not self._borrowed:
            await session.close()

    @property
    def own_session(self) -> aiohttp.ClientSession | None:
        """The session the engine made and has not closed, if any."""
        return None if self._session is self._borrowed else self._session

    # -- requests ----------------------------------------------------------------------------

    async def send(self, request: Request, on_failure: FailureHook = None) -> Reply:
        """Perform ``request`` and read its answer whole (capped: S3 answers are short).

        Args:
            request: what to send.
            on_failure: hears of every failed attempt, the last included.

        Returns:
            The answer.

        Raises:
            S3Error: the server refused (also inside a 200, where the request allows it).
            TransportError: no usable answer. ResponseError: an answer S3 would not send.
        """
        if request.embedded_errors:
            # Copies and completions may answer slowly, with whitespace to keep the
            # connection alive: aiohttp's sock_read times each block of such an answer.
            checked = functools.partial(read_checked_reply, request)
            return await self.perform(request, checked, on_failure)
        return await self.perform(request, read_reply, on_failure)

    async def open(self, request: Request) -> aiohttp.ClientResponse:
        """Perform ``request`` and return the answer with its body unread; release it after.

        Args:
            request: what to send.

        Returns:
            The response; its length is known (Content-Length or chunked framing).

        Raises:
            S3Error, TransportError; ResponseError: a body only a closed connection ends,
                which a cut-off body could not be told from.
        """
        response = await self.perform(request, keep_open)
        chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
        if "Content-Length" not in response.headers and not chunked:
            response.release()
            raise ResponseError(
                "the object's body has neither Content-Length nor chunked framing, so a body "
                "cut off by a closed connection could not be told from a whole one"
            )
        return response

    async def perform(
        self,
        request: Request,
        consume: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        on_failure: FailureHook = None,
    ) -> T:
        """Send ``request`` until it succeeds or the retry policy gives up.

        Args:
            request: what to send.
            consume: reads a successful response.
            on_failure: hears of every failed attempt, the last included, so a caller can
                tell whether an attempt may have taken effect unseen.

        Returns:
            What ``consume`` returned.

        Raises:
            S3Error, TransportError, ResponseError: the last attempt's failure.
        """
        # Most requests need one attempt: the retry loop is set up only once one has failed.
        try:
            return await self._attempt(request, consume)
        except (S3Error, TransportError, ResponseError) as exc:
            tries = _Tries(self, request, on_failure)
            if (delay := tries.again(exc)) is None:
                raise
        if delay:
            await asyncio.sleep(delay)
        return await retrying(functools.partial(self._attempt, request, consume), tries.again)

    async def transmit(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: object,
        *,
        body: object = None,
        bare: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send one request exactly as given and return the answer, its body unread.

        The URL goes on the wire as encoded, the headers as given (aiohttp adds no
        ``Content-Type`` or ``Accept-Encoding``, and with ``bare`` no ``Accept`` or
        ``User-Agent`` either), and a redirect is not followed.

        Args:
            method: the HTTP method.
            url: the wire URL, already encoded.
            headers: the headers, signed already.
            data: the body, as aiohttp's ``data=`` takes it.
            body: what produces ``data``; its ``error``, if set, is what made the send fail.
            bare: skip every header aiohttp would add of its own.

        Returns:
            The response; the caller releases it.

        Raises:
            TransportError: no answer (or the body's own failure, raised from it).
            RuntimeError: the engine is closed.
            OSError: a CA file the environment names, read at the first TLS connection of a
                client of an http endpoint, cannot be read (``ssl.SSLError``: no certificate).
        """
        session = self.session()
        borrowed = session is self._borrowed
        direct = borrowed or not self._proxy_env  # no URL to parse then
        proxy = None if direct else proxy_for(url, self._proxy_env)
        via, login = proxy_options(proxy, url)
        try:
            return await session.request(
                method,
                URL(url, encoded=True),
                headers={**headers, **login} if login else headers,
                data=data,
                skip_auto_headers=_BARE if bare else _NO_AUTO_HEADERS if borrowed else None,
                allow_redirects=False,
                ssl=self._tls_for(url, proxy),
                **via,
            )
        except TRANSPORT_FAILURES as exc:
            cause = getattr(body, "error", None)
            if cause is not None:
                raise cause from exc  # the body's source failed, not the connection
            raise transport_error(exc) from exc

    def _tls_for(self, url: str, proxy: str | None) -> object:
        if not isinstance(self._ssl, DeferredCA):
            return self._ssl
        tls = url.startswith("https:") or (proxy or "").startswith("https:")
        return self._ssl.context() if tls else True

    async def _attempt(
        self, request: Request, consume: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        s = self.settings
        # Built once as pieces: the signer takes the path and query as they are, unsplit.
        parts = url_parts(s.endpoint, request.bucket, request.key, request.query,
                          addressing=s.addressing)
        url = parts.url
        # Each attempt takes the current credentials: a retry after a refresh is signed anew.
        credentials = await self.keys.current()
        now = self.clock.signing_time()
        body = request.body
        # Host is signed and sent as is (a Host in the request's headers wins).
        signed = sign_parts(
            request.method, parts.host, parts.path, parts.query,
            with_body_headers(request.headers, body.headers if body else {}),
            payload_hash=body.payload_hash if body else sigv4.EMPTY_SHA256,
            credentials=credentials,
            region=s.region,
            now=now,
        )
        data = self._data(body, signed, now, credentials)
        started = time.perf_counter()
        response = await self.transmit(request.method, url, signed, data, body=body)
        log_exchange(request, url, signed, response, started)
        try:
            if response.status not in request.ok:
                async with response:
                    raise await self._error(request, response, url, signed, now, credentials)
            return await consume(response)
        except TRANSPORT_FAILURES as exc:
            # An answer cut off or stalled mid-body, an error answer's included.
            response.release()
            raise transport_error(exc) from exc

    def _data(
        self,
        body: Body | None,
        signed: Mapping[str, str],
        now: datetime,
        credentials: sigv4.Credentials,
    ) -> object:
        if body is None:
            return None
        if isinstance(body, BufferBody):  # its hash is signed already: no frames to sign
            return body.payload(_no_frames, "")
        # A framed body chains its frames to the request's signature; a StreamSigner also
        # signs a checksum trailer (TrailerChunkedBody).
        seed = sigv4.signature_from_authorization(signed["Authorization"])
        return body.payload(StreamSigner(credentials, self.settings.region, now), seed)

    async def _error(
        self,
        request: Request,
        response: aiohttp.ClientResponse,
        url: str,
        signed: Mapping[str, str],
        now: datetime,
        credentials: sigv4.Credentials,
    ) -> S3Error:
        raw = await read_capped(response, ERROR_BODY_LIMIT)
        secrets = (
            credentials.session_token or "",
            sigv4.signature_from_authorization(signed["Authorization"]),
            *customer_keys(request.headers),
        )
        error = read_error(response.status, response.headers, raw, request, secrets)
        if isinstance(error, SignatureDoesNotMatch):
            error.diagnosis = self._diagnose(request, url, signed, now, error)
        return error

    def _diagnose(
        self, request: Request, url: str, signed: Mapping[str, str], now: datetime, error: S3Error
    ) -> str:
        # sign() covered Host although aiohttp, not the dict, supplies it on the wire.
        headers = sigv4.with_host(url, signed)
        ours = canonical_request(request.method, url, headers, signed["x-amz-content-sha256"])
        scope = sigv4.credential_scope(now, self.settings.region, "s3")
        server_request, server_string = signing_texts_from_details(error.details)
        return diagnose_signature_mismatch(
            server_request, server_string, ours, sigv4.string_to_sign(now, scope, ours)
        )


def _no_frames(chunk: bytes, previous: str) -> str:
    raise AssertionError("a BufferBody signs no frames")


class _Tries:
    """The engine's judgement of each failed attempt: skew corrected once, then the policy."""

    def __init__(self, engine: Engine, request: Request, on_failure: FailureHook) -> None:
        self.engine = engine
        self.request = request
        self.on_failure = on_failure
        self.number = 0
        self.skew_corrected = False

    def again(self, exc: RawS3Error) -> float | None:
        if self.on_failure is not None:
            self.on_failure(exc)
        engine, request = self.engine, self.request
        if isinstance(exc, RequestTimeTooSkewed):
            details = exc.details.get("ServerTime") or exc.details.get("Date")
            if self.skew_corrected or not engine.clock.follow(details):
                return None
            log.info("server clock differs by %.1fs; signing with its time", engine.clock.offset)
            self.skew_corrected = True  # a correction is not a retry: it costs no attempt
            # A streamed body was (partly) read by this attempt and cannot be sent again; the
            # clock is corrected for the next call all the same.
            return 0.0 if request.body is None or request.body.replayable else None
        if isinstance(exc, ResponseError) or engine.closed or not self.request.retry:
            return None
        self.number += 1
        allowed = retry_allowed(
            engine.retry,
            exc,
            self.number,
            method=request.method,
            replayable=request.body is None or request.body.replayable,
            retry_timeouts=request.retry_timeouts,
        )
        if not allowed:
            return None
        delay = engine.retry.backoff(self.number, random.random())
        log.debug("retry %d of %s in %.3fs: %s", self.number, request.method, delay, exc)
        return delay


async def retrying(
    attempt: Callable[[], Awaitable[T]], again: Callable[[RawS3Error], float | None]
) -> T:
    """Run ``attempt`` until it succeeds or ``again`` gives up: the one retry loop.

    Args:
        attempt: builds, signs and sends one attempt, and reads its answer.
        again: judges a failed attempt: the seconds to wait before the next, or ``None``
            to raise the failure.

    Returns:
        What the successful attempt returned.

    Raises:
        S3Error, TransportError, ResponseError: the failure ``again`` gave up on.
    """
    while True:
        try:
            return await attempt()
        except (S3Error, TransportError, ResponseError) as exc:
            delay = again(exc)
            if delay is None:
                raise
        if delay:
            await asyncio.sleep(delay)


def retry_allowed(
    policy: RetryPolicy,
    exc: RawS3Error,
    number: int,
    *,
    method: str,
    replayable: bool,
    retry_timeouts: bool = False,
) -> bool:
    """Tell whether a failed attempt may be retried once more, as every sender judges it.

    Args:
        policy: how many attempts, and which errors are worth another.
        exc: the failure.
        number: which retry this would be, from 1.
        method: the request's method: a POST that timed out may have taken effect.
        replayable: whether the body can be sent again.
        retry_timeouts: retry a POST that timed out all the same.

    Returns:
        Whether to try again.
    """
    if number >= policy.attempts or not replayable:
        return False
    if isinstance(exc, S3Error):
        return policy.is_retryable(exc)
    if not isinstance(exc, TransportError):
        return False
    if isinstance(exc.__cause__, aiohttp.ClientConnectorCertificateError):
        return False  # a certificate refused once is refused again
    posted = method == "POST" and not retry_timeouts
    return not (posted and isinstance(exc, TransportTimeout))


def transport_error(exc: BaseException) -> TransportError:
    """Return the ``TransportError`` for an aiohttp failure, to raise ``from`` it.

    Args:
        exc: what aiohttp (or asyncio's timeout) raised.

    Returns:
        ``TransportTimeout`` for a time limit, else ``TransportError``. The aiohttp error's
        request headers are redacted in place, since it is chained and shown in tracebacks.
    """
    info = getattr(exc, "request_info", None)
    if isinstance(exc, aiohttp.ClientResponseError) and isinstance(info, aiohttp.RequestInfo):
        hidden = CIMultiDictProxy(CIMultiDict(redact_headers(info.headers)))
        exc.request_info = info._replace(headers=hidden)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return TransportTimeout(f"timed out: {exc or type(exc).__name__}")
    return TransportError(f"{type(exc).__name__}: {exc}")
