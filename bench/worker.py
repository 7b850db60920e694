"""One measurement in a fresh process: ``python -m bench.worker SPEC_JSON``.

The harness starts one worker per (client, workload, repetition), so every figure comes from a
process that has imported only that client, and peak RSS (``VmHWM``) is that transfer's.
The worker sets the client up, starts the clock and the CPU counters, runs the workload, stops
them, and prints one JSON line of results. The server is given by the usual ``AWS_*``
variables. CPU is the whole process's user + system time (all threads), from ``getrusage``;
the server's CPU (and the WAN relay's), when their pids are given, is read from ``/proc`` at the
same moments.

Before the clock starts, every client makes one unmeasured request (a 1-byte PUT; a 1-byte
GET before a download), so that
set-up a library defers to its first request (botocore's endpoint resolution, a first
connection) is not charged to the workload.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.clients import load
from bench.common import SMALL_IN_FLIGHT, Endpoint, Transfer, endpoint_from_env, pattern

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def process_cpu() -> float:
    """User + system CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss() -> int:
    """The most resident memory this process has had, in bytes.

    ``VmHWM`` rather than ``ru_maxrss``: the latter survives ``execve``, so a worker would
    inherit the harness's peak from before the exec.
    """
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def server_cpu(pids: Sequence[int]) -> float:
    """CPU seconds the server processes have used so far (0 for pids that are gone)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


@dataclass
class Clock:
    """Wall time and CPU (ours and the server's) across one phase."""

    pids: Sequence[int]
    relay_pids: Sequence[int] = ()
    wall: float = 0.0
    cpu: float = 0.0
    server: float = 0.0
    relay: float = 0.0

    def __enter__(self) -> Clock:
        gc.collect()
        self.wall, self.cpu, self.server, self.relay = (
            time.perf_counter(), process_cpu(), server_cpu(self.pids),
            server_cpu(self.relay_pids),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = process_cpu() - self.cpu
        self.server = server_cpu(self.pids) - self.server
        self.relay = server_cpu(self.relay_pids) - self.relay

    def result(self) -> dict[str, float]:
        out = {"seconds": self.wall, "cpu": self.cpu, "server_cpu": self.server}
        if self.relay_pids:
            out["relay_cpu"] = self.relay
        return out


async def call(client: Any, method: str, *args: Any) -> Any:
    """Call an adapter method, awaiting it unless the client is a blocking one."""
    result = getattr(client, method)(*args)
    return result if client.blocking else await result


def clock(spec: dict[str, Any]) -> Clock:
    return Clock(spec.get("server_pids", []), spec.get("relay_pids", []))


async def run_large(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    data = pattern(spec["size"], seed=1)
    transfer = Transfer(**spec["transfer"]) if spec["transfer"] else None
    ready = current_rss()
    with clock(spec) as timed:
        await call(client, "upload_buffer", spec["bucket"], spec["key"], data, transfer)
    return {
        **timed.result(), "bytes": len(data), "peak_rss": peak_rss(), "rss_ready": ready,
    }


async def run_stream(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    ready = current_rss()
    transfer = Transfer(**spec["transfer"])
    with clock(spec) as timed:
        await call(client, "upload_stream", spec["bucket"], spec["key"], spec["url"], transfer)
    return {**timed.result(), "bytes": spec["size"], "peak_rss": peak_rss(), "rss_ready": ready}


async def run_file(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    ready = current_rss()
    transfer = Transfer(**spec["transfer"]) if spec["transfer"] else None
    with clock(spec) as timed:
        await call(client, "upload_file", spec["bucket"], spec["key"], spec["path"], transfer)
    return {**timed.result(), "bytes": spec["size"], "peak_rss": peak_rss(), "rss_ready": ready}


async def run_download(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    ready = current_rss()
    transfer = Transfer(**spec["transfer"]) if spec["transfer"] else None
    with clock(spec) as timed:
        await call(client, "download", spec["bucket"], spec["source"], spec["path"], transfer)
    return {**timed.result(), "bytes": spec["size"], "peak_rss": peak_rss(), "rss_ready": ready}


async def many(
    client: Any, fn: Callable[[str], Awaitable[Any] | Any], keys: Sequence[str]
) -> list[Any]:
    """Run ``fn`` over ``keys`` with ``SMALL_IN_FLIGHT`` in flight; results in key order."""
    if client.blocking:
        with ThreadPoolExecutor(SMALL_IN_FLIGHT) as pool:
            return list(pool.map(fn, keys))
    results: list[Any] = [None] * len(keys)
    todo: Iterator[int] = iter(range(len(keys)))

    async def lane() -> None:
        for index in todo:
            results[index] = await fn(keys[index])

    await asyncio.gather(*(lane() for _ in range(SMALL_IN_FLIGHT)))
    return results


async def run_small(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    bucket = spec["bucket"]
    keys = [f"{spec['key']}/{index:05d}" for index in range(spec["count"])]
    data = pattern(spec["size"], seed=3)
    if hasattr(client, "prepare"):
        client.prepare(bucket, keys)
    with clock(spec) as put:
        await many(client, lambda key: client.put_small(bucket, key, data), keys)
    with clock(spec) as get:
        bodies = await many(client, lambda key: client.get_small(bucket, key), keys)
    wrong = sum(body != data for body in bodies)
    if wrong:
        raise RuntimeError(f"{wrong} of {len(keys)} GETs returned other bytes than were PUT")
    return {"put": put.result(), "get": get.result(), "count": len(keys)}


RUNNERS = {
    "large": run_large, "stream": run_stream, "small": run_small, "download": run_download,
    "file": run_file,
}
WARM_UP = b"w"


async def measure(spec: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    module = load(spec["client"])
    async with module.Client(endpoint, matched=spec["transfer"] is not None) as client:
        if spec["workload"] == "download":
            await call(client, "get_small", spec["bucket"], spec["warm_up"])
        else:
            await call(client, "put_small", spec["bucket"], spec["key"] + ".warm-up", WARM_UP)
        result: dict[str, Any] = await RUNNERS[spec["workload"]](client, spec)
        return result


async def measure_each(specs: Sequence[dict[str, Any]], endpoint: Endpoint) -> list[Any]:
    """Several measurements in one process (``--smoke``): a result or ``{"error": text}``
    for each, so that one failure does not hide the others."""
    out: list[Any] = []
    for spec in specs:
        try:
            out.append(await measure(spec, endpoint))
        except Exception as exc:
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    return out


def main(argv: Sequence[str]) -> int:
    spec = json.loads(argv[0])
    endpoint = endpoint_from_env()
    if endpoint is None:
        print("bench.worker: set AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",
              file=sys.stderr)
        return 2
    if isinstance(spec, list):
        result: Any = asyncio.run(measure_each(spec, endpoint))
    else:
        result = asyncio.run(measure(spec, endpoint))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
