"""Server-side copies of any size: one CopyObject, or a multipart copy done in parallel.

S3 copies at most 5 GiB in one CopyObject. Above a threshold (5 GiB at most) the copy is a
multipart upload whose parts are UploadPartCopy requests of byte ranges of the source, a
bounded number in flight, then CompleteMultipartUpload. The source's size and ETag come from
one HEAD; every part is pinned to that ETag (``x-amz-copy-source-if-match``), so a source
replaced mid-copy makes the copy fail with ``PreconditionFailed`` rather than join pieces
of two objects. Where a server ignores that header (measured: RGW 16.2.15, moto 5.2) a second
HEAD of the source before Complete catches it: a changed ETag raises ``IntegrityError``.
From the moment Create is sent one owner holds the upload: any failure or cancellation
aborts it (``UploadNotAborted`` when the server cannot be told).

asyncio is imported here: this module is loaded with the engine, on first use.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from rawS3.cleanup import abort_or_hand_over, run_to_end
from rawS3.errors import IntegrityError, ResponseError
from rawS3.operations import multipart, objects
from rawS3.parts import MAX_PART_SIZE, check_part_size, part_size_for_total, split
from rawS3.results import ObjectHead, UploadedPart
from rawS3.validation import check_metadata, check_positive_int

if TYPE_CHECKING:
    from rawS3.client import S3Client

__all__ = ["DEFAULT_COPY_CONCURRENCY", "DEFAULT_COPY_PART_SIZE", "MAX_COPY_SIZE", "copy_any_size"]

MiB = 1024 * 1024
MAX_COPY_SIZE = MAX_PART_SIZE  # 5 GiB: the largest source one CopyObject takes
DEFAULT_COPY_PART_SIZE = 64 * MiB  # copies move no bytes through the client: fewer requests
DEFAULT_COPY_CONCURRENCY = 4
_PIN = "x-amz-copy-source-if-match"


@dataclasses.dataclass(frozen=True, slots=True)
class _Copy:
    """One copy's names and what the multipart path needs to know."""

    source: tuple[str, str]
    bucket: str
    key: str
    metadata: Mapping[str, str] | None
    content_type: str | None


async def copy_any_size(
    client: S3Client,
    source: tuple[str, str],
    bucket: str,
    key: str,
    *,
    metadata: Mapping[str, str] | None,
    content_type: str | None,
    multipart_threshold: int | None,
    part_size: int | None,
    concurrency: int | None,
) -> objects.CopyResult:
    """Copy ``source`` to ``bucket``/``key``, in parts when it is larger than the threshold.

    Args:
        client: sends the requests.
        source: ``(bucket, key)`` of the object to copy.
        bucket: the copy's bucket.
        key: the copy's key.
        metadata: new user metadata (replaces the source's, as with CopyObject).
        content_type: a new content type (replaces the source's metadata too).
        multipart_threshold: copy in parts when the source is larger than this many bytes,
            0 to 5 GiB; required when ``part_size`` or ``concurrency`` is given.
        part_size: bytes per part, 5 MiB to 5 GiB (default 64 MiB), raised when the source
            needs more than 10,000 parts.
        concurrency: parts copying at once (default 4).

    Returns:
        The copy's ETag and modification time.

    Raises:
        TypeError, ValueError: bad arguments (nothing is sent).
        PreconditionFailed: the server refused a part: the source was replaced during the
            copy (the upload is aborted).
        IntegrityError: the source's ETag changed during the copy (servers that ignore the
            pin), or the copy's size differs from the source's; the upload is aborted.
        NoSuchKey, other S3Error; TransportError; ResponseError. UploadNotAborted: an abort
            could not be sent.
    """
    if multipart_threshold is None:
        raise ValueError("part_size and concurrency take effect with multipart_threshold")
    check_positive_int("multipart_threshold", multipart_threshold, minimum=0, maximum=MAX_COPY_SIZE)
    base = check_part_size(DEFAULT_COPY_PART_SIZE if part_size is None else part_size)
    width = check_positive_int(
        "concurrency", DEFAULT_COPY_CONCURRENCY if concurrency is None else concurrency
    )
    single = objects.copy_object(*source, bucket, key, metadata=metadata, content_type=content_type)
    copy = _Copy(
        source=source,
        bucket=bucket,
        key=key,
        metadata=None if metadata is None else check_metadata(metadata),
        content_type=content_type,
    )
    head = await client.head_object(*source)
    if head.size <= multipart_threshold or head.size == 0:
        return objects.parse_copy_result((await client._engine.send(single)).body)
    return await _copy_in_parts(client, copy, head, part_size_for_total(head.size, base), width)


