"""rawS3's own session honours ``HTTP_PROXY`` and ``NO_PROXY``: an upload and a download go
through a local forward proxy when the variable names it, and straight to the server when
``NO_PROXY`` covers the server's host.

The proxy is a small aiohttp application on 127.0.0.1 that takes absolute-URI requests
(``PUT http://host:port/bucket/key HTTP/1.1``, as a client sends them to an http proxy),
forwards each one as it came (headers, signature and bytes unchanged) and counts them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from rawS3 import S3Client
from tests.conftest import TestServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass
class ForwardProxy:
    url: str = ""
    seen: list[str] = field(default_factory=list)

    async def forward(self, request: web.Request) -> web.Response:
        target = request.raw_path
        if not target.startswith("http://"):
            return web.Response(status=400, text="not a proxy request")
        self.seen.append(f"{request.method} {target}")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                URL(target, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                skip_auto_headers={"Content-Type", "Accept-Encoding", "Accept", "User-Agent"},
            ) as answer,
        ):
            payload = await answer.read()
            back = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=answer.status, body=payload, headers=back)


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    state = ForwardProxy()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", state.forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def proxied_client(server: TestServer) -> S3Client:
    return S3Client(
        server.endpoint,
        server.access_key,
        server.secret_key,
        region=server.region,
    )


async def test_upload_and_download_go_through_http_proxy(
    s3_server: TestServer, bucket: str, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    body = b"through the proxy " * 1000
    async with proxied_client(s3_server) as s3:
        await s3.put_object(bucket, "proxied.txt", body)
        assert await s3.get_object(bucket, "proxied.txt") == body
    host = s3_server.endpoint.removeprefix("http://")
    assert proxy.seen == [
        f"PUT http://{host}/{bucket}/proxied.txt",
        f"GET http://{host}/{bucket}/proxied.txt",
    ]


async def test_no_proxy_sends_requests_straight_to_the_server(
    s3_server: TestServer, bucket: str, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with proxied_client(s3_server) as s3:
        await s3.put_object(bucket, "direct.txt", b"direct")
        assert await s3.get_object(bucket, "direct.txt") == b"direct"
    assert proxy.seen == []
