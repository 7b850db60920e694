"""Uploading a local file: each part read where it lies, a bounded number of parts in flight.

A file shorter than one part is one PutObject. A longer one is a multipart upload in which
every part task reads its own part with ``os.pread`` at the part's offset (one descriptor,
no shared read position, no single reader that parts wait for), then sends it. No threads:
the read is a blocking call on the event loop, and that is acceptable because one part's
read is a single system call that takes a few milliseconds per 8 MiB from the page cache,
several times less than the SHA-256 of the same part that the upload computes on the loop
anyway, and far less than sending it over any network; in exchange a cancellation is
immediate and no read outlives the upload. A part holds its bytes only while it is in
flight, so part data never exceeds ``concurrency × part_size``.

Without a ``part_size``, a file above 8 MiB is cut into 16 parts of 5 to 8 MiB where it can be
(``rawS3.transfer_sizing``). How many parts are in flight is either fixed, or
(``concurrency="auto"``) every part at once when they fit in ``max_memory`` (default 128 MiB),
else found by ``rawS3.concurrency.AdaptiveConcurrency`` from the throughput of completed parts,
from 8 up to 16 within ``max_memory``. The file is checked not to change while it is read: a
part that reads short or long, or a size or modification time that differ at the end, is
``SourceChanged``.

The guarantees are ``MultipartUploader``'s: any failure or cancellation aborts the upload
(``UploadNotAborted`` with its id when the server cannot be told), unless ``keep_on_failure``
asks to keep it, which raises ``UploadInterrupted`` with the id to pass as ``resume=``.
A resumed upload lists the parts the server holds and sends only those that differ from the
file (``rawS3.resume``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from rawS3.cleanup import run_to_end
from rawS3.concurrency import DEFAULT_MAXIMUM, AdaptiveConcurrency, bound_for_memory
from rawS3.errors import SourceChanged
from rawS3.operations.extras import check_create_extras
from rawS3.operations.options import UploadOptions, headers_argument
from rawS3.parts import (
    DEFAULT_PART_SIZE,
    MIN_PART_SIZE,
    check_part_size,
    part_size_for_total,
    split,
    verified_etag,
)
from rawS3.progress import Acknowledged, ProgressCallback
from rawS3.results import PutResult, UploadedPart
from rawS3.resume import Resumption
from rawS3.transfer_sizing import upload_part_size, upload_plan
from rawS3.validation import (
    check_bucket,
    check_header,
    check_key,
    check_metadata,
    check_positive_int,
)

if TYPE_CHECKING:
    from rawS3.client import S3Client

__all__ = ["AUTO", "FileUpload", "upload_path"]

log = logging.getLogger("rawS3")
AUTO: Literal["auto"] = "auto"
# A file with more parts than fit in flight starts at this many, and its adaptive limit may
# double it to DEFAULT_MAXIMUM: 8 parts fill 8 capped connections from the first answer.
LARGE_FILE_START = 8
# Reads past this size are split: Linux returns at most 2 GiB - 4 KiB from one read.
_MAX_READ = 1 << 30


async def upload_path(
    client: S3Client,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    *,
    part_size: int | None = None,
    concurrency: int | Literal["auto"] = AUTO,
    max_memory: int | None = None,
    resume: str | None = None,
    keep_on_failure: bool = False,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | None] | None = None,
) -> PutResult:
    """Upload the file at ``path``; see ``S3Client.upload_path``.

    Args:
        client: the ``S3Client`` to send with.
        bucket: the bucket the object goes in.
        key: the object's key.
        path: the local file.
        part_size: bytes per part, 5 MiB to 5 GiB (default: from the file's size,
            ``rawS3.transfer_sizing.upload_part_size``, grown to fit 10,000 parts).
        concurrency: parts in flight, 1 to 1000, or ``"auto"``.
        max_memory: a budget in bytes for part data: at most ``max_memory // part_size``
            parts are in flight (default with ``"auto"``: 128 MiB).
        resume: the id of an interrupted upload of this file to finish.
        keep_on_failure: keep a failed upload and raise ``UploadInterrupted``.
        content_type: stored with the object.
        metadata: user metadata stored with the object (as ``x-amz-meta-*``).
        on_progress: told of each part the server acknowledged or already held, once.
        headers: extra headers, signed, on the PutObject or CreateMultipartUpload.
        query: extra query parameters, signed, on that same request.

    Returns:
        The object's ETag, part count (0: one PutObject) and size.

    Raises:
        TypeError, ValueError: bad arguments (nothing is sent).
        OSError: the file cannot be opened or read (nothing is sent if it cannot be opened).
        SourceChanged: the file changed while it was read; RawS3Error: the upload failed.
    """
    upload = FileUpload(
        client,
        bucket,
        key,
        path,
        part_size=part_size,
        concurrency=concurrency,
        max_memory=max_memory,
        resume=resume,
        keep_on_failure=keep_on_failure,
        content_type=content_type,
        metadata=metadata,
        on_progress=on_progress,
        headers=headers,
        query=query,
    )
    return await upload.run()


class FileUpload:
    """One file's upload; ``run`` does it, and the attributes tell how it went.

    Args:
        client: the ``S3Client`` to send with.
        bucket: the bucket the object goes in.
        key: the object's key.
        path: the local file.
        part_size: bytes per part, 5 MiB to 5 GiB (default: from the file's size).
        concurrency: parts in flight, 1 to 1000, or ``"auto"``.
        max_memory: a budget in bytes for part data (default with ``"auto"``: 128 MiB).
        resume: the id of an interrupted upload of this file to finish.
        keep_on_failure: keep a failed upload and raise ``UploadInterrupted``.
        content_type: stored with the object.
        metadata: user metadata stored with the object (as ``x-amz-meta-*``).
        on_progress: told of each part the server acknowledged or already held, once.
        headers: extra headers, signed, on the PutObject or CreateMultipartUpload.
        query: extra query parameters, signed, on that same request.

    Attributes:
        part_size: the part size used.
        maximum: the most parts ever in flight.
        start: the parts in flight at first.
        sent: how many parts (or PutObjects) were sent.
        reused: how many parts of a resumed upload were not sent again.
        peak: the most parts that were in flight at once.
        limit: the limit on parts in flight when the last part was sent (``"auto"``: where
            the controller settled).
        upload_id: the multipart upload's id once known.

    Raises:
        TypeError, ValueError: bad arguments, at construction (nothing is sent).
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        *,
        part_size: int | None = None,
        concurrency: int | Literal["auto"] = AUTO,
        max_memory: int | None = None,
        resume: str | None = None,
        keep_on_failure: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        self._client = client
        self.bucket = check_bucket(bucket)
        self.key = check_key(key)
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
        self.path = os.fspath(path)
        self._asked = None if part_size is None else check_part_size(part_size)
        self._base = self._asked or DEFAULT_PART_SIZE
        self._fixed = None if concurrency == AUTO else _check_concurrency(concurrency)
        self._max_memory = max_memory
        # Checked now against the smallest part possible; the size of the file may raise it.
        bound_for_memory(self._asked or MIN_PART_SIZE, max_memory, self._fixed or DEFAULT_MAXIMUM)
        self.start = 0
        self._resumption = Resumption(resume, keep_on_failure=keep_on_failure)
        self._content_type = (
            None if content_type is None else check_header("Content-Type", content_type)[1]
        )
        self._metadata = check_metadata(metadata) if metadata is not None else {}
        self._extras = UploadOptions(headers=headers, query=query)
        check_create_extras(
            self.bucket, self.key, self._extras, content_type=self._content_type,
            metadata=self._metadata, checksum=None, checksum_type=None,
        )
        if on_progress is not None and not callable(on_progress):
            raise TypeError(f"on_progress must be callable or None, not {type(on_progress)}")
        self._on_progress = on_progress
        self._progress = Acknowledged(None, None)
        self.part_size = self._base
        self.maximum = 0
        self.sent = 0
        self.reused = 0
        self.peak = 0
        self.limit = 0
        self.upload_id: str | None = None
        self._tasks: set[asyncio.Task[tuple[UploadedPart, bool]]] = set()

    async def run(self) -> PutResult:
        """Upload the file.

        Returns:
            The object's ETag, part count (0: one PutObject) and size.

        Raises:
            OSError: the file cannot be opened or read.
            ValueError: ``path`` is not a regular file, or ``max_memory`` cannot hold one part
                of the size this file needs (nothing is sent).
            SourceChanged: the file changed while it was read; RawS3Error: the upload failed.
        """
        descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(
                    f"{self.path} is not a regular file; upload_stream takes pipes and streams"
                )
            self._plan(info.st_size)
            reader = _PartReader(descriptor, self.path, info)
            self._progress = Acknowledged(self._on_progress, info.st_size)
            if info.st_size <= self.part_size and self._resumption.upload_id is None:
                return await self._put_whole(reader)
            return await self._multipart(reader)
        finally:
            os.close(descriptor)

    def _plan(self, size: int) -> None:
        """Choose the part size and parts in flight for a file of ``size`` bytes."""
        if self._fixed is not None:
            # A number of the caller's: that many parts, within max_memory if given.
            self.part_size = part_size_for_total(size, self._asked or upload_part_size(size))
            self.maximum = bound_for_memory(self.part_size, self._max_memory, self._fixed)
            self.start = self.maximum
            return
        plan = upload_plan(
            size,
            part_size=self._asked,
            max_memory=self._max_memory,
            maximum=DEFAULT_MAXIMUM,
            start=LARGE_FILE_START,
        )
        self.part_size, self.maximum, self.start = plan.part_size, plan.maximum, plan.start

    async def _put_whole(self, reader: _PartReader) -> PutResult:
        data = reader.read(0, reader.size, last=True)
        self.sent += 1
        result = await self._client.put_object(
            self.bucket, self.key, data, content_type=self._content_type, metadata=self._metadata,
            **headers_argument(self._extras.put_headers()), **self._extras.create_query(),
        )
        return self._progress.whole(result)

    async def _multipart(self, reader: _PartReader) -> PutResult:
        # A cancellation during Create is the Create's to clean up (it owns what it made).
        upload_id = await self._resumption.start(
            self._client,
            self.bucket,
            self.key,
            content_type=self._content_type,
            metadata=self._metadata,
            headers=self._extras.create_headers(),
            query=self._extras.query,
        )
        self.upload_id = upload_id
        try:
            self._follow_stored_parts(reader.size)
            parts = await self._send_all(reader, upload_id)
            reader.check_unchanged()
            result = await self._client.complete_multipart_upload(
                self.bucket, self.key, upload_id, parts
            )
        except BaseException as exc:
            self._resumption.failed(exc)
            await run_to_end(self._give_up(upload_id))
            raise
        self.reused = self._resumption.reused
        ordered = sorted(parts, key=lambda part: part.part_number)
        where = f"{self.bucket}/{self.key}"
        etag = verified_etag(result.etag, (part.etag for part in ordered), where)
        return PutResult(etag, result.version_id, len(parts), reader.size)

    def _follow_stored_parts(self, size: int) -> None:
        """Cut the file as the resumed upload was cut, when the caller named no part size.

        An upload begun with another part size (another ``part_size``, or an older default)
        would otherwise match none of its stored parts and send them all again.
        """
        first = self._resumption.stored.get(1)
        if self._asked is not None or first is None or first.size == self.part_size:
            return
        if first.size >= MIN_PART_SIZE:
            self._asked = first.size
            self._plan(size)

    async def _send_all(self, reader: _PartReader, upload_id: str) -> list[UploadedPart]:
        """Send every part not already stored, keeping as many in flight as the limit says."""
        plan = list(split(reader.size, self.part_size)) or [(0, 0)]
        controller = self._controller()
        waiting = iter(enumerate(plan, 1))
        parts: list[UploadedPart] = []
        more = True
        while more or self._tasks:
            while more and len(self._tasks) < controller.limit:
                step = next(waiting, None)
                if step is None:
                    more = False
                    break
                number, (offset, length) = step
                sending = self._part(reader, upload_id, number, offset, length, number == len(plan))
                self._tasks.add(asyncio.ensure_future(sending))
            self.peak = max(self.peak, len(self._tasks))
            if not self._tasks:
                break
            done, self._tasks = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                part, sent = task.result()
                parts.append(part)
                self._progress.add(part.size)
                if sent:
                    controller.completed(time.monotonic(), part.size)
        self.limit = controller.limit
        return parts

    def _controller(self) -> AdaptiveConcurrency:
        # Started at its maximum (a fixed number, or a file whose parts all fit in flight), a
        # controller is settled: the limit never moves.
        return AdaptiveConcurrency(start=self.start, maximum=self.maximum)

    async def _part(
        self, reader: _PartReader, upload_id: str, number: int, offset: int, length: int, last: bool
    ) -> tuple[UploadedPart, bool]:
        data = reader.read(offset, length, last=last)
        stored = self._resumption.reuse(number, data)
        if stored is not None:
            return stored, False
        self.sent += 1
        part = await self._client.upload_part(self.bucket, self.key, upload_id, number, data)
        return part, True

    async def _give_up(self, upload_id: str) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.reused = self._resumption.reused
        await self._resumption.give_up(self._client, self.bucket, self.key, upload_id)


class _PartReader:
    """Reads parts of one open file at their offsets, and notices the file changing."""

    def __init__(self, descriptor: int, path: str, info: os.stat_result) -> None:
        self._descriptor = descriptor
        self._path = path
        self._info = info
        self.size = info.st_size

    def read(self, offset: int, length: int, *, last: bool) -> bytes:
        """The ``length`` bytes at ``offset``; for the last part, a byte more is asked for,
        so a file that grew is noticed too."""
        wanted = length + 1 if last else length
        pieces = []
        got = 0
        while got < wanted:
            piece = os.pread(self._descriptor, min(wanted - got, _MAX_READ), offset + got)
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
        if got != length:
            raise self._changed(f"{got:,} bytes at offset {offset:,} where {length:,} were due")
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def check_unchanged(self) -> None:
        """Raise ``SourceChanged`` if the file's size or modification time moved."""
        now = os.fstat(self._descriptor)
        if (now.st_size, now.st_mtime_ns) != (self.size, self._info.st_mtime_ns):
            raise self._changed(f"now {now.st_size:,} bytes, modified since the upload began")

    def _changed(self, what: str) -> SourceChanged:
        message = f"changed while it was uploaded (was {self.size:,} bytes; {what})"
        return SourceChanged(url=self._path, status=None, message=message)


def _check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, str):
        raise ValueError(f"concurrency must be an int or 'auto', got {concurrency!r}")
    return check_positive_int("concurrency", concurrency, maximum=1000)
