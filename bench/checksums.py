"""``python -m bench.checksums``: what each checksum costs the client, in CPU seconds per GiB.

Two tables:

1. Each algorithm over an in-memory buffer: rawS3's pure-Python CRCs, the installed ones
   (zlib; awscrt for CRC32C/CRC64NVME when ``rawS3[fast-checksums]`` is installed) and
   hashlib's SHA-1, SHA-256 and MD5 for comparison. The pure CRCs run on a smaller buffer (they
   manage ~10 MiB/s) and are scaled to a GiB.
2. The client's CPU for one streamed PutObject of ``--size`` MiB per body form: signed
   aws-chunked (a SHA-256 and an HMAC per chunk), CRC32 in a signed or an unsigned trailer,
   and a buffer with a signed SHA-256 payload or an unsigned payload plus a CRC32 header.
   The upload goes to a local sink in another process (it reads the body and answers 200), so
   only the client's work is counted; ``--rgw`` sends to a throw-away Ceph RGW instead, which
   refuses trailers (measured: 400 XAmzContentSHA256Mismatch; reported as such).

Figures, never assertions: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from rawS3 import S3Client, S3Error
from rawS3.checksums import CHECKSUM_ALGORITHMS, Checksum, accelerated

MiB = 1024 * 1024
GiB = 1024 * MiB
PIECE = 256 * 1024

SINK = """
import sys
from aiohttp import web

async def drain(request):
    async for _ in request.content.iter_chunked(1 << 20):
        pass
    return web.Response(status=200, headers={"ETag": '"sink"'})

app = web.Application(client_max_size=1 << 40)
app.router.add_route("*", "/{tail:.*}", drain)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def cpu_per_gib(work: Callable[[], object], size: int, rounds: int = 3) -> float:
    """The least CPU time of ``rounds`` runs of ``work`` over ``size`` bytes, scaled to 1 GiB."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best * GiB / size


def algorithm_rows(size: int, pure_size: int) -> list[tuple[str, str, float]]:
    data = os.urandom(size)
    small = data[:pure_size]
    rows: list[tuple[str, str, float]] = []
    for algorithm in CHECKSUM_ALGORITHMS:
        if accelerated(algorithm):
            kind = "awscrt" if algorithm in ("crc32c", "crc64nvme") else "stdlib"
            rows.append((algorithm, kind, cpu_per_gib(_checksum(algorithm, data, False), size)))
        if algorithm in ("crc32", "crc32c", "crc64nvme"):
            work = _checksum(algorithm, small, True)
            rows.append((algorithm, "pure Python", cpu_per_gib(work, pure_size, rounds=1)))
    rows.append(("md5", "stdlib", cpu_per_gib(lambda: hashlib.md5(data).digest(), size)))
    return rows


def _checksum(algorithm: str, data: bytes, pure: bool) -> Callable[[], None]:
    return lambda: Checksum(algorithm, pure=pure).update(data)


async def pieces(data: memoryview, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        for offset in range(0, len(data), PIECE):
            yield bytes(data[offset : offset + PIECE])


async def upload_cpu(
    endpoint: str, keys: tuple[str, str], bucket: str, size_mib: int
) -> list[tuple[str, str]]:
    block = memoryview(os.urandom(MiB))
    forms: list[tuple[str, str, str | None, int]] = [
        ("signed aws-chunked, 64 KiB frames", "signed", None, 64),
        ("CRC32 in a signed trailer, 64 KiB frames", "signed", "crc32", 64),
        ("CRC32 in an unsigned trailer, 64 KiB frames", "unsigned", "crc32", 64),
        ("signed aws-chunked, 1 MiB frames", "signed", None, 1024),
        ("CRC32 in a signed trailer, 1 MiB frames", "signed", "crc32", 1024),
        ("CRC32 in an unsigned trailer, 1 MiB frames", "unsigned", "crc32", 1024),
        ("buffer, signed SHA-256 payload", "signed", None, 0),
        ("buffer, UNSIGNED-PAYLOAD + CRC32 header", "unsigned", "crc32", 0),
    ]
    rows: list[tuple[str, str]] = []
    for label, signing, checksum, frame_kib in forms:
        streamed = frame_kib > 0
        async with S3Client(endpoint, *keys, payload_signing=signing) as client:
            size = size_mib * MiB
            body: Any = pieces(block, size_mib) if streamed else bytes(block) * size_mib
            start = time.process_time()
            try:
                await client.put_object(
                    bucket,
                    "bench",
                    body,
                    size=size,
                    checksum=checksum,
                    chunk_size=max(frame_kib, 64) * 1024,
                )
            except S3Error as error:
                rows.append((label, f"refused: {error.status} {error.code}"))
                continue
            spent = time.process_time() - start
            rows.append((label, f"{spent * GiB / size:6.2f}"))
            del body
    return rows


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sink() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", SINK, str(port)])
    try:
        deadline = time.monotonic() + 20
        import socket

        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def rgw() -> Iterator[tuple[str, tuple[str, str]]]:
    from tests.servers.rgw import running_rgw

    with running_rgw() as server:
        yield server.endpoint, (server.access_key, server.secret_key)


async def to_rgw(size_mib: int) -> list[tuple[str, str]]:
    with rgw() as (endpoint, keys):
        async with S3Client(endpoint, *keys) as admin:
            await admin.create_bucket("bench-checksums")
            try:
                return await upload_cpu(endpoint, keys, "bench-checksums", size_mib)
            finally:
                await admin.delete_object("bench-checksums", "bench")
                await admin.delete_bucket("bench-checksums")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checksums", description=__doc__)
    parser.add_argument("--size", type=int, default=256, help="MiB per measurement (256)")
    parser.add_argument("--rgw", action="store_true", help="upload to a throw-away RGW")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    args = parser.parse_args(argv)
    size_mib = 4 if args.smoke else args.size
    print(f"CPU seconds per GiB (lower is better); Python {sys.version.split()[0]}\n")
    print(f"{'algorithm':<12} {'implementation':<14} {'CPU s/GiB':>10} {'MiB/s':>9}")
    for name, kind, seconds in algorithm_rows(size_mib * MiB, (1 if args.smoke else 8) * MiB):
        print(f"{name:<12} {kind:<14} {seconds:10.2f} {1024 / seconds:9.0f}")
    print(f"\nClient CPU for one {size_mib} MiB PutObject, s/GiB", end=" ")
    if args.rgw:
        rows = asyncio.run(to_rgw(size_mib))
        where = "RGW 16 (local)"
    else:
        with sink() as endpoint:
            keys = ("AKIDBENCH", "bench-secret")
            rows = asyncio.run(upload_cpu(endpoint, keys, "bench-sink", size_mib))
        where = "a local sink"
    print(f"(to {where})")
    for label, figure in rows:
        print(f"  {label:<46} {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
