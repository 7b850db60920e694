"""``S3Client``: the facade. Each method checks its arguments, builds the operation's request,
hands it to the engine and reads the answer.

The operations themselves (builders and readers) are in ``rawS3.operations``; the engine that
signs, sends, retries and maps errors is ``rawS3.engine``, made on first use, so importing
this module loads neither asyncio nor aiohttp and presigning never needs them. The multipart
calls are in ``rawS3.multipart_calls``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from rawS3.bodies import DEFAULT_CHUNK_SIZE, BufferBody, SignedChunkedBody
from rawS3.bucket_calls import BucketCalls
from rawS3.checksums import check_algorithm
from rawS3.config import SigningClock, Timeouts, resolve_settings
from rawS3.errors import NoSuchKey
from rawS3.multipart_calls import MultipartCalls
from rawS3.operations import listing, objects
from rawS3.operations.request import Request
from rawS3.raw_calls import RawCalls
from rawS3.results import ObjectHead, PutResult
from rawS3.retry import RetryPolicy
from rawS3.streams import ObjectStream
from rawS3.tls import tls_context
from rawS3.urls import build_url
from rawS3.validation import check_bucket, check_key, check_positive_int

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterable

    import aiohttp

    from rawS3.engine import Engine
    from rawS3.transfer import MultipartUploader

__all__ = ["S3Client"]


class S3Client(MultipartCalls, BucketCalls, RawCalls):
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
        self._retry = retry or RetryPolicy()
        self._timeouts = timeouts or Timeouts()
        self._ssl = ssl_context or tls_context(verify=verify_tls, ca_file=ca_file)
        self._max_connections = check_positive_int("max_connections", max_connections)
        self._clock = SigningClock(clock)
        self._made: Engine | None = None

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
        return build_url(self._settings.endpoint, None).removesuffix("/")

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> S3Client:
        self._engine.reopen()
        self._engine.session()
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
        await self._engine.close()

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
        sign = self._settings.sign_payload
        payload = objects.put_body(
            body,
            size=size,
            sign=sign,
            md5=content_md5,
            checksum=check_algorithm(checksum),
            chunk_size=chunk_size,
        )
        request = objects.put_object(
            bucket, key, payload, content_type=content_type, metadata=metadata, headers=headers
        )
        if isinstance(payload, SignedChunkedBody) and payload.size == 0:
            payload = await _empty_stream(payload, sign=sign)
            request = dataclasses.replace(request, body=payload)
        reply = await self._engine.send(request)
        return objects.read_put_object(reply, payload, bucket, key)

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
        response = await self._engine.open(objects.get_object(bucket, key, start=start, end=end))
        try:
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
        try:
            reply = await self._engine.send(objects.head_object(bucket, key))
        except NoSuchKey:
            await self.head_bucket(bucket)
            raise
        return objects.read_head_object(reply)

    async def delete_object(self, bucket: str, key: str) -> None:
        """Delete one object; deleting a missing key succeeds, as S3 specifies.

        Args:
            bucket: the bucket.
            key: the object's key.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchBucket, other S3Error; TransportError.
        """
        await self._engine.send(objects.delete_object(bucket, key))

    async def delete_objects(
        self, bucket: str, keys: Iterable[str], *, quiet: bool = False
    ) -> objects.DeleteResult:
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
        wanted = objects.keys_to_delete(keys)
        deleted: list[objects.DeletedObject] = []
        errors: list[objects.DeleteError] = []
        for offset in range(0, len(wanted), objects.MAX_DELETE_KEYS):
            batch = wanted[offset : offset + objects.MAX_DELETE_KEYS]
            reply = await self._engine.send(objects.delete_objects(bucket, batch, quiet=quiet))
            result = objects.parse_delete_objects(reply.body)
            deleted.extend(result.deleted)
            errors.extend(result.errors)
        return objects.DeleteResult(deleted=tuple(deleted), errors=tuple(errors))

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[listing.ObjectInfo]:
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
    ) -> AsyncIterator[listing.ListObjectsPage]:
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

        def page_request(token: str | None) -> Request:
            return listing.list_objects_v2(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                start_after=start_after,
                page_size=page_size,
                token=token,
            )

        request = page_request(None)  # checks the arguments before anything is sent
        seen: set[str] = set()
        while True:
            page = listing.parse_list_objects_v2((await self._engine.send(request)).body)
            yield page
            if not page.is_truncated:
                return
            token = listing.next_marker(page.next_continuation_token, seen, "continuation token")
            request = page_request(token)

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> objects.CopyResult:
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
        request = objects.copy_object(
            source_bucket,
            source_key,
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
        )
        return objects.parse_copy_result((await self._engine.send(request)).body)

    @property
    def clock_offset(self) -> float:
        """Seconds added to the clock since a server said our time was off."""
        return self._clock.offset

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


async def _empty_stream(body: SignedChunkedBody, *, sign: bool) -> BufferBody:
    """Check an async-iterable body declared empty is empty, and send it as plain bytes.

    RGW 16 refuses an aws-chunked body with no data chunk (XAmzContentSHA256Mismatch); an
    empty body needs no streaming.
    """
    async for piece in body.source:
        if piece:
            raise ValueError(f"the body yielded {len(piece):,} bytes or more but size=0")
    return BufferBody(b"", sign=sign, md5=False)