async def _copy_in_parts(
    client: S3Client, copy: _Copy, head: ObjectHead, part_size: int, concurrency: int
) -> objects.CopyResult:
    if not head.etag:
        raise ResponseError("HeadObject sent no ETag: the parts cannot be pinned to the source")
    metadata, content_type = copy.metadata, copy.content_type
    if metadata is None and content_type is None:  # CopyObject's default: keep the source's
        metadata, content_type = dict(head.metadata), head.content_type
    upload_id = await client.create_multipart_upload(
        copy.bucket, copy.key, content_type=content_type, metadata=metadata
    )
    try:
        ranges = list(split(head.size, part_size))
        parts = await _copy_parts(client, copy, upload_id, head.etag, ranges, concurrency)
        await _check_unchanged(client, copy, head.etag)
        await client.complete_multipart_upload(copy.bucket, copy.key, upload_id, parts)
    except BaseException:
        await run_to_end(abort_or_hand_over(client, copy.bucket, copy.key, upload_id))
        raise
    return await _result(client, copy, head.size)


async def _copy_parts(
    client: S3Client,
    copy: _Copy,
    upload_id: str,
    etag: str,
    ranges: list[tuple[int, int]],
    concurrency: int,
) -> list[UploadedPart]:
    """Copy every range with ``concurrency`` workers; the first failure stops them all."""
    pending: Iterator[tuple[int, tuple[int, int]]] = iter(enumerate(ranges, 1))
    done: list[UploadedPart] = []

    async def worker() -> None:
        # One shared iterator: each worker takes the next range when it is free.
        for number, (offset, length) in pending:
            done.append(await _copy_part(client, copy, upload_id, etag, number, offset, length))

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(ranges)))]
    try:
        await asyncio.gather(*tasks)
    finally:
        # No part may still be in flight when the upload is aborted.
        await run_to_end(_stop(tasks))
    return done


async def _stop(tasks: Sequence[asyncio.Future[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _copy_part(
    client: S3Client,
    copy: _Copy,
    upload_id: str,
    etag: str,
    number: int,
    offset: int,
    length: int,
) -> UploadedPart:
    request = multipart.upload_part_copy(
        copy.bucket, copy.key, upload_id, number, copy.source, start=offset, end=offset + length - 1
    )
    pinned = dataclasses.replace(request, headers={**request.headers, _PIN: etag})
    result = objects.parse_copy_result((await client._engine.send(pinned)).body)
    return UploadedPart(number, result.etag, length)


async def _check_unchanged(client: S3Client, copy: _Copy, etag: str) -> None:
    # Some servers ignore x-amz-copy-source-if-match (measured: RGW 16.2.15 and moto copy
    # from a replaced source): a second look at the source catches a replacement there.
    now = (await client.head_object(*copy.source)).etag
    if now != etag:
        raise IntegrityError(
            f"{copy.source[0]}/{copy.source[1]} was replaced during the copy "
            f"(ETag {etag}, now {now}): the parts may mix both objects",
            expected=etag,
            actual=now,
        )


async def _result(client: S3Client, copy: _Copy, size: int) -> objects.CopyResult:
    # Read back: some servers (RGW 16) answer the first Complete with an empty ETag.
    head = await client.head_object(copy.bucket, copy.key)
    if head.size != size:
        raise IntegrityError(
            f"the copy of {copy.source[0]}/{copy.source[1]} holds {head.size:,} bytes, "
            f"the source {size:,}"
        )
    if head.last_modified is None:
        raise ResponseError("HeadObject of the copy sent no Last-Modified")
    return objects.CopyResult(
        etag=head.etag, last_modified=parsedate_to_datetime(head.last_modified)
    )
