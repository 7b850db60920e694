"""A local server pretending to be S3 and answering badly: the client stays typed and bounded.

Each bucket name of the fake server is one misbehaviour: an HTML error page, an entity bomb,
an endless error body, an ``<Error>`` inside a 200, a listing with a DTD, a lying ETag, ...
Retries are off (``RetryPolicy(attempts=1)``) unless a test is about them.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest
from aiohttp import web

from rawS3 import (
    IntegrityError,
    ResponseError,
    RetryPolicy,
    S3Client,
    S3Error,
    Timeouts,
    TransportTimeout,
    UploadedPart,
)
from tests.sources import MiB

ONCE = RetryPolicy(attempts=1)
XML = "application/xml"
HTML_PAGE = b"<html><head><title>500</title></head><body><h1>Oops</h1></body></html>"
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE bomb [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<Error><Code>&f;</Code><Message>&f;</Message></Error>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Error [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<Error><Code>AccessDenied</Code><Message>&leak;</Message></Error>"""
LISTING_WITH_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ListBucketResult [<!ENTITY k "secret">]>
<ListBucketResult><Name>doctype-listing</Name><KeyCount>1</KeyCount>
<IsTruncated>false</IsTruncated><Contents><Key>&k;</Key><Size>1</Size>
<ETag>"x"</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>
</ListBucketResult>"""
EMBEDDED_ERROR = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InternalError</Code><Message>the server failed after answering 200</Message>
<RequestId>embedded-1</RequestId></Error>"""
HUGE = 50 * 1000 * 1000
PIECE = b"<Error>" + b"x" * (64 * 1024 - 7)


