"""The CLI's version, condition, tag and encryption options, run as a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from rawS3 import S3Client
from tests.conftest import TestServer
from tests.integration.test_cli import ok, raws3
from tests.integration.test_versions import remove_every_version


async def test_versions_from_the_command_line(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    await client.put_bucket_versioning(bucket, "Enabled")
    try:
        old = await client.put_object(bucket, "doc", b"old")
        await client.put_object(bucket, "doc", b"new")
        url = f"s3://{bucket}/doc"
        assert (
            ok(await raws3(s3_server, "get", url, "-", "--version-id", str(old.version_id))).out
            == b"old"
        )
        head = ok(await raws3(s3_server, "head", url, "--version-id", str(old.version_id))).text
        assert f"version-id:    {old.version_id}" in head
        removed = ok(await raws3(s3_server, "rm", url))
        assert "delete delete marker" in removed.text + removed.err
        listing = ok(await raws3(s3_server, "ls", "--versions", f"s3://{bucket}/")).text
        lines = listing.splitlines()
        assert len(lines) == 3
        assert sum("DELETE" in line for line in lines) == 1
        assert any(str(old.version_id) in line for line in lines)
        ok(await raws3(s3_server, "rm", url, "--version-id", str(old.version_id)))
        remaining = [v.version_id async for v in client.list_object_versions(bucket)]
        assert old.version_id not in remaining
        assert len(remaining) == 2
    finally:
        await remove_every_version(client, bucket)


@pytest.mark.unsupported(
    "swift", reason="measured on Swift 2.30.1: a PUT with If-None-Match gets 501"
)
async def test_put_if_none_match_creates_only(
    s3_server: TestServer, client: S3Client, bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "f.txt"
    local.write_bytes(b"first")
    url = f"s3://{bucket}/once"
    ok(await raws3(s3_server, "put", str(local), url, "--if-none-match"))
    local.write_bytes(b"second")
    refused = await raws3(s3_server, "put", str(local), url, "--if-none-match")
    assert refused.code != 0
    assert "PreconditionFailed" in refused.err
    assert await client.get_object(bucket, "once") == b"first"


@pytest.mark.unsupported("swift", reason="measured on Swift 2.30.1: tagging gets 501")
async def test_head_shows_tags_and_encryption(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    await client.put_object(bucket, "k", b"x", tagging={"team": "storage", "a=b": "c d"})
    head = ok(await raws3(s3_server, "head", f"s3://{bucket}/k")).text
    assert "tag-team:      storage" in head
    assert "tag-a=b:       c d" in head
    if s3_server.name == "moto":  # the only server here that reports SSE-S3 (see test_encryption)
        await client.put_object(bucket, "e", b"x", server_side_encryption="AES256")
        head = ok(await raws3(s3_server, "head", f"s3://{bucket}/e")).text
        assert "encryption:    AES256" in head
