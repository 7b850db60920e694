"""MultipartUploader aborts whatever way a part fails: the scheduling, without a server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rawS3 import EntityTooSmall, MultipartUploader, PutResult, TransportError, UploadedPart

PART = 5 * 1024 * 1024


class StubClient:
    """Records the calls an uploader makes; part 2 fails."""

    def __init__(self) -> None:
        self.aborted: list[str] = []
        self.completed = 0

    async def create_multipart_upload(self, *args: Any, **kwargs: Any) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kwargs: Any
    ) -> UploadedPart:
        await asyncio.sleep(0)
        if number == 2:
            raise TransportError("connection reset")
        return UploadedPart(number, '"' + "0" * 32 + '"', len(data))

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.aborted.append(upload_id)

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        self.completed += 1
        return PutResult('""')


async def write_then_wait(client: StubClient) -> None:
    async with MultipartUploader(client, "bucket", "key", part_size=PART) as up:  # type: ignore[arg-type]
        await up.write(b"a" * PART)
        await up.write(b"a" * PART)
        await asyncio.sleep(0.05)  # the caller waits on its source; part 2 fails meanwhile


async def keep_writing(client: StubClient) -> None:
    async with MultipartUploader(client, "bucket", "key", part_size=PART) as up:  # type: ignore[arg-type]
        for _ in range(4):
            await up.write(b"b" * PART)
            await asyncio.sleep(0.01)


async def test_a_part_failing_after_the_last_write_still_aborts() -> None:
    client = StubClient()

    with pytest.raises(TransportError, match="connection reset"):
        await write_then_wait(client)

    assert client.aborted == ["upload-1"]
    assert client.completed == 0


async def test_a_part_failing_during_writes_aborts_at_the_next_write() -> None:
    client = StubClient()

    with pytest.raises(TransportError):
        await keep_writing(client)

    assert client.aborted == ["upload-1"]
    assert client.completed == 0


class RefusesEmptyMultipart(StubClient):
    """A server that will not complete a multipart upload made of one empty part."""

    def __init__(self) -> None:
        super().__init__()
        self.puts: list[bytes] = []

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        raise EntityTooSmall(code="EntityTooSmall", message="", status=400)

    async def put_object(self, bucket: str, key: str, body: bytes, **kwargs: Any) -> PutResult:
        self.puts.append(body)
        return PutResult('"d41d8cd98f00b204e9800998ecf8427e"')


async def test_an_empty_upload_the_server_refuses_becomes_an_empty_put() -> None:
    client = RefusesEmptyMultipart()

    async with MultipartUploader(client, "bucket", "key", part_size=PART) as up:  # type: ignore[arg-type]
        await up.write(b"")

    assert client.aborted == ["upload-1"]
    assert client.puts == [b""]
    assert up.result is not None
    assert up.result.etag == '"d41d8cd98f00b204e9800998ecf8427e"'


async def test_a_refused_complete_with_data_is_raised_not_replaced() -> None:
    client = RefusesEmptyMultipart()
    client.upload_part = StubClient().upload_part  # type: ignore[method-assign]

    with pytest.raises(EntityTooSmall):
        async with MultipartUploader(client, "bucket", "key", part_size=PART) as up:  # type: ignore[arg-type]
            await up.write(b"c" * 10)

    assert client.aborted == ["upload-1"]
    assert client.puts == []
