"""S3Client's object calls: PutObject, GetObject (whole or streamed), HeadObject, DeleteObject,
DeleteObjects and CopyObject (``rawS3.client.S3Client`` inherits them)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from rawS3.bodies import DEFAULT_CHUNK_SIZE, BufferBody, SignedChunkedBody
from rawS3.bucket_calls import BucketCalls
from rawS3.checksums import check_algorithm
from rawS3.encryption import SSECustomerKey, customer_key_headers
from rawS3.errors import NoSuchKey
from rawS3.operations import objects, versions
from rawS3.operations.conditions import copy_source_condition_headers
from rawS3.operations.copy_spec import CopySpec, content_headers
from rawS3.operations.options import (
    copy_directives,
    read_headers,
    tagging_directive_header,
    with_extras,
    write_headers,
)
from rawS3.operations.tagging import version_query
from rawS3.results import DeleteObjectResult, ObjectHead, PutResult, delete_from_headers
from rawS3.streams import ObjectStream
from rawS3.trailers import TrailerChunkedBody
from rawS3.validation import check_bucket
from rawS3.verify import check_require_checksum, required_verifier

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

__all__ = ["ObjectCalls"]


class ObjectCalls(BucketCalls):
    """The single-request object calls; HEAD falls back on HeadBucket to name what is missing."""

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
        if_match: str | None = None,
        if_none_match: str | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        server_side_encryption: str | None = None,
        sse_kms_key_id: str | None = None,
        tagging: Mapping[str, str] | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | None = None,
        query: Mapping[str, str | None] | None = None,
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
                returned ETag is then checked against it too (bytes-like bodies only: refused
                with an async iterable, whose MD5 is not known before it is sent).
            checksum: ``"crc32"``, ``"crc32c"``, ``"crc64nvme"``, ``"sha1"`` or ``"sha256"``
                (``None``: the client's ``checksum``, itself ``None`` by default). A bytes-like
                body sends it as an ``x-amz-checksum-*`` header; an iterable body computes it
                as it streams and sends it in a trailer (signed frames and trailer when the
                client signs payloads, else ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``). A
                checksum the server echoes is compared.
            chunk_size: the aws-chunked frame size for an iterable ``body``.
            if_match: write only if the current object has this ETag (412 otherwise). A
                conditional put retried after a lost answer that hears 412 checks the object
                with HEAD: an ETag equal to the MD5 of the body sent counts as success.
            if_none_match: ``"*"``: write only if the key is free (create only; 412
                ``PreconditionFailed`` if it exists, 409 ``ConditionalRequestConflict`` if
                another write to the key raced this one). Not with ``if_match``.
            sse_customer_key: encrypt with this ``SSECustomerKey`` (SSE-C); every later read
                must give it too.
            server_side_encryption: ``"AES256"`` (SSE-S3) or ``"aws:kms"`` (SSE-KMS).
            sse_kms_key_id: the KMS key, with ``"aws:kms"``.
            tagging: tags to store, a mapping of ``str`` to ``str``.
            cache_control: ``Cache-Control`` to store and serve.
            content_disposition: ``Content-Disposition`` to store and serve.
            content_encoding: ``Content-Encoding`` to store and serve.
            content_language: ``Content-Language`` to store and serve.
            expires: ``Expires`` to store and serve, an aware ``datetime``.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The ETag (and version id) the server gave, and the size sent.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent), or an iterable ``body``
                that does not yield exactly ``size`` bytes.
            IntegrityError: the ETag or an echoed checksum differs from what was sent.
            PreconditionFailed, ConditionalRequestConflict: a condition did not hold.
            S3Error: the server refused; TransportError: no usable answer.
        """
        sign = self._settings.sign_payload  # bucket and key: checked by objects.put_object
        payload = objects.put_body(
            body,
            size=size,
            sign=sign,
            md5=content_md5,
            checksum=check_algorithm(checksum) or self._checksum,
            chunk_size=chunk_size,
        )
        request = objects.put_object(
            bucket, key, payload, content_type=content_type, metadata=metadata, headers=headers
        )
        options = write_headers(
            if_match=if_match, if_none_match=if_none_match, sse_customer_key=sse_customer_key,
            server_side_encryption=server_side_encryption, sse_kms_key_id=sse_kms_key_id,
            tagging=tagging, cache_control=cache_control, content_disposition=content_disposition,
            content_encoding=content_encoding, content_language=content_language, expires=expires,
        )
        request = with_extras(request, options or None, query)
        if isinstance(payload, (SignedChunkedBody, TrailerChunkedBody)) and payload.size == 0:
            payload = await _empty_stream(payload, sign=sign)
            request = dataclasses.replace(request, body=payload)
        if not options and headers is None:  # no condition, so nothing for send_put to check
            reply = await self._engine.send(request)
        else:
            from rawS3.conditional_put import send_put  # with the engine: no asyncio at import

            reply = await send_put(self._engine, request)
        return objects.read_put_object(reply, payload, bucket, key)

    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        checksum_mode: bool = False,
        require_checksum: bool = False,
        version_id: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> bytes:
        """Return the object's body, or the inclusive byte range ``start``..``end``.

        A condition that does not hold raises: ``PreconditionFailed`` (412) for ``if_match``
        and ``if_unmodified_since``, ``NotModified`` (304) for ``if_none_match`` and
        ``if_modified_since``; catch ``NotModified`` to treat "unchanged" as an answer.

        Args:
            bucket: the bucket.
            key: the object's key.
            start: the first byte to read, from 0 (``None``: the whole object).
            end: the last byte to read, inclusive (``None``: to the end); needs ``start``.
            checksum_mode: ask for the stored checksum and verify the bytes against it
                (whole-object reads only). A server that returns none, or only a COMPOSITE
                multipart value, leaves the read unverified (see ``open_object``).
            require_checksum: with ``checksum_mode``, fail rather than read unverified.
            version_id: read this version (``None``: the current one).
            if_match: read only if the object has this ETag (or ``"*"``).
            if_none_match: read only if the object does not have this ETag.
            if_modified_since: read only if changed since, an aware ``datetime``.
            if_unmodified_since: read only if not changed since, an aware ``datetime``.
            sse_customer_key: the ``SSECustomerKey`` the object was written with (SSE-C).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The bytes.

        Raises:
            TypeError, ValueError: bad arguments, or a range with ``checksum_mode`` (nothing
                is sent).
            IntegrityError: the bytes do not match the stored checksum, or
                ``require_checksum`` and the answer carries no full-object checksum.
            NotModified, PreconditionFailed: a condition did not hold.
            NoSuchKey, NoSuchBucket, NoSuchVersion, InvalidRange, other S3Error;
                TransportError.
        """
        async with self.open_object(
            bucket, key, start=start, end=end, checksum_mode=checksum_mode, version_id=version_id,
            require_checksum=require_checksum, if_match=if_match, if_none_match=if_none_match,
            if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key, headers=headers, query=query,
        ) as stream:
            return await stream.read()

    @contextlib.asynccontextmanager
    async def open_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        checksum_mode: bool = False,
        require_checksum: bool = False,
        version_id: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> AsyncIterator[ObjectStream]:
        """Open the object for reading in pieces: ``async with client.open_object(b, k) as s``.

        The response is released when the block ends, read to the end or not. Conditions
        that do not hold raise as in ``get_object`` (``NotModified``, ``PreconditionFailed``).

        Args:
            bucket: the bucket.
            key: the object's key.
            start: the first byte to read, from 0 (``None``: the whole object).
            end: the last byte to read, inclusive (``None``: to the end); needs ``start``.
            checksum_mode: ask for the stored checksum (``x-amz-checksum-mode: ENABLED``) and
                verify the body as it is read to its end; ``stream.verifier`` is ``None`` when
                the answer carries no full-object checksum (the read is then unverified).
            require_checksum: with ``checksum_mode``, raise ``IntegrityError`` instead of
                yielding a stream that cannot be verified (before its body is read).
            version_id: read this version (``None``: the current one).
            if_match: read only if the object has this ETag (or ``"*"``).
            if_none_match: read only if the object does not have this ETag.
            if_modified_since: read only if changed since, an aware ``datetime``.
            if_unmodified_since: read only if not changed since, an aware ``datetime``.
            sse_customer_key: the ``SSECustomerKey`` the object was written with (SSE-C).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Yields:
            The open object: ``head`` (for a range, ``size`` is the range's length) and its
            body to read.

        Raises:
            TypeError, ValueError: bad arguments, e.g. ``end`` without ``start``, or a range
                with ``checksum_mode`` (nothing is sent).
            IntegrityError: (while reading) the body does not match the stored checksum;
                (on opening) ``require_checksum`` and no full-object checksum came.
            NotModified, PreconditionFailed: a condition did not hold.
            NoSuchKey, NoSuchBucket, InvalidRange, other S3Error; TransportError.
        """
        options = read_headers(
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
        )
        request = objects.get_object(
            bucket, key, start=start, end=end, checksum_mode=checksum_mode, headers=options,
            query=version_query(version_id),
        )
        check_require_checksum(checksum_mode, require_checksum)
        response = await self._engine.open(with_extras(request, headers, query))
        try:
            verifier = (
                required_verifier(
                    response.headers, what=f"{bucket}/{key}", required=require_checksum
                )
                if checksum_mode
                else None
            )
            yield ObjectStream(response, verifier)
        finally:
            response.release()

    async def head_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> ObjectHead:
        """Return the object's size, ETag, type, modification time, metadata and encryption.

        A HEAD answer has no body, so a 404 does not say whether the key or the bucket is
        missing; the bucket is then checked with a second HEAD to raise the right one.
        Conditions that do not hold raise as in ``get_object``.

        Args:
            bucket: the bucket.
            key: the object's key.
            version_id: this version (``None``: the current one).
            if_match: answer only if the object has this ETag (or ``"*"``).
            if_none_match: answer only if the object does not have this ETag.
            if_modified_since: answer only if changed since, an aware ``datetime``.
            if_unmodified_since: answer only if not changed since, an aware ``datetime``.
            sse_customer_key: the ``SSECustomerKey`` the object was written with (SSE-C).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The object's metadata.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NotModified, PreconditionFailed: a condition did not hold.
            NoSuchKey, NoSuchBucket, other S3Error; TransportError.
        """
        options = read_headers(
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
        )
        request = objects.head_object(bucket, key, headers=options, query=version_query(version_id))
        try:
            reply = await self._engine.send(with_extras(request, headers, query))
        except NoSuchKey:
            await self.head_bucket(bucket)
            raise
        return objects.read_head_object(reply)

    async def delete_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> DeleteObjectResult:
        """Delete one object; deleting a missing key succeeds, as S3 specifies.

        In a versioned bucket a delete without ``version_id`` makes a delete marker; with
        one it removes that version for good.

        Args:
            bucket: the bucket.
            key: the object's key.
            version_id: the version to remove (``None``: the current object).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The version id removed or made, and whether it is a delete marker.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchBucket, other S3Error; TransportError.
        """
        request = objects.delete_object(bucket, key, query=version_query(version_id))
        reply = await self._engine.send(with_extras(request, headers, query))
        return delete_from_headers(reply.headers)

    async def delete_objects(
        self,
        bucket: str,
        keys: Iterable[str | tuple[str, str | None]],
        *,
        quiet: bool = False,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> objects.DeleteResult:
        """Delete many objects, 1000 per DeleteObjects request, and merge the answers.

        Args:
            bucket: the bucket.
            keys: the keys to delete, any number: each a ``str`` (the current object) or a
                ``(key, version_id)`` tuple (that version); all are checked before anything
                is sent.
            quiet: ask the server to list only failures; ``deleted`` may then be empty
                (servers differ: some list every key anyway).
            headers: extra request headers, signed, sent with every batch.
            query: extra query parameters, signed, sent with every batch.

        Returns:
            The keys deleted and the per-key errors (a key that failed does not raise).

        Raises:
            TypeError, ValueError: a bad bucket or key (nothing is sent).
            S3Error: a whole request was refused; TransportError; ResponseError: an answer
                is not the XML S3 specifies.
        """
        check_bucket(bucket)
        wanted = versions.delete_targets(keys)
        # Every batch is built (and so checked) before the first is sent.
        requests = [
            with_extras(
                versions.delete_versions(
                    bucket, wanted[offset : offset + objects.MAX_DELETE_KEYS], quiet=quiet
                ),
                headers,
                query,
            )
            for offset in range(0, len(wanted), objects.MAX_DELETE_KEYS)
        ]
        deleted: list[objects.DeletedObject] = []
        errors: list[objects.DeleteError] = []
        for request in requests:
            reply = await self._engine.send(request)
            result = objects.parse_delete_objects(reply.body)
            deleted.extend(result.deleted)
            errors.extend(result.errors)
        return objects.DeleteResult(deleted=tuple(deleted), errors=tuple(errors))

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        multipart_threshold: int | None = None,
        part_size: int | None = None,
        concurrency: int | None = None,
        source_version_id: str | None = None,
        metadata_directive: str | None = None,
        tagging_directive: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        copy_source_if_match: str | None = None,
        copy_source_if_none_match: str | None = None,
        copy_source_if_modified_since: datetime | None = None,
        copy_source_if_unmodified_since: datetime | None = None,
        sse_customer_key: SSECustomerKey | None = None,
        copy_source_sse_customer_key: SSECustomerKey | None = None,
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
    ) -> objects.CopyResult:
        """Copy an object server-side.

        The source's metadata and content type are copied unless ``metadata``,
        ``content_type`` or a content header (``cache_control`` ...) is given; then all are
        replaced (``x-amz-metadata-directive: REPLACE``), metadata by ``metadata`` or by none.
        Its tags are copied unless ``tagging`` is given (``x-amz-tagging-directive:
        REPLACE``).

        A source over 5 GiB is copied in parts: when the server refuses the CopyObject as
        too large (S3's 400 ``InvalidRequest``), the source is read with HEAD and copied as
        UploadPartCopy parts of 64 MiB or more, four in flight, aborted on any failure or
        cancellation; a small copy costs no extra request. A copy in parts carries every
        option, each on the requests listed in ``rawS3.operations.copy_spec`` (COPY states
        the source's metadata, content headers and tags on Create).

        Args:
            source_bucket: the source's bucket.
            source_key: the source's key.
            bucket: the copy's bucket.
            key: the copy's key.
            metadata: new user metadata for the copy.
            content_type: a new content type for the copy.
            multipart_threshold: read the source's size with HEAD and, when it is larger
                than this (0 to 5 GiB), copy it as a multipart upload of UploadPartCopy
                parts pinned to the source's ETag, aborted on any failure or cancellation.
                ``None`` (the default): one CopyObject, in parts only when the server
                refuses it as over 5 GiB.
            part_size: bytes per part of a multipart copy, 5 MiB to 5 GiB (default 64 MiB,
                raised when 10,000 parts would not hold the source); needs
                ``multipart_threshold``.
            concurrency: parts of a multipart copy in flight at once (default 4); needs
                ``multipart_threshold``.
            source_version_id: copy this version of the source (``None``: the current one).
            metadata_directive: ``"COPY"`` or ``"REPLACE"``, to say it explicitly.
            tagging_directive: ``"COPY"`` or ``"REPLACE"``, to say it explicitly.
            if_match: write only if the target's current object has this ETag.
            if_none_match: ``"*"``: write only if the target key is free.
            copy_source_if_match: copy only if the source has this ETag.
            copy_source_if_none_match: copy only if the source does not have this ETag.
            copy_source_if_modified_since: copy only if the source changed since then.
            copy_source_if_unmodified_since: copy only if the source did not change since.
            sse_customer_key: encrypt the copy with this ``SSECustomerKey`` (SSE-C).
            copy_source_sse_customer_key: the SSE-C key the source was written with.
            server_side_encryption: ``"AES256"`` or ``"aws:kms"`` for the copy.
            sse_kms_key_id: the KMS key, with ``"aws:kms"``.
            tagging: the copy's tags (replacing the source's).
            cache_control: ``Cache-Control`` for the copy.
            content_disposition: ``Content-Disposition`` for the copy.
            content_encoding: ``Content-Encoding`` for the copy.
            content_language: ``Content-Language`` for the copy.
            expires: ``Expires`` for the copy, an aware ``datetime``.
            headers: extra request headers, signed (in parts: on Create).
            query: extra query parameters, signed (``None``: a bare name; in parts: on Create).

        Returns:
            The copy's ETag, modification time and version ids.

        Raises:
            TypeError, ValueError: bad arguments, e.g. ``metadata_directive="COPY"`` with
                new metadata (nothing is sent).
            PreconditionFailed: a condition did not hold (for a copy in parts, a 304 the
                source's HEAD answered is raised as this too, as CopyObject would).
            PreconditionFailed, IntegrityError: the source changed during a multipart copy
                (aborted; IntegrityError where the server ignores the pin, e.g. RGW 16).
            S3Error, including an error S3 reports inside a 200 answer; TransportError;
                ResponseError; UploadNotAborted: a multipart copy could not be aborted.
        """
        version_query(source_version_id)  # checks it before anything is sent
        options = write_headers(
            if_match=if_match, if_none_match=if_none_match, sse_customer_key=sse_customer_key,
            server_side_encryption=server_side_encryption, sse_kms_key_id=sse_kms_key_id,
            tagging=tagging, cache_control=cache_control, content_disposition=content_disposition,
            content_encoding=content_encoding, content_language=content_language, expires=expires,
        )
        options.update(
            copy_source_condition_headers(
                if_match=copy_source_if_match,
                if_none_match=copy_source_if_none_match,
                if_modified_since=copy_source_if_modified_since,
                if_unmodified_since=copy_source_if_unmodified_since,
            )
        )
        options.update(customer_key_headers(copy_source_sse_customer_key, copy_source=True))
        metadata_header = copy_directives(options, metadata, content_type, metadata_directive)
        tagging_header = tagging_directive_header(tagging, tagging_directive)
        request = objects.copy_object(
            source_bucket,
            source_key,
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
            headers={**options, **metadata_header, **tagging_header},
            source_version_id=source_version_id,
        )
        request = with_extras(request, headers, query)
        spec = CopySpec(
            source=(source_bucket, source_key), bucket=bucket, key=key,
            source_version_id=source_version_id, metadata=metadata, content_type=content_type,
            content_headers=content_headers(options),
            replace_metadata=metadata_header.get("x-amz-metadata-directive") == "REPLACE",
            tagging=tagging, copy_tags=tagging_directive != "REPLACE",
            if_match=if_match, if_none_match=if_none_match,
            copy_source_if_match=copy_source_if_match,
            copy_source_if_none_match=copy_source_if_none_match,
            copy_source_if_modified_since=copy_source_if_modified_since,
            copy_source_if_unmodified_since=copy_source_if_unmodified_since,
            sse_customer_key=sse_customer_key,
            copy_source_sse_customer_key=copy_source_sse_customer_key,
            server_side_encryption=server_side_encryption, sse_kms_key_id=sse_kms_key_id,
            headers=headers, query=query,
        )
        from rawS3.copying import copy_as_asked  # loads asyncio, as the engine does

        return await copy_as_asked(
            self,  # type: ignore[arg-type]  # an S3Client: only it has these calls
            spec, request, multipart_threshold=multipart_threshold, part_size=part_size,
            concurrency=concurrency,
        )


async def _empty_stream(
    body: SignedChunkedBody | TrailerChunkedBody, *, sign: bool
) -> BufferBody:
    """Check an async-iterable body declared empty is empty, and send it as plain bytes.

    RGW 16 refuses an aws-chunked body with no data chunk (XAmzContentSHA256Mismatch); an
    empty body needs no streaming.
    """
    async for piece in body.source:
        if piece:
            raise ValueError(f"the body yielded {len(piece):,} bytes or more but size=0")
    checksum = body.algorithm if isinstance(body, TrailerChunkedBody) else None
    return BufferBody(b"", sign=sign, md5=False, checksum=checksum)
