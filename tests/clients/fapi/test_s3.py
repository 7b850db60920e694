"""Acceptance test: the three one-call uploads, read back by boto3."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from aiohttp.test_utils import TestServer as HTTPServer

from rawS3 import S3Client
from tests.conftest import TestServer
from tests.sources import MiB, SourceFiles, pattern


@pytest.fixture
def seed_client(s3_server: TestServer) -> S3Client:
    # Exactly the seed's construction: three keyword arguments, outside any `async with`.
    return S3Client(
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
    )


@pytest.fixture
async def source(aiohttp_server: Any) -> tuple[SourceFiles, HTTPServer]:
    files = SourceFiles()
    return files, await aiohttp_server(files.app())


def read_back(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]


async def test_upload_file(seed_client: S3Client, bucket: str, boto: Any) -> None:
    result = await seed_client.upload_file(bucket, "metaclass.txt", b"test")
    await seed_client.close()

    assert result is None
    assert read_back(boto, bucket, "metaclass.txt") == b"test"


async def test_fetch_and_upload(
    seed_client: S3Client, bucket: str, boto: Any, source: tuple[SourceFiles, HTTPServer]
) -> None:
    files, server = source
    body = pattern(3 * MiB + 5, seed=1)
    url = str(server.make_url(files.add("dog.gif", body)))

    result = await seed_client.fetch_and_upload(bucket, "dog.gif", url)
    await seed_client.close()

    assert result is None
    assert read_back(boto, bucket, "dog.gif") == body


async def test_stream_upload(
    seed_client: S3Client,
    bucket: str,
    boto: Any,
    source: tuple[SourceFiles, HTTPServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files, server = source
    body = pattern(12 * MiB + 321, seed=2)
    url = str(server.make_url(files.add("big.bin", body) + "?pieces=irregular"))
    sent: list[tuple[int, int]] = []
    upload_part = seed_client.upload_part

    async def recording_upload_part(*args: Any, **kwargs: Any) -> Any:
        part = await upload_part(*args, **kwargs)
        sent.append((part.part_number, part.size))
        return part

    monkeypatch.setattr(seed_client, "upload_part", recording_upload_part)

    result = await seed_client.stream_upload(bucket, "dog.gif", url)
    await seed_client.close()

    assert result is None
    assert read_back(boto, bucket, "dog.gif") == body
    # 8 MiB parts by default: 12 MiB + 321 bytes is two parts, every one but the last >= 5 MiB.
    assert sorted(sent) == [(1, 8 * MiB), (2, 4 * MiB + 321)]
    part_md5s = [hashlib.md5(body[: 8 * MiB]).digest(), hashlib.md5(body[8 * MiB :]).digest()]
    expected = hashlib.md5(b"".join(part_md5s)).hexdigest() + "-2"
    assert boto.head_object(Bucket=bucket, Key="dog.gif")["ETag"].strip('"') == expected
