"""Bounded-concurrency multipart sending, for the clients that leave the loop to the user.

aiobotocore and aiohttp-s3-client offer the multipart calls but no transfer manager for an
async source, so a user writes this loop: read a part, wait for a free slot, send the part in
a task. At most ``concurrency`` parts are in flight and one more is being read.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import aiohttp

SendPart = Callable[[int, bytes], Awaitable[str]]
"""``(part_number, data) -> etag``."""


async def send_parts(
    parts: AsyncIterator[bytes], send: SendPart, concurrency: int
) -> list[tuple[int, str]]:
    """Send every part of ``parts`` with ``send``, ``concurrency`` at a time.

    Returns:
        ``(part_number, etag)`` for every part, in part order.
    """
    slots = asyncio.Semaphore(concurrency)
    tasks: list[asyncio.Task[tuple[int, str]]] = []

    async def one(number: int, data: bytes) -> tuple[int, str]:
        try:
            return number, await send(number, data)
        finally:
            slots.release()

    try:
        number = 0
        async for data in parts:
            await slots.acquire()
            number += 1
            tasks.append(asyncio.create_task(one(number, data)))
            del data
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


async def buffer_parts(data: bytes, part_size: int) -> AsyncIterator[bytes]:
    """Slices of ``data`` of ``part_size`` bytes (slicing copies, as a user's code would)."""
    for offset in range(0, len(data), part_size):
        yield data[offset : offset + part_size]


async def response_parts(
    response: aiohttp.ClientResponse, part_size: int
) -> AsyncIterator[bytes]:
    """Parts of ``part_size`` bytes read from a response body (the last may be shorter)."""
    while True:
        pieces: list[bytes] = []
        got = 0
        while got < part_size:
            piece = await response.content.read(part_size - got)
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
        if not got:
            return
        yield b"".join(pieces)
        if got < part_size:
            return


def slices(data: bytes, size: int) -> Iterable[memoryview]:
    """``data`` in views of ``size`` bytes, without copying."""
    view = memoryview(data)
    return (view[offset : offset + size] for offset in range(0, len(data), size))


class ResponseReader:
    """A file-like ``read(n)`` coroutine over a response body, for libraries that take one."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._content = response.content

    async def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer at the end); ``b""`` once the body is over."""
        return await self._content.read(size)


FetchRange = Callable[[int, int, int], Awaitable[None]]
"""``(fd, start, end_inclusive) -> None``: GET one range and write it at its offset."""


async def fetch_ranges(
    path: str, size: int, part_size: int, concurrency: int, fetch: FetchRange
) -> None:
    """Fill ``path`` (created, ``size`` bytes) with ``fetch`` over its ranges, in parallel.

    The loop a user writes around a client that has ranged GETs but no download manager: at
    most ``concurrency`` ranges in flight, each written where it belongs.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size)
        slots = asyncio.Semaphore(concurrency)

        async def one(start: int) -> None:
            async with slots:
                await fetch(fd, start, min(start + part_size, size) - 1)

        await asyncio.gather(*(one(start) for start in range(0, size, part_size)))
    finally:
        os.close(fd)


def write_at(fd: int, data: bytes | memoryview, offset: int) -> None:
    """Write all of ``data`` at ``offset`` of ``fd``."""
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


async def file_parts(path: str, part_size: int) -> AsyncIterator[bytes]:
    """Parts of ``part_size`` bytes read in turn from the file at ``path``."""
    with open(path, "rb") as file:  # noqa: ASYNC230 (as a user writes it)
        while chunk := file.read(part_size):
            yield chunk
