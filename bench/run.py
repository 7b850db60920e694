"""The benchmark harness: ``python -m bench [--smoke] [--reps N] ...`` from the repository root.

1. Makes sure the peers are importable: if not, creates ``.venv-bench`` (once), installs
   rawS3 with its ``bench`` extra there, and runs itself again with that interpreter. (The
   peers pin botocore and multidict to versions other than the test environment's.)
2. Uses the server named by ``AWS_ENDPOINT_URL`` / ``AWS_ACCESS_KEY_ID`` /
   ``AWS_SECRET_ACCESS_KEY`` if set, else starts a throw-away Ceph RGW (memstore) with
   ``tests.servers.rgw``; starts the local HTTP source (``bench.source``).
3. For each repetition, runs every (workload, client) pair in a fresh worker process
   (``bench.worker``), clients in an order that rotates and reverses from one repetition to the
   next; checks each stored object's size and deletes it before the next run. On its own RGW it
   then frees the deleted data at once (``radosgw-admin gc process``): left to the gateway's
   garbage collector, deletions piled up and the runs after them took up to twice the server CPU.
4. Measures cold start (``bench.footprint``), then writes the Markdown report, the chart and the
   raw results (JSON) to the output directory.

Exits 1 if any client's workload failed (other than a peer's known bug, reported as such).
``--smoke`` runs every workload at tiny sizes once and writes to a temporary directory unless
``--out`` is given; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
RESULTS = ROOT / "bench" / "results"
NEEDED = (
    "aiobotocore", "aioboto3", "miniopy_async", "boto3", "aiohttp_s3_client",
    "matplotlib", "psutil", "packaging", "rawS3",
)
BOOTSTRAPPED = "RAWS3_BENCH_BOOTSTRAPPED"
WORKLOADS = ("large-matched", "large-defaults", "small", "stream")
KNOWN_FAILURES = {
    ("miniopy-async", "stream"): (
        "IndexError",
        "fails: miniopy-async's parallel put_object of an unknown-length stream that ends "
        "exactly on a part boundary builds an empty part list (IndexError in put_object); "
        "512 MiB is 64 × 8 MiB",
    ),
}
"""(client, workload) -> (text in the worker's error output, what the report says)."""


# -- environment -------------------------------------------------------------------------------


def missing_modules() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def venv_python() -> Path:
    return VENV / "bin" / "python"


def venv_ready(python: Path) -> bool:
    if not python.exists():
        return False
    check = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(n) is None "
    check += f"for n in {list(NEEDED)!r}))"
    return subprocess.run([str(python), "-c", check], cwd=ROOT).returncode == 0


def reexec_in_venv(argv: Sequence[str]) -> None:
    """Create ``.venv-bench`` if needed and run ``python -m bench`` again inside it."""
    if os.environ.get(BOOTSTRAPPED):
        raise SystemExit(f"bench: still missing {missing_modules()} in {sys.executable}")
    python = venv_python()
    if not venv_ready(python):
        print(f"bench: installing rawS3[bench] into {VENV}", file=sys.stderr, flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "-e", f"{ROOT}[bench]"],
            check=True,
        )
    env = {**os.environ, BOOTSTRAPPED: "1"}
    os.execve(str(python), [str(python), "-m", "bench", *argv], env)


# -- server and source -------------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    endpoint: Any
    pids: list[int]
    description: str
    settle: Callable[[], None] = lambda: None
    """Run after each run's object is deleted, so that no run pays for the previous one's."""


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """The given endpoint, or a throw-away RGW for the duration of the run."""
    from bench.common import endpoint_from_env

    given = endpoint_from_env()
    if given is not None:
        yield Server(given, [], f"given endpoint {given.url}")
        return
    from bench.common import Endpoint
    from tests.servers.rgw import collect_garbage, running_rgw

    with running_rgw() as rgw:
        pids = [int(p.read_text()) for p in sorted((rgw.workdir / "run").glob("*.pid"))]
        endpoint = Endpoint(rgw.endpoint, rgw.access_key, rgw.secret_key, rgw.region)
        description = (
            f"Ceph RGW {_rgw_version()} (memstore), started here; deleted data freed "
            "(radosgw-admin gc process) after every run"
        )
        yield Server(endpoint, pids, description, lambda: collect_garbage(rgw))


