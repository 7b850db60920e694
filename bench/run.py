"""The benchmark harness: ``python -m bench [--smoke] [--network N,...] [--scheme S,...]``.

1. Makes sure the peers are importable: if not, creates ``.venv-bench`` (once), installs
   rawS3 with its ``bench`` extra there, and runs itself again with that interpreter. (The
   peers pin botocore and multidict to versions other than the test environment's.)
2. Uses the server named by ``AWS_ENDPOINT_URL`` / ``AWS_ACCESS_KEY_ID`` /
   ``AWS_SECRET_ACCESS_KEY`` if set, else starts a throw-away Ceph RGW (memstore) with
   ``tests.servers.rgw``; starts the local HTTP source (``bench.source``).
3. For each profile (loopback or the simulated WAN of ``bench.relay``; http or https) and each
   repetition, runs every (workload, client) pair in a fresh worker process (``bench.worker``),
   clients in the order of one row of a Williams square (``order_for``: over as many
   repetitions as there are clients, each client runs in each position once, so each workload's
   repetitions are rounded up to a multiple of its number of clients; only with an even number
   of clients does each also follow every other once); checks every
   upload by its ETag and the SHA-256 of the object read back, every download by the SHA-256 of
   its file (``bench.verify``), and deletes it before the next run. On its own RGW it then frees
   the deleted data at once (``radosgw-admin gc process``): left to the gateway's garbage
   collector, deletions piled up and the runs after them took up to twice the server CPU.
4. Measures cold start (``bench.footprint``: import + client + first request), then writes
   the Markdown report, the chart and the raw results (``latest.json``) to the output
   directory.

Exits 1 if any client's workload failed (other than a peer's known bug, reported as such).
``--smoke`` runs every workload of both networks at tiny sizes once, three workers at a time,
and writes to a temporary directory unless ``--out`` is given; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
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
from concurrent.futures import ThreadPoolExecutor
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
WORKLOADS = (
    "large-matched", "large-defaults", "file-matched", "file-defaults", "small", "stream",
    "stream-odd", "download-matched", "download-defaults",
)
WAN_WORKLOADS = (
    "large-matched", "large-defaults", "file-matched", "file-defaults", "download-matched",
    "download-defaults",
)
SMOKE_SKIPS = ("stream",)
"""Left out of ``--smoke`` (stream-odd runs the same adapters), to keep CI's stage short."""
SMOKE_WAN = (("rawS3", "boto3", "ceiling"), ("large-matched", "download-matched"))
"""The clients and workloads ``--smoke`` sends through the relay: every other pair runs on
loopback already, and this is enough to exercise the relay end to end."""
NETWORKS = ("loopback", "wan")
SCHEMES = ("http", "https")
BOTOCORE_HTTPS = (
    "MissingContentLength",
    "fails over https at botocore's defaults: with request_checksum_calculation="
    "\"when_supported\" botocore sends PutObject and UploadPart bodies aws-chunked with a "
    "CRC32 trailer and no Content-Length, which RGW 16.2 refuses (MissingContentLength); "
    "the matched rows (\"when_required\") send a plain body",
)
KNOWN_FAILURES = {
    **{(c, w): BOTOCORE_HTTPS for c in ("aiobotocore", "aioboto3", "boto3")
       for w in ("large-defaults", "file-defaults")},
    ("miniopy-async", "stream"): (
        "IndexError",
        "fails: miniopy-async's parallel put_object of an unknown-length stream that ends "
        "exactly on a part boundary builds an empty part list (IndexError in put_object); "
        "the stream is a whole number of 8 MiB parts (see stream-odd for its figures)",
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


# -- server, relay and source -----------------------------------------------------------------


@dataclasses.dataclass
class Server:
    endpoint: Any
    pids: list[int]
    description: str
    settle: Callable[[], None] = lambda: None
    """Run after each run's object is deleted, so that no run pays for the previous one's."""
    https_endpoint: Any = None
    ca_file: str | None = None


@contextlib.contextmanager
def server(https: bool) -> Iterator[Server]:
    """The given endpoint, or a throw-away RGW (serving https too if asked) for the run."""
    from bench.common import endpoint_from_env

    given = endpoint_from_env()
    if given is not None:
        yield Server(given, [], f"given endpoint {given.url}",
                     https_endpoint=given if given.secure else None)
        return
    from bench.common import Endpoint
    from tests.servers.rgw import collect_garbage, running_rgw

    with running_rgw(https=https) as rgw:
        pids = [int(p.read_text()) for p in sorted((rgw.workdir / "run").glob("*.pid"))]
        endpoint = Endpoint(rgw.endpoint, rgw.access_key, rgw.secret_key, rgw.region)
        secure = None
        if rgw.https_endpoint:
            secure = dataclasses.replace(endpoint, url=rgw.https_endpoint)
        description = (
            f"Ceph RGW {_rgw_version()} (memstore), started here; deleted data freed "
            "(radosgw-admin gc process) after every run"
            + ("; https: RGW's ssl_endpoint (beast), self-signed certificate" if https else "")
        )
        yield Server(endpoint, pids, description, lambda: collect_garbage(rgw), secure,
                     str(rgw.ca_file) if rgw.ca_file else None)


def _rgw_version() -> str:
    try:
        out = subprocess.run(["radosgw", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "?"
    words = out.split()
    return words[2] if len(words) > 2 else "?"


@contextlib.contextmanager
def helper_process(args: Sequence[str]) -> Iterator[tuple[int, int]]:
    """A ``python -m ...`` helper that prints its port and serves until stdin closes;
    yields ``(port, pid)``."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield port, process.pid
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def source() -> Iterator[str]:
    """The local HTTP source; yields its base URL."""
    with helper_process(["bench.source"]) as (port, _):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def relay(endpoint: Any) -> Iterator[tuple[Any, int]]:
    """The WAN relay in front of ``endpoint``; yields (the endpoint through it, its pid)."""
    from bench.common import WAN_NETWORK

    host, port = endpoint.hostport.rsplit(":", 1)
    net = WAN_NETWORK
    with helper_process(
        ["bench.relay", host, port, str(net.round_trip), str(net.rate)]
    ) as (relay_port, pid):
        scheme = endpoint.url.split("://", 1)[0]
        yield dataclasses.replace(endpoint, url=f"{scheme}://127.0.0.1:{relay_port}"), pid


# -- S3 housekeeping (rawS3, in the harness process) --------------------------------------------


def s3_call(endpoint: Any, work: Any) -> Any:
    from rawS3 import S3Client

    async def run() -> Any:
        async with S3Client(
            endpoint.url, endpoint.access_key, endpoint.secret_key, region=endpoint.region,
            ca_file=os.environ.get("SSL_CERT_FILE") if endpoint.secure else None,
        ) as s3:
            return await work(s3)

    return asyncio.run(run())


UNEVEN = "SHA-256 read back; ETag: multipart form only (uneven parts the server cannot list)"


def upload_problem(endpoint: Any, bucket: str, key: str, kind: str, size: int,
                   part_size: int) -> tuple[str | None, str]:
    """Check the object at ``key`` (the SHA-256 of its bytes read back, then its ETag) and
    delete it with everything under its key: (the problem found, if any; what was checked).

    A multipart ETag is recomputed for every uniform cut that gives its part count, then for
    the cut the server reports (``HEAD ?partNumber=``); a client that sends parts of uneven
    size to a server that does not report them (RGW 16 answers the whole object) gets the
    ETag's form checked only, which the returned text says."""
    import hashlib

    from bench.verify import etag_problem, part_count, sha256_of

    async def work(s3: Any) -> tuple[str | None, str]:
        try:
            head = await s3.head_object(bucket, key)
            if head.size != size:
                return f"stored {head.size:,} bytes, expected {size:,}", ""
            digest = hashlib.sha256()
            async with s3.open_object(bucket, key) as stream:
                async for chunk in stream.iter_chunks(1024 * 1024):
                    digest.update(chunk)
            if digest.hexdigest() != sha256_of(kind, size):
                return "the bytes read back are not the bytes sent (SHA-256 differs)", ""
            problem = etag_problem(head.etag, kind, size, (part_size,))
            if not problem:
                return None, "SHA-256 read back; ETag recomputed"
            count = part_count(head.etag)
            if not count:
                return problem, ""
            lengths = [await _part_length(s3, bucket, key, n) for n in range(1, count + 1)]
            if any(length == size for length in lengths) and count > 1:
                return None, UNEVEN
            return etag_problem(head.etag, kind, size, part_lengths=lengths), (
                "SHA-256 read back; ETag recomputed from the stored part lengths")
        finally:
            await _delete_prefix(s3, bucket, key)

    try:
        return s3_call(endpoint, work)  # type: ignore[no-any-return]
    except Exception as exc:
        return f"object check failed: {exc!r}", ""


async def _part_length(s3: Any, bucket: str, key: str, number: int) -> int:
    """The stored length of part ``number`` of a multipart object, as the server says."""
    answer = await s3.request("HEAD", bucket, key, query={"partNumber": str(number)},
                              expect=(200, 206))
    return int(answer.headers["Content-Length"])


def download_problem(path: Path, size: int) -> str | None:
    """Check the downloaded file and delete it; the problem found, if any."""
    import hashlib

    from bench.verify import sha256_of

    try:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while piece := f.read(1024 * 1024):
                digest.update(piece)
        if digest.hexdigest() != sha256_of("download", size):
            return "the file written is not the object (SHA-256 differs)"
        return None
    except OSError as exc:
        return f"download check failed: {exc!r}"
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


async def _delete_prefix(s3: Any, bucket: str, prefix: str) -> None:
    keys = [o.key async for o in s3.list_objects(bucket, prefix=prefix)]
    if keys:
        await s3.delete_objects(bucket, keys)
    for upload in await s3.list_multipart_uploads(bucket, prefix=prefix):
        with contextlib.suppress(Exception):
            await s3.abort_multipart_upload(bucket, upload.key, upload.upload_id)


def delete_prefix(endpoint: Any, bucket: str, prefix: str) -> None:
    s3_call(endpoint, lambda s3: _delete_prefix(s3, bucket, prefix))


def put_download_source(endpoint: Any, bucket: str, key: str, size: int) -> None:
    """Store the object every client downloads."""
    from bench.common import MATCHED
    from bench.verify import expected
    from rawS3 import MultipartUploader

    async def work(s3: Any) -> None:
        async with MultipartUploader(s3, bucket, key, part_size=MATCHED.part_size) as up:
            await up.write(expected("download", size))
        await s3.put_object(bucket, key.rsplit("/", 1)[0] + "/warm-up", b"w")

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


def williams(n: int) -> list[list[int]]:
    """Rows of a Williams design for ``n`` treatments: each is in each position equally often
    over all rows, and follows every other one equally often (``n`` rows; ``2n`` if odd)."""
    if n <= 1:
        return [[0] * n]
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    rows = [[(x + shift) % n for x in first] for shift in range(n)]
    return rows if n % 2 == 0 else rows + [row[::-1] for row in rows]


def order_for(clients: Sequence[str], repetition: int) -> list[str]:
    """The clients in the order of row ``repetition`` of a Williams square."""
    rows = williams(len(clients))
    return [clients[i] for i in rows[repetition % len(rows)]]


@dataclasses.dataclass
class Profile:
    """One network and scheme: where the workers connect, and what they run."""

    name: str
    network: str
    scheme: str
    endpoint: Any
    """What workers connect to (the relay, on the WAN profile)."""
    direct: Any
    """The server itself, for the harness's checks."""
    workloads: list[str]
    relay_pids: list[int] = dataclasses.field(default_factory=list)
    env: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Plan:
    clients: list[str]
    workloads: list[str]
    repetitions: int
    timeout: float
    smoke: bool
    jobs: int = 1


@dataclasses.dataclass
class Run:
    """One (workload, client, repetition) of a profile."""

    workload: str
    client: str
    rep: int
    position: int


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


def worker_spec(m: Any, srv: Server, prof: Profile, bucket: str, source_url: str, run: Run,
                scratch: Path) -> dict[str, Any]:
    sizes, transfer = m.sizes, m.transfer
    key = f"{prof.name}/{run.workload}/{run.client}/{uuid.uuid4().hex[:8]}"
    kind = run.workload.split("-")[0]
    spec: dict[str, Any] = {
        "client": run.client, "workload": kind, "bucket": bucket, "key": key,
        "server_pids": srv.pids, "relay_pids": prof.relay_pids,
        "transfer": None if run.workload.endswith("-defaults") else dataclasses.asdict(transfer),
    }
    if kind == "large":
        spec["size"] = sizes.large
    elif kind == "file":
        spec["size"], spec["path"] = sizes.large, str(scratch / "file-source")
    elif kind == "stream":
        spec["size"] = sizes.stream_odd if run.workload == "stream-odd" else sizes.stream
        spec["url"] = f"{source_url}/stream/{spec['size']}"
    elif kind == "download":
        spec["size"], spec["source"] = sizes.download, f"{prof.name}/download-source"
        spec["warm_up"] = f"{prof.name}/warm-up"
        spec["path"] = str(scratch / f"{uuid.uuid4().hex[:8]}.download")
    else:
        spec["size"], spec["count"] = sizes.small_size, sizes.small_count
    return spec


def check(prof: Profile, bucket: str, spec: dict[str, Any], m: Any) -> tuple[str, str]:
    """(the problem with what the run stored or wrote, if any; what was checked)."""
    kind = spec["workload"]
    if kind in ("large", "stream", "file"):
        problem, checked = upload_problem(prof.direct, bucket, spec["key"],
                                          "stream" if kind == "stream" else "large",
                                          spec["size"], m.transfer.part_size)
        return problem or "", checked
    if kind == "download":
        delete_prefix(prof.direct, bucket, spec["key"])
        return download_problem(Path(spec["path"]), spec["size"]) or "", "SHA-256 of the file"
    delete_prefix(prof.direct, bucket, spec["key"])
    return "", "every GET's bytes compared with the PUT's"


def run_group(m: Any, srv: Server, prof: Profile, bucket: str, source_url: str,
              runs: Sequence[Run], plan: Plan, scratch: Path) -> None:
    """Measure ``runs`` in one worker process (one run each, except with ``--smoke``), then
    check and record each."""
    from bench.common import endpoint_env

    specs = [worker_spec(m, srv, prof, bucket, source_url, run, scratch) for run in runs]
    env = {**os.environ, **endpoint_env(prof.endpoint), **prof.env}
    started = time.monotonic()
    if len(specs) == 1:
        result, error = run_worker(specs[0], env, plan.timeout)
        answers = [(result, error)]
    else:
        results, error = run_worker(specs, env, plan.timeout * len(specs))
        answers = [
            (None, error) if results is None
            else (None, r["error"]) if "error" in r else (r, "")
            for r in (results or [None] * len(specs))
        ]
    for run, spec, (result, error) in zip(runs, specs, answers, strict=True):
        problem, checked = check(prof, bucket, spec, m)
        if result is not None:
            result = {**result, "checked": checked}
        record(m, prof, run, result, error or problem, time.monotonic() - started)
    if not plan.smoke and any(not run.workload.startswith("download") for run in runs):
        # A download deletes nothing: the object it reads stays for the next client.
        srv.settle()


def record(m: Any, prof: Profile, run: Run, result: Any, error: str, elapsed: float) -> None:
    label = f"  {prof.name:14} {run.workload:17} {run.client:18}"
    known = KNOWN_FAILURES.get((run.client, run.workload))
    if error and known and known[0] in error:
        m.fail(run.workload, run.client, known[1], known=True)
        print(f"{label} known peer failure ({elapsed:.1f} s)", flush=True)
    elif error:
        m.fail(run.workload, run.client, error.splitlines()[0])
        print(f"{label} ERROR: {error}", file=sys.stderr, flush=True)
    else:
        m.add(run.workload, run.client, {**result, "repetition": run.rep,
                                         "position": run.position})
        print(f"{label} ok ({elapsed:.1f} s)", flush=True)


def balanced_repetitions(minimum: int, clients: int) -> int:
    """``minimum`` rounded up to a multiple of ``clients``: only over whole squares does every
    client run in every position equally often."""
    if clients <= 1:
        return minimum
    return -(-minimum // clients) * clients


def runs_of(prof: Profile, plan: Plan) -> list[Run]:
    """Every run of a profile, repetition by repetition, in Williams order per workload; each
    workload gets ``plan.repetitions`` rounded up to a multiple of its number of clients."""
    from bench.clients import skip_reason

    chosen, workloads = plan.clients, prof.workloads
    if plan.smoke and prof.network == "wan":
        chosen = [c for c in chosen if c in SMOKE_WAN[0]]
        workloads = [w for w in workloads if w in SMOKE_WAN[1]]
    lineups = {w: [c for c in chosen if not skip_reason(c, w, prof.scheme)] for w in workloads}
    reps = {w: plan.repetitions if plan.smoke else balanced_repetitions(plan.repetitions, len(c))
            for w, c in lineups.items()}
    runs = []
    for rep in range(max(reps.values(), default=0)):
        for workload in workloads:
            if rep < reps[workload]:
                for position, client in enumerate(order_for(lineups[workload], rep)):
                    runs.append(Run(workload, client, rep, position))
    return runs


def measure_profile(m: Any, srv: Server, prof: Profile, plan: Plan) -> None:
    bucket = f"raws3-bench-{uuid.uuid4().hex[:10]}"
    s3_call(prof.direct, lambda s3: s3.create_bucket(bucket))
    try:
        if any(w.startswith("download") for w in prof.workloads):
            put_download_source(prof.direct, bucket, f"{prof.name}/download-source",
                                m.sizes.download)
        with source() as source_url, tempfile.TemporaryDirectory() as scratch:
            if any(w.startswith("file") for w in prof.workloads):
                from bench.verify import expected

                # Written once, before any clock: every client uploads the same file.
                (Path(scratch) / "file-source").write_bytes(expected("large", m.sizes.large))
            runs = runs_of(prof, plan)
            go = functools.partial(run_group, m, srv, prof, bucket, source_url, plan=plan,
                                   scratch=Path(scratch))
            if not plan.smoke:
                shown_rep = -1
                for run in runs:
                    if run.rep != shown_rep:
                        shown_rep = run.rep
                        print(f"{prof.name}: repetition {run.rep + 1} (at least "
                              f"{plan.repetitions}, more where a workload has more clients)",
                              flush=True)
                    go([run])
            else:
                # One worker per client, all its runs in it: timings mean nothing here, and
                # starting a process per run was most of the stage's time.
                groups: dict[str, list[Run]] = {}
                for run in runs:
                    groups.setdefault(run.client, []).append(run)
                with ThreadPoolExecutor(plan.jobs) as pool:
                    list(pool.map(go, groups.values()))
    finally:
        drop_bucket(prof.direct, bucket)


@contextlib.contextmanager
def profile(srv: Server, network: str, scheme: str, plan: Plan) -> Iterator[Profile]:
    direct = srv.https_endpoint if scheme == "https" else srv.endpoint
    if direct is None:
        raise SystemExit(f"bench: no {scheme} endpoint")
    env = {}
    if scheme == "https" and srv.ca_file:
        # Every client trusts the throw-away certificate through the variables its TLS stack
        # reads (OpenSSL's default paths; botocore's bundle), with no option of its own set.
        env = {"SSL_CERT_FILE": srv.ca_file, "AWS_CA_BUNDLE": srv.ca_file}
    name = network if scheme == "http" else f"{network}-{scheme}"
    if network == "loopback":
        workloads = [w for w in WORKLOADS if w in plan.workloads]
        yield Profile(name, network, scheme, direct, direct, workloads, env=env)
        return
    workloads = [w for w in WAN_WORKLOADS if w in plan.workloads]
    with relay(direct) as (through, pid):
        yield Profile(name, network, scheme, through, direct, workloads, [pid], env)


# -- report ------------------------------------------------------------------------------------


def machine(srv: Server, plan: Plan, argv: Sequence[str]) -> dict[str, str]:
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
        "command": " ".join(["python -m bench", *argv]),
        "mode": "smoke (tiny sizes, timings meaningless)" if plan.smoke else "full",
    }


def dump_raw(results: Any) -> dict[str, Any]:
    """Everything measured, as JSON-ready data (see ``load_raw``), with the derived figures."""
    from bench.report import summary

    return {
        "machine": results.machine,
        "footprints": {c: dataclasses.asdict(f) for c, f in results.footprints.items()},
        "profiles": {
            m.name: {
                "network": m.network, "scheme": m.scheme, "clients": m.clients,
                "repetitions": m.repetitions, "sizes": dataclasses.asdict(m.sizes),
                "transfer": dataclasses.asdict(m.transfer), "settings": m.settings,
                "runs": m.runs, "errors": m.errors, "known": m.known,
            }
            for m in results.profiles
        },
        "summary": summary(results),
    }


def load_raw(raw: dict[str, Any]) -> Any:
    """The ``Results`` that ``dump_raw`` wrote."""
    from bench.common import Sizes, Transfer
    from bench.footprint import Footprint
    from bench.report import Measurements, Results

    profiles = []
    for name, p in raw["profiles"].items():
        m = Measurements(
            clients=p["clients"], sizes=Sizes(**p["sizes"]), transfer=Transfer(**p["transfer"]),
            repetitions=p["repetitions"], name=name, network=p["network"], scheme=p["scheme"],
        )
        m.runs, m.errors, m.known, m.settings = p["runs"], p["errors"], p["known"], p["settings"]
        profiles.append(m)
    footprints = {
        c: Footprint(**{**f, "closure": tuple(f["closure"])}) for c, f in raw["footprints"].items()
    }
    return Results(raw["machine"], profiles, footprints)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions per workload (default 5; 1 with --smoke), rounded up "
                        "per workload to a multiple of its number of clients so that every "
                        "client runs in every position equally often")
    parser.add_argument("--import-reps", type=int, default=None,
                        help="repetitions of the cold-start timings (default 9; 1 with --smoke)")
    parser.add_argument("--clients", default=None,
                        help="comma-separated subset of: rawS3, aiobotocore, aioboto3, "
                        "miniopy-async, boto3, aiohttp-s3-client, ceiling, ceiling-signed, "
                        "rawS3-unhashed, rawS3-md5")
    parser.add_argument("--workloads", default=None,
                        help=f"comma-separated subset of: {', '.join(WORKLOADS)}, footprint")
    parser.add_argument("--network", default=None,
                        help="comma-separated: loopback, wan (a relay adding "
                        "20 ms round trip and 10 MiB/s per connection); default loopback,wan")
    parser.add_argument("--scheme", default="http",
                        help="comma-separated: http, https (RGW's ssl endpoint); default http. "
                        "https runs on loopback only, unless --network wan alone")
    parser.add_argument("--jobs", type=int, default=None,
                        help="workers at once (default 1; 3 with --smoke, whose timings mean "
                        "nothing anyway)")
    parser.add_argument("--report-only", type=Path, default=None, metavar="JSON",
                        help="measure nothing: rewrite the report and chart from a "
                        "latest.json written by an earlier run")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default bench/results; a temporary one "
                        "with --smoke)")
    return parser.parse_args(argv)


def _choices(text: str | None, known: Sequence[str], default: Sequence[str]) -> list[str]:
    chosen = text.split(",") if text else list(default)
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise SystemExit(f"bench: unknown {unknown}; known: {list(known)}")
    return chosen


def measure(args: argparse.Namespace, argv: Sequence[str], plan: Plan,
            checkpoint: Callable[[Any], None]) -> Any:
    """Every profile asked for; ``checkpoint`` gets the results after cold start and after
    each profile, so that a run stopped early keeps what it finished."""
    from bench.clients import load
    from bench.common import FULL, MATCHED, SMOKE, WAN, WAN_SMOKE
    from bench.footprint import IMPORTS, footprints
    from bench.report import Measurements, Results

    networks = _choices(args.network, NETWORKS, NETWORKS)
    schemes = _choices(args.scheme, SCHEMES, ("http",))
    results = Results({}, [], {})
    with server("https" in schemes) as srv:
        if srv.ca_file:
            os.environ["SSL_CERT_FILE"] = srv.ca_file  # for the harness's own checks
        results.machine = machine(srv, plan, argv)
        if "footprint" in plan.workloads:
            print("cold start: import + client + first request; dependency closures", flush=True)
            import_reps = args.import_reps or (1 if plan.smoke else 9)
            results.footprints = footprints(
                [c for c in plan.clients if c in IMPORTS], import_reps, srv.endpoint
            )
            checkpoint(results)
        for scheme in schemes:
            for network in networks:
                if scheme == "https" and network == "wan" and len(networks) > 1:
                    continue  # https through the relay only when asked alone: --network wan
                with profile(srv, network, scheme, plan) as prof:
                    if network == "wan":
                        sizes = WAN_SMOKE if plan.smoke else WAN
                    else:
                        sizes = SMOKE if plan.smoke else FULL
                    m = Measurements(
                        clients=plan.clients, sizes=sizes, transfer=MATCHED,
                        repetitions=plan.repetitions, name=prof.name, network=network,
                        scheme=scheme,
                    )
                    m.settings = {
                        c: {"matched": load(c).Client.settings(MATCHED),
                            "defaults": load(c).Client.settings(None)}
                        for c in plan.clients
                    }
                    measure_profile(m, srv, prof, plan)
                    results.profiles.append(m)
                    checkpoint(results)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    # A plain kill would skip the cleanup below and leave the throw-away RGW running.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    if missing_modules():
        reexec_in_venv(argv)
    from bench import chart, report
    from bench.clients import MD5, MODULES

    default_clients = [c for c in MODULES if c != MD5 or "https" in args.scheme]
    clients = _choices(args.clients, list(MODULES), default_clients)
    every = [*WORKLOADS, "footprint"]
    chosen = _choices(args.workloads, every,
                      [w for w in every if not (args.smoke and w in SMOKE_SKIPS)])
    plan = Plan(
        clients=clients,
        workloads=chosen,
        repetitions=args.reps or (1 if args.smoke else 5),
        timeout=60 if args.smoke else 300,
        smoke=args.smoke,
        jobs=args.jobs or (3 if args.smoke else 1),
    )
    started = time.monotonic()
    out = args.out or (Path(tempfile.mkdtemp(prefix="raws3-bench-")) if args.smoke else RESULTS)
    out.mkdir(parents=True, exist_ok=True)

    def save(results: Any) -> None:
        results.machine["duration"] = f"{(time.monotonic() - started) / 60:.1f} min"
        (out / "latest.json").write_text(json.dumps(dump_raw(results), indent=1) + "\n")

    if args.report_only:
        results = load_raw(json.loads(args.report_only.read_text()))
        if args.out:
            # Rewrites the derived figures (the summary) beside the same raw runs.
            (out / "latest.json").write_text(json.dumps(dump_raw(results), indent=1) + "\n")
    else:
        results = measure(args, argv, plan, save)
        save(results)
    report.write_markdown(results, out / "latest.md")
    chart.draw(results, out / "chart.png")
    if args.smoke:
        print(report.markdown(results))
    failures = sum(len(v) for m in results.profiles for v in m.errors.values())
    took = time.monotonic() - started
    print(f"wrote {out / 'latest.md'}, {out / 'latest.json'} and {out / 'chart.png'} in "
          f"{took:.0f} s; {failures} failure(s)", flush=True)
    return 1 if failures else 0
