"""Regression tests for ways rawS3 once lost data or left things behind, one or more per defect.

Most run against ``Uploads``, a local server that keeps multipart uploads the way S3 does
(created by POST ?uploads, listed, aborted, completed), so a test can ask afterwards whether
anything was left on it. Each misbehaviour (a Create answered late, a Create that fails after
creating, an error body cut off, a listing that repeats itself ...) is a hook of that server.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import gc
import hashlib
import logging
import os
import sys
import threading
import tracemalloc
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp import web

from rawS3 import (
    MultipartUploader,
    PutResult,
    RawS3Error,
    RequestTimeTooSkewed,
    ResponseError,
    RetryPolicy,
    S3Client,
    SignatureDoesNotMatch,
    Timeouts,
    TransportError,
    UploadedPart,
    UploadNotAborted,
    upload_stream,
)

PART = 5 * 1024 * 1024
QUICK = RetryPolicy(attempts=4, base=0.001, cap=0.002)
TOKEN = "FQoGZXIvYXdzEJr//////////wEaDLeakMe+/=="
XML = "application/xml"
Hook = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


class Uploads:
    """A minimal S3 of multipart uploads and objects; ``hooks[operation]`` may answer instead."""

    def __init__(self) -> None:
        self.live: dict[str, str] = {}  # upload id -> key
        self.parts: dict[str, dict[int, bytes]] = {}
        self.objects: dict[str, bytes] = {}
        self.log: list[str] = []
        self.hooks: dict[str, Hook] = {}
        self._next = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{bucket}", self.handle)
        app.router.add_route("*", "/{bucket}/{key:.*}", self.handle)
        return app

    def count(self, operation: str) -> int:
        return self.log.count(operation)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        operation = _operation(request)
        self.log.append(operation)
        hook = self.hooks.get(operation)
        if hook is not None:
            answer = await hook(request)
            if answer is not None:
                return answer
        await request.read()
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]] = getattr(
            self, "on_" + operation
        )
        return await handler(request)

    def create(self, key: str) -> str:
        self._next += 1
        upload_id = f"upload-{self._next}"
        self.live[upload_id] = key
        self.parts[upload_id] = {}
        return upload_id

    async def on_create(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        upload_id = self.create(key)
        body = (
            f"<InitiateMultipartUploadResult><Bucket>{request.match_info['bucket']}</Bucket>"
            f"<Key>{key}</Key><UploadId>{upload_id}</UploadId>"
        )
        return web.Response(text=body + "</InitiateMultipartUploadResult>", content_type=XML)

    async def on_part(self, request: web.Request) -> web.Response:
        upload_id = request.query["uploadId"]
        if upload_id not in self.live:
            return _error(404, "NoSuchUpload")
        data = await request.read()
        self.parts[upload_id][int(request.query["partNumber"])] = data
        return web.Response(headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    async def on_complete(self, request: web.Request) -> web.Response:
        upload_id = request.query["uploadId"]
        if upload_id not in self.live:
            return _error(404, "NoSuchUpload")
        parts = self.parts.pop(upload_id)
        self.objects[self.live.pop(upload_id)] = b"".join(parts[n] for n in sorted(parts))
        digests = b"".join(hashlib.md5(parts[n]).digest() for n in sorted(parts))
        etag = f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'
        body = f"<CompleteMultipartUploadResult><ETag>{etag}</ETag>"
        return web.Response(text=body + "</CompleteMultipartUploadResult>", content_type=XML)

    async def on_abort(self, request: web.Request) -> web.Response:
        if self.live.pop(request.query["uploadId"], None) is None:
            return _error(404, "NoSuchUpload")
        return web.Response(status=204)

    async def on_list_uploads(self, request: web.Request) -> web.Response:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        entries = "".join(
            f"<Upload><Key>{key}</Key><UploadId>{upload_id}</UploadId>"
            f"<Initiated>{now}</Initiated></Upload>"
            for upload_id, key in self.live.items()
        )
        body = f"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>{entries}"
        return web.Response(text=body + "</ListMultipartUploadsResult>", content_type=XML)

    async def on_put(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.objects[request.match_info["key"]] = data
        return web.Response(headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    async def on_get(self, request: web.Request) -> web.Response:
        return web.Response(body=self.objects[request.match_info["key"]])

    async def on_list(self, request: web.Request) -> web.Response:
        body = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
        return web.Response(text=body + "</ListBucketResult>", content_type=XML)


def _operation(request: web.Request) -> str:
    query, method = request.query, request.method
    if method == "POST":
        return "create" if "uploads" in query else "complete" if "uploadId" in query else "post"
    if method == "PUT":
        return "part" if "uploadId" in query else "put"
    if method == "DELETE":
        return "abort" if "uploadId" in query else "delete"
    if "uploads" in query:
        return "list_uploads"
    if "uploadId" in query:
        return "list_parts"
    return "list" if "key" not in request.match_info else "get"


def _error(status: int, code: str, extra: str = "") -> web.Response:
    body = f"<Error><Code>{code}</Code><Message>scripted</Message>{extra}</Error>"
    return web.Response(status=status, text=body, content_type=XML)


@pytest.fixture
async def fake(aiohttp_server: Any) -> tuple[Uploads, str]:
    server = Uploads()
    running = await aiohttp_server(server.app())
    return server, f"http://127.0.0.1:{running.port}"


def client_for(endpoint: str, **options: Any) -> S3Client:
    options.setdefault("retry", QUICK)
    return S3Client(endpoint, "AKIDRELIABLE", "reliable-secret", **options)


def stall_then(hook: Hook | None = None, *, times: int = 1) -> Hook:
    """Hold the first ``times`` requests forever (the client times out); then ``hook``."""
    seen = 0

    async def answer(request: web.Request) -> web.StreamResponse | None:
        nonlocal seen
        seen += 1
        if seen <= times:
            await asyncio.Event().wait()
        return await hook(request) if hook else None

    return answer


# -- 1. a read-only view of a buffer the caller refills ---------------------------------------


class KeepingClient:
    """Holds every part a while, as a network would, and keeps what it finally sends."""

    def __init__(self) -> None:
        self.sent: dict[int, bytes] = {}

    async def create_multipart_upload(self, *args: Any, **kwargs: Any) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kwargs: Any
    ) -> UploadedPart:
        await asyncio.sleep(0.01)
        self.sent[number] = bytes(data)
        return UploadedPart(number, f'"{hashlib.md5(data).hexdigest()}"', len(data))

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        return PutResult('""')


@pytest.mark.parametrize(
    "view_of",
    [
        lambda buf: memoryview(buf).toreadonly(),
        lambda buf: memoryview(buf),
        lambda buf: buf,
        lambda buf: array.array("B", buf),
    ],
    ids=["read-only view", "view", "bytearray", "array"],
)
async def test_a_refilled_buffer_never_changes_parts_already_written(
    view_of: Callable[[bytearray], Any],
) -> None:
    client = KeepingClient()
    buffer = bytearray(PART)
    written = []
    async with MultipartUploader(client, "bucket", "key", part_size=PART, concurrency=3) as up:  # type: ignore[arg-type]
        for fill in b"abc":
            buffer[:] = bytes([fill]) * PART
            written.append(bytes(buffer))
            await up.write(view_of(buffer))
    assert [client.sent[n] for n in sorted(client.sent)] == written


# -- 2. delete_objects given one string ---------------------------------------------------------


async def test_delete_objects_refuses_a_string_of_keys(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake
    async with client_for(endpoint) as client:
        for keys in ("abc", b"abc"):
            with pytest.raises(TypeError, match="wrap a single key in a list"):
                await client.delete_objects("bucket", keys)  # type: ignore[arg-type]
    assert server.log == []


async def test_delete_objects_sends_a_repeated_key_once(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake
    bodies: list[bytes] = []

    async def record(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(text="<DeleteResult></DeleteResult>", content_type=XML)

    server.hooks["post"] = record
    async with client_for(endpoint) as client:
        await client.delete_objects("bucket", ["a"] * 1500 + ["b"])
    assert len(bodies) == 1
    assert bodies[0].count(b"<Key>a</Key>") == 1


# -- 3, 4. the lifetime of an upload from the moment Create is sent ----------------------------


async def test_create_is_sent_exactly_attempts_times(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake

    async def fail(request: web.Request) -> web.Response:
        return _error(500, "InternalError")

    server.hooks["create"] = fail
    for attempts in (1, 2, 4):
        before = server.count("create")
        policy = RetryPolicy(attempts=attempts, base=0, cap=0)
        async with client_for(endpoint, retry=policy) as client:
            with pytest.raises(RawS3Error):
                await client.create_multipart_upload("bucket", "key")
        assert server.count("create") - before == attempts


async def test_create_that_fails_after_creating_leaves_nothing(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake

    async def create_then_fail(request: web.Request) -> web.Response:
        server.create(request.match_info["key"])
        return _error(500, "InternalError")

    server.hooks["create"] = create_then_fail
    async with client_for(endpoint) as client:
        with pytest.raises(RawS3Error):
            await client.create_multipart_upload("bucket", "key")
    assert server.count("create") == 4
    assert server.live == {}


async def test_a_late_create_answer_is_retried_and_its_upload_aborted(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake

    async def create_then_stall(request: web.Request) -> web.StreamResponse | None:
        if server.count("create") == 1:
            server.create(request.match_info["key"])
            await asyncio.Event().wait()
        return None

    server.hooks["create"] = create_then_stall
    async with client_for(endpoint, timeouts=Timeouts(read=0.2)) as client:
        upload_id = await client.create_multipart_upload("bucket", "key")
    assert list(server.live) == [upload_id]


@pytest.mark.parametrize("how", ["uploader", "upload_stream"])
async def test_cancelled_while_create_is_in_flight_leaves_nothing(
    fake: tuple[Uploads, str], how: str
) -> None:
    server, endpoint = fake
    created = asyncio.Event()

    async def create_and_hold(request: web.Request) -> web.StreamResponse | None:
        server.create(request.match_info["key"])
        created.set()
        await asyncio.Event().wait()
        return None

    server.hooks["create"] = create_and_hold

    async def upload(client: S3Client) -> None:
        if how == "uploader":
            async with MultipartUploader(client, "bucket", "key", part_size=PART) as up:
                await up.write(bytes(PART + 1))
        else:
            await upload_stream(client, "bucket", "key", chunks(bytes(2 * PART), 65536))

    async with client_for(endpoint, timeouts=Timeouts(read=0.3)) as client:
        task = asyncio.ensure_future(upload(client))
        await asyncio.wait_for(created.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert server.live == {}
    assert server.count("part") == 0


async def test_a_create_that_takes_effect_after_the_cancellation_is_aborted(
    fake: tuple[Uploads, str],
) -> None:
    # The server creates the upload only after the caller was cancelled: looking for strays at
    # once would miss it; waiting for the answer names it.
    server, endpoint = fake
    arrived, cancelled, created = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def late_create(request: web.Request) -> web.StreamResponse | None:
        arrived.set()
        await cancelled.wait()
        await asyncio.sleep(0.05)
        answer = await server.on_create(request)
        created.set()
        return answer

    server.hooks["create"] = late_create
    async with client_for(endpoint) as client:
        task = asyncio.ensure_future(client.create_multipart_upload("bucket", "key"))
        await asyncio.wait_for(arrived.wait(), 5)
        task.cancel()
        cancelled.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(created.wait(), 5)
        await asyncio.sleep(0.05)  # an abort sent after the answer has had time to arrive
    assert server.count("create") == 1
    assert server.live == {}


async def test_abort_from_another_task_while_create_is_in_flight(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow_create(request: web.Request) -> web.StreamResponse | None:
        arrived.set()
        await release.wait()
        return None

    server.hooks["create"] = slow_create
    async with client_for(endpoint) as client:
        up = MultipartUploader(client, "bucket", "key", part_size=PART)
        writer = asyncio.ensure_future(up.write(bytes(PART + 1)))
        await asyncio.wait_for(arrived.wait(), 5)
        aborting = asyncio.ensure_future(up.abort())
        await asyncio.sleep(0.05)
        release.set()
        await aborting
        with pytest.raises(RuntimeError, match="already completed or aborted"):
            await writer
    assert server.count("create") == 1
    assert server.live == {}
    assert server.count("part") == 0


async def test_an_abort_that_cannot_reach_the_server_hands_over_the_upload_id(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake

    async def part_fails(request: web.Request) -> web.Response:
        return _error(400, "BadDigest")

    async def abort_fails(request: web.Request) -> web.Response:
        return _error(503, "ServiceUnavailable")

    server.hooks["part"] = part_fails
    server.hooks["abort"] = abort_fails

    async def upload(up: MultipartUploader) -> None:
        async with up:
            await up.write(bytes(PART + 1))

    async with client_for(endpoint) as client:
        up = MultipartUploader(client, "bucket", "key", part_size=PART)
        with pytest.raises(UploadNotAborted) as caught:
            await upload(up)
    assert list(server.live) == [caught.value.upload_id]
    assert up.upload_id == caught.value.upload_id
    assert "BadDigest" in repr(caught.value.__context__)


async def test_an_upload_gone_after_a_cancelled_complete_is_not_reported(
    fake: tuple[Uploads, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, endpoint = fake
    completed = asyncio.Event()

    async def complete_then_hold(request: web.Request) -> web.StreamResponse | None:
        await server.on_complete(request)
        completed.set()
        await asyncio.Event().wait()
        return None

    server.hooks["complete"] = complete_then_hold

    async def upload(client: S3Client) -> None:
        async with MultipartUploader(client, "bucket", "key", part_size=PART) as up:
            await up.write(bytes(PART + 1))

    caplog.set_level(logging.DEBUG, logger="rawS3")
    async with client_for(endpoint) as client:
        task = asyncio.ensure_future(upload(client))
        await asyncio.wait_for(completed.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert server.live == {}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# -- 5. listings that would never end -----------------------------------------------------------


async def test_a_repeated_continuation_token_ends_the_listing(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake

    async def same_token(request: web.Request) -> web.Response:
        body = (
            "<ListBucketResult><KeyCount>1</KeyCount><IsTruncated>true</IsTruncated>"
            "<NextContinuationToken>again</NextContinuationToken><Contents><Key>a</Key>"
            '<Size>1</Size><ETag>"e"</ETag><LastModified>2024-01-01T00:00:00Z</LastModified>'
            "</Contents></ListBucketResult>"
        )
        return web.Response(text=body, content_type=XML)

    server.hooks["list"] = same_token
    async with client_for(endpoint) as client:
        with pytest.raises(ResponseError, match="same continuation token twice"):
            await asyncio.wait_for(collect(client.list_objects("bucket")), 5)
    assert server.count("list") == 2


async def test_a_part_marker_that_does_not_move_ends_list_parts(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake

    async def stuck(request: web.Request) -> web.Response:
        body = (
            "<ListPartsResult><IsTruncated>true</IsTruncated>"
            "<NextPartNumberMarker>0</NextPartNumberMarker></ListPartsResult>"
        )
        return web.Response(text=body, content_type=XML)

    server.hooks["list_parts"] = stuck
    async with client_for(endpoint) as client:
        with pytest.raises(ResponseError, match="does not move past 0"):
            await asyncio.wait_for(client.list_parts("bucket", "key", "upload-1"), 5)
    assert server.count("list_parts") == 1


# -- 6. error answers cut off or stalled --------------------------------------------------------


async def cut_error(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=500, headers={"Content-Length": "1000"})
    await response.prepare(request)
    await response.write(b"<Error><Code>InternalError</Code>")
    assert request.transport is not None
    request.transport.close()
    return response


async def stalled_error(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=503, headers={"Content-Length": "1000"})
    await response.prepare(request)
    await response.write(b"<Error><Code>SlowDown</Code>")
    await asyncio.Event().wait()
    return response


@pytest.mark.parametrize("answer", [cut_error, stalled_error], ids=["cut", "stalled"])
async def test_an_error_body_cut_off_or_stalled_is_a_retried_transport_error(
    fake: tuple[Uploads, str], answer: Hook
) -> None:
    server, endpoint = fake
    server.hooks["get"] = answer
    async with client_for(endpoint, timeouts=Timeouts(read=0.2)) as client:
        with pytest.raises(TransportError):
            await client.get_object("bucket", "key")
    assert server.count("get") == QUICK.attempts


async def test_the_cli_prints_no_traceback_for_a_cut_error_body(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake
    server.hooks["list"] = cut_error
    process = await asyncio.create_subprocess_exec(
        *PYTHON_CLI,
        "--endpoint-url",
        endpoint,
        "ls",
        "s3://bucket",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**CLI_ENV, "PATH": os.environ.get("PATH", "")},
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1, err
    assert b"Traceback" not in err
    assert b"TransportError" in err or b"ClientPayloadError" in err or b"connection" in err.lower()


PYTHON_CLI = [sys.executable, "-m", "rawS3"]
CLI_ENV = {"AWS_ACCESS_KEY_ID": "AKIDCLI", "AWS_SECRET_ACCESS_KEY": "cli-secret"}


# -- 7. memory: a part never keeps its whole source chunk alive ---------------------------------


async def test_large_source_chunks_stay_within_the_memory_bound() -> None:
    class Holding(KeepingClient):
        async def upload_part(
            self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kw: Any
        ) -> UploadedPart:
            await asyncio.sleep(0.02 * (number % 3 + 1))  # out of order, as a network would
            return UploadedPart(number, f'"{hashlib.md5(data).hexdigest()}"', len(data))

    concurrency, chunk = 8, 16 * 1024 * 1024
    bound = (concurrency + 1) * PART
    tracemalloc.start()
    try:
        up = MultipartUploader(Holding(), "bucket", "key", part_size=PART, concurrency=concurrency)  # type: ignore[arg-type]
        async with up:
            for _ in range(12):
                await up.write(bytes(chunk))  # each chunk dropped once written
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The chunk in the caller's hand is the caller's; everything else is rawS3's.
    assert peak - chunk <= bound + 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


# -- 8. the client's lifecycle ------------------------------------------------------------------


class ThreadedServer:
    """``Uploads`` on its own thread and loop, for tests that run several event loops."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = Uploads()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(self.server.app())
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self.started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    def __enter__(self) -> str:
        self.thread.start()
        assert self.started.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_a_client_left_open_works_in_a_second_event_loop(caplog: pytest.LogCaptureFixture) -> None:
    with ThreadedServer() as endpoint, warnings.catch_warnings():
        # The first loop's session cannot be closed once its loop is gone: that is the
        # user's mistake this test makes on purpose, and what the warning is about.
        warnings.simplefilter("ignore", ResourceWarning)
        client = client_for(endpoint)
        asyncio.run(client.put_object("bucket", "one", b"1"))
        asyncio.run(client.put_object("bucket", "two", b"2"))
        asyncio.run(client.close())
        gc.collect()
    assert "was not closed before its event loop ended" in caplog.text


