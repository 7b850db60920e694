"""S3Client's object calls: PutObject, GetObject (whole or streamed), HeadObject, DeleteObject,
DeleteObjects and CopyObject (``rawS3.client.S3Client`` inherits them)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING

from rawS3.bodies import DEFAULT_CHUNK_SIZE, BufferBody, SignedChunkedBody
from rawS3.bucket_calls import BucketCalls
from rawS3.checksums import check_algorithm
from rawS3.errors import NoSuchKey
from rawS3.operations import objects
from rawS3.results import ObjectHead, PutResult
from rawS3.streams import ObjectStream
from rawS3.trailers import TrailerChunkedBody
from rawS3.validation import check_bucket, check_key
from rawS3.verify import ChecksumVerifier

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
            checksum: ``"crc32"``, ``"crc32c"``, ``"crc64nvme"``, ``"sha1"`` or ``"sha256"``
                (``None``: the client's ``checksum``, itself ``None`` by default). A bytes-like
                body sends it as an ``x-amz-checksum-*`` header; an iterable body computes it
                as it streams and sends it in a trailer (signed frames and trailer when the
                client signs payloads, else ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``). A
                checksum the server echoes is compared.
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
            checksum=check_algorithm(checksum) or self._checksum,
            chunk_size=chunk_size,
        )
        request = objects.put_object(
            bucket, key, payload, content_type=content_type, metadata=metadata, headers=headers
        )
        if isinstance(payload, SignedChunkedBody | TrailerChunkedBody) and payload.size == 0:
            payload = await _empty_stream(payload, sign=sign)
            request = dataclasses.replace(request, body=payload)
        reply = await self._engine.send(request)
        return objects.read_put_object(reply, payload, bucket, key)

    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        checksum_mode: bool = False,
    ) -> bytes:
        """Return the object's body, or the inclusive byte range ``start``..``end``.

        Args:
            bucket: the bucket.
            key: the object's key.
            start: the first byte to read, from 0 (``None``: the whole object).
            end: the last byte to read, inclusive (``None``: to the end); needs ``start``.
            checksum_mode: ask for the stored checksum and verify the bytes against it
                (whole-object reads only). A server that returns none, or only a COMPOSITE
                multipart value, leaves the read unverified (see ``open_object``).

        Returns:
            The bytes.

        Raises:
            TypeError, ValueError: bad arguments, or a range with ``checksum_mode`` (nothing
                is sent).
            IntegrityError: the bytes do not match the stored checksum.
            NoSuchKey, NoSuchBucket, InvalidRange, other S3Error; TransportError.
        """
        async with self.open_object(
            bucket, key, start=start, end=end, checksum_mode=checksum_mode
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
    ) -> AsyncIterator[ObjectStream]:
        """Open the object for reading in pieces: ``async with client.open_object(b, k) as s``.

        The response is released when the block ends, read to the end or not.

        Args:
            bucket: the bucket.
            key: the object's key.
            start: the first byte to read, from 0 (``None``: the whole object).
            end: the last byte to read, inclusive (``None``: to the end); needs ``start``.
            checksum_mode: ask for the stored checksum (``x-amz-checksum-mode: ENABLED``) and
                verify the body as it is read to its end; ``stream.verifier`` is ``None`` when
                the answer carries no full-object checksum (the read is then unverified).

        Yields:
            The open object: ``head`` (for a range, ``size`` is the range's length) and its
            body to read.

        Raises:
            TypeError, ValueError: bad arguments, e.g. ``end`` without ``start``, or a range
                with ``checksum_mode`` (nothing is sent).
            IntegrityError: (while reading) the body does not match the stored checksum.
            NoSuchKey, NoSuchBucket, InvalidRange, other S3Error; TransportError.
        """
        request = objects.get_object(
            bucket, key, start=start, end=end, checksum_mode=checksum_mode
        )
        response = await self._engine.open(request)
        try:
            verifier = (
                ChecksumVerifier.from_headers(response.headers, what=f"{bucket}/{key}")
                if checksum_mode
                else None
            )
            yield ObjectStream(response, verifier)
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
            multipart_threshold: read the source's size with HEAD and, when it is larger
                than this (0 to 5 GiB), copy it as a multipart upload of UploadPartCopy
                parts pinned to the source's ETag, aborted on any failure or cancellation.
                ``None`` (the default): one CopyObject, which S3 limits to 5 GiB sources.
            part_size: bytes per part of a multipart copy, 5 MiB to 5 GiB (default 64 MiB,
                raised when 10,000 parts would not hold the source); needs
                ``multipart_threshold``.
            concurrency: parts of a multipart copy in flight at once (default 4); needs
                ``multipart_threshold``.

        Returns:
            The copy's ETag and modification time.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            PreconditionFailed, IntegrityError: the source changed during a multipart copy
                (aborted; IntegrityError where the server ignores the pin, e.g. RGW 16).
            S3Error, including an error S3 reports inside a 200 answer; TransportError;
                ResponseError; UploadNotAborted: a multipart copy could not be aborted.
        """
        if multipart_threshold is not None or part_size is not None or concurrency is not None:
            from rawS3.copying import copy_any_size  # loads asyncio, as the engine does

            return await copy_any_size(
                self,  # type: ignore[arg-type]  # an S3Client: only it has these calls
                (source_bucket, source_key),
                bucket,
                key,
                metadata=metadata,
                content_type=content_type,
                multipart_threshold=multipart_threshold,
                part_size=part_size,
                concurrency=concurrency,
            )
        request = objects.copy_object(
            source_bucket,
            source_key,
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
        )
        return objects.parse_copy_result((await self._engine.send(request)).body)


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
