"""Ranged downloads as data: which ranges to fetch, what a range answer must say, and the
resume state a download into a file keeps beside its partial file.

A download asks for its first range without a condition, learns the object's size and ETag
from that answer (the *pin*), and asks for every later range with ``If-Match`` on that ETag.
Each answer is checked here before a byte of it is used: its ``Content-Range`` must start
where the range (or its resumed remainder) starts, end where it ends, and name the pinned size;
its ETag must be the pinned one (a server that ignored ``If-Match`` is caught too).

Nothing here does I/O or reads a clock; ``rawS3.download`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rawS3.errors import IntegrityError, ObjectChanged, ResponseError
from rawS3.operations.request import Request, range_header
from rawS3.validation import check_bucket, check_key
from rawS3.xml import strip_etag

__all__ = [
    "RESUME_FORMAT",
    "DownloadResult",
    "Pin",
    "ResumeState",
    "Span",
    "check_whole",
    "md5_etag",
    "pin_from_answer",
    "range_get",
    "read_range_answer",
    "spans",
    "whole_get",
]

RESUME_FORMAT = 1
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
# Objects whose ETag is not the MD5 of their bytes although it looks like one.
_ENCRYPTED = ("x-amz-server-side-encryption-customer-algorithm",)


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """What a download into a file did.

    Attributes:
        path: the file written.
        size: the object's size in bytes.
        etag: the ETag of the version downloaded, quotes included.
        requests: the GETs sent (a range resumed after a break counts again).
        resumed: bytes a partial file already held and that were not fetched again.
        md5_checked: whether the bytes were checked against the MD5 their ETag states (an
            object of at most 8 MiB or of one range, not made in parts, not SSE-C or KMS);
            the size is always checked.
    """

    path: str
    size: int
    etag: str
    requests: int
    resumed: int
    md5_checked: bool


@dataclass(frozen=True, slots=True)
class Span:
    """One range of the object: bytes ``start`` to ``end`` (exclusive), the ``index``-th.

    Attributes:
        index: the range's number, from 0, in the object's order.
        start: its first byte.
        end: one past its last byte.
    """

    index: int
    start: int
    end: int

    @property
    def size(self) -> int:
        """The range's length in bytes."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Pin:
    """The version a download is pinned to: what its first answer said.

    Attributes:
        etag: the ETag as the server sent it, quotes included.
        size: the object's size in bytes.
    """

    etag: str
    size: int


def spans(size: int, part_size: int) -> list[Span]:
    """Cut an object of ``size`` bytes into ranges of ``part_size`` (the last one shorter).

    Args:
        size: the object's size, 0 or more.
        part_size: bytes per range, 1 or more.

    Returns:
        The ranges in order; none for an empty object.

    Raises:
        ValueError: a negative size or a part size below 1.
    """
    if size < 0 or part_size < 1:
        raise ValueError(f"cannot cut {size} bytes into ranges of {part_size}")
    return [
        Span(index, start, min(start + part_size, size))
        for index, start in enumerate(range(0, size, part_size))
    ]


def range_get(
    bucket: str,
    key: str,
    start: int,
    end: int | None,
    *,
    pin: Pin | None,
    version_id: str | None,
) -> Request:
    """Build the GetObject of bytes ``start`` to ``end`` (exclusive), pinned when ``pin`` is.

    Args:
        bucket: the bucket.
        key: the object's key.
        start: the first byte.
        end: one past the last byte, or ``None`` to the end of the object.
        pin: the version to insist on (``If-Match`` its ETag), or ``None`` for the first range.
        version_id: a version of a versioned bucket, or ``None`` for the current one.

    Returns:
        The request (206, and 200 for an object too short to range, are success).

    Raises:
        TypeError, ValueError: bad arguments.
    """
    check_bucket(bucket)
    check_key(key)
    headers = {"Range": range_header(start, None if end is None else end - 1)}
    if pin is not None:
        headers["If-Match"] = pin.etag
    query = () if version_id is None else (("versionId", version_id),)
    return Request("GET", bucket, key, query=query, headers=headers, ok=frozenset({200, 206}))


