"""Extra headers and query parameters on any call, and the content headers an object keeps.

``headers=`` and ``query=`` are signed like the rest of a request: a server that verifies
signatures (all three here) would refuse a request whose extras were not.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from rawS3 import S3Client

EXPIRES = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
CONTENT = {
    "cache_control": "max-age=60",
    "content_disposition": 'attachment; filename="a b.txt"',
    "content_encoding": "identity",
    "content_language": "de-CH",
}


async def test_content_headers_are_stored_and_served(
    client: S3Client, bucket: str, boto: Any
) -> None:
    await client.put_object(bucket, "k", b"x", expires=EXPIRES, **CONTENT)
    head = await client.head_object(bucket, "k")
    assert head.cache_control == "max-age=60"
    assert head.content_disposition == 'attachment; filename="a b.txt"'
    assert head.content_language == "de-CH"
    assert head.expires == "Wed, 02 Jan 2030 03:04:05 GMT"
    witness = boto.head_object(Bucket=bucket, Key="k")
    assert witness["CacheControl"] == "max-age=60"

    await client.copy_object(bucket, "k", bucket, "copied")
    assert (await client.head_object(bucket, "copied")).cache_control == "max-age=60"
    await client.copy_object(bucket, "k", bucket, "replaced", cache_control="no-store")
    replaced = await client.head_object(bucket, "replaced")
    assert replaced.cache_control == "no-store"
    assert replaced.content_language is None  # REPLACE drops what was not given again


async def test_copy_with_an_explicit_metadata_directive(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "src", b"x", metadata={"origin": "one"})
    await client.copy_object(bucket, "src", bucket, "copy", metadata_directive="COPY")
    assert (await client.head_object(bucket, "copy")).metadata == {"origin": "one"}
    await client.copy_object(bucket, "src", bucket, "bare", metadata_directive="REPLACE")
    assert (await client.head_object(bucket, "bare")).metadata == {}


async def test_extra_headers_and_query_are_signed_and_sent(client: S3Client, bucket: str) -> None:
    # A header the call does not name: stored metadata proves it reached the server signed.
    await client.put_object(bucket, "k", b"body", headers={"x-amz-meta-extra": "yes"})
    head = await client.head_object(bucket, "k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert head.metadata == {"extra": "yes"}
    # A query parameter the call does not name: GetObject's response override.
    async with client.open_object(
        bucket, "k", query={"response-content-type": "text/x-raws3"}
    ) as stream:
        assert stream.head.content_type == "text/x-raws3"
        assert await stream.read() == b"body"
    keys = [o.key async for o in client.list_objects(bucket, query={"fetch-owner": "true"})]
    assert keys == ["k"]
    await client.head_bucket(bucket, headers={"x-amz-expected-bucket-owner": ""})


@pytest.mark.parametrize("call", ["delete_object", "get_object"])
async def test_a_requester_pays_header_is_accepted(
    client: S3Client, bucket: str, call: str
) -> None:
    await client.put_object(bucket, "k", b"x")
    method = getattr(client, call)
    await method(bucket, "k", headers={"x-amz-request-payer": "requester"})
