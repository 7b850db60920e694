"""A scripted fault-injection proxy to put between an ``S3Client`` and a real S3 server.

The proxy listens on 127.0.0.1 only and relays HTTP/1.1 byte for byte: the request head (Host
header included) and body reach the server unchanged, so signatures made for the proxy's
address stay valid. A list of ``Rule`` objects decides, request by request, whether to
misbehave instead::

    rules = [Rule(SLOW_DOWN, operation="PutObject", times=2)]
    async with FaultProxy(server.endpoint, rules) as proxy:
        client = S3Client(proxy.endpoint, ...)
        ...
    assert proxy.injected_total == 2

Faults: an S3 XML error answer (``SLOW_DOWN``, ``INTERNAL_ERROR``); a connection reset before
the request body is forwarded (``RESET_BEFORE_BODY``) or after the server has answered, so the
server acted but the client never hears it (``RESET_AFTER_BODY``); an answer held back for some
seconds (``delay``); an answer cut off halfway (``TRUNCATE``); one byte of the request body
inverted on the way (``FLIP_BYTE``).

``proxied`` gives a scripted proxy and a client behind it; ``settle`` checks a scenario's end
state with a client that bypasses the proxy. ``TALLY`` adds up, across a test session, the
faults injected, the faults the client recovered from, the objects read back byte-exact and
the multipart uploads left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

import pytest

from rawS3 import NoSuchKey, RetryPolicy, S3Client
from rawS3.parts import multipart_etag, split
from tests.conftest import TestServer, make_client

__all__ = [
    "FAST_RETRY",
    "FLIP_BYTE",
    "INTERNAL_ERROR",
    "RESET_AFTER_BODY",
    "RESET_BEFORE_BODY",
    "SLOW_DOWN",
    "TALLY",
    "TRUNCATE",
    "Fault",
    "FaultProxy",
    "Request",
    "Rule",
    "Tally",
    "delay",
    "expected_etag",
    "proxied",
    "settle",
]

_HEAD_END = b"\r\n\r\n"
_HEAD_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Fault:
    """One way to misbehave: ``kind`` is error, reset-before, reset-after, delay, truncate, flip."""

    kind: str
    status: int = 0
    code: str = ""
    seconds: float = 0.0
    message: str = "fault injected by the test proxy"  # an error answer's <Message>

    @property
    def name(self) -> str:
        if self.kind == "error":
            return f"{self.status} {self.code}"
        if self.kind == "delay":
            return f"delay {self.seconds:g}s"
        return self.kind


SLOW_DOWN = Fault("error", 503, "SlowDown")
INTERNAL_ERROR = Fault("error", 500, "InternalError")
RESET_BEFORE_BODY = Fault("reset-before")
RESET_AFTER_BODY = Fault("reset-after")
TRUNCATE = Fault("truncate")
FLIP_BYTE = Fault("flip")


def delay(seconds: float) -> Fault:
    """Forward the request, then hold the answer back ``seconds`` before sending it."""
    return Fault("delay", seconds=seconds)


@dataclass(frozen=True)
class Request:
    """A request as the proxy saw it (path-style addressing: ``/bucket/key``)."""

    number: int
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]

    @property
    def has_key(self) -> bool:
        return bool(self.path.lstrip("/").partition("/")[2])

    @property
    def operation(self) -> str:
        """The S3 operation name, e.g. ``UploadPart`` or ``CompleteMultipartUpload``."""
        q, m = self.query, self.method
        copy = "x-amz-copy-source" in self.headers
        if m == "PUT" and "partNumber" in q:
            return "UploadPartCopy" if copy else "UploadPart"
        if m == "POST":
            if "uploads" in q:
                return "CreateMultipartUpload"
            return "CompleteMultipartUpload" if "uploadId" in q else "DeleteObjects"
        if m == "DELETE" and "uploadId" in q:
            return "AbortMultipartUpload"
        if m == "GET" and ("uploads" in q or "uploadId" in q):
            return "ListMultipartUploads" if "uploads" in q else "ListParts"
        return _SIMPLE.get((m, self.has_key, copy), f"{m} {self.path}")


_SIMPLE = {
    ("PUT", True, False): "PutObject",
    ("PUT", True, True): "CopyObject",
    ("PUT", False, False): "CreateBucket",
    ("GET", True, False): "GetObject",
    ("GET", False, False): "ListObjects",
    ("HEAD", True, False): "HeadObject",
    ("HEAD", False, False): "HeadBucket",
    ("DELETE", True, False): "DeleteObject",
    ("DELETE", False, False): "DeleteBucket",
}


@dataclass
class Rule:
    """When to inject which fault.

    A request matches when every given criterion holds: ``operation``, ``method``, each
    ``query`` name present (with that value unless the value is ``None``), and ``when``.
    Of the matching requests every ``every``-th one gets a fault, at most ``times`` in all;
    a sequence of faults is used in turn.
    """

    faults: Fault | Sequence[Fault]
    operation: str | None = None
    method: str | None = None
    query: Mapping[str, str | None] = field(default_factory=dict)
    when: Callable[[Request], bool] | None = None
    every: int = 1
    times: int | None = None
    matched: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, request: Request) -> bool:
        if self.operation is not None and request.operation != self.operation:
            return False
        if self.method is not None and request.method != self.method:
            return False
        for name, value in self.query.items():
            if name not in request.query or (value is not None and request.query[name] != value):
                return False
        return self.when is None or self.when(request)

    def decide(self, request: Request) -> Fault | None:
        if not self.matches(request):
            return None
        self.matched += 1
        if self.matched % self.every or (self.times is not None and self.fired >= self.times):
            return None
        faults = [self.faults] if isinstance(self.faults, Fault) else list(self.faults)
        self.fired += 1
        return faults[(self.fired - 1) % len(faults)]


@dataclass
class _Message:
    head: bytes
    body: bytes

    @property
    def raw(self) -> bytes:
        return self.head + self.body


class FaultProxy:
    """Relay HTTP/1.1 between clients and ``upstream``, injecting the faults ``rules`` pick.

    Attributes:
        seen: every request received, in order, with the fault applied to it (or ``None``).
        injected: faults injected, counted by ``Fault.name``.
        problems: anything that went wrong in the proxy itself (should stay empty).
    """

    def __init__(self, upstream: str, rules: Sequence[Rule] = ()) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the proxy relays plain http only, got {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.rules = list(rules)
        self.seen: list[tuple[Request, Fault | None]] = []
        self.injected: Counter[str] = Counter()
        self.problems: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the proxy is not running"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    @property
    def injected_total(self) -> int:
        return sum(self.injected.values())

    def count(self, operation: str | None = None, **query: str) -> int:
        """Count the requests seen for ``operation`` (all if ``None``) carrying ``query``."""
        return sum(
            1
            for request, _ in self.seen
            if (operation is None or request.operation == operation)
            and all(request.query.get(name) == value for name, value in query.items())
        )

    def faults_on(self, operation: str) -> int:
        return sum(1 for r, fault in self.seen if fault is not None and r.operation == operation)

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._track, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    # -- one client connection ---------------------------------------------------------------

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        upstream = _Upstream(self._upstream, self._writers)
        try:
            await self._serve(reader, writer, upstream)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request: what a client does after a timeout
        except Exception as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            upstream.close()
            writer.transport.abort()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: _Upstream
    ) -> None:
        while True:
            head = await _read_head(reader)
            if head is None:
                return
            request = self._request(head)
            fault = self._decide(request)
            self.seen.append((request, fault))
            if fault is not None:
                self.injected[fault.name] += 1
            if fault == RESET_BEFORE_BODY:
                _reset(writer)
                return
            message = _Message(head, await _read_body(reader, _headers(head)))
            if not await self._answer(message, request, fault, reader, writer, upstream):
                return

    def _request(self, head: bytes) -> Request:
        line, *_ = head.split(b"\r\n", 1)
        method, target, _version = line.decode("latin-1").split(" ", 2)
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return Request(len(self.seen) + 1, method, parts.path, query, _headers(head))

    def _decide(self, request: Request) -> Fault | None:
        for rule in self.rules:
            fault = rule.decide(request)
            if fault is not None:
                return fault
        return None

    async def _answer(
        self,
        message: _Message,
        request: Request,
        fault: Fault | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
    ) -> bool:
        """Answer one request; return whether the client connection stays usable."""
        if fault is not None and fault.kind == "error":
            writer.write(_error_answer(fault, request.number))
            await writer.drain()
            return True
        if fault == FLIP_BYTE and message.body:
            message = _Message(message.head, _flipped(message.body))
        try:
            answer = await upstream.exchange(message, request.method)
        except (OSError, asyncio.IncompleteReadError) as exc:
            # Not a scripted fault: the test would see a failure it did not ask for.
            self.problems.append(f"upstream failed on {request.operation}: {exc!r}")
            return False
        if fault == RESET_AFTER_BODY:
            _reset(writer)
            return False
        if fault == TRUNCATE:
            writer.write(_truncated(answer))
            await writer.drain()
            _reset(writer)
            return False
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            if reader.at_eof():
                return False
        writer.write(answer.raw)
        await writer.drain()
        return not _closes(answer.head)


class _Upstream:
    """The proxy's connection to the real server for one client connection, opened on demand."""

    def __init__(self, address: tuple[str, int], writers: set[asyncio.StreamWriter]) -> None:
        self._address = address
        self._writers = writers
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, message: _Message, method: str) -> _Message:
        reused = self._streams is not None
        try:
            return await self._exchange(message, method)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
        # A kept-alive connection the server had closed meanwhile: one fresh try.
        self.close()
        return await self._exchange(message, method)

    async def _exchange(self, message: _Message, method: str) -> _Message:
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
            self._writers.add(self._streams[1])
        reader, writer = self._streams
        writer.write(message.raw)
        await writer.drain()
        head = await _read_head(reader)
        if head is None:
            raise ConnectionResetError("the server closed the connection without answering")
        body = await _read_answer_body(reader, head, method)
        if _closes(head) or _until_close(head, method):
            self.close()
        return _Message(head, body)

    def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            writer.transport.abort()
            self._writers.discard(writer)
            self._streams = None


