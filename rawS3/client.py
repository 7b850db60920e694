"""``S3Client``: the I/O edge. It builds, signs and sends requests and turns answers into values.

Each public method validates its arguments first (nothing is sent for bad input), describes the
request as a ``_Call``, and hands it to ``_perform``, which signs every attempt afresh, sends
it with aiohttp exactly as signed, maps error answers to ``S3Error`` subclasses, and retries
what the ``RetryPolicy`` allows.

asyncio and aiohttp (with yarl and ssl) are imported where first needed, not with this module:
they are most of rawS3's import time and memory, and presigning never needs them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from rawS3 import sigv4, xml
from rawS3.bodies import DEFAULT_CHUNK_SIZE, BufferBody, SignedChunkedBody
from rawS3.checksums import check_algorithm, checksum_element, checksum_header
from rawS3.cleanup import abort_or_hand_over, run_to_end
from rawS3.config import Timeouts, resolve_settings, tls_context
from rawS3.errors import (
    IntegrityError,
    NoSuchKey,
    NoSuchUpload,
    RawS3Error,
    RequestTimeTooSkewed,
    ResponseError,
    S3Error,
    SignatureDoesNotMatch,
    TransportError,
    TransportTimeout,
    code_for_status,
    diagnose_signature_mismatch,
    make_s3_error,
    redact_details,
    signing_texts_from_details,
)
from rawS3.parts import multipart_etag
from rawS3.results import ObjectHead, PutResult, UploadedPart, head_from_headers, put_from_headers
from rawS3.retry import RetryPolicy
from rawS3.urls import build_url, encode_key, host_header
from rawS3.validation import (
    check_bucket,
    check_buffer,
    check_byte_range,
    check_expires,
    check_header,
    check_key,
    check_metadata,
    check_positive_int,
    check_upload_id,
)

if TYPE_CHECKING:
    import asyncio
    import ssl
    from collections.abc import AsyncIterable

    import aiohttp

    from rawS3.transfer import MultipartUploader

__all__ = ["ObjectStream", "S3Client", "redact_headers"]

log = logging.getLogger("rawS3")
T = TypeVar("T")
Body = BufferBody | SignedChunkedBody
# Error bodies are small; a hostile server must not make us buffer an unbounded one.
ERROR_BODY_LIMIT = 64 * 1024
XML_BODY_LIMIT = 64 * 1024 * 1024
DELETE_BATCH = 1000
STRAY_WINDOW = timedelta(seconds=60)
# S3 refuses requests 15 minutes off; a clock this far off is not a clock to follow.
MAX_CLOCK_CORRECTION = 24 * 3600.0
_NO_AUTO_HEADERS = frozenset({"Content-Type", "Accept-Encoding"})


@dataclass(frozen=True, slots=True)
class _Call:
    """One S3 request before signing: what is sent, and which statuses count as success."""

    method: str
    bucket: str | None = None
    key: str | None = None
    query: tuple[tuple[str, str | None], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Body | None = None
    ok: frozenset[int] = frozenset({200})
    retry: bool = True
    retry_timeouts: bool = False
    """Retry a POST that timed out: only where a request that took effect is cleaned up."""
    embedded_errors: bool = False
    """S3 may answer 200 and report failure in the body (Complete, Copy): look for it."""


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class ObjectStream:
    """A GetObject response being read: its ``head`` and a way to read the body in pieces.

    Args:
        response: the GetObject response, its body not yet read; its owner releases it.

    Attributes:
        head: the object's metadata, from the response headers.
    """

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.head: ObjectHead = head_from_headers(response.headers)

    async def iter_chunks(self, size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Yield the body in pieces of at most ``size`` bytes.

        Args:
            size: the most bytes per piece.

        Yields:
            The body's bytes, in order.

        Raises:
            ValueError: ``size`` is less than 1.
            TransportError: the connection failed before the body ended.
        """
        check_positive_int("size", size)
        try:
            async for chunk in self._response.content.iter_chunked(size):
                yield chunk
        except _transport_failures() as exc:
            raise _transport_error(exc) from exc

    async def read(self) -> bytes:
        """Return the rest of the body.

        Returns:
            The bytes not yet read.

        Raises:
            TransportError: the connection failed before the body ended.
        """
        return b"".join([chunk async for chunk in self.iter_chunks()])


