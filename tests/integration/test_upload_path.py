"""``S3Client.upload_path``: a local file up, its parts read where they lie, nothing left behind.

Every upload is read back byte-exact with a client that bypasses any proxy, and every scenario
ends with no multipart upload left in the bucket. Files of 0 and 1 byte and of exactly one part
go up as one PutObject; longer ones in parts, counted at a ``FaultProxy``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from rawS3 import S3Client, SourceChanged, UploadInterrupted
from rawS3.errors import InternalError
from rawS3.file_upload import FileUpload
from tests.conftest import TestServer
from tests.faults import INTERNAL_ERROR, Request, Rule, delay, expected_etag, proxied, settle
from tests.sources import MiB, pattern

PART = 5 * MiB

SIZES = {
    "empty": 0,
    "one-byte": 1,
    "exactly-one-part": PART,
    "one-part-and-a-byte": PART + 1,
    "three-parts-odd-tail": 2 * PART + 12_345,
}


def write_file(directory: Path, size: int, seed: int = 0) -> tuple[Path, bytes]:
    data = pattern(size, seed=seed)
    path = directory / f"file-{size}-{seed}.bin"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
async def test_a_file_is_stored_byte_exact(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path, size: int
) -> None:
    path, data = write_file(tmp_path, size)
    async with proxied(s3_server, []) as (proxy, through):
        result = await through.upload_path(bucket, "file", path, part_size=PART, concurrency=2)
    await settle(client, bucket, "file", proxy, data)
    assert result.size == size
    if size <= PART:
        assert (result.parts, proxy.count("PutObject"), proxy.count("UploadPart")) == (0, 1, 0)
    else:
        parts = -(-size // PART)
        assert (result.parts, proxy.count("UploadPart")) == (parts, parts)
        assert result.etag.strip('"') == expected_etag(data, PART)
        head = await client.head_object(bucket, "file")
        assert head.etag.strip('"') == expected_etag(data, PART)


async def test_parts_in_flight_stay_within_the_memory_budget(
    client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path, data = write_file(tmp_path, 2 * PART + 1)
    upload = FileUpload(client, bucket, "budget", path, part_size=PART, max_memory=2 * PART + 1)
    result = await upload.run()
    assert upload.maximum == 2
    assert upload.peak == 2
    assert result.parts == 3
    assert upload.sent == 3
    assert await client.get_object(bucket, "budget") == data


async def test_a_failed_part_aborts_the_upload(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path, _ = write_file(tmp_path, 3 * PART)
    rules = [Rule(INTERNAL_ERROR, operation="UploadPart", query={"partNumber": "2"})]
    async with proxied(s3_server, rules) as (proxy, through):
        with pytest.raises(InternalError):
            await through.upload_path(bucket, "fails", path, part_size=PART, concurrency=1)
        assert proxy.count("AbortMultipartUpload") == 1
    await settle(client, bucket, "fails", proxy, None, recovered=False)


async def test_a_cancelled_upload_leaves_nothing(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path, _ = write_file(tmp_path, 3 * PART)
    rules = [Rule(delay(5), operation="UploadPart", query={"partNumber": "2"})]
    async with proxied(s3_server, rules) as (proxy, through):
        task = asyncio.ensure_future(
            through.upload_path(bucket, "cancelled", path, part_size=PART, concurrency=2)
        )
        for _ in range(200):  # until part 3 is held back at the proxy, at most 10 s
            if proxy.faults_on("UploadPart"):
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert proxy.count("AbortMultipartUpload") == 1
    await settle(client, bucket, "cancelled", proxy, None, recovered=False)


@pytest.mark.parametrize("change", ["shrinks", "grows", "is-rewritten-in-place"])
async def test_a_file_that_changes_is_refused_and_the_upload_aborted(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path, change: str
) -> None:
    path, _ = write_file(tmp_path, 2 * PART + 10)

    def change_the_file(request: Request) -> bool:
        # Runs at the proxy as part 1 arrives, before part 2 is read.
        if request.query.get("partNumber") == "1":
            if change == "shrinks":
                os.truncate(path, PART + 5)
            elif change == "is-rewritten-in-place":  # same size: the modification time tells
                with open(path, "r+b") as handle:
                    handle.write(b"other")
            else:
                with open(path, "ab") as handle:
                    handle.write(b"more")
        return False

    rules = [Rule(INTERNAL_ERROR, when=change_the_file)]
    async with proxied(s3_server, rules) as (proxy, through):
        with pytest.raises(SourceChanged) as caught:
            await through.upload_path(bucket, "moving", path, part_size=PART, concurrency=1)
        assert proxy.count("AbortMultipartUpload") == 1
    assert str(path) in str(caught.value)
    await settle(client, bucket, "moving", proxy, None, recovered=False)


async def test_keep_on_failure_keeps_the_upload_and_gives_its_id(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path, data = write_file(tmp_path, 2 * PART + 99)
    rules = [Rule(INTERNAL_ERROR, operation="UploadPart", query={"partNumber": "3"})]
    async with proxied(s3_server, rules) as (proxy, through):
        with pytest.raises(UploadInterrupted) as caught:
            await through.upload_path(
                bucket, "kept", path, part_size=PART, concurrency=1, keep_on_failure=True
            )
        assert proxy.count("AbortMultipartUpload") == 0
    kept = caught.value
    assert (kept.bucket, kept.key) == (bucket, "kept")
    uploads = await client.list_multipart_uploads(bucket)
    assert [(u.key, u.upload_id) for u in uploads] == [("kept", kept.upload_id)]
    stored = await client.list_parts(bucket, "kept", kept.upload_id)
    assert [p.part_number for p in stored] == [1, 2]

    async with proxied(s3_server, []) as (proxy, through):
        result = await through.upload_path(
            bucket, "kept", path, part_size=PART, resume=kept.upload_id
        )
    # Parts 1 and 2 were stored and match the file: only 3 is sent.
    assert [int(r.query["partNumber"]) for r, _ in proxy.seen if "partNumber" in r.query] == [3]
    assert proxy.count("ListParts") == 1
    assert proxy.count("CreateMultipartUpload") == 0
    assert result.parts == 3
    assert result.etag.strip('"') == expected_etag(data, PART)
    await settle(client, bucket, "kept", proxy, data)


async def test_a_stored_part_that_does_not_match_the_file_is_sent_again(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    path, data = write_file(tmp_path, 2 * PART + 1)
    upload_id = await client.create_multipart_upload(bucket, "mismatch")
    wrong = bytes(PART)  # the right size, the wrong bytes
    await client.upload_part(bucket, "mismatch", upload_id, 1, wrong)
    await client.upload_part(bucket, "mismatch", upload_id, 2, data[PART : 2 * PART])
    await client.upload_part(bucket, "mismatch", upload_id, 3, data[2 * PART :] + b"longer")
    async with proxied(s3_server, []) as (proxy, through):
        result = await through.upload_path(
            bucket, "mismatch", path, part_size=PART, resume=upload_id
        )
    sent = sorted(int(r.query["partNumber"]) for r, _ in proxy.seen if "partNumber" in r.query)
    # Part 1 has other bytes, part 3 another size: both are sent again; part 2 is kept.
    assert sent == [1, 3]
    assert result.etag.strip('"') == expected_etag(data, PART)
    await settle(client, bucket, "mismatch", proxy, data)
