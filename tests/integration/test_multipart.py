"""Multipart uploads: the low-level calls one by one, then ``MultipartUploader`` on top of them."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest

from rawS3 import (
    EntityTooSmall,
    InvalidPart,
    MultipartUploader,
    NoSuchKey,
    NoSuchUpload,
    PutResult,
    S3Client,
    S3Error,
    UploadedPart,
)
from tests.conftest import TestServer, make_client
from tests.sources import MiB, pattern

PART = 5 * MiB
EMPTY_PART_ETAG = "59adb24ef3cdbe0297f05b395827453f-1"  # md5(md5(b""))-1


def md5_hex(data: bytes | memoryview) -> str:
    return hashlib.md5(data).hexdigest()


def expected_etag(data: bytes, part_size: int) -> str:
    """The ETag of ``data`` uploaded in ``part_size`` parts (one empty part when empty)."""
    offsets = range(0, max(len(data), 1), part_size)
    digests = [hashlib.md5(data[o : o + part_size]).digest() for o in offsets]
    return f"{md5_hex(b''.join(digests))}-{len(digests)}"


def unquoted(etag: str) -> str:
    return etag.strip('"')


async def assert_nothing_left(client: S3Client, bucket: str, key: str) -> None:
    assert await client.list_multipart_uploads(bucket) == []
    with pytest.raises(NoSuchKey):
        await client.head_object(bucket, key)


@pytest.fixture
async def counted(s3_server: TestServer) -> AsyncIterator[tuple[S3Client, list[str]]]:
    """A client whose every request is recorded ("METHOD url"), to show nothing was sent."""
    sent: list[str] = []

    async def on_start(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        sent.append(f"{params.method} {params.url}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with (
        aiohttp.ClientSession(trace_configs=[trace], auto_decompress=False) as session,
        make_client(s3_server, session=session) as client,
    ):
        yield client, sent


# -- the low-level calls --------------------------------------------------------------------


async def test_create_upload_complete(client: S3Client, bucket: str) -> None:
    first, last = pattern(PART, seed=1), pattern(1234, seed=2)
    upload_id = await client.create_multipart_upload(
        bucket, "mp/obj", content_type="application/x-test", metadata={"color": "blue"}
    )
    assert upload_id
    listed = await client.list_multipart_uploads(bucket)
    assert [(u.key, u.upload_id) for u in listed] == [("mp/obj", upload_id)]

    part2 = await client.upload_part(bucket, "mp/obj", upload_id, 2, last)
    part1 = await client.upload_part(bucket, "mp/obj", upload_id, 1, first)
    assert (part1.part_number, unquoted(part1.etag), part1.size) == (1, md5_hex(first), PART)
    assert (part2.part_number, unquoted(part2.etag), part2.size) == (2, md5_hex(last), 1234)

    result = await client.complete_multipart_upload(bucket, "mp/obj", upload_id, [part2, part1])
    expected = expected_etag(first + last, PART)
    assert expected.endswith("-2")
    # RGW 16 sends an empty <ETag> in its first Complete answer; HEAD below has the real one.
    assert unquoted(result.etag) in (expected, "")
    assert (result.parts, result.size) == (2, PART + 1234)
    head = await client.head_object(bucket, "mp/obj")
    assert unquoted(head.etag) == expected
    assert (head.size, head.content_type, head.metadata) == (
        PART + 1234,
        "application/x-test",
        {"color": "blue"},
    )
    assert await client.get_object(bucket, "mp/obj") == first + last
    assert await client.list_multipart_uploads(bucket) == []


async def test_list_parts_reports_numbers_sizes_etags(client: S3Client, bucket: str) -> None:
    upload_id = await client.create_multipart_upload(bucket, "parts")
    bodies = {1: pattern(PART, seed=3), 2: b"tail", 5: b"gap before me"}
    for number, body in bodies.items():
        await client.upload_part(bucket, "parts", upload_id, number, body)
    parts = await client.list_parts(bucket, "parts", upload_id)
    assert [(p.part_number, unquoted(p.etag), p.size) for p in parts] == [
        (n, md5_hex(b), len(b)) for n, b in bodies.items()
    ]
    await client.abort_multipart_upload(bucket, "parts", upload_id)


async def test_list_parts_follows_every_page(client: S3Client, bucket: str) -> None:
    # Servers answer at most 1000 parts per ListParts page (S3's default max-parts), so 1001
    # parts need a second page. Parts may be tiny until Complete checks their sizes.
    upload_id = await client.create_multipart_upload(bucket, "many")
    slots = asyncio.Semaphore(16)

    async def send(number: int) -> UploadedPart:
        async with slots:
            body = bytes([number % 256])
            return await client.upload_part(bucket, "many", upload_id, number, body)

    await asyncio.gather(*(send(n) for n in range(1, 1002)))
    parts = await client.list_parts(bucket, "many", upload_id)
    assert [p.part_number for p in parts] == list(range(1, 1002))
    assert all(unquoted(p.etag) == md5_hex(bytes([p.part_number % 256])) for p in parts)
    await client.abort_multipart_upload(bucket, "many", upload_id)


async def test_list_multipart_uploads_and_prefix(client: S3Client, bucket: str) -> None:
    ids = {
        ("a/1", await client.create_multipart_upload(bucket, "a/1")),
        ("a/1", await client.create_multipart_upload(bucket, "a/1")),
        ("b/2", await client.create_multipart_upload(bucket, "b/2")),
    }
    everything = await client.list_multipart_uploads(bucket)
    assert {(u.key, u.upload_id) for u in everything} == ids
    under_a = await client.list_multipart_uploads(bucket, prefix="a/")
    assert {(u.key, u.upload_id) for u in under_a} == {i for i in ids if i[0] == "a/1"}
    for key, upload_id in ids:
        await client.abort_multipart_upload(bucket, key, upload_id)
    assert await client.list_multipart_uploads(bucket) == []


async def test_upload_part_copy(client: S3Client, bucket: str) -> None:
    source = pattern(PART + 3, seed=4)
    await client.put_object(bucket, "src", source)
    upload_id = await client.create_multipart_upload(bucket, "copied")
    whole = await client.upload_part_copy(bucket, "copied", upload_id, 1, bucket, "src")
    ranged = await client.upload_part_copy(
        bucket, "copied", upload_id, 2, bucket, "src", start=10, end=19
    )
    assert (whole.part_number, unquoted(whole.etag)) == (1, md5_hex(source))
    assert (ranged.part_number, unquoted(ranged.etag)) == (2, md5_hex(source[10:20]))
    await client.complete_multipart_upload(bucket, "copied", upload_id, [whole, ranged])
    expected = source + source[10:20]
    assert await client.get_object(bucket, "copied") == expected
    head = await client.head_object(bucket, "copied")
    digests = hashlib.md5(source).digest() + hashlib.md5(source[10:20]).digest()
    assert unquoted(head.etag) == f"{md5_hex(digests)}-2"


async def test_abort_then_no_such_upload(client: S3Client, bucket: str) -> None:
    upload_id = await client.create_multipart_upload(bucket, "gone")
    await client.upload_part(bucket, "gone", upload_id, 1, b"abc")
    await client.abort_multipart_upload(bucket, "gone", upload_id)
    assert await client.list_multipart_uploads(bucket) == []
    with pytest.raises(NoSuchUpload) as caught:
        await client.abort_multipart_upload(bucket, "gone", upload_id)
    assert (caught.value.status, caught.value.key) == (404, "gone")
    with pytest.raises(NoSuchKey):
        await client.head_object(bucket, "gone")


@pytest.mark.unsupported(
    "moto", reason="moto 5.2.5 answers UploadPart on an aborted upload with a 500 (KeyError)"
)
async def test_upload_part_after_abort_is_no_such_upload(client: S3Client, bucket: str) -> None:
    upload_id = await client.create_multipart_upload(bucket, "gone")
    await client.abort_multipart_upload(bucket, "gone", upload_id)
    with pytest.raises(NoSuchUpload):
        await client.upload_part(bucket, "gone", upload_id, 1, b"late")


async def test_non_last_part_one_byte_short_is_entity_too_small(
    client: S3Client, bucket: str
) -> None:
    upload_id = await client.create_multipart_upload(bucket, "small")
    parts = [
        await client.upload_part(bucket, "small", upload_id, 1, pattern(PART - 1, seed=5)),
        await client.upload_part(bucket, "small", upload_id, 2, b"z"),
    ]
    with pytest.raises(EntityTooSmall) as caught:
        await client.complete_multipart_upload(bucket, "small", upload_id, parts)
    assert caught.value.status == 400
    # The refused upload is still there, and can be aborted.
    assert [u.upload_id for u in await client.list_multipart_uploads(bucket)] == [upload_id]
    await client.abort_multipart_upload(bucket, "small", upload_id)
    await assert_nothing_left(client, bucket, "small")


async def test_wrong_part_etag_is_invalid_part(client: S3Client, bucket: str) -> None:
    upload_id = await client.create_multipart_upload(bucket, "bad")
    real = await client.upload_part(bucket, "bad", upload_id, 1, b"only part")
    forged = UploadedPart(1, f'"{md5_hex(b"other bytes")}"', real.size)
    with pytest.raises(InvalidPart) as caught:
        await client.complete_multipart_upload(bucket, "bad", upload_id, [forged])
    assert caught.value.status == 400
    await client.abort_multipart_upload(bucket, "bad", upload_id)
    await assert_nothing_left(client, bucket, "bad")


# -- MultipartUploader ----------------------------------------------------------------------


def _slices(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into pieces of the given sizes, repeated, with empty pieces in between."""
    out, offset, i = [], 0, 0
    while offset < len(data):
        size = sizes[i % len(sizes)]
        out += [data[offset : offset + size], b""]
        offset += size
        i += 1
    return out


