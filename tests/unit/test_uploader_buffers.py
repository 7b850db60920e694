"""MultipartUploader's part buffers: reused, never more than concurrency + 1, never overwritten
while their part is still being sent. Scheduling only, without a server."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from rawS3 import MultipartUploader, PutResult, UploadedPart

PART = 5 * 1024 * 1024


class RecordingClient:
    """Holds each part for a while, as a network would, and records what it was given."""

    def __init__(self) -> None:
        self.buffers: set[int] = set()
        self.in_flight: set[int] = set()
        self.parts: dict[int, bytes] = {}
        self.changed_while_sending: list[int] = []
        self.reused_while_sending: list[int] = []

    async def create_multipart_upload(self, *args: Any, **kwargs: Any) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kwargs: Any
    ) -> UploadedPart:
        if id(data) in self.in_flight:
            self.reused_while_sending.append(number)
        if isinstance(data, bytearray):
            self.buffers.add(id(data))
        self.in_flight.add(id(data))
        before = hashlib.sha256(data).digest()
        # Odd parts are slow, so parts finish out of order and buffers free out of order.
        await asyncio.sleep(0.01 if number % 2 else 0.001)
        if hashlib.sha256(data).digest() != before:
            self.changed_while_sending.append(number)
        self.in_flight.discard(id(data))
        self.parts[number] = bytes(data)
        return UploadedPart(number, '"' + hashlib.md5(data).hexdigest() + '"', len(data))

    async def abort_multipart_upload(self, *args: Any) -> None:
        raise AssertionError("nothing failed, so nothing should be aborted")

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        return PutResult('""')


def source(total: int) -> list[bytearray]:
    """``total`` bytes in irregular mutable pieces, each part-sized stretch distinct."""
    data = bytes(i % 251 for i in range(total))
    pieces, at, step = [], 0, 0
    while at < total:
        step = step * 7 % 300_007 + 65_537
        pieces.append(bytearray(data[at : at + step]))
        at += step
    return pieces


async def test_parts_reuse_at_most_concurrency_plus_one_buffers() -> None:
    client = RecordingClient()
    pieces = source(10 * PART + 12_345)
    expected = b"".join(pieces)

    uploader = MultipartUploader(client, "bucket", "key", part_size=PART, concurrency=2)  # type: ignore[arg-type]
    async with uploader:
        for piece in pieces:
            await uploader.write(piece)

    assert len(client.parts) == 11
    assert b"".join(client.parts[n] for n in sorted(client.parts)) == expected
    assert client.changed_while_sending == []
    assert client.reused_while_sending == []
    assert 1 < len(client.buffers) <= 3


async def test_immutable_bytes_of_one_part_are_sent_without_a_part_buffer() -> None:
    client = RecordingClient()

    async with MultipartUploader(client, "bucket", "key", part_size=PART) as uploader:  # type: ignore[arg-type]
        for _ in range(3):
            await uploader.write(bytes(PART))

    assert len(client.parts) == 3
    assert client.buffers == set()


async def test_a_part_never_keeps_a_larger_source_chunk_alive() -> None:
    # A slice sent without a copy would keep its whole 3-part chunk alive while in flight.
    client = RecordingClient()

    async with MultipartUploader(client, "bucket", "key", part_size=PART) as uploader:  # type: ignore[arg-type]
        await uploader.write(bytes(3 * PART))

    assert len(client.parts) == 3
    assert len(client.buffers) >= 1


async def test_bytes_of_many_parts_are_lent_only_for_the_write_call() -> None:
    # Sent without a copy, but write() returns only once those parts are sent, so none of
    # them keeps the caller's object alive afterwards.
    client = RecordingClient()
    data = bytes(range(256)) * (4 * PART // 256) + b"tail"

    uploader = MultipartUploader(client, "bucket", "key", part_size=PART, concurrency=2)  # type: ignore[arg-type]
    async with uploader:
        await uploader.write(data)
        assert client.in_flight == set()
        assert sorted(client.parts) == [1, 2, 3, 4]

    assert b"".join(client.parts[n] for n in sorted(client.parts)) == data
    assert client.buffers == set()  # no whole part was copied; the tail is sent as a view
