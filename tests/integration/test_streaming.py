"""Streaming uploads from a local HTTP source: ``S3Client.stream_upload`` and ``upload_stream``.

The source (``tests.sources.SourceFiles``) can serve irregular pieces, chunked transfer
encoding, a dropped connection, a slow drip or an error status. Every failure must surface as
a typed error and leave nothing on the server: no multipart upload, no object.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer as HTTPServer

from rawS3 import NoSuchKey, S3Client, SourceError, upload_stream
from tests.conftest import TestServer, make_client
from tests.sources import MiB, SourceFiles, pattern

PART = 5 * MiB
SIZES = [
    pytest.param(0, id="0"),
    pytest.param(1, id="1"),
    pytest.param(PART - 1, id="part-1"),
    pytest.param(PART, id="part"),
    pytest.param(PART + 1, id="part+1"),
    pytest.param(3 * PART + 7, id="3part+7"),
    pytest.param(64 * MiB + 5, id="64MiB"),
]


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def expected_etag(data: bytes, part_size: int) -> str:
    """The ETag of ``data`` uploaded in ``part_size`` parts (one empty part when empty)."""
    offsets = range(0, max(len(data), 1), part_size)
    digests = [hashlib.md5(data[o : o + part_size]).digest() for o in offsets]
    return f"{md5_hex(b''.join(digests))}-{len(digests)}"


class Recorder:
    """Every S3 request the client sends ("METHOD url") and every PUT of a part that ended."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.parts_done = asyncio.Event()

    async def on_start(self, session: Any, context: Any, params: Any) -> None:
        self.sent.append(f"{params.method} {params.url}")

    async def on_end(self, session: Any, context: Any, params: Any) -> None:
        if params.method == "PUT" and "partNumber" in params.url.query:
            self.parts_done.set()

    def methods(self) -> list[str]:
        return [line.split(" ", 1)[0] for line in self.sent]


@pytest.fixture
async def recorded(s3_server: TestServer) -> AsyncIterator[tuple[S3Client, Recorder]]:
    recorder = Recorder()
    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(recorder.on_start)
    trace.on_request_end.append(recorder.on_end)
    async with (
        aiohttp.ClientSession(trace_configs=[trace], auto_decompress=False) as session,
        make_client(s3_server, session=session) as client,
    ):
        yield client, recorder


@pytest.fixture
async def source(aiohttp_server: Any) -> tuple[SourceFiles, HTTPServer]:
    files = SourceFiles()
    return files, await aiohttp_server(files.app())


def url_of(source: tuple[SourceFiles, HTTPServer], name: str, body: bytes, query: str = "") -> str:
    files, server = source
    path = files.add(name, body)
    return str(server.make_url(path + (f"?{query}" if query else "")))


