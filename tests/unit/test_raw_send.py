"""Sending raw requests, against a local server that records what reached it.

The server is no S3: it checks no signature. It shows what went on the wire (path and query
as sent, every header), and answers as each path asks: ``/b/missing`` 404 NoSuchKey,
``/b/busy`` 503 SlowDown, ``/b/big`` a 1 MiB body; anything else 200 with the bytes it got.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from rawS3 import (
    NoSuchKey,
    PreparedRequest,
    RawResponse,
    RetryPolicy,
    S3Client,
    SlowDown,
    TransportError,
)

BIG = bytes(range(256)) * 4096
NO_SUCH_KEY = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>rid-404</RequestId></Error>"""
SLOW_DOWN = b"""<Error><Code>SlowDown</Code><Message>later</Message></Error>"""
THREE_TRIES = RetryPolicy(attempts=3, base=0.0, cap=0.0)


@dataclass
class Seen:
    method: str
    path_qs: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Recorder:
    seen: list[Seen] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append(
            Seen(request.method, request.raw_path, list(request.headers.items()), body)
        )
        if request.path == "/b/missing":
            return web.Response(status=404, body=NO_SUCH_KEY, content_type="application/xml")
        if request.path == "/b/busy":
            return web.Response(status=503, body=SLOW_DOWN, content_type="application/xml")
        if request.path == "/b/big":
            return web.Response(body=BIG)
        return web.Response(body=body, headers={"x-amz-request-id": f"rid-{len(self.seen)}"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


@pytest.fixture
async def server(aiohttp_server: Any) -> tuple[Recorder, str]:
    recorder = Recorder()
    running = await aiohttp_server(recorder.app())
    return recorder, str(running.make_url("")).rstrip("/")


class Ticking:
    """A clock that moves on a second each time it is read: every signature differs."""

    def __init__(self) -> None:
        self.now = 1_714_564_800.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def client_for(endpoint: str, **options: Any) -> S3Client:
    options.setdefault("retry", THREE_TRIES)
    return S3Client(endpoint, "AKIDSEND", "send-secret", **options)


async def test_a_request_goes_on_the_wire_exactly_as_prepared(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    async with client_for(endpoint) as client:
        prepared = client.prepare(
            "PUT",
            "b",
            "a b/%21!*'()~.txt",
            query={"x y": "1/2"},
            body=b"data",
            unsigned_headers={"x-later": "yes"},
        )
        answer = await client.request(prepared)

    (seen,) = recorder.seen
    assert seen.method == "PUT"
    assert seen.path_qs == prepared.url.removeprefix(endpoint)
    assert seen.path_qs == "/b/a%20b/%2521%21%2A%27%28%29~.txt?x%20y=1%2F2"
    assert dict(seen.headers) == dict(prepared.headers)
    assert len(seen.headers) == len(prepared.headers)  # nothing added: no User-Agent, no Accept
    assert seen.body == b"data"
    assert answer == RawResponse(200, answer.headers, b"data", prepared)
    assert answer.headers["x-amz-request-id"] == "rid-1"


async def test_an_error_status_is_an_answer_not_an_exception(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    async with client_for(endpoint) as client:
        answer = await client.request("GET", "b", "missing")

    assert answer.status == 404
    assert b"<Code>NoSuchKey</Code>" in answer.body
    assert len(recorder.seen) == 1


async def test_expect_raises_the_typed_error_for_any_other_status(
    server: tuple[Recorder, str],
) -> None:
    _, endpoint = server
    async with client_for(endpoint) as client:
        with pytest.raises(NoSuchKey) as caught:
            await client.request("GET", "b", "missing", expect={200, 204})
        ok = await client.request("GET", "b", "there", expect=200)

    error = caught.value
    assert (error.status, error.bucket, error.key, error.request_id) == (
        404,
        "b",
        "missing",
        "rid-404",
    )
    assert ok.status == 200


async def test_retries_are_off_unless_asked(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    async with client_for(endpoint) as client:
        answer = await client.request("GET", "b", "busy")
        with pytest.raises(SlowDown):
            await client.request("GET", "b", "busy", expect=200)

    assert answer.status == 503
    assert len(recorder.seen) == 2


async def test_asked_retries_follow_the_policy_and_sign_each_attempt_afresh(
    server: tuple[Recorder, str],
) -> None:
    recorder, endpoint = server
    async with client_for(endpoint, clock=Ticking()) as client:
        answer = await client.request("GET", "b", "busy", retry=True)

    assert answer.status == 503
    assert b"SlowDown" in answer.body
    dates = [dict(seen.headers)["x-amz-date"] for seen in recorder.seen]
    assert len(dates) == THREE_TRIES.attempts
    assert len(set(dates)) == len(dates)
    assert answer.request.headers["x-amz-date"] == dates[-1]


async def test_a_prepared_request_is_retried_unchanged(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    async with client_for(endpoint, clock=Ticking()) as client:
        prepared = client.prepare("GET", "b", "busy")
        with pytest.raises(SlowDown):
            await client.request(prepared, retry=True, expect=200)

    assert [dict(s.headers)["Authorization"] for s in recorder.seen] == [
        prepared.headers["Authorization"]
    ] * THREE_TRIES.attempts


async def test_a_one_shot_streamed_body_is_never_retried(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server

    async def source() -> AsyncIterator[bytes]:
        yield b"x" * 10

    async with client_for(endpoint) as client:
        answer = await client.request("PUT", "b", "busy", body=source(), size=10, retry=True)

    assert answer.status == 503
    assert len(recorder.seen) == 1


async def test_a_chunked_body_reaches_the_server_as_signed_frames(
    server: tuple[Recorder, str],
) -> None:
    recorder, endpoint = server
    data = hashlib.sha256(b"seed").digest() * 1000

    async def source() -> AsyncIterator[bytes]:
        for offset in range(0, len(data), 999):
            yield data[offset : offset + 999]

    async with client_for(endpoint) as client:
        answer = await client.request(
            "PUT", "b", "k", body=source(), size=len(data), chunk_size=8192
        )

    (seen,) = recorder.seen
    framed = seen.body
    assert dict(seen.headers)["Content-Length"] == str(len(framed))
    assert framed.startswith(b"2000;chunk-signature=")
    assert framed.endswith(b"\r\n0;chunk-signature=" + framed[-68:-4] + b"\r\n\r\n")
    assert answer.status == 200


async def test_a_failing_source_raises_its_own_error(server: tuple[Recorder, str]) -> None:
    _, endpoint = server

    async def source() -> AsyncIterator[bytes]:
        yield b"x" * 100
        raise OSError("the disk went away")

    async with client_for(endpoint) as client:
        with pytest.raises(OSError, match="disk went away"):
            await client.request("PUT", "b", "k", body=source(), size=200)


async def test_stream_hands_out_the_body_in_pieces(server: tuple[Recorder, str]) -> None:
    _, endpoint = server
    async with client_for(endpoint) as client, client.stream("GET", "b", "big") as answer:
        pieces = [piece async for piece in answer.iter_chunks(64 * 1024)]

    assert answer.status == 200
    assert b"".join(pieces) == BIG
    assert max(len(piece) for piece in pieces) <= 64 * 1024


async def test_stream_with_expect_raises_before_handing_out(server: tuple[Recorder, str]) -> None:
    _, endpoint = server
    async with client_for(endpoint) as client:
        with pytest.raises(NoSuchKey):
            async with client.stream("GET", "b", "missing", expect=200):
                pytest.fail("an unexpected answer must not be handed out")
        async with client.stream("GET", "b", "missing", retry=True) as answer:
            body = await answer.read()

    assert answer.status == 404
    assert body == NO_SUCH_KEY


async def test_a_prepared_request_takes_no_further_arguments(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    async with client_for(endpoint) as client:
        prepared = client.prepare("GET", "b", "k")
        with pytest.raises(TypeError, match="sent as it is"):
            await client.request(prepared, "b")
        with pytest.raises(TypeError, match="sent as it is"):
            client.stream(prepared, headers={"x": "y"})

    assert recorder.seen == []


async def test_a_bad_argument_sends_nothing(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    async with client_for(endpoint) as client:
        with pytest.raises(ValueError, match="exclude"):
            await client.request("GET", "b", "k", anonymous=True, presign=60)

    assert recorder.seen == []


async def test_a_closed_client_refuses_to_send(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    client = client_for(endpoint)
    await client.close()

    with pytest.raises(RuntimeError, match="closed"):
        await client.request("GET", "b", "k")
    assert recorder.seen == []


async def test_a_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client_for(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(TransportError):
            await client.request("GET", "b", "k", retry=True)


async def test_a_hand_made_request_is_sent_as_made(server: tuple[Recorder, str]) -> None:
    recorder, endpoint = server
    host = endpoint.removeprefix("http://")
    made = PreparedRequest("DELETE", f"{endpoint}/b/k?x=%7E", {"Host": host, "X-Odd": "1"})
    async with client_for(endpoint) as client:
        answer = await client.request(made)

    assert answer.status == 200
    assert recorder.seen[0].path_qs == "/b/k?x=%7E"
    # The one header aiohttp adds: a bodiless DELETE, PUT or POST declares its empty body.
    assert dict(recorder.seen[0].headers) == {"Host": host, "X-Odd": "1", "Content-Length": "0"}