def _rgw_version() -> str:
    try:
        out = subprocess.run(["radosgw", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "?"
    words = out.split()
    return words[2] if len(words) > 2 else "?"


@contextlib.contextmanager
def source() -> Iterator[str]:
    """The local HTTP source; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.source"], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- S3 housekeeping (rawS3, in the harness process) --------------------------------------------


def s3_call(endpoint: Any, work: Any) -> Any:
    from rawS3 import S3Client

    async def run() -> Any:
        async with S3Client(
            endpoint.url, endpoint.access_key, endpoint.secret_key, region=endpoint.region
        ) as s3:
            return await work(s3)

    return asyncio.run(run())


def check_and_delete(endpoint: Any, bucket: str, key: str, size: int) -> str | None:
    """Delete ``key`` after checking it holds ``size`` bytes; the problem found, if any."""

    async def work(s3: Any) -> str | None:
        head = await s3.head_object(bucket, key)
        await s3.delete_object(bucket, key)
        if head.size != size:
            return f"stored {head.size:,} bytes, expected {size:,}"
        return None

    try:
        return s3_call(endpoint, work)  # type: ignore[no-any-return]
    except Exception as exc:
        return f"object check failed: {exc}"


def delete_prefix(endpoint: Any, bucket: str, prefix: str) -> None:
    async def work(s3: Any) -> None:
        keys = [o.key async for o in s3.list_objects(bucket, prefix=prefix)]
        if keys:
            await s3.delete_objects(bucket, keys)
        for upload in await s3.list_multipart_uploads(bucket, prefix=prefix):
            with contextlib.suppress(Exception):
                await s3.abort_multipart_upload(bucket, upload.key, upload.upload_id)

    s3_call(endpoint, work)


def drop_bucket(endpoint: Any, bucket: str) -> None:
    async def work(s3: Any) -> None:
        keys = [o.key async for o in s3.list_objects(bucket)]
        if keys:
            await s3.delete_objects(bucket, keys)
        for upload in await s3.list_multipart_uploads(bucket):
            await s3.abort_multipart_upload(bucket, upload.key, upload.upload_id)
        await s3.delete_bucket(bucket)

    s3_call(endpoint, work)


# -- running workers ---------------------------------------------------------------------------


def order_for(clients: Sequence[str], repetition: int) -> list[str]:
    """Rotate by the repetition number and reverse every other one, so no client is always
    first or always after the same neighbour."""
    shift = repetition % len(clients)
    rotated = list(clients[shift:]) + list(clients[:shift])
    return rotated if repetition % 2 == 0 else rotated[::-1]


@dataclasses.dataclass
class Plan:
    clients: list[str]
    workloads: list[str]
    repetitions: int
    timeout: float
    smoke: bool


def run_worker(spec: dict[str, Any], env: dict[str, str], timeout: float) -> tuple[Any, str]:
    """Run one worker; returns (result or None, error text)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", json.dumps(spec)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return None, f"{tail[0]}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1]), ""


def one_run(
    m: Any, srv: Server, bucket: str, source_url: str, workload: str, client: str, rep: int,
    plan: Plan,
) -> None:
    from bench.common import endpoint_env

    sizes, transfer = m.sizes, m.transfer
    key = f"{workload}/{client}/{uuid.uuid4().hex[:8]}"
    spec: dict[str, Any] = {
        "client": client, "workload": workload.split("-")[0], "bucket": bucket, "key": key,
        "server_pids": srv.pids, "transfer": dataclasses.asdict(transfer),
    }
    if workload == "large-defaults":
        spec["transfer"] = None
    if workload.startswith("large"):
        spec["size"] = sizes.large
    elif workload == "stream":
        spec["size"] = sizes.stream
        spec["url"] = f"{source_url}/stream/{sizes.stream}"
    else:
        spec["size"], spec["count"] = sizes.small_size, sizes.small_count
    env = {**os.environ, **endpoint_env(srv.endpoint)}
    started = time.monotonic()
    result, error = run_worker(spec, env, plan.timeout)
    if result is not None and spec["workload"] != "small":
        error = check_and_delete(srv.endpoint, bucket, key, spec["size"]) or ""
    else:
        delete_prefix(srv.endpoint, bucket, key)
    srv.settle()
    elapsed = time.monotonic() - started
    known = KNOWN_FAILURES.get((client, workload))
    if error and known and known[0] in error:
        m.fail(workload, client, known[1], known=True)
        print(f"  {workload:15} {client:18} known peer failure ({elapsed:.1f} s)", flush=True)
    elif error:
        m.fail(workload, client, error.splitlines()[0])
        print(f"  {workload:15} {client:18} ERROR: {error}", file=sys.stderr, flush=True)
    else:
        m.add(workload, client, {**result, "repetition": rep})
        print(f"  {workload:15} {client:18} ok ({elapsed:.1f} s)", flush=True)


def measure_all(m: Any, srv: Server, plan: Plan) -> None:
    from bench.clients import SKIPPED

    bucket = f"raws3-bench-{uuid.uuid4().hex[:10]}"
    s3_call(srv.endpoint, lambda s3: s3.create_bucket(bucket))
    try:
        with source() as source_url:
            for rep in range(plan.repetitions):
                print(f"repetition {rep + 1} of {plan.repetitions}", flush=True)
                for workload in plan.workloads:
                    for client in order_for(plan.clients, rep):
                        if (client, workload) in SKIPPED:
                            continue
                        one_run(m, srv, bucket, source_url, workload, client, rep, plan)
    finally:
        drop_bucket(srv.endpoint, bucket)