def whole_get(bucket: str, key: str, *, version_id: str | None) -> Request:
    """Build the GetObject of a whole object (an empty one cannot be asked for by range).

    Args:
        bucket: the bucket.
        key: the object's key.
        version_id: a version of a versioned bucket, or ``None``.

    Returns:
        The request.
    """
    query = () if version_id is None else (("versionId", version_id),)
    return Request("GET", check_bucket(bucket), check_key(key), query=query)


def pin_from_answer(status: int, headers: Mapping[str, str]) -> Pin:
    """Read the size and ETag a download will insist on from its first answer.

    Args:
        status: 206 for a range, 200 for the whole object.
        headers: the answer's headers.

    Returns:
        The pin.

    Raises:
        ResponseError: no usable size (a ``Content-Range`` of unknown length, or none at all).
    """
    etag = headers.get("ETag", "")
    if status == 206:
        _, _, total = _content_range(headers)
        return Pin(etag, total)
    length = headers.get("Content-Length")
    if length is None or not length.isdigit():
        raise ResponseError("a whole-object answer without a Content-Length cannot be checked")
    return Pin(etag, int(length))


def read_range_answer(
    status: int,
    headers: Mapping[str, str],
    *,
    start: int,
    end: int,
    pin: Pin,
    bucket: str,
    key: str,
) -> None:
    """Check that an answer carries bytes ``start``..``end`` (exclusive) of the pinned version.

    Args:
        status: the answer's status.
        headers: its headers.
        start: the first byte asked for.
        end: one past the last byte asked for.
        pin: the version the download is pinned to.
        bucket: the bucket, for the error.
        key: the key, for the error.

    Raises:
        ObjectChanged: another ETag or size than the pinned one.
        ResponseError: an answer that does not hold exactly the bytes asked for.
    """
    etag = headers.get("ETag")
    if etag is not None and strip_etag(etag) != strip_etag(pin.etag):
        raise ObjectChanged(bucket, key, expected=pin.etag, actual=etag)
    if status == 200:
        if start != 0 or end != pin.size or _length(headers) != pin.size:
            raise ResponseError(f"asked for bytes {start}-{end - 1}, the server sent the object")
        return
    first, last, total = _content_range(headers)
    if total != pin.size:
        raise ObjectChanged(bucket, key, expected=pin.etag, actual=etag)
    if (first, last + 1) != (start, end):
        raise ResponseError(f"asked for bytes {start}-{end - 1}, the server sent {first}-{last}")
    length = _length(headers)
    if length is not None and length != end - start:
        raise ResponseError(f"Content-Length {length} for the bytes {start}-{end - 1}")


def _content_range(headers: Mapping[str, str]) -> tuple[int, int, int]:
    text = headers.get("Content-Range", "")
    match = _CONTENT_RANGE.fullmatch(text.strip())
    if match is None or match.group(3) == "*":
        raise ResponseError(f"a range answer needs a Content-Range of known length, got {text!r}")
    first, last, total = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if not first <= last < total:
        raise ResponseError(f"Content-Range {text!r} is not a range of the object")
    return first, last, total


def _length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Content-Length")
    return int(value) if value is not None and value.isdigit() else None


