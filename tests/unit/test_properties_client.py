"""Property tests of S3Client's single requests and listings against tests/fakes3.py.

put_object (bytes-like and streamed bodies), open_object reads and the paged listings, with
faults and cancellations: each run ends in a correct result or a typed error, within a request
budget and a time limit (a listing that loops fails the budget instead of hanging the suite),
with nothing left open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from rawS3 import S3Client
from rawS3.bodies import SLICE_SIZE
from tests.fakes3 import (
    BUCKET,
    CANCELS,
    CUT_BODY,
    CUT_ERROR,
    FAST_RETRY,
    FAULTS,
    INTERNAL_ERROR,
    LONG_STALL,
    REPEAT_TOKEN,
    RESET_AFTER,
    RESET_BEFORE,
    SLOW_DOWN,
    Cancel,
    FakeS3,
    Inject,
    Pieces,
    examples,
    exercise,
    resent,
    running,
    stall,
    stalled_error,
    verdict,
)

KEY = "some/key with spaces"
DATA = bytes(range(251)) * 4000  # ~1 MB; a prime period, so a shifted byte shows


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeS3]:
    with running() as server:
        yield server


def plans(operation: str, faults: st.SearchStrategy[object] = FAULTS) -> st.SearchStrategy[object]:
    """Up to two faults on requests of ``operation``: the n-th one, or each of them."""
    one = st.builds(Inject, faults, operation=st.just(operation), nth=st.integers(1, 4))
    every = st.builds(Inject, faults, operation=st.just(operation))
    return st.lists(st.one_of(one, one, every), max_size=2)


def cancel_options(cancel: Cancel | None) -> dict[str, int | None]:
    return {
        "cancel_at_request": cancel.at_request if cancel else None,
        "cancel_after_steps": cancel.after_steps if cancel else None,
    }


# -- put_object -----------------------------------------------------------------------------------


@settings(max_examples=examples(1.5))
@given(
    size=st.one_of(st.integers(0, 600_000), st.sampled_from([0, SLICE_SIZE, SLICE_SIZE + 1])),
    body=st.sampled_from(["bytes", "bytearray", "memoryview", "async iterable"]),
    piece=st.integers(1, 200_000),
    chunk_size=st.sampled_from([8192, 65536]),
    lie=st.sampled_from([0, 0, 0, -1, 1]),
    plan=plans("PutObject"),
    cancel=CANCELS,
)
def test_put_object_stores_the_body_whole_or_not_at_all(
    fake: FakeS3,
    size: int,
    body: str,
    piece: int,
    chunk_size: int,
    lie: int,
    plan: list[Inject],
    cancel: Cancel | None,
) -> None:
    """A streamed body whose declared size is wrong (``lie``) must fail with ValueError and
    store nothing; any other body is stored whole, or not at all."""
    data = DATA[:size]
    lying = body == "async iterable" and lie != 0 and size + lie >= 0
    fake.reset(plan)

    async def put(client: S3Client) -> object:
        if body == "async iterable":
            pieces = Pieces(data, piece, "bytes")
            return await client.put_object(
                BUCKET, KEY, pieces, size=size + lie if lying else size, chunk_size=chunk_size
            )
        payload = {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data)}
        return await client.put_object(BUCKET, KEY, payload[body])

    run = asyncio.run(exercise(fake, put, budget=20, **cancel_options(cancel)))
    undisturbed = not run.injected and not run.cancels
    found = verdict(run, fake, KEY, data, must_succeed=undisturbed and not lying)
    if lying:
        if run.ok:
            found.lost.append(f"a body of {size} bytes declared as {size + lie} was accepted")
        if fake.stored(KEY) is not None:
            found.lost.append("a body of the wrong size was stored")
        if undisturbed and not isinstance(run.error, ValueError):
            found.ending.append(f"a wrong size raised {run.error!r}, not ValueError")
    found.other += resent(run, FAST_RETRY.attempts)
    found.check(run.story())


# -- open_object ----------------------------------------------------------------------------------

GET_FAULTS = st.sampled_from(
    [
        INTERNAL_ERROR,
        SLOW_DOWN,
        RESET_BEFORE,
        CUT_ERROR,
        CUT_BODY,
        stall(LONG_STALL),
        stalled_error(LONG_STALL),
    ]
)


@settings(max_examples=examples(1.5))
@given(
    size=st.integers(0, 700_000),
    byte_range=st.one_of(
        st.none(),
        st.tuples(st.integers(0, 800_000), st.one_of(st.none(), st.integers(0, 800_000))),
    ),
    mode=st.sampled_from(["read()", "iter_chunks", "first chunk, then leave"]),
    piece=st.integers(1, 300_000),
    plan=plans("GetObject", GET_FAULTS),
    cancel=CANCELS,
)
def test_open_object_reads_exactly_the_bytes_asked_for(
    fake: FakeS3,
    size: int,
    byte_range: tuple[int, int | None] | None,
    mode: str,
    piece: int,
    plan: list[Inject],
    cancel: Cancel | None,
) -> None:
    data = DATA[:size]
    fake.reset(plan)
    fake.put_direct(KEY, data)
    start, end = byte_range if byte_range else (None, None)
    valid = start is None or (start < size and (end is None or end >= start))
    wanted = data if start is None else data[start : None if end is None else end + 1]

    async def read(client: S3Client) -> bytes:
        async with client.open_object(BUCKET, KEY, start=start, end=end) as stream:
            if mode == "read()":
                return await stream.read()
            got = bytearray()
            async for chunk in stream.iter_chunks(piece):
                got += chunk
                if mode.startswith("first chunk"):
                    break
            return bytes(got)

    run = asyncio.run(exercise(fake, read, budget=20, **cancel_options(cancel)))
    undisturbed = not run.injected and not run.cancels
    found = verdict(run, fake, KEY, None, must_succeed=undisturbed and valid)
    if run.ok:
        got = run.result
        assert isinstance(got, bytes)
        partial = mode.startswith("first chunk")
        if (got != wanted[: len(got)]) if partial else (got != wanted):
            found.lost.append(f"read {len(got):,} bytes that are not the {len(wanted):,} asked for")
        if partial and wanted and not got:
            found.lost.append("the first chunk of a non-empty body was empty")
    found.check(run.story())


# -- listings -------------------------------------------------------------------------------------

LIST_FAULTS = st.sampled_from(
    [INTERNAL_ERROR, SLOW_DOWN, RESET_BEFORE, RESET_AFTER, CUT_ERROR, REPEAT_TOKEN, REPEAT_TOKEN]
)
KEYS = st.lists(
    st.text(alphabet=st.sampled_from("ab/ +%&<é😀"), min_size=1, max_size=6),
    unique=True,
    max_size=25,
)


@settings(max_examples=examples(2))
@given(
    keys=KEYS,
    prefix=st.sampled_from(["", "a", "b/", "é"]),
    page_size=st.integers(1, 7),
    server_page=st.integers(1, 7),
    plan=plans("ListObjects", LIST_FAULTS),
)
def test_list_objects_lists_each_key_once_or_fails_typed(
    fake: FakeS3,
    keys: list[str],
    prefix: str,
    page_size: int,
    server_page: int,
    plan: list[Inject],
) -> None:
    """Every key under the prefix exactly once, in order, or a typed error: never a loop (a
    server repeating its continuation token), never a key twice or missing."""
    fake.reset(plan, list_page=server_page)
    for n, key in enumerate(keys):
        fake.put_direct(key, DATA[:n])
    wanted = sorted((k, keys.index(k)) for k in keys if k.startswith(prefix))

    async def listing(client: S3Client) -> list[tuple[str, int]]:
        found = client.list_objects(BUCKET, prefix=prefix or None, page_size=page_size)
        return [(obj.key, obj.size) async for obj in found]

    pages = len(wanted) // min(page_size, server_page) + 2
    run = asyncio.run(exercise(fake, listing, budget=3 * pages + 20, limit=10))
    note(f"faults fired: {[str(e.fault) for e in run.injected]}")
    found = verdict(run, fake, KEY, None, must_succeed=not run.injected)
    if run.ok and run.result != wanted:
        found.lost.append(f"listed {run.result}; the bucket holds {wanted}")
    found.check(run.story())


@settings(max_examples=examples(1.5))
@given(
    parts=st.integers(0, 12),
    server_page=st.integers(1, 5),
    plan=plans("ListParts", LIST_FAULTS),
)
def test_list_parts_lists_each_part_once_or_fails_typed(
    fake: FakeS3, parts: int, server_page: int, plan: list[Inject]
) -> None:
    fake.reset(plan, parts_page=server_page)
    upload_id = fake.upload_direct(KEY, [3 * n for n in range(1, parts + 1)])

    async def listing(client: S3Client) -> list[tuple[int, int]]:
        return [(p.part_number, p.size) for p in await client.list_parts(BUCKET, KEY, upload_id)]

    run = asyncio.run(exercise(fake, listing, budget=3 * (parts + 2) + 20, limit=10))
    found = verdict(run, fake, KEY, None, must_succeed=not run.injected, uploads_expected=True)
    wanted = [(n, 3 * n) for n in range(1, parts + 1)]
    if run.ok and run.result != wanted:
        found.lost.append(f"listed parts {run.result}; the upload holds {wanted}")
    found.check(run.story())


@settings(max_examples=examples(1))
@given(
    uploads=st.lists(st.sampled_from(["k1", "k2", "a/k3"]), max_size=8),
    server_page=st.integers(1, 4),
    plan=plans("ListMultipartUploads", LIST_FAULTS),
)
def test_list_multipart_uploads_lists_each_upload_once_or_fails_typed(
    fake: FakeS3, uploads: list[str], server_page: int, plan: list[Inject]
) -> None:
    fake.reset(plan, uploads_page=server_page)
    ids = sorted((key, fake.upload_direct(key, [])) for key in uploads)

    async def listing(client: S3Client) -> list[tuple[str, str]]:
        return [(u.key, u.upload_id) for u in await client.list_multipart_uploads(BUCKET)]

    run = asyncio.run(exercise(fake, listing, budget=3 * (len(uploads) + 2) + 20, limit=10))
    found = verdict(run, fake, KEY, None, must_succeed=not run.injected, uploads_expected=True)
    if run.ok and sorted(run.result) != ids:  # type: ignore[arg-type]
        found.lost.append(f"listed uploads {run.result}; the server holds {ids}")
    found.check(run.story())
