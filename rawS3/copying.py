"""Server-side copies of any size: one CopyObject, or a multipart copy done in parallel.

S3 copies at most 5 GiB in one CopyObject. A copy is a multipart upload whose parts are
UploadPartCopy requests of byte ranges of the source, a bounded number in flight, then
CompleteMultipartUpload, when the source is larger than a threshold the caller gives (5 GiB
at most), or when a CopyObject was refused because its source is over 5 GiB (so a small copy
costs no extra request). The source's size and ETag come from one HEAD; every part is pinned
to that ETag (``x-amz-copy-source-if-match``), so a source replaced mid-copy makes the copy
fail with ``PreconditionFailed`` rather than join pieces of two objects. Where a server
ignores that header (measured: RGW 16.2.15, moto 5.2) a second HEAD of the source before
Complete catches it: a changed ETag raises ``IntegrityError``. Which request carries which of
the copy's options is in ``rawS3.operations.copy_spec``: without new metadata, content type
or content headers, Create states the source's type, user metadata and the other headers
CopyObject keeps (``Cache-Control``, ``Content-Disposition``, ``Content-Encoding``,
``Content-Language``, ``Expires``), read from the HEAD.
From the moment Create is sent one owner holds the upload: any failure or cancellation
aborts it (``UploadNotAborted`` when the server cannot be told).

asyncio is imported here: this module is loaded with the engine, on first use.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from rawS3.cleanup import abort_or_hand_over, run_to_end
from rawS3.errors import IntegrityError, NotModified, PreconditionFailed, ResponseError, S3Error
from rawS3.operations import objects
from rawS3.operations.copy_spec import (
    CONTENT_HEADERS,
    CopySpec,
    is_too_large_to_copy,
    plan_copy_parts,
)
from rawS3.operations.extras import conditions_among, refuse_conditions_in_parts
from rawS3.operations.request import Request
from rawS3.parts import MAX_PART_SIZE, check_part_size
from rawS3.results import ObjectHead, UploadedPart
from rawS3.validation import check_positive_int

if TYPE_CHECKING:
    from rawS3.client import S3Client

__all__ = [
    "DEFAULT_COPY_CONCURRENCY",
    "DEFAULT_COPY_PART_SIZE",
    "MAX_COPY_SIZE",
    "copy_any_size",
    "copy_as_asked",
    "copy_too_large",
    "send_single_copy",
]

log = logging.getLogger("rawS3")
MiB = 1024 * 1024
MAX_COPY_SIZE = MAX_PART_SIZE  # 5 GiB: the largest source one CopyObject takes
DEFAULT_COPY_PART_SIZE = 64 * MiB  # copies move no bytes through the client: fewer requests
DEFAULT_COPY_CONCURRENCY = 4
# What CopyObject keeps of the source besides its type and user metadata when no new ones
# are given; a multipart copy creates a new upload, which must state them again.
_KEPT_HEADERS = CONTENT_HEADERS


async def copy_as_asked(
    client: S3Client,
    spec: CopySpec,
    single: Request,
    *,
    multipart_threshold: int | None,
    part_size: int | None,
    concurrency: int | None,
) -> objects.CopyResult:
    """Copy as ``S3Client.copy_object`` documents: by threshold when one is given, else one
    CopyObject, in parts only when the server refuses it as over 5 GiB.

    Args:
        client: sends the requests.
        spec: the copy's names and options.
        single: the CopyObject, options included.
        multipart_threshold: as in :func:`copy_any_size`, or ``None``.
        part_size: as in :func:`copy_any_size`.
        concurrency: as in :func:`copy_any_size`.

    Returns:
        The copy's ETag, modification time and version ids.

    Raises:
        As :func:`copy_any_size`.
    """
    if multipart_threshold is not None or part_size is not None or concurrency is not None:
        refuse_conditions_in_parts(spec.headers, "a copy in parts")
        return await copy_any_size(
            client, spec, single, multipart_threshold=multipart_threshold,
            part_size=part_size, concurrency=concurrency,
        )
    try:
        return await send_single_copy(client, single)
    except S3Error as exc:
        # Conditions in the extras hold on CopyObject only: in parts they would be lost.
        if not is_too_large_to_copy(exc) or conditions_among(spec.headers):
            raise
        log.debug("%s/%s is over 5 GiB: copying it in parts", *spec.source)
    return await copy_too_large(client, spec)


async def copy_any_size(
    client: S3Client,
    spec: CopySpec,
    single: Request,
    *,
    multipart_threshold: int | None,
    part_size: int | None,
    concurrency: int | None,
) -> objects.CopyResult:
    """Copy as ``spec`` says, in parts when the source is larger than the threshold.

    Args:
        client: sends the requests.
        spec: the copy's names and options.
        single: the CopyObject to send when the source is small enough, options included.
        multipart_threshold: copy in parts when the source is larger than this many bytes,
            0 to 5 GiB; required when ``part_size`` or ``concurrency`` is given.
        part_size: bytes per part, 5 MiB to 5 GiB (default 64 MiB), raised when the source
            needs more than 10,000 parts.
        concurrency: parts copying at once (default 4).

    Returns:
        The copy's ETag, modification time and version ids.

    Raises:
        TypeError, ValueError: bad arguments (nothing is sent).
        PreconditionFailed: a ``copy_source_if_*`` condition did not hold, or the server
            refused a part: the source was replaced during the copy (the upload is aborted).
        IntegrityError: the source's ETag changed during the copy (servers that ignore the
            pin), or the copy's size differs from the source's; the upload is aborted.
        NoSuchKey, other S3Error; TransportError; ResponseError. UploadNotAborted: an abort
            could not be sent.
    """
    if multipart_threshold is None:
        raise ValueError("part_size and concurrency take effect with multipart_threshold")
    check_positive_int("multipart_threshold", multipart_threshold, minimum=0, maximum=MAX_COPY_SIZE)
    base, width = _check_sizes(part_size, concurrency)
    head = await _head_source(client, spec)
    if head.size <= multipart_threshold or head.size == 0:
        return await send_single_copy(client, single)
    return await _copy_in_parts(client, spec, head, base, width)


async def copy_too_large(client: S3Client, spec: CopySpec) -> objects.CopyResult:
    """Copy in parts a source that one CopyObject refused as larger than 5 GiB.

    Args:
        client: sends the requests.
        spec: the copy's names and options.

    Returns:
        The copy's ETag, modification time and version ids.

    Raises:
        As :func:`copy_any_size`.
    """
    head = await _head_source(client, spec)
    base, width = _check_sizes(None, None)
    return await _copy_in_parts(client, spec, head, base, width)


async def send_single_copy(client: S3Client, request: Request) -> objects.CopyResult:
    """Send one CopyObject and read its answer, version ids included.

    Args:
        client: sends it.
        request: the CopyObject.

    Returns:
        The copy's ETag, modification time and version ids.

    Raises:
        S3Error (also inside a 200 answer); TransportError; ResponseError.
    """
    reply = await client._engine.send(request)
    result = objects.parse_copy_result(reply.body)
    return dataclasses.replace(
        result,
        version_id=reply.headers.get("x-amz-version-id"),
        source_version_id=reply.headers.get("x-amz-copy-source-version-id"),
    )


def _check_sizes(part_size: int | None, concurrency: int | None) -> tuple[int, int]:
    base = check_part_size(DEFAULT_COPY_PART_SIZE if part_size is None else part_size)
    width = check_positive_int(
        "concurrency", DEFAULT_COPY_CONCURRENCY if concurrency is None else concurrency
    )
    return base, width


async def _head_source(client: S3Client, spec: CopySpec) -> ObjectHead:
    """The source's HEAD, checking the caller's source conditions against it.

    A failed condition is the 412 CopyObject itself would give, also where HEAD answers 304.
    """
    try:
        return await client.head_object(
            *spec.source,
            version_id=spec.source_version_id,
            if_match=spec.copy_source_if_match,
            if_none_match=spec.copy_source_if_none_match,
            if_modified_since=spec.copy_source_if_modified_since,
            if_unmodified_since=spec.copy_source_if_unmodified_since,
            sse_customer_key=spec.copy_source_sse_customer_key,
        )
    except NotModified as exc:
        raise PreconditionFailed(
            code="PreconditionFailed",
            message=f"a copy_source condition did not hold (HeadObject answered 304): {exc}",
            status=412,
            request_id=exc.request_id,
            bucket=spec.source[0],
            key=spec.source[1],
        ) from exc


async def _copy_in_parts(
    client: S3Client, spec: CopySpec, head: ObjectHead, part_size: int, concurrency: int
) -> objects.CopyResult:
    if not head.etag:
        raise ResponseError("HeadObject sent no ETag: the parts cannot be pinned to the source")
    ranges = plan_copy_parts(head.size, part_size)
    upload_id = await _create(client, spec, head)
    try:
        parts = await _copy_parts(client, spec, upload_id, head.etag, ranges, concurrency)
        await _check_unchanged(client, spec, head.etag)
        done = await client.complete_multipart_upload(
            spec.bucket, spec.key, upload_id, parts,
            if_match=spec.if_match, if_none_match=spec.if_none_match,
        )
    except BaseException:
        await run_to_end(abort_or_hand_over(client, spec.bucket, spec.key, upload_id))
        raise
    result = await _result(client, spec, head.size, done.version_id)
    return dataclasses.replace(
        result,
        version_id=done.version_id or result.version_id,
        source_version_id=spec.source_version_id or head.version_id,
    )


async def _create(client: S3Client, spec: CopySpec, head: ObjectHead) -> str:
    """Create the copy's upload with what a CopyObject would have stored."""
    metadata, content_type = spec.metadata, spec.content_type
    stored = dict(spec.content_headers)
    if not spec.replace_metadata:  # COPY: S3 copies nothing into an upload, so state it
        metadata, content_type = dict(head.metadata), head.content_type
        stored = _kept_headers(head)
    tagging = spec.tagging
    if tagging is None and spec.copy_tags and head.tag_count:
        tags = await client.get_object_tagging(*spec.source, version_id=spec.source_version_id)
        tagging = dict(tags.tags)
    return await client.create_multipart_upload(
        spec.bucket,
        spec.key,
        content_type=content_type,
        metadata=metadata,
        sse_customer_key=spec.sse_customer_key,
        server_side_encryption=spec.server_side_encryption,
        sse_kms_key_id=spec.sse_kms_key_id,
        tagging=tagging,
        headers={**stored, **(spec.headers or {})},
        query=spec.query,
    )


