"""An in-process fake S3 server with a fault schedule, for the property tests.

It serves aiohttp.web on 127.0.0.1 (port 0) from a thread with an event loop of its own, so the
loop of the client under test holds only the client's tasks: "no task left behind" can then be
checked exactly, and the server's hashing runs beside the client's instead of inside its loop.
It does not verify signatures; it is for scheduling, retries and cleanup, not signing (the
integration tests against RGW cover that). Payload SHA-256, Content-MD5 and the aws-chunked
framing are checked, because a body that changed while it was sent is exactly what it hunts.

Operations: PutObject (plain or aws-chunked), GetObject (with Range), HeadObject, DeleteObject,
CreateMultipartUpload, UploadPart, CompleteMultipartUpload (checks the part list, gives the
md5-of-md5s-N ETag), AbortMultipartUpload, ListMultipartUploads, ListParts and ListObjectsV2
(the last three paged, with page sizes the test chooses).

A fault schedule is a list of ``Inject`` rules: the ``at``-th request of the run, or the
``nth`` request of an ``operation`` (each of them when ``nth`` is None), gets a ``Fault``. The
first matching rule wins. ``on_request`` is called (in the server's thread) as each request
arrives, which is how a test cancels its client at request k.

The second half of the module is the property tests' side of it: ``exercise`` runs one
operation with a fresh client (cancelled at request k or after n loop turns, within a request
budget and a time limit) and collects what it left behind; ``verdict`` checks the properties
every run must have; then the strategies and buffer types the tests draw from. ``TALLY`` adds
up, across the session, what the property tests did and found; ``conftest`` prints it.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import hashlib
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, unquote
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from aiohttp import ClientSession, web
from aiohttp.http_exceptions import HttpProcessingError
from hypothesis import settings
from hypothesis import strategies as st

from rawS3 import RawS3Error, RetryPolicy, S3Client, Timeouts

BUCKET = "bucket"
MIN_PART = 5 * 1024 * 1024
_READ_BLOCK = 1024 * 1024
_BARRIER = "__fake_s3_barrier__"
_UNHASHED = ("UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")


@dataclass(frozen=True)
class Fault:
    """One way to misbehave.

    ``error``: an S3 error answer (the server did nothing). ``reset-before``: a TCP reset
    before the body is read. ``reset-after``: the server acts, then resets instead of answering.
    ``stall``: the server acts, then holds the answer ``seconds`` (or until the client hangs
    up). ``cut-error``: an error answer whose body stops halfway, then a reset.
    ``stall-error``: an error answer whose body stops halfway and stalls. ``repeat-token``: a
    listing page that hands back the continuation token / marker it was asked with.
    ``cut-body``: a GetObject answer cut off halfway through the object.
    """

    kind: str
    status: int = 0
    code: str = ""
    seconds: float = 0.0

    def __str__(self) -> str:
        extra = f" {self.status} {self.code}" if self.status else ""
        return f"{self.kind}{extra}{f' {self.seconds:g}s' if self.seconds else ''}"


INTERNAL_ERROR = Fault("error", 500, "InternalError")
SLOW_DOWN = Fault("error", 503, "SlowDown")
RESET_BEFORE = Fault("reset-before")
RESET_AFTER = Fault("reset-after")
CUT_ERROR = Fault("cut-error", 500, "InternalError")
REPEAT_TOKEN = Fault("repeat-token")
CUT_BODY = Fault("cut-body")


def stall(seconds: float) -> Fault:
    return Fault("stall", seconds=seconds)


def stalled_error(seconds: float) -> Fault:
    return Fault("stall-error", 503, "SlowDown", seconds)


@dataclass(frozen=True)
class Inject:
    """Give ``fault`` to request number ``at``, or to the ``nth`` request of ``operation``."""

    fault: Fault
    at: int | None = None
    operation: str | None = None
    nth: int | None = None

    def matches(self, number: int, operation: str, nth: int) -> bool:
        return (
            (self.at is None or self.at == number)
            and (self.operation is None or self.operation == operation)
            and (self.nth is None or self.nth == nth)
        )

    def __str__(self) -> str:
        where = f"request {self.at}" if self.at is not None else ""
        if self.operation is not None:
            which = "every" if self.nth is None else f"#{self.nth}"
            where = f"{where} {which} {self.operation}".strip()
        return f"{self.fault} at {where or 'every request'}"


@dataclass(frozen=True)
class Logged:
    number: int
    operation: str
    key: str
    query: Mapping[str, str]
    fault: Fault | None


@dataclass
class _Part:
    size: int
    md5: bytes
    data: bytes | None


@dataclass
class _Upload:
    key: str
    upload_id: str
    initiated: datetime
    parts: dict[int, _Part] = field(default_factory=dict)


@dataclass
class _Object:
    size: int
    etag: str
    data: bytes | None
    modified: datetime
    headers: dict[str, str]


def multipart_etag_of(md5s: Sequence[bytes]) -> str:
    """The ETag S3 gives an object made of parts with these MD5s (quoted)."""
    return f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{len(md5s)}"'


def operation_of(method: str, key: str, query: Mapping[str, str]) -> str:
    if method == "PUT":
        return "UploadPart" if "partNumber" in query else "PutObject" if key else "CreateBucket"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        return "CompleteMultipartUpload" if "uploadId" in query else "DeleteObjects"
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return "DeleteObject" if key else "DeleteBucket"
    if method == "GET":
        if "uploads" in query:
            return "ListMultipartUploads"
        if "uploadId" in query:
            return "ListParts"
        return "GetObject" if key else "ListObjects"
    return "HeadObject" if key else "HeadBucket"


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message or code


class FakeS3:
    """The server, its stored objects and live uploads, its request log and fault schedule.

    State is touched by the server's thread and read by the test's, under one lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.endpoint, self.port = "", 0
        self.on_request: Callable[[Logged], None] | None = None
        self.busy = 0  # requests being handled; not reset, as a late one may still be running
        self.reset()

    # -- test side ---------------------------------------------------------------------------

    def reset(
        self,
        plan: Sequence[Inject] = (),
        *,
        keep_data: bool = True,
        list_page: int = 1000,
        parts_page: int = 1000,
        uploads_page: int = 1000,
    ) -> None:
        """Forget everything and start a new run with this fault ``plan``.

        ``keep_data=False`` keeps only sizes and MD5s, so that the server's copies do not count
        when a test measures the client's memory.
        """
        with self._lock:
            self.plan = list(plan)
            self.keep_data = keep_data
            self.list_page, self.parts_page, self.uploads_page = (
                list_page,
                parts_page,
                uploads_page,
            )
            self.objects: dict[str, _Object] = {}
            self.uploads: dict[str, _Upload] = {}
            self.log: list[Logged] = []
            self.injected: list[Logged] = []
            self._per_operation: Counter[str] = Counter()
            self._next_id = 0
        self.on_request = None

    def clear_plan(self) -> None:
        """Inject no more faults; what is stored stays."""
        with self._lock:
            self.plan = []

    def add(self, rule: Inject) -> None:
        """Add a fault to the running schedule."""
        with self._lock:
            self.plan.append(rule)

    def stored(self, key: str) -> bytes | None:
        with self._lock:
            obj = self.objects.get(key)
        if obj is not None and obj.data is None:
            raise AssertionError("the server kept no data in this run (keep_data=False)")
        return None if obj is None else obj.data

    def etag(self, key: str) -> str | None:
        with self._lock:
            obj = self.objects.get(key)
        return None if obj is None else obj.etag

    def live_uploads(self) -> list[tuple[str, str, int]]:
        """(key, upload id, parts) of every multipart upload neither completed nor aborted."""
        with self._lock:
            return [(u.key, u.upload_id, len(u.parts)) for u in self.uploads.values()]

    def count(self, operation: str | None = None) -> int:
        with self._lock:
            return sum(1 for entry in self.log if operation in (None, entry.operation))

    def put_direct(self, key: str, data: bytes) -> None:
        """Store an object without a request, as an earlier writer would have."""
        with self._lock:
            self._store(key, data, f'"{hashlib.md5(data).hexdigest()}"')

    def upload_direct(self, key: str, sizes: Sequence[int]) -> str:
        """Start a multipart upload with parts of ``sizes`` (numbered from 1), no request sent."""
        with self._lock:
            upload = self._create(key)
            for number, size in enumerate(sizes, 1):
                data = bytes([number % 256]) * size
                upload.parts[number] = _Part(size, hashlib.md5(data).digest(), data)
        return upload.upload_id

    def open_connections(self) -> int:
        runner = self._runner
        server = None if runner is None else runner.server
        return 0 if server is None else len(server.connections)

    def hang_up(self) -> None:
        """Close every connection from the server's side."""
        runner, loop = self._runner, self._loop
        if runner is None or loop is None or runner.server is None:
            return
        for handler in runner.server.connections:
            loop.call_soon_threadsafe(handler.force_close)

    async def quiet(self, timeout: float = 3.0, *, connections: bool = True) -> bool:
        """Wait (in the client's loop) until no request is being handled and (``connections``)
        no connection is open; False if that did not happen within ``timeout``.

        A client may send a whole request and hang up before the server's thread has even
        accepted the connection; that request would then act in the next run. So once idle,
        one request of our own goes through the accept queue behind any such connection, and
        idleness is checked again after it.
        """
        deadline = time.monotonic() + timeout
        for barrier in (True, False):
            while self.busy or (connections and self.open_connections()):
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.005)
            if barrier:
                await asyncio.wait_for(self._barrier(), max(deadline - time.monotonic(), 0.1))
                await asyncio.sleep(0.005)
        return True

    async def _barrier(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(f"GET /{_BARRIER} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await reader.read()
        writer.close()
        await writer.wait_closed()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="fakes3")
        self._thread.start()
        if not ready.wait(10) or not self.endpoint:
            raise RuntimeError("the fake S3 server did not start")

    def stop(self) -> None:
        loop, runner = self._loop, self._runner
        if loop is None or runner is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self._runner = runner
            self.port = runner.addresses[0][1]
            self.endpoint = f"http://127.0.0.1:{self.port}"
        finally:
            ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # -- server side -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path.lstrip("/")
        if path == _BARRIER:
            return web.Response(status=204, headers={"Connection": "close"})
        bucket, _, raw_key = path.partition("/")
        key = unquote(raw_key)
        query = dict(request.rel_url.query)
        operation = operation_of(request.method, key, query)
        with self._lock:
            self._per_operation[operation] += 1
            number = len(self.log) + 1
            nth = self._per_operation[operation]
            rule = next((r for r in self.plan if r.matches(number, operation, nth)), None)
            entry = Logged(number, operation, key, query, None if rule is None else rule.fault)
            self.log.append(entry)
            self.busy += 1
        hook = self.on_request
        try:
            if hook is not None:
                hook(entry)
            return await self._answer(request, entry, bucket)
        except _RefusedError as refused:
            return _error_response(refused.status, refused.code, refused.message, number)
        finally:
            with self._lock:
                self.busy -= 1

    async def _answer(self, request: web.Request, entry: Logged, bucket: str) -> web.StreamResponse:
        fault = entry.fault
        kind = "" if fault is None else fault.kind
        if fault is not None and kind not in ("repeat-token", "cut-body"):
            self._fired(entry)
        if kind == "reset-before":
            _reset(request)
            return web.Response(status=500)  # never reaches the client
        payload = entry.operation in ("PutObject", "UploadPart")
        body = await _read_body(request, self.keep_data or not payload)
        if body is None:
            return web.Response(status=400)  # the client hung up mid-body; nothing was done
        if fault is not None and kind in ("error", "cut-error", "stall-error"):
            return await _faulty_error(request, fault, entry.number)
        if bucket != BUCKET:
            raise _RefusedError(404, "NoSuchBucket")
        response = self._act(request, entry, body)
        if kind == "reset-after":
            _reset(request)
        elif kind == "stall":
            await _hold(request, fault.seconds if fault else 0)
        elif kind == "cut-body" and isinstance(response, web.Response) and response.body:
            self._fired(entry)
            return await _cut_off(request, response)
        return response

    def _fired(self, entry: Logged) -> None:
        with self._lock:
            self.injected.append(entry)

    def _act(self, request: web.Request, entry: Logged, body: _Body) -> web.StreamResponse:
        headers = request.headers
        q = entry.query
        with self._lock:
            if entry.operation in ("PutObject", "UploadPart"):
                etag = f'"{body.md5.hex()}"'
                if entry.operation == "UploadPart":
                    upload = self._upload(q["uploadId"], entry.key)
                    number = int(q["partNumber"])
                    if not 1 <= number <= 10_000:
                        raise _RefusedError(400, "InvalidArgument", "part number out of range")
                    upload.parts[number] = _Part(body.size, body.md5, body.data)
                else:
                    kept = {k: v for k, v in headers.items() if k.lower().startswith("x-amz-meta-")}
                    if "Content-Type" in headers:
                        kept["Content-Type"] = headers["Content-Type"]
                    self._store(entry.key, body.data, etag, kept, size=body.size)
                return web.Response(status=200, headers={"ETag": etag})
            if entry.operation == "CreateMultipartUpload":
                upload = self._create(entry.key)
                return _xml(
                    "InitiateMultipartUploadResult",
                    f"<Bucket>{BUCKET}</Bucket><Key>{escape(entry.key)}</Key>"
                    f"<UploadId>{upload.upload_id}</UploadId>",
                )
            if entry.operation == "CompleteMultipartUpload":
                return self._complete(entry.key, q["uploadId"], body.data or b"")
            if entry.operation == "AbortMultipartUpload":
                self._upload(q["uploadId"], entry.key)
                del self.uploads[q["uploadId"]]
                return web.Response(status=204)
            if entry.operation in ("GetObject", "HeadObject"):
                return self._get(entry, headers.get("Range"))
            if entry.operation == "DeleteObject":
                self.objects.pop(entry.key, None)
                return web.Response(status=204)
            if entry.operation == "ListObjects":
                return self._list_objects(entry)
            if entry.operation == "ListParts":
                return self._list_parts(entry)
            if entry.operation == "ListMultipartUploads":
                return self._list_uploads(entry)
            if entry.operation in ("HeadBucket", "CreateBucket"):
                return web.Response(status=200)
        raise _RefusedError(501, "NotImplemented", f"the fake does not do {entry.operation}")

    # Everything below runs with the lock held.

    def _create(self, key: str) -> _Upload:
        self._next_id += 1
        upload = _Upload(key, f"upload-{self._next_id}", datetime.now(timezone.utc))
        self.uploads[upload.upload_id] = upload
        return upload

    def _upload(self, upload_id: str, key: str) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or upload.key != key:
            raise _RefusedError(404, "NoSuchUpload", "the upload does not exist")
        return upload

    def _store(
        self,
        key: str,
        data: bytes | None,
        etag: str,
        headers: dict[str, str] | None = None,
        size: int = 0,
    ) -> None:
        size = size if data is None else len(data)
        kept = data if self.keep_data else None
        self.objects[key] = _Object(size, etag, kept, datetime.now(timezone.utc), headers or {})

    def _complete(self, key: str, upload_id: str, body: bytes) -> web.Response:
        upload = self._upload(upload_id, key)
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise _RefusedError(400, "MalformedXML", str(exc)) from None
        wanted = [
            (int(_child_text(part, "PartNumber")), _child_text(part, "ETag").strip('"'))
            for part in root
            if _local(part.tag) == "Part"
        ]
        if not wanted:
            raise _RefusedError(400, "MalformedXML", "no parts")
        numbers = [number for number, _ in wanted]
        if numbers != sorted(set(numbers)):
            raise _RefusedError(400, "InvalidPartOrder")
        parts = []
        for number, etag in wanted:
            part = upload.parts.get(number)
            if part is None or part.md5.hex() != etag:
                raise _RefusedError(400, "InvalidPart", f"part {number} is not {etag}")
            parts.append(part)
        if any(part.size < MIN_PART for part in parts[:-1]):
            raise _RefusedError(400, "EntityTooSmall")
        etag = multipart_etag_of([part.md5 for part in parts])
        data = b"".join(part.data or b"" for part in parts) if self.keep_data else None
        self._store(key, data, etag, size=sum(part.size for part in parts))
        del self.uploads[upload_id]
        return _xml(
            "CompleteMultipartUploadResult",
            f"<Location>/{BUCKET}/{escape(key)}</Location><Bucket>{BUCKET}</Bucket>"
            f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag>",
        )

    def _get(self, entry: Logged, range_header: str | None) -> web.Response:
        obj = self.objects.get(entry.key)
        head = entry.operation == "HeadObject"
        if obj is None:
            if head:
                return web.Response(status=404)
            raise _RefusedError(404, "NoSuchKey")
        headers = {
            **obj.headers,
            "ETag": obj.etag,
            "Last-Modified": format_datetime(obj.modified, usegmt=True),
            "Accept-Ranges": "bytes",
        }
        if head:
            headers["Content-Length"] = str(obj.size)
            return web.Response(status=200, headers=headers)
        if obj.data is None:
            raise _RefusedError(501, "NotImplemented", "no data kept in this run")
        status, first, last = 200, 0, obj.size - 1
        if range_header:
            first, last = _byte_range(range_header, obj.size)
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{obj.size}"
        return web.Response(status=status, body=obj.data[first : last + 1], headers=headers)

    def _list_objects(self, entry: Logged) -> web.Response:
        q = entry.query
        if q.get("delimiter"):
            raise _RefusedError(501, "NotImplemented", "the fake lists without delimiters")
        token = q.get("continuation-token")
        after = bytes.fromhex(token).decode() if token else q.get("start-after", "")
        prefix = q.get("prefix", "")
        limit = min(int(q.get("max-keys", "1000")), self.list_page)
        keys = sorted(k for k in self.objects if k.startswith(prefix) and k > after)
        page, truncated = keys[:limit], len(keys) > limit
        next_token = page[-1].encode().hex() if truncated else None
        if entry.fault == REPEAT_TOKEN and token:
            self.injected.append(entry)
            next_token, truncated = token, True
        url = q.get("encoding-type") == "url"
        name = (lambda k: quote(k, safe="/")) if url else escape
        contents = "".join(
            f"<Contents><Key>{name(k)}</Key><Size>{self.objects[k].size}</Size>"
            f"<ETag>{escape(self.objects[k].etag)}</ETag>"
            f"<LastModified>{_iso(self.objects[k].modified)}</LastModified></Contents>"
            for k in page
        )
        return _xml(
            "ListBucketResult",
            f"<Name>{BUCKET}</Name><Prefix>{name(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<MaxKeys>{limit}</MaxKeys>{'<EncodingType>url</EncodingType>' if url else ''}"
            f"<IsTruncated>{str(truncated).lower()}</IsTruncated>"
            + (f"<NextContinuationToken>{next_token}</NextContinuationToken>" if next_token else "")
            + contents,
        )

    def _list_parts(self, entry: Logged) -> web.Response:
        q = entry.query
        upload = self._upload(q["uploadId"], entry.key)
        marker = int(q.get("part-number-marker") or 0)
        limit = min(int(q.get("max-parts", "1000")), self.parts_page)
        numbers = sorted(n for n in upload.parts if n > marker)
        page, truncated = numbers[:limit], len(numbers) > limit
        next_marker = page[-1] if page else marker
        if entry.fault == REPEAT_TOKEN:
            self.injected.append(entry)
            next_marker, truncated = marker, True
        parts = "".join(
            f'<Part><PartNumber>{n}</PartNumber><ETag>"{upload.parts[n].md5.hex()}"</ETag>'
            f"<Size>{upload.parts[n].size}</Size>"
            f"<LastModified>{_iso(upload.initiated)}</LastModified></Part>"
            for n in page
        )
        return _xml(
            "ListPartsResult",
            f"<Bucket>{BUCKET}</Bucket><Key>{escape(entry.key)}</Key>"
            f"<UploadId>{upload.upload_id}</UploadId><PartNumberMarker>{marker}</PartNumberMarker>"
            f"<NextPartNumberMarker>{next_marker}</NextPartNumberMarker><MaxParts>{limit}</MaxParts>"
            f"<IsTruncated>{str(truncated).lower()}</IsTruncated>{parts}",
        )

    def _list_uploads(self, entry: Logged) -> web.Response:
        q = entry.query
        prefix = q.get("prefix", "")
        key_marker, id_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
        limit = min(int(q.get("max-uploads", "1000")), self.uploads_page)
        listed = sorted(
            (u.key, u.upload_id, u.initiated)
            for u in self.uploads.values()
            if u.key.startswith(prefix) and (u.key, u.upload_id) > (key_marker, id_marker)
        )
        page, truncated = listed[:limit], len(listed) > limit
        next_key, next_id = (page[-1][0], page[-1][1]) if truncated else ("", "")
        if entry.fault == REPEAT_TOKEN and key_marker:
            self.injected.append(entry)
            next_key, next_id, truncated = key_marker, id_marker, True
        uploads = "".join(
            f"<Upload><Key>{escape(k)}</Key><UploadId>{u}</UploadId>"
            f"<Initiated>{_iso(at)}</Initiated></Upload>"
            for k, u, at in page
        )
        markers = (
            f"<NextKeyMarker>{escape(next_key)}</NextKeyMarker>"
            f"<NextUploadIdMarker>{next_id}</NextUploadIdMarker>"
            if truncated
            else ""
        )
        return _xml(
            "ListMultipartUploadsResult",
            f"<Bucket>{BUCKET}</Bucket><Prefix>{escape(prefix)}</Prefix>"
            f"<IsTruncated>{str(truncated).lower()}</IsTruncated>{markers}{uploads}",
        )


@contextlib.contextmanager
def running() -> Iterator[FakeS3]:
    fake = FakeS3()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


# -- HTTP and XML helpers ------------------------------------------------------------------------


@dataclass
class _Body:
    data: bytes | None
    """None when the server keeps no data (``keep_data=False``) and the body was plain."""
    size: int
    md5: bytes


async def _read_body(request: web.Request, keep: bool) -> _Body | None:
    """The request body, or None when the client hung up before sending all of it.

    Without ``keep`` a plain body is hashed as it arrives and not held: a memory measurement
    in the client must not count the server's copy.
    """
    chunked = "aws-chunked" in request.headers.get("Content-Encoding", "")
    keep = keep or chunked
    chunks, size = [], 0
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    try:
        while block := await request.content.read(_READ_BLOCK):
            size += len(block)
            md5.update(block)
            sha256.update(block)
            if keep:
                chunks.append(block)
    except (ConnectionError, HttpProcessingError):
        return None
    if request.content_length is not None and size != request.content_length:
        return None
    declared = request.headers.get("x-amz-content-sha256", "")
    if declared and declared not in _UNHASHED and sha256.hexdigest() != declared:
        raise _RefusedError(400, "XAmzContentSHA256Mismatch")
    sent_md5 = request.headers.get("Content-MD5")
    if sent_md5 is not None and base64.b64decode(sent_md5) != md5.digest():
        raise _RefusedError(400, "BadDigest")
    if not keep:
        return _Body(None, size, md5.digest())
    data = _decoded_body(request.headers, b"".join(chunks))
    return _Body(data, len(data), hashlib.md5(data).digest() if chunked else md5.digest())


def _decoded_body(headers: Mapping[str, str], body: bytes) -> bytes:
    """The object's bytes: aws-chunked frames unwrapped (their signatures are not checked)."""
    if "aws-chunked" not in headers.get("Content-Encoding", ""):
        return body
    out, at = bytearray(), 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            raise _RefusedError(400, "IncompleteBody", "a chunk header has no end")
        size = int(body[at:end].split(b";", 1)[0], 16)
        out += body[end + 2 : end + 2 + size]
        at = end + 2 + size + 2
        if size == 0:
            break
    if len(out) != int(headers.get("x-amz-decoded-content-length", "-1")):
        raise _RefusedError(400, "IncompleteBody", "x-amz-decoded-content-length differs")
    return bytes(out)


def _byte_range(header: str, size: int) -> tuple[int, int]:
    first_text, _, last_text = header.removeprefix("bytes=").partition("-")
    if not first_text:
        first, last = max(size - int(last_text), 0), size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or first > last:
        raise _RefusedError(416, "InvalidRange")
    return first, last


def _xml(root: str, content: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{content}</{root}>'
    ).encode()
    return web.Response(status=200, body=body, content_type="application/xml")


def _error_body(code: str, message: str, number: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>fake-{number}</RequestId></Error>"
    ).encode()


def _error_response(status: int, code: str, message: str, number: int) -> web.Response:
    return web.Response(
        status=status,
        body=_error_body(code, message, number),
        content_type="application/xml",
        headers={"x-amz-request-id": f"fake-{number}"},
    )


async def _faulty_error(request: web.Request, fault: Fault, number: int) -> web.StreamResponse:
    if fault.kind == "error":
        return _error_response(fault.status, fault.code, "fault injected", number)
    # A long message, so that half of it is a real partial read and not just the head.
    body = _error_body(fault.code, "fault injected " + "x" * 4000, number)
    response = web.StreamResponse(status=fault.status, headers={"Content-Type": "application/xml"})
    response.content_length = len(body)
    with contextlib.suppress(ConnectionError):  # the client may have hung up already
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        if fault.kind == "stall-error":
            await _hold(request, fault.seconds)
    _reset(request)
    return response


async def _cut_off(request: web.Request, full: web.Response) -> web.StreamResponse:
    body = bytes(full.body)  # type: ignore[arg-type]
    response = web.StreamResponse(status=full.status, headers=full.headers)
    response.content_length = len(body)
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
    _reset(request)
    return response


async def _hold(request: web.Request, seconds: float) -> None:
    """Sleep ``seconds``, or less if the client hangs up, so a run need not wait for it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.01)


def _reset(request: web.Request) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed server or a middlebox would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child_text(parent: ET.Element, name: str) -> str:
    for child in parent:
        if _local(child.tag) == name:
            return child.text or ""
    raise _RefusedError(400, "MalformedXML", f"no <{name}>")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- session figures -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the property tests did and found, over a whole session."""

    runs: int = 0
    cancellations: int = 0
    faults: int = 0
    leftovers: int = 0
    lost: int = 0
    untyped: int = 0
    leaked: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    peaks: list[tuple[int, int]] = field(default_factory=list)

    def summary(self) -> str:
        worst = max(self.peaks, key=lambda p: p[0] / p[1], default=None)
        memory = (
            f"; peak buffered vs bound: worst {worst[0] / 2**20:.1f} MiB of "
            f"{worst[1] / 2**20:.1f} MiB over {len(self.peaks)} measured uploads"
            if worst
            else ""
        )
        outcomes = ", ".join(f"{name} {n}" for name, n in sorted(self.outcomes.items()))
        return (
            f"property runs: {self.runs} ({outcomes}); cancellations delivered: "
            f"{self.cancellations}; faults injected: {self.faults}; uploads left behind: "
            f"{self.leftovers}; objects lost or wrong: {self.lost}; untyped errors: "
            f"{self.untyped}; tasks or connections leaked: {self.leaked}{memory}"
        )


TALLY = Tally()


# -- one example: run an operation against the fake, then look at what it left -------------------

PART = MIN_PART
FAST_RETRY = RetryPolicy(attempts=4, base=0.001, cap=0.004)
# Short, so a stall costs little; long enough that a loaded machine does not time out a part.
READ_TIMEOUT = 0.3
LONG_STALL = round(READ_TIMEOUT + 0.1, 3)
RUN_LIMIT = 20.0
TYPED = (RawS3Error, TypeError, ValueError)


def client_for(fake: FakeS3, **options: Any) -> S3Client:
    """A client with quick retries and a short read timeout, so stalls cost little time."""
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("timeouts", Timeouts(connect=2.0, read=READ_TIMEOUT))
    return S3Client(fake.endpoint, "AKIDFAKES3", "fake-s3-secret", **options)


@dataclass
class Run:
    """How one operation ended, and what it left behind."""

    result: object = None
    error: BaseException | None = None
    cancelled: bool = False
    cancels: int = 0
    hung: str = ""
    leaks: list[str] = field(default_factory=list)
    leftovers: list[tuple[str, str, int]] = field(default_factory=list)
    injected: list[Logged] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.hung and not self.cancelled and self.error is None

    @property
    def ending(self) -> str:
        if self.hung:
            return "hung"
        if self.cancelled:
            return "cancelled"
        return "ok" if self.error is None else type(self.error).__name__

    def story(self) -> str:
        """The requests the server saw, for a failure message (long runs abridged)."""
        lines = [
            f"  {e.number:3} {e.operation} {e.query.get('partNumber', '')}"
            f"{f'  <- {e.fault}' if e.fault else ''}"
            for e in self.log
        ]
        if len(lines) > 30:
            lines[15:-10] = [f"  ... {len(lines) - 25} more"]
        error = f"; error {type(self.error).__qualname__}: {self.error}" if self.error else ""
        return f"ended: {self.ending}{error}\nrequests:\n" + "\n".join(lines)


async def exercise(
    fake: FakeS3,
    operation: Callable[[S3Client], Awaitable[object]],
    *,
    cancel_at_request: int | None = None,
    cancel_after_steps: int | None = None,
    at_request: Mapping[int, Callable[[], object]] | None = None,
    budget: int = 60,
    limit: float = RUN_LIMIT,
    **client_options: Any,
) -> Run:
    """Run ``operation`` with a fresh client, maybe cancelled, within a request and time budget.

    Afterwards the client is closed and the server left to go quiet; what is then still open or
    running is listed in ``Run.leaks``: connections still checked out of the pool, a session
    left open, connections the server still sees, tasks the run started that still run.
    """
    with sessions_opened() as sessions:
        return await _exercise(
            fake,
            operation,
            sessions,
            cancel_at_request,
            cancel_after_steps,
            at_request,
            budget,
            limit,
            client_options,
        )


async def _exercise(
    fake: FakeS3,
    operation: Callable[[S3Client], Awaitable[object]],
    sessions: list[ClientSession],
    cancel_at_request: int | None,
    cancel_after_steps: int | None,
    at_request: Mapping[int, Callable[[], object]] | None,
    budget: int,
    limit: float,
    client_options: dict[str, Any],
) -> Run:
    loop = asyncio.get_running_loop()
    before = asyncio.all_tasks()
    run = Run()
    client = client_for(fake, **client_options)
    task = asyncio.ensure_future(operation(client))
    over_budget = asyncio.Event()
    actions = dict(at_request or {})

    def cancel() -> None:
        if not task.done() and task.cancel():
            run.cancels += 1

    if cancel_at_request is not None:
        actions[cancel_at_request] = cancel

    def on_request(entry: Logged) -> None:
        # Called in the server's thread; the loop may be closing once the run is over.
        with contextlib.suppress(RuntimeError):
            if entry.number in actions:
                loop.call_soon_threadsafe(actions[entry.number])
            if entry.number > budget:
                loop.call_soon_threadsafe(over_budget.set)

    fake.on_request = on_request
    helpers = [asyncio.ensure_future(over_budget.wait())]
    if cancel_after_steps is not None:
        helpers.append(asyncio.ensure_future(_cancel_after(cancel_after_steps, task, cancel)))
    await asyncio.wait({task, helpers[0]}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        run.hung = (
            f"exceeded the budget of {budget} requests"
            if over_budget.is_set()
            else f"did not end within {limit:g} s"
        )
        task.cancel()
        await asyncio.wait({task}, timeout=5)
    fake.on_request = None
    for helper in helpers:
        helper.cancel()
    await asyncio.wait(helpers)
    if task.done():
        if task.cancelled():
            run.cancelled = not run.hung
        elif task.exception() is not None:
            run.error = task.exception()
        else:
            run.result = task.result()
    run.leaks = await settle(fake, client, sessions, before)
    run.leftovers = fake.live_uploads()
    with fake._lock:
        run.injected, run.log = list(fake.injected), list(fake.log)
    TALLY.runs += 1
    TALLY.cancellations += run.cancels
    TALLY.faults += len(run.injected)
    TALLY.outcomes[run.ending] += 1
    TALLY.leaked += bool(run.leaks)
    return run


async def _cancel_after(
    steps: int, task: asyncio.Future[object], cancel: Callable[[], None]
) -> None:
    for _ in range(steps):
        if task.done():
            return
        await asyncio.sleep(0)
    cancel()


@contextlib.contextmanager
def sessions_opened() -> Iterator[list[ClientSession]]:
    """Every aiohttp session made while inside, by whatever part of rawS3 makes it: the
    handles on the connection pools a run must leave empty and closed."""
    made: list[ClientSession] = []
    original = ClientSession.__init__

    def init(self: ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    ClientSession.__init__ = init  # type: ignore[method-assign]
    try:
        yield made
    finally:
        ClientSession.__init__ = original  # type: ignore[method-assign]


async def settle(
    fake: FakeS3,
    client: S3Client,
    sessions: list[ClientSession],
    before: set[asyncio.Task[Any]],
) -> list[str]:
    """Close the client and let the server go quiet; what is still open or running, listed.

    Found: tasks the run started that still run once it ended, connections still checked out
    of a pool, sessions close() left open (or opened while closing), connections the server
    still sees. Whatever is found is then closed, so that the next run starts clean.
    """
    leaks = []
    for _ in range(5):
        await asyncio.sleep(0)  # done-callbacks of what just finished
    current = asyncio.current_task()
    running = [t for t in asyncio.all_tasks() if t not in before and t is not current]
    if running:
        leaks.append(f"tasks still running after the operation ended: {running}")
        for stray in running:
            stray.cancel()
        await asyncio.wait(running, timeout=5)
    checked_out = sum(len(getattr(s.connector, "_acquired", ())) for s in sessions)
    if checked_out:
        leaks.append(f"{checked_out} connection(s) still checked out of the pool")
    await asyncio.wait_for(client.close(), 10)
    for _ in range(3):
        await asyncio.sleep(0)
    left_open = [s for s in sessions if not s.closed]
    if left_open:
        leaks.append(f"{len(left_open)} session(s) still open after close()")
        for session in left_open:
            await asyncio.wait_for(session.close(), 10)
    if not await fake.quiet():
        leaks.append(
            f"the server still sees {fake.open_connections()} connection(s), "
            f"{fake.busy} request(s) in progress"
        )
        fake.hang_up()
    return leaks


@dataclass
class Verdict:
    """The properties a run broke, by kind (all empty: every property holds)."""

    hung: list[str] = field(default_factory=list)
    untyped: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    ending: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [p for kind in vars(self).values() for p in kind]

    def check(self, story: str) -> None:
        """Fail on the first broken kind, each kind from its own line, so that Hypothesis
        tells the kinds apart and shrinks an example for each (``report_multiple_bugs``)."""
        story = "\n" + "\n".join(self.all()) + "\n" + story
        assert not self.hung, story
        assert not self.untyped, story
        assert not self.lost, story
        assert not self.leftovers, story
        assert not self.leaks, story
        assert not self.ending, story
        assert not self.other, story


def verdict(
    run: Run,
    fake: FakeS3,
    key: str,
    expected: bytes | None,
    *,
    must_succeed: bool,
    also_allowed: tuple[type[BaseException], ...] = (),
    uploads_expected: bool = False,
) -> Verdict:
    """Check the properties every run must have.

    ``expected`` is what the key must hold after a success (None: not checked here); after a
    failure the key holds nothing, or exactly ``expected`` (the server had already acted when
    the answer was lost). ``uploads_expected``: the test made live uploads itself.
    """
    found = Verdict(hung=[run.hung] if run.hung else [], leaks=list(run.leaks))
    if run.error is not None and not isinstance(run.error, TYPED + also_allowed):
        TALLY.untyped += 1
        kind = type(run.error)
        found.untyped.append(f"untyped error {kind.__module__}.{kind.__qualname__}: {run.error}")
    if run.cancelled and not run.cancels:
        found.ending.append("ended cancelled although nobody cancelled it")
    if run.cancels and run.ok:
        found.ending.append("a delivered cancellation was swallowed: the operation returned")
    if must_succeed and not run.ok and not run.hung:
        found.ending.append("failed although no fault was injected and nothing was cancelled")
    if expected is not None:
        stored = fake.stored(key)
        if stored is not None and stored != expected:
            at = _first_difference(stored, expected)
            found.lost.append(
                f"the key holds {len(stored):,} bytes that are not the {len(expected):,} "
                f"written (first difference at byte {at})"
            )
        elif stored is None and run.ok:
            found.lost.append("reported success but nothing is stored under the key")
    TALLY.lost += bool(found.lost)
    if run.leftovers and not uploads_expected:
        TALLY.leftovers += len(run.leftovers)
        found.leftovers.append(f"multipart uploads left on the server: {run.leftovers}")
    return found


def resent(run: Run, attempts: int) -> list[str]:
    """Requests for the same thing (operation, key, upload, part) sent more than ``attempts``
    times: the retry policy caps each request, whatever the faults."""
    sent = Counter(
        (e.operation, e.key, e.query.get("uploadId", ""), e.query.get("partNumber", ""))
        for e in run.log
        if e.operation not in ("ListMultipartUploads", "HeadObject", "HeadBucket")
    )
    return [
        f"{operation} {key} {part} sent {n} times; the retry policy allows {attempts}"
        for (operation, key, _, part), n in sent.items()
        if n > attempts
    ]


def _first_difference(a: bytes, b: bytes) -> int:
    block = 64 * 1024
    at = next(
        i for i in range(0, max(len(a), len(b)) + 1, block) if a[i : i + block] != b[i : i + block]
    )
    return next((i for i in range(at, at + block) if a[i : i + 1] != b[i : i + 1]), at)


# -- what the property tests draw from --------------------------------------------------------


def examples(share: float) -> int:
    """A share of the profile's examples: the heavier a property, the fewer, in every profile."""
    return max(4, round(settings.default.max_examples * share))


FAULTS = st.sampled_from(
    [
        INTERNAL_ERROR,
        SLOW_DOWN,
        RESET_BEFORE,
        RESET_AFTER,
        CUT_ERROR,
        stall(0.02),
        stalled_error(LONG_STALL),
        stall(LONG_STALL),
    ]
)


@dataclass(frozen=True)
class Cancel:
    """Cancel the operation's task when the server sees request ``at_request``, or after
    ``after_steps`` turns of the event loop."""

    at_request: int | None = None
    after_steps: int | None = None


CANCELS = st.one_of(
    st.none(),
    st.builds(Cancel, at_request=st.integers(1, 8)),
    st.builds(Cancel, after_steps=st.integers(0, 400)),
)


class Pieces:
    """``data`` in pieces of ``chunk`` bytes, as a reader of a socket or a file hands them out.

    "reused ..." sources refill one buffer for every piece, so a piece changes as soon as the
    consumer asks for the next: whatever the uploader keeps of a piece after ``write`` returns
    is then wrong. A class rather than an async generator, whose finalizer would start a task
    of its own when a cancelled run drops it.
    """

    def __init__(self, data: bytes, chunk: int, source: str) -> None:
        self._data, self._chunk, self._source = data, chunk, source
        self._at = 0
        self._buffer = bytearray(chunk) if source != "bytes" else None

    def __aiter__(self) -> Pieces:
        return self

    async def __anext__(self) -> bytes | memoryview:
        if self._at >= len(self._data):
            raise StopAsyncIteration
        piece = self._data[self._at : self._at + self._chunk]
        self._at += len(piece)
        if self._buffer is None:
            return piece
        self._buffer[: len(piece)] = piece
        view = memoryview(self._buffer)[: len(piece)]
        return view.toreadonly() if self._source.endswith("read-only view") else view


KINDS = (
    "bytes",
    "bytearray",
    "memoryview of bytes",
    "memoryview of bytearray",
    "read-only view of bytearray",
    "2-D view of bytearray",
    "array('B')",
    "array('I')",
    "strided view",
    "str",
)
# What a write must take, as documented: bytes, bytearray, any C-contiguous memoryview.
MUST_ACCEPT = frozenset(KINDS[:6])
WRITE_SIZES = st.one_of(
    st.integers(0, 70_000),
    st.sampled_from([PART - 1, PART, PART + 1, 2 * PART + 7]),
    st.integers(PART // 2, PART + PART // 2),
)


def buffer_of(kind: str, data: bytes) -> tuple[object, bytearray | array.array[int] | None]:
    """``data`` as a caller would pass it, and the mutable object behind it, if any."""
    if kind == "bytes":
        return data, None
    if kind == "memoryview of bytes":
        return memoryview(data), None
    if kind == "str":
        return data.decode("latin-1"), None
    if kind.startswith("array"):
        typed = array.array(kind[7])
        typed.frombytes(data)
        return typed, typed
    if kind == "strided view":
        backing = bytearray(2 * len(data))
        backing[::2] = data
        return memoryview(backing)[::2], backing
    backing = bytearray(data)
    view = memoryview(backing)
    if kind == "bytearray":
        return backing, backing
    if kind == "read-only view of bytearray":
        return view.toreadonly(), backing
    if kind == "2-D view of bytearray" and len(data) >= 2:
        return view.cast("B", shape=[2, len(data) // 2]), backing
    return view, backing


def fitted(kind: str, size: int) -> int:
    """A size the buffer type can hold exactly."""
    if kind == "array('I')":
        return size - size % 4
    return size - size % 2 if kind.startswith("2-D") else size


def scribble(owner: bytearray | array.array[int]) -> None:
    """Overwrite the caller's buffer, as a caller reusing it for the next read does."""
    view = memoryview(owner).cast("B")
    view[:] = b"\xa5" * view.nbytes
