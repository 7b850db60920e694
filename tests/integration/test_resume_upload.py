"""Resuming multipart uploads by id: after the uploading process is killed, and for streams.

The parts a resumed upload sends are counted at a ``FaultProxy``: a part the server already
holds with the right bytes must not be sent again, every other part must be, and the object
must be read back byte-exact with no upload left behind.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rawS3 import NoSuchKey, NoSuchUpload, S3Client, UploadInterrupted
from rawS3.errors import InternalError
from tests.cli_here import raws3_here
from tests.conftest import TestServer
from tests.faults import INTERNAL_ERROR, FaultProxy, Rule, delay, expected_etag, proxied, settle
from tests.sources import MiB, pattern

PART = 5 * MiB
ROOT = Path(__file__).resolve().parents[2]

# The process that gets killed. It uploads through the test's proxy, which holds back the
# answer to part 2 (stored meanwhile), so that the test kills it before part 3 is ever sent.
# It imports rawS3 alone: a process costs its interpreter's start, and little more.
UPLOADER = """
import asyncio, sys
from rawS3 import S3Client

async def main() -> None:
    endpoint, bucket, key, path = sys.argv[1:]
    async with S3Client(endpoint) as s3:
        await s3.upload_path(bucket, key, path, part_size=5 * 1024 * 1024, concurrency=1,
                             keep_on_failure=True)

asyncio.run(main())
"""


def sent_parts(proxy: FaultProxy) -> list[int]:
    return sorted(int(r.query["partNumber"]) for r, _ in proxy.seen if r.operation == "UploadPart")


async def wait_for_parts(client: S3Client, bucket: str, key: str, count: int) -> str:
    """The id of the upload of ``key`` once the server holds ``count`` parts of it (≤ 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        uploads = [u for u in await client.list_multipart_uploads(bucket) if u.key == key]
        if uploads:
            parts = await client.list_parts(bucket, key, uploads[0].upload_id)
            if len(parts) >= count:
                return uploads[0].upload_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"the uploader did not store {count} parts in 30 s")


async def test_an_upload_killed_mid_way_is_resumed_by_id_in_a_new_process(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = pattern(2 * PART + 4321, seed=5)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_REGION": s3_server.region,
    }
    held = [Rule(delay(30), operation="UploadPart", query={"partNumber": "2"})]
    async with FaultProxy(s3_server.endpoint, held) as killed:
        uploader = await asyncio.create_subprocess_exec(
            sys.executable, "-c", UPLOADER, killed.endpoint, bucket, "big", str(path), env=env
        )
        try:
            upload_id = await wait_for_parts(client, bucket, "big", 2)
        finally:
            uploader.send_signal(signal.SIGKILL)
            await uploader.wait()
    assert uploader.returncode == -signal.SIGKILL
    stored = [p.part_number for p in await client.list_parts(bucket, "big", upload_id)]
    assert stored == [1, 2]

    async with proxied(s3_server, []) as (proxy, through):
        result = await through.upload_path(bucket, "big", path, part_size=PART, resume=upload_id)
    assert sent_parts(proxy) == [3]
    assert proxy.count("CreateMultipartUpload") == 0
    assert result.parts == 3
    assert result.etag.strip('"') == expected_etag(data, PART)
    await settle(client, bucket, "big", proxy, data)