def _kept_headers(head: ObjectHead) -> dict[str, str]:
    """The source's headers CopyObject keeps besides its type and user metadata."""
    values = (
        head.cache_control,
        head.content_disposition,
        head.content_encoding,
        head.content_language,
        head.expires,
    )
    return {name: value for name, value in zip(_KEPT_HEADERS, values, strict=True) if value}


async def _copy_parts(
    client: S3Client,
    spec: CopySpec,
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
            done.append(await _copy_part(client, spec, upload_id, etag, number, offset, length))

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
    spec: CopySpec,
    upload_id: str,
    etag: str,
    number: int,
    offset: int,
    length: int,
) -> UploadedPart:
    return await client.upload_part_copy(
        spec.bucket, spec.key, upload_id, number, *spec.source,
        start=offset, end=offset + length - 1,
        source_version_id=spec.source_version_id,
        copy_source_if_match=etag,  # the pin: every part comes from the object HEAD saw
        sse_customer_key=spec.sse_customer_key,
        copy_source_sse_customer_key=spec.copy_source_sse_customer_key,
    )


async def _check_unchanged(client: S3Client, spec: CopySpec, etag: str) -> None:
    # Some servers ignore x-amz-copy-source-if-match (measured: RGW 16.2.15 and moto copy
    # from a replaced source): a second look at the source catches a replacement there.
    now = (
        await client.head_object(
            *spec.source,
            version_id=spec.source_version_id,
            sse_customer_key=spec.copy_source_sse_customer_key,
        )
    ).etag
    if now != etag:
        raise IntegrityError(
            f"{spec.source[0]}/{spec.source[1]} was replaced during the copy "
            f"(ETag {etag}, now {now}): the parts may mix both objects",
            expected=etag,
            actual=now,
        )


async def _result(
    client: S3Client, spec: CopySpec, size: int, version_id: str | None
) -> objects.CopyResult:
    # Read back: some servers (RGW 16) answer the first Complete with an empty ETag. By the
    # version Complete named, where it named one, so a writer of the key since is not read;
    # "null" (an unversioned bucket's) names no version of its own (moto refuses it, 400).
    pinned = None if version_id in (None, "null") else version_id
    head = await client.head_object(
        spec.bucket, spec.key, version_id=pinned, sse_customer_key=spec.sse_customer_key
    )
    if head.size != size:
        raise IntegrityError(
            f"the copy of {spec.source[0]}/{spec.source[1]} holds {head.size:,} bytes, "
            f"the source {size:,}"
        )
    if head.last_modified is None:
        raise ResponseError("HeadObject of the copy sent no Last-Modified")
    try:
        modified = parsedate_to_datetime(head.last_modified)
    except (TypeError, ValueError) as exc:  # the server's text: not the caller's misuse
        raise ResponseError(
            f"HeadObject of the copy sent a Last-Modified that is no HTTP date: "
            f"{head.last_modified!r}"
        ) from exc
    return objects.CopyResult(etag=head.etag, last_modified=modified, version_id=head.version_id)
