"""Client CPU per small PutObject: rawS3 against aiohttp-s3-client, paired and interleaved.

A trivial local sink (aiohttp, in its own process) answers every PUT with 200 and the body's
MD5 as ETag, so the figure is the client's own CPU: each client runs in its own worker
process, which sends 1 KiB PUTs one after another and times each with ``time.process_time()``
(its own process only). A round starts one worker per client and has each send ``--puts``
PUTs in turns of 100 (one worker at a time, the order reversed every turn and every round),
so the clients see the same load; each round's rawS3 median per PUT is divided by the same
round's aiohttp-s3-client median, and the report gives the median of those paired ratios
with a seeded bootstrap 95 % interval. On a machine others load, only paired ratios mean
anything.

rawS3 signs the payload (``payload_signing="signed"``) and checks the answer (status, ETag)
as its ``put_object`` always does; aiohttp-s3-client is given each body's SHA-256 to sign
(``content_sha256=``, hashed per PUT; without it it sends ``UNSIGNED-PAYLOAD``, as the
harness's small-PUT row does: ``--peer-unsigned``) and its caller checks the status.
``--raws3 PATH`` (repeatable) names the checkouts whose rawS3 is measured, so a change and
its base can be compared in one run.

Usage (needs aiohttp-s3-client, e.g. in the bench virtual environment)::

    python -m bench.put_overhead --raws3 /path/to/base --raws3 . --rounds 12 --puts 2000
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
BATCH = 100  # PUTs per turn: the clients take turns this often, so load drift cancels
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
PEER = "aiohttp-s3-client"
PEER_UNSIGNED = "aiohttp-s3-client-unsigned"


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


async def timed(put: Callable[[str], Awaitable[None]]) -> None:
    """Warm up, then run each batch the driver asks for and print its per-PUT CPU times."""
    for i in range(WARMUP):  # connection, caches and first-request setup stay off the clock
        await put(f"warm-{i}")
    print("ready", flush=True)
    done = 0
    # Blocking reads between batches: nothing is in flight then, so nothing waits on the loop.
    for line in sys.stdin:
        if not line.strip():
            break
        times = []
        for _ in range(int(line)):
            start = time.process_time()
            await put(f"key-{done}")
            times.append(time.process_time() - start)
            done += 1
        print(json.dumps(times), flush=True)


async def run_raws3(url: str) -> None:
    from rawS3 import S3Client

    async with S3Client(
        url, ACCESS_KEY, SECRET_KEY, region=REGION, payload_signing="signed"
    ) as s3:

        async def put(key: str) -> None:
            await s3.put_object(BUCKET, key, BODY)

        await timed(put)


async def run_peer(url: str, unsigned: bool) -> None:
    import aiohttp
    from aiohttp_s3_client import S3Client

    async with aiohttp.ClientSession() as http:
        s3 = S3Client(
            session=http, url=url, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
            region=REGION,
        )

        async def put(key: str) -> None:
            digest = None if unsigned else hashlib.sha256(BODY).hexdigest()
            async with s3.put(f"{BUCKET}/{key}", BODY, content_sha256=digest) as response:
                response.raise_for_status()

        await timed(put)


def worker(client: str, path: str, port: int) -> None:
    """Serve batches of one client's PUTs to the driver (see ``timed``)."""
    url = f"http://127.0.0.1:{port}"
    if client in (PEER, PEER_UNSIGNED):
        asyncio.run(run_peer(url, unsigned=client == PEER_UNSIGNED))
        return
    sys.path.insert(0, path)
    import rawS3

    origin = rawS3.__file__ or ""
    if not Path(origin).resolve().is_relative_to(Path(path).resolve()):
        raise RuntimeError(f"rawS3 came from {origin}, not from {path}")
    asyncio.run(run_raws3(url))


# -- the driver -------------------------------------------------------------------------------


