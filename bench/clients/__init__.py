"""One adapter per client measured, each written from that client's own documentation.

Every adapter module defines ``Client(endpoint)``, an async context manager with:

- ``upload_buffer(bucket, key, data, transfer)``: store ``data`` (bytes in memory); ``transfer``
  is the matched ``Transfer``, or ``None`` for the library's own defaults;
- ``upload_stream(bucket, key, url, transfer)``: store the body of ``url``, whose length is not
  known in advance, without holding it whole;
- ``upload_file(bucket, key, path, transfer)``: store the local file at ``path``;
- ``download(bucket, key, path, transfer)``: write the object into the file ``path``;
- ``put_small(bucket, key, data)`` and ``get_small(bucket, key) -> bytes``;
- ``settings(transfer)`` (a static or class method): what the row sets, printed in the report.

``Client(endpoint, matched=...)``: ``matched=False`` for the defaults rows, where a client keeps
every setting its library defaults to (botocore's checksums included).

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
    "ceiling-signed": "bench.clients.ceiling_signed",
    "rawS3-unhashed": "bench.clients.raws3_unhashed",
    "rawS3-md5": "bench.clients.raws3_md5",
}
"""Client name -> adapter module."""

PEERS = ("aiobotocore", "aioboto3", "miniopy-async", "boto3", "aiohttp-s3-client")
CEILING = "ceiling"
SIGNED_CEILING = "ceiling-signed"
UNHASHED = "rawS3-unhashed"
"""rawS3 with no payload hash: a reference row, like the ceiling, not a peer."""
MD5 = "rawS3-md5"
"""rawS3 with ``payload_signing="auto"`` (unsigned + Content-MD5 over https): differs from
the default over https only."""
CEILINGS = (CEILING, SIGNED_CEILING)

SKIPPED: dict[tuple[str, str], str] = {
    ("aioboto3", "small"): "same client object as aiobotocore (aioboto3 wraps it)",
    **{(c, "large-defaults"): "no defaults of its own" for c in CEILINGS},
    **{(c, "download-defaults"): "no defaults of its own" for c in CEILINGS},
    **{(c, w): "the file upload is measured for the libraries' own file calls" for c in (
        *CEILINGS, UNHASHED) for w in ("file-matched", "file-defaults")},
    **{(c, w): "the ceilings are measured for small requests, the large upload and the "
       "download" for c in CEILINGS for w in ("stream", "stream-odd")},
    (SIGNED_CEILING, "download-matched"): "a GET has no payload to sign: same as the ceiling",
    **{(UNHASHED, w): "a reference row for the matched large upload only" for w in (
        "large-defaults", "stream", "stream-odd", "small", "download-matched",
        "download-defaults")},
    **{(MD5, w): "a file upload is measured at rawS3's default signing" for w in (
        "file-matched", "file-defaults")},
    **{(MD5, w): "a GET has no payload to sign: same as rawS3" for w in (
        "download-matched", "download-defaults")},
}
"""(client, workload) pairs that are not run, with why."""


def skip_reason(client: str, workload: str, scheme: str) -> str | None:
    """Why ``client`` does not run ``workload`` over ``scheme`` (http or https), if it does not."""
    if scheme == "https" and client in CEILINGS:
        return "the raw-socket reference speaks plain http only"
    if scheme == "http" and client == MD5:
        return 'over http "auto" is the signed payload of the rawS3 row'
    return SKIPPED.get((client, workload))


def load(name: str) -> ModuleType:
    """Import the adapter module of client ``name``."""
    return importlib.import_module(MODULES[name])
