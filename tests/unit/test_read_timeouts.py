"""``Timeouts.read`` on short exchanges: a stalled server times out, a live one does not.

Silence longer than the limit (no answer, or an answer stalled mid-body) fails as a retried
``TransportTimeout``; an answer that keeps arriving is not cut off however long it takes in
all; the caller's own cancellation stays a cancellation; a client used in a second event loop
still times out.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web

from rawS3 import RetryPolicy, S3Client, Timeouts, TransportTimeout
from rawS3.bodies import SLICE_SIZE

QUICK = RetryPolicy(attempts=2, base=0.001, cap=0.002)
LISTING = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
    b"<IsTruncated>false</IsTruncated></ListBucketResult>"
)


class Server:
    """Answers as ``mode`` says and counts the requests."""

    def __init__(self) -> None:
        self.mode = "stall"
        self.requests = 0
        self.arrived = asyncio.Event()

    async def answer(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        self.arrived.set()
        if self.mode == "stall":  # no answer at all
            await asyncio.Event().wait()
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        response.content_length = len(LISTING)
        await response.prepare(request)
        pieces = [LISTING[i : i + 40] for i in range(0, len(LISTING), 40)]
        for n, piece in enumerate(pieces):
            await response.write(piece)
            if self.mode == "stall-body" and n == 0:
                await asyncio.Event().wait()
            if self.mode == "trickle":  # alive, but slower in all than the limit
                await asyncio.sleep(0.1)
        return response


@pytest.fixture
async def server(aiohttp_server: Any) -> tuple[Server, str]:
    fake = Server()
    app = web.Application(client_max_size=4 * SLICE_SIZE)
    app.router.add_route("*", "/{tail:.*}", fake.answer)
    running = await aiohttp_server(app)
    return fake, f"http://127.0.0.1:{running.port}"


async def listing(client: S3Client) -> list[Any]:
    return [item async for item in client.list_objects("bucket")]


def client_for(endpoint: str, read: float = 0.3) -> S3Client:
    return S3Client(
        endpoint, "AKIDWATCH", "watch-secret", retry=QUICK, timeouts=Timeouts(read=read)
    )


async def test_a_put_whose_answer_never_comes_times_out_and_is_retried(
    server: tuple[Server, str],
) -> None:
    fake, endpoint = server
    started = time.monotonic()
    async with client_for(endpoint) as client:
        with pytest.raises(TransportTimeout):
            await asyncio.wait_for(client.put_object("bucket", "key", b"small body"), 10)
    assert fake.requests == QUICK.attempts
    # Two attempts of 0.3 s each: well under two seconds, not the default 60 s.
    assert 0.6 <= time.monotonic() - started < 2


async def test_an_answer_stalled_mid_body_times_out(server: tuple[Server, str]) -> None:
    fake, endpoint = server
    fake.mode = "stall-body"
    async with client_for(endpoint) as client:
        with pytest.raises(TransportTimeout):
            await asyncio.wait_for(listing(client), 10)
    assert fake.requests == QUICK.attempts


async def test_an_answer_that_keeps_arriving_is_not_cut_off(server: tuple[Server, str]) -> None:
    fake, endpoint = server
    fake.mode = "trickle"
    started = time.monotonic()
    async with client_for(endpoint) as client:
        assert await asyncio.wait_for(listing(client), 10) == []
    # Longer in all than the read limit: each block restarted it.
    assert time.monotonic() - started > 0.3
    assert fake.requests == 1


async def test_a_large_body_keeps_aiohttps_read_limit(server: tuple[Server, str]) -> None:
    fake, endpoint = server
    async with client_for(endpoint) as client:
        with pytest.raises(TransportTimeout):
            await asyncio.wait_for(client.put_object("bucket", "key", bytes(SLICE_SIZE + 1)), 10)
    assert fake.requests == QUICK.attempts


async def test_the_callers_cancellation_stays_a_cancellation(server: tuple[Server, str]) -> None:
    fake, endpoint = server
    async with client_for(endpoint, read=30) as client:
        task = asyncio.ensure_future(client.put_object("bucket", "key", b"x"))
        await asyncio.wait_for(fake.arrived.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert fake.requests == 1


async def test_a_client_used_in_a_second_event_loop_still_times_out(
    server: tuple[Server, str],
) -> None:
    _, endpoint = server
    client = client_for(endpoint, read=0.2)

    def in_new_loop() -> None:
        async def put() -> None:
            async with client:
                await asyncio.wait_for(client.put_object("bucket", "key", b"x"), 10)

        with pytest.raises(TransportTimeout):
            asyncio.run(put())

    for _ in range(2):
        await asyncio.to_thread(in_new_loop)


@pytest.mark.parametrize(
    "given",
    [b"0123456789", memoryview(b"xx0123456789yy")[2:12], bytearray(b"0123456789")],
    ids=["bytes", "slice-of-bytes", "bytearray"],
)
def test_a_small_body_is_handed_over_as_exactly_its_bytes(given: Any) -> None:
    from rawS3.bodies import BufferBody

    body = BufferBody(given, sign=True, md5=False)
    sent = body.payload(lambda chunk, previous: previous, "")
    assert sent == b"0123456789"
    assert isinstance(sent, bytes)