class Worker:
    """One client's worker process, driven batch by batch over its stdin and stdout."""

    def __init__(self, client: str, path: str, port: int) -> None:
        here = str(Path(__file__).resolve().parent.parent)
        argv = [sys.executable, "-m", "bench.put_overhead", "--worker", client, "--path", path,
                "--port", str(port)]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=here,
            env={**os.environ, "PYTHONPATH": here},
        )
        self.times: list[float] = []
        if self._line() != "ready":
            raise RuntimeError(f"the {client} worker did not start")

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("a worker ended early")
        return line.strip()

    def batch(self, puts: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{puts}\n")
        self.process.stdin.flush()
        self.times += json.loads(self._line())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def one_round(clients: list[str], where: dict[str, str], port: int, puts: int,
              flip: bool) -> dict[str, float]:
    """Every client's median CPU seconds per PUT, their batches interleaved."""
    workers: dict[str, Worker] = {}
    try:
        for name in clients:
            workers[name] = Worker(name, where[name], port)
        sizes = [BATCH] * (puts // BATCH) + ([puts % BATCH] if puts % BATCH else [])
        for n, size in enumerate(sizes):
            order = clients if (n % 2 == 0) != flip else clients[::-1]
            for name in order:  # one at a time: a batch never shares the CPU with another
                workers[name].batch(size)
        return {name: float(statistics.median(w.times)) for name, w in workers.items()}
    finally:
        for w in workers.values():
            w.close()


def label(path: str) -> str:
    return f"rawS3@{path}"


def report(results: dict[str, list[float]], clients: list[str], puts: int, peer: str) -> None:
    theirs = results[peer]
    print(f"\nmedian client CPU per 1 KiB PUT ({puts} PUTs each per round, {len(theirs)} rounds):")
    for name in clients:
        values = results[name]
        print(f"  {name:40} {statistics.median(values) * 1e3:.4f} ms "
              f"(rounds {min(values) * 1e3:.4f}-{max(values) * 1e3:.4f})")
    print(f"\npaired ratio rawS3 / {peer} (median of rounds, bootstrap 95 % interval):")
    for name in clients:
        if name == peer:
            continue
        quotients = [a / b for a, b in zip(results[name], theirs, strict=True)]
        r = ratio(quotients, f"{name}/{peer}")
        assert r is not None
        print(f"  {name:40} {r.median:.3f}  [{r.ci_low:.3f}, {r.ci_high:.3f}]  "
              f"range {r.low:.3f}-{r.high:.3f}")
    if len(clients) > 2:
        base, *others = [c for c in clients if c != peer]
        for name in others:
            quotients = [a / b for a, b in zip(results[name], results[base], strict=True)]
            r = ratio(quotients, f"{name}/{base}")
            assert r is not None
            print(f"\npaired ratio {name} / {base}: {r.median:.3f}  "
                  f"[{r.ci_low:.3f}, {r.ci_high:.3f}]")


def drive(paths: list[str], rounds: int, puts: int, peer: str) -> None:
    clients = [label(p) for p in paths] + [peer]
    where = {label(p): p for p in paths} | {peer: ""}
    results: dict[str, list[float]] = {name: [] for name in clients}
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c",
                             f"from bench.put_overhead import serve; serve({port})"],
                            cwd=str(Path(__file__).resolve().parent.parent))
    try:
        wait_for(port)
        for n in range(rounds):
            figures = one_round(clients, where, port, puts, flip=n % 2 == 1)
            for name in clients:
                results[name].append(figures[name])
            print(f"round {n + 1}/{rounds}: " + ", ".join(
                f"{name} {results[name][-1] * 1e3:.4f} ms" for name in clients), flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    report(results, clients, puts, peer)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--raws3", action="append", default=[],
                        help="a checkout whose rawS3 to measure (repeatable; default: .)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--puts", type=int, default=2000)
    parser.add_argument("--peer-unsigned", action="store_true",
                        help="let aiohttp-s3-client send UNSIGNED-PAYLOAD (its default)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", default=".", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.path, args.port)
        return
    if not 1 <= args.rounds <= 100 or not 1 <= args.puts <= 100_000:
        parser.error("--rounds must be 1-100 and --puts 1-100000")
    paths = [str(Path(p).resolve()) for p in (args.raws3 or ["."])]
    drive(paths, args.rounds, args.puts, PEER_UNSIGNED if args.peer_unsigned else PEER)


if __name__ == "__main__":
    main()
