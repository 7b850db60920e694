"""``S3Client``: the facade. Each method checks its arguments, builds the operation's request,
hands it to the engine and reads the answer.

The operations themselves (builders and readers) are in ``rawS3.operations``; the engine that
signs, sends, retries and maps errors is ``rawS3.engine``, made on first use, so importing
this module loads neither asyncio nor aiohttp and presigning never needs them. The multipart
calls are in ``rawS3.multipart_calls``, the object calls in ``rawS3.object_calls``, the listing
calls in ``rawS3.listing_calls`` and the bucket calls and presigning in ``rawS3.bucket_calls``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from rawS3.checksums import check_algorithm
from rawS3.config import SigningClock, Timeouts
from rawS3.configuration import configure
from rawS3.listing_calls import ListingCalls
from rawS3.multipart_calls import MultipartCalls
from rawS3.object_calls import ObjectCalls
from rawS3.operations.extras import check_put_extras
from rawS3.operations.options import UploadOptions
from rawS3.presign_calls import PresignCalls
from rawS3.raw_calls import RawCalls
from rawS3.retry import RetryPolicy
from rawS3.tagging_calls import TaggingCalls
from rawS3.tls import DeferredCA, tls_context
from rawS3.transfer_calls import TransferCalls
from rawS3.upload_calls import UploadCalls
from rawS3.urls import build_url
from rawS3.validation import check_positive_int
from rawS3.version_calls import VersionCalls

if TYPE_CHECKING:
    import ssl

    import aiohttp

    from rawS3.credentials import CredentialsProvider
    from rawS3.encryption import SSECustomerKey
    from rawS3.engine import Engine
    from rawS3.progress import ProgressCallback
    from rawS3.sigv4 import Credentials
    from rawS3.transfer import MultipartUploader

__all__ = ["S3Client"]


class S3Client(
    ObjectCalls, ListingCalls, MultipartCalls, RawCalls, PresignCalls, TransferCalls, UploadCalls,
    VersionCalls, TaggingCalls,
):
    """An S3 client over aiohttp with its own SigV4 signing.

    Args:
        endpoint_url: e.g. ``http://127.0.0.1:9000``; else ``AWS_ENDPOINT_URL_S3``,
            ``AWS_ENDPOINT_URL``, else AWS's regional endpoint.
        aws_access_key_id: else ``AWS_ACCESS_KEY_ID``.
        aws_secret_access_key: else ``AWS_SECRET_ACCESS_KEY``.
        aws_session_token: for temporary credentials; else ``AWS_SESSION_TOKEN``.
        region: signing region; else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's
            ``region``, ``us-east-1``.
        addressing: ``"path"`` (``host/bucket/key``, the default) or ``"virtual"``
            (``bucket.host/key``); else the profile's ``s3`` ``addressing_style``.
        session: an ``aiohttp.ClientSession`` to borrow; it is used as is and never closed
            here. Without one the client makes its own on first use and closes it in ``close``.
        retry: the ``RetryPolicy``; ``RetryPolicy(attempts=1)`` turns retries off. Without
            one, ``AWS_MAX_ATTEMPTS`` or the profile's ``max_attempts`` sets the attempts.
        timeouts: connect / read / total limits for each exchange on the session the client
            makes (a borrowed ``session`` keeps its own); source downloads use the connect
            and read limits.
        payload_signing: ``"signed"`` (the default) hashes every bytes-like body into the
            signature, over http and https alike: SHA-256 costs less CPU than the Content-MD5
            that an unsigned body carries instead (see the README's benchmarks), and servers
            that check payload hashes (RGW, Swift, AWS) verify it. ``"unsigned"`` sends
            ``UNSIGNED-PAYLOAD`` (+ Content-MD5); ``"auto"`` signs over http only.
        verify_tls: check the server's certificate (default ``True``).
        ca_file: a PEM file of CA certificates to trust instead of the system's; else
            ``AWS_CA_BUNDLE`` or the profile's ``ca_bundle`` (for an http endpoint read at
            the first TLS connection, an https proxy's or a raw request's, if any).
        ssl_context: an ``ssl.SSLContext`` to use as is (overrides the two above).
        max_connections: size of the connection pool the client creates.
        clock: seconds since the epoch; ``time.time`` unless a test needs another clock.
        checksum: an algorithm (``"crc32"``, ``"crc32c"``, ``"crc64nvme"``, ``"sha1"``,
            ``"sha256"``) that uploads send when a call names none; ``None`` (the default)
            sends none, as many S3-compatible servers refuse what they do not know.
        credentials: fixed ``Credentials``, or a provider (anything with
            ``async fetch() -> Credentials``), refreshed before its credentials expire.
            Without it and without keys, the standard chain finds them (see the README).
        profile: the profile of ``~/.aws/config`` and ``~/.aws/credentials`` to use; else
            ``AWS_PROFILE``, else ``default``.

    Raises:
        TypeError: an option of the wrong type (e.g. a non-``str`` endpoint or key).
        ValueError: half a key pair, or an unusable endpoint or option.
        CredentialsError: a shared file is unreadable or not INI, a named profile does not
            exist, or the source the chain chose is configured wrongly (nothing is sent).
        OSError: the CA file cannot be read (``ssl.SSLError``: it holds no certificate).
    """

    def __init__(
        self,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        *,
        aws_session_token: str | None = None,
        region: str | None = None,
        addressing: str | None = None,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        payload_signing: str = "signed",
        verify_tls: bool = True,
        ca_file: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 64,
        clock: Callable[[], float] = time.time,
        checksum: str | None = None,
        credentials: Credentials | CredentialsProvider | None = None,
        profile: str | None = None,
    ) -> None:
        found = configure(
            credentials=credentials,
            access_key=aws_access_key_id,
            secret_key=aws_secret_access_key,
            session_token=aws_session_token,
            profile=profile,
            endpoint_url=endpoint_url,
            region=region,
            addressing=addressing,
            payload_signing=payload_signing,
            env=os.environ,
            read_clock=clock,
        )
        self._settings = found.settings
        self._keys = found.keys
        self._borrowed = session
        attempts = found.max_attempts
        self._retry = retry or (RetryPolicy(attempts=attempts) if attempts else RetryPolicy())
        self._timeouts = timeouts or Timeouts()
        found_ca = found.ca_bundle if ca_file is None and verify_tls else None
        http = self._settings.endpoint.scheme == "http"
        self._ssl = ssl_context or (
            DeferredCA(found_ca) if found_ca and http
            else tls_context(verify=verify_tls, ca_file=ca_file or found.ca_bundle)
        )
        self._max_connections = check_positive_int("max_connections", max_connections)
        self._clock = SigningClock(clock)
        self._made: Engine | None = None
        self._checksum = check_algorithm(checksum)

    def __repr__(self) -> str:
        s = self._settings
        return (
            f"S3Client(endpoint={self.endpoint_url!r}, region={s.region!r}, "
            f"credentials={self._keys.last!r}, source={self._keys.name!r})"
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

    # -- one-call uploads -----------------------------------------------------------------

    async def upload_file(
        self,
        bucket: str,
        path: str,
        buffer: bytes,
        *,
        checksum: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Store ``buffer`` as the object ``bucket``/``path``.

        Args:
            bucket: the bucket.
            path: the object's key.
            buffer: the object's bytes.
            checksum: an additional checksum to send (``None``: the client's ``checksum``).
            headers: extra request headers, signed (e.g. ``x-amz-meta-*``).
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            S3Error: the server refused; TransportError: no usable answer.
        """
        check_put_extras(headers, query)
        await self.put_object(bucket, path, buffer, checksum=checksum, headers=headers, query=query)

    async def fetch_and_upload(
        self,
        bucket: str,
        path: str,
        url: str,
        *,
        max_size: int | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Download ``url`` whole into memory, then store it as ``bucket``/``path``.

        Args:
            bucket: the bucket.
            path: the object's key.
            url: the http(s) URL to download.
            max_size: refuse (``SourceError``) a download larger than this many bytes.
            headers: extra headers, signed, on the PutObject (e.g. ``x-amz-meta-*``).
            query: extra query parameters, signed, on the PutObject.

        Raises:
            TypeError, ValueError: a bad bucket, key or URL (nothing is downloaded).
            SourceError: the download failed, answered non-2xx, or exceeded ``max_size``;
                nothing is sent to S3 then.
            S3Error, TransportError: the upload failed.
        """
        from rawS3.url_uploads import fetch_and_upload

        check_put_extras(headers, query)  # before anything is downloaded
        await fetch_and_upload(
            self, bucket, path, url, max_size=max_size, headers=headers, query=query
        )

    async def stream_upload(
        self,
        bucket: str,
        path: str,
        url: str,
        *,
        part_size: int | None = None,
        concurrency: int = 4,
        checksum: str | None = None,
        checksum_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
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
            checksum: an algorithm every part carries (``None``: the client's ``checksum``).
            checksum_type: ``"COMPOSITE"`` or ``"FULL_OBJECT"``, see ``MultipartUploader``.
            headers: extra headers, signed, on CreateMultipartUpload (e.g. ``x-amz-meta-*``),
                as ``MultipartUploader`` sends them.
            query: extra query parameters, signed, on CreateMultipartUpload.

        Raises:
            TypeError, ValueError: bad arguments (nothing is downloaded or sent).
            SourceError: the download failed or ended early; S3Error, TransportError: the
                upload failed. The upload is aborted in every case.
            IntegrityError: the server reports another object checksum than the parts make.
        """
        from rawS3.url_uploads import stream_upload

        await stream_upload(
            self,
            bucket,
            path,
            url,
            part_size=part_size,
            concurrency=concurrency,
            checksum=check_algorithm(checksum) or self._checksum,  # "" is refused, not ignored
            checksum_type=checksum_type,
            options=UploadOptions(headers=headers, query=query),
        )

    async def fetch_credentials(self) -> Credentials:
        """Return the credentials requests are signed with now, fetching them if due.

        With a provider (or a chain source that sends a request) the first call fetches
        them and later calls refresh them before they expire; presigning and ``prepare``
        then sign with them without fetching.

        Returns:
            The current credentials (``repr`` shows the access key only).

        Raises:
            CredentialsError: none can be had from the source.
        """
        return await self._keys.current()

    @property
    def credentials_source(self) -> str:
        """Where the credentials come from, e.g. ``"environment"`` or ``"profile dev in ..."``."""
        return self._keys.name

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
        concurrency: int | Literal["auto"] = "auto",
        max_memory: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        server_side_encryption: str | None = None,
        sse_kms_key_id: str | None = None,
        tagging: Mapping[str, str] | None = None,
        checksum: str | None = None,
        checksum_type: str | None = None,
        on_progress: ProgressCallback | None = None,
        resume: str | None = None,
        keep_on_failure: bool = False,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> MultipartUploader:
        """Return a ``MultipartUploader`` for ``bucket``/``key`` (see its documentation).

        Nothing is sent until the first part is full.

        Args:
            bucket: the bucket.
            key: the object's key.
            part_size: bytes per part, 5 MiB to 5 GiB (default 8 MiB).
            concurrency: parts uploading at once, or ``"auto"`` (the default): 8, doubled
                to 16 while the throughput grows, within ``max_memory``.
            max_memory: a budget for the part data in flight (``"auto"``'s default:
                128 MiB); see ``MultipartUploader``.
            content_type: stored with the object.
            metadata: user metadata stored with the object (as ``x-amz-meta-*``).
            if_match: complete only if the current object has this ETag.
            if_none_match: ``"*"``: complete only if the key is free (create only): sent on
                CompleteMultipartUpload, which then fails with ``PreconditionFailed`` (the
                upload is aborted) if another writer created the key meanwhile.
            sse_customer_key: encrypt with this ``SSECustomerKey`` (SSE-C), sent on Create
                and with every part.
            server_side_encryption: ``"AES256"`` (SSE-S3) or ``"aws:kms"`` (SSE-KMS).
            sse_kms_key_id: the KMS key, with ``"aws:kms"``.
            tagging: tags to store, a mapping of ``str`` to ``str``.
            checksum: an algorithm every part carries (``None``: the client's ``checksum``).
            checksum_type: ``"COMPOSITE"`` or ``"FULL_OBJECT"``, see ``MultipartUploader``.
            on_progress: called with a ``TransferProgress`` as the server acknowledges
                parts (see ``MultipartUploader``).
            resume: the id of an interrupted upload to continue: stored parts that hold the
                bytes written again are not sent again.
            keep_on_failure: keep the upload on failure and raise ``UploadInterrupted``.
            headers: extra headers, signed, on the request that defines the object:
                CreateMultipartUpload, or the PutObject that replaces an empty upload;
                parts, Complete and Abort do not carry them (see ``UploadOptions``).
            query: extra query parameters, signed, on that same request.

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
            max_memory=max_memory,
            content_type=content_type,
            metadata=metadata,
            options=UploadOptions(
                if_match=if_match,
                if_none_match=if_none_match,
                sse_customer_key=sse_customer_key,
                server_side_encryption=server_side_encryption,
                sse_kms_key_id=sse_kms_key_id,
                tagging=tagging,
                headers=headers,
                query=query,
            ),
            checksum=check_algorithm(checksum) or self._checksum,  # "" is refused, not ignored
            checksum_type=checksum_type,
            on_progress=on_progress,
            resume=resume,
            keep_on_failure=keep_on_failure,
        )
