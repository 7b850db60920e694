"""``raws3 probe`` end to end against the server under test: the whole catalogue runs to the
end, and nothing is left behind (buckets and multipart uploads compared before and after),
also when the probe is cancelled at a random, seeded moment.

With ``RAWS3_PROBE_REPORTS=DIR`` the report is also written to ``DIR/<server>.json`` and
``DIR/<server>.md``: that is how ``docs/servers/`` is made (``RAWS3_PROBE_REPORTS=docs/servers
RAWS3_TEST_SERVER=rgw python -m pytest tests/integration/test_probe_server.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from pathlib import Path

import pytest

from rawS3 import S3Client
from rawS3.probe.checks import CATALOGUE
from rawS3.probe.report import to_json, to_markdown
from rawS3.probe.runner import run_probe
from tests.conftest import TestServer


async def what_exists(client: S3Client) -> tuple[set[str], set[str]]:
    """Every bucket, and every multipart upload in any bucket."""
    buckets = {bucket.name for bucket in await client.list_buckets()}
    uploads = set()
    for name in buckets:
        uploads |= {u.upload_id for u in await client.list_multipart_uploads(name)}
    return buckets, uploads


async def test_the_whole_catalogue_runs_and_leaves_nothing_behind(
    client: S3Client, s3_server: TestServer
) -> None:
    before = await what_exists(client)

    report = await run_probe(client, CATALOGUE)

    assert await what_exists(client) == before
    assert report.left_behind == ()
    assert [result.check.id for result in report.results] == [c.id for c in CATALOGUE]
    crashed = [(r.check.id, r.observation.detail) for r in report.results
               if r.observation.verdict == "error"]
    assert crashed == []
    assert report.seconds < 60  # a guard against hangs; measured 3-11 s on an idle machine
    destination = os.environ.get("RAWS3_PROBE_REPORTS")
    if destination:
        folder = Path(destination)
        document = to_json(report, name=s3_server.name)
        (folder / f"{s3_server.name}.json").write_text(
            json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (folder / f"{s3_server.name}.md").write_text(
            to_markdown(report, name=s3_server.name), encoding="utf-8"
        )


async def test_a_probe_cancelled_at_a_random_moment_leaves_nothing_behind(
    client: S3Client, s3_server: TestServer
) -> None:
    before = await what_exists(client)
    # Seeded, and a different moment on each server (the unit tests cancel at three more).
    delay = random.Random(f"probe-{s3_server.name}").uniform(0.05, 1.5)

    task = asyncio.ensure_future(run_probe(client, CATALOGUE))
    await asyncio.sleep(delay)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await what_exists(client) == before
