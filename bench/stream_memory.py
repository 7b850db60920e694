"""Peak memory of ``stream_upload``: does a long stream stay within its bound?

``stream_upload`` holds at most ``concurrency`` parts in flight plus the one being filled, so
its memory should stay near ``(concurrency + 1) * part_size`` above the interpreter's own,
whatever the length of the source. This script serves a body of ``--size`` bytes from a local
HTTP source that generates it piece by piece (never held whole), and streams it to S3 with
``stream_upload`` in a fresh Python process, so that process's peak RSS (``VmHWM``) is the
upload's alone. It prints peak RSS, bytes, MiB/s and parts, and compares the peak with the
target ``60 MB + (concurrency + 1) * part_size`` (PASS/FAIL). Nothing is asserted about time.

Run from the repository root::

    python -m bench.stream_memory                 # 1 GiB, 8 MiB parts, 4 in flight
    python -m bench.stream_memory --size 4GiB --part-size 16MiB --concurrency 8
    python -m bench.stream_memory --smoke         # tiny, to check the script works

With ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` set, that server
is used; otherwise a throw-away Ceph RGW is started (``tests.servers.rgw``). The object is
checked afterwards (size, and the multipart ETag recomputed from the generated data), then
deleted with its bucket. Exit status 1 if the peak is over the target or the check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
MiB = 1024 * 1024
GiB = 1024 * MiB
MB = 1_000_000
BASELINE = 60 * MB
PIECE = 256 * 1024
BLOCK_SIZE = MiB + 7  # not a divisor of any part size, so no two parts are alike
UNITS = {"": 1, "b": 1, "kib": 1024, "mib": MiB, "gib": GiB, "kb": 1000, "mb": MB, "gb": 10**9}


def parse_size(text: str) -> int:
    """``"1GiB"``, ``"512MiB"``, ``"5000000"`` -> bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1GiB, 64MiB, 1000000)")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


def mib(n: float) -> str:
    return f"{n / MiB:,.1f} MiB"


# -- the generated body ---------------------------------------------------------------------


def block() -> bytes:
    return random.Random(7).randbytes(BLOCK_SIZE)


def pieces(size: int, data: bytes) -> Iterator[memoryview]:
    """``size`` bytes of ``data`` repeated, in pieces of at most PIECE bytes (no copies)."""
    view = memoryview(data)
    sent = 0
    while sent < size:
        start = sent % len(data)
        piece = view[start : start + min(PIECE, size - sent, len(data) - start)]
        yield piece
        sent += len(piece)


def expected_etag(size: int, part_size: int) -> str:
    """The multipart ETag of the generated body split into ``part_size`` parts."""
    digests, part, filled = [], hashlib.md5(), 0
    for piece in pieces(size, block()):
        while piece.nbytes:
            take = min(part_size - filled, piece.nbytes)
            part.update(piece[:take])
            filled, piece = filled + take, piece[take:]
            if filled == part_size:
                digests.append(part.digest())
                part, filled = hashlib.md5(), 0
    if filled or not digests:
        digests.append(part.digest())
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


async def serve_source(size: int) -> tuple[object, str]:
    """Start the HTTP source on a free port; return its runner and the body's URL."""
    from aiohttp import web

    data = block()

    async def body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = size
        await response.prepare(request)
        for piece in pieces(size, data):
            await response.write(piece)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/body", body)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}/body"


# -- the measured process -------------------------------------------------------------------


def peak_rss() -> int:
    # VmHWM is this process's own high-water mark; ru_maxrss survives execve and can carry
    # the peak of the process that started this one.
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


async def child(job: dict[str, object]) -> dict[str, object]:
    """Run in the fresh process: one stream_upload, timed, with the peak RSS before and after."""
    from rawS3 import S3Client
    from rawS3.url_uploads import stream_upload

    async with S3Client() as client:
        baseline = peak_rss()
        started = time.perf_counter()
        result = await stream_upload(
            client,
            str(job["bucket"]),
            str(job["key"]),
            str(job["url"]),
            part_size=int(str(job["part_size"])),
            concurrency=int(str(job["concurrency"])),
        )
        elapsed = time.perf_counter() - started
    return {
        "baseline": baseline,
        "peak": peak_rss(),
        "seconds": elapsed,
        "etag": result.etag,
        "parts": result.parts,
        "size": result.size,
    }


