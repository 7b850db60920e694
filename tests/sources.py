"""A local HTTP source for the download-based uploads, able to misbehave on request.

``GET /blob/{name}`` serves a body registered with ``SourceFiles.add``; query options:
``pieces=irregular`` writes it in random pieces of 1 byte to 100 KiB; ``chunked=1`` uses chunked
transfer encoding without Content-Length; ``drop_at=N`` closes the connection after N bytes;
``drip=SECONDS`` waits that long between pieces. ``GET /status/{code}`` answers that status.
"""

from __future__ import annotations

import asyncio
import random

from aiohttp import web

MiB = 1024 * 1024


def pattern(size: int, seed: int = 0) -> bytes:
    """Bytes that differ from part to part, so a misplaced part cannot go unnoticed."""
    rng = random.Random(seed)
    block = rng.randbytes(MiB + 7)
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


class SourceFiles:
    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.requests = 0

    def add(self, name: str, body: bytes) -> str:
        self.bodies[name] = body
        return f"/blob/{name}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/blob/{name}", self._blob)
        app.router.add_get("/status/{code}", self._status)
        return app

    async def _status(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def _blob(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = self.bodies[request.match_info["name"]]
        query = request.query
        response = web.StreamResponse()
        if query.get("chunked"):
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body)
        await response.prepare(request)
        drop_at = int(query.get("drop_at", -1))
        drip = float(query.get("drip", 0))
        sent = 0
        for piece in _pieces(body, irregular=query.get("pieces") == "irregular"):
            if 0 <= drop_at <= sent + len(piece):
                await response.write(piece[: max(0, drop_at - sent)])
                assert request.transport is not None
                request.transport.close()
                return response
            await response.write(piece)
            sent += len(piece)
            if drip:
                await asyncio.sleep(drip)
        await response.write_eof()
        return response


def _pieces(body: bytes, *, irregular: bool) -> list[bytes]:
    if not irregular:
        step = 256 * 1024
        return [body[i : i + step] for i in range(0, len(body), step)]
    rng = random.Random(len(body))
    out, offset = [], 0
    while offset < len(body):
        size = rng.choice((1, 7, 100, 4096, rng.randint(1, 100 * 1024)))
        out.append(body[offset : offset + size])
        offset += size
    return out
