"""On a real server: extra headers and query on uploads and downloads, a copy the server
refuses as over 5 GiB made in parts instead, and a copy in parts carrying its options.

No 5 GiB object is made: the fault proxy answers the first CopyObject with S3's refusal of a
source over 5 GiB, and the copy in parts that follows goes to the real server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rawS3 import PreconditionFailed, S3Client, SSECustomerKey
from rawS3.errors import S3Error
from tests.conftest import TestServer
from tests.faults import Fault, Rule, proxied
from tests.integration.test_encryption import (  # noqa: F401  # tls_client: a fixture
    RGW_NO_SSE_C_COPY,
    tls_client,
)
from tests.integration.test_versions import versioned  # noqa: F401  # a fixture
from tests.sources import MiB, SourceFiles, pattern

PART = 5 * MiB
DATA = pattern(PART + 1000, seed=12)  # two parts of an upload; one part of a copy
TOO_LARGE = Fault(
    "error",
    400,
    "InvalidRequest",
    message="The specified copy source is larger than the maximum allowable size for a copy "
    "source: 5368709120",
)
SWIFT_NO_TAGGING = "measured on Swift 2.30.1: tagging requests get 501 NotImplemented"


@pytest.fixture
async def source(aiohttp_server: Any) -> tuple[SourceFiles, str]:
    files = SourceFiles()
    server = await aiohttp_server(files.app())
    return files, str(server.make_url("/blob/"))


async def test_extra_headers_reach_the_object_on_every_upload(
    client: S3Client, bucket: str, tmp_path: Path, source: tuple[SourceFiles, str]
) -> None:
    files, base = source
    files.add("data", DATA)
    small = tmp_path / "small"
    small.write_bytes(b"small")
    large = tmp_path / "large"
    large.write_bytes(DATA)

    await client.upload_path(bucket, "path-small", small, headers={"x-amz-meta-via": "path"})
    await client.upload_path(
        bucket, "path-large", large, part_size=PART, headers={"x-amz-meta-via": "path-mp"}
    )
    async with client.multipart_uploader(
        bucket, "uploader", part_size=PART, headers={"x-amz-meta-via": "uploader"}
    ) as upload:
        await upload.write(DATA)
    await client.stream_upload(
        bucket, "streamed", base + "data", part_size=PART, headers={"x-amz-meta-via": "stream"}
    )
    await client.upload_file(bucket, "file", b"f", headers={"x-amz-meta-via": "file"})
    await client.fetch_and_upload(
        bucket, "fetched", base + "data", headers={"x-amz-meta-via": "url"}
    )

    expected = {
        "path-small": "path",
        "path-large": "path-mp",
        "uploader": "uploader",
        "streamed": "stream",
        "file": "file",
        "fetched": "url",
    }
    for key, via in expected.items():
        assert (await client.head_object(bucket, key)).metadata == {"via": via}, key
    assert await client.get_object(bucket, "streamed") == DATA
    assert await client.get_object(bucket, "fetched") == DATA


async def test_a_download_query_reaches_the_server_on_every_range(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(300 * 1024)
    await client.put_object(bucket, "obj", data)

    async with proxied(s3_server, []) as (proxy, through):
        result = await through.download(
            bucket, "obj", tmp_path / "out", part_size=128 * 1024, query={"probe": "1"}
        )
        pieces = [
            piece
            async for piece in through.iter_download(
                bucket, "obj", part_size=128 * 1024, query={"probe": "2"}
            )
        ]
    assert (tmp_path / "out").read_bytes() == b"".join(pieces) == data
    assert result.requests == 3
    assert proxy.count("GetObject", probe="1") == 3  # signed, so the server checked it too
    assert proxy.count("GetObject", probe="2") == 3


async def test_a_copy_refused_as_over_5_gib_is_made_in_parts(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    await client.put_object(bucket, "src", DATA, content_type="video/mp4", metadata={"a": "1"})
    rules = [Rule(TOO_LARGE, operation="CopyObject", times=1)]

    async with proxied(s3_server, rules) as (proxy, through):
        result = await through.copy_object(bucket, "src", bucket, "dst")
        assert proxy.count("CopyObject") == 1
        assert proxy.count("UploadPartCopy") == 1  # one default part of 64 MiB
        assert proxy.count("CompleteMultipartUpload") == 1

    assert await client.get_object(bucket, "dst") == DATA
    head = await client.head_object(bucket, "dst")
    assert head.etag == result.etag
    assert head.etag.strip('"').endswith("-1")  # made in parts, not by CopyObject
    assert (head.content_type, head.metadata) == ("video/mp4", {"a": "1"})  # COPY
    assert await client.list_multipart_uploads(bucket) == []


async def test_a_copy_in_parts_takes_conditions_and_extra_headers(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    await client.put_object(bucket, "src", DATA, metadata={"a": "1"})
    etag = (await client.head_object(bucket, "src")).etag

    async with proxied(s3_server, []) as (proxy, through):
        await through.copy_object(
            bucket, "src", bucket, "dst", multipart_threshold=0, copy_source_if_match=etag,
            if_none_match="*", headers={"x-amz-meta-extra": "e"}, query={"probe": "c"},
        )
        assert proxy.count("CreateMultipartUpload", probe="c") == 1
        assert proxy.count("UploadPartCopy", probe="c") == 0

    head = await client.head_object(bucket, "dst")
    assert head.metadata == {"a": "1", "extra": "e"}
    with pytest.raises(PreconditionFailed):
        await client.copy_object(
            bucket, "src", bucket, "other", multipart_threshold=0, copy_source_if_match='"0"'
        )
    assert await client.list_multipart_uploads(bucket) == []


@pytest.mark.unsupported("swift", reason=SWIFT_NO_TAGGING)
@pytest.mark.unsupported(
    "rgw",
    reason="measured on RGW 16.2.15: an object completed from a Create with x-amz-tagging "
    "reports x-amz-tagging-count 0 and GetObjectTagging answers 200 with an empty body",
)
async def test_a_copy_in_parts_copies_the_sources_tags(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "src", DATA, tagging={"t": "1"})

    await client.copy_object(bucket, "src", bucket, "dst", multipart_threshold=0)

    assert dict((await client.get_object_tagging(bucket, "dst")).tags) == {"t": "1"}


async def test_a_copy_in_parts_of_an_old_version(
    versioned: tuple[S3Client, str],  # noqa: F811
) -> None:
    client, bucket = versioned
    first = await client.put_object(bucket, "src", DATA)
    second = await client.put_object(bucket, "src", b"newer")
    assert first.version_id

    result = await client.copy_object(
        bucket, "src", bucket, "dst", multipart_threshold=0, source_version_id=first.version_id
    )
    current = await client.copy_object(bucket, "src", bucket, "now", multipart_threshold=0)

    assert await client.get_object(bucket, "dst") == DATA
    assert result.source_version_id == first.version_id
    assert current.source_version_id == second.version_id  # the version the HEAD read
    assert result.version_id is not None


async def test_a_copy_in_parts_encrypts_with_the_copys_sse_c_key(
    tls_client: S3Client, bucket: str, s3_server: TestServer  # noqa: F811
) -> None:
    key = SSECustomerKey(os.urandom(32))
    await tls_client.put_object(bucket, "src", DATA)

    await tls_client.copy_object(
        bucket, "src", bucket, "dst", multipart_threshold=0, sse_customer_key=key
    )

    assert await tls_client.get_object(bucket, "dst", sse_customer_key=key) == DATA
    if s3_server.name == "rgw":  # moto and Swift store SSE-C objects unencrypted (measured)
        with pytest.raises(S3Error):
            await tls_client.get_object(bucket, "dst")


@pytest.mark.unsupported("rgw", reason=RGW_NO_SSE_C_COPY)
async def test_a_copy_in_parts_reads_an_sse_c_source_with_its_key(
    tls_client: S3Client, bucket: str  # noqa: F811
) -> None:
    key, other = SSECustomerKey(os.urandom(32)), SSECustomerKey(os.urandom(32))
    await tls_client.put_object(bucket, "src", DATA, sse_customer_key=key)

    await tls_client.copy_object(
        bucket, "src", bucket, "dst", multipart_threshold=0,
        copy_source_sse_customer_key=key, sse_customer_key=other,
    )

    assert await tls_client.get_object(bucket, "dst", sse_customer_key=other) == DATA
    assert await tls_client.list_multipart_uploads(bucket) == []