@pytest.mark.parametrize(
    ("size", "concurrency"),
    [
        pytest.param(0, 4, id="0-bytes"),
        pytest.param(1, 4, id="1-byte"),
        pytest.param(2 * PART, 2, id="exactly-2-parts"),
        pytest.param(3 * PART + 12_345, 1, id="3-parts-and-more-serial"),
        pytest.param(3 * PART + 12_345, 3, id="3-parts-and-more"),
    ],
)
async def test_uploader_any_size(
    client: S3Client, bucket: str, size: int, concurrency: int
) -> None:
    data = pattern(size, seed=size)
    pieces = _slices(data, [1, 1000, PART - 1, 3 * PART, 7])
    async with client.multipart_uploader(
        bucket, "up", part_size=PART, concurrency=concurrency, content_type="text/x-test"
    ) as up:
        for piece in pieces:
            await up.write(piece)

    expected = expected_etag(data, PART)
    assert up.result is not None
    assert unquoted(up.result.etag) == expected
    assert (up.result.parts, up.result.size) == (int(expected.rpartition("-")[2]), size)
    head = await client.head_object(bucket, "up")
    # The ETag is computed from the expected split, so it proves every part but the last
    # was exactly part_size bytes (and the parts are in order).
    assert unquoted(head.etag) == expected
    assert (head.size, head.content_type) == (size, "text/x-test")
    assert await client.get_object(bucket, "up") == data
    assert await client.list_multipart_uploads(bucket) == []


