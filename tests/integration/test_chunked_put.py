"""PutObject of an async iterable, sent as signed aws-chunked frames.

The body is declared ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``; each frame's signature chains to
the previous one, so a server that checks them refuses a body whose frames were altered. RGW
checks; moto does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import rawS3.bodies
from rawS3 import NoSuchKey, S3Client, S3Error, TransportError, sigv4
from tests.conftest import TestServer, make_client
from tests.sources import MiB, pattern

KiB = 1024
MOTO_NO_CHUNK_CHECK = (
    "moto 5.2.5 does not verify aws-chunked frames: a body whose second chunk signature "
    "was replaced, or whose second chunk was altered after signing, is stored as sent"
)
SWIFT_NO_CHUNKED = (
    "Swift 2.30's s3api answers every aws-chunked body 501 NotImplemented (\"Transfering "
    "payloads in multiple chunks using aws-chunked is not supported.\")"
)
NOT_ON_SWIFT = pytest.mark.unsupported("swift", reason=SWIFT_NO_CHUNKED)


async def pieces_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


@pytest.fixture
async def recorded(s3_server: TestServer) -> AsyncIterator[tuple[S3Client, list[dict[str, str]]]]:
    """A client whose request headers are kept, to show the body really went aws-chunked."""
    headers: list[dict[str, str]] = []

    async def on_start(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        headers.append({k.lower(): v for k, v in params.headers.items()})

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with (
        aiohttp.ClientSession(trace_configs=[trace], auto_decompress=False) as session,
        make_client(s3_server, session=session) as client,
    ):
        yield client, headers


async def assert_no_object(client: S3Client, bucket: str, key: str) -> None:
    with pytest.raises(NoSuchKey):
        await client.head_object(bucket, key)
    assert [o.key async for o in client.list_objects(bucket)] == []


@pytest.mark.parametrize(
    ("size", "piece"),
    [
        pytest.param(0, 1, id="0B"),
        pytest.param(1, 1, id="1B", marks=NOT_ON_SWIFT),
        pytest.param(64 * KiB, 1000, id="64KiB-in-1000B-pieces", marks=NOT_ON_SWIFT),
        pytest.param(10 * MiB, MiB + 3, id="10MiB", marks=NOT_ON_SWIFT),
    ],
)
async def test_chunked_put_round_trip(
    recorded: tuple[S3Client, list[dict[str, str]]], bucket: str, size: int, piece: int
) -> None:
    client, headers = recorded
    data = pattern(size, seed=size)
    result = await client.put_object(
        bucket, "c", pieces_of(data, piece), size=size, content_type="application/x-c"
    )
    put = headers[0]
    if size:
        assert put["x-amz-content-sha256"] == sigv4.STREAMING_PAYLOAD
        assert put["content-encoding"] == "aws-chunked"
        assert put["x-amz-decoded-content-length"] == str(size)
    else:
        # RGW 16 refuses an aws-chunked body without a data chunk, so nothing is streamed.
        assert "content-encoding" not in put
        assert put["content-length"] == "0"
    assert result.etag.strip('"') == hashlib.md5(data).hexdigest()
    head = await client.head_object(bucket, "c")
    assert (head.size, head.content_type) == (size, "application/x-c")
    # The stored body is the decoded one: no frame headers or signatures left in it.
    assert await client.get_object(bucket, "c") == data


@pytest.fixture
def corrupt_second_signature(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = sigv4.sign_chunk

    def sign_chunk(chunk: bytes, previous: str, **kwargs: Any) -> str:
        calls.append(len(chunk))
        good = real(chunk, previous, **kwargs)
        return "0" * 64 if len(calls) == 2 else good

    monkeypatch.setattr(sigv4, "sign_chunk", sign_chunk)
    return calls


@pytest.fixture
def corrupt_second_chunk(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = rawS3.bodies.chunk_frame

    def chunk_frame(chunk: bytes, signature: str) -> bytes:
        calls.append(len(chunk))
        if len(calls) == 2:
            chunk = bytes([chunk[0] ^ 1]) + chunk[1:]  # signed, then one bit flipped
        return real(chunk, signature)

    monkeypatch.setattr(rawS3.bodies, "chunk_frame", chunk_frame)
    return calls


@pytest.mark.unsupported("moto", reason=MOTO_NO_CHUNK_CHECK)
@NOT_ON_SWIFT
async def test_wrong_chunk_signature_is_refused(
    client: S3Client, bucket: str, corrupt_second_signature: list[int]
) -> None:
    data = pattern(200 * KiB, seed=1)
    with pytest.raises((S3Error, TransportError)) as caught:
        await client.put_object(bucket, "bad-sig", pieces_of(data, 50 * KiB), size=len(data))
    # Only the second chunk's signature was wrong; the first and the rest were right.
    assert corrupt_second_signature[:2] == [64 * KiB, 64 * KiB]
    if isinstance(caught.value, S3Error):
        assert caught.value.status in (400, 403)
    await assert_no_object(client, bucket, "bad-sig")


@pytest.mark.unsupported("moto", reason=MOTO_NO_CHUNK_CHECK)
async def test_altered_chunk_is_refused(
    client: S3Client, bucket: str, corrupt_second_chunk: list[int]
) -> None:
    data = pattern(200 * KiB, seed=2)
    with pytest.raises((S3Error, TransportError)):
        await client.put_object(bucket, "bad-data", pieces_of(data, 50 * KiB), size=len(data))
    assert len(corrupt_second_chunk) >= 2
    await assert_no_object(client, bucket, "bad-data")


async def test_source_shorter_than_size(client: S3Client, bucket: str) -> None:
    with pytest.raises(ValueError, match=r"1,000 bytes.*size=5,000"):
        await client.put_object(bucket, "short", pieces_of(b"q" * 1000, 300), size=5000)
    await assert_no_object(client, bucket, "short")


async def test_source_longer_than_size(client: S3Client, bucket: str) -> None:
    data = pattern(200 * KiB, seed=3)
    with pytest.raises(ValueError, match="size=100,000"):
        await client.put_object(bucket, "long", pieces_of(data, 30 * KiB), size=100_000)
    await assert_no_object(client, bucket, "long")


async def test_nonempty_source_for_size_zero(client: S3Client, bucket: str) -> None:
    with pytest.raises(ValueError, match="size=0"):
        await client.put_object(bucket, "zero", pieces_of(b"x", 1), size=0)
    await assert_no_object(client, bucket, "zero")


async def test_iterable_needs_its_size(client: S3Client, bucket: str) -> None:
    with pytest.raises(ValueError, match="size"):
        await client.put_object(bucket, "nosize", pieces_of(b"abc", 1))
    await assert_no_object(client, bucket, "nosize")
