"""One adapter per client measured, each written from that client's own documentation.

Every adapter module defines ``Client(endpoint)``, an async context manager with:

- ``upload_buffer(bucket, key, data, transfer)``: store ``data`` (bytes in memory); ``transfer``
  is the matched ``Transfer``, or ``None`` for the library's own defaults;
- ``upload_stream(bucket, key, url, transfer)``: store the body of ``url``, whose length is not
  known in advance, without holding it whole;
- ``put_small(bucket, key, data)`` and ``get_small(bucket, key) -> bytes``.

A client whose calls block (boto3) sets ``blocking = True``: its methods are plain functions
and the harness runs its small requests on a thread pool instead of as tasks. A workload a
client does not offer is listed in ``SKIPPED`` with the reason, and is not run.

Modules are imported lazily, so a worker process loads only the client it measures.
"""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES = {
    "rawS3": "bench.clients.raws3",
    "aiobotocore": "bench.clients.aiobotocore_client",
    "aioboto3": "bench.clients.aioboto3_client",
    "miniopy-async": "bench.clients.minio_client",
    "boto3": "bench.clients.boto3_client",
    "aiohttp-s3-client": "bench.clients.aiohttp_s3",
    "ceiling": "bench.clients.ceiling",
    "rawS3-unhashed": "bench.clients.raws3_unhashed",
}
"""Client name -> adapter module."""

PEERS = ("aiobotocore", "aioboto3", "miniopy-async", "boto3", "aiohttp-s3-client")
CEILING = "ceiling"
UNHASHED = "rawS3-unhashed"
"""rawS3 with no payload hash: a reference row, like the ceiling, not a peer."""

SKIPPED: dict[tuple[str, str], str] = {
    ("aioboto3", "small"): "same client object as aiobotocore (aioboto3 wraps it)",
    ("ceiling", "large-defaults"): "the ceiling client has no defaults of its own",
    ("ceiling", "stream"): "the issue measures the ceiling for small PUTs and the large upload",
    (UNHASHED, "large-defaults"): "a reference row for the matched large upload only",
    (UNHASHED, "stream"): "a reference row for the matched large upload only",
    (UNHASHED, "small"): "a reference row for the matched large upload only",
}
"""(client, workload) pairs that are not run, with why."""


def load(name: str) -> ModuleType:
    """Import the adapter module of client ``name``."""
    return importlib.import_module(MODULES[name])