# -- report ------------------------------------------------------------------------------------


def machine(srv: Server, plan: Plan) -> dict[str, str]:
    import psutil

    from bench.clients import MODULES
    from bench.footprint import DISTRIBUTIONS

    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if "model name" in line), "?")
    versions = ", ".join(
        f"{c} {importlib.metadata.version(DISTRIBUTIONS[c])}"
        for c in MODULES if c in DISTRIBUTIONS
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{psutil.cpu_count()} cores ({cpu}), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}",
        "python": platform.python_version(),
        "server": srv.description,
        "versions": versions,
        "rawS3 commit": commit or "?",
        "load average at start": load,
        "mode": "smoke (tiny sizes, timings meaningless)" if plan.smoke else "full",
    }


def dump_raw(m: Any) -> dict[str, Any]:
    """Everything measured, as JSON-ready data (see ``load_raw``)."""
    return {
        "repetitions": m.repetitions, "sizes": dataclasses.asdict(m.sizes),
        "runs": m.runs, "errors": m.errors, "known": m.known, "machine": m.machine,
        "footprints": {c: dataclasses.asdict(f) for c, f in m.footprints.items()},
    }


def load_raw(m: Any, raw: dict[str, Any]) -> None:
    """Fill ``m`` from what ``dump_raw`` wrote."""
    from bench.common import Sizes
    from bench.footprint import Footprint

    m.repetitions, m.sizes = raw["repetitions"], Sizes(**raw["sizes"])
    m.runs, m.errors, m.known, m.machine = raw["runs"], raw["errors"], raw["known"], raw["machine"]
    m.footprints = {
        c: Footprint(**{**f, "closure": tuple(f["closure"])}) for c, f in raw["footprints"].items()
    }


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions per workload (default 5; 1 with --smoke)")
    parser.add_argument("--import-reps", type=int, default=None,
                        help="repetitions of the import timings (default 9; 1 with --smoke)")
    parser.add_argument("--clients", default=None,
                        help="comma-separated subset of: rawS3, aiobotocore, aioboto3, "
                        "miniopy-async, boto3, aiohttp-s3-client, ceiling")
    parser.add_argument("--workloads", default=None,
                        help=f"comma-separated subset of: {', '.join(WORKLOADS)}, footprint")
    parser.add_argument("--report-only", type=Path, default=None, metavar="JSON",
                        help="measure nothing: rewrite the report and chart from a "
                        "latest.json written by an earlier run")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default bench/results; a temporary one "
                        "with --smoke)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    # A plain kill would skip the cleanup below and leave the throw-away RGW running.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    if missing_modules():
        reexec_in_venv(argv)
    from bench import chart, report
    from bench.clients import MODULES
    from bench.common import FULL, MATCHED, SMOKE
    from bench.footprint import IMPORTS, footprints

    clients = args.clients.split(",") if args.clients else list(MODULES)
    unknown = [c for c in clients if c not in MODULES]
    if unknown:
        print(f"bench: unknown client(s) {unknown}; known: {list(MODULES)}", file=sys.stderr)
        return 2
    chosen = args.workloads.split(",") if args.workloads else [*WORKLOADS, "footprint"]
    plan = Plan(
        clients=clients,
        workloads=[w for w in WORKLOADS if w in chosen],
        repetitions=args.reps or (1 if args.smoke else 5),
        timeout=60 if args.smoke else 300,
        smoke=args.smoke,
    )
    m = report.Measurements(
        clients=clients, sizes=SMOKE if args.smoke else FULL, transfer=MATCHED,
        repetitions=plan.repetitions,
    )
    started = time.monotonic()
    out = args.out or (Path(tempfile.mkdtemp(prefix="raws3-bench-")) if args.smoke else RESULTS)
    if args.report_only:
        load_raw(m, json.loads(args.report_only.read_text()))
    else:
        with server() as srv:
            m.machine = machine(srv, plan)
            measure_all(m, srv, plan)
        if "footprint" in chosen:
            print("cold start: import times and dependency closures", flush=True)
            import_reps = args.import_reps or (1 if args.smoke else 9)
            m.footprints = footprints([c for c in clients if c in IMPORTS], import_reps)
        out.mkdir(parents=True, exist_ok=True)
        (out / "latest.json").write_text(json.dumps(dump_raw(m), indent=1))
    report.write_markdown(m, out / "latest.md")
    chart.draw(m, out / "chart.png")
    if args.smoke:
        print(report.markdown(m))
    failures = sum(len(v) for v in m.errors.values())
    took = time.monotonic() - started
    print(f"wrote {out / 'latest.md'} and {out / 'chart.png'} in {took:.0f} s; "
          f"{failures} failure(s)", flush=True)
    return 1 if failures else 0
