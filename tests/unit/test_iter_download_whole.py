"""``iter_download`` against a server that ignores ``Range`` and answers 200 with the object.

Such an answer is one range as long as the object: held ahead of a slow reader it would put
the whole object in memory. It is read only as the reader asks, so the server is held back by
the connection instead (measured at the server: the bytes it managed to hand to its socket).
"""

from __future__ import annotations

import asyncio
import contextlib
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
