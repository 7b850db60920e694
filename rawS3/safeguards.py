"""The engine's safeguards for the two multipart requests whose lost answer can hide an effect.

CreateMultipartUpload is not idempotent: an attempt whose answer never came may have started
an upload nobody holds the id of, so the call owns what it may have created until it hands
the id over, and aborts what it leaves behind. CompleteMultipartUpload, retried after a lost
answer, hears ``NoSuchUpload`` for an upload it did complete; the object's ETag tells.

Loaded with the engine (the facade imports it on first use), never by the pure core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta

from rawS3.cleanup import abort_or_hand_over, run_to_end
from rawS3.conditional_put import may_have_taken_effect
from rawS3.engine import Engine
from rawS3.errors import (
    NoSuchKey,
    NoSuchUpload,
    PreconditionFailed,
    RawS3Error,
    ResponseError,
    make_s3_error,
)
from rawS3.operations import multipart, multipart_xml, objects
from rawS3.operations.listing import next_marker
from rawS3.operations.options import with_extras
from rawS3.operations.request import Query, Reply, Request
from rawS3.parts import multipart_etag
from rawS3.results import PutResult, UploadedPart
from rawS3.xml import strip_etag

__all__ = ["STRAY_WINDOW", "complete", "create", "list_uploads"]

log = logging.getLogger("rawS3")
STRAY_WINDOW = timedelta(seconds=60)


async def create(engine: Engine, request: Request, lost: multipart.LostCreates) -> str:
    """Send a CreateMultipartUpload and return the id, leaving no upload behind on failure.

    When an attempt failed in a way that may have taken effect (a lost or late answer, a
    5xx) or the call is cancelled, uploads of the key started since the first attempt are
    aborted before this returns or raises.

    Args:
        engine: sends the requests.
        request: the Create request.
        lost: what the call knows of uploads it may have started unseen.

    Returns:
        The new upload's id.

    Raises:
        S3Error, TransportError, ResponseError: the Create failed.
        UploadNotAborted: an upload it started could not be aborted.
    """
    sending = asyncio.ensure_future(engine.send(request, lost.record))
    upload_id: str | None = None
    try:
        # Shielded: a cancelled caller must not cut the request off unseen mid-flight.
        upload_id = lost.read(await asyncio.shield(sending))
        if lost.possible:
            await _abort_strays(engine, lost, keep=upload_id)
    except BaseException:
        await run_to_end(_undo_create(engine, sending, lost, upload_id))
        raise
    return upload_id


async def _undo_create(
    engine: Engine,
    sending: asyncio.Future[Reply],
    lost: multipart.LostCreates,
    upload_id: str | None,
) -> None:
    """Leave nothing behind of a Create that will not hand its id to the caller."""
    if upload_id is None and not sending.done():
        # Wait for the answer (a read timeout at most): it names the upload exactly, where
        # cutting the request off would race the server's creating it against our search.
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(sending), engine.timeouts.read)
    sending.cancel()
    with contextlib.suppress(BaseException):
        await sending
    if upload_id is None and not sending.cancelled() and sending.exception() is None:
        with contextlib.suppress(ResponseError):
            upload_id = lost.read(sending.result())
    if lost.possible or sending.cancelled():
        try:
            await _abort_strays(engine, lost, keep=upload_id)
        except RawS3Error as exc:
            log.warning(
                "a failed Create may have left an upload of %s/%s that could not be looked for: %s",
                lost.bucket,
                lost.key,
                exc,
            )
    if upload_id is not None:
        await abort_or_hand_over(_Aborter(engine), lost.bucket, lost.key, upload_id)


async def _abort_strays(engine: Engine, lost: multipart.LostCreates, *, keep: str | None) -> None:
    """Abort uploads a failed Create may have started although its answer never came.

    Uploads of the same key started in the window around the first attempt are taken to be
    it (another writer of the very same key in that window would lose its upload: writing
    one key concurrently is a race S3 resolves for one of them).
    """
    earliest = lost.since - STRAY_WINDOW
    aborter = _Aborter(engine)
    for upload in await list_uploads(engine, lost.bucket, prefix=lost.key):
        if upload.key == lost.key and upload.upload_id != keep and upload.initiated >= earliest:
            with contextlib.suppress(NoSuchUpload):
                await aborter.abort_multipart_upload(lost.bucket, lost.key, upload.upload_id)


class _Aborter:
    """Aborts through the engine, as ``abort_or_hand_over`` asks of a client."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self._engine.send(multipart.abort_multipart_upload(bucket, key, upload_id))