# -- HTTP/1.1 framing ---------------------------------------------------------------------------


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(_HEAD_END)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = (line.partition(":") for line in lines if line)
    return {name.strip().lower(): value.strip() for name, _, value in pairs}


def _status(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def _closes(head: bytes) -> bool:
    return _headers(head).get("connection", "").lower() == "close"


def _until_close(head: bytes, method: str) -> bool:
    headers = _headers(head)
    return (
        "content-length" not in headers
        and "chunked" not in headers.get("transfer-encoding", "").lower()
        and _has_body(method, _status(head))
    )


def _has_body(method: str, status: int) -> bool:
    return method != "HEAD" and status >= 200 and status not in (204, 304)


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    """Read a request body exactly as framed (chunked framing kept, so it is relayed as is)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    return await reader.readexactly(int(headers.get("content-length", "0")))


async def _read_answer_body(reader: asyncio.StreamReader, head: bytes, method: str) -> bytes:
    if not _has_body(method, _status(head)):
        return b""
    if _until_close(head, method):
        return await reader.read()
    return await _read_body(reader, _headers(head))


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        out += line
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        out += await reader.readexactly(size + 2)
    while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
        out += trailer
    out += b"\r\n"
    return bytes(out)


def _truncated(answer: _Message) -> bytes:
    """Half the body; half the head when there is no body to cut."""
    if answer.body:
        return answer.head + answer.body[: len(answer.body) // 2]
    return answer.head[: len(answer.head) // 2]


def _flipped(body: bytes) -> bytes:
    middle = len(body) // 2
    return body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed server or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _error_answer(fault: Fault, number: int) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
        f"<RequestId>fault-{number}</RequestId></Error>"
    ).encode()
    reason = {500: "Internal Server Error", 503: "Service Unavailable"}.get(fault.status, "Error")
    head = (
        f"HTTP/1.1 {fault.status} {reason}\r\n"
        "Content-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"x-amz-request-id: fault-{number}\r\n"
        f"Date: {formatdate(usegmt=True)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


# -- session figures ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Figures over a whole test session."""

    injected: int = 0
    survived: int = 0
    surfaced: int = 0
    verified: int = 0
    left_behind: int = 0
    scenarios: int = 0

    def record(self, proxy: FaultProxy, *, recovered: bool) -> None:
        """Add a finished scenario's faults: recovered from, or surfaced as a typed error."""
        self.scenarios += 1
        self.injected += proxy.injected_total
        if recovered:
            self.survived += proxy.injected_total
        else:
            self.surfaced += proxy.injected_total

    def summary(self) -> str:
        return (
            f"fault scenarios: {self.scenarios}; faults injected: {self.injected}; "
            f"survived: {self.survived}; surfaced as typed errors: {self.surfaced}; "
            f"objects verified byte-exact: {self.verified}; uploads left behind: {self.left_behind}"
        )


TALLY = Tally()


# -- scenario helpers ---------------------------------------------------------------------------

# Short waits: the backoff schedule itself is unit-tested; here only the outcome matters.
FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@contextlib.asynccontextmanager
async def proxied(
    server: TestServer, rules: Sequence[Rule], **options: object
) -> AsyncIterator[tuple[FaultProxy, S3Client]]:
    """A proxy scripted with ``rules`` and a client that talks to ``server`` through it.

    The client signs for the proxy's address; the proxy passes the Host header on unchanged.
    """
    options.setdefault("retry", FAST_RETRY)
    async with FaultProxy(server.endpoint, rules) as proxy:
        through = dataclasses.replace(server, endpoint=proxy.endpoint)
        async with make_client(through, **options) as client:
            yield proxy, client
    assert proxy.problems == []


async def settle(
    direct: S3Client,
    bucket: str,
    key: str,
    proxy: FaultProxy,
    expected: bytes | None,
    *,
    recovered: bool = True,
) -> None:
    """Check a scenario's outcome with a client that bypasses the proxy, and add it to ``TALLY``.

    Args:
        expected: the bytes the key must hold, or ``None`` for no object at all.
        recovered: whether the client got past the faults (``False``: they surfaced as the
            typed error the scenario scripted).
    """
    left = await direct.list_multipart_uploads(bucket)
    TALLY.left_behind += len(left)
    TALLY.record(proxy, recovered=recovered)
    if expected is None:
        with pytest.raises(NoSuchKey):
            await direct.head_object(bucket, key)
    else:
        assert await direct.get_object(bucket, key) == expected
        TALLY.verified += 1
    assert left == []


def expected_etag(data: bytes, part_size: int) -> str:
    """The ETag S3 gives ``data`` uploaded in parts of ``part_size`` (unquoted)."""
    return multipart_etag(
        hashlib.md5(data[offset : offset + size]).digest()
        for offset, size in split(len(data), part_size)
    )