async def download(url: str) -> AsyncIterator[bytes]:
    """The source's body as it arrives, in whatever pieces the network delivers."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_any():
            yield piece


async def assert_nothing_left(client: S3Client, bucket: str, key: str) -> None:
    assert await client.list_multipart_uploads(bucket) == []
    with pytest.raises(NoSuchKey):
        await client.head_object(bucket, key)


async def assert_object(client: S3Client, bucket: str, key: str, data: bytes, etag: str) -> None:
    head = await client.head_object(bucket, key)
    assert (head.size, head.etag.strip('"')) == (len(data), etag)
    assert await client.get_object(bucket, key) == data
    assert await client.list_multipart_uploads(bucket) == []


# -- sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_stream_upload_sizes(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any, size: int
) -> None:
    client, _ = recorded
    data = pattern(size, seed=size)
    url = url_of(source, "blob", data)
    assert await client.stream_upload(bucket, "s", url, part_size=PART, concurrency=3) is None
    # Always multipart, every part but the last exactly PART bytes (the ETag proves the split).
    await assert_object(client, bucket, "s", data, expected_etag(data, PART))


@pytest.mark.parametrize("size", SIZES)
async def test_upload_stream_sizes(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any, size: int
) -> None:
    client, recorder = recorded
    data = pattern(size, seed=size)
    url = url_of(source, "blob", data)
    result = await upload_stream(
        client, bucket, "u", download(url), part_size=PART, concurrency=3
    )
    if size <= PART:
        # Fits in one part: one PutObject, whose ETag is the plain MD5.
        assert (result.parts, result.etag.strip('"')) == (0, md5_hex(data))
        assert recorder.methods() == ["PUT"]
        await assert_object(client, bucket, "u", data, md5_hex(data))
    else:
        expected = expected_etag(data, PART)
        assert (result.parts, result.size) == (int(expected.rpartition("-")[2]), size)
        assert result.etag.strip('"') == expected
        assert recorder.methods()[0] == "POST"
        await assert_object(client, bucket, "u", data, expected)


async def test_irregular_tiny_pieces(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any
) -> None:
    client, _ = recorded
    data = pattern(2 * PART + 3, seed=11)
    # Pieces of 1, 7, 100, 4096 bytes or up to 100 KiB, in random order.
    url = url_of(source, "odd", data, "pieces=irregular")
    await client.stream_upload(bucket, "s", url, part_size=PART)
    await assert_object(client, bucket, "s", data, expected_etag(data, PART))
    result = await upload_stream(client, bucket, "u", download(url), part_size=PART)
    assert result.parts == 3
    await assert_object(client, bucket, "u", data, expected_etag(data, PART))


async def test_chunked_source_without_content_length(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any
) -> None:
    client, _ = recorded
    data = pattern(3 * PART + 7, seed=12)
    url = url_of(source, "chunked", data, "chunked=1&pieces=irregular")
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.headers.get("Transfer-Encoding") == "chunked"
        assert "Content-Length" not in response.headers
    await client.stream_upload(bucket, "s", url, part_size=PART, concurrency=2)
    await assert_object(client, bucket, "s", data, expected_etag(data, PART))


async def test_slow_drip_still_succeeds(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any
) -> None:
    client, _ = recorded
    data = pattern(PART + 300 * 1024, seed=13)
    # 256 KiB pieces with 30 ms between them: about 0.7 s for the whole body.
    url = url_of(source, "drip", data, "drip=0.03")
    await client.stream_upload(bucket, "s", url, part_size=PART)
    await assert_object(client, bucket, "s", data, expected_etag(data, PART))


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500])
async def test_source_error_status_sends_nothing(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any, status: int
) -> None:
    client, recorder = recorded
    files, server = source
    url = str(server.make_url(f"/status/{status}"))
    with pytest.raises(SourceError) as caught:
        await client.stream_upload(bucket, "s", url, part_size=PART)
    assert (caught.value.status, caught.value.url) == (status, url)
    assert files.requests == 1
    assert recorder.sent == []
    await assert_nothing_left(client, bucket, "s")


async def test_unreachable_source_sends_nothing(
    recorded: tuple[S3Client, Recorder], bucket: str, unused_tcp_port: int
) -> None:
    client, recorder = recorded
    url = f"http://127.0.0.1:{unused_tcp_port}/nothing-listens-here"
    with pytest.raises(SourceError) as caught:
        await client.stream_upload(bucket, "s", url, part_size=PART)
    assert caught.value.status is None
    assert recorder.sent == []
    await assert_nothing_left(client, bucket, "s")


@pytest.mark.parametrize("query", ["", "chunked=1"], ids=["content-length", "chunked"])
async def test_source_dropped_half_way_aborts(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any, query: str
) -> None:
    client, recorder = recorded
    data = pattern(4 * PART, seed=14)
    # Two full parts arrive before the source hangs up, so a real upload must be aborted.
    url = url_of(source, "cut", data, "&".join(filter(None, [query, f"drop_at={2 * PART + 100}"])))
    with pytest.raises(SourceError) as caught:
        await client.stream_upload(bucket, "s", url, part_size=PART, concurrency=2)
    assert caught.value.status is None
    methods = recorder.methods()
    assert methods[0] == "POST"  # CreateMultipartUpload
    assert "PUT" in methods
    assert methods[-1] == "DELETE"  # AbortMultipartUpload
    await assert_nothing_left(client, bucket, "s")


async def test_upload_stream_source_failing_half_way_aborts(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any
) -> None:
    client, recorder = recorded
    data = pattern(3 * PART, seed=15)
    url = url_of(source, "cut", data, f"drop_at={PART + PART // 2}")
    # The iterable's own error comes through unchanged: the caller owns that source.
    with pytest.raises(aiohttp.ClientPayloadError):
        await upload_stream(client, bucket, "u", download(url), part_size=PART)
    assert recorder.methods()[-1] == "DELETE"
    await assert_nothing_left(client, bucket, "u")


async def test_upload_stream_source_failing_at_once_sends_nothing(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any
) -> None:
    client, recorder = recorded
    _, server = source
    with pytest.raises(aiohttp.ClientResponseError):
        await upload_stream(
            client, bucket, "u", download(str(server.make_url("/status/500"))), part_size=PART
        )
    assert recorder.sent == []
    await assert_nothing_left(client, bucket, "u")


@pytest.mark.parametrize(
    "options",
    [{"part_size": PART - 1}, {"part_size": 5 * 1024 * MiB + 1}, {"concurrency": 0}],
)
async def test_bad_options_touch_neither_side(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any, options: dict[str, int]
) -> None:
    client, recorder = recorded
    files, _ = source
    url = url_of(source, "blob", b"never read")
    with pytest.raises(ValueError, match=next(iter(options))):
        await client.stream_upload(bucket, "s", url, **options)
    read = []

    async def watched() -> AsyncIterator[bytes]:
        read.append(True)
        yield b"never read"

    with pytest.raises(ValueError, match=next(iter(options))):
        await upload_stream(client, bucket, "u", watched(), **options)  # type: ignore[arg-type]
    assert (files.requests, read, recorder.sent) == (0, [], [])


# -- cancellation ---------------------------------------------------------------------------


async def test_cancel_mid_way_aborts(
    recorded: tuple[S3Client, Recorder], bucket: str, source: Any
) -> None:
    client, recorder = recorded
    data = pattern(6 * PART, seed=16)
    # 256 KiB every 20 ms: a part every 0.4 s, the whole body in about 2.5 s.
    url = url_of(source, "slow", data, "drip=0.02")
    task = asyncio.ensure_future(client.stream_upload(bucket, "s", url, part_size=PART))
    await asyncio.wait_for(recorder.parts_done.wait(), 10)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.methods()[-1] == "DELETE"
    for _ in range(20):
        if not await client.list_multipart_uploads(bucket):
            break
        await asyncio.sleep(0.1)
    await assert_nothing_left(client, bucket, "s")
