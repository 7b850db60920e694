"""Parallel ranged downloads against a real server: byte-exact, pinned to one version, resumable.

Objects are cut into 64 KiB ranges so that many ranges cost little. A replaced object is
replaced by boto3 from inside the fault proxy, at the moment a pinned range is asked for, so
the race is the same on every run. Cancellation is tried at points Hypothesis picks (seeded).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawS3 import ObjectChanged, S3Client, S3Error, TransferProgress, TransportError
from rawS3.download import PARTIAL_SUFFIX, STATE_SUFFIX
from rawS3.operations.ranged import ResumeState
from rawS3.transfer import upload_stream
from tests.cli_here import raws3_here
from tests.conftest import TestServer, empty_bucket, fresh_name, make_client
from tests.faults import (
    RESET_AFTER_BODY,
    RESET_BEFORE_BODY,
    SLOW_DOWN,
    TALLY,
    TRUNCATE,
    Fault,
    Request,
    Rule,
    proxied,
)
from tests.sources import pattern

PART = 64 * 1024
SIZES = {
    "empty": 0,
    "one-byte": 1,
    "one-part": PART,
    "many-parts-odd-tail": 5 * PART + 12_345,
}


def examples(share: float) -> int:
    """A share of the profile's examples, in full on RGW and a third of it on other servers.

    What the Hypothesis tests here search (where a cancellation or a fault lands) is the
    client's handling, the same whichever server sends the bytes: RGW's stage searches it, the
    others sample it, where each example costs two to three times more (Swift).
    """
    if os.environ.get("RAWS3_TEST_SERVER", "").strip().lower() != "rgw":
        share /= 3
    return max(4, round(settings.default.max_examples * share))


def leftovers(directory: Path) -> list[str]:
    """Files a download may leave behind: temporary and partial ones."""
    return sorted(name for name in os.listdir(directory) if ".raws3-" in name)


def range_start(request: Request) -> int | None:
    value = request.headers.get("range", "")
    return int(value.removeprefix("bytes=").split("-")[0]) if value else None


def read_state(partial: Path) -> ResumeState | None:
    return ResumeState.from_json(partial.with_name(partial.name + STATE_SUFFIX).read_bytes())


def write_partial(partial: Path, data: bytes, state: ResumeState) -> None:
    partial.write_bytes(data)
    partial.with_name(partial.name + STATE_SUFFIX).write_bytes(state.to_json())


async def drain(pieces: AsyncIterator[bytes]) -> int:
    return sum([len(piece) async for piece in pieces])


def checked_out(client: S3Client) -> int:
    session = client._engine.own_session
    return len(getattr(session.connector, "_acquired", ())) if session else 0


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
async def test_download_is_byte_exact(
    client: S3Client, bucket: str, tmp_path: Path, size: int
) -> None:
    data = pattern(size, seed=size)
    await client.put_object(bucket, "obj", data)
    seen: list[TransferProgress] = []
    target = tmp_path / "out.bin"
    result = await client.download(
        bucket, "obj", target, part_size=PART, concurrency=3, on_progress=seen.append
    )
    assert target.read_bytes() == data
    assert (result.size, result.resumed) == (size, 0)
    assert result.requests == (max(1, -(-size // PART)) if size else 2)  # empty: 416, then GET
    assert result.md5_checked  # at most MD5_CHECKED_MAX: in order as it came, or read back
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1] == TransferProgress(size, size)
    assert leftovers(tmp_path) == []
    assert checked_out(client) == 0


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
async def test_iter_download_is_byte_exact_in_order(
    client: S3Client, bucket: str, size: int
) -> None:
    data = pattern(size, seed=size + 1)
    await client.put_object(bucket, "obj", data)
    seen: list[TransferProgress] = []
    pieces = client.iter_download(
        bucket, "obj", part_size=PART, concurrency=2, on_progress=seen.append
    )
    got = b"".join([piece async for piece in pieces])
    assert got == data
    assert seen[-1] == TransferProgress(size, size)
    assert checked_out(client) == 0


async def test_an_older_version_is_downloaded_by_its_id(
    client: S3Client, bucket: str, tmp_path: Path, boto: Any
) -> None:
    boto.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old, new = pattern(3 * PART + 1, seed=41), pattern(2 * PART, seed=42)
    first = await client.put_object(bucket, "obj", old)
    second = await client.put_object(bucket, "obj", new)
    try:
        assert first.version_id
        target = tmp_path / "old.bin"
        await client.download(bucket, "obj", target, part_size=PART, version_id=first.version_id)
        assert target.read_bytes() == old
        pieces = client.iter_download(bucket, "obj", part_size=PART, version_id=first.version_id)
        assert b"".join([piece async for piece in pieces]) == old
        await client.download(bucket, "obj", target, part_size=PART)
        assert target.read_bytes() == new
    finally:
        # The bucket fixture deletes current objects only; versions would keep the bucket.
        for put in (first, second):
            boto.delete_object(Bucket=bucket, Key="obj", VersionId=put.version_id)


async def test_a_replaced_object_fails_typed_and_leaves_no_file(
    s3_server: TestServer, bucket: str, tmp_path: Path, boto: Any
) -> None:
    data = pattern(4 * PART, seed=7)
    replaced: list[int] = []
    versions: list[int] = []

    def replace_once(request: Request) -> bool:
        # Blocking on purpose: the new version is in place before the proxy forwards this GET.
        if request.operation == "GetObject" and "if-match" in request.headers and not replaced:
            version = len(versions) + 8  # another body, so another ETag, each time
            boto.put_object(Bucket=bucket, Key="obj", Body=pattern(4 * PART, seed=version))
            versions.append(version)
            replaced.append(request.number)
        return False

    async with proxied(s3_server, [Rule(TRUNCATE, when=replace_once)]) as (_, client):
        await client.put_object(bucket, "obj", data)
        target = tmp_path / "out.bin"
        with pytest.raises(ObjectChanged) as caught:
            await client.download(bucket, "obj", target, part_size=PART, concurrency=1)
        assert caught.value.expected is not None
        assert replaced
        assert not target.exists()
        assert leftovers(tmp_path) == []
        replaced.clear()
        with pytest.raises(ObjectChanged):  # a partial file of a stale version is not kept
            await client.download(bucket, "obj", target, part_size=PART, resume=True)
        assert replaced
        assert leftovers(tmp_path) == []
        pieces = client.iter_download(bucket, "obj", part_size=PART, concurrency=1)
        first = await anext(pieces)  # the first range is in: replace before the next is asked
        replaced.clear()
        with pytest.raises(ObjectChanged):
            await drain(pieces)
        assert first
        assert checked_out(client) == 0


async def test_a_range_cut_off_resumes_from_the_byte_it_reached(
    s3_server: TestServer, bucket: str, tmp_path: Path
) -> None:
    part = 1024 * 1024
    data = pattern(3 * part + 999, seed=3)

    def second_range(request: Request) -> bool:
        return request.operation == "GetObject" and range_start(request) == part

    rules = [Rule(TRUNCATE, when=second_range, times=1)]
    async with proxied(s3_server, rules) as (proxy, client):
        await client.put_object(bucket, "obj", data)
        target = tmp_path / "out.bin"
        result = await client.download(bucket, "obj", target, part_size=part, concurrency=2)
        assert target.read_bytes() == data
        starts = [range_start(r) for r, _ in proxy.seen if r.operation == "GetObject"]
        # The cut range was asked for again from past its start (the proxy sent half of it).
        again = [s for s in starts if s is not None and part < s < 2 * part]
        assert len(again) == 1, starts
        assert result.requests == 5
        assert proxy.injected_total == 1
    TALLY.record(proxy, recovered=True)
    TALLY.verified += 1


async def test_a_partial_file_is_resumed_when_the_object_is_unchanged(
    s3_server: TestServer, bucket: str, tmp_path: Path
) -> None:
    data = pattern(6 * PART + 77, seed=5)
    target = tmp_path / "out.bin"

    def third_range(request: Request) -> bool:
        start = range_start(request)
        return (
            request.operation == "GetObject" and start is not None and 2 * PART <= start < 3 * PART
        )

    # Every attempt at the third range is cut off: the download fails and keeps what it has.
    rules = [Rule(TRUNCATE, when=third_range)]
    async with proxied(s3_server, rules) as (proxy, client):
        await client.put_object(bucket, "obj", data)
        with pytest.raises(TransportError):
            await client.download(bucket, "obj", target, part_size=PART, concurrency=1, resume=True)
    assert not target.exists()
    partial = Path(str(target) + PARTIAL_SUFFIX)
    state = read_state(partial)
    assert state is not None
    assert state.done == {0, 1}
    async with proxied(s3_server, []) as (proxy, client):
        seen: list[TransferProgress] = []
        result = await client.download(
            bucket, "obj", target, part_size=PART, resume=True, on_progress=seen.append
        )
        starts = sorted(range_start(r) or 0 for r, _ in proxy.seen if r.operation == "GetObject")
    assert target.read_bytes() == data
    assert result.resumed == 2 * PART
    assert starts == [i * PART for i in range(2, 7)]  # ranges 0 and 1 were not asked again
    assert seen[0].done == 2 * PART
    assert leftovers(tmp_path) == []


async def test_a_partial_file_of_a_changed_object_starts_over(
    client: S3Client, bucket: str, tmp_path: Path
) -> None:
    old, new = pattern(4 * PART, seed=10), pattern(3 * PART + 5, seed=11)
    target = tmp_path / "out.bin"
    first = await client.put_object(bucket, "obj", old)
    partial = Path(str(target) + PARTIAL_SUFFIX)
    state = ResumeState(first.etag, len(old), PART, frozenset({0}))
    write_partial(partial, old[:PART] + bytes(3 * PART), state)
    await client.put_object(bucket, "obj", new)
    result = await client.download(bucket, "obj", target, part_size=PART, resume=True)
    assert target.read_bytes() == new
    assert result.resumed == 0
    assert leftovers(tmp_path) == []


async def test_a_partial_file_that_does_not_fit_its_state_is_not_trusted(
    client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = pattern(3 * PART + 1, seed=12)
    put = await client.put_object(bucket, "obj", data)
    target = tmp_path / "out.bin"
    partial = tmp_path / ("out.bin" + PARTIAL_SUFFIX)
    # The state says range 0 is there, but the file was cut short (e.g. copied half-way).
    write_partial(
        partial, data[: PART // 2], ResumeState(put.etag, len(data), PART, frozenset({0}))
    )
    result = await client.download(bucket, "obj", target, part_size=PART, resume=True)
    assert target.read_bytes() == data
    assert result.resumed == 0
    assert leftovers(tmp_path) == []


# -- cancellation at points Hypothesis picks ----------------------------------------------------


@pytest.fixture(scope="module")
def stored(s3_server: TestServer) -> Iterator[str]:
    """A bucket holding ``obj`` = ``DATA`` for the Hypothesis tests, made once per module."""
    name = fresh_name()

    async def make() -> None:
        async with make_client(s3_server) as client:
            await client.create_bucket(name)
            await client.put_object(name, "obj", DATA)

    async def remove() -> None:
        async with make_client(s3_server) as client:
            await empty_bucket(client, name)
            await client.delete_bucket(name)

    asyncio.run(make())
    yield name
    asyncio.run(remove())


@pytest.fixture(scope="module")
def cancel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cancel")


SIZE = 5 * PART + 3
DATA = pattern(SIZE, seed=1)
# Where to cancel: after some turns of the event loop (before or during the first request), or
# as soon as a given number of bytes has landed (anywhere in the body).
POINTS = st.one_of(
    st.tuples(st.just("turns"), st.integers(min_value=0, max_value=60)),
    st.tuples(st.just("bytes"), st.integers(min_value=0, max_value=SIZE)),
)


@settings(max_examples=examples(0.64))  # 16 on RGW with the ci profile
@given(point=POINTS, resume=st.booleans(), iterate=st.booleans())
def test_cancelled_anywhere_leaves_no_file_task_or_connection(
    s3_server: TestServer,
    stored: str,
    cancel_dir: Path,
    point: tuple[str, int],
    resume: bool,
    iterate: bool,
) -> None:
    asyncio.run(cancel_scenario(s3_server, stored, cancel_dir, point, resume, iterate))


async def cancel_scenario(
    server: TestServer,
    name: str,
    directory: Path,
    point: tuple[str, int],
    resume: bool,
    iterate: bool,
) -> None:
    how, where = point
    data = DATA
    target = directory / "out.bin"
    async with make_client(server) as client:
        before = asyncio.all_tasks()
        task: asyncio.Future[None] | None = None

        def cancel_at(progress: TransferProgress) -> None:
            if how == "bytes" and progress.done >= where and task is not None:
                task.cancel()

        async def run() -> None:
            if iterate:
                pieces = client.iter_download(
                    name, "obj", part_size=PART, concurrency=3, on_progress=cancel_at
                )
                await drain(pieces)
            else:
                await client.download(
                    name,
                    "obj",
                    target,
                    part_size=PART,
                    concurrency=3,
                    resume=resume,
                    on_progress=cancel_at,
                )

        task = asyncio.ensure_future(run())
        for _ in range(where if how == "turns" else 0):
            await asyncio.sleep(0)
        if how == "turns":
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        others = asyncio.all_tasks() - before - {asyncio.current_task()}
        assert others == set()
        assert checked_out(client) == 0
        assert task.cancelled()
        assert not target.exists()
        kept = leftovers(directory)
        partial = "out.bin" + PARTIAL_SUFFIX
        if resume and not iterate and how == "bytes":
            # Cancelled once the file was open: it is kept on purpose, with what it holds.
            assert kept == [partial, partial + STATE_SUFFIX]
        if kept:
            assert resume
            state = read_state(directory / partial)
            assert state is not None
            held = (directory / partial).read_bytes()
            for index in state.done:
                start = index * PART
                assert held[start : start + PART] == data[start : start + PART]
            for leftover in kept:
                (directory / leftover).unlink()


# -- faults at points Hypothesis picks ----------------------------------------------------------

GET_FAULTS = st.sampled_from([TRUNCATE, RESET_BEFORE_BODY, RESET_AFTER_BODY, SLOW_DOWN])


@settings(max_examples=examples(0.4))  # 10 on RGW with the ci profile
@given(
    faults=st.lists(GET_FAULTS, min_size=1, max_size=4),
    every=st.integers(min_value=1, max_value=4),
    times=st.integers(min_value=1, max_value=6),
    iterate=st.booleans(),
)
def test_faulty_gets_end_byte_exact_or_typed_with_nothing_left(
    s3_server: TestServer,
    stored: str,
    cancel_dir: Path,
    faults: list[Fault],
    every: int,
    times: int,
    iterate: bool,
) -> None:
    rule = Rule(faults, operation="GetObject", every=every, times=times)
    asyncio.run(fault_scenario(s3_server, stored, cancel_dir, rule, iterate))


def ours(tasks: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The tasks left over, but for the proxy's own (one per client connection it serves)."""
    return [t for t in tasks if not t.get_coro().__qualname__.startswith("FaultProxy.")]


