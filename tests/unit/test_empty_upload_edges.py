"""Integrity promises kept at the edges: empty uploads, empty streamed parts, garbled values,
reads that must be verified, streams that cannot be sent twice, and a streamed object's own
Content-Encoding.

No S3 server: stubs, or a local aiohttp app that records what arrives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

from rawS3 import (
    ChecksumVerifier,
    EntityTooSmall,
    IntegrityError,
    MultipartUploader,
    PutResult,
    RequestTimeTooSkewed,
    S3Client,
    UploadedPart,
)
from rawS3.bodies import with_body_headers
from rawS3.checksums import checksum_value

PART = 5 * 1024 * 1024


class RefusesOneEmptyPart:
    """A server that will not complete a multipart upload of one empty part; records the Put."""

    def __init__(self) -> None:
        self.put_options: list[dict[str, Any]] = []

    async def create_multipart_upload(self, *args: Any, **kwargs: Any) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kwargs: Any
    ) -> UploadedPart:
        return UploadedPart(number, '"d41d8cd98f00b204e9800998ecf8427e"', len(data))

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        raise EntityTooSmall(code="EntityTooSmall", message="", status=400)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        return None

    async def put_object(self, bucket: str, key: str, body: bytes, **kwargs: Any) -> PutResult:
        self.put_options.append(kwargs)
        algorithm = kwargs.get("checksum")
        checksum = (algorithm, checksum_value(algorithm, body)) if algorithm else None
        return PutResult('"d41d8cd98f00b204e9800998ecf8427e"', checksum=checksum)


async def test_an_empty_upload_put_instead_still_carries_the_checksum() -> None:
    client = RefusesOneEmptyPart()

    async with MultipartUploader(  # type: ignore[arg-type]
        client, "bucket", "key", part_size=PART, checksum="crc32c", checksum_type="FULL_OBJECT"
    ) as up:
        await up.write(b"")

    assert [options.get("checksum") for options in client.put_options] == ["crc32c"]
    assert up.result is not None
    assert up.result.checksum == ("crc32c", checksum_value("crc32c", b""))


async def empty() -> AsyncIterator[bytes]:
    for piece in (b"", b""):
        yield piece


@pytest.mark.parametrize("checksum", [None, "crc32c"])
@pytest.mark.parametrize("signing", ["signed", "unsigned"])
async def test_an_empty_streamed_part_is_sent_as_an_empty_body(
    aiohttp_server: Any, signing: str, checksum: str | None
) -> None:
    # RGW 16 refuses an aws-chunked body without a data chunk; put_object already avoids it.
    seen: list[tuple[dict[str, str], bytes]] = []

    async def part(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.Response(headers={"ETag": '"d41d8cd98f00b204e9800998ecf8427e"'})

    app = web.Application()
    app.router.add_put("/{bucket}/{key}", part)
    server = await aiohttp_server(app)
    async with S3Client(
        f"http://127.0.0.1:{server.port}", "AKIDREVIEW", "review-secret", payload_signing=signing
    ) as client:
        uploaded = await client.upload_part(
            "bucket", "key", "upload-1", 1, empty(), size=0, checksum=checksum
        )

    [(headers, body)] = seen
    assert body == b""
    assert "aws-chunked" not in headers.get("Content-Encoding", "")
    assert "x-amz-decoded-content-length" not in headers
    expected = None if checksum is None else (checksum, checksum_value(checksum, b""))
    assert uploaded == UploadedPart(1, '"d41d8cd98f00b204e9800998ecf8427e"', 0, expected)
    if checksum is not None:
        assert headers[f"x-amz-checksum-{checksum}"] == expected[1]  # type: ignore[index]


@pytest.mark.parametrize("stored", ["AAAAAé==", "\udce9\udce9==", "", "not base64 at all"])
def test_a_stored_checksum_the_server_garbled_is_an_integrity_error(stored: str) -> None:
    # aiohttp decodes header bytes as UTF-8 with surrogate escapes: any text can arrive.
    verifier = ChecksumVerifier("crc32", stored, what="b/k")
    verifier.update(b"the bytes")
    with pytest.raises(IntegrityError) as caught:
        verifier.finish()
    assert caught.value.expected == stored
    assert not verifier.verified


def object_app(headers: dict[str, str], body: bytes) -> web.Application:
    async def get(request: web.Request) -> web.Response:
        assert request.headers["x-amz-checksum-mode"] == "ENABLED"
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_get("/{bucket}/{key}", get)
    return app


@pytest.mark.parametrize(
    ("stored", "found"),
    [({}, "no checksum"), ({"x-amz-checksum-crc32": "AAAAAA==-2"}, "only the COMPOSITE")],
)
async def test_a_required_verification_fails_when_it_cannot_happen(
    aiohttp_server: Any, stored: dict[str, str], found: str
) -> None:
    server = await aiohttp_server(object_app(stored, b"the bytes"))
    async with S3Client(f"http://127.0.0.1:{server.port}", "AKIDREVIEW", "review-secret") as c:
        # Without require_checksum the read goes on unverified, as documented.
        assert await c.get_object("bucket", "key", checksum_mode=True) == b"the bytes"
        with pytest.raises(IntegrityError, match=found):
            await c.get_object("bucket", "key", checksum_mode=True, require_checksum=True)
        with pytest.raises(IntegrityError, match=found):
            async with c.open_object("bucket", "key", checksum_mode=True, require_checksum=True):
                raise AssertionError("a stream that cannot be verified was yielded")


async def test_a_required_verification_passes_with_a_matching_checksum(
    aiohttp_server: Any,
) -> None:
    stored = {"x-amz-checksum-crc32c": checksum_value("crc32c", b"the bytes")}
    server = await aiohttp_server(object_app(stored, b"the bytes"))
    async with S3Client(f"http://127.0.0.1:{server.port}", "AKIDREVIEW", "review-secret") as c:
        got = await c.get_object("bucket", "key", checksum_mode=True, require_checksum=True)
        assert got == b"the bytes"
        async with c.open_object(
            "bucket", "key", checksum_mode=True, require_checksum=True
        ) as stream:
            assert await stream.read() == b"the bytes"
            assert stream.verifier is not None
            assert stream.verifier.verified


async def test_a_skewed_clock_does_not_send_a_streamed_body_twice(aiohttp_server: Any) -> None:
    # The first attempt read (part of) the stream: a corrected retry cannot send it again.
    dates: list[str] = []

    async def skewed(request: web.Request) -> web.Response:
        dates.append(request.headers["x-amz-date"])
        later = datetime.now(timezone.utc) + timedelta(minutes=20)
        server_time = f"<ServerTime>{later:%Y-%m-%dT%H:%M:%SZ}</ServerTime>"
        body = f"<Error><Code>RequestTimeTooSkewed</Code><Message>m</Message>{server_time}</Error>"
        return web.Response(status=403, text=body, content_type="application/xml")

    async def stream() -> AsyncIterator[bytes]:
        yield b"x" * 100_000

    app = web.Application()
    app.router.add_put("/{bucket}/{key}", skewed)
    server = await aiohttp_server(app)
    async with S3Client(f"http://127.0.0.1:{server.port}", "AKIDREVIEW", "review-secret") as c:
        for checksum in (None, "crc32"):
            with pytest.raises(RequestTimeTooSkewed):
                await c.put_object("bucket", "key", stream(), size=100_000, checksum=checksum)
    assert len(dates) == 2  # one attempt each, no resend of a consumed stream
    # The clock was corrected all the same: the second call signed with the server's time.
    assert dates[1] > dates[0]


@pytest.mark.parametrize(
    ("own", "body", "expected"),
    [
        ({"Content-Encoding": "gzip"}, {"Content-Encoding": "aws-chunked"}, "aws-chunked,gzip"),
        (
            {"content-encoding": "gzip, br"},
            {"Content-Encoding": "aws-chunked"},
            "aws-chunked,gzip,br",
        ),
        (
            {"Content-Encoding": "aws-chunked,gzip"},
            {"Content-Encoding": "aws-chunked"},
            "aws-chunked,gzip",
        ),
        ({}, {"Content-Encoding": "aws-chunked"}, "aws-chunked"),
        ({"Content-Encoding": "gzip"}, {}, "gzip"),
    ],
)
def test_the_objects_encoding_follows_aws_chunked(
    own: dict[str, str], body: dict[str, str], expected: str
) -> None:
    merged = with_body_headers({"x-amz-meta-a": "1", **own}, body)
    encodings = [value for name, value in merged.items() if name.lower() == "content-encoding"]
    assert encodings == [expected]
    assert merged["x-amz-meta-a"] == "1"


@pytest.mark.parametrize("checksum", [None, "crc32"])
async def test_a_streamed_put_keeps_the_objects_content_encoding(
    aiohttp_server: Any, checksum: str | None
) -> None:
    seen: list[str] = []

    async def put(request: web.Request) -> web.Response:
        seen.extend(request.headers.getall("Content-Encoding", []))
        await request.read()
        return web.Response()

    async def stream() -> AsyncIterator[bytes]:
        yield b"z" * 70_000

    app = web.Application()
    app.router.add_put("/{bucket}/{key}", put)
    server = await aiohttp_server(app)
    async with S3Client(f"http://127.0.0.1:{server.port}", "AKIDREVIEW", "review-secret") as c:
        await c.put_object(
            "bucket",
            "key",
            stream(),
            size=70_000,
            checksum=checksum,
            headers={"Content-Encoding": "gzip"},
        )
    assert seen == ["aws-chunked,gzip"]
