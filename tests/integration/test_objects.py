"""Objects on a real server: keys S3 must carry unchanged, read back by rawS3 and by boto3.

boto3 is the independent witness: what rawS3 wrote must look the same to it, and what it wrote
must look the same to rawS3, so an encoding or signing mistake cannot cancel itself out.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from rawS3 import NoSuchKey, S3Client
from rawS3.errors import InvalidRange
from rawS3.xml import strip_etag
from tests.conftest import TestServer, make_client
from tests.sources import MiB, pattern

CONTENT_TYPE = "text/plain; charset=utf-8"
METADATA = {"origin": "raws3", "note": "two words, a comma & more"}

# (id, key): each key holds something a careless encoder or signer would get wrong.
KEYS = [
    ("plain", "plain.txt"),
    ("space", "with space.txt"),
    ("plus", "one+two.txt"),
    ("tilde", "tilde~name"),
    ("equals", "a=b"),
    ("ampersand", "a&b"),
    ("question", "what?now"),
    ("hash", "hash#tag"),
    ("percent", "100%25 sure%"),
    ("sub-delims", "bang!*'()"),
    ("cyrillic", "папка/файл.txt"),
    ("emoji", "emoji-😀.bin"),
    ("double-slash", "a//b"),
    ("deep", "a/b/c/d/e.txt"),
    ("dot-segments", "dots/./x/../y"),
    # 5 + 509 * 2 + 1 = 1024 UTF-8 bytes, though only 515 characters.
    ("1024-bytes", "long/" + "ж" * 509 + "x"),
]


def body_for(key: str) -> bytes:
    # Every byte value, then something unique to the key: a mix-up between keys shows.
    return bytes(range(256)) + key.encode("utf-8")


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def boto_keys(boto: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = boto.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


class Recorder:
    """Counts what a session actually sends, through aiohttp's tracing hooks."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []

    def trace_config(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()

        async def on_start(
            session: aiohttp.ClientSession,
            context: Any,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            self.sent.append((params.method, str(params.url)))
            self.headers.append(dict(params.headers))

        config.on_request_start.append(on_start)
        return config


@contextlib.asynccontextmanager
async def traced_client(
    server: TestServer, **options: object
) -> AsyncIterator[tuple[S3Client, Recorder]]:
    recorder = Recorder()
    session = aiohttp.ClientSession(trace_configs=[recorder.trace_config()], auto_decompress=False)
    async with session, make_client(server, session=session, **options) as client:
        yield client, recorder


@pytest.fixture
async def traced(s3_server: TestServer) -> AsyncIterator[tuple[S3Client, Recorder]]:
    async with traced_client(s3_server) as pair:
        yield pair


# -- round trips over awkward keys ---------------------------------------------------------


def test_the_long_key_is_exactly_at_the_limit() -> None:
    long_key = dict(KEYS)["1024-bytes"]
    assert len(long_key.encode("utf-8")) == 1024
    assert len(long_key) < 1024


@pytest.mark.parametrize("key", [k for _, k in KEYS], ids=[i for i, _ in KEYS])
async def test_raws3_writes_and_both_clients_read_back(
    client: S3Client, boto: Any, bucket: str, key: str
) -> None:
    data = body_for(key)

    put = await client.put_object(bucket, key, data, content_type=CONTENT_TYPE, metadata=METADATA)

    assert put.etag == md5_etag(data)
    assert await client.get_object(bucket, key) == data
    head = await client.head_object(bucket, key)
    assert (head.size, head.etag, head.content_type) == (len(data), put.etag, CONTENT_TYPE)
    assert dict(head.metadata) == METADATA
    listed = [obj async for obj in client.list_objects(bucket, prefix=key)]
    assert [(obj.key, obj.size, obj.etag) for obj in listed] == [(key, len(data), put.etag)]

    theirs = boto.get_object(Bucket=bucket, Key=key)
    assert theirs["Body"].read() == data
    assert theirs["ContentType"] == CONTENT_TYPE
    assert theirs["Metadata"] == METADATA
    assert theirs["ETag"] == put.etag
    assert boto_keys(boto, bucket) == [key]


@pytest.mark.parametrize("key", [k for _, k in KEYS], ids=[i for i, _ in KEYS])
async def test_boto3_writes_and_raws3_reads_back(
    client: S3Client, boto: Any, bucket: str, key: str
) -> None:
    data = body_for(key)[::-1]
    boto.put_object(
        Bucket=bucket, Key=key, Body=data, ContentType="application/x-test", Metadata=METADATA
    )

    assert await client.get_object(bucket, key) == data
    head = await client.head_object(bucket, key)
    assert (head.size, head.etag, head.content_type) == (
        len(data),
        md5_etag(data),
        "application/x-test",
    )
    assert dict(head.metadata) == METADATA
    assert [obj.key async for obj in client.list_objects(bucket)] == [key]
    await client.delete_object(bucket, key)
    assert boto_keys(boto, bucket) == []


async def test_a_key_over_1024_bytes_is_refused_before_anything_is_sent(
    traced: tuple[S3Client, Recorder], bucket: str
) -> None:
    client, recorder = traced
    too_long = "long/" + "ж" * 509 + "xy"  # 1025 bytes
    assert len(too_long.encode("utf-8")) == 1025

    with pytest.raises(ValueError, match="1025 UTF-8 bytes"):
        await client.put_object(bucket, too_long, b"x")
    with pytest.raises(ValueError, match="1025 UTF-8 bytes"):
        await client.get_object(bucket, too_long)
    with pytest.raises(ValueError, match="1025 UTF-8 bytes"):
        await client.head_object(bucket, too_long)
    with pytest.raises(ValueError, match="1025 UTF-8 bytes"):
        await client.delete_object(bucket, too_long)
    with pytest.raises(ValueError, match="1025 UTF-8 bytes"):
        client.presign_get(bucket, too_long)

    assert recorder.sent == []


# -- reading: ranges, streaming, head ------------------------------------------------------


async def test_byte_ranges(client: S3Client, bucket: str) -> None:
    data = pattern(1000, seed=3)
    await client.put_object(bucket, "ranged", data)

    assert await client.get_object(bucket, "ranged", start=10, end=19) == data[10:20]
    assert await client.get_object(bucket, "ranged", start=0, end=0) == data[:1]
    assert await client.get_object(bucket, "ranged", start=990) == data[990:]
    # S3 cuts a range that runs past the end down to the object's size.
    assert await client.get_object(bucket, "ranged", start=995, end=5000) == data[995:]


async def test_a_range_past_the_end_is_invalid_range(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "short", b"0123456789")

    with pytest.raises(InvalidRange) as caught:
        await client.get_object(bucket, "short", start=10)

    assert caught.value.status == 416
    assert (caught.value.bucket, caught.value.key) == (bucket, "short")


async def test_a_ranged_stream_reports_its_range(client: S3Client, bucket: str) -> None:
    data = pattern(1000, seed=4)
    await client.put_object(bucket, "ranged", data)

    async with client.open_object(bucket, "ranged", start=100, end=199) as stream:
        assert stream.head.size == 100
        assert stream.head.content_range == "bytes 100-199/1000"
        assert await stream.read() == data[100:200]


async def test_open_object_streams_in_bounded_chunks(client: S3Client, bucket: str) -> None:
    data = pattern(2 * MiB + 3, seed=5)
    await client.put_object(bucket, "stream.bin", data, content_type="application/octet-stream")

    chunks: list[bytes] = []
    async with client.open_object(bucket, "stream.bin") as stream:
        assert stream.head.size == len(data)
        assert stream.head.etag == md5_etag(data)
        assert stream.head.content_type == "application/octet-stream"
        async for chunk in stream.iter_chunks(64 * 1024):
            assert 0 < len(chunk) <= 64 * 1024
            chunks.append(chunk)

    assert len(chunks) >= len(data) // (64 * 1024)
    assert b"".join(chunks) == data


async def test_head_object_agrees_with_boto3(client: S3Client, boto: Any, bucket: str) -> None:
    data = pattern(12345, seed=6)
    await client.put_object(
        bucket, "report.csv", data, content_type="text/csv", metadata={"rows": "12", "by": "me"}
    )

    head = await client.head_object(bucket, "report.csv")
    theirs = boto.head_object(Bucket=bucket, Key="report.csv")

    assert head.size == theirs["ContentLength"] == len(data)
    assert head.etag == theirs["ETag"] == md5_etag(data)
    assert head.content_type == theirs["ContentType"] == "text/csv"
    assert dict(head.metadata) == theirs["Metadata"] == {"rows": "12", "by": "me"}
    assert head.last_modified


async def test_metadata_names_come_back_lower_case(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "k", b"v", metadata={"Camel-Case": "Value Kept"})

    head = await client.head_object(bucket, "k")

    assert dict(head.metadata) == {"camel-case": "Value Kept"}


# -- copying and deleting ------------------------------------------------------------------


async def test_copy_keeps_the_metadata_by_default(client: S3Client, boto: Any, bucket: str) -> None:
    source_key, target_key = "src dir/ж+1 (copy me).txt", "copies/плюс+1 copy.txt"
    data = pattern(5000, seed=7)
    put = await client.put_object(
        bucket, source_key, data, content_type="text/markdown", metadata={"colour": "blue"}
    )

    result = await client.copy_object(bucket, source_key, bucket, target_key)

    # RGW writes the ETag of a copy without quotes, AWS and moto with them.
    assert strip_etag(result.etag) == strip_etag(put.etag)
    head = await client.head_object(bucket, target_key)
    assert (head.content_type, dict(head.metadata)) == ("text/markdown", {"colour": "blue"})
    assert boto.get_object(Bucket=bucket, Key=target_key)["Body"].read() == data


async def test_copy_with_new_metadata_replaces_it(client: S3Client, bucket: str) -> None:
    await client.put_object(
        bucket, "a", b"payload", content_type="text/plain", metadata={"old": "1", "keep": "no"}
    )

    await client.copy_object(
        bucket, "a", bucket, "b", metadata={"new": "2"}, content_type="application/json"
    )

    head = await client.head_object(bucket, "b")
    assert (head.content_type, dict(head.metadata)) == ("application/json", {"new": "2"})
    assert await client.get_object(bucket, "b") == b"payload"
    source = await client.head_object(bucket, "a")
    assert dict(source.metadata) == {"old": "1", "keep": "no"}


async def test_copy_onto_itself_with_new_metadata(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "self", b"same bytes", metadata={"v": "1"})

    await client.copy_object(bucket, "self", bucket, "self", metadata={"v": "2"})

    head = await client.head_object(bucket, "self")
    assert dict(head.metadata) == {"v": "2"}
    assert await client.get_object(bucket, "self") == b"same bytes"


async def test_copy_from_a_missing_key_is_no_such_key(client: S3Client, bucket: str) -> None:
    with pytest.raises(NoSuchKey) as caught:
        await client.copy_object(bucket, "nowhere", bucket, "target")

    assert caught.value.status == 404


async def test_delete_object(client: S3Client, boto: Any, bucket: str) -> None:
    await client.put_object(bucket, "doomed key+1", b"x")
    await client.put_object(bucket, "survivor", b"y")

    await client.delete_object(bucket, "doomed key+1")

    with pytest.raises(NoSuchKey):
        await client.head_object(bucket, "doomed key+1")
    assert boto_keys(boto, bucket) == ["survivor"]
    # S3 answers 204 for a key that is not there, so deleting twice is not an error.
    await client.delete_object(bucket, "doomed key+1")


async def test_delete_objects_with_awkward_keys(client: S3Client, boto: Any, bucket: str) -> None:
    keys = [key for _, key in KEYS]
    await asyncio.gather(*(client.put_object(bucket, key, b"1") for key in keys))
    await client.put_object(bucket, "kept", b"2")

    result = await client.delete_objects(bucket, keys)

    assert result.errors == ()
    assert boto_keys(boto, bucket) == ["kept"]


async def put_many(client: S3Client, bucket: str, keys: list[str], group: int = 50) -> None:
    for offset in range(0, len(keys), group):
        batch = keys[offset : offset + group]
        await asyncio.gather(*(client.put_object(bucket, key, b"") for key in batch))


async def test_delete_objects_sends_1000_keys_per_request(
    traced: tuple[S3Client, Recorder], boto: Any, bucket: str
) -> None:
    client, recorder = traced
    keys = [f"many/{n:04d}" for n in range(1001)]
    started = time.perf_counter()
    await put_many(client, bucket, keys)
    print(f"created {len(keys)} objects in {time.perf_counter() - started:.2f}s")
    recorder.sent.clear()

    started = time.perf_counter()
    result = await client.delete_objects(bucket, keys)
    print(f"deleted them in {time.perf_counter() - started:.2f}s")

    assert result.errors == ()
    posts = [url for method, url in recorder.sent if method == "POST"]
    assert len(posts) == 2
    assert all(url.endswith("?delete=") for url in posts)
    assert boto_keys(boto, bucket) == []


async def test_delete_objects_of_missing_keys_succeeds(client: S3Client, bucket: str) -> None:
    result = await client.delete_objects(bucket, ["never", "was"])

    assert result.errors == ()


# -- how the payload is signed ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["signed", "unsigned"])
async def test_payload_signing_modes_round_trip(
    s3_server: TestServer, boto: Any, bucket: str, mode: str
) -> None:
    data = pattern(300_000, seed=8)
    expected = hashlib.sha256(data).hexdigest() if mode == "signed" else "UNSIGNED-PAYLOAD"

    async with traced_client(s3_server, payload_signing=mode) as (client, recorder):
        await client.put_object(bucket, f"{mode} body", data, metadata={"mode": mode})
        assert await client.get_object(bucket, f"{mode} body") == data

    assert recorder.headers[0]["x-amz-content-sha256"] == expected

    theirs = boto.get_object(Bucket=bucket, Key=f"{mode} body")
    assert theirs["Body"].read() == data
    assert theirs["Metadata"] == {"mode": mode}


async def test_put_with_content_md5(s3_server: TestServer, boto: Any, bucket: str) -> None:
    data = pattern(70_000, seed=9)

    async with traced_client(s3_server) as (client, recorder):
        put = await client.put_object(bucket, "checked", data, content_md5=True)

    assert (
        recorder.headers[0]["Content-MD5"]
        == base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    )

    assert put.etag == md5_etag(data)
    assert boto.get_object(Bucket=bucket, Key="checked")["Body"].read() == data


async def test_empty_object(client: S3Client, boto: Any, bucket: str) -> None:
    put = await client.put_object(bucket, "empty", b"")

    assert put.etag == md5_etag(b"")
    assert await client.get_object(bucket, "empty") == b""
    assert (await client.head_object(bucket, "empty")).size == 0
    assert boto.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""
