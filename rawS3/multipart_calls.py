"""S3Client's multipart calls, one request at a time, and the ground every facade part stands on.

``Facade`` holds what a client is made of (settings, the signing clock, and the engine, made
on first use so that importing rawS3 loads neither asyncio nor aiohttp). ``MultipartCalls``
adds CreateMultipartUpload (which owns what it may have created until it returns an id),
UploadPart, UploadPartCopy, Complete (with the lost-answer safeguard), Abort, ListParts and
ListMultipartUploads. The safeguards of Create and Complete, and the listing they use, are the
engine's (``rawS3.safeguards``); ``rawS3.client.S3Client`` builds on both classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from rawS3.bodies import DEFAULT_CHUNK_SIZE, SignedChunkedBody
from rawS3.checksums import check_algorithm
from rawS3.config import Settings, SigningClock, Timeouts
from rawS3.encryption import SSECustomerKey, customer_key_headers
from rawS3.errors import CredentialsError, ResponseError
from rawS3.operations import multipart, multipart_xml, objects
from rawS3.operations.conditions import copy_source_condition_headers, write_condition_headers
from rawS3.operations.multipart_checksums import check_reported_checksum, object_checksum
from rawS3.operations.options import with_extras, write_headers
from rawS3.operations.tagging import version_query
from rawS3.results import PutResult, UploadedPart
from rawS3.retry import RetryPolicy
from rawS3.trailers import TrailerChunkedBody
from rawS3.urls import encode_component

if TYPE_CHECKING:
    import aiohttp

    from rawS3.engine import Engine
    from rawS3.refresh import CredentialsCache
    from rawS3.sigv4 import Credentials

__all__ = ["Facade", "MultipartCalls"]


class Facade:
    """What every part of ``S3Client`` shares: its settings, its clock and its engine."""

    _settings: Settings
    _clock: SigningClock
    _borrowed: aiohttp.ClientSession | None
    _retry: RetryPolicy
    _timeouts: Timeouts
    _ssl: object
    _max_connections: int
    _made: Engine | None
    # The client's default checksum algorithm (S3Client(checksum=...)); None: none sent.
    _checksum: str | None = None
    _keys: CredentialsCache

    def _signing_credentials(self) -> Credentials:
        """The credentials to sign with without fetching (presigning, ``prepare``).

        Raises:
            CredentialsError: a provider's credentials have not been fetched yet, or have
                expired: ``await client.fetch_credentials()`` (or any request) fetches them.
        """
        held = self._keys.usable_now()
        if held is None:
            raise CredentialsError(
                self._keys.name,
                "no current credentials to sign with: presigning and prepare() do not fetch; "
                "await client.fetch_credentials() first",
            )
        return held

    @property
    def _engine(self) -> Engine:
        # The one lazy boundary: asyncio and aiohttp load with the engine, on first use.
        if self._made is None:
            from rawS3.engine import Engine

            self._made = Engine(
                self._settings,
                self._clock,
                session=self._borrowed,
                retry=self._retry,
                timeouts=self._timeouts,
                ssl=self._ssl,
                max_connections=self._max_connections,
                keys=self._keys,
            )
        return self._made


class MultipartCalls(Facade):
    """The multipart operations of ``S3Client``, each one request (or a short exchange)."""

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksum: str | None = None,
        checksum_type: str | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        server_side_encryption: str | None = None,
        sse_kms_key_id: str | None = None,
        tagging: Mapping[str, str] | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
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
            checksum: the algorithm every part will carry (``"crc32"``, ``"crc32c"``,
                ``"crc64nvme"``, ``"sha1"``, ``"sha256"``; ``None``: the client's).
            checksum_type: ``"COMPOSITE"`` (checksum of the part checksums) or
                ``"FULL_OBJECT"`` (CRC of the whole object; CRCs only), declared as
                ``x-amz-checksum-type``; ``None`` declares none. Pass the same to
                ``complete_multipart_upload``.
            sse_customer_key: encrypt with this ``SSECustomerKey`` (SSE-C); every part must
                be sent with it too.
            server_side_encryption: ``"AES256"`` (SSE-S3) or ``"aws:kms"`` (SSE-KMS).
            sse_kms_key_id: the KMS key, with ``"aws:kms"``.
            tagging: tags to store, a mapping of ``str`` to ``str``.
            cache_control: ``Cache-Control`` to store.
            content_disposition: ``Content-Disposition`` to store.
            content_encoding: ``Content-Encoding`` to store.
            content_language: ``Content-Language`` to store.
            expires: ``Expires`` to store, an aware ``datetime``.
            headers: further headers stored with the object, sent and signed as given
                (e.g. ``Cache-Control``, ``Content-Encoding``, ``Content-Disposition``).
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The new upload's id.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        from rawS3 import safeguards  # with the engine: importing rawS3 loads no asyncio

        request = multipart.create_multipart_upload(
            bucket,
            key,
            content_type=content_type,
            metadata=metadata,
            checksum=check_algorithm(checksum) or self._checksum,
            checksum_type=checksum_type,
            headers=headers,
        )
        options = write_headers(
            sse_customer_key=sse_customer_key,
            server_side_encryption=server_side_encryption,
            sse_kms_key_id=sse_kms_key_id,
            tagging=tagging,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
        )
        # headers= went to the builder, stored with the object; query= is added here.
        request = with_extras(with_extras(request, options), None, query)
        lost = multipart.LostCreates(bucket, key, self._clock.now())
        return await safeguards.create(self._engine, request, lost)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        data: bytes | bytearray | memoryview | AsyncIterable[bytes],
        *,
        content_md5: bool | None = None,
        checksum: str | None = None,
        size: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        sse_customer_key: SSECustomerKey | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> UploadedPart:
        """Upload one part (1..10000) and return its number and ETag.

        Every part is guarded on the wire: the server refuses a corrupted one. With a signed
        payload (the default, http and https alike) the server checks the part's signed SHA-256;
        with ``payload_signing="unsigned"`` (or ``"auto"`` over https) ``Content-MD5`` is sent
        instead and the returned ETag is checked against it. MD5 is the costliest hash per
        byte, so it is not paid twice; ``content_md5=True`` asks for it anyway. ``checksum`` adds an
        ``x-amz-checksum-*`` header (the upload must have been created with the same one).

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.
            part_number: 1 to 10,000.
            data: the part's bytes; 5 MiB or more unless it is the last part. An async
                iterable of exactly ``size`` bytes is streamed as aws-chunked frames, with
                ``checksum`` computed on the way and sent in a trailer (signed when the client
                signs payloads), so the part is read once; it is sent once, never retried.
            content_md5: send ``Content-MD5`` and check the returned ETag against it;
                ``None`` (the default) does so when the payload is not signed (buffers only:
                ``True`` with an iterable ``data`` is refused, its MD5 is not known in time).
            checksum: the algorithm declared at creation (``None``: the client's).
            size: the exact size of an iterable ``data``.
            chunk_size: the aws-chunked frame size for an iterable ``data``.
            sse_customer_key: the ``SSECustomerKey`` the upload was created with (SSE-C).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The part's number, ETag, size and checksum, as ``complete_multipart_upload``
            takes them.

        Raises:
            TypeError, ValueError: a bad part number, upload id, ``data`` or ``checksum``
                (nothing is sent).
            IntegrityError: the ETag is not the MD5 of the part, or an echoed checksum
                differs; NoSuchUpload, other S3Error; TransportError.
        """
        sign = self._settings.sign_payload
        request = multipart.upload_part(
            bucket,
            key,
            upload_id,
            part_number,
            data,
            sign=sign,
            # The default MD5 is for buffers; asked for a stream, it is refused.
            md5=not (sign or hasattr(data, "__aiter__")) if content_md5 is None else content_md5,
            checksum=check_algorithm(checksum) or self._checksum,
            size=size,
            chunk_size=chunk_size,
        )
        body = request.body
        if isinstance(body, SignedChunkedBody | TrailerChunkedBody) and body.size == 0:
            # As put_object does: RGW 16 refuses an aws-chunked body without a data chunk.
            from rawS3.object_calls import _empty_stream  # object_calls imports this module

            request = dataclasses.replace(request, body=await _empty_stream(body, sign=sign))
        request = with_extras(request, customer_key_headers(sse_customer_key))
        request = with_extras(request, headers, query)
        return multipart.read_upload_part(await self._engine.send(request), request)

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
        source_version_id: str | None = None,
        copy_source_if_match: str | None = None,
        copy_source_if_none_match: str | None = None,
        copy_source_if_modified_since: datetime | None = None,
        copy_source_if_unmodified_since: datetime | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        copy_source_sse_customer_key: SSECustomerKey | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
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
            source_version_id: copy from this version of the source.
            copy_source_if_match: copy only if the source has this ETag.
            copy_source_if_none_match: copy only if the source does not have this ETag.
            copy_source_if_modified_since: copy only if the source changed since then.
            copy_source_if_unmodified_since: copy only if the source did not change since.
            sse_customer_key: the ``SSECustomerKey`` the upload was created with (SSE-C).
            copy_source_sse_customer_key: the SSE-C key the source was written with.
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The part's number, ETag and size, as ``complete_multipart_upload`` takes them.

        Raises:
            TypeError, ValueError: bad arguments, e.g. only one of ``start`` and ``end``
                (nothing is sent).
            NoSuchKey, NoSuchUpload, InvalidRange, other S3Error (also one S3 sends inside a
                200 answer); TransportError; ResponseError.
        """
        request = multipart.upload_part_copy(
            bucket, key, upload_id, part_number, (source_bucket, source_key), start=start, end=end
        )
        version = version_query(source_version_id)
        if version:
            encoded = encode_component(str(version[0][1]))
            source = f"{request.headers['x-amz-copy-source']}?versionId={encoded}"
            request = dataclasses.replace(
                request, headers={**request.headers, "x-amz-copy-source": source}
            )
        options = copy_source_condition_headers(
            if_match=copy_source_if_match,
            if_none_match=copy_source_if_none_match,
            if_modified_since=copy_source_if_modified_since,
            if_unmodified_since=copy_source_if_unmodified_since,
        )
        options.update(customer_key_headers(sse_customer_key))
        options.update(customer_key_headers(copy_source_sse_customer_key, copy_source=True))
        request = with_extras(with_extras(request, options), headers, query)
        if start is not None and end is not None:
            size = end - start + 1
        else:
            source_head = objects.head_object(
                source_bucket,
                source_key,
                headers=customer_key_headers(copy_source_sse_customer_key),
                query=version,
            )
            size = objects.read_head_object(await self._engine.send(source_head)).size
        result = objects.parse_copy_result((await self._engine.send(request)).body)
        return UploadedPart(part_number, result.etag, size)

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Iterable[UploadedPart],
        *,
        checksum_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
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
            checksum_type: the type given to ``create_multipart_upload``: the object
                checksum is then computed from the part checksums (FULL_OBJECT: combined
                CRCs, sent for the server to compare) and compared with any value the
                server reports.
            if_match: complete only if the current object has this ETag.
            if_none_match: ``"*"``: complete only if the key is free (create only).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The object's ETag as the server sent it, version id, part count, size and
            object checksum.

        Raises:
            TypeError: a part is not an ``UploadedPart``.
            ValueError: no parts, a part number given twice, or an empty upload id (nothing
                is sent).
            EntityTooSmall, InvalidPart, NoSuchUpload, other S3Error (also one S3 sends inside
                a 200 answer); TransportError; ResponseError.
            IntegrityError: the server reports another object checksum than the parts make.
        """
        from rawS3 import safeguards

        request, ordered = multipart.complete_multipart_upload(
            bucket, key, upload_id, parts, checksum_type=checksum_type
        )
        conditions = write_condition_headers(if_match=if_match, if_none_match=if_none_match)
        request = with_extras(with_extras(request, conditions), headers, query)
        result = await safeguards.complete(self._engine, request, bucket, key, ordered)
        expected = object_checksum(ordered, checksum_type)
        check_reported_checksum(result.checksum, expected, f"{bucket}/{key}")
        return dataclasses.replace(result, checksum=expected or result.checksum)

    async def abort_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Abort a multipart upload, freeing its parts. ``NoSuchUpload`` if it is gone.

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchUpload, other S3Error; TransportError.
        """
        request = multipart.abort_multipart_upload(bucket, key, upload_id)
        await self._engine.send(with_extras(request, headers, query))

    async def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> list[multipart_xml.PartInfo]:
        """Return every part uploaded so far, following pages.

        Args:
            bucket: the bucket.
            key: the object's key.
            upload_id: the id ``create_multipart_upload`` returned.
            headers: extra request headers, signed, sent with every page.
            query: extra query parameters, signed, sent with every page.

        Returns:
            The parts, in the server's order (ascending part number).

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchUpload, other S3Error; TransportError; ResponseError.
        """
        parts: list[multipart_xml.PartInfo] = []
        marker = 0
        while True:
            request = multipart.list_parts(bucket, key, upload_id, marker=marker)
            request = with_extras(request, headers, query)
            page = multipart_xml.parse_list_parts((await self._engine.send(request)).body)
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
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> list[multipart_xml.UploadInfo]:
        """Return every multipart upload in progress in the bucket (under ``prefix``).

        Args:
            bucket: the bucket.
            prefix: only uploads of keys that start with this.
            headers: extra request headers, signed, sent with every page.
            query: extra query parameters, signed, sent with every page.

        Returns:
            The uploads, following pages.

        Raises:
            TypeError, ValueError: a bad bucket name (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        from rawS3 import safeguards

        return await safeguards.list_uploads(
            self._engine, bucket, prefix=prefix, headers=headers, query=query
        )