async def measure(job: dict[str, object], env: dict[str, str]) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--child",
        json.dumps(job),
        env=env,
        stdout=subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the upload process failed (exit status {process.returncode})")
    figures: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


# -- the harness ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    endpoint: str
    access_key: str
    secret_key: str
    region: str


@contextlib.contextmanager
def server() -> Iterator[Server]:
    env = os.environ
    if all(env.get(v) for v in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        yield Server(
            env["AWS_ENDPOINT_URL"],
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env.get("AWS_REGION", "us-east-1"),
        )
        return
    sys.path.insert(0, str(ROOT))
    from tests.servers.rgw import running_rgw

    print("starting a throw-away Ceph RGW ...", flush=True)
    with running_rgw() as rgw:
        yield Server(rgw.endpoint, rgw.access_key, rgw.secret_key, rgw.region)


async def run(args: argparse.Namespace, s3: Server) -> bool:
    from rawS3 import S3Client

    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": s3.endpoint,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_REGION": s3.region,
    }
    bucket, key = f"stream-memory-{uuid.uuid4().hex[:12]}", "stream.bin"
    async with S3Client(s3.endpoint, s3.access_key, s3.secret_key, region=s3.region) as admin:
        await admin.create_bucket(bucket)
        runner, url = await serve_source(args.size)
        try:
            job = {
                "bucket": bucket,
                "key": key,
                "url": url,
                "part_size": args.part_size,
                "concurrency": args.concurrency,
            }
            figures = await measure(job, env)
            head = await admin.head_object(bucket, key)
        finally:
            await runner.cleanup()  # type: ignore[attr-defined]
            await admin.delete_object(bucket, key)
            await admin.delete_bucket(bucket)
    return report(args, figures, head.size, head.etag.strip('"'))


def report(args: argparse.Namespace, figures: dict[str, object], size: int, etag: str) -> bool:
    peak, baseline = int(str(figures["peak"])), int(str(figures["baseline"]))
    seconds = float(str(figures["seconds"]))
    target = BASELINE + (args.concurrency + 1) * args.part_size
    expected = expected_etag(args.size, args.part_size)
    intact = size == args.size and etag == expected
    within = peak <= target
    print(f"bytes:        {args.size:,} ({mib(args.size)})")
    print(f"part size:    {mib(args.part_size)}, concurrency {args.concurrency}")
    print(f"parts:        {figures['parts']}")
    print(f"time:         {seconds:.2f} s, {args.size / MiB / seconds:,.1f} MiB/s")
    print(f"RSS before:   {mib(baseline)} (interpreter, aiohttp, rawS3, client)")
    print(f"peak RSS:     {mib(peak)} (+{mib(peak - baseline)} during the upload)")
    print(
        f"target:       {mib(target)} = 60 MB + ({args.concurrency} + 1) x {mib(args.part_size)}"
        f" -> {'PASS' if within else 'FAIL'}"
    )
    verdict = "OK" if intact else f"WRONG (expected {args.size:,} bytes, ETag {expected})"
    print(f"object check: size {size:,}, ETag {etag} -> {verdict}")
    return within and intact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stream_memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", type=parse_size, default=GiB, help="bytes to stream (1GiB)")
    parser.add_argument("--part-size", type=parse_size, default=8 * MiB, help="(8MiB)")
    parser.add_argument("--concurrency", type=int, default=4, help="parts in flight (4)")
    parser.add_argument("--smoke", action="store_true", help="16 MiB, 5 MiB parts, 2 in flight")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(child(json.loads(args.child)))))
        return 0
    if args.smoke:
        args.size, args.part_size, args.concurrency = 16 * MiB, 5 * MiB, 2
    with server() as s3:
        return 0 if asyncio.run(run(args, s3)) else 1


if __name__ == "__main__":
    sys.exit(main())