async def list_uploads(
    engine: Engine,
    bucket: str,
    *,
    prefix: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | None] | None = None,
) -> list[multipart_xml.UploadInfo]:
    """Return every multipart upload in progress in ``bucket`` (under ``prefix``), all pages.

    Args:
        engine: sends the requests.
        bucket: the bucket.
        prefix: only uploads of keys that start with this.
        headers: extra request headers, signed, sent with every page.
        query: extra query parameters, signed, sent with every page.

    Returns:
        The uploads.

    Raises:
        S3Error, TransportError; ResponseError: a page marker that does not move on.
    """
    uploads: list[multipart_xml.UploadInfo] = []
    markers: Query = ()
    seen: set[str] = set()
    while True:
        request = multipart.list_multipart_uploads(bucket, prefix=prefix, markers=markers)
        request = with_extras(request, headers, query)
        page = multipart_xml.parse_list_multipart_uploads((await engine.send(request)).body)
        uploads.extend(page.uploads)
        if not page.is_truncated:
            return uploads
        key_marker = page.next_key_marker or ""
        upload_marker = page.next_upload_id_marker or ""
        next_marker(f"{key_marker}\n{upload_marker}".strip(), seen, "upload markers")
        markers = (("key-marker", key_marker), ("upload-id-marker", upload_marker))


async def complete(
    engine: Engine, request: Request, bucket: str, key: str, parts: list[UploadedPart]
) -> PutResult:
    """Send a CompleteMultipartUpload; after a lost answer, accept the object if it is ours.

    Args:
        engine: sends the requests.
        request: the Complete request.
        bucket: the upload's bucket.
        key: the upload's key.
        parts: the parts in the order the request lists them.

    Returns:
        The object's ETag, version id, part count and size.

    Raises:
        NoSuchUpload: the upload is gone and the object's ETag is not the parts'.
        PreconditionFailed: a conditional Complete's condition failed (a retry's 412 after a
            lost answer is first checked against the object's ETag).
        S3Error, TransportError, ResponseError: the Complete failed.
    """
    failures: list[RawS3Error] = []
    try:
        reply = await engine.send(request, failures.append)
    except NoSuchUpload:
        return await _completed_earlier(engine, bucket, key, parts)
    except PreconditionFailed:
        # A create-only Complete retried after a lost answer is refused by its own object.
        if not any(may_have_taken_effect(failure) for failure in failures[:-1]):
            raise
        try:
            return await _completed_earlier(engine, bucket, key, parts)
        except NoSuchUpload:
            raise failures[-1] from None
    return multipart.read_complete(reply, parts)


async def _completed_earlier(
    engine: Engine, bucket: str, key: str, parts: list[UploadedPart]
) -> PutResult:
    """After a lost Complete answer, accept the object if its ETag is the parts'."""
    etags = [strip_etag(p.etag) for p in parts]
    # Part ETags that are not MD5s (SSE-C, SSE-KMS) cannot tell the object: never ours then.
    known = all(len(e) == 32 and all(c in "0123456789abcdef" for c in e.lower()) for e in etags)
    expected = multipart_etag(bytes.fromhex(e) for e in etags) if known else None
    try:
        head = objects.read_head_object(await engine.send(objects.head_object(bucket, key)))
    except NoSuchKey:
        head = None
    if head is None or expected is None or strip_etag(head.etag) != expected:
        raise make_s3_error(
            code="NoSuchUpload",
            message="the upload is gone and the object is not ours",
            status=404,
            bucket=bucket,
            key=key,
        )
    return PutResult(head.etag, head.version_id, len(parts), sum(p.size for p in parts))
