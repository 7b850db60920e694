"""rawS3's own session honours ``HTTP_PROXY`` and ``NO_PROXY``: an upload and a download go
through a local forward proxy when the variable names it, and straight to the server when
``NO_PROXY`` covers the server's host.

For https, a tunnel proxy answers ``CONNECT`` and relays bytes, selected by ``HTTPS_PROXY``.

The http proxy is a small aiohttp application on 127.0.0.1 that takes absolute-URI requests
(``PUT http://host:port/bucket/key HTTP/1.1``, as a client sends them to an http proxy),
forwards each one as it came (headers, signature and bytes unchanged) and counts them.
"""

from __future__ import annotations

import asyncio
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


@dataclass
class TunnelProxy:
    """An HTTPS proxy: ``CONNECT host:port`` opens a TCP tunnel; the TLS inside is the
    client's with the server, so the proxy sees neither the request nor the signature."""

    url: str = ""
    connects: list[str] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.connects.append(target)
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            writer.close()


async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.close()


@pytest.fixture
async def tunnel() -> AsyncIterator[TunnelProxy]:
    state = TunnelProxy()
    server = await asyncio.start_server(state.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.unsupported("moto", reason="the moto these tests start serves plain http only")
async def test_https_goes_through_https_proxy_with_connect(
    s3_server: TestServer, bucket: str, tunnel: TunnelProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert s3_server.https_endpoint is not None
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", tunnel.url)
    async with S3Client(
        s3_server.https_endpoint,
        s3_server.access_key,
        s3_server.secret_key,
        region=s3_server.region,
        ca_file=s3_server.ca_file,
    ) as s3:
        await s3.put_object(bucket, "tunnelled.txt", b"tunnelled")
        assert await s3.get_object(bucket, "tunnelled.txt") == b"tunnelled"
    host = s3_server.https_endpoint.removeprefix("https://")
    assert tunnel.connects
    assert set(tunnel.connects) == {host}
