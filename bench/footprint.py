"""Workload 5, cold start: import time in a fresh interpreter and the installed dependency closure.

Import time is the wall time of ``python -c "import X"`` minus that of ``python -c "pass"``
(the interpreter's own start-up), the median of several runs in alternating order, after one
unmeasured run that writes the bytecode caches. ``X`` is what a user imports to make a client.
A second figure adds making the client and its first request (a ListBuckets to the
benchmark's server) inside ``asyncio.run`` where the client is asynchronous, and closing it: what
a short-lived script or function pays before its first answer, whatever each library defers
(botocore loads its service model and resolves the endpoint then; rawS3 imports aiohttp on
first use).

The closure is the client's distribution plus everything it requires, recursively, as
installed in this environment (extras not asked for are left out), sized from the files each
distribution's RECORD lists, bytecode caches excluded. rawS3 is installed from the checkout,
so its own size is that of its package directory.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench.common import MB, Endpoint, endpoint_from_env

PROJECT = "rawS3"
ROOT = Path(__file__).resolve().parent.parent

IMPORTS = {
    "rawS3": "from rawS3 import S3Client",
    "aiobotocore": "from aiobotocore.session import get_session",
    "aioboto3": "import aioboto3",
    "miniopy-async": "from miniopy_async import Minio",
    "boto3": "import boto3",
    "aiohttp-s3-client": "from aiohttp_s3_client import S3Client",
}
"""What a user writes to get at each client."""

FIRST_REQUEST = {
    "rawS3": (
        "import asyncio, os\n"
        "async def m():\n"
        "    async with S3Client(os.environ['BENCH_URL'], os.environ['BENCH_KEY'],"
        " os.environ['BENCH_SECRET']) as s:\n"
        "        await s.list_buckets()\n"
        "asyncio.run(m())"
    ),
    "aiobotocore": (
        "import asyncio, os\n"
        "async def m():\n"
        "    async with get_session().create_client('s3', endpoint_url=os.environ['BENCH_URL'],"
        " region_name='us-east-1', aws_access_key_id=os.environ['BENCH_KEY'],"
        " aws_secret_access_key=os.environ['BENCH_SECRET']) as c:\n"
        "        await c.list_buckets()\n"
        "asyncio.run(m())"
    ),
    "aioboto3": (
        "import asyncio, os\n"
        "async def m():\n"
        "    async with aioboto3.Session().client('s3', endpoint_url=os.environ['BENCH_URL'],"
        " region_name='us-east-1', aws_access_key_id=os.environ['BENCH_KEY'],"
        " aws_secret_access_key=os.environ['BENCH_SECRET']) as c:\n"
        "        await c.list_buckets()\n"
        "asyncio.run(m())"
    ),
    "miniopy-async": (
        "import asyncio, os\n"
        "async def m():\n"
        "    c = Minio(os.environ['BENCH_URL'].split('://')[1], access_key=os.environ['BENCH_KEY'],"
        " secret_key=os.environ['BENCH_SECRET'], secure=False)\n"
        "    await c.list_buckets()\n"
        "    await c.close_session()\n"
        "asyncio.run(m())"
    ),
    "boto3": (
        "import os\n"
        "boto3.client('s3', endpoint_url=os.environ['BENCH_URL'], region_name='us-east-1',"
        " aws_access_key_id=os.environ['BENCH_KEY'],"
        " aws_secret_access_key=os.environ['BENCH_SECRET']).list_buckets()"
    ),
    "aiohttp-s3-client": (
        "import asyncio, aiohttp, os\n"
        "async def m():\n"
        "    async with aiohttp.ClientSession() as s:\n"
        "        c = S3Client(session=s, url=os.environ['BENCH_URL'],"
        " access_key_id=os.environ['BENCH_KEY'], secret_access_key=os.environ['BENCH_SECRET'],"
        " region='us-east-1')\n"
        "        async with c.get('') as r:\n"
        "            r.raise_for_status()\n"
        "            await r.read()\n"
        "asyncio.run(m())"
    ),
}
"""Statements run after the import for the "import + client + first request" figure: make
the client, send one signed request (ListBuckets) to the benchmark's server, close."""