async def test_uploader_zero_bytes_makes_an_empty_object(client: S3Client, bucket: str) -> None:
    # Both RGW and moto accept a multipart upload of one empty part, so no PutObject fallback.
    async with client.multipart_uploader(bucket, "empty", part_size=PART):
        pass
    head = await client.head_object(bucket, "empty")
    assert (head.size, unquoted(head.etag)) == (0, EMPTY_PART_ETAG)
    assert await client.get_object(bucket, "empty") == b""


@pytest.mark.parametrize(
    "options",
    [
        {"part_size": PART - 1},
        {"part_size": 5 * 1024 * MiB + 1},
        {"part_size": 0},
        {"concurrency": 0},
        {"concurrency": -1},
    ],
)
async def test_uploader_bad_options_send_nothing(
    counted: tuple[S3Client, list[str]], bucket: str, options: dict[str, int]
) -> None:
    client, sent = counted
    name = next(iter(options))
    with pytest.raises(ValueError, match=name):
        client.multipart_uploader(bucket, "k", **options)
    with pytest.raises(ValueError, match=name):
        MultipartUploader(client, bucket, "k", **options)  # type: ignore[arg-type]
    assert sent == []


class BoomError(Exception):
    pass


async def test_exception_in_block_aborts_and_reraises(client: S3Client, bucket: str) -> None:
    data = pattern(2 * PART + 5, seed=6)
    up = client.multipart_uploader(bucket, "boom", part_size=PART)

    async def fail_half_way() -> None:
        async with up:
            await up.write(data)
            # Parts were dispatched, so there is a real upload to abort.
            assert up.upload_id is not None
            listed = await client.list_multipart_uploads(bucket)
            assert [u.upload_id for u in listed] == [up.upload_id]
            raise BoomError

    with pytest.raises(BoomError):
        await fail_half_way()
    assert up.result is None
    await assert_nothing_left(client, bucket, "boom")


