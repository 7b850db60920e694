"""Multipart copies under faults, cancellation and a replaced source, against an in-memory stub.

A stub stands in for the client: HEAD answers a size and an ETag, UploadPartCopy requests
take a drawn time and may fail or be the moment the copy is cancelled or its source
replaced. Whatever happens, at most ``concurrency`` parts are in flight, the parts cover the
source exactly and are pinned to its ETag, and a copy that does not complete is aborted once,
with no part still in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from rawS3 import AccessDenied, IntegrityError, ResponseError, TransportError, UploadedPart
from rawS3.copying import copy_any_size
from rawS3.multipart_calls import MultipartCalls
from rawS3.operations import objects
from rawS3.operations.copy_spec import CopySpec
from rawS3.operations.request import Reply, Request
from rawS3.results import ObjectHead, PutResult

MiB = 1024 * 1024
PART = 5 * MiB
COPIED = (
    b"<CopyPartResult><ETag>part</ETag>"
    b"<LastModified>2026-11-30T22:00:00.000Z</LastModified></CopyPartResult>"
)


@dataclass
class Stub:
    """The calls ``copy_any_size`` makes of a client, in memory."""

    size: int
    delays: list[float]
    fail_at: int | None = None
    failure: Exception | None = None
    cancel_at: int | None = None
    replace_at: int | None = None
    etag: str = '"source-1"'
    sent: list[Request] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    aborts: list[int] = field(default_factory=list)  # parts in flight at each abort
    completed: list[UploadedPart] | None = None
    task: asyncio.Future[object] | None = None
    created: dict[str, object] = field(default_factory=dict)  # Create's options
    kept: dict[str, str] = field(default_factory=dict)  # headers the source's HEAD sends

    # The client's own UploadPartCopy, sending through this stub's ``send``.
    upload_part_copy = MultipartCalls.upload_part_copy

    @property
    def _engine(self) -> Stub:
        return self

    async def head_object(self, bucket: str, key: str, **_: object) -> ObjectHead:
        etag = self.etag if key == "src" else '"copy-3"'
        kept = {name.lower().replace("-", "_"): value for name, value in self.kept.items()}
        return ObjectHead(self.size, etag, None, "Mon, 30 Nov 2026 22:00:00 GMT", **kept)

    async def create_multipart_upload(self, bucket: str, key: str, **options: object) -> str:
        self.created = options
        return "upload-1"

    async def send(self, request: Request) -> Reply:
        self.sent.append(request)
        number = len(self.sent)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if number == self.cancel_at and self.task is not None:
                self.task.cancel()
            if number == self.replace_at:
                self.etag = '"source-2"'
            await asyncio.sleep(self.delays[number % len(self.delays)])
            if number == self.fail_at and self.failure is not None:
                raise self.failure
            return Reply(200, {}, COPIED)
        finally:
            self.in_flight -= 1

    async def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Iterable[UploadedPart], **_: object
    ) -> PutResult:
        self.completed = list(parts)
        return PutResult('"copy-3"', None, len(self.completed), self.size)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.aborts.append(self.in_flight)


async def run_copy(stub: Stub, concurrency: int) -> BaseException | None:
    task = asyncio.ensure_future(
        copy_any_size(
            stub,  # type: ignore[arg-type]
            CopySpec(source=("bkt", "src"), bucket="bkt", key="dst"),
            objects.copy_object("bkt", "src", "bkt", "dst", metadata=None, content_type=None),
            multipart_threshold=0,
            part_size=PART,
            concurrency=concurrency,
        )
    )
    stub.task = task
    try:
        await task
    except BaseException as exc:  # the outcome under test, cancellation included
        return exc
    return None


def ranges(stub: Stub) -> list[tuple[int, int]]:
    found = []
    for request in stub.sent:
        first, _, last = request.headers["x-amz-copy-source-range"][6:].partition("-")
        found.append((int(first), int(last)))
    return sorted(found)


FAILURES = [
    AccessDenied(code="AccessDenied", message="", status=403),
    TransportError("connection reset"),
]


@given(
    parts=st.integers(1, 9),
    tail=st.integers(1, PART),
    concurrency=st.integers(1, 5),
    delays=st.lists(st.sampled_from([0.0, 0.0005, 0.001, 0.002]), min_size=1, max_size=6),
    fault=st.sampled_from(["none", "fail", "cancel", "replace"]),
    at=st.integers(1, 9),
    failure=st.sampled_from(FAILURES),
)
def test_a_multipart_copy_completes_exactly_or_is_aborted_once(
    parts: int,
    tail: int,
    concurrency: int,
    delays: list[float],
    fault: str,
    at: int,
    failure: Exception,
) -> None:
    size = (parts - 1) * PART + tail
    at = min(at, parts)
    stub = Stub(size, delays)
    if fault == "fail":
        stub.fail_at, stub.failure = at, failure
    elif fault == "cancel":
        stub.cancel_at = at
    elif fault == "replace":
        stub.replace_at = at

    outcome = asyncio.run(run_copy(stub, concurrency))

    assert stub.most_in_flight <= concurrency
    assert all(r.headers["x-amz-copy-source-if-match"] == '"source-1"' for r in stub.sent)
    if fault == "none":
        assert outcome is None
        assert stub.aborts == []
        assert stub.completed is not None
        assert sorted(p.part_number for p in stub.completed) == list(range(1, parts + 1))
        assert sum(p.size for p in stub.completed) == size
        assert ranges(stub) == [
            (offset, min(offset + PART, size) - 1) for offset in range(0, size, PART)
        ]
        return
    expected = {"fail": type(failure), "cancel": asyncio.CancelledError, "replace": IntegrityError}
    assert isinstance(outcome, expected[fault])
    assert stub.completed is None
    assert stub.aborts == [0]  # aborted once, no part still in flight


def test_an_empty_source_is_one_copy_object() -> None:
    stub = Stub(0, [0.0])
    assert asyncio.run(run_copy(stub, 2)) is None
    assert [r.query for r in stub.sent] == [()]
    assert "x-amz-copy-source-range" not in stub.sent[0].headers


def test_the_part_size_grows_to_fit_ten_thousand_parts() -> None:
    # Cancelled at the second part: 10,000 stub requests are not needed to see the part size.
    stub = Stub(PART * 10_001, [0.0], cancel_at=2)

    assert isinstance(asyncio.run(run_copy(stub, 1)), asyncio.CancelledError)
    assert stub.sent[0].headers["x-amz-copy-source-range"] == f"bytes=0-{6 * MiB - 1}"
    assert stub.aborts == [0]


def test_a_multipart_copy_keeps_the_headers_copy_object_keeps() -> None:
    kept = {
        "Cache-Control": "no-cache",
        "Content-Disposition": 'attachment; filename="a.gz"',
        "Content-Encoding": "gzip",
        "Content-Language": "fr",
        "Expires": "Thu, 01 Dec 2030 16:00:00 GMT",
    }
    stub = Stub(2 * PART, [0.0], kept=kept)

    assert asyncio.run(run_copy(stub, 2)) is None
    assert stub.created["headers"] == kept
    assert stub.completed is not None
    assert len(stub.completed) == 2


class GarbledDate(Stub):
    """The copy's HEAD answers a Last-Modified that is no date."""

    async def head_object(self, bucket: str, key: str, **_: object) -> ObjectHead:
        head = await super().head_object(bucket, key)
        return ObjectHead(head.size, head.etag, None, "yesterday" if key == "dst" else "x")


def test_a_garbled_last_modified_of_the_copy_is_a_response_error() -> None:
    stub = GarbledDate(PART + 1, [0.0])

    outcome = asyncio.run(run_copy(stub, 2))

    assert isinstance(outcome, ResponseError)
    assert "yesterday" in str(outcome)
