"""Property tests of MultipartUploader and upload_stream against the fake S3 of tests/fakes3.py.

Hypothesis searches write sequences, buffer types, faults and cancellations for data loss and
leftovers. Every run must end with the key holding exactly the bytes written, or nothing; no
multipart upload left on the server; no task, session or connection left open; and nothing
raised but RawS3Error, TypeError, ValueError, or CancelledError when it was cancelled.
``RAWS3_HYPOTHESIS_PROFILE=long`` searches longer (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from rawS3 import MultipartUploader, PutResult, S3Client, upload_stream
from rawS3.bodies import SLICE_SIZE
from tests.fakes3 import (
    BUCKET,
    CANCELS,
    CUT_ERROR,
    FAST_RETRY,
    FAULTS,
    INTERNAL_ERROR,
    KINDS,
    LONG_STALL,
    MUST_ACCEPT,
    PART,
    RESET_AFTER,
    RESET_BEFORE,
    SLOW_DOWN,
    TALLY,
    WRITE_SIZES,
    Cancel,
    FakeS3,
    Fault,
    Inject,
    Pieces,
    Run,
    buffer_of,
    examples,
    exercise,
    fitted,
    multipart_etag_of,
    resent,
    running,
    scribble,
    stall,
    stalled_error,
    verdict,
)

KEY = "dir/a key+with spaces"
# Distinct bytes at every offset, so a part sent twice, dropped or misplaced shows.
DATA = random.Random(20240601).randbytes(3 * PART + 70_000)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeS3]:
    with running() as server:
        yield server


# -- strategies -----------------------------------------------------------------------------------

UPLOAD_OPERATIONS = (
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListMultipartUploads",
    "PutObject",
)
# Every request of an operation failing: not Abort, whose failing every time must leave the
# upload behind whatever the client does.
ALWAYS_FAILING = ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "PutObject")
INJECTIONS = st.one_of(
    st.builds(Inject, FAULTS, at=st.integers(1, 8)),
    st.builds(Inject, FAULTS, operation=st.sampled_from(UPLOAD_OPERATIONS), nth=st.integers(1, 3)),
    st.builds(Inject, FAULTS, operation=st.sampled_from(ALWAYS_FAILING)),
)
PLANS = st.lists(INJECTIONS, max_size=2)


OBJECT_SIZES = st.sampled_from([0, 1, 300_000, PART - 1, PART, PART + 1, 2 * PART + 4321])
CHUNKS = st.sampled_from([256 * 1024, PART // 2 + 3, PART, 3 * PART + 1])
SOURCES = st.sampled_from(["bytes", "reused bytearray", "reused read-only view"])


def check_result(run: Run, fake: FakeS3, size: int) -> list[str]:
    if not run.ok:
        return []
    result = run.result
    if not isinstance(result, PutResult):
        return [f"returned {result!r}, not a PutResult"]
    problems = []
    if result.size != size:
        problems.append(f"the result says {result.size} bytes; {size} were written")
    if result.etag != fake.etag(KEY):
        problems.append(f"the result's ETag {result.etag} is not the stored {fake.etag(KEY)}")
    return problems


# -- write sequences and buffer types -----------------------------------------------------------

WRITES = st.lists(st.tuples(WRITE_SIZES, st.sampled_from(KINDS), st.booleans()), max_size=8)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=examples(0.4))
@given(sizes=st.lists(WRITE_SIZES, min_size=1, max_size=4), concurrency=st.integers(1, 3))
def test_a_buffer_overwritten_once_write_returns_changes_nothing_stored(
    fake: FakeS3, kind: str, sizes: list[int], concurrency: int
) -> None:
    """Writes of one buffer type (each type searched on its own, so none is left to chance),
    every buffer overwritten as soon as ``write`` returns."""
    check_writes(fake, [(size, kind, True) for size in sizes], concurrency)


@settings(max_examples=examples(1.5))
@given(writes=WRITES, concurrency=st.integers(1, 3))
def test_the_bytes_written_are_the_bytes_stored(
    fake: FakeS3, writes: list[tuple[int, str, bool]], concurrency: int
) -> None:
    """Any sequence of writes of any buffer types, some buffers overwritten once write
    returns: the object holds exactly the bytes accepted, in order."""
    check_writes(fake, writes, concurrency)


def check_writes(fake: FakeS3, writes: list[tuple[int, str, bool]], concurrency: int) -> None:
    """The object holds exactly the bytes of the writes accepted; documented types are
    accepted; a refused write (TypeError, ValueError) changes nothing."""
    fake.reset()
    expected = bytearray()
    refused: list[str] = []

    async def upload(client: S3Client) -> PutResult | None:
        up = MultipartUploader(client, BUCKET, KEY, part_size=PART, concurrency=concurrency)
        async with up:
            at = 0
            for size, kind, mutate in writes:
                data = DATA[at : at + size]
                data = data[: fitted(kind, len(data))]
                if not data and size:
                    break  # DATA is used up: the object is a few parts long at most
                at += len(data)
                buffer, owner = buffer_of(kind, data)
                try:
                    await up.write(buffer)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    refused.append(kind)
                    continue
                expected.extend(data)
                if mutate and owner is not None:
                    scribble(owner)
        return up.result

    run = asyncio.run(exercise(fake, upload))
    found = verdict(run, fake, KEY, bytes(expected), must_succeed=True)
    found.other += check_result(run, fake, len(expected))
    found.other += [f"a {kind} was refused" for kind in refused if kind in MUST_ACCEPT]
    found.check(run.story())


# -- faults and cancellations -------------------------------------------------------------------


def uploading(
    data: bytes, chunk: int, source: str, concurrency: int, via: str
) -> Callable[[S3Client], Awaitable[PutResult | None]]:
    async def upload(client: S3Client) -> PutResult | None:
        pieces = Pieces(data, chunk, source)
        if via == "upload_stream":
            return await upload_stream(
                client, BUCKET, KEY, pieces, part_size=PART, concurrency=concurrency
            )
        async with MultipartUploader(
            client, BUCKET, KEY, part_size=PART, concurrency=concurrency
        ) as up:
            async for piece in pieces:
                await up.write(piece)
        return up.result

    return upload


@settings(max_examples=examples(3))
@given(
    size=OBJECT_SIZES,
    chunk=CHUNKS,
    source=SOURCES,
    concurrency=st.integers(1, 3),
    via=st.sampled_from(["MultipartUploader", "upload_stream"]),
    plan=PLANS,
    cancel=CANCELS,
)
def test_faults_and_cancellations_leave_the_object_whole_or_absent_and_nothing_behind(
    fake: FakeS3,
    size: int,
    chunk: int,
    source: str,
    concurrency: int,
    via: str,
    plan: list[Inject],
    cancel: Cancel | None,
) -> None:
    data = DATA[:size]
    fake.reset(plan)
    run = asyncio.run(
        exercise(
            fake,
            uploading(data, chunk, source, concurrency, via),
            cancel_at_request=cancel.at_request if cancel else None,
            cancel_after_steps=cancel.after_steps if cancel else None,
            budget=80,
        )
    )
    note(f"faults fired: {[str(e.fault) for e in run.injected]}; cancels: {run.cancels}")
    undisturbed = not run.injected and not run.cancels
    found = verdict(run, fake, KEY, data, must_succeed=undisturbed)
    found.other += resent(run, FAST_RETRY.attempts) + check_result(run, fake, size)
    found.check(run.story())


SWEPT: list[Fault | str] = [
    INTERNAL_ERROR,
    SLOW_DOWN,
    RESET_BEFORE,
    RESET_AFTER,
    CUT_ERROR,
    stalled_error(LONG_STALL),
    stall(LONG_STALL),
    "cancel at the request",
    "cancel after loop steps",
]


@pytest.mark.parametrize("fault", SWEPT, ids=str)
def test_a_fault_at_each_request_of_an_upload_in_turn(fake: FakeS3, fault: Fault | str) -> None:
    """Not a search but a sweep: one fault (or cancellation) at request 1, then at request 2,
    ... of a two-part upload; with "loop steps", a cancellation after every n-th loop turn."""
    data = DATA[: PART + 4321]
    upload = uploading(data, 1024 * 1024, "reused bytearray", 2, "MultipartUploader")
    fake.reset()
    steps = Steps()
    dry = asyncio.run(steps.count(exercise(fake, upload)))
    assert dry.ok, dry.story()
    if fault == "cancel after loop steps":
        points = [
            {"cancel_after_steps": n} for n in range(0, steps.turns, max(1, steps.turns // 10))
        ]
    elif fault == "cancel at the request":
        points = [{"cancel_at_request": k} for k in range(1, len(dry.log) + 1)]
    else:
        points = [{} for _ in dry.log]
    failures = []
    for k, point in enumerate(points, 1):
        fake.reset([Inject(fault, at=k)] if isinstance(fault, Fault) else ())
        run = asyncio.run(exercise(fake, upload, **point))  # type: ignore[arg-type]
        problems = verdict(run, fake, KEY, data, must_succeed=False).all()
        problems += resent(run, FAST_RETRY.attempts) + check_result(run, fake, len(data))
        if problems:
            where = point or f"request {k} ({dry.log[k - 1].operation})"
            failures.append(f"{fault} at {where}: " + "; ".join(problems))
    assert not failures, "\n".join(failures)


class Steps:
    """Counts the turns of the event loop an undisturbed run takes."""

    def __init__(self) -> None:
        self.turns = 0

    async def count(self, work: Awaitable[Run]) -> Run:
        done = False

        async def tick() -> None:
            while not done:
                self.turns += 1
                await asyncio.sleep(0)

        ticker = asyncio.ensure_future(tick())
        try:
            return await work
        finally:
            done = True
            await ticker


@settings(max_examples=examples(1))
@given(size=st.sampled_from([1, PART + 1, 2 * PART + 1]), at=st.integers(1, 5), chunk=CHUNKS)
def test_abort_from_another_task_leaves_nothing_behind(
    fake: FakeS3, size: int, at: int, chunk: int
) -> None:
    """abort() called by another task when the server sees request ``at`` (Create, a part, ...)
    while the writer carries on: whatever the timing, no upload stays on the server."""
    data = DATA[:size]
    fake.reset()
    held: dict[str, MultipartUploader | asyncio.Future[None]] = {}

    async def upload(client: S3Client) -> PutResult | None:
        up = MultipartUploader(client, BUCKET, KEY, part_size=PART, concurrency=2)
        held["up"] = up
        try:
            async with up:
                async for piece in Pieces(data, chunk, "bytes"):
                    await up.write(piece)
        finally:
            aborting = held.get("abort")
            if isinstance(aborting, asyncio.Future):
                await asyncio.wait({aborting})
        return up.result

    def abort() -> None:
        up = held["up"]
        assert isinstance(up, MultipartUploader)
        held["abort"] = asyncio.ensure_future(up.abort())

    run = asyncio.run(exercise(fake, upload, at_request={at: abort}))
    found = verdict(run, fake, KEY, data, must_succeed=False, also_allowed=(RuntimeError,))
    if isinstance(run.error, RuntimeError) and "completed or aborted" not in str(run.error):
        found.untyped.append(f"RuntimeError other than the documented one: {run.error}")
    aborting = held.get("abort")
    if isinstance(aborting, asyncio.Future) and aborting.done() and aborting.exception():
        found.untyped.append(f"abort() raised {aborting.exception()!r}")
    found.check(run.story())


# -- memory ---------------------------------------------------------------------------------------


class LazySource:
    """``total`` bytes made a chunk at a time and held by no one but the caller.

    Each chunk is one allocation (``os.urandom``, or a zeroed bytearray with sparse random
    bytes), so the chunk in hand is exactly ``chunk`` bytes of the traced peak. The MD5 of each
    part is taken on the way, for the ETag the stored object must have.
    """

    def __init__(self, total: int, chunk: int, kind: str) -> None:
        self.left, self.chunk, self.kind = total, chunk, kind
        self.md5s: list[bytes] = []
        self._part = hashlib.md5()
        self._filled = 0

    def next(self) -> bytes | bytearray | None:
        n = min(self.chunk, self.left)
        if n <= 0:
            return None
        self.left -= n
        if self.kind == "bytes":
            piece: bytes | bytearray = os.urandom(n)
        else:
            piece = bytearray(n)
            piece[::4096] = os.urandom(len(range(0, n, 4096)))
        self._hash(memoryview(piece))
        return piece

    def _hash(self, view: memoryview) -> None:
        while view.nbytes:
            take = min(PART - self._filled, view.nbytes)
            self._part.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == PART:
                self.md5s.append(self._part.digest())
                self._part, self._filled = hashlib.md5(), 0

    def etag(self) -> str:
        last = [self._part.digest()] if self._filled or not self.md5s else []
        return multipart_etag_of(self.md5s + last)


@settings(max_examples=examples(0.6))
@given(
    chunk=st.sampled_from([64 * 1024, PART // 2 + 1, PART + 1, 2 * PART + 1, 3 * PART + 1]),
    kind=st.sampled_from(["bytes", "bytearray"]),
    concurrency=st.integers(1, 3),
    parts=st.integers(2, 4),
    auto=st.booleans(),
)
def test_peak_buffered_bytes_stay_within_concurrency_plus_one_parts(
    fake: FakeS3, chunk: int, kind: str, concurrency: int, parts: int, auto: bool
) -> None:
    """tracemalloc's peak over the upload, less the one source chunk in hand, stays within
    (concurrency + 1) × part_size, plus what the transport may copy of each part in flight.
    With ``concurrency="auto"`` and ``max_memory`` of ``concurrency`` parts, the same bound."""
    total = max(parts * PART, 2 * chunk) + 12_345
    source = LazySource(total, chunk, kind)
    bound = (concurrency + 1) * PART
    limits: dict[str, object] = (
        {"concurrency": "auto", "max_memory": concurrency * PART}
        if auto
        else {"concurrency": concurrency}
    )
    slack = concurrency * 2 * SLICE_SIZE + 2 * 1024 * 1024
    peaks: list[int] = []

    async def upload(client: S3Client) -> PutResult | None:
        up = MultipartUploader(client, BUCKET, KEY, part_size=PART, **limits)  # type: ignore[arg-type]
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        async with up:
            while (piece := source.next()) is not None:
                await up.write(piece)
                del piece  # the caller keeps nothing: only the uploader may
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
        return up.result

    fake.reset(keep_data=False)
    tracemalloc.start()
    try:
        run = asyncio.run(exercise(fake, upload))
    finally:
        tracemalloc.stop()
    found = verdict(run, fake, KEY, None, must_succeed=True)
    if run.ok and fake.etag(KEY) != source.etag():
        TALLY.lost += 1
        found.lost.append(f"stored ETag {fake.etag(KEY)}; the bytes written make {source.etag()}")
    if peaks:
        held = peaks[0] - min(chunk, total)
        TALLY.peaks.append((held, bound))
        note(f"held {held / 2**20:.2f} MiB beyond the chunk in hand; bound {bound / 2**20} MiB")
        if held > bound + slack:
            found.other.append(
                f"held {held / 2**20:.1f} MiB beyond the source chunk in hand; the bound is "
                f"(concurrency + 1) × part size = {bound / 2**20:.0f} MiB "
                f"(+ {slack / 2**20:.1f} MiB for transport copies)"
            )
    found.check(run.story())
