"""Parallel ranged downloads into a file (``download_file``); as ordered bytes, see
``rawS3.download_stream``.

The first range is asked for without a condition; its answer pins the version (ETag and size,
``rawS3.operations.ranged``), and every later range is asked for with ``If-Match`` on that
ETag, so an object replaced meanwhile stops the download with ``ObjectChanged`` instead of
mixing two versions. An object no larger than one part is one GET. A range whose body breaks
off is asked for again from the byte it had reached, up to the retry policy's attempts.

Into a file, bytes are written where they belong with ``os.pwrite`` on one descriptor, from the
event loop itself: rawS3 runs where threads are not available, and a write of one received
piece (at most ``CHUNK`` bytes) into the page cache takes tens of microseconds, far less than
the network took to bring it. Memory is then one piece per range in flight. The file is a
temporary one next to the target, fsync'd and renamed over it only when complete and checked;
any failure or cancellation removes it, unless ``resume`` keeps it (with its JSON state) on
purpose. A partial file kept for resuming is locked (``flock``) by the download writing it, from
before its state is read until it is renamed or removed: a second download resuming into the
same target would otherwise trust ranges the first is still writing, or truncate them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import random
import secrets
from collections.abc import Callable, Coroutine

import aiohttp

from rawS3.cleanup import run_to_end
from rawS3.engine import TRANSPORT_FAILURES, Engine, transport_error
from rawS3.errors import (
    IntegrityError,
    InvalidRange,
    ObjectChanged,
    PreconditionFailed,
    ResponseError,
    TransportError,
)
from rawS3.operations.options import Extras, with_extras
from rawS3.operations.ranged import (
    DownloadResult,
    Pin,
    ResumeState,
    Span,
    check_whole,
    md5_etag,
    pin_from_answer,
    range_get,
    read_range_answer,
    spans,
    whole_get,
)
from rawS3.progress import ProgressCallback, TransferProgress
from rawS3.transfer_sizing import DOWNLOAD_MAX_PART, MD5_CHECKED_MAX, download_part_size

__all__ = [
    "CHUNK",
    "PARTIAL_SUFFIX",
    "STATE_SUFFIX",
    "RangeReader",
    "download_file",
    "report",
    "settle",
]

log = logging.getLogger("rawS3")
CHUNK = 256 * 1024
PARTIAL_SUFFIX = ".raws3-part"
STATE_SUFFIX = ".json"
Deliver = Callable[[int, bytes], None]


class RangeReader:
    """Reads ranges of one object, pinned to the version its first answer names.

    Args:
        engine: sends the GETs.
        bucket: the bucket.
        key: the object's key.
        version_id: a version of a versioned bucket, or ``None`` for the current one.
        extras: the caller's extra headers and query parameters, sent with every GET.
    """

    def __init__(
        self, engine: Engine, bucket: str, key: str, version_id: str | None,
        extras: Extras = (None, None),
    ) -> None:
        self._engine = engine
        self.bucket = bucket
        self.key = key
        self._version_id = version_id
        self._extras = extras
        self.pin: Pin | None = None
        self.md5: str | None = None
        self.requests = 0

    async def open_first(self, start: int, end: int) -> aiohttp.ClientResponse:
        """Ask for bytes ``start``..``end`` unconditionally and pin the version the answer names.

        An empty object cannot be asked for by range (S3 answers 416): it is then asked for
        whole, and the answer is a 200.

        Args:
            start: the first byte.
            end: one past the last byte.

        Returns:
            The answer, its body unread: 206 for the range, 200 for a whole object.

        Raises:
            S3Error, TransportError; ResponseError: an answer without a usable size.
        """
        self.requests += 1
        request = range_get(
            self.bucket, self.key, start, end, pin=None, version_id=self._version_id
        )
        try:
            response = await self._engine.open(with_extras(request, *self._extras))
        except InvalidRange:
            self.requests += 1
            whole = whole_get(self.bucket, self.key, version_id=self._version_id)
            response = await self._engine.open(with_extras(whole, *self._extras))
        try:
            self.pin = pin_from_answer(response.status, response.headers)
            self.md5 = md5_etag(response.headers)
            if response.status == 206:
                self._check(response, start, min(end, self.pin.size))
        except BaseException:
            response.release()
            raise
        return response

    def _check(self, response: aiohttp.ClientResponse, start: int, end: int) -> None:
        assert self.pin is not None
        read_range_answer(
            response.status,
            response.headers,
            start=start,
            end=end,
            pin=self.pin,
            bucket=self.bucket,
            key=self.key,
        )

    async def fetch(
        self, span: Span, deliver: Deliver, response: aiohttp.ClientResponse | None = None
    ) -> None:
        """Fetch ``span`` and hand its bytes to ``deliver(offset, piece)`` in order.

        A body that breaks off is asked for again from the byte it reached, with ``If-Match``,
        up to the retry policy's attempts (answers that fail before their body are retried by
        the engine itself).

        Args:
            span: the range.
            deliver: takes each piece with the object offset it starts at.
            response: an answer already open on the range's start (the first range's); it
                may run past the range's end (asked for before the size was known): it is then
                read up to the end and dropped.

        Raises:
            ObjectChanged: the object was replaced; TransportError: the range kept breaking;
                S3Error, ResponseError.
        """
        position, breaks, longer = span.start, 0, response is not None
        while position < span.end:
            try:
                if response is None:
                    response = await self._open(position, span.end)
                try:
                    async for piece in response.content.iter_chunked(CHUNK):
                        if position + len(piece) > span.end:
                            if not longer:
                                raise ResponseError(f"more bytes than the range {span} holds")
                            piece = piece[: span.end - position]
                        deliver(position, piece)
                        position += len(piece)
                        if position == span.end:
                            break  # the rest of a longer first answer is another range's
                except TRANSPORT_FAILURES as exc:
                    raise _broken(exc, position) from exc
                if position < span.end:
                    raise TransportError(f"the body of {span.start}-{span.end - 1} ended early")
            except TransportError:
                breaks += 1
                policy = self._engine.retry
                # No answer at all (``response`` unset): the engine has retried it already.
                if breaks >= policy.attempts or response is None:
                    raise
                log.debug("range %d-%d broke at %d; asking again", span.start, span.end, position)
                await asyncio.sleep(policy.backoff(breaks, random.random()))
            finally:
                if response is not None:
                    response.release()
                response, longer = None, False

    async def _open(self, start: int, end: int) -> aiohttp.ClientResponse:
        self.requests += 1
        pin = self.pin
        request = range_get(self.bucket, self.key, start, end, pin=pin, version_id=self._version_id)
        try:
            response = await self._engine.open(with_extras(request, *self._extras))
        except PreconditionFailed as exc:
            assert pin is not None
            raise ObjectChanged(self.bucket, self.key, expected=pin.etag, actual=None) from exc
        try:
            self._check(response, start, end)
        except BaseException:
            response.release()
            raise
        return response


def _broken(exc: BaseException, position: int) -> TransportError:
    error = transport_error(exc)
    error.args = (f"{error} (at byte {position:,})",)
    return error


# -- into a file ---------------------------------------------------------------------------------


class _FileSink:
    """The temporary file a download writes into, and what it has of the object."""

    def __init__(self, path: str, fd: int, state: ResumeState, keep_state: bool) -> None:
        self.path = path
        self.fd = fd
        self.state = state
        self.keep_state = keep_state
        self._hash: hashlib._Hash | None = None

    def hash_in_order(self) -> None:
        """Hash what is written: only for an object fetched as one range, whose bytes come in
        order, so checking its MD5 costs no second pass over the file."""
        self._hash = hashlib.md5(usedforsecurity=False)

    def write(self, offset: int, piece: bytes) -> None:
        # Blocking on purpose (see the module docstring): one piece into the page cache.
        view = memoryview(piece)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written
        if self._hash is not None:
            self._hash.update(piece)

    def range_done(self, span: Span) -> None:
        self.state = self.state.with_done([span.index])
        if self.keep_state:
            # What the state calls done must be on disk before the state says so.
            os.fdatasync(self.fd)
            _write_atomically(self.path + STATE_SUFFIX, self.state.to_json())

    def digest(self) -> str | None:
        return None if self._hash is None else self._hash.hexdigest()

    def md5_of_file(self, size: int) -> str:
        """The MD5 of what the file holds, read back: for ranges that came out of order."""
        digest = hashlib.md5(usedforsecurity=False)
        for offset in range(0, size, CHUNK):
            digest.update(os.pread(self.fd, min(CHUNK, size - offset), offset))
        return digest.hexdigest()


def _write_atomically(path: str, data: bytes) -> None:
    temporary = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _claim(partial: str) -> int:
    """Open (or create) the partial file and lock it for this download alone.

    Raises:
        BlockingIOError: another download holds it.
    """
    fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
            # A file system without locks (some network and FUSE ones): resume unguarded.
            log.warning("cannot lock %s (%s): a second download would not be noticed", partial, exc)
            return fd
        os.close(fd)
        message = "another download is resuming into this file; try again when it ends"
        raise BlockingIOError(exc.errno, message, partial) from exc
    return fd


def _unclaim(partial: str, fd: int) -> None:
    """Give up a claimed partial file the download never wrote: removed if it holds nothing."""
    try:
        if os.fstat(fd).st_size == 0 and not os.path.exists(partial + STATE_SUFFIX):
            _remove(partial)  # while still locked, so no other download is using it
    finally:
        os.close(fd)


def _read_state(partial: str, fd: int) -> ResumeState | None:
    try:
        with open(partial + STATE_SUFFIX, "rb") as handle:
            data = handle.read(1024 * 1024)
        size = os.fstat(fd).st_size
    except OSError:
        return None
    state = ResumeState.from_json(data)
    if state is None or size != state.size:
        # Unreadable, or a partial file changed behind our back: trust none of it.
        log.info("the resume state beside %s does not fit it; starting over", partial)
        return None
    return state


def _remove(*paths: str) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


async def download_file(
    engine: Engine,
    bucket: str,
    key: str,
    target: str,
    *,
    part_size: int | None,
    concurrency: int,
    resume: bool,
    on_progress: ProgressCallback | None,
    version_id: str | None,
    extras: Extras = (None, None),
) -> DownloadResult:
    """Download ``bucket``/``key`` into the file ``target``; see ``S3Client.download``.

    Args:
        engine: sends the GETs.
        bucket: the bucket.
        key: the object's key.
        target: the file to write.
        part_size: bytes per range, or ``None`` to spread the object over ``concurrency``
            ranges (``rawS3.transfer_sizing.download_part_size``).
        concurrency: ranges in flight.
        resume: keep a partial file on failure, and resume from one.
        on_progress: hears of the bytes written.
        version_id: a version of a versioned bucket, or ``None``.
        extras: extra headers and query parameters for every GET.

    Returns:
        What was done.

    Raises:
        ObjectChanged, IntegrityError, S3Error, TransportError, ResponseError, OSError.
    """
    if not resume:
        partial = f"{target}.raws3-{secrets.token_hex(6)}.tmp"
        return await _download(engine, bucket, key, target, partial, None, part_size,
                               concurrency, on_progress, version_id, extras)
    partial = target + PARTIAL_SUFFIX
    claim: list[int] = [_claim(partial)]  # emptied once a sink owns the descriptor
    try:
        return await _download(engine, bucket, key, target, partial, claim, part_size,
                               concurrency, on_progress, version_id, extras)
    finally:
        if claim:
            _unclaim(partial, claim[0])


async def _download(
    engine: Engine,
    bucket: str,
    key: str,
    target: str,
    partial: str,
    claim: list[int] | None,
    part_size: int | None,
    concurrency: int,
    on_progress: ProgressCallback | None,
    version_id: str | None,
    extras: Extras,
) -> DownloadResult:
    """``download_file`` once the partial file is chosen (and, to resume, claimed)."""
    resume = claim is not None
    reader = RangeReader(engine, bucket, key, version_id, extras)
    saved = _read_state(partial, claim[0]) if claim else None
    first: aiohttp.ClientResponse | None = None
    if saved is not None:
        # Ask for the first range still missing: its answer tells whether the partial file
        # holds bytes of the version the server has now.
        start = next(saved.remaining(), Span(0, 0, min(saved.part_size, saved.size)))
        first = await reader.open_first(start.start, max(start.end, 1))
        assert reader.pin is not None
        if not saved.matches(reader.pin):
            log.info("%s/%s changed since %s was begun; starting over", bucket, key, partial)
            first.release()
            first, saved = None, None
        elif first.status == 200:
            saved = None  # the whole object came (an empty one): nothing to resume
    if first is None:
        first = await reader.open_first(0, part_size or DOWNLOAD_MAX_PART)
    try:
        assert reader.pin is not None
        pin = reader.pin
        part = part_size or download_part_size(pin.size, concurrency)
        part = saved.part_size if saved is not None else part
        plan = [Span(0, 0, pin.size)] if first.status == 200 else spans(pin.size, part)
        state = saved or ResumeState(pin.etag, pin.size, part, frozenset())
        sink = _open_sink(partial, state, claim, fresh=saved is None)
        try:
            result = await _fill(reader, sink, first, plan, concurrency, on_progress)
            _finish(sink, target, pin)
            return DownloadResult(target, pin.size, pin.etag, reader.requests, *result)
        except IntegrityError:
            sink.keep_state = False  # bytes of another version, or wrong ones: nothing to resume
            raise
        finally:
            _close(sink, resume)
    finally:
        first.release()


def _open_sink(
    partial: str, state: ResumeState, claim: list[int] | None, *, fresh: bool
) -> _FileSink:
    """The file to write into: the claimed partial file to resume, else a new one."""
    resume = claim is not None
    fd = claim.pop() if claim else os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if fresh:
            os.ftruncate(fd, 0)  # a partial file of another version: nothing in it is ours
        os.ftruncate(fd, state.size)
        sink = _FileSink(partial, fd, state, keep_state=resume)
        if resume:
            _write_atomically(partial + STATE_SUFFIX, state.to_json())
        return sink
    except BaseException:
        if not resume:
            _remove(partial)
        os.close(fd)
        raise


async def _fill(
    reader: RangeReader,
    sink: _FileSink,
    first: aiohttp.ClientResponse,
    plan: list[Span],
    concurrency: int,
    on_progress: ProgressCallback | None,
) -> tuple[int, bool]:
    """Fetch every range the file lacks; return the bytes resumed and whether MD5 was checked."""
    pin = reader.pin
    assert pin is not None
    resumed = sink.state.done_bytes()
    todo = collections.deque(span for span in plan if span.index not in sink.state.done)
    # The first answer is open on the first range missing, if any is.
    opened: Span | None = todo[0] if todo else None
    in_order = len(plan) == 1 and not resumed
    check_md5 = reader.md5 is not None and (in_order or pin.size <= MD5_CHECKED_MAX)
    if check_md5 and in_order:
        sink.hash_in_order()
    done = resumed
    report(on_progress, done, pin.size)

    def deliver(offset: int, piece: bytes) -> None:
        nonlocal done
        sink.write(offset, piece)
        done += len(piece)
        report(on_progress, done, pin.size)

    async def worker(response: aiohttp.ClientResponse | None) -> None:
        while todo:
            span = todo.popleft()
            given = response if span is opened else None
            response = None
            await reader.fetch(span, deliver, given)
            sink.range_done(span)

    if opened is None:
        first.release()  # the range it opened on is held already
    count = max(1, min(concurrency, len(todo)))
    await _run_all([worker(first if i == 0 and opened else None) for i in range(count)])
    digest = sink.digest() or (sink.md5_of_file(pin.size) if check_md5 else None)
    check_whole(f"{reader.bucket}/{reader.key}", pin, reader.md5, done, digest)
    return resumed, check_md5


async def _run_all(jobs: list[Coroutine[object, object, None]]) -> None:
    """Run ``jobs`` at once; the first failure cancels the rest, and none outlives the call."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await run_to_end(settle(tasks))