def md5_etag(headers: Mapping[str, str]) -> str | None:
    """The MD5 hex digest an answer's ETag promises for the object's bytes, if it does.

    A multipart upload's ETag (``…-N``) and an SSE-C, SSE-KMS or DSSE-KMS object's ETag are
    not the MD5 of the bytes; those return ``None``.

    Args:
        headers: a GetObject answer's headers.

    Returns:
        The lower-case hex digest, or ``None``.
    """
    if any(name in headers for name in _ENCRYPTED):
        return None
    if headers.get("x-amz-server-side-encryption", "").lower().startswith("aws:kms"):
        return None  # SSE-KMS and DSSE-KMS (aws:kms:dsse)
    etag = strip_etag(headers.get("ETag", "")).lower()
    return etag if _MD5_HEX.fullmatch(etag) else None


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What a partial download file holds, kept in a small JSON file beside it.

    Attributes:
        etag: the version the partial file holds bytes of.
        size: the object's size.
        part_size: the size of the ranges ``done`` counts in.
        done: the indexes of the ranges written whole.
    """

    etag: str
    size: int
    part_size: int
    done: frozenset[int]

    def matches(self, pin: Pin) -> bool:
        """Tell whether the partial file holds bytes of the version ``pin`` names.

        Args:
            pin: what the server's answer says the object is now.

        Returns:
            Whether the ETag and the size are the same. Never without an ETag: an answer
            that names none cannot tell one version from another of the same size.
        """
        etag = strip_etag(self.etag)
        return bool(etag) and etag == strip_etag(pin.etag) and self.size == pin.size

    def remaining(self) -> Iterator[Span]:
        """Return the ranges still to fetch.

        Returns:
            An iterator over them, in order.
        """
        return (span for span in spans(self.size, self.part_size) if span.index not in self.done)

    def done_bytes(self) -> int:
        """Return how many bytes the partial file already holds.

        Returns:
            The sum of the sizes of the ranges written whole.
        """
        every = spans(self.size, self.part_size)
        return sum(span.size for span in every if span.index in self.done)

    def with_done(self, indexes: Iterable[int]) -> ResumeState:
        """Return this state with more ranges written.

        Args:
            indexes: the ranges now written whole.

        Returns:
            A new state.
        """
        return ResumeState(self.etag, self.size, self.part_size, self.done | frozenset(indexes))

    def to_json(self) -> bytes:
        """Return the state as the JSON kept beside the partial file.

        Returns:
            UTF-8 JSON, read back by ``from_json``.
        """
        return json.dumps(
            {
                "format": RESUME_FORMAT,
                "etag": self.etag,
                "size": self.size,
                "part_size": self.part_size,
                "done": sorted(self.done),
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ResumeState | None:
        """Read a state written by ``to_json``.

        Args:
            data: the file's bytes.

        Returns:
            The state, or ``None`` when the bytes are not a state this version understands
            (the download then starts over: a partial file is never trusted on a guess).
        """
        try:
            raw = json.loads(data)
        except ValueError:
            return None
        if not isinstance(raw, dict) or raw.get("format") != RESUME_FORMAT:
            return None
        etag, size, part_size, done = (raw.get(k) for k in ("etag", "size", "part_size", "done"))
        if not (isinstance(etag, str) and _natural(size) and _natural(part_size) and part_size):
            return None
        assert isinstance(size, int)
        assert isinstance(part_size, int)
        count = -(-size // part_size)  # ranges in the object, without listing them
        if not isinstance(done, list) or not all(_natural(i) and i < count for i in done):
            return None
        return cls(etag, size, part_size, frozenset(done))


def _natural(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_whole(name: str, pin: Pin, md5: str | None, size: int, digest: str | None) -> None:
    """Check a download's size, and its MD5 where one was computed.

    Args:
        name: ``bucket/key``, for the message.
        pin: the version downloaded.
        md5: the MD5 its ETag states, if it is one.
        size: the bytes received.
        digest: their MD5 hex digest, or ``None`` if not computed.

    Raises:
        IntegrityError: either differs from what the object's answer said.
    """
    if size != pin.size:
        raise IntegrityError(
            f"{name}: {size:,} bytes received, the object has {pin.size:,}",
            expected=str(pin.size),
            actual=str(size),
        )
    if digest is not None and digest != md5:
        raise IntegrityError(
            f"{name}: the bytes received have MD5 {digest}, the ETag says {md5}",
            expected=md5,
            actual=digest,
        )