async def fault_scenario(
    server: TestServer, name: str, directory: Path, rule: Rule, iterate: bool
) -> None:
    data = DATA
    target = directory / "faulty.bin"
    async with proxied(server, [rule]) as (proxy, client):
        before = asyncio.all_tasks()
        try:
            if iterate:
                pieces = client.iter_download(name, "obj", part_size=PART, concurrency=3)
                got = b"".join([piece async for piece in pieces])
            else:
                await client.download(name, "obj", target, part_size=PART, concurrency=3)
                got = target.read_bytes()
                target.unlink()
            assert got == data
            recovered = True
        except (TransportError, S3Error):
            recovered = False  # more faults than the retry policy allows: typed
        assert ours(asyncio.all_tasks() - before - {asyncio.current_task()}) == []
        assert checked_out(client) == 0
        assert not target.exists()
        assert leftovers(directory) == []
    TALLY.record(proxy, recovered=recovered)
    if recovered:
        TALLY.verified += 1


# -- upload progress ----------------------------------------------------------------------------


async def test_upload_progress_counts_each_acknowledged_part_once(
    s3_server: TestServer, bucket: str
) -> None:
    part = 5 * 1024 * 1024
    data = pattern(2 * part + 1234, seed=21)
    seen: list[TransferProgress] = []
    # The second part's answer is lost once: it is sent again, and must be counted once.
    rules = [Rule(RESET_AFTER_BODY, operation="UploadPart", query={"partNumber": "2"}, times=1)]
    async with proxied(s3_server, rules) as (proxy, client):
        async with client.multipart_uploader(
            bucket, "up", part_size=part, on_progress=seen.append
        ) as up:
            await up.write(data)
        assert proxy.injected_total == 1
        small: list[TransferProgress] = []
        await upload_stream(client, bucket, "small", chunks_of(b"abc"), on_progress=small.append)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert {p.done for p in seen} <= {part, 2 * part, 1234, part + 1234, 2 * part + 1234}
    assert seen[-1].done == len(data)
    assert len(seen) == 3
    assert all(p.total is None for p in seen)  # the uploader was not told the size
    assert small == [TransferProgress(3, 3)]
    TALLY.record(proxy, recovered=True)


async def chunks_of(data: bytes) -> AsyncIterator[bytes]:
    yield data


# -- raws3 get ----------------------------------------------------------------------------------


async def test_raws3_get_resumes_a_partial_file(
    s3_server: TestServer,
    client: S3Client,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = pattern(4 * PART + 9, seed=31)
    put = await client.put_object(bucket, "obj", data)
    target = tmp_path / "out.bin"
    partial = tmp_path / ("out.bin" + PARTIAL_SUFFIX)
    state = ResumeState(put.etag, len(data), PART, frozenset({0, 2}))
    held = bytearray(len(data))
    held[:PART] = data[:PART]
    held[2 * PART : 3 * PART] = data[2 * PART : 3 * PART]
    write_partial(partial, bytes(held), state)
    url = f"s3://{bucket}/obj"
    options = ("--resume", "--part-size", "64KiB", "--concurrency", "2")
    code, out, err = await raws3_here(
        monkeypatch, s3_server.endpoint, s3_server, "get", url, str(target), *options
    )
    assert code == 0, err
    assert target.read_bytes() == data
    assert f"{PART * 2 // 1024}.0 KiB resumed" in out
    assert leftovers(tmp_path) == []
