"""Parallel ranged downloads as ordered bytes (``iter_object``), for ``S3Client.iter_download``.

Ranges are read by ``rawS3.download.RangeReader``, pinned to one version as for a file. Those
ahead of the reader are held in memory: at most ``concurrency`` ranges of ``part_size``, since
a range starts only when the one the reader finished leaves the window. An answer of the whole
object (an empty one, or a server that ignores ``Range``) is read only as the reader asks: held
ahead, it would be the whole object in memory.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
from collections.abc import AsyncGenerator

import aiohttp

from rawS3.cleanup import run_to_end
from rawS3.download import CHUNK, RangeReader, report, settle
from rawS3.engine import TRANSPORT_FAILURES, Engine, transport_error
from rawS3.errors import ResponseError
from rawS3.operations.options import Extras
from rawS3.operations.ranged import Span, check_whole, spans
from rawS3.progress import ProgressCallback
from rawS3.transfer_sizing import DOWNLOAD_MAX_PART, MD5_CHECKED_MAX, download_part_size

__all__ = ["iter_object"]


class _Held:
    """A range fetched ahead of the reader: its pieces, until the reader takes them."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self.pieces: collections.deque[bytes] = collections.deque()
        self.finished = False


class _Window:
    """At most ``concurrency`` ranges in flight, the reader's next one first; a range starts
    only when the one the reader finished leaves, so memory stays within the window."""

    def __init__(self, reader: RangeReader, plan: list[Span], concurrency: int) -> None:
        self._reader = reader
        self._todo = collections.deque(plan)
        self._concurrency = concurrency
        self._active: collections.deque[_Held] = collections.deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._failure: BaseException | None = None

    def _start(self, response: aiohttp.ClientResponse | None = None) -> None:
        held = _Held(self._todo.popleft())

        def deliver(offset: int, piece: bytes) -> None:
            held.pieces.append(piece)
            self._wake.set()

        task = asyncio.ensure_future(self._reader.fetch(held.span, deliver, response))
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._ended(held, done))
        self._active.append(held)

    def _ended(self, held: _Held, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:
            self._failure = self._failure or task.exception()
        held.finished = True
        self._wake.set()

    async def pieces(self, first: aiohttp.ClientResponse) -> AsyncGenerator[bytes, None]:
        """Yield the object's pieces in order, as they arrive."""
        if self._todo:
            self._start(first)
        while self._todo and len(self._active) < self._concurrency:
            self._start()
        while self._active:
            head = self._active[0]
            while True:
                if self._failure is not None:
                    raise self._failure
                if head.pieces:
                    yield head.pieces.popleft()
                elif head.finished:
                    break
                else:
                    self._wake.clear()
                    await self._wake.wait()
            self._active.popleft()
            if self._todo:
                self._start()

    async def close(self) -> None:
        """Stop every range still in flight and wait until they have let go of their answers."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await run_to_end(settle(tasks))


async def iter_object(
    engine: Engine,
    bucket: str,
    key: str,
    *,
    part_size: int | None,
    concurrency: int,
    on_progress: ProgressCallback | None,
    version_id: str | None,
    extras: Extras = (None, None),
) -> AsyncGenerator[bytes, None]:
    """Yield ``bucket``/``key``'s bytes in order; see ``S3Client.iter_download``.

    Args:
        engine: sends the GETs.
        bucket: the bucket.
        key: the object's key.
        part_size: bytes per range, or ``None`` to spread the object over ``concurrency``
            ranges (``rawS3.transfer_sizing.download_part_size``).
        concurrency: ranges in flight (and held ahead of the reader).
        on_progress: hears of the bytes yielded.
        version_id: a version of a versioned bucket, or ``None``.
        extras: extra headers and query parameters for every GET.

    Yields:
        The object's bytes, in order.

    Raises:
        ObjectChanged, IntegrityError, S3Error, TransportError, ResponseError.
    """
    reader = RangeReader(engine, bucket, key, version_id, extras)
    first = await reader.open_first(0, part_size or DOWNLOAD_MAX_PART)
    window: _Window | None = None
    try:
        assert reader.pin is not None
        pin = reader.pin
        part = part_size or download_part_size(pin.size, concurrency)
        plan = [Span(0, 0, pin.size)] if first.status == 200 else spans(pin.size, part)
        # Bytes come in order here, but hashing a large object would slow the reader: the MD5
        # is checked where a file's is (one range, or at most MD5_CHECKED_MAX bytes).
        checked = len(plan) == 1 or pin.size <= MD5_CHECKED_MAX
        md5 = hashlib.md5(usedforsecurity=False) if checked and reader.md5 else None
        if first.status == 200:
            ordered = _as_asked(first, pin.size)
        else:
            window = _Window(reader, plan, concurrency)
            ordered = window.pieces(first)
        given = 0
        report(on_progress, given, pin.size)
        async with contextlib.aclosing(ordered) as pieces:
            async for piece in pieces:
                if md5 is not None:
                    md5.update(piece)
                given += len(piece)
                yield piece
                report(on_progress, given, pin.size)
        digest = None if md5 is None else md5.hexdigest()
        check_whole(f"{reader.bucket}/{reader.key}", pin, reader.md5, given, digest)
    finally:
        if window is not None:
            await window.close()
        first.release()


async def _as_asked(response: aiohttp.ClientResponse, size: int) -> AsyncGenerator[bytes, None]:
    """The body of a whole-object answer, read piece by piece as the reader asks for it.

    Such an answer cannot be resumed from a byte (its server ignores ``Range``, or the object
    is empty), so a break is the ``TransportError`` it is.
    """
    got = 0
    try:
        async for piece in response.content.iter_chunked(CHUNK):
            got += len(piece)
            if got > size:
                raise ResponseError(f"more than the {size:,} bytes the answer announced")
            yield piece
    except TRANSPORT_FAILURES as exc:
        raise transport_error(exc) from exc
