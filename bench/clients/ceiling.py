"""The server's ceiling: a deliberately minimal client, to show how fast the server itself is.

Requests are presigned URLs (``UNSIGNED-PAYLOAD``: nothing is hashed) written to raw
non-blocking sockets with the event loop's ``sock_*`` calls; part bodies are sent from views of
the caller's buffer, never copied. Answers are read just far enough to find the status, the
ETag and the end of the body; the only XML looked at is the upload id. No retries, no checks
beyond the status. What it costs the client is close to nothing, so its rate is what the
server can take, and every real client is reported as a percentage of it.

``SignedClient`` (the "ceiling-signed" row) signs each request with an Authorization header
over the body's SHA-256 instead, as rawS3's default does over http: the client hashes every
byte and the server verifies it, so a signed client's "% of signed ceiling" compares equal
integrity work. Downloads are parallel ranged GETs written at their offsets (``os.pwrite``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import Iterable
from datetime import datetime, timezone
from types import TracebackType

from bench.clients.parts import slices, write_at
from bench.common import MATCHED, Endpoint, Transfer
from rawS3.sigv4 import Credentials, presign, sign
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
    signed = False

    @classmethod
    def settings(cls, transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        how = (
            "Authorization header over the body's SHA-256" if cls.signed
            else "presigned URLs, UNSIGNED-PAYLOAD (nothing hashed)"
        )
        where = "" if transfer is None else (
            f"{transfer.part_size >> 20} MiB × {transfer.concurrency}; "
        )
        return f"{where}{how}; raw sockets, no retries, status checks only"

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
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

    def _signed_url(
        self, method: str, bucket: str, key: str,
        query: tuple[tuple[str, str | None], ...] = (), body: bytes | memoryview = b"",
        extra: dict[str, str] | None = None,
    ) -> tuple[str, str]:
        """``(url, extra header lines)`` of a request: presigned, or signed when ``signed``."""
        if not self.signed:
            return self._url(method, bucket, key, query), "".join(
                f"{k}: {v}\r\n" for k, v in (extra or {}).items()
            )
        url = build_url(self._endpoint, bucket, key, query or None)
        headers = sign(
            method, url, extra or {}, payload_hash=hashlib.sha256(body).hexdigest(),
            credentials=self._credentials, region=self._region,
            now=datetime.now(timezone.utc),
        )
        return url, "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def _call(
        self, method: str, bucket: str, key: str,
        query: tuple[tuple[str, str | None], ...] = (), body: bytes | memoryview = b"",
        ok: int = 200, extra: dict[str, str] | None = None,
    ) -> tuple[bytes, bytes]:
        url, lines = self._signed_url(method, bucket, key, query, body, extra)
        return await self._exchange(method, url, body, ok, lines)

    async def _exchange(
        self, method: str, url: str, body: bytes | memoryview = b"", ok: int = 200,
        lines: str = "",
    ) -> tuple[bytes, bytes]:
        conn = self._idle.pop() if self._idle else await Connection.open(self._host, self._port)
        head = (
            f"{method} {self._target(url)} HTTP/1.1\r\nHost: {self._host_header}\r\n"
            f"{lines}Content-Length: {len(body)}\r\n\r\n"
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
        _, answer = await self._call("POST", bucket, key, (("uploads", None),))
        upload_id = answer.split(b"<UploadId>", 1)[1].split(b"</UploadId>", 1)[0].decode()
        view = memoryview(data)
        offsets = range(0, len(data), transfer.part_size)
        etags: list[str] = [""] * len(offsets)
        slots = asyncio.Semaphore(transfer.concurrency)

        async def part(index: int, offset: int) -> None:
            query = (("partNumber", str(index + 1)), ("uploadId", upload_id))
            async with slots:
                headers, _ = await self._call(
                    "PUT", bucket, key, query, view[offset : offset + transfer.part_size]
                )
            etags[index] = _header(headers, b"etag:")

        await asyncio.gather(*(part(i, offset) for i, offset in enumerate(offsets)))
        listing = "".join(
            f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{etag}</ETag></Part>"
            for i, etag in enumerate(etags)
        )
        document = f"<CompleteMultipartUpload>{listing}</CompleteMultipartUpload>".encode()
        query = (("uploadId", upload_id),)
        _, answer = await self._call("POST", bucket, key, query, document)
        if b"<Error>" in answer:
            raise HTTPStatusError(f"CompleteMultipartUpload failed: {answer[:300]!r}")

    async def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        raise NotImplementedError("the ceiling is measured for small PUTs and the large upload")

    async def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        transfer = transfer or MATCHED
        part = transfer.part_size
        headers, first = await self._call(
            "GET", bucket, key, ok=206, extra={"range": f"bytes=0-{part - 1}"}
        )
        size = int(_header(headers, b"content-range:").rsplit("/", 1)[1])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(fd, size)
            write_at(fd, first, 0)
            slots = asyncio.Semaphore(transfer.concurrency)

            async def one(start: int) -> None:
                end = min(start + part, size) - 1
                async with slots:
                    _, body = await self._call(
                        "GET", bucket, key, ok=206, extra={"range": f"bytes={start}-{end}"}
                    )
                write_at(fd, body, start)

            await asyncio.gather(*(one(start) for start in range(part, size, part)))
        finally:
            os.close(fd)

    def prepare(self, bucket: str, keys: Iterable[str]) -> None:
        """Presign every small PUT and GET before the clock starts (unsigned form only)."""
        if self.signed:
            return
        for key in keys:
            for method in ("PUT", "GET"):
                self._presigned[method, key] = self._url(method, bucket, key)

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        url = self._presigned.get(("PUT", key))
        if url is None:
            await self._call("PUT", bucket, key, body=data)
        else:
            await self._exchange("PUT", url, data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        url = self._presigned.get(("GET", key))
        if url is None:
            _, body = await self._call("GET", bucket, key)
        else:
            _, body = await self._exchange("GET", url)
        return body


class SignedClient(Client):
    signed = True
