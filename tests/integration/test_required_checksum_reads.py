"""A read that must be verified fails, typed, where the server stores no checksum."""

from __future__ import annotations

import pytest

from rawS3 import IntegrityError, S3Client
from tests.conftest import TestServer

# Measured: moto stores and returns the value sent; RGW 16.2.15 and Swift 2.30 return none.
RETURNS_CHECKSUMS = {"moto"}


async def test_a_required_verification_reads_or_fails_typed(
    client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    await client.put_object(bucket, "k", b"checked bytes", checksum="crc32c")
    if s3_server.name in RETURNS_CHECKSUMS:
        read = await client.get_object(bucket, "k", checksum_mode=True, require_checksum=True)
        assert read == b"checked bytes"
        return
    with pytest.raises(IntegrityError, match="carries no checksum"):
        await client.get_object(bucket, "k", checksum_mode=True, require_checksum=True)
    # Not required: the same read goes on unverified, as documented.
    assert await client.get_object(bucket, "k", checksum_mode=True) == b"checked bytes"
