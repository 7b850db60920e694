"""The files ``raws3 demo`` uploads, and the local web server that serves them.

With ``--url`` the demo fetches that URL itself once, as the reference to compare against.
Otherwise it generates two files and serves them on 127.0.0.1: ``dog.gif`` in one piece,
and ``big.bin`` chunked, in irregular pieces, so that the uploader must assemble its parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from rawS3.errors import SourceError
from rawS3.progress import format_bytes

__all__ = ["DEMO_DOG_SIZE", "DEMO_STREAM_SIZE", "DemoSource", "demo_source"]

MiB = 1024 * 1024
DEMO_DOG_SIZE = 3 * MiB
DEMO_STREAM_SIZE = 24 * MiB + 512 * 1024
_PIECES = (1, 4093, 65536, 262147, 1000003, 77)


@dataclass(frozen=True, slots=True)
class DemoSource:
    """Where the demo's two downloads come from, and what they should bring.

    Attributes:
        dog_url: the URL ``fetch_and_upload`` reads.
        big_url: the URL ``stream_upload`` reads.
        dog: the bytes at ``dog_url``.
        big: the bytes at ``big_url``.
        note: one line for people on where the files come from.
    """

    dog_url: str
    big_url: str
    dog: bytes
    big: bytes
    note: str


@contextlib.asynccontextmanager
async def demo_source(url: str | None) -> AsyncIterator[DemoSource]:
    """The files to fetch: from ``url`` (downloaded once here to compare), else served locally.

    Args:
        url: an http(s) URL for both downloads, or ``None`` for the local server.

    Yields:
        The source, valid (and the local server running) until the block ends.

    Raises:
        SourceError: ``url`` could not be downloaded.
    """
    if url is not None:
        body = await _download(url)
        yield DemoSource(url, url, body, body, f"{url} ({format_bytes(len(body))})")
        return
    rng = random.Random(2024)
    dog = b"GIF89a" + rng.randbytes(DEMO_DOG_SIZE - 6)
    big = rng.randbytes(DEMO_STREAM_SIZE)
    async with _serving(dog, big) as base:
        note = (
            f"local HTTP server {base} (dog.gif {format_bytes(len(dog))}; big.bin "
            f"{format_bytes(len(big))}, chunked, in irregular pieces)"
        )
        yield DemoSource(f"{base}/dog.gif", f"{base}/big.bin", dog, big, note)


async def _download(url: str) -> bytes:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url) as response,
        ):
            if not 200 <= response.status < 300:
                raise SourceError(url=url, status=response.status, message=response.reason or "")
            return await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise SourceError(url=url, status=None, message=f"{type(exc).__name__}: {exc}") from exc


@contextlib.asynccontextmanager
async def _serving(dog: bytes, big: bytes) -> AsyncIterator[str]:
    """Serve ``/dog.gif`` and ``/big.bin`` on a free 127.0.0.1 port; yield the base URL."""
    # Only the demo serves anything; the other commands need not load aiohttp's server half.
    from aiohttp import web

    async def serve_dog(request: web.Request) -> web.Response:
        return web.Response(body=dog, content_type="image/gif")

    async def serve_big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        offset, turn = 0, 0
        while offset < len(big):
            size = _PIECES[turn % len(_PIECES)]
            await response.write(big[offset : offset + size])
            offset, turn = offset + size, turn + 1
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/dog.gif", serve_dog)
    app.router.add_get("/big.bin", serve_big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