class S3Client:
    """An S3 client over aiohttp with its own SigV4 signing.

    Args:
        endpoint_url: e.g. ``http://127.0.0.1:9000``; else ``AWS_ENDPOINT_URL_S3``,
            ``AWS_ENDPOINT_URL``, else AWS's regional endpoint.
        aws_access_key_id: else ``AWS_ACCESS_KEY_ID``.
        aws_secret_access_key: else ``AWS_SECRET_ACCESS_KEY``.
        aws_session_token: for temporary credentials; else ``AWS_SESSION_TOKEN``.
        region: signing region; else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, ``us-east-1``.
        addressing: ``"path"`` (``host/bucket/key``, the default) or ``"virtual"``
            (``bucket.host/key``).
        session: an ``aiohttp.ClientSession`` to borrow; it is used as is and never closed
            here. Without one the client makes its own on first use and closes it in ``close``.
        retry: the ``RetryPolicy``; ``RetryPolicy(attempts=1)`` turns retries off.
        timeouts: connect / read / total limits for each exchange on the session the client
            makes (a borrowed ``session`` keeps its own); source downloads use the connect
            and read limits.
        payload_signing: ``"auto"`` signs the body's SHA-256 over http and sends
            ``UNSIGNED-PAYLOAD`` over https; ``"signed"`` or ``"unsigned"`` force one.
        verify_tls: check the server's certificate (default ``True``).
        ca_file: a PEM file of CA certificates to trust instead of the system's.
        ssl_context: an ``ssl.SSLContext`` to use as is (overrides the two above).
        max_connections: size of the connection pool the client creates.
        clock: seconds since the epoch; ``time.time`` unless a test needs another clock.

    Raises:
        TypeError: an option of the wrong type (e.g. a non-``str`` endpoint or key).
        ValueError: no credentials, or an unusable endpoint or option.
        OSError: ``ca_file`` cannot be read (``ssl.SSLError``: it holds no certificate).
    """

    def __init__(
        self,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        *,
        aws_session_token: str | None = None,
        region: str | None = None,
        addressing: str = "path",
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        payload_signing: str = "auto",
        verify_tls: bool = True,
        ca_file: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 64,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = resolve_settings(
            endpoint_url=endpoint_url,
            access_key=aws_access_key_id,
            secret_key=aws_secret_access_key,
            session_token=aws_session_token,
            region=region,
            addressing=addressing,
            payload_signing=payload_signing,
            env=os.environ,
        )
        self._borrowed = session
        self._session: aiohttp.ClientSession | None = session
        # The loop the client's own session was made on: aiohttp binds a session to it.
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._retry = retry or RetryPolicy()
        self._timeouts = timeouts or Timeouts()
        self._ssl = ssl_context or tls_context(verify=verify_tls, ca_file=ca_file)
        self._max_connections = check_positive_int("max_connections", max_connections)
        self._clock = clock
        self.clock_offset = 0.0
        """Seconds added to ``clock`` after a server said our time was off."""

    def __repr__(self) -> str:
        s = self._settings
        return (
            f"S3Client(endpoint={self.endpoint_url!r}, region={s.region!r}, "
            f"credentials={s.credentials!r})"
        )

    @property
    def region(self) -> str:
        """The region requests are signed for."""
        return self._settings.region

    @property
    def timeouts(self) -> Timeouts:
        """The connect / read / total limits of each exchange."""
        return self._timeouts

    @property
    def endpoint_url(self) -> str:
        """The endpoint requests are sent to."""
        endpoint = self._settings.endpoint
        return build_url(endpoint, None).removesuffix("/")

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> S3Client:
        self._closed = False
        self._http()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it; a borrowed one stays open.

        Afterwards every request raises ``RuntimeError`` until ``async with`` opens the client
        again; a request in flight fails with ``TransportError`` and is not retried.
        """
        self._closed = True
        session, self._session = self._session, self._borrowed
        if session is not None and session is not self._borrowed:
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        import asyncio

        import aiohttp

        if self._closed:
            raise RuntimeError(
                "this S3Client is closed; open it again with `async with client:` "
                "or make a new one"
            )
        loop = asyncio.get_running_loop()
        if self._session is not None and self._session is not self._borrowed:
            self._forget_dead_session(loop)
        if self._session is None or self._session.closed:
            self._session_loop = loop
            connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, timeout=self._client_timeout()
            )
            # aiohttp would resend an idempotent request once on a dropped connection, with
            # the old signature and unseen by the RetryPolicy; let the policy alone decide.
            self._session._retry_connection = False
        return self._session

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

    def _client_timeout(self) -> aiohttp.ClientTimeout:
        import aiohttp

        t = self._timeouts
        return aiohttp.ClientTimeout(total=t.total, sock_connect=t.connect, sock_read=t.read)

    # -- the seed's functions -------------------------------------------------------------

    async def upload_file(self, bucket: str, path: str, buffer: bytes) -> None:
        """Store ``buffer`` as the object ``bucket``/``path``.

        Args:
            bucket: the bucket.
            path: the object's key.
            buffer: the object's bytes.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            S3Error: the server refused; TransportError: no usable answer.
        """
        await self.put_object(bucket, path, buffer)

    async def fetch_and_upload(
        self, bucket: str, path: str, url: str, *, max_size: int | None = None
    ) -> None:
        """Download ``url`` whole into memory, then store it as ``bucket``/``path``.

        Args:
            bucket: the bucket.
            path: the object's key.
            url: the http(s) URL to download.
            max_size: refuse (``SourceError``) a download larger than this many bytes.

        Raises:
            TypeError, ValueError: a bad bucket, key or URL (nothing is downloaded).
            SourceError: the download failed, answered non-2xx, or exceeded ``max_size``;
                nothing is sent to S3 then.
            S3Error, TransportError: the upload failed.
        """
        from rawS3.transfer import fetch_and_upload

        await fetch_and_upload(self, bucket, path, url, max_size=max_size)

    async def stream_upload(
        self,
        bucket: str,
        path: str,
        url: str,
        *,
        part_size: int | None = None,
        concurrency: int = 4,
    ) -> None:
        """Stream ``url`` into ``bucket``/``path`` through a ``MultipartUploader``.

        Memory stays near ``(concurrency + 1) * part_size`` whatever the download's length. On
        any failure or cancellation the multipart upload is aborted and nothing is left behind.

        Args:
            bucket: the bucket.
            path: the object's key.
            url: the http(s) URL to download.
            part_size: bytes per part, 5 MiB to 5 GiB (default 8 MiB).
            concurrency: parts uploading at once (default 4).

        Raises:
            TypeError, ValueError: bad arguments (nothing is downloaded or sent).
            SourceError: the download failed or ended early; S3Error, TransportError: the
                upload failed. The upload is aborted in every case.
        """
        from rawS3.transfer import stream_upload

        await stream_upload(self, bucket, path, url, part_size=part_size, concurrency=concurrency)

    # -- objects ---------------------------------------------------------------------------

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | bytearray | memoryview | AsyncIterable[bytes],
        *,
        size: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content_md5: bool = False,
        checksum: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> PutResult:
        """Store an object in one request.

        Args:
            bucket: the bucket.
            key: the object's key.
            body: bytes-like, or an async iterable of bytes together with its exact ``size``;
                the latter is streamed as signed aws-chunked frames (memory: one chunk; sent
                once, so never retried).
            size: the exact length of an iterable ``body``.
            content_type: stored with the object.
            metadata: user metadata stored with the object (as ``x-amz-meta-*``).
            headers: further request headers, sent and signed as given.
            content_md5: send ``Content-MD5`` so the server refuses a corrupted body; the
                returned ETag is then checked against it too.
            checksum: ``"crc32"`` or ``"sha256"`` to send an ``x-amz-checksum-*`` header as
                well (bytes-like bodies only); a checksum the server echoes is compared.
            chunk_size: the aws-chunked frame size for an iterable ``body``.

        Returns:
            The ETag (and version id) the server gave, and the size sent.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent), or an iterable ``body``
                that does not yield exactly ``size`` bytes.
            IntegrityError: the ETag or an echoed checksum differs from what was sent.
            S3Error: the server refused; TransportError: no usable answer.
        """
        check_bucket(bucket)
        check_key(key)
        payload = self._body(
            body,
            size=size,
            md5=content_md5,
            checksum=check_algorithm(checksum),
            chunk_size=chunk_size,
        )
        if isinstance(payload, SignedChunkedBody) and payload.size == 0:
            # RGW 16 refuses an aws-chunked body with no data chunk (XAmzContentSHA256Mismatch);
            # an empty body needs no streaming, so check the source is empty and send it plain.
            async for piece in payload.source:
                if piece:
                    raise ValueError(f"the body yielded {len(piece):,} bytes or more but size=0")
            payload = BufferBody(b"", sign=self._settings.sign_payload, md5=False)
        extra = _object_headers(content_type, metadata, headers)
        reply = await self._send(_Call("PUT", bucket, key, headers=extra, body=payload))
        result = put_from_headers(reply.headers, size=payload.size)
        _check_etag(reply.headers, payload.md5, bucket, key)
        _check_echoed_checksum(reply.headers, payload.checksum, bucket, key)
        return result

    def _body(
        self,
        body: object,
        *,
        size: int | None,
        md5: bool,
        checksum: str | None,
        chunk_size: int,
    ) -> Body:
        if not hasattr(body, "__aiter__"):
            view = check_buffer("body", body)
            if size is not None and size != view.nbytes:
                raise ValueError(f"size={size} but the body holds {view.nbytes} bytes")
            return BufferBody(view, sign=self._settings.sign_payload, md5=md5, checksum=checksum)
        if size is None:
            raise ValueError("an async iterable body needs its exact size (size=...)")
        if checksum is not None:
            raise ValueError(
                "checksum= needs a bytes-like body; a streamed body is signed per chunk"
            )
        check_positive_int("size", size, minimum=0)
        check_positive_int("chunk_size", chunk_size, minimum=8 * 1024)
        return SignedChunkedBody(body, size=size, chunk_size=chunk_size)

    async def get_object(
        self, bucket: str, key: str, *, start: int | None = None, end: int | None = None
    ) -> bytes:
        """Return the object's body, or the inclusive byte range ``start``..``end``.

        Args:
            bucket: the bucket.
            key: the object's key.
            start: the first byte to read, from 0 (``None``: the whole object).
            end: the last byte to read, inclusive (``None``: to the end); needs ``start``.

        Returns:
            The bytes.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchKey, NoSuchBucket, InvalidRange, other S3Error; TransportError.
        """
        async with self.open_object(bucket, key, start=start, end=end) as stream:
            return await stream.read()

    @contextlib.asynccontextmanager
    async def open_object(
        self, bucket: str, key: str, *, start: int | None = None, end: int | None = None
    ) -> AsyncIterator[ObjectStream]:
        """Open the object for reading in pieces: ``async with client.open_object(b, k) as s``.

        The response is released when the block ends, read to the end or not.

        Args:
            bucket: the bucket.
            key: the object's key.
            start: the first byte to read, from 0 (``None``: the whole object).
            end: the last byte to read, inclusive (``None``: to the end); needs ``start``.

        Yields:
            The open object: ``head`` (for a range, ``size`` is the range's length) and its
            body to read.

        Raises:
            TypeError, ValueError: bad arguments, e.g. ``end`` without ``start`` (nothing is
                sent).
            NoSuchKey, NoSuchBucket, InvalidRange, other S3Error; TransportError.
        """
        check_bucket(bucket)
        check_key(key)
        headers = {"Range": _range_header(start, end)} if start is not None else {}
        if start is None and end is not None:
            raise ValueError("end given without start; pass start=0 to read from the beginning")
        call = _Call("GET", bucket, key, headers=headers, ok=frozenset({200, 206}))
        response = await self._perform(call, _keep_open)
        try:
            _require_delimited_body(response)
            yield ObjectStream(response)
        finally:
            response.release()

    async def head_object(self, bucket: str, key: str) -> ObjectHead:
        """Return the object's size, ETag, type, modification time and metadata.

        A HEAD answer has no body, so a 404 does not say whether the key or the bucket is
        missing; the bucket is then checked with a second HEAD to raise the right one.

        Args:
            bucket: the bucket.
            key: the object's key.

        Returns:
            The object's metadata.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchKey, NoSuchBucket, other S3Error; TransportError.
        """
        check_bucket(bucket)
        check_key(key)
        try:
            reply = await self._send(_Call("HEAD", bucket, key))
        except NoSuchKey:
            await self.head_bucket(bucket)
            raise
        return head_from_headers(reply.headers)

    async def delete_object(self, bucket: str, key: str) -> None:
        """Delete one object; deleting a missing key succeeds, as S3 specifies.

        Args:
            bucket: the bucket.
            key: the object's key.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchBucket, other S3Error; TransportError.
        """
        check_bucket(bucket)
        check_key(key)
        await self._send(_Call("DELETE", bucket, key, ok=frozenset({200, 204})))

    async def delete_objects(
        self, bucket: str, keys: Iterable[str], *, quiet: bool = False
    ) -> xml.DeleteResult:
        """Delete many objects, 1000 per DeleteObjects request, and merge the answers.

        Args:
            bucket: the bucket.
            keys: the keys to delete, any number; all are checked before anything is sent.
            quiet: ask the server to list only failures; ``deleted`` may then be empty
                (servers differ: some list every key anyway).

        Returns:
            The keys deleted and the per-key errors (a key that failed does not raise).

        Raises:
            TypeError, ValueError: a bad bucket or key (nothing is sent).
            S3Error: a whole request was refused; TransportError; ResponseError: an answer
                is not the XML S3 specifies.
        """
        check_bucket(bucket)
        if isinstance(keys, (str, bytes, bytearray, memoryview)):
            # A string is an iterable of one-letter keys: deleting those is never meant.
            raise TypeError(
                f"keys must be an iterable of keys, not one {type(keys).__name__}; "
                "wrap a single key in a list"
            )
        # A key named twice is deleted once; a request repeating keys only costs the server.
        wanted = list(dict.fromkeys(check_key(key) for key in keys))
        deleted: list[xml.DeletedObject] = []
        errors: list[xml.DeleteError] = []
        for offset in range(0, len(wanted), DELETE_BATCH):
            batch = wanted[offset : offset + DELETE_BATCH]
            result = await self._delete_batch(bucket, batch, quiet=quiet)
            deleted.extend(result.deleted)
            errors.extend(result.errors)
        return xml.DeleteResult(deleted=tuple(deleted), errors=tuple(errors))

    async def _delete_batch(self, bucket: str, keys: list[str], *, quiet: bool) -> xml.DeleteResult:
        body = BufferBody(xml.build_delete_objects(keys, quiet=quiet), sign=True, md5=True)
        call = _Call("POST", bucket, query=(("delete", None),), body=body)
        return xml.parse_delete_objects((await self._send(call)).body)

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[xml.ObjectInfo]:
        """Yield every object under ``prefix``, following continuation tokens.

        With a ``delimiter`` the grouped "directories" are left out; ``list_pages`` gives them.

        Args:
            bucket: the bucket.
            prefix: only keys that start with this.
            delimiter: group keys that hold it after the prefix, e.g. ``"/"``.
            start_after: only keys that sort after this one.
            page_size: keys per request, 1 to 1000.

        Yields:
            Each object, in key order.

        Raises:
            TypeError, ValueError: a bad bucket or ``page_size`` (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        async for page in self.list_pages(
            bucket, prefix=prefix, delimiter=delimiter, start_after=start_after, page_size=page_size
        ):
            for item in page.contents:
                yield item

    async def list_pages(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[xml.ListObjectsPage]:
        """Yield ListObjectsV2 pages (objects and common prefixes) until the listing ends.

        Args:
            bucket: the bucket.
            prefix: only keys that start with this.
            delimiter: group keys that hold it after the prefix, e.g. ``"/"``.
            start_after: only keys that sort after this one.
            page_size: keys per request, 1 to 1000.

        Yields:
            Each page, as the server sent it.

        Raises:
            TypeError, ValueError: a bad bucket or ``page_size`` (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        check_bucket(bucket)
        check_positive_int("page_size", page_size, maximum=1000)
        query = _listing_query(prefix, delimiter, start_after, page_size)
        token: str | None = None
        seen: set[str] = set()
        while True:
            extra = (("continuation-token", token),) if token else ()
            reply = await self._send(_Call("GET", bucket, query=query + extra))
            page = xml.parse_list_objects_v2(reply.body)
            yield page
            if not page.is_truncated:
                return
            token = _next_marker(page.next_continuation_token, seen, "continuation token")

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> xml.CopyResult:
        """Copy an object server-side.

        The source's metadata and content type are copied unless ``metadata`` or
        ``content_type`` is given; then both are replaced, metadata by ``metadata`` or by
        none.

        Args:
            source_bucket: the source's bucket.
            source_key: the source's key.
            bucket: the copy's bucket.
            key: the copy's key.
            metadata: new user metadata for the copy.
            content_type: a new content type for the copy.

        Returns:
            The copy's ETag and modification time.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            S3Error, including an error S3 reports inside a 200 answer; TransportError;
                ResponseError.
        """
        check_bucket(source_bucket)
        check_key(source_key)
        check_bucket(bucket)
        check_key(key)
        headers = _object_headers(content_type, metadata, None)
        headers["x-amz-copy-source"] = _copy_source(source_bucket, source_key)
        if metadata is not None or content_type is not None:
            headers["x-amz-metadata-directive"] = "REPLACE"
        call = _Call("PUT", bucket, key, headers=headers, embedded_errors=True)
        return xml.parse_copy_result((await self._send(call)).body)

    # -- buckets ---------------------------------------------------------------------------

    async def create_bucket(self, bucket: str, *, region: str | None = None) -> None:
        """Create a bucket; outside us-east-1 the region is sent as its location constraint.

        Args:
            bucket: the new bucket's name.
            region: where to create it (default: the client's region).

        Raises:
            TypeError, ValueError: a bad name or region (nothing is sent).
            BucketAlreadyOwnedByYou, BucketAlreadyExists, other S3Error; TransportError.
        """
        check_bucket(bucket)
        where = region or self._settings.region
        body = None
        if where != "us-east-1":
            body = BufferBody(xml.build_create_bucket_configuration(where), sign=True, md5=False)
        await self._send(_Call("PUT", bucket, body=body))

    async def head_bucket(self, bucket: str) -> None:
        """Return if the bucket exists and is reachable; raise ``NoSuchBucket`` otherwise.

        Args:
            bucket: the bucket.

        Raises:
            TypeError, ValueError: a bad bucket name (nothing is sent).
            NoSuchBucket, AccessDenied, other S3Error; TransportError.
        """
        check_bucket(bucket)
        await self._send(_Call("HEAD", bucket))

    async def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket (``BucketNotEmpty`` otherwise).

        Args:
            bucket: the bucket.

        Raises:
            TypeError, ValueError: a bad bucket name (nothing is sent).
            BucketNotEmpty, NoSuchBucket, other S3Error; TransportError.
        """
        check_bucket(bucket)
        await self._send(_Call("DELETE", bucket, ok=frozenset({200, 204})))

    async def list_buckets(self) -> list[xml.Bucket]:
        """Return the buckets the credentials own.

        Returns:
            The buckets, in the server's order.

        Raises:
            S3Error; TransportError; ResponseError.
        """
        reply = await self._send(_Call("GET"))
        return list(xml.parse_list_buckets(reply.body).buckets)

    # -- presigned URLs --------------------------------------------------------------------

    def presign_get(self, bucket: str, key: str, *, expires: int = 3600) -> str:
        """Return a URL anyone can GET the object with for ``expires`` seconds (≤ 7 days).

        No request is sent. The URL is already encoded: with aiohttp, pass it as
        ``yarl.URL(url, encoded=True)``, since a plain string is re-quoted (``%21`` becomes
        ``!``, dot segments are resolved) and no longer matches its signature.

        Args:
            bucket: the bucket.
            key: the object's key.
            expires: the URL's validity in seconds, 1 to 604800.

        Returns:
            The presigned URL.

        Raises:
            TypeError, ValueError: a bad bucket, key or ``expires``.
        """
        return self._presign("GET", bucket, key, expires)

    def presign_put(self, bucket: str, key: str, *, expires: int = 3600) -> str:
        """Return a URL anyone can PUT the object's body to for ``expires`` seconds (≤ 7 days).

        See ``presign_get`` on sending it with aiohttp.

        Args:
            bucket: the bucket.
            key: the object's key.
            expires: the URL's validity in seconds, 1 to 604800.

        Returns:
            The presigned URL.

        Raises:
            TypeError, ValueError: a bad bucket, key or ``expires``.
        """
        return self._presign("PUT", bucket, key, expires)

    def _presign(self, method: str, bucket: str, key: str, expires: int) -> str:
        check_bucket(bucket)
        check_key(key)
        check_expires(expires)
        s = self._settings
        url = build_url(s.endpoint, bucket, key, addressing=s.addressing)
        return sigv4.presign(
            method,
            url,
            credentials=s.credentials,
            region=s.region,
            now=self._now(),
            expires=expires,
        )

    # -- multipart, one call at a time -----------------------------------------------------

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksum: str | None = None,
    ) -> str:
        """Start a multipart upload and return its upload id.

        Creating is not idempotent, so this call owns what it may have created until it
        returns the id: when an attempt failed in a way that may have taken effect (a lost
        or late answer, a 5xx) or the call is cancelled, uploads of the same key started
        since the first attempt are aborted before the call returns or raises.

        Args:
            bucket: the bucket.
            key: the object's key.
            content_type: stored with the object.
            metadata: user metadata stored with the object (as ``x-amz-meta-*``).
            checksum: ``"crc32"`` or ``"sha256"``: the algorithm every part will carry.

        Returns:
            The new upload's id.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        import asyncio

        check_bucket(bucket)
        check_key(key)
        headers = _object_headers(content_type, metadata, None)
        if check_algorithm(checksum) is not None:
            headers["x-amz-checksum-algorithm"] = str(checksum).upper()
        call = _Call(
            "POST", bucket, key, query=(("uploads", None),), headers=headers, retry_timeouts=True
        )
        lost = _LostCreates(bucket, key, self._now())
        request = asyncio.ensure_future(self._perform(call, _read_reply, lost.record))
        upload_id: str | None = None
        try:
            # Shielded: a cancelled caller must not cut the request off unseen mid-flight.
            reply = await asyncio.shield(request)
            upload_id = lost.read(reply.body)
            if lost.possible:
                await self._abort_strays(lost, keep=upload_id)
        except BaseException:
            await run_to_end(self._undo_create(request, lost, upload_id))
            raise
        return upload_id

    async def _undo_create(
        self, request: asyncio.Future[_Reply], lost: _LostCreates, upload_id: str | None
    ) -> None:
        """Leave nothing behind of a Create that will not hand its id to the caller."""
        request.cancel()
        with contextlib.suppress(BaseException):
            await request
        if lost.possible or request.cancelled():
            try:
                await self._abort_strays(lost, keep=upload_id)
            except RawS3Error as exc:
                log.warning(
                    "a failed Create may have left an upload of %s/%s that could not be "
                    "looked for: %s",
                    lost.bucket,
                    lost.key,
                    exc,
                )
        if upload_id is not None:
            await abort_or_hand_over(self, lost.bucket, lost.key, upload_id)

    async def _abort_strays(self, lost: _LostCreates, *, keep: str | None) -> None:
        """Abort uploads a failed Create may have started although its answer never came.

        Uploads of the same key started in the window around the first attempt are taken to
        be it (another writer of the very same key in that window would lose its upload:
        writing one key concurrently is a race S3 resolves for one of them).
        """
        earliest = lost.since - STRAY_WINDOW
        for upload in await self.list_multipart_uploads(lost.bucket, prefix=lost.key):
            if upload.key == lost.key and upload.upload_id != keep and upload.initiated >= earliest:
                with contextlib.suppress(NoSuchUpload):
                    await self.abort_multipart_upload(lost.bucket, lost.key, upload.upload_id)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        data: bytes | bytearray | memoryview,
        *,
        content_md5: bool | None = None,
        checksum: str | None = None,
    ) -> UploadedPart:
        """Upload one part (1..10000) and return its number and ETag.

        Every part is guarded on the wire: the server refuses a corrupted one. With a signed
        payload (plain http, by default) the server checks the part's signed SHA-256; when the
        payload is not signed (https, by default) ``Content-MD5`` is sent instead and the
        returned ETag is checked against it. MD5 is the costliest hash per byte, so it is not
        paid twice; ``content_md5=True`` asks for it anyway. ``checksum`` adds an
        ``x-amz-checksum-*`` header (the upload must have been created with the same one).

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.
            part_number: 1 to 10,000.
            data: the part's bytes; 5 MiB or more unless it is the last part.
            content_md5: send ``Content-MD5`` and check the returned ETag against it;
                ``None`` (the default) does so when the payload is not signed.
            checksum: ``"crc32"`` or ``"sha256"``, as declared at creation.

        Returns:
            The part's number, ETag, size and checksum, as ``complete_multipart_upload``
            takes them.

        Raises:
            TypeError, ValueError: a bad part number, upload id, ``data`` or ``checksum``
                (nothing is sent).
            IntegrityError: the ETag is not the MD5 of the part, or an echoed checksum
                differs; NoSuchUpload, other S3Error; TransportError.
        """
        check_bucket(bucket)
        check_key(key)
        check_positive_int("part_number", part_number, maximum=10_000)
        check_upload_id(upload_id)
        sign = self._settings.sign_payload
        body = BufferBody(
            check_buffer("data", data),
            sign=sign,
            md5=not sign if content_md5 is None else content_md5,
            checksum=check_algorithm(checksum),
        )
        query = (("partNumber", str(part_number)), ("uploadId", upload_id))
        reply = await self._send(_Call("PUT", bucket, key, query=query, body=body))
        etag = reply.headers.get("ETag", "")
        _check_etag(reply.headers, body.md5, bucket, key)
        _check_echoed_checksum(reply.headers, body.checksum, bucket, key)
        return UploadedPart(part_number, etag, body.size, body.checksum)

    async def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        source_bucket: str,
        source_key: str,
        *,
        start: int | None = None,
        end: int | None = None,
    ) -> UploadedPart:
        """Copy an existing object, or its inclusive byte range ``start``..``end``, in as one part.

        S3 takes only a closed range here, so ``start`` and ``end`` go together. Without a
        range the source's size is read with HEAD, so the part's ``size`` is right.

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.
            part_number: 1 to 10,000.
            source_bucket: the source's bucket.
            source_key: the source's key.
            start: the source's first byte to copy, from 0.
            end: the source's last byte to copy, inclusive.

        Returns:
            The part's number, ETag and size, as ``complete_multipart_upload`` takes them.

        Raises:
            TypeError, ValueError: bad arguments, e.g. only one of ``start`` and ``end``
                (nothing is sent).
            NoSuchKey, NoSuchUpload, InvalidRange, other S3Error (also one S3 sends inside a
                200 answer); TransportError; ResponseError.
        """
        check_positive_int("part_number", part_number, maximum=10_000)
        headers = {
            "x-amz-copy-source": _copy_source(check_bucket(source_bucket), check_key(source_key))
        }
        check_bucket(bucket)
        check_key(key)
        check_upload_id(upload_id)
        if (start is None) != (end is None):
            raise ValueError("upload_part_copy takes start and end together (a closed range)")
        if start is not None and end is not None:
            headers["x-amz-copy-source-range"] = _range_header(start, end)
            size = end - start + 1
        else:
            size = (await self.head_object(source_bucket, source_key)).size
        query = (("partNumber", str(part_number)), ("uploadId", upload_id))
        call = _Call("PUT", bucket, key, query=query, headers=headers, embedded_errors=True)
        result = xml.parse_copy_result((await self._send(call)).body)
        return UploadedPart(part_number, result.etag, size)

    async def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Iterable[UploadedPart]
    ) -> PutResult:
        """Join the uploaded parts into the object.

        If an earlier attempt's answer was lost and the retry hears ``NoSuchUpload``, the
        object is checked with HEAD: an ETag equal to the expected ``md5-of-md5s-N`` counts
        as success.

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.
            parts: what ``upload_part`` returned for each part, in any order.

        Returns:
            The object's ETag as the server sent it, version id, part count and size.

        Raises:
            TypeError: a part is not an ``UploadedPart``.
            ValueError: no parts, a part number given twice, or an empty upload id (nothing
                is sent).
            EntityTooSmall, InvalidPart, NoSuchUpload, other S3Error (also one S3 sends inside
                a 200 answer); TransportError; ResponseError.
        """
        check_bucket(bucket)
        check_key(key)
        check_upload_id(upload_id)
        ordered = sorted(_uploaded_parts(parts), key=lambda part: part.part_number)
        checksums = {
            p.part_number: (checksum_element(p.checksum[0]), p.checksum[1])
            for p in ordered
            if p.checksum is not None
        }
        body = xml.build_complete_multipart_upload(
            ((p.part_number, p.etag) for p in ordered), checksums=checksums
        )
        call = _Call(
            "POST",
            bucket,
            key,
            query=(("uploadId", upload_id),),
            body=BufferBody(body, sign=True, md5=False),
            embedded_errors=True,
        )
        size = sum(p.size for p in ordered)
        try:
            reply = await self._send(call)
        except NoSuchUpload:
            return await self._completed_earlier(bucket, key, ordered, size)
        result = xml.parse_complete_multipart_upload(reply.body)
        return PutResult(result.etag, reply.headers.get("x-amz-version-id"), len(ordered), size)

    async def _completed_earlier(
        self, bucket: str, key: str, parts: list[UploadedPart], size: int
    ) -> PutResult:
        expected = multipart_etag(bytes.fromhex(xml.strip_etag(p.etag)) for p in parts)
        try:
            head = await self.head_object(bucket, key)
        except NoSuchKey:
            head = None
        if head is None or xml.strip_etag(head.etag) != expected:
            raise make_s3_error(
                code="NoSuchUpload",
                message="the upload is gone and the object is not ours",
                status=404,
                request_id=None,
                host_id=None,
                bucket=bucket,
                key=key,
                resource=None,
                details={},
            )
        return PutResult(head.etag, head.version_id, len(parts), size)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort a multipart upload, freeing its parts. ``NoSuchUpload`` if it is gone.

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchUpload, other S3Error; TransportError.
        """
        check_bucket(bucket)
        check_key(key)
        check_upload_id(upload_id)
        call = _Call(
            "DELETE", bucket, key, query=(("uploadId", upload_id),), ok=frozenset({204, 200})
        )
        await self._send(call)

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[xml.PartInfo]:
        """Return every part uploaded so far, following pages.

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.

        Returns:
            The parts, in the server's order (ascending part number).

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchUpload, other S3Error; TransportError; ResponseError.
        """
        check_bucket(bucket)
        check_key(key)
        check_upload_id(upload_id)
        parts: list[xml.PartInfo] = []
        marker = 0
        while True:
            query = (("part-number-marker", str(marker)), ("uploadId", upload_id))
            page = xml.parse_list_parts(
                (await self._send(_Call("GET", bucket, key, query=query))).body
            )
            parts.extend(page.parts)
            if not page.is_truncated:
                return parts
            following = page.next_part_number_marker
            if following is None or following <= marker:
                # A marker that does not move on would list the same page forever.
                raise ResponseError(
                    f"ListParts is truncated but its NextPartNumberMarker ({following}) "
                    f"does not move past {marker}"
                )
            marker = following

    async def list_multipart_uploads(
        self, bucket: str, *, prefix: str | None = None
    ) -> list[xml.UploadInfo]:
        """Return every multipart upload in progress in the bucket (under ``prefix``).

        Args:
            bucket: the bucket.
            prefix: only uploads of keys that start with this.

        Returns:
            The uploads, following pages.

        Raises:
            TypeError, ValueError: a bad bucket name (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        check_bucket(bucket)
        uploads: list[xml.UploadInfo] = []
        markers: tuple[tuple[str, str | None], ...] = ()
        seen: set[str] = set()
        while True:
            query = (("uploads", None),) + ((("prefix", prefix),) if prefix else ()) + markers
            reply = await self._send(_Call("GET", bucket, query=query))
            page = xml.parse_list_multipart_uploads(reply.body)
            uploads.extend(page.uploads)
            if not page.is_truncated:
                return uploads
            key_marker = page.next_key_marker or ""
            upload_marker = page.next_upload_id_marker or ""
            _next_marker(f"{key_marker}\n{upload_marker}".strip(), seen, "upload markers")
            markers = (("key-marker", key_marker), ("upload-id-marker", upload_marker))

    def multipart_uploader(
        self,
        bucket: str,
        key: str,
        *,
        part_size: int | None = None,
        concurrency: int = 4,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> MultipartUploader:
        """Return a ``MultipartUploader`` for ``bucket``/``key`` (see its documentation).

        Nothing is sent until the first part is full.

        Args:
            bucket: the bucket.
            key: the object's key.
            part_size: bytes per part, 5 MiB to 5 GiB (default 8 MiB).
            concurrency: parts uploading at once (default 4).
            content_type: stored with the object.
            metadata: user metadata stored with the object (as ``x-amz-meta-*``).

        Returns:
            The uploader, to use as ``async with``.

        Raises:
            TypeError, ValueError: bad arguments.
        """
        from rawS3.transfer import MultipartUploader

        return MultipartUploader(
            self,
            bucket,
            key,
            part_size=part_size,
            concurrency=concurrency,
            content_type=content_type,
            metadata=metadata,
        )

    # -- sending ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock() + self.clock_offset, tz=timezone.utc)

    async def _send(self, call: _Call) -> _Reply:
        if call.embedded_errors:
            return await self._perform(call, functools.partial(_read_checked_reply, call))
        return await self._perform(call, _read_reply)

    async def _perform(
        self,
        call: _Call,
        consume: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        on_failure: Callable[[RawS3Error], None] | None = None,
    ) -> T:
        """Send ``call`` until it succeeds or the retry policy gives up.

        ``on_failure`` hears of every failed attempt, the last included, so a caller can tell
        whether an attempt may have taken effect unseen.
        """
        retry_number = 0
        skew_corrected = False
        while True:
            try:
                return await self._attempt(call, consume)
            except RequestTimeTooSkewed as exc:
                if on_failure is not None:
                    on_failure(exc)
                if skew_corrected or not self._correct_clock(exc):
                    raise
                skew_corrected = True
                continue
            except (S3Error, TransportError, ResponseError) as exc:
                if on_failure is not None:
                    on_failure(exc)
                if isinstance(exc, ResponseError):
                    raise
                retry_number += 1
                if not self._should_retry(call, exc, retry_number):
                    raise
                delay = self._retry.backoff(retry_number, random.random())
                log.debug("retry %d of %s in %.3fs after %s", retry_number, call.method, delay, exc)
            import asyncio

            await asyncio.sleep(delay)

    def _should_retry(self, call: _Call, exc: S3Error | TransportError, retry_number: int) -> bool:
        if not call.retry or retry_number >= self._retry.attempts or self._closed:
            return False
        if call.body is not None and not call.body.replayable:
            return False
        if isinstance(exc, S3Error):
            return self._retry.is_retryable(exc)
        import aiohttp

        if isinstance(exc.__cause__, aiohttp.ClientConnectorCertificateError):
            return False  # a certificate refused once is refused again
        return call.method != "POST" or call.retry_timeouts or not isinstance(exc, TransportTimeout)

    def _correct_clock(self, exc: RequestTimeTooSkewed) -> bool:
        server = _parse_server_time(exc.details.get("ServerTime") or exc.details.get("Date"))
        if server is None:
            return False
        offset = server - self._clock()
        if abs(offset) > MAX_CLOCK_CORRECTION:
            # A server claiming a time this far off is wrong or hostile; trusting it would
            # break every later signature (and dates past year 9999 cannot be formatted).
            log.warning("ignoring a server time %.0fs away from ours", offset)
            return False
        self.clock_offset = offset
        log.info(
            "server clock differs by %.1fs; signing with its time from now on", self.clock_offset
        )
        return True

    async def _attempt(
        self, call: _Call, consume: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        s = self._settings
        url = build_url(s.endpoint, call.bucket, call.key, call.query, addressing=s.addressing)
        now = self._now()
        body = call.body
        # Given here, Host is signed and sent as is, and sign() need not parse the URL for it.
        host = host_header(s.endpoint, call.bucket, s.addressing)
        headers = {"Host": host, **call.headers, **(body.headers if body else {})}
        signed = sigv4.sign(
            call.method,
            url,
            headers,
            payload_hash=body.payload_hash if body else sigv4.EMPTY_SHA256,
            credentials=s.credentials,
            region=s.region,
            now=now,
        )
        data = body.payload(self._chunk_signer(now), _seed(signed)) if body else None
        from yarl import URL

        started = time.perf_counter()
        try:
            response = await self._http().request(
                call.method,
                URL(url, encoded=True),
                headers=signed,
                data=data,
                skip_auto_headers=_NO_AUTO_HEADERS,
                allow_redirects=False,
                ssl=self._ssl,
            )
        except _transport_failures() as exc:
            cause = getattr(body, "error", None)
            if cause is not None:
                raise cause from exc
            raise _transport_error(exc) from exc
        _log_exchange(call, url, signed, response, started)
        try:
            if response.status not in call.ok:
                async with response:
                    raise await self._error(call, response, url, signed, now)
            return await consume(response)
        except _transport_failures() as exc:
            # An answer cut off or stalled mid-body, an error answer's included.
            response.release()
            raise _transport_error(exc) from exc

    def _chunk_signer(self, now: datetime) -> Callable[[bytes, str], str]:
        s = self._settings

        def sign(chunk: bytes, previous: str) -> str:
            return sigv4.sign_chunk(
                chunk, previous, credentials=s.credentials, region=s.region, now=now
            )

        return sign

    async def _error(
        self,
        call: _Call,
        response: aiohttp.ClientResponse,
        url: str,
        signed: Mapping[str, str],
        now: datetime,
    ) -> S3Error:
        raw = await _read_capped(response, ERROR_BODY_LIMIT)
        token = self._settings.credentials.session_token
        error = _error_from(response.status, response.headers, raw, call, token)
        if isinstance(error, SignatureDoesNotMatch):
            error.diagnosis = self._diagnose(call, url, signed, now, error)
        return error

    def _diagnose(
        self,
        call: _Call,
        url: str,
        signed: Mapping[str, str],
        now: datetime,
        error: S3Error,
    ) -> str:
        # sign() covered Host although aiohttp, not the dict, supplies it on the wire.
        headers = sigv4.with_host(url, signed)
        ours = sigv4.canonical_request(call.method, url, headers, signed["x-amz-content-sha256"])
        scope = sigv4.credential_scope(now, self._settings.region, "s3")
        server_request, server_string = signing_texts_from_details(error.details)
        return diagnose_signature_mismatch(
            server_request,
            server_string,
            ours,
            sigv4.string_to_sign(now, scope, ours),
        )


# -- helpers without state -------------------------------------------------------------------


async def _read_reply(response: aiohttp.ClientResponse) -> _Reply:
    async with response:
        body = await _read_capped(response, XML_BODY_LIMIT)
        return _Reply(response.status, response.headers, body)


async def _read_checked_reply(call: _Call, response: aiohttp.ClientResponse) -> _Reply:
    """Read a 200 that may still be an error: raised here, it is retried like any other."""
    reply = await _read_reply(response)
    doc = xml.find_error(reply.body)
    if doc is None:
        return reply
    raise _error_from_document(doc, reply.status, reply.headers, call)


@dataclass
class _LostCreates:
    """What a CreateMultipartUpload call knows of uploads it may have started unseen."""

    bucket: str
    key: str
    since: datetime
    possible: bool = False

    def record(self, failure: RawS3Error) -> None:
        # A 4xx refusal created nothing; a lost, late or 5xx answer may hide a created upload.
        if not (isinstance(failure, S3Error) and 400 <= failure.status < 500):
            self.possible = True

    def read(self, body: bytes) -> str:
        try:
            return xml.parse_initiate_multipart_upload(body).upload_id
        except ResponseError:
            self.possible = True
            raise


def _next_marker(marker: str | None, seen: set[str], what: str) -> str:
    """Return where a truncated listing goes on; a missing or repeated marker never ends."""
    if not marker:
        raise ResponseError(f"the listing is truncated but the server sent no next {what}")
    if marker in seen:
        raise ResponseError(f"the server sent the same {what} twice; the listing would not end")
    seen.add(marker)
    return marker


def _uploaded_parts(parts: Iterable[object]) -> list[UploadedPart]:
    checked: list[UploadedPart] = []
    for index, part in enumerate(parts):
        if not isinstance(part, UploadedPart):
            raise TypeError(
                f"parts[{index}] must be an UploadedPart (as upload_part returns), "
                f"not {type(part).__name__}"
            )
        checked.append(part)
    return checked


async def _keep_open(response: aiohttp.ClientResponse) -> aiohttp.ClientResponse:
    return response


def _require_delimited_body(response: aiohttp.ClientResponse) -> None:
    """Refuse a body that only the connection's close ends: a cut one would pass as whole."""
    chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
    if "Content-Length" not in response.headers and not chunked:
        raise ResponseError(
            "the object's body has neither Content-Length nor chunked framing, so a body "
            "cut off by a closed connection could not be told from a whole one"
        )


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    # StreamReader.read(n) returns whatever has arrived (one chunk of a chunked answer),
    # not n bytes; read until the end or until the cap is passed.
    body = bytearray()  # appending to bytes would copy the whole body for every block
    while len(body) <= limit:
        block = await response.content.read(limit + 1 - len(body))
        if not block:
            break
        body += block
    if len(body) > limit:
        raise ResponseError(
            f"the server sent more than {limit:,} bytes where S3 sends a short answer"
        )
    return bytes(body)


def _error_from(
    status: int, headers: Mapping[str, str], raw: bytes, call: _Call, token: str | None
) -> S3Error:
    """Turn an error answer into the S3Error its code names (from the status if no body)."""
    if raw.strip():
        try:
            doc = xml.parse_error(raw)
            doc = dataclasses.replace(doc, details=redact_details(doc.details, token))
            return _error_from_document(doc, status, headers, call)
        except ResponseError as exc:
            message = f"unreadable error body ({exc})"
    else:
        message = ""
    return make_s3_error(
        code=code_for_status(status, has_key=call.key is not None),
        message=message,
        status=status,
        request_id=headers.get("x-amz-request-id"),
        host_id=headers.get("x-amz-id-2"),
        bucket=call.bucket,
        key=call.key,
        details={"Date": headers.get("Date", "")},
    )


def _error_from_document(
    doc: xml.ErrorDocument, status: int, headers: Mapping[str, str], call: _Call
) -> S3Error:
    return make_s3_error(
        code=doc.code,
        message=doc.message,
        status=status,
        request_id=doc.request_id or headers.get("x-amz-request-id"),
        host_id=doc.host_id or headers.get("x-amz-id-2"),
        bucket=call.bucket,
        key=call.key,
        resource=doc.resource,
        # The Date header lets a RequestTimeTooSkewed answer without ServerTime fix the clock.
        details={**doc.details, "Date": headers.get("Date", "")},
    )


def _transport_failures() -> tuple[type[BaseException], ...]:
    """What a failed exchange raises through aiohttp, for ``except``; imported on first need."""
    import asyncio

    import aiohttp

    return (aiohttp.ClientError, asyncio.TimeoutError)


def _transport_error(exc: BaseException) -> TransportError:
    import asyncio

    import aiohttp

    info = getattr(exc, "request_info", None)
    if isinstance(exc, aiohttp.ClientResponseError) and isinstance(info, aiohttp.RequestInfo):
        # The error is chained to ours and its repr shows the request's headers: hide the
        # signature and the session token there too.
        from multidict import CIMultiDict, CIMultiDictProxy

        hidden = CIMultiDictProxy(CIMultiDict(redact_headers(info.headers)))
        exc.request_info = info._replace(headers=hidden)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return TransportTimeout(f"timed out: {exc or type(exc).__name__}")
    return TransportError(f"{type(exc).__name__}: {exc}")


def _seed(signed: Mapping[str, str]) -> str:
    return sigv4.signature_from_authorization(signed["Authorization"])


def _parse_server_time(text: str | None) -> float | None:
    """Read ``ServerTime`` (ISO 8601) or an HTTP ``Date`` as seconds since the epoch."""
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    with contextlib.suppress(ValueError):
        return xml.parse_http_date(text).timestamp()
    return None


def _object_headers(
    content_type: str | None, metadata: Mapping[str, str] | None, headers: Mapping[str, str] | None
) -> dict[str, str]:
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, not {type(headers).__name__}")
    out = dict(check_header(name, value) for name, value in (headers or {}).items())
    if content_type is not None:
        out["Content-Type"] = check_header("Content-Type", content_type)[1]
    for name, value in (check_metadata(metadata) if metadata is not None else {}).items():
        out[f"x-amz-meta-{name}"] = value
    return out


def _listing_query(
    prefix: str | None, delimiter: str | None, start_after: str | None, page_size: int
) -> tuple[tuple[str, str | None], ...]:
    query: list[tuple[str, str | None]] = [
        ("list-type", "2"),
        ("encoding-type", "url"),
        ("max-keys", str(page_size)),
    ]
    for name, value in (("prefix", prefix), ("delimiter", delimiter), ("start-after", start_after)):
        if value:
            query.append((name, value))
    return tuple(query)


def _range_header(start: int | None, end: int | None) -> str:
    first, last = check_byte_range(start, end)
    return f"bytes={first}-{'' if last is None else last}"


def _copy_source(bucket: str, key: str) -> str:
    return f"/{bucket}/{encode_key(key)}"


def _check_etag(headers: Mapping[str, str], md5: bytes | None, bucket: str, key: str) -> None:
    """Compare the answer's ETag to the MD5 of what was sent, where the ETag is an MD5.

    It is not for objects encrypted with SSE-KMS or SSE-C, as S3 documents.
    """
    etag = headers.get("ETag", "")
    if md5 is None or not etag or _etag_is_not_md5(headers):
        return
    if xml.strip_etag(etag) != md5.hex():
        raise IntegrityError(
            f"ETag {etag} of {bucket}/{key} is not the MD5 of the bytes sent ({md5.hex()})"
        )


def _etag_is_not_md5(headers: Mapping[str, str]) -> bool:
    encryption = headers.get("x-amz-server-side-encryption", "")
    return encryption.startswith("aws:kms") or (
        "x-amz-server-side-encryption-customer-algorithm" in headers
    )


def _check_echoed_checksum(
    headers: Mapping[str, str], sent: tuple[str, str] | None, bucket: str, key: str
) -> None:
    """Servers that support additional checksums echo them; one that differs is corruption."""
    if sent is None:
        return
    echoed = headers.get(checksum_header(sent[0]))
    if echoed is not None and echoed != sent[1]:
        raise IntegrityError(
            f"the server computed {sent[0]} {echoed} for {bucket}/{key}; rawS3 sent {sent[1]}"
        )


def _log_exchange(
    call: _Call,
    url: str,
    signed: Mapping[str, str],
    response: aiohttp.ClientResponse,
    started: float,
) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    elapsed = (time.perf_counter() - started) * 1000
    log.debug(
        "%s %s -> %d (request id %s, %.1f ms) headers=%s",
        call.method,
        url,
        response.status,
        response.headers.get("x-amz-request-id"),
        elapsed,
        redact_headers(signed),
    )


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` with the Authorization signature and security token hidden.

    Args:
        headers: request headers as signed.

    Returns:
        A new dict; the signature and the token read ``***``.
    """
    out = dict(headers)
    for name, value in out.items():
        if name.lower() == "authorization":
            head, sep, _ = value.partition("Signature=")
            out[name] = f"{head}{sep}***" if sep else "***"
        elif name.lower() == "x-amz-security-token":
            out[name] = "***"
    return out
