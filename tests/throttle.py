"""A TCP relay on 127.0.0.1 that gives every connection a delay and a rate cap of its own.

Loopback lets one connection go as fast as many; a real network does not (each connection is
held back by its round trip and by per-connection limits). This relay stands in for that in
quick experiments: every chunk is forwarded ``delay`` seconds after it arrived (each way), and
each connection, each way, is paced to ``rate`` bytes per second with a token bucket. There is
no aggregate cap: more connections, more throughput, which is what a concurrency controller
has to discover::

    async with ThrottlingRelay("http://127.0.0.1:8000", rate=4 * MiB, delay=0.01) as relay:
        client = S3Client(relay.endpoint, ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["ThrottlingRelay"]

_CHUNK = 64 * 1024


class ThrottlingRelay:
    """Relay to ``upstream`` with a per-connection ``rate`` (bytes/s) and one-way ``delay`` (s)."""

    def __init__(self, upstream: str, *, rate: float, delay: float) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate = rate
        self.delay = delay
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> ThrottlingRelay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        # Cut the connections rather than cancel their tasks: each then ends on its own.
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for stream in (writer, up_writer):
                stream.transport.abort()
                self._writers.discard(stream)
            self._tasks.discard(task)

    async def _pump(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        """Forward ``source`` to ``target``: each chunk after ``delay``, paced to ``rate``."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=64)

        async def receive() -> None:
            while chunk := await source.read(_CHUNK):
                await queue.put((time.monotonic(), chunk))
            await queue.put((time.monotonic(), b""))

        receiving = asyncio.ensure_future(receive())
        try:
            free_at = time.monotonic()
            while True:
                arrived, chunk = await queue.get()
                if not chunk:
                    with contextlib.suppress(OSError):
                        target.write_eof()
                    return
                free_at = max(free_at, arrived + self.delay) + len(chunk) / self.rate
                wait = free_at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                target.write(chunk)
                await target.drain()
        finally:
            receiving.cancel()
            with contextlib.suppress(BaseException):
                await receiving


async def _compare(
    endpoint: str, access_key: str, secret_key: str, path: str, *, throttled: bool
) -> None:
    from rawS3 import S3Client
    from rawS3.file_upload import FileUpload

    mib = 1024 * 1024
    size = os.stat(path).st_size
    async with (
        ThrottlingRelay(
            endpoint, rate=4 * mib if throttled else 1e12, delay=0.01 * throttled
        ) as relay,
        S3Client(relay.endpoint, access_key, secret_key) as s3,
    ):
        await s3.create_bucket("throttled")
        for concurrency, budget in ((4, None), (10, None), ("auto", None), ("auto", 40 * mib)):
            upload = FileUpload(
                s3,
                "throttled",
                "f",
                path,
                part_size=5 * mib,
                concurrency=concurrency,  # type: ignore[arg-type]
                max_memory=budget,
            )
            started = time.monotonic()
            await upload.run()
            seconds = time.monotonic() - started
            print(
                f"concurrency={concurrency}, max_memory={budget}: "
                f"{size / mib / seconds:.1f} MiB/s, {seconds:.1f} s, most parts in flight "
                f"{upload.peak} ({upload.peak * 5} MiB of part data), last limit {upload.limit}",
                flush=True,
            )
        await s3.delete_object("throttled", "f")
        await s3.delete_bucket("throttled")


def main() -> None:
    """``python -m tests.throttle [MiB] [--loopback]``: one file up through the relay at 4, 10,
    auto, and auto within 40 MiB (``--loopback``: the relay neither delays nor caps).

    A throw-away RGW, each connection capped at 4 MiB/s with 20 ms of added round trip,
    a file of 160 MiB (or as given) in 5 MiB parts.
    """
    import sys
    import tempfile

    from tests.servers.rgw import running_rgw

    size = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 160
    with tempfile.NamedTemporaryFile() as file, running_rgw() as rgw:
        file.write(os.urandom(size * 1024 * 1024))
        file.flush()
        throttled = "--loopback" not in sys.argv
        asyncio.run(
            _compare(rgw.endpoint, rgw.access_key, rgw.secret_key, file.name, throttled=throttled)
        )


if __name__ == "__main__":
    main()