async def test_a_resumed_file_is_cut_as_its_stored_parts_were(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    # Begun with 6 MiB parts, where upload_path's default for this size is 5 MiB: resumed
    # without a part size, the stored part must still be recognised and not sent again.
    size = 6 * MiB
    data = pattern(2 * size + 4321, seed=9)
    path = tmp_path / "cut.bin"
    path.write_bytes(data)
    upload_id = await client.create_multipart_upload(bucket, "cut")
    await client.upload_part(bucket, "cut", upload_id, 1, data[:size])
    async with proxied(s3_server, []) as (proxy, through):
        result = await through.upload_path(bucket, "cut", path, resume=upload_id)
    assert sent_parts(proxy) == [2, 3]
    assert result.etag.strip('"') == expected_etag(data, size)
    await settle(client, bucket, "cut", proxy, data)


async def test_a_stream_upload_kept_on_failure_is_resumed_by_writing_it_again(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    data = pattern(2 * PART + 17, seed=6)
    rules = [Rule(INTERNAL_ERROR, operation="UploadPart", query={"partNumber": "2"})]
    async with proxied(s3_server, rules) as (proxy, through):
        with pytest.raises(UploadInterrupted) as caught:
            async with through.multipart_uploader(
                bucket, "stream", part_size=PART, concurrency=1, keep_on_failure=True
            ) as upload:
                await upload.write(data)
        assert proxy.count("AbortMultipartUpload") == 0
    upload_id = caught.value.upload_id
    assert upload.upload_id == upload_id
    stored = [p.part_number for p in await client.list_parts(bucket, "stream", upload_id)]
    assert stored[:1] == [1]
    assert 2 not in stored

    async with (
        proxied(s3_server, []) as (proxy, through),
        through.multipart_uploader(bucket, "stream", part_size=PART, resume=upload_id) as again,
    ):
        for offset in range(0, len(data), MiB):  # other pieces than the first time
            await again.write(data[offset : offset + MiB])
    assert sent_parts(proxy) == sorted({1, 2, 3} - set(stored))
    assert again.result is not None
    assert again.result.etag.strip('"') == expected_etag(data, PART)
    await settle(client, bucket, "stream", proxy, data)


async def test_a_resumed_stream_sends_again_a_stored_part_of_other_bytes(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    data = pattern(2 * PART + 5, seed=7)
    upload_id = await client.create_multipart_upload(bucket, "other")
    await client.upload_part(bucket, "other", upload_id, 1, data[:PART])
    await client.upload_part(bucket, "other", upload_id, 2, pattern(PART, seed=8))
    async with (
        proxied(s3_server, []) as (proxy, through),
        through.multipart_uploader(bucket, "other", part_size=PART, resume=upload_id) as upload,
    ):
        await upload.write(data)
    assert sent_parts(proxy) == [2, 3]
    await settle(client, bucket, "other", proxy, data)


async def test_a_failed_resume_aborts_by_default(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(pattern(2 * PART + 1, seed=3))
    upload_id = await client.create_multipart_upload(bucket, "gone")
    rules = [Rule(INTERNAL_ERROR, operation="UploadPart")]
    async with proxied(s3_server, rules) as (proxy, through):
        with pytest.raises(InternalError):
            await through.upload_path(bucket, "gone", path, part_size=PART, resume=upload_id)
        assert proxy.count("AbortMultipartUpload") == 1
    await settle(client, bucket, "gone", proxy, None, recovered=False)


async def run_cli(
    endpoint: str,
    server: TestServer,
    *args: str,
    interrupt_when: Callable[[], bool] | None = None,
) -> tuple[int, str, str]:
    """Run ``raws3``; with ``interrupt_when``, press Ctrl-C (SIGINT) once it holds (≤ 30 s)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=server.access_key,
        AWS_SECRET_ACCESS_KEY=server.secret_key,
        AWS_REGION=server.region,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rawS3",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if interrupt_when is not None:
        deadline = time.monotonic() + 30
        while not interrupt_when() and process.returncode is None:
            assert time.monotonic() < deadline, "the condition to interrupt never held"
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    assert "Traceback" not in err.decode()
    return process.returncode, out.decode(), err.decode()


async def test_the_cli_keeps_an_interrupted_upload_and_resumes_it(
    s3_server: TestServer,
    client: S3Client,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = pattern(2 * PART + 3, seed=11)
    path = tmp_path / "cli.bin"
    path.write_bytes(data)
    target = f"s3://{bucket}/cli.bin"
    options = ("--part-size", "5MiB", "--concurrency", "1")
    # Part 2 reaches the server, its answer is held back, and Ctrl-C comes meanwhile.
    rules = [Rule(delay(10), operation="UploadPart", query={"partNumber": "2"})]
    async with FaultProxy(s3_server.endpoint, rules) as proxy:
        code, _, err = await run_cli(
            proxy.endpoint,
            s3_server,
            "put",
            str(path),
            target,
            *options,
            "--keep-on-failure",
            interrupt_when=lambda: proxy.faults_on("UploadPart") > 0,
        )
    assert code == 130, err
    found = re.search(r"resume it with: --resume (\S+)", err)
    assert found is not None, err
    upload_id = found.group(1)
    assert [u.upload_id for u in await client.list_multipart_uploads(bucket)] == [upload_id]
    stored = [p.part_number for p in await client.list_parts(bucket, "cli.bin", upload_id)]
    assert stored[0] == 1
    assert 3 not in stored

    # Ctrl-C needed a process of its own; the resume does not (one interpreter start less).
    async with FaultProxy(s3_server.endpoint) as proxy:
        code, out, err = await raws3_here(
            monkeypatch, proxy.endpoint, s3_server, "put", str(path), target, *options,
            "--resume", upload_id,
        )
    assert code == 0, err
    assert f"{len(stored)} part" in out
    assert sent_parts(proxy) == sorted({1, 2, 3} - set(stored))
    assert await client.get_object(bucket, "cli.bin") == data
    assert await client.list_multipart_uploads(bucket) == []


async def test_resuming_an_upload_that_is_gone_fails_and_creates_nothing(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path = tmp_path / "g.bin"
    path.write_bytes(pattern(PART + 1, seed=4))
    upload_id = await client.create_multipart_upload(bucket, "was-here")
    await client.abort_multipart_upload(bucket, "was-here", upload_id)
    async with proxied(s3_server, []) as (proxy, through):
        # AWS and moto say NoSuchUpload; RGW says NoSuchKey for ListParts of an unknown id.
        with pytest.raises((NoSuchUpload, NoSuchKey)):
            await through.upload_path(bucket, "was-here", path, part_size=PART, resume=upload_id)
        assert proxy.count("CreateMultipartUpload") == 0
        assert proxy.count("UploadPart") == 0
    await settle(client, bucket, "was-here", proxy, None, recovered=False)
