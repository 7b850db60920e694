"""``iter_download``'s memory against local servers: one that honours ``Range``, and one that
ignores it and answers 200 with the object.

A whole-object answer is one range as long as the object: held ahead of a slow reader it would put
the whole object in memory. It is read only as the reader asks, so the server is held back by
the connection instead (measured at the server: the bytes it managed to hand to its socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc
from typing import Any

from aiohttp import web

from rawS3 import RetryPolicy, S3Client

MiB = 1024 * 1024
SIZE = 64 * MiB
CHUNK = bytes(MiB)


class IgnoresRange:
    """Answers every GET with the whole object, whatever ``Range`` says."""

    def __init__(self) -> None:
        self.written = 0

    async def get(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200, headers={"ETag": '"not-an-md5-0"', "Content-Length": str(SIZE)}
        )
        await response.prepare(request)
        for _ in range(SIZE // MiB):
            await response.write(CHUNK)  # waits while the client does not read
            self.written += MiB
        return response

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.get)
        return app


async def test_a_whole_object_answer_is_read_only_as_the_reader_asks(
    aiohttp_server: Any,
) -> None:
    fake = IgnoresRange()
    server = await aiohttp_server(fake.app())
    endpoint = f"http://127.0.0.1:{server.port}"
    async with S3Client(endpoint, "AKIDWHOLE", "whole-secret", retry=RetryPolicy(attempts=1)) as s3:
        pieces = s3.iter_download("bucket", "key", part_size=64 * 1024, concurrency=1)
        async with contextlib.aclosing(pieces):
            first = await anext(pieces)
            assert first
            await asyncio.sleep(0.5)  # a slow reader: nothing more is asked for meanwhile
            written = fake.written
    # Socket buffers hold a few MiB; an answer read ahead of the reader would be all 64.
    assert written <= 24 * MiB, f"{written / MiB:.0f} MiB sent while the reader waited"


class HonoursRange:
    """Answers ranged GETs of one object, as S3 does (206 with ``Content-Range``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def get(self, request: web.Request) -> web.StreamResponse:
        first, _, last = request.headers["Range"].removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last) + 1, len(self.data))
        headers = {
            "ETag": '"multi-etag-3"',
            "Content-Range": f"bytes {start}-{end - 1}/{len(self.data)}",
            "Content-Length": str(end - start),
        }
        response = web.StreamResponse(status=206, headers=headers)
        await response.prepare(request)
        for offset in range(start, end, 64 * 1024):
            await response.write(self.data[offset : min(offset + 64 * 1024, end)])
        return response

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.get)
        return app


async def test_ranges_held_for_a_slow_reader_stay_within_the_window(aiohttp_server: Any) -> None:
    """tracemalloc's peak while a slow reader takes 32 MiB in 1 MiB ranges, 3 in flight, stays
    within (concurrency + 1) ranges and a constant: what the README's memory bound promises."""
    part, concurrency = MiB, 3
    data = bytes(range(256)) * (32 * MiB // 256)
    server = await aiohttp_server(HonoursRange(data).app())
    endpoint = f"http://127.0.0.1:{server.port}"
    got = 0
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        async with S3Client(endpoint, "AKIDWINDOW", "window-secret") as s3:
            pieces = s3.iter_download("bucket", "key", part_size=part, concurrency=concurrency)
            async with contextlib.aclosing(pieces):
                async for piece in pieces:
                    got += len(piece)
                    await asyncio.sleep(0.002)  # slower than the loopback: ranges pile up
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert got == len(data)
    bound = (concurrency + 1) * part + 2 * MiB
    assert peak <= bound, f"held {peak / MiB:.1f} MiB; bound {bound / MiB:.1f} MiB"
