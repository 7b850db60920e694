"""The pure half of ranged downloads: ranges, answers checked, resume state (no sockets)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3.errors import ObjectChanged, ResponseError
from rawS3.operations.ranged import (
    Pin,
    ResumeState,
    Span,
    md5_etag,
    pin_from_answer,
    range_get,
    read_range_answer,
    spans,
)

ETAG = '"0123456789abcdef0123456789abcdef"'
PIN = Pin(ETAG, 1000)

sizes = st.integers(min_value=0, max_value=10**7)
part_sizes = st.integers(min_value=1, max_value=10**6)


@given(size=sizes, part_size=part_sizes.filter(lambda p: p >= 100))
def test_spans_tile_the_object_in_order(size: int, part_size: int) -> None:
    plan = spans(size, part_size)
    assert [s.index for s in plan] == list(range(len(plan)))
    assert [s.start for s in plan] == list(range(0, size, part_size))
    ends = [s.start for s in plan[1:]] + ([size] if plan else [])
    assert [s.end for s in plan] == ends
    assert all(s.size == part_size for s in plan[:-1])
    if size:
        assert plan[-1].size == (size - 1) % part_size + 1
    else:
        assert plan == []


def test_spans_refuse_nonsense() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        spans(-1, 10)
    with pytest.raises(ValueError):  # noqa: PT011
        spans(10, 0)


def test_range_get_pins_later_ranges() -> None:
    first = range_get("bucket", "key", 0, 100, pin=None, version_id=None)
    later = range_get("bucket", "key", 100, 200, pin=PIN, version_id="v1")
    assert first.headers == {"Range": "bytes=0-99"}
    assert later.headers == {"Range": "bytes=100-199", "If-Match": ETAG}
    assert later.query == (("versionId", "v1"),)
    assert later.ok == frozenset({200, 206})


def answer(first: int, last: int, total: int, etag: str = ETAG) -> dict[str, str]:
    return {
        "Content-Range": f"bytes {first}-{last}/{total}",
        "Content-Length": str(last - first + 1),
        "ETag": etag,
    }


@given(data=st.data())
def test_a_range_answer_is_accepted_exactly_when_it_holds_the_bytes_asked(
    data: st.DataObject,
) -> None:
    start = data.draw(st.integers(0, 999))
    end = data.draw(st.integers(start + 1, 1000))
    first = data.draw(st.integers(0, 999))
    last = data.draw(st.integers(first, 999))
    headers = answer(first, last, 1000)
    if (first, last + 1) == (start, end):
        read_range_answer(206, headers, start=start, end=end, pin=PIN, bucket="b", key="k")
    else:
        with pytest.raises(ResponseError):
            read_range_answer(206, headers, start=start, end=end, pin=PIN, bucket="b", key="k")


@pytest.mark.parametrize(
    "headers",
    [
        answer(0, 9, 1000, etag='"ffffffffffffffffffffffffffffffff"'),
        answer(0, 9, 2000),  # same ETag, other size: not the object pinned
    ],
    ids=["other-etag", "other-size"],
)
def test_another_version_is_object_changed(headers: dict[str, str]) -> None:
    with pytest.raises(ObjectChanged) as caught:
        read_range_answer(206, headers, start=0, end=10, pin=PIN, bucket="b", key="k")
    assert caught.value.expected == ETAG
    assert (caught.value.bucket, caught.value.key) == ("b", "k")


def test_an_unquoted_etag_is_the_same_etag() -> None:
    headers = answer(0, 9, 1000, etag=ETAG.strip('"'))
    read_range_answer(206, headers, start=0, end=10, pin=PIN, bucket="b", key="k")


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (206, {"Content-Range": "bytes 0-9/*", "ETag": ETAG}),
        (206, {"Content-Range": "bytes 9-0/1000", "ETag": ETAG}),
        (206, {"Content-Range": "bytes 0-1000/1000", "ETag": ETAG}),
        (206, {"ETag": ETAG}),
        (206, {**answer(0, 9, 1000), "Content-Length": "11"}),
        (200, {"Content-Length": "1000", "ETag": ETAG}),  # the whole object for a range
    ],
)
def test_malformed_range_answers_are_refused(status: int, headers: dict[str, str]) -> None:
    with pytest.raises(ResponseError):
        read_range_answer(status, headers, start=0, end=10, pin=PIN, bucket="b", key="k")


def test_the_first_answer_pins_size_and_etag() -> None:
    assert pin_from_answer(206, answer(0, 99, 12345)) == Pin(ETAG, 12345)
    assert pin_from_answer(200, {"Content-Length": "0", "ETag": ETAG}) == Pin(ETAG, 0)
    with pytest.raises(ResponseError):
        pin_from_answer(200, {"Transfer-Encoding": "chunked"})


def test_md5_is_promised_only_by_a_plain_md5_etag() -> None:
    assert md5_etag({"ETag": ETAG}) == ETAG.strip('"')
    assert md5_etag({"ETag": '"0123456789abcdef0123456789abcdef-3"'}) is None
    for kms in ("aws:kms", "aws:kms:dsse", "AWS:KMS"):
        assert md5_etag({"ETag": ETAG, "x-amz-server-side-encryption": kms}) is None
    sse_s3 = {"ETag": ETAG, "x-amz-server-side-encryption": "AES256"}
    assert md5_etag(sse_s3) == ETAG.strip('"')  # SSE-S3 keeps the MD5 ETag
    ssec = {"ETag": ETAG, "x-amz-server-side-encryption-customer-algorithm": "AES256"}
    assert md5_etag(ssec) is None


states = st.builds(
    lambda size, part, picks: ResumeState(
        ETAG, size, part, frozenset(i for i in picks if i < len(spans(size, part)))
    ),
    st.integers(0, 10**6),
    st.integers(1000, 10**5),
    st.frozensets(st.integers(0, 1000), max_size=20),
)


@given(state=states)
def test_resume_state_round_trips_and_accounts_for_every_byte(state: ResumeState) -> None:
    assert ResumeState.from_json(state.to_json()) == state
    remaining = list(state.remaining())
    assert state.done_bytes() + sum(s.size for s in remaining) == state.size
    assert {s.index for s in remaining}.isdisjoint(state.done)
    assert state.with_done(s.index for s in remaining).done_bytes() == state.size
    assert state.matches(Pin(state.etag, state.size))
    assert not state.matches(Pin(state.etag, state.size + 1))
    assert not state.matches(Pin('"other"', state.size))


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        json.dumps({"format": 99, "etag": ETAG, "size": 1, "part_size": 1, "done": []}),
        json.dumps({"format": 1, "etag": ETAG, "size": 10, "part_size": 0, "done": []}),
        json.dumps({"format": 1, "etag": ETAG, "size": -1, "part_size": 5, "done": []}),
        json.dumps({"format": 1, "etag": ETAG, "size": 10, "part_size": 5, "done": [2]}),
        json.dumps({"format": 1, "etag": ETAG, "size": 10, "part_size": 5, "done": [True]}),
        json.dumps({"format": 1, "etag": 5, "size": 10, "part_size": 5, "done": []}),
    ],
)
def test_a_state_not_understood_is_not_trusted(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    assert ResumeState.from_json(raw) is None


def test_a_span_knows_its_size() -> None:
    assert Span(3, 30, 45).size == 15


@pytest.mark.parametrize("etag", ["", '""'])
def test_a_partial_file_without_an_etag_is_never_resumed(etag: str) -> None:
    # A server that names no ETag cannot tell two versions of the same size apart: the bytes
    # of a partial file of such an object are never trusted.
    state = ResumeState(etag, 1000, 100, frozenset({0, 1}))
    assert not state.matches(Pin(etag, 1000))
    assert ResumeState(ETAG, 1000, 100, frozenset({0})).matches(Pin(ETAG, 1000))