class Hostile:
    """The fake server's handlers, and what it observed."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.huge_sent = 0
        self.huge_finished = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{bucket}", self.handle)
        app.router.add_route("*", "/{bucket}/{key:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        bucket = request.match_info["bucket"]
        self.hits[bucket] = self.hits.get(bucket, 0) + 1
        await request.read()
        handler = getattr(self, "on_" + bucket.replace("-", "_"))
        response: web.StreamResponse = await handler(request)
        return response

    async def on_html_error(self, request: web.Request) -> web.Response:
        return web.Response(status=500, body=HTML_PAGE, content_type="text/html")

    async def on_entity_bomb(self, request: web.Request) -> web.Response:
        return web.Response(status=400, body=BOMB, content_type=XML)

    async def on_external_entity(self, request: web.Request) -> web.Response:
        return web.Response(status=403, body=EXTERNAL_ENTITY, content_type=XML)

    async def on_huge_error(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, status=500)

    async def on_huge_listing(self, request: web.Request) -> web.StreamResponse:
        # Far past the 64 MiB cap: what is left then must not fit in socket buffers, or the
        # server could finish writing before the client hangs up.
        return await self._stream(request, status=200, total=256 * MiB)

    async def _stream(
        self, request: web.Request, *, status: int, total: int = HUGE
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": XML})
        response.content_length = total
        await response.prepare(request)
        try:
            while self.huge_sent < total:
                await response.write(PIECE)
                self.huge_sent += len(PIECE)
        except (ConnectionError, RuntimeError):
            return response
        self.huge_finished = True
        return response

    async def on_embedded_error(self, request: web.Request) -> web.Response:
        return web.Response(status=200, body=EMBEDDED_ERROR, content_type=XML)

    async def on_doctype_listing(self, request: web.Request) -> web.Response:
        return web.Response(status=200, body=LISTING_WITH_DTD, content_type=XML)

    async def on_not_xml_listing(self, request: web.Request) -> web.Response:
        return web.Response(status=200, body=b"{\"json\": true}", content_type="application/json")

    async def on_lying_etag(self, request: web.Request) -> web.Response:
        return web.Response(status=200, headers={"ETag": '"00000000000000000000000000000000"'})

    async def on_bodiless_head(self, request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def on_redirect(self, request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": "http://127.0.0.1:9/elsewhere"})

    async def on_stall(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": XML})
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b"<ListBucketResult>")
        await _sleep_forever()
        return response


async def _sleep_forever() -> None:
    import asyncio

    await asyncio.Event().wait()


@pytest.fixture
async def hostile(aiohttp_server: Any) -> tuple[Hostile, str]:
    fake = Hostile()
    server = await aiohttp_server(fake.app())
    return fake, f"http://127.0.0.1:{server.port}"


def client_for(endpoint: str, **options: Any) -> S3Client:
    options.setdefault("retry", ONCE)
    return S3Client(endpoint, "AKIDHOSTILE", "hostile-test-secret", **options)


async def test_html_error_page_gives_a_code_from_the_status(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.get_object("html-error", "key")
    assert caught.value.code == "InternalError"
    assert caught.value.status == 500
    assert "unreadable error body" in caught.value.message


async def test_entity_bomb_is_not_expanded(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    started = time.monotonic()
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.get_object("entity-bomb", "key")
    assert time.monotonic() - started < 1
    error = caught.value
    assert error.status == 400
    assert error.code == "BadRequest"
    assert "DTD" in error.message or "DOCTYPE" in error.message
    assert "aaaaaaaaaa" not in str(error)
    assert len(str(error)) < 1000


async def test_external_entity_is_not_resolved(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.get_object("external-entity", "key")
    assert caught.value.code == "AccessDenied"  # from the 403, the document being refused
    assert "root:" not in str(caught.value) + repr(caught.value.details)


async def test_gigantic_error_body_is_read_only_up_to_a_cap(hostile: tuple[Hostile, str]) -> None:
    fake, endpoint = hostile
    tracemalloc.start()
    started = time.monotonic()
    try:
        async with client_for(endpoint) as client:
            with pytest.raises((ResponseError, S3Error)):
                await client.get_object("huge-error", "key")
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2
    assert not fake.huge_finished
    assert fake.huge_sent < HUGE // 4, f"the server got to send {fake.huge_sent:,} bytes"
    assert peak < 8 * MiB, f"peak memory {peak:,} bytes"


async def test_gigantic_listing_is_refused_past_the_cap(hostile: tuple[Hostile, str]) -> None:
    fake, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(ResponseError, match="more than"):
            [item async for item in client.list_objects("huge-listing")]
    assert not fake.huge_finished


async def test_error_inside_a_200_complete_is_raised(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    parts = [UploadedPart(1, '"0123456789abcdef0123456789abcdef"', 5 * MiB)]
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.complete_multipart_upload("embedded-error", "key", "upload-1", parts)
    assert caught.value.code == "InternalError"
    assert caught.value.request_id == "embedded-1"


async def test_error_inside_a_200_copy_is_raised(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.copy_object("source", "key", "embedded-error", "key")
    assert caught.value.code == "InternalError"


async def test_listing_with_a_doctype_is_refused(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(ResponseError, match=r"DTD|DOCTYPE"):
            [item async for item in client.list_objects("doctype-listing")]


async def test_listing_that_is_not_xml_is_refused(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(ResponseError):
            [item async for item in client.list_objects("not-xml-listing")]


async def test_etag_that_is_not_the_md5_sent_is_an_integrity_error(
    hostile: tuple[Hostile, str],
) -> None:
    _, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(IntegrityError):
            await client.put_object("lying-etag", "key", b"payload", content_md5=True)
        with pytest.raises(IntegrityError):
            await client.upload_part(
                "lying-etag", "key", "upload-1", 1, b"payload", content_md5=True
            )


async def test_bodiless_error_is_typed_from_its_status_and_retried(
    hostile: tuple[Hostile, str],
) -> None:
    fake, endpoint = hostile
    retry = RetryPolicy(attempts=3, base=0.001, cap=0.002)
    async with client_for(endpoint, retry=retry) as client:
        with pytest.raises(S3Error) as caught:
            await client.head_object("bodiless-head", "key")
    assert caught.value.status == 503
    assert fake.hits["bodiless-head"] == 3


async def test_redirect_is_not_followed(hostile: tuple[Hostile, str]) -> None:
    fake, endpoint = hostile
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.get_object("redirect", "key")
    assert caught.value.status == 307
    assert fake.hits["redirect"] == 1


async def test_stalled_answer_times_out(hostile: tuple[Hostile, str]) -> None:
    _, endpoint = hostile
    started = time.monotonic()
    async with client_for(endpoint, timeouts=Timeouts(read=0.3)) as client:
        with pytest.raises(TransportTimeout):
            [item async for item in client.list_objects("stall")]
    assert time.monotonic() - started < 3
