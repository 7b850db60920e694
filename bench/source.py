"""The local HTTP source of workload 2: a body of unknown length, sent chunked.

``python -m bench.source`` serves ``GET /stream/{size}``: ``size`` bytes of ``pattern`` data in
256 KiB writes with chunked transfer encoding and no Content-Length, so a client cannot know
the length in advance. It prints its port on the first line of stdout and serves until its
standard input closes, so it never outlives the harness. It runs in its own process, so its
CPU and memory are not charged to the client being measured.
"""

from __future__ import annotations

import asyncio
import socket
import sys

from aiohttp import web

from bench.common import SOURCE_PIECE, pattern

BLOCK = pattern(4 * 1024 * 1024, seed=2)


async def stream(request: web.Request) -> web.StreamResponse:
    size = int(request.match_info["size"])
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    block = memoryview(BLOCK)
    sent = 0
    while sent < size:
        start = sent % len(BLOCK)
        piece = block[start : start + min(SOURCE_PIECE, size - sent, len(BLOCK) - start)]
        await response.write(piece)
        sent += len(piece)
    await response.write_eof()
    return response


async def serve() -> None:
    app = web.Application()
    app.router.add_get("/stream/{size}", stream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