DISTRIBUTIONS = {
    "rawS3": "rawS3",
    "aiobotocore": "aiobotocore",
    "aioboto3": "aioboto3",
    "miniopy-async": "miniopy-async",
    "boto3": "boto3",
    "aiohttp-s3-client": "aiohttp-s3-client",
}


@dataclass(frozen=True, slots=True)
class Footprint:
    """One client's cold-start figures (seconds, bytes)."""

    import_seconds: list[float]
    client_seconds: list[float]
    closure_bytes: int
    closure: tuple[str, ...]


def _run_python(code: str, cwd: str, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True, env=env or _clean_env())
    return time.perf_counter() - started


def _clean_env(endpoint: Endpoint | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP"):
        env.pop(name, None)
    if endpoint is not None:
        env.update(BENCH_URL=endpoint.url, BENCH_KEY=endpoint.access_key,
                   BENCH_SECRET=endpoint.secret_key)
    return env


def import_times(
    clients: Sequence[str], repetitions: int, endpoint: Endpoint
) -> dict[str, tuple[list[float], list[float]]]:
    """Net import time and net import + client + first request time per client."""
    env = _clean_env(endpoint)
    with tempfile.TemporaryDirectory() as cwd:
        for client in clients:
            _run_python(f"{IMPORTS[client]}\n{FIRST_REQUEST[client]}", cwd, env)
        times: dict[str, tuple[list[float], list[float]]] = {c: ([], []) for c in clients}
        for rep in range(repetitions):
            order = list(clients) if rep % 2 == 0 else list(reversed(clients))
            bare = _run_python("pass", cwd)
            for client in order:
                times[client][0].append(_run_python(IMPORTS[client], cwd) - bare)
                code = f"{IMPORTS[client]}\n{FIRST_REQUEST[client]}"
                times[client][1].append(_run_python(code, cwd, env) - bare)
        return times


def _requirements(dist: metadata.Distribution) -> list[str]:
    environment = {**{k: str(v) for k, v in default_environment().items()}, "extra": ""}
    names = []
    for text in dist.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            names.append(requirement.name)
    return names


def closure(name: str) -> list[metadata.Distribution]:
    """``name``'s distribution and all it requires, recursively, as installed."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [name]
    while todo:
        key = canonicalize_name(todo.pop())
        if key in seen:
            continue
        try:
            dist = metadata.distribution(key)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = dist
        todo.extend(_requirements(dist))
    return list(seen.values())


def _counted(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix != ".pyc"


def installed_size(dist: metadata.Distribution) -> int:
    """Bytes on disk of the files ``dist`` installed, bytecode caches excluded."""
    if canonicalize_name(dist.metadata["Name"]) == canonicalize_name(PROJECT):
        package = ROOT / PROJECT
        return sum(p.stat().st_size for p in package.rglob("*") if p.is_file() and _counted(p))
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if _counted(path) and path.is_file():
            total += path.stat().st_size
    return total


def footprints(
    clients: Sequence[str], repetitions: int, endpoint: Endpoint
) -> dict[str, Footprint]:
    """Cold-start figures of every client in ``clients``, first requests sent to ``endpoint``."""
    times = import_times(clients, repetitions, endpoint)
    out = {}
    for client in clients:
        dists = closure(DISTRIBUTIONS[client])
        out[client] = Footprint(
            import_seconds=times[client][0],
            client_seconds=times[client][1],
            closure_bytes=sum(installed_size(d) for d in dists),
            closure=tuple(sorted(d.metadata["Name"] for d in dists)),
        )
    return out


if __name__ == "__main__":
    given = endpoint_from_env()
    if given is None:
        raise SystemExit("set AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY")
    for client, fp in footprints(list(IMPORTS), 3, given).items():
        print(
            f"{client:18} import {statistics.median(fp.import_seconds) * 1000:6.0f} ms  "
            f"+client {statistics.median(fp.client_seconds) * 1000:6.0f} ms  "
            f"{fp.closure_bytes / MB:6.1f} MB  {', '.join(fp.closure)}"
        )
