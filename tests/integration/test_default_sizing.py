"""What a transfer does without options: ranges and parts spread over the connections.

Counted at a ``FaultProxy`` (no faults): a default download of 20 MiB is 16 ranged GETs (the
first answer, asked for 8 MiB before the size was known, serves the first 1.25 MiB range and
is dropped), ``iter_download`` at its 4 ranges makes 4; ``upload_path`` cuts a 20 MiB file
into four 5 MiB parts, all in flight at once; a file of at most 8 MiB is one PutObject.
Everything is read back byte-exact and nothing is left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from rawS3 import S3Client
from rawS3.file_upload import FileUpload
from rawS3.transfer import AUTO_START
from tests.conftest import TestServer
from tests.faults import TRUNCATE, FaultProxy, Rule, expected_etag, proxied, settle
from tests.sources import MiB, pattern

SIZE = 20 * MiB


def gets(proxy: FaultProxy) -> list[str]:
    return [r.headers.get("range", "") for r, _ in proxy.seen if r.operation == "GetObject"]


async def test_a_default_download_spreads_the_object_over_its_ranges(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = pattern(SIZE, seed=13)
    await client.put_object(bucket, "obj", data)
    target = tmp_path / "out.bin"
    async with proxied(s3_server, []) as (proxy, through):
        result = await through.download(bucket, "obj", target)
        ranges = gets(proxy)
    assert target.read_bytes() == data
    # 16 ranges of 1.25 MiB: the first asked for 8 MiB, before the size was known.
    assert (result.requests, len(ranges)) == (16, 16)
    assert ranges[0] == f"bytes=0-{8 * MiB - 1}"
    step = -(-SIZE // 16)
    assert sorted(ranges[1:]) == sorted(
        f"bytes={start}-{min(start + step, SIZE) - 1}" for start in range(step, SIZE, step)
    )
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


async def test_a_default_iter_download_spreads_over_its_four_ranges(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    data = pattern(SIZE, seed=14)
    await client.put_object(bucket, "obj", data)
    async with proxied(s3_server, []) as (proxy, through):
        got = b"".join([piece async for piece in through.iter_download(bucket, "obj")])
        ranges = gets(proxy)
    assert got == data
    assert len(ranges) == 4  # 5 MiB each: memory stays within 4 ranges of at most 8 MiB


async def test_a_small_default_download_is_one_get_with_its_md5_checked(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = pattern(MiB, seed=15)
    await client.put_object(bucket, "obj", data)
    async with proxied(s3_server, []) as (proxy, through):
        result = await through.download(bucket, "obj", tmp_path / "small.bin")
        ranges = gets(proxy)
    assert (tmp_path / "small.bin").read_bytes() == data
    assert (result.requests, len(ranges), result.md5_checked) == (1, 1, True)


async def test_a_default_file_upload_sends_every_part_at_once(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = pattern(SIZE, seed=16)
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    async with proxied(s3_server, []) as (proxy, through):
        upload = FileUpload(through, bucket, "file", path)
        result = await upload.run()
        sent = proxy.count("UploadPart")
    await settle(client, bucket, "file", proxy, data)
    # ceil(20 MiB / 16) is under S3's 5 MiB minimum: four 5 MiB parts, all in flight at once.
    assert (upload.part_size, result.parts, sent) == (5 * MiB, 4, 4)
    assert (upload.start, upload.maximum, upload.peak) == (16, 16, 4)
    assert result.etag.strip('"') == expected_etag(data, 5 * MiB)


async def test_a_default_file_upload_of_up_to_8_mib_is_one_put(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = pattern(8 * MiB, seed=17)
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    async with proxied(s3_server, []) as (proxy, through):
        result = await through.upload_path(bucket, "file", path)
        counts = (proxy.count("PutObject"), proxy.count("UploadPart"))
    await settle(client, bucket, "file", proxy, data)
    assert (result.parts, counts) == (0, (1, 0))


async def test_a_default_stream_upload_spreads_a_first_large_write(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    data = pattern(SIZE, seed=18)
    async with proxied(s3_server, []) as (proxy, through):
        # One write of 20 MiB: at least that long, so cut as a 20 MiB file is, all at once.
        async with through.multipart_uploader(bucket, "whole") as whole:
            await whole.write(data)
        # Pieces of 1 MiB: the size is unknown, so 8 MiB parts, 8 in flight at first.
        async with through.multipart_uploader(bucket, "pieces") as pieces:
            for start in range(0, SIZE, MiB):
                await pieces.write(data[start : start + MiB])
        sent = proxy.count("UploadPart")
        budgeted = through.multipart_uploader(bucket, "other", max_memory=8 * MiB)
        assert budgeted.limit == 1  # one 8 MiB part fits the budget
        await budgeted.abort()
    await settle(client, bucket, "whole", proxy, data)
    await settle(client, bucket, "pieces", proxy, data)
    assert whole.result is not None
    assert pieces.result is not None
    assert (whole.part_size, whole.result.parts, whole.limit) == (5 * MiB, 4, 16)
    assert (pieces.part_size, pieces.result.parts, pieces.limit) == (8 * MiB, 3, AUTO_START)
    assert sent == 7


async def test_a_first_answer_cut_inside_its_first_range_is_resumed_from_there(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    """1.5 MiB in ranges of 1 MiB: the first answer (asked for 8 MiB, holding 1.5 MiB) is cut
    inside the first range; that range is asked for again from the byte it reached."""
    size = 3 * MiB // 2
    data = pattern(size, seed=19)
    await client.put_object(bucket, "obj", data)
    first = [Rule(TRUNCATE, operation="GetObject", times=1)]
    async with proxied(s3_server, first) as (proxy, through):
        result = await through.download(bucket, "obj", tmp_path / "cut.bin")
        ranges = gets(proxy)
    assert (tmp_path / "cut.bin").read_bytes() == data
    assert ranges[0] == f"bytes=0-{8 * MiB - 1}"
    assert f"bytes={MiB}-{size - 1}" in ranges
    # The cut range asked for again from the byte the cut answer reached, up to its own end.
    again = [r for r in ranges[1:] if r.endswith(f"-{MiB - 1}")]
    assert len(again) == 1, ranges
    assert 0 < int(again[0].removeprefix("bytes=").split("-")[0]) < MiB
    assert result.requests == len(ranges) == 3
