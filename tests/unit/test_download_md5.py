"""A download of up to ``MD5_CHECKED_MAX`` bytes is checked against the MD5 its ETag states,
however many ranges it came in; a mismatch leaves no file behind.

The in-process fake serves bytes whose MD5 differs from the ETag it states, as a corruption
at rest or on the way would.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rawS3 import IntegrityError, S3Client
from rawS3.transfer_sizing import MD5_CHECKED_MAX
from tests.fakes3 import BUCKET, FakeS3

KiB = 1024
# (size, part size): one range; several ranges of 64 KiB; the default spread (ranges of 1 MiB).
SHAPES = {
    "one-range": (100 * KiB, None),
    "ranges": (300 * KiB + 7, 64 * KiB),
    "default-ranges": (5 * 1024 * KiB + 3, None),
}


def store_corrupted(fake: FakeS3, key: str, data: bytes) -> None:
    """Store ``data`` with one byte flipped, under the ETag of ``data`` itself."""
    flipped = bytes([data[len(data) // 2] ^ 1])
    corrupted = data[: len(data) // 2] + flipped + data[len(data) // 2 + 1 :]
    with fake._lock:
        fake._store(key, corrupted, f'"{hashlib.md5(data).hexdigest()}"')


@pytest.mark.parametrize(("size", "part_size"), SHAPES.values(), ids=SHAPES.keys())
async def test_a_download_up_to_the_limit_has_its_md5_checked(
    fake: FakeS3, client: S3Client, tmp_path: Path, size: int, part_size: int | None
) -> None:
    data = os.urandom(size)
    fake.put_direct("obj", data)
    result = await client.download(BUCKET, "obj", tmp_path / "out", part_size=part_size)
    assert (tmp_path / "out").read_bytes() == data
    assert result.md5_checked
    assert result.requests > 1 or (part_size is None and size <= 1024 * KiB)


@pytest.mark.parametrize(("size", "part_size"), SHAPES.values(), ids=SHAPES.keys())
async def test_a_corrupted_download_up_to_the_limit_leaves_no_file(
    fake: FakeS3, client: S3Client, tmp_path: Path, size: int, part_size: int | None
) -> None:
    store_corrupted(fake, "obj", os.urandom(size))
    with pytest.raises(IntegrityError, match="MD5"):
        await client.download(BUCKET, "obj", tmp_path / "out", part_size=part_size)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(("size", "part_size"), SHAPES.values(), ids=SHAPES.keys())
async def test_a_corrupted_iter_download_up_to_the_limit_raises_at_its_end(
    fake: FakeS3, client: S3Client, size: int, part_size: int | None
) -> None:
    store_corrupted(fake, "obj", os.urandom(size))
    received: list[int] = []

    async def drain() -> None:
        async for piece in client.iter_download(BUCKET, "obj", part_size=part_size):
            received.append(len(piece))

    with pytest.raises(IntegrityError, match="MD5"):
        await drain()
    assert sum(received) == size  # every byte was handed over; the check comes with the last


async def test_a_download_over_the_limit_is_checked_by_size_and_pin_only(
    fake: FakeS3, client: S3Client, tmp_path: Path
) -> None:
    data = os.urandom(MD5_CHECKED_MAX + 1)
    fake.put_direct("obj", data)
    result = await client.download(BUCKET, "obj", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert not result.md5_checked


@pytest.mark.parametrize("encryption", ["aws:kms", "aws:kms:dsse"])
async def test_a_kms_object_whose_etag_is_not_its_md5_is_not_checked_against_it(
    fake: FakeS3, client: S3Client, tmp_path: Path, encryption: str
) -> None:
    data = os.urandom(2 * 1024 * KiB)
    with fake._lock:
        headers = {"x-amz-server-side-encryption": encryption}
        fake._store("obj", data, f'"{os.urandom(16).hex()}"', headers)
    result = await client.download(BUCKET, "obj", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert not result.md5_checked
    assert b"".join([piece async for piece in client.iter_download(BUCKET, "obj")]) == data
