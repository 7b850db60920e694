"""The server's ceiling: a deliberately minimal client, to show how fast the server itself is.

Requests are presigned URLs (``UNSIGNED-PAYLOAD``: nothing is hashed) written to raw
non-blocking sockets with the event loop's ``sock_*`` calls; part bodies are sent from views of
the caller's buffer, never copied. Answers are read just far enough to find the status, the
ETag and the end of the body; the only XML looked at is the upload id. No retries, no checks
beyond the status. What it costs the client is close to nothing, so its rate is what the
server can take, and every real client is reported as a percentage of it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from datetime import datetime, timezone
from types import TracebackType

from bench.clients.parts import slices
from bench.common import Endpoint, Transfer
from rawS3.sigv4 import Credentials, presign
from rawS3.urls import build_url, parse_endpoint

EXPIRES = 3600
RECV_SIZE = 256 * 1024
SEND_SLICE = 1024 * 1024


class HTTPStatusError(RuntimeError):
    """The server answered with an unexpected status."""


class Connection:
    """One keep-alive HTTP/1.1 connection over a non-blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        return cls(sock)

    async def send(self, head: bytes, body: Iterable[bytes | memoryview]) -> None:
        await self.loop.sock_sendall(self.sock, head)
        for piece in body:
            await self.loop.sock_sendall(self.sock, piece)

    async def receive(self) -> tuple[int, bytes, bytes]:
        """Read one answer: ``(status, header block, body)``."""
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            await self._fill(buf)
        head = bytes(buf[: end + 4]).lower()
        del buf[: end + 4]
        status = int(head[9:12])
        if b"transfer-encoding: chunked" in head:
            return status, head, await self._chunked(buf)
        length = _header_int(head, b"content-length:")
        while len(buf) < length:
            await self._fill(buf)
        return status, head, bytes(buf[:length])

    async def _chunked(self, buf: bytearray) -> bytes:
        body = bytearray()
        while True:
            while (eol := buf.find(b"\r\n")) < 0:
                await self._fill(buf)
            size = int(bytes(buf[:eol]).split(b";")[0], 16)
            while len(buf) < eol + 2 + size + 2:
                await self._fill(buf)
            body += buf[eol + 2 : eol + 2 + size]
            del buf[: eol + 2 + size + 2]
            if size == 0:
                return bytes(body)

    async def _fill(self, buf: bytearray) -> None:
        data = await self.loop.sock_recv(self.sock, RECV_SIZE)
        if not data:
            raise ConnectionError("the server closed the connection")
        buf += data

    def close(self) -> None:
        self.sock.close()


def _header_int(head: bytes, name: bytes) -> int:
    at = head.find(b"\r\n" + name)
    if at < 0:
        return 0
    return int(head[at + 2 + len(name) : head.index(b"\r\n", at + 2)].strip())


def _header(head: bytes, name: bytes) -> str:
    at = head.find(b"\r\n" + name)
    if at < 0:
        return ""
    return head[at + 2 + len(name) : head.index(b"\r\n", at + 2)].strip().decode()


class Client:
    blocking = False

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = parse_endpoint(endpoint.url)
        if self._endpoint.scheme != "http":
            raise ValueError("the ceiling client speaks plain http only")
        self._host = self._endpoint.host
        self._port = self._endpoint.port or 80
        self._host_header = f"{self._host}:{self._port}"
        self._credentials = Credentials(endpoint.access_key, endpoint.secret_key)
        self._region = endpoint.region
        self._idle: list[Connection] = []
        self._presigned: dict[tuple[str, str], str] = {}

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    def _url(
        self, method: str, bucket: str, key: str, query: tuple[tuple[str, str | None], ...] = ()
    ) -> str:
        url = build_url(self._endpoint, bucket, key, query or None)
        return presign(
            method,
            url,
            credentials=self._credentials,
            region=self._region,
            now=datetime.now(timezone.utc),
            expires=EXPIRES,
        )

    def _target(self, url: str) -> str:
        return url.split(self._host_header, 1)[1]

    async def _exchange(
        self, method: str, url: str, body: bytes | memoryview = b"", ok: int = 200
    ) -> tuple[bytes, bytes]:
        conn = self._idle.pop() if self._idle else await Connection.open(self._host, self._port)
        head = (
            f"{method} {self._target(url)} HTTP/1.1\r\nHost: {self._host_header}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        try:
            if len(body) <= SEND_SLICE:
                await conn.send(head + body, ())
            else:
                await conn.send(head, slices(body, SEND_SLICE))  # type: ignore[arg-type]
            status, headers, answer = await conn.receive()
        except BaseException:
            conn.close()
            raise
        self._idle.append(conn)
        if status != ok:
            raise HTTPStatusError(f"{method} answered {status}: {answer[:300]!r}")
        return headers, answer

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            raise ValueError("the ceiling client runs the matched settings only")
        create = self._url("POST", bucket, key, (("uploads", None),))
        _, answer = await self._exchange("POST", create)
        upload_id = answer.split(b"<UploadId>", 1)[1].split(b"</UploadId>", 1)[0].decode()
        view = memoryview(data)
        offsets = range(0, len(data), transfer.part_size)
        etags: list[str] = [""] * len(offsets)
        slots = asyncio.Semaphore(transfer.concurrency)

        async def part(index: int, offset: int) -> None:
            query = (("partNumber", str(index + 1)), ("uploadId", upload_id))
            async with slots:
                headers, _ = await self._exchange(
                    "PUT",
                    self._url("PUT", bucket, key, query),
                    view[offset : offset + transfer.part_size],
                )
            etags[index] = _header(headers, b"etag:")

        await asyncio.gather(*(part(i, offset) for i, offset in enumerate(offsets)))
        listing = "".join(
            f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{etag}</ETag></Part>"
            for i, etag in enumerate(etags)
        )
        document = f"<CompleteMultipartUpload>{listing}</CompleteMultipartUpload>".encode()
        query = (("uploadId", upload_id),)
        _, answer = await self._exchange("POST", self._url("POST", bucket, key, query), document)
        if b"<Error>" in answer:
            raise HTTPStatusError(f"CompleteMultipartUpload failed: {answer[:300]!r}")

    async def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        raise NotImplementedError("the ceiling is measured for small PUTs and the large upload")

    def prepare(self, bucket: str, keys: Iterable[str]) -> None:
        """Presign every small PUT and GET before the clock starts."""
        for key in keys:
            for method in ("PUT", "GET"):
                self._presigned[method, key] = self._url(method, bucket, key)

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self._exchange("PUT", self._presigned["PUT", key], data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        _, body = await self._exchange("GET", self._presigned["GET", key])
        return body
