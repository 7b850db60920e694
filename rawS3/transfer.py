"""Streaming uploads: ``MultipartUploader`` and ``upload_stream``.

One producer (the caller of ``write``) fills one part buffer; a full buffer is handed, without
copying, to a part task, and the next part goes into the buffer of a finished part, or a new one.
A semaphore admits at most ``concurrency`` part tasks, so ``write`` waits while they are all busy;
parts in flight, spare buffers and the buffer being filled never hold more than
``concurrency + 1`` parts. Data is copied unless it cannot change and keeps nothing else alive
(see ``write``). Any failure or cancellation aborts the multipart upload (shielded, so the abort
finishes even while the task is being cancelled) and re-raises; an abort the server never hears
raises ``UploadNotAborted`` with the upload's id.

asyncio and aiohttp are imported on first use, as in ``rawS3.client``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from rawS3.checksums import check_checksum_choice
from rawS3.cleanup import run_to_end
from rawS3.errors import S3Error
from rawS3.operations.extras import check_create_extras
from rawS3.operations.options import UploadOptions, check_upload_options, headers_argument
from rawS3.parts import (
    DEFAULT_PART_SIZE,
    check_part_size,
    is_whole_immutable_part,
    part_size_at,
    part_size_for_total,
    verified_etag,
)
from rawS3.progress import Acknowledged, ProgressCallback
from rawS3.results import PutResult, UploadedPart
from rawS3.resume import Resumption
from rawS3.streams import read_at_least
from rawS3.transfer_sizing import stream_limits, upload_part_size
from rawS3.validation import (
    check_bucket,
    check_buffer,
    check_header,
    check_key,
    check_metadata,
)

if TYPE_CHECKING:
    import asyncio

    from rawS3.client import S3Client

__all__ = ["AUTO_START", "SPREAD_FROM", "MultipartUploader", "upload_stream"]

log = logging.getLogger("rawS3")
# ``concurrency="auto"`` starts with this many parts in flight (or every part of a ``size``
# that fits in flight): 8 capped connections at once from the first part, then doubled to 16
# if the aggregate throughput grows (``rawS3.concurrency``).
AUTO_START = 8
# A first write at least this long (two default parts: more than ``upload_stream``'s probe of
# one part) is spread over up to 16 parts of 5 to 8 MiB, as a file of that size would be.
SPREAD_FROM = 2 * DEFAULT_PART_SIZE


class MultipartUploader:
    """Upload one object in parts from any number of ``write`` calls.

    ::

        async with MultipartUploader(client, "bucket", "key") as up:
            async for chunk in source:
                await up.write(chunk)
        print(up.result.etag, up.result.parts)

    Leaving the block normally completes the upload; leaving it by an exception or a
    cancellation aborts it and re-raises. Every part but the last is exactly ``part_size``
    bytes (or, past 900 parts of a stream whose size was not given, a doubled size, so that
    10,000 parts reach S3's 5 TiB limit).

    Args:
        client: the ``S3Client`` to send with.
        bucket: the bucket the object goes in.
        key: the object's key.
        part_size: bytes per part, 5 MiB to 5 GiB. The default is 8 MiB, but with ``size``
            (or, with ``"auto"``, a first ``write`` of 16 MiB or more) the object is spread
            over up to 16 parts of 5 to 8 MiB, as ``upload_path`` spreads a file.
        concurrency: parts uploading at once, 1 to 1000, or ``"auto"`` (the default): 8 at
            first (every part, when ``size`` says they fit), doubled to 16 while the
            aggregate throughput grows, within ``max_memory``.
        max_memory: a budget in bytes for the part data in flight: at most
            ``max_memory // part_size`` parts (``ValueError`` if it cannot hold one). The part
            being filled adds one part more. ``None``: with ``"auto"``, 128 MiB (or 4 parts,
            for parts above 32 MiB); with a number, ``concurrency`` parts.
        content_type: stored with the object.
        metadata: user metadata stored with the object (as ``x-amz-meta-*``).
        size: the total length if known; the part size then grows to fit 10,000 parts.
        checksum: an algorithm (e.g. ``"crc32c"``, ``"crc64nvme"``) every part carries.
        checksum_type: ``"COMPOSITE"`` or ``"FULL_OBJECT"``: the object checksum (see Complete).
        content_md5: send each part's ``Content-MD5`` and check its ETag against it. ``None``
            (the default) does so when the payload is not signed; a signed payload's SHA-256
            is verified by the server already (see ``S3Client.upload_part``).
        options: conditions (sent on Complete), encryption, tags and extra headers and query
            (sent on Create or the PutObject that replaces an empty upload): an
            ``UploadOptions``.
        on_progress: told of each part the server acknowledged (counted once), as bytes.
        resume: the id of an upload to continue; stored parts are checked (``rawS3.resume``).
        keep_on_failure: keep a failed upload, raising ``UploadInterrupted`` (abort() too).

    Attributes:
        part_size: the size of the first parts, after any growth for ``size``.
        limit: parts allowed in flight now (with ``"auto"``, it moves as parts are answered).
        result: set once the upload is complete: the ETag, part count and size.

    Raises:
        TypeError, ValueError: bad arguments, at construction (nothing is sent).
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        *,
        part_size: int | None = None,
        concurrency: int | Literal["auto"] = "auto",
        max_memory: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        size: int | None = None,
        checksum: str | None = None, checksum_type: str | None = None,
        content_md5: bool | None = None, options: UploadOptions | None = None,
        on_progress: ProgressCallback | None = None,
        resume: str | None = None,
        keep_on_failure: bool = False,
    ) -> None:
        self._client = client
        self._options = check_upload_options(options)
        self.bucket = check_bucket(bucket)
        self.key = check_key(key)
        base = check_part_size(DEFAULT_PART_SIZE if part_size is None else part_size)
        self._fixed = size is not None
        if size is not None:
            # A known size is spread over the connections as a file's is (upload_path).
            spread = base if part_size is not None else upload_part_size(size)
            base = part_size_for_total(size, spread)
        self.part_size = base
        self._max_memory = max_memory
        # Otherwise a first write of an object already in memory tells a lower bound of its
        # size: with no part size or number of the caller's, it is spread the same way.
        self._spread = part_size is None and size is None and resume is None
        self._spread = self._spread and concurrency == "auto"
        self._controller, self._budget = stream_limits(
            self.part_size, concurrency, max_memory, size, start=AUTO_START
        )
        self._concurrency = self._controller.limit  # parts in flight now; "auto" moves it
        self._content_type = (
            None if content_type is None else check_header("Content-Type", content_type)[1]
        )
        self._metadata = check_metadata(metadata) if metadata is not None else {}
        self._checksum, self._checksum_type = check_checksum_choice(checksum, checksum_type)
        check_create_extras(
            self.bucket, self.key, self._options, content_type=self._content_type,
            metadata=self._metadata, checksum=self._checksum, checksum_type=self._checksum_type,
        )
        self._content_md5 = content_md5
        self._resume = Resumption(resume, keep_on_failure=keep_on_failure, checksum=checksum)
        import asyncio

        # Slots taken by parts (from before Create to their answer), and an event set when
        # one is given back: a count against a limit that "auto" moves, up or down.
        self._taken = 0
        self._slot_freed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._parts: list[UploadedPart] = []
        self._failure: BaseException | None = None
        self._upload_id: str | None = None
        # The one CreateMultipartUpload in flight: abort() must wait for it, or its upload
        # would be created after the abort and left behind.
        self._creating: asyncio.Future[str] | None = None
        self._buffer: bytearray | None = None
        self._filled = 0
        # Buffers whose parts are done, reused rather than allocated and zeroed anew: at most
        # concurrency + 1 part buffers ever exist, and freed ones cannot fragment the heap.
        self._spare: list[bytearray] = []
        self._in_flight = 0  # parts sent and not yet answered: each holds a part's bytes
        self._next_part = 1
        self._closed = False
        self.result: PutResult | None = None
        self._progress = Acknowledged(on_progress, size)

    def _completed(self, size: int) -> None:
        """Tell the controller of a part sent; follow its limit, within the budget."""
        if self._budget is None:
            return
        limit = self._controller.completed(time.monotonic(), size)
        # Past 900 parts of a stream the parts double: fewer of them fit the budget.
        limit = max(1, min(limit, self._budget // self._size_of(self._next_part)))
        if limit > self._concurrency:
            self._slot_freed.set()
        self._concurrency = limit

    @property
    def limit(self) -> int:
        """Parts allowed in flight now: the ``concurrency`` given, or where ``"auto"`` is."""
        return self._concurrency

    @property
    def upload_id(self) -> str | None:
        """The multipart upload's id, once the first part has been sent."""
        return self._upload_id

    async def __aenter__(self) -> MultipartUploader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._closed:
            # complete() or abort() was called inside the block; it has already finished.
            return
        if exc is None:
            await self.complete()
        else:
            self._resume.failed(exc)
            await self.abort()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Add ``data`` (any length, empty included) to the object.

        Waits while ``concurrency`` parts are uploading. The first full part starts the
        multipart upload on the server.

        Args:
            data: the object's next bytes, any contiguous buffer. They are copied, so the
                caller may reuse or change the buffer once ``write`` returns. ``bytes``, which
                cannot change, are sent without a copy when they are exactly one part, or
                span at least ``concurrency`` parts; ``write`` then returns once those parts
                are sent, so no part outlives the call holding a larger object alive.

        Raises:
            TypeError: ``data`` is not bytes-like.
            ValueError: ``data`` is not contiguous.
            RuntimeError: the upload is already completed or aborted.
            RawS3Error: creating the upload or an earlier part failed; leaving the
                ``async with`` block with it aborts the upload.
        """
        import asyncio

        view = check_buffer("data", data)
        self._check_open()
        if self._spread:
            self._spread = False
            if view.nbytes >= SPREAD_FROM:
                self.part_size = upload_part_size(view.nbytes)
                self._controller, self._budget = stream_limits(
                    self.part_size, "auto", self._max_memory, view.nbytes, start=AUTO_START
                )
                self._concurrency = self._controller.limit
        borrowed = isinstance(view.obj, bytes) and view.nbytes >= self._concurrency * self.part_size
        lent: list[asyncio.Future[None]] = []
        while view.nbytes:
            size = self._size_of(self._next_part)
            if not self._filled and is_whole_immutable_part(view, size):
                await self._dispatch(view)
                return
            if not self._filled and borrowed and view.nbytes >= size:
                lent.append(await self._dispatch(view[:size]))
                view = view[size:]
                continue
            buffer = self._part_buffer(size)
            take = min(size - self._filled, view.nbytes)
            # Through a view: bytearray slice assignment would first copy the source whole.
            with memoryview(buffer) as target:
                target[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == size:
                self._buffer, self._filled = None, 0
                await self._dispatch(buffer)
        if lent:
            # The caller holds ``data`` only until this returns: its parts must be sent by then.
            await asyncio.wait(lent)
            self._check_open()  # aborted meanwhile: those parts were not sent

    async def complete(self) -> PutResult:
        """Send the last part, wait for all parts, and join them into the object.

        Returns:
            The object's ETag, part count and size, also kept in ``result``.

        Raises:
            RuntimeError: the upload is already completed or aborted.
            IntegrityError: the final ETag is not the one the parts sent make.
            RawS3Error: a part or the completion failed; the upload is aborted first.
        """
        if self._closed:
            raise RuntimeError("this upload is already completed or aborted")
        try:
            # A part may have failed since the last write(); that too must abort.
            self._check_failure()
            return await self._complete()
        except BaseException as exc:
            self._resume.failed(exc)
            await self.abort()
            raise

    async def _complete(self) -> PutResult:
        if self._buffer is not None:
            await self._dispatch(memoryview(self._buffer)[: self._filled])
        elif not self._parts and not self._tasks:
            await self._dispatch(memoryview(b""))
        await self._drain()
        # An abort() from another task meanwhile cancelled parts: completing with the parts
        # that did arrive would store a shorter object.
        self._check_open()
        self._closed = True
        try:
            result = await self._client.complete_multipart_upload(
                self.bucket, self.key, self._require_upload_id(), self._parts,
                checksum_type=self._checksum_type,
                **headers_argument(self._options.complete_headers()),
            )
        except S3Error:
            if any(part.size for part in self._parts):
                raise
            self.result = await self._put_empty_instead()
            return self.result
        self.result = self._verified(result)
        return self.result

    async def _put_empty_instead(self) -> PutResult:
        """Some servers refuse a multipart upload of one empty part; an empty object still is."""
        await self._client.abort_multipart_upload(self.bucket, self.key, self._require_upload_id())
        return await self._client.put_object(  # with the checksum asked for, too
            self.bucket, self.key, b"", content_type=self._content_type,
            metadata=self._metadata, checksum=self._checksum,
            **headers_argument(self._options.put_headers()),
            **self._options.create_query(),
        )

    async def abort(self) -> None:
        """Stop sending, and abort the multipart upload so the server frees its parts.

        Runs to the end even if the calling task is cancelled meanwhile (the cancellation is
        re-raised afterwards). A Create still in flight is waited for and its upload aborted
        too. An upload already gone (completed or aborted) is nothing left behind.

        Raises:
            UploadNotAborted: the server could not be told; it carries the upload id (also
                kept in ``upload_id``). When the calling task is being cancelled, the
                cancellation is raised instead and the id is logged.
            asyncio.CancelledError: the calling task was cancelled while the abort ran.
        """
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await run_to_end(self._cancel_and_abort())

    async def _cancel_and_abort(self) -> None:
        import asyncio

        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._upload_id is None and self._creating is not None:
            # Not cancelled: the Create's answer names the upload to abort.
            with contextlib.suppress(BaseException):
                self._upload_id = await self._creating
        if self._upload_id is not None:
            await self._resume.give_up(self._client, self.bucket, self.key, self._upload_id)

    async def _dispatch(self, data: bytearray | memoryview) -> asyncio.Future[None]:
        """Hand a full (or the last) part to a part task; a filled buffer becomes the task's."""
        while self._taken >= self._concurrency:
            self._slot_freed.clear()
            await self._slot_freed.wait()
        self._taken += 1
        try:
            self._check_open()
            await self._started()
        except BaseException:
            self._free_slot()
            raise
        import asyncio

        self._trim_spares()
        self._in_flight += 1
        number = self._next_part
        self._next_part += 1
        task = asyncio.ensure_future(self._send_part(number, data))
        self._tasks.add(task)
        task.add_done_callback(self._part_done)
        return task

    async def _started(self) -> None:
        """Create the upload on the server unless it exists; abort() may run meanwhile."""
        import asyncio

        if self._upload_id is not None:
            return
        if self._creating is None:
            self._creating = asyncio.ensure_future(
                self._resume.start(
                    self._client,
                    self.bucket,
                    self.key,
                    content_type=self._content_type,
                    metadata=self._metadata,
                    checksum=self._checksum, checksum_type=self._checksum_type,
                    **headers_argument(self._options.create_headers()),
                    **self._options.create_query(),
                )
            )
        # A cancelled writer cancels the Create, which then cleans up after itself.
        self._upload_id = await self._creating
        self._check_open()

    def _trim_spares(self) -> None:
        """Drop spare buffers so parts in flight, spares and the buffer in hand stay within
        ``concurrency + 1`` parts; a part sent without a copy holds a part's worth too."""
        budget = self._concurrency - self._in_flight
        budget -= 1 if self._buffer is not None else 0
        del self._spare[max(budget, 0) :]

    def _part_buffer(self, size: int) -> bytearray:
        """The buffer being filled: a spare one of the right size if any, else a new one."""
        while self._buffer is None and self._spare:
            spare = self._spare.pop()
            if len(spare) == size:
                self._buffer = spare
        if self._buffer is None:
            self._buffer = bytearray(size)
        return self._buffer

    def _size_of(self, part_number: int) -> int:
        return self.part_size if self._fixed else part_size_at(part_number, self.part_size)

    async def _send_part(self, number: int, data: bytearray | memoryview) -> None:
        try:
            stored = self._resume.reuse(number, data)
            part = stored or await self._client.upload_part(
                self.bucket,
                self.key,
                self._require_upload_id(),
                number,
                data,
                checksum=self._checksum, content_md5=self._content_md5,
                **headers_argument(self._options.part_headers()),
            )
            self._parts.append(part)
            self._progress.add(part.size)
            if stored is None:  # a part found stored says nothing of the network
                self._completed(part.size)
        finally:
            self._in_flight -= 1
            self._free_slot()
            if isinstance(data, bytearray):
                self._spare.append(data)

    def _free_slot(self) -> None:
        self._taken -= 1
        self._slot_freed.set()

    def _part_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self._failure is None:
            self._failure = task.exception()

    async def _drain(self) -> None:
        import asyncio

        if self._tasks:
            await asyncio.wait(set(self._tasks))
        self._check_failure()

    def _check_open(self) -> None:
        self._check_failure()
        if self._closed:
            raise RuntimeError("this upload is already completed or aborted")

    def _check_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _require_upload_id(self) -> str:
        if self._upload_id is None:
            raise RuntimeError("no multipart upload was started")
        return self._upload_id

    def _verified(self, result: PutResult) -> PutResult:
        """Check the final ETag against the MD5 of the parts' MD5s, when the server sent one."""
        # Where Content-MD5 was sent, upload_part checked each part's ETag against it; either
        # way the final ETag must be the one the parts' ETags make.
        parts = sorted(self._parts, key=lambda part: part.part_number)
        size = sum(p.size for p in parts)
        where = f"{self.bucket}/{self.key}"
        etag = verified_etag(result.etag, (part.etag for part in parts), where)
        return PutResult(etag, result.version_id, len(parts), size, result.checksum)


async def upload_stream(
    client: S3Client,
    bucket: str,
    key: str,
    source: AsyncIterable[bytes],
    *,
    size: int | None = None,
    part_size: int | None = None,
    concurrency: int | Literal["auto"] = "auto",
    max_memory: int | None = None,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None, options: UploadOptions | None = None,
    checksum: str | None = None, checksum_type: str | None = None,
    on_progress: ProgressCallback | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | None] | None = None,
) -> PutResult:
    """Upload an async iterable of bytes: one PutObject if it fits in a part, else multipart.

    The first ``part_size + 1`` bytes are read before deciding, so a short stream costs one
    request and a long one never holds more than the uploader's bound.

    Args:
        client: the ``S3Client`` to send with.
        bucket: the bucket the object goes in.
        key: the object's key.
        source: the object's bytes, in pieces of any size.
        size: the total length if known; see ``MultipartUploader``.
        part_size: bytes per part, 5 MiB to 5 GiB (default 8 MiB).
        concurrency: parts uploading at once, or ``"auto"`` (the default); see
            ``MultipartUploader``.
        max_memory: a budget for the part data in flight; see ``MultipartUploader``.
        content_type: stored with the object.
        metadata: user metadata stored with the object (as ``x-amz-meta-*``).
        options: conditions, encryption and tags (see ``MultipartUploader``).
        checksum: an algorithm, as in ``MultipartUploader`` (a single PutObject sends it too).
        checksum_type: as in ``MultipartUploader``.
        on_progress: as for ``MultipartUploader``; told once after a single PutObject.
        headers: extra headers, signed, on the PutObject or CreateMultipartUpload (the
            same as ``UploadOptions.headers``; give them in one place).
        query: extra query parameters, signed, on that same request.

    Returns:
        The object's ETag and size; ``parts`` is 0 when one PutObject sufficed.

    Raises:
        TypeError, ValueError: bad arguments; RawS3Error: the upload failed (and was aborted).
    """
    options = _with_extras(options, headers, query)
    uploader = MultipartUploader(
        client,
        bucket,
        key,
        part_size=part_size,
        concurrency=concurrency,
        max_memory=max_memory,
        content_type=content_type,
        metadata=metadata,
        size=size, checksum=checksum, checksum_type=checksum_type,
        on_progress=on_progress, options=options,
    )
    pieces = aiter(source)
    head = await read_at_least(pieces, uploader.part_size + 1)
    if len(head) <= uploader.part_size:
        result = await client.put_object(
            bucket, key, head, content_type=content_type, metadata=metadata, checksum=checksum,
            **headers_argument(options.put_headers()), **options.create_query(),
        )
        return Acknowledged(on_progress, len(head)).whole(result)
    async with uploader:
        await uploader.write(head)
        del head
        async for piece in pieces:
            await uploader.write(piece)
    assert uploader.result is not None
    return uploader.result


def _with_extras(
    options: UploadOptions | None,
    headers: Mapping[str, str] | None,
    query: Mapping[str, str | None] | None,
) -> UploadOptions:
    """``options`` with ``upload_stream``'s own ``headers``/``query`` (given once, not twice)."""
    checked = check_upload_options(options)
    if headers is None and query is None:
        return checked
    if checked.headers is not None or checked.query is not None:
        raise ValueError("give headers and query either to upload_stream or in its options")
    return dataclasses.replace(checked, headers=headers, query=query)