async def test_explicit_abort(client: S3Client, bucket: str) -> None:
    up = client.multipart_uploader(bucket, "stop", part_size=PART, concurrency=2)
    await up.write(pattern(PART + 1, seed=7))
    assert up.upload_id is not None
    await up.abort()
    await assert_nothing_left(client, bucket, "stop")
    with pytest.raises(RuntimeError, match="aborted"):
        await up.write(b"more")


async def test_explicit_abort_inside_the_block(client: S3Client, bucket: str) -> None:
    async with client.multipart_uploader(bucket, "stop", part_size=PART) as up:
        await up.write(pattern(PART + 1, seed=8))
        await up.abort()
    assert up.result is None
    await assert_nothing_left(client, bucket, "stop")


async def test_explicit_complete_inside_the_block(client: S3Client, bucket: str) -> None:
    async with client.multipart_uploader(bucket, "done", part_size=PART) as up:
        await up.write(b"short")
        result = await up.complete()
    assert up.result == result
    assert unquoted(result.etag) == expected_etag(b"short", PART)
    assert await client.get_object(bucket, "done") == b"short"


async def test_failed_part_aborts_and_raises(
    client: S3Client, bucket: str, s3_server: TestServer
) -> None:
    data = pattern(PART, seed=9)
    up = client.multipart_uploader(bucket, "cut", part_size=PART, concurrency=1)

    async def upload_while_someone_aborts() -> None:
        async with up:
            await up.write(data)
            await up.write(data)  # waits for part 1: concurrency 1
            assert up.upload_id is not None
            async with make_client(s3_server) as other:
                await other.abort_multipart_upload(bucket, "cut", up.upload_id)
            # Part 3 goes to the aborted upload and fails; write or complete must say so.
            await up.write(data)
            await up.write(b"end")

    with pytest.raises(S3Error):
        await upload_while_someone_aborts()
    assert up.result is None
    await assert_nothing_left(client, bucket, "cut")


# -- scheduling: how many parts are in flight -----------------------------------------------


class GatedClient:
    """Stands in for ``S3Client``: each part upload waits until the test lets it finish."""

    def __init__(self) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.in_flight = 0
        self.peak = 0
        self.started: list[int] = []
        self.aborted: list[str] = []

    def gate(self, number: int) -> asyncio.Event:
        return self.gates.setdefault(number, asyncio.Event())

    async def create_multipart_upload(self, bucket: str, key: str, **options: object) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **options: object
    ) -> UploadedPart:
        self.started.append(number)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await self.gate(number).wait()
        finally:
            self.in_flight -= 1
        return UploadedPart(number, f'"{md5_hex(data)}"', len(data))

    async def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[UploadedPart], **_: object
    ) -> PutResult:
        return PutResult("", None, len(parts), sum(p.size for p in parts))

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.aborted.append(upload_id)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_write_waits_while_concurrency_parts_are_in_flight() -> None:
    stub = GatedClient()
    up = MultipartUploader(cast(S3Client, stub), "stub-bucket", "k", part_size=PART, concurrency=2)
    part = bytes(PART)

    await up.write(part)
    await up.write(part)
    await _settle()
    assert (stub.started, stub.in_flight) == ([1, 2], 2)

    # The third full part cannot start: write() must wait for a free slot.
    third = asyncio.ensure_future(up.write(part))
    await asyncio.sleep(0.05)
    assert not third.done()
    assert stub.started == [1, 2]

    stub.gate(2).set()
    await asyncio.wait_for(third, 1)
    await _settle()
    assert (stub.started, stub.in_flight) == ([1, 2, 3], 2)

    fourth = asyncio.ensure_future(up.write(part + b"tail"))
    await asyncio.sleep(0.05)
    assert not fourth.done()
    for number in (1, 3, 4, 5):
        stub.gate(number).set()
    await asyncio.wait_for(fourth, 1)
    result = await asyncio.wait_for(up.complete(), 1)
    assert stub.peak == 2
    assert stub.started == [1, 2, 3, 4, 5]
    assert stub.aborted == []
    assert (result.parts, result.size) == (5, 4 * PART + 4)


async def test_abort_stops_parts_in_flight_and_a_waiting_write() -> None:
    stub = GatedClient()
    up = MultipartUploader(cast(S3Client, stub), "stub-bucket", "k", part_size=PART, concurrency=1)
    await up.write(bytes(PART))
    blocked = asyncio.ensure_future(up.write(bytes(PART)))
    await asyncio.sleep(0.01)
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    await up.abort()
    assert stub.in_flight == 0
    assert stub.started == [1]
    assert stub.aborted == ["upload-1"]
