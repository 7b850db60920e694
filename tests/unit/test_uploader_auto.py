"""MultipartUploader's ``concurrency="auto"`` (the default): how many parts it keeps in flight.

Scheduling only, against a client that holds each part for a time that depends on how many
are in flight, as a network would: a link where every connection is capped (time per part
constant: the rate grows with parts in flight) and a saturated one (time per part grows with
them: the rate stays flat). Parts are views of one ``bytes`` object, so nothing is copied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from rawS3 import MultipartUploader, PutResult, UploadedPart
from rawS3.transfer import AUTO_START
from rawS3.transfer_sizing import DEFAULT_MAX_MEMORY

PART = 5 * 1024 * 1024


class Link:
    """Answers each part after ``delay(parts in flight)`` seconds; records parts in flight."""

    def __init__(self, delay: Callable[[int], float]) -> None:
        self.delay = delay
        self.in_flight = 0
        self.seen: list[int] = []  # parts in flight as each part arrived, itself included
        self.limits: list[int] = []  # the uploader's limit as each part arrived
        self.uploader: MultipartUploader | None = None
        self.parts: dict[int, int] = {}

    async def create_multipart_upload(self, *args: Any, **kwargs: Any) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kwargs: Any
    ) -> UploadedPart:
        self.in_flight += 1
        self.seen.append(self.in_flight)
        self.limits.append(self.uploader.limit if self.uploader else 0)
        try:
            # Parts of one size still take a little more or less: no two answers in lockstep.
            await asyncio.sleep(self.delay(self.in_flight) * (1 + number % 7 / 20))
        finally:
            self.in_flight -= 1
        self.parts[number] = len(data)
        # No hashing: CPU spent here would blur the rates the controller measures.
        return UploadedPart(number, f'"{number:032x}"', len(data))

    async def abort_multipart_upload(self, *args: Any) -> None:
        raise AssertionError("nothing failed, so nothing should be aborted")

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        return PutResult('""')


async def send(link: Link, parts: int, **options: Any) -> MultipartUploader:
    data = bytes(parts * PART)
    uploader = MultipartUploader(link, "bucket", "key", part_size=PART, **options)  # type: ignore[arg-type]
    link.uploader = uploader
    async with uploader:
        await uploader.write(data)
    assert sum(link.parts.values()) == len(data)
    return uploader


async def test_auto_starts_at_eight_and_doubles_while_the_rate_grows() -> None:
    link = Link(lambda _: 0.02)  # every connection capped: more parts, more throughput
    uploader = await send(link, 40)
    assert link.seen[:AUTO_START] == list(range(1, AUTO_START + 1))
    assert max(link.seen[: AUTO_START + 1]) == AUTO_START  # nothing more before an answer
    assert max(link.seen) == 16 == uploader.limit  # doubled once, to the default maximum


async def test_auto_goes_back_when_more_parts_bring_no_more() -> None:
    link = Link(lambda n: 0.004 * n)  # a saturated link: the rate stays flat
    uploader = await send(link, 60)
    assert uploader.limit == AUTO_START  # tried 16, went back to 8
    tried = link.limits.index(16)
    back = link.limits.index(AUTO_START, tried)
    # Once the limit went back, a part is sent only when fewer than 8 are in flight. Parts
    # handed out just before the drop may still arrive after it: at most the 8 it took away.
    late = 16 - AUTO_START
    assert max(link.seen[back + late :]) <= AUTO_START
    assert max(link.seen[:back]) == 16


@pytest.mark.parametrize("budget_parts", [1, 3])
async def test_auto_stays_within_max_memory(budget_parts: int) -> None:
    link = Link(lambda _: 0.005)
    uploader = await send(link, 12, max_memory=budget_parts * PART)
    assert max(link.seen) == budget_parts == uploader.limit


async def test_auto_without_max_memory_stays_within_the_default_budget() -> None:
    # 32 MiB parts: 128 MiB holds four of them, so "auto" never holds 16 (512 MiB).
    uploader = MultipartUploader(Link(lambda _: 0), "bucket", "key", part_size=32 * 1024 * 1024)  # type: ignore[arg-type]
    assert uploader.limit == 4 == DEFAULT_MAX_MEMORY // (32 * 1024 * 1024)
    await uploader.abort()


async def test_a_size_whose_parts_fit_sends_them_all_at_once() -> None:
    link = Link(lambda _: 0.005)
    data = bytes(13 * PART)
    async with MultipartUploader(link, "bucket", "key", part_size=PART, size=len(data)) as up:  # type: ignore[arg-type]
        await up.write(data)
    assert max(link.seen) == 13


async def test_a_number_stays_fixed() -> None:
    link = Link(lambda _: 0.005)
    uploader = await send(link, 12, concurrency=3)
    assert max(link.seen) == 3 == uploader.limit


async def test_a_first_large_write_is_spread_over_parts_all_in_flight() -> None:
    link = Link(lambda _: 0.005)
    data = bytes(64 * 1024 * 1024)
    async with MultipartUploader(link, "bucket", "key") as up:  # type: ignore[arg-type]
        await up.write(data)
    # As a 64 MiB file: 5 MiB parts (16 would be under S3's minimum), all 13 at once.
    assert (up.part_size, len(link.parts), max(link.seen)) == (PART, 13, 13)


async def test_small_writes_keep_eight_mib_parts_and_eight_in_flight() -> None:
    link = Link(lambda _: 0.005)
    piece = bytes(1024 * 1024)
    async with MultipartUploader(link, "bucket", "key") as up:  # type: ignore[arg-type]
        for _ in range(80):
            await up.write(piece)
    assert up.part_size == 8 * 1024 * 1024
    assert len(link.parts) == 10
    assert max(link.seen[:AUTO_START + 1]) <= AUTO_START
