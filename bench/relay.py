"""A simulated wide-area network: a TCP relay on 127.0.0.1 with per-connection latency and rate.

``python -m bench.relay HOST PORT ROUND_TRIP_SECONDS BYTES_PER_SECOND`` listens on a free
port of 127.0.0.1, prints it on the first line of stdout, and forwards every connection to
``HOST:PORT`` until its standard input closes (so it never outlives the harness). Each
direction of each connection is a delay line: a chunk read at time t is written no earlier
than t + round_trip / 2, and no faster than the rate allows (a token bucket with one chunk of
burst), so one connection cannot carry more than ``BYTES_PER_SECOND`` and every request waits
the added round trip, as on a real network where a single S3 connection is limited.

This machine's kernel has ``tbf`` and ``htb`` but not ``netem`` or ``fq``, hence userspace. The
relay runs in its own process; the worker reads its CPU time from ``/proc`` so the report shows
that the relay is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence

CHUNK = 64 * 1024
QUEUED_CHUNKS = 64
"""Chunks one direction may hold in its delay line: 4 MiB, far above rate × delay."""


class Pacer:
    """Token bucket of ``rate`` bytes per second with a burst of one chunk."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._free_at = 0.0

    def due(self, size: int, now: float) -> float:
        """When ``size`` more bytes may leave; books them."""
        start = max(now, self._free_at)
        self._free_at = start + size / self._rate
        return start


async def _read_into(
    reader: asyncio.StreamReader, line: asyncio.Queue[tuple[float, bytes]], delay: float
) -> None:
    try:
        while data := await reader.read(CHUNK):
            await line.put((time.monotonic() + delay, data))
    except (ConnectionError, OSError):
        pass
    finally:
        await line.put((0.0, b""))


async def _write_from(
    line: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter, rate: float
) -> None:
    pacer = Pacer(rate)
    try:
        while True:
            arrives, data = await line.get()
            if not data:
                break
            now = time.monotonic()
            leave = pacer.due(len(data), max(now, arrives))
            if leave > now:
                await asyncio.sleep(leave - now)
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, rate: float
) -> None:
    line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUED_CHUNKS)
    await asyncio.gather(_read_into(reader, line, delay), _write_from(line, writer, rate))


def handler(host: str, port: int, round_trip: float, rate: float):  # type: ignore[no-untyped-def]
    """The per-connection coroutine for ``asyncio.start_server``."""

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(
                _pipe(client_r, server_w, round_trip / 2, rate),
                _pipe(server_r, client_w, round_trip / 2, rate),
            )
        finally:
            for writer in (client_w, server_w):
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    return relay


async def serve(host: str, port: int, round_trip: float, rate: float) -> None:
    server = await asyncio.start_server(handler(host, port, round_trip, rate), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    async with server:
        await loop.run_in_executor(None, sys.stdin.read)


def main(argv: Sequence[str]) -> int:
    host, port, round_trip, rate = argv
    asyncio.run(serve(host, int(port), float(round_trip), float(rate)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