async def settle(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for ``tasks`` to end, however they end.

    Args:
        tasks: the tasks, cancelled or not.
    """
    await asyncio.gather(*tasks, return_exceptions=True)


def report(on_progress: ProgressCallback | None, done: int, total: int) -> None:
    """Tell ``on_progress``, if given, where the transfer stands.

    Args:
        on_progress: the callback, or ``None``.
        done: bytes done.
        total: the object's size.
    """
    if on_progress is not None:
        on_progress(TransferProgress(done, total))


def _finish(sink: _FileSink, target: str, pin: Pin) -> None:
    """Check the file holds the whole object, make it durable, and put it in place."""
    size = os.fstat(sink.fd).st_size
    missing = len(list(sink.state.remaining()))
    if size != pin.size or missing:
        raise IntegrityError(
            f"the file holds {size:,} bytes with {missing} ranges missing; the object has "
            f"{pin.size:,}",
            expected=str(pin.size),
            actual=str(size),
        )
    os.fsync(sink.fd)
    # The state goes first, while the file is still the locked partial one: a download that
    # claims a new partial file after the rename must find no state that is not its own.
    _remove(sink.path + STATE_SUFFIX)
    os.replace(sink.path, target)
    sink.keep_state = False
    _sync_directory(os.path.dirname(os.path.abspath(target)))


def _sync_directory(path: str) -> None:
    # The rename is durable only once the directory is; not every platform can open one.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _close(sink: _FileSink, resume: bool) -> None:
    # Removed before the descriptor (and with it the lock) is let go: a download waiting to
    # resume must not claim a file that is about to vanish.
    try:
        if not os.path.exists(sink.path):
            return  # renamed into place
        if resume and sink.keep_state:
            _write_atomically(sink.path + STATE_SUFFIX, sink.state.to_json())
        else:
            _remove(sink.path, sink.path + STATE_SUFFIX)
    finally:
        os.close(sink.fd)
