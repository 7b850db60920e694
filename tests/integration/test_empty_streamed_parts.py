"""An empty part given as a stream uploads everywhere (RGW 16 refuses an empty aws-chunked body)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rawS3 import S3Client
from tests.conftest import TestServer, make_client

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


async def nothing() -> AsyncIterator[bytes]:
    for piece in (b"",):
        yield piece


@pytest.mark.parametrize("checksum", [None, "crc32"])
@pytest.mark.parametrize("signing", ["signed", "unsigned"])
async def test_an_empty_streamed_part_uploads(
    s3_server: TestServer, bucket: str, signing: str, checksum: str | None
) -> None:
    client: S3Client
    async with make_client(s3_server, payload_signing=signing) as client:
        upload_id = await client.create_multipart_upload(bucket, "k", checksum=checksum)
        try:
            part = await client.upload_part(
                bucket, "k", upload_id, 1, nothing(), size=0, checksum=checksum
            )
        finally:
            await client.abort_multipart_upload(bucket, "k", upload_id)
        assert await client.list_multipart_uploads(bucket) == []
    assert (part.part_number, part.etag.strip('"'), part.size) == (1, EMPTY_MD5, 0)