async def test_a_call_after_close_raises_and_opens_nothing(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake
    client = client_for(endpoint)
    await client.put_object("bucket", "key", b"x")
    await client.close()
    with pytest.raises(RuntimeError, match="is closed"):
        await client.put_object("bucket", "key", b"x")
    assert client._engine.own_session is None
    assert server.count("put") == 1
    async with client:  # opening it again is explicit
        await client.put_object("bucket", "key", b"x")


async def test_close_during_a_request_fails_it_and_leaves_no_session(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake
    arrived = asyncio.Event()

    async def hold(request: web.Request) -> web.StreamResponse | None:
        arrived.set()
        await asyncio.Event().wait()
        return None

    server.hooks["put"] = hold
    client = client_for(endpoint)
    request = asyncio.ensure_future(client.put_object("bucket", "key", b"x"))
    await asyncio.wait_for(arrived.wait(), 5)
    await client.close()
    with pytest.raises(TransportError):
        await asyncio.wait_for(request, 5)
    assert client._engine.own_session is None
    assert server.count("put") == 1


# -- 9. a hostile clock -------------------------------------------------------------------------


async def test_a_server_time_in_year_9999_does_not_break_the_client(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake
    hostile = True

    async def skewed(request: web.Request) -> web.StreamResponse | None:
        if hostile:
            far = "<ServerTime>9999-12-31T23:59:59Z</ServerTime>"
            return _error(403, "RequestTimeTooSkewed", far)
        return None

    server.hooks["put"] = skewed
    async with client_for(endpoint) as client:
        with pytest.raises(RequestTimeTooSkewed):
            await client.put_object("bucket", "key", b"x")
        hostile = False
        await client.put_object("bucket", "key", b"x")
        assert client.presign_get("bucket", "key").startswith(endpoint)
        assert client.clock_offset == 0


# -- 10. the session token never shows ----------------------------------------------------------


def _hex(text: str) -> str:
    return " ".join(f"{b:02x}" for b in text.encode())


async def test_the_session_token_and_signature_are_masked_in_a_signature_mismatch(
    fake: tuple[Uploads, str],
) -> None:
    server, endpoint = fake
    canonical = (
        f"PUT\n/bucket/key\n\nhost:127.0.0.1\nx-amz-security-token:{TOKEN}\n\n"
        "host;x-amz-security-token\nUNSIGNED-PAYLOAD"
    )

    sent: list[str] = []

    async def mismatch(request: web.Request) -> web.Response:
        sent.append(request.headers["Authorization"].rpartition("Signature=")[2])
        fields = (
            f"<SignatureProvided>{sent[-1]}</SignatureProvided>"
            f"<CanonicalRequest>{canonical}</CanonicalRequest>"
            f"<CanonicalRequestBytes>{_hex(canonical)}</CanonicalRequestBytes>"
            f"<StringToSign>AWS4-HMAC-SHA256</StringToSign>"
        )
        return _error(403, "SignatureDoesNotMatch", fields)

    server.hooks["put"] = mismatch
    async with client_for(endpoint, aws_session_token=TOKEN) as client:
        with pytest.raises(SignatureDoesNotMatch) as caught:
            await client.put_object("bucket", "key", b"x")
    error = caught.value
    shown = [str(error), repr(error), repr(error.details), repr(error.args)]
    assert not [text for text in shown if TOKEN in text or TOKEN.encode().hex() in text]
    assert not [text for text in shown if sent[0] in text]
    assert error.details["SignatureProvided"] == "***"
    assert "x-amz-security-token:***" in error.details["CanonicalRequest"]
    decoded = bytes.fromhex(error.details["CanonicalRequestBytes"]).decode()
    assert "x-amz-security-token:***" in decoded


async def test_the_chained_aiohttp_error_shows_no_token() -> None:
    async with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n") as url:
        client = client_for(url, aws_session_token=TOKEN, retry=RetryPolicy(attempts=1))
        async with client:
            with pytest.raises(TransportError) as caught:
                await client.get_object("bucket", "key")
    cause = caught.value.__cause__
    assert cause is not None
    assert hasattr(cause, "request_info"), repr(cause)
    assert TOKEN not in repr(cause)
    assert TOKEN not in str(cause)


@contextlib.asynccontextmanager
async def raw_server(answer: bytes) -> AsyncIterator[str]:
    """A server that answers every request with ``answer``, byte for byte, then closes."""

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(reply, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    finally:
        listener.close()
        await listener.wait_closed()


# -- 11. loose edges ----------------------------------------------------------------------------


async def test_iter_chunks_refuses_a_size_below_one(fake: tuple[Uploads, str]) -> None:
    server, endpoint = fake
    server.objects["key"] = b"abc"
    async with client_for(endpoint) as client, client.open_object("bucket", "key") as stream:
        for size in (0, -1):
            with pytest.raises(ValueError, match="size must be at least 1"):
                _ = [chunk async for chunk in stream.iter_chunks(size)]
        assert await stream.read() == b"abc"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"content_type": "text/plain\r\nx: y"}, ValueError),
        ({"content_type": "text/\ud800"}, ValueError),
        ({"content_type": 7}, TypeError),
        ({"metadata": []}, TypeError),
        ({"metadata": 0}, TypeError),
        ({"metadata": {"a": " padded"}}, ValueError),
        ({"metadata": {"A": "1", "a": "2"}}, ValueError),
    ],
    ids=["crlf", "surrogate", "int type", "list metadata", "zero metadata", "padded", "case"],
)
async def test_uploader_options_are_checked_at_construction(
    fake: tuple[Uploads, str], options: dict[str, Any], error: type[Exception]
) -> None:
    server, endpoint = fake
    async with client_for(endpoint) as client:
        with pytest.raises(error):
            MultipartUploader(client, "bucket", "key", **options)
        with pytest.raises(error):
            await client.put_object("bucket", "key", b"x", **options)
    assert server.log == []


async def test_a_body_only_a_close_can_end_is_refused() -> None:
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhalf of the obj"
    async with (
        raw_server(answer) as url,
        client_for(url, retry=RetryPolicy(attempts=1)) as client,
    ):
        with pytest.raises(ResponseError, match="neither Content-Length nor chunked"):
            await client.get_object("bucket", "key")


# -- helpers ------------------------------------------------------------------------------------


async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]
        await asyncio.sleep(0)
