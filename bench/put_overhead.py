"""Client CPU per small PutObject: rawS3 against aiohttp-s3-client, paired and interleaved.

A trivial local sink (aiohttp, in its own process) answers every PUT with 200 and the body's
MD5 as ETag, so the figure is the client's own CPU: each worker process sends ``--puts`` PUTs
of 1 KiB one after another and times each with ``time.process_time()`` (its own process
only). A round runs every client once, in an order that alternates between rounds; each
round's rawS3 median is divided by the same round's aiohttp-s3-client median, and the report
gives the median of those paired ratios with a seeded bootstrap 95 % interval. On a machine
others load, only such paired ratios mean anything.

rawS3 signs the payload (``payload_signing="signed"``) and checks the answer (status, ETag)
as its ``put_object`` always does; aiohttp-s3-client signs the payload too and its caller
checks the status. ``--raws3 PATH`` (repeatable) names the checkouts whose rawS3 is measured,
so a change and its base can be compared in one run.

Usage (needs aiohttp-s3-client, e.g. in the bench virtual environment)::

    python -m bench.put_overhead --raws3 /path/to/base --raws3 . --rounds 8 --puts 2000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.stats import ratio

BUCKET = "bench"
BODY = bytes(range(256)) * 4  # 1 KiB
WARMUP = 200
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
PEER = "aiohttp-s3-client"


# -- the sink ---------------------------------------------------------------------------------


def serve(port: int) -> None:
    """Answer every request with 200 and the MD5 of its body as ETag, until killed."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        body = await request.read()
        etag = f'"{hashlib.md5(body).hexdigest()}"'
        return web.Response(status=200, headers={"ETag": etag, "x-amz-request-id": "sink"})

    app = web.Application(client_max_size=1 << 20)
    app.router.add_route("*", "/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the sink did not listen on port {port} within {seconds:.0f} s")


# -- the workers ------------------------------------------------------------------------------


async def timed(put: Callable[[str], Awaitable[None]], puts: int) -> list[float]:
    for i in range(WARMUP):  # connection, caches and first-request setup stay off the clock
        await put(f"warm-{i}")
    times = []
    for i in range(puts):
        start = time.process_time()
        await put(f"key-{i}")
        times.append(time.process_time() - start)
    return times


async def run_raws3(url: str, puts: int) -> list[float]:
    from rawS3 import S3Client

    async with S3Client(
        url, ACCESS_KEY, SECRET_KEY, region=REGION, payload_signing="signed"
    ) as s3:

        async def put(key: str) -> None:
            await s3.put_object(BUCKET, key, BODY)

        return await timed(put, puts)


async def run_peer(url: str, puts: int) -> list[float]:
    import aiohttp
    from aiohttp_s3_client import S3Client

    async with aiohttp.ClientSession() as http:
        s3 = S3Client(
            session=http, url=url, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
            region=REGION,
        )

        async def put(key: str) -> None:
            async with s3.put(f"{BUCKET}/{key}", BODY) as response:
                response.raise_for_status()

        return await timed(put, puts)


def worker(client: str, path: str, port: int, puts: int) -> None:
    """Run one client's PUTs and print the per-PUT CPU times as JSON."""
    url = f"http://127.0.0.1:{port}"
    if client == PEER:
        times = asyncio.run(run_peer(url, puts))
        origin = ""
    else:
        sys.path.insert(0, path)
        import rawS3

        origin = rawS3.__file__ or ""
        if not Path(origin).resolve().is_relative_to(Path(path).resolve()):
            raise RuntimeError(f"rawS3 came from {origin}, not from {path}")
        times = asyncio.run(run_raws3(url, puts))
    print(json.dumps({"origin": origin, "times": times}))


# -- the driver -------------------------------------------------------------------------------


def measure(client: str, path: str, port: int, puts: int) -> float:
    """One worker run: the median CPU seconds per PUT."""
    argv = [sys.executable, "-m", "bench.put_overhead", "--worker", client, "--path", path,
            "--port", str(port), "--puts", str(puts)]
    here = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": here}
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=here, env=env,
                         timeout=600)
    return float(statistics.median(json.loads(out.stdout)["times"]))


def label(path: str) -> str:
    return f"rawS3@{path}"


def report(results: dict[str, list[float]], clients: list[str], puts: int) -> None:
    peer = results[PEER]
    print(f"\nmedian client CPU per 1 KiB PUT ({puts} PUTs per run, {len(peer)} rounds):")
    for name in clients:
        values = results[name]
        print(f"  {name:40} {statistics.median(values) * 1e3:.4f} ms "
              f"(rounds {min(values) * 1e3:.4f}-{max(values) * 1e3:.4f})")
    print(f"\npaired ratio rawS3 / {PEER} (median of rounds, bootstrap 95 % interval):")
    for name in clients:
        if name == PEER:
            continue
        quotients = [a / b for a, b in zip(results[name], peer, strict=True)]
        r = ratio(quotients, f"{name}/{PEER}")
        assert r is not None
        print(f"  {name:40} {r.median:.3f}  [{r.ci_low:.3f}, {r.ci_high:.3f}]  "
              f"range {r.low:.3f}-{r.high:.3f}")
    if len(clients) > 2:
        base, *others = [c for c in clients if c != PEER]
        for name in others:
            quotients = [a / b for a, b in zip(results[name], results[base], strict=True)]
            r = ratio(quotients, f"{name}/{base}")
            assert r is not None
            print(f"\npaired ratio {name} / {base}: {r.median:.3f}  "
                  f"[{r.ci_low:.3f}, {r.ci_high:.3f}]")


def drive(paths: list[str], rounds: int, puts: int) -> None:
    clients = [label(p) for p in paths] + [PEER]
    where = {label(p): p for p in paths} | {PEER: ""}
    results: dict[str, list[float]] = {name: [] for name in clients}
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c",
                             f"from bench.put_overhead import serve; serve({port})"],
                            cwd=str(Path(__file__).resolve().parent.parent))
    try:
        wait_for(port)
        for n in range(rounds):
            order = clients if n % 2 == 0 else clients[::-1]  # each position equally often
            for name in order:
                results[name].append(measure(name, where[name], port, puts))
            print(f"round {n + 1}/{rounds}: " + ", ".join(
                f"{name} {results[name][-1] * 1e3:.4f} ms" for name in clients), flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    report(results, clients, puts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--raws3", action="append", default=[],
                        help="a checkout whose rawS3 to measure (repeatable; default: .)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--puts", type=int, default=2000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", default=".", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.path, args.port, args.puts)
        return
    if not 1 <= args.rounds <= 100 or not 1 <= args.puts <= 100_000:
        parser.error("--rounds must be 1-100 and --puts 1-100000")
    paths = [str(Path(p).resolve()) for p in (args.raws3 or ["."])]
    drive(paths, args.rounds, args.puts)


if __name__ == "__main__":
    main()
