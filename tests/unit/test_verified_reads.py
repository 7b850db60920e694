"""Verified reads and multipart object checksums, without a server.

``ChecksumVerifier`` is fed a body in pieces and compared with a stored value computed here by
``hashlib``/``zlib`` (or botocore's checksum classes); the multipart helpers are compared with
checksums of the concatenated data. Whatever rawS3 computes, the expectation is not rawS3's.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import AsyncIterator

import pytest
from botocore.httpchecksum import _CHECKSUM_CLS
from hypothesis import given
from hypothesis import strategies as st

from rawS3 import IntegrityError, UploadedPart
from rawS3.bodies import SignedChunkedBody
from rawS3.checksums import CHECKSUM_ALGORITHMS
from rawS3.operations import multipart
from rawS3.operations.multipart_checksums import (
    check_reported_checksum,
    object_checksum,
    reported_checksum,
)
from rawS3.operations.objects import get_object, put_body
from rawS3.trailers import TrailerChunkedBody
from rawS3.verify import ChecksumVerifier, stored_checksum


def reference(algorithm: str, data: bytes) -> str:
    checksum = _CHECKSUM_CLS[algorithm]()
    checksum.update(data)
    return str(checksum.b64digest())


@given(
    st.sampled_from(CHECKSUM_ALGORITHMS),
    st.binary(max_size=2000),
    st.integers(min_value=1, max_value=700),
)
def test_a_body_read_in_pieces_is_verified(algorithm: str, data: bytes, piece: int) -> None:
    headers = {f"x-amz-checksum-{algorithm}": reference(algorithm, data)}
    verifier = ChecksumVerifier.from_headers(headers, what="b/k")
    assert verifier is not None
    for start in range(0, len(data), piece):
        verifier.update(data[start : start + piece])
    verifier.finish()
    assert verifier.verified
    assert verifier.size == len(data)


@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
def test_one_changed_byte_is_an_integrity_error(algorithm: str) -> None:
    data = bytearray(b"the object's bytes" * 100)
    stored = reference(algorithm, bytes(data))
    data[700] ^= 0x01
    verifier = ChecksumVerifier(algorithm, stored, what="b/k")
    verifier.update(data)
    with pytest.raises(IntegrityError, match="b/k") as caught:
        verifier.finish()
    assert caught.value.expected == stored
    assert caught.value.actual == reference(algorithm, bytes(data))
    assert not verifier.verified


def test_a_short_body_is_an_integrity_error() -> None:
    stored = base64.b64encode(zlib.crc32(b"abcdef").to_bytes(4, "big")).decode()
    verifier = ChecksumVerifier("crc32", stored, what="b/k")
    verifier.update(b"abc")
    with pytest.raises(IntegrityError):
        verifier.finish()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"ETag": '"x"'}, None),
        ({"x-amz-checksum-crc32": "AAAAAA==-3"}, None),  # COMPOSITE: not of the bytes
        ({"X-Amz-Checksum-Sha256": "abc="}, ("sha256", "abc=")),
    ],
)
def test_what_can_be_verified(headers: dict[str, str], expected: tuple[str, str] | None) -> None:
    verifier = ChecksumVerifier.from_headers(headers, what="b/k")
    assert (verifier and (verifier.algorithm, verifier.expected)) == expected


def test_stored_checksum_keeps_a_composite_suffix() -> None:
    assert stored_checksum({"x-amz-checksum-crc32c": "AAAAAA==-2"}) == ("crc32c", "AAAAAA==-2")


def test_checksum_mode_asks_for_the_stored_checksum() -> None:
    request = get_object("bucket", "key", start=None, end=None, checksum_mode=True)
    assert request.headers == {"x-amz-checksum-mode": "ENABLED"}
    plain = get_object("bucket", "key", start=None, end=None)
    assert "x-amz-checksum-mode" not in plain.headers


# -- multipart object checksums ----------------------------------------------------------------


def parts_of(algorithm: str, pieces: list[bytes]) -> list[UploadedPart]:
    return [
        UploadedPart(number, f'"{number}"', len(piece), (algorithm, reference(algorithm, piece)))
        for number, piece in enumerate(pieces, start=1)
    ]


@given(
    st.sampled_from(["crc32", "crc32c", "crc64nvme"]),
    st.lists(st.binary(max_size=300), min_size=1, max_size=5),
)
def test_full_object_checksum_is_the_crc_of_the_whole(algorithm: str, pieces: list[bytes]) -> None:
    got = object_checksum(parts_of(algorithm, pieces), "FULL_OBJECT")
    assert got == (algorithm, reference(algorithm, b"".join(pieces)))


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "crc32"])
def test_composite_checksum_is_the_checksum_of_the_part_digests(algorithm: str) -> None:
    pieces = [b"a" * 10, b"b" * 20, b"c"]
    digests = b"".join(base64.b64decode(reference(algorithm, piece)) for piece in pieces)
    got = object_checksum(parts_of(algorithm, pieces), "COMPOSITE")
    assert got == (algorithm, f"{reference(algorithm, digests)}-3")


def test_no_object_checksum_without_a_type_or_part_checksums() -> None:
    assert object_checksum(parts_of("crc32", [b"x"]), None) is None
    assert object_checksum([UploadedPart(1, '"e"', 1)], "COMPOSITE") is None


def test_parts_of_different_algorithms_are_refused() -> None:
    parts = parts_of("crc32", [b"x"])
    parts.append(UploadedPart(2, '"e"', 1, ("sha1", reference("sha1", b"y"))))
    with pytest.raises(ValueError, match="different checksum algorithms"):
        object_checksum(parts, "COMPOSITE")


def test_complete_full_object_states_the_combined_crc() -> None:
    pieces = [b"first part " * 100, b"second"]
    request, _ = multipart.complete_multipart_upload(
        "bucket", "key", "id", parts_of("crc32c", pieces), checksum_type="FULL_OBJECT"
    )
    assert request.headers == {
        "x-amz-checksum-type": "FULL_OBJECT",
        "x-amz-checksum-crc32c": reference("crc32c", b"".join(pieces)),
    }
    assert request.body is not None
    xml = bytes(request.body.data)  # type: ignore[union-attr]
    assert b"<ChecksumCRC32C>" + reference("crc32c", pieces[0]).encode() in xml


def test_complete_without_a_type_sends_no_object_checksum() -> None:
    request, _ = multipart.complete_multipart_upload(
        "bucket", "key", "id", parts_of("crc32", [b"x"])
    )
    assert dict(request.headers) == {}


def test_create_declares_algorithm_and_type() -> None:
    request = multipart.create_multipart_upload(
        "bucket",
        "key",
        content_type=None,
        metadata=None,
        checksum="crc64nvme",
        checksum_type="FULL_OBJECT",
    )
    assert request.headers == {
        "x-amz-checksum-algorithm": "CRC64NVME",
        "x-amz-checksum-type": "FULL_OBJECT",
    }


COMPLETE_ANSWER = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b'<Bucket>b</Bucket><Key>k</Key><ETag>"e-2"</ETag>'
    b"<ChecksumSHA256>%s</ChecksumSHA256></CompleteMultipartUploadResult>"
)


def test_a_reported_checksum_is_read_and_compared() -> None:
    good = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    reported = reported_checksum(COMPLETE_ANSWER % f"{good}-2".encode())
    assert reported == ("sha256", f"{good}-2")
    check_reported_checksum(reported, ("sha256", f"{good}-2"), "b/k")
    check_reported_checksum(("sha256", good), ("sha256", f"{good}-2"), "b/k")  # suffix aside
    with pytest.raises(IntegrityError, match="b/k"):
        check_reported_checksum(reported, ("sha256", "AAAA-2"), "b/k")
    assert reported_checksum(b"<Other/>") is None


# -- nothing is sent unless asked for ----------------------------------------------------------


async def _stream() -> AsyncIterator[bytes]:
    yield b"x"


def test_no_checksum_header_or_trailer_is_sent_by_default() -> None:
    buffer = put_body(b"x", size=None, sign=True, md5=False, checksum=None, chunk_size=65536)
    streamed = put_body(_stream(), size=1, sign=True, md5=False, checksum=None, chunk_size=65536)
    create = multipart.create_multipart_upload(
        "bucket", "key", content_type=None, metadata=None, checksum=None
    )
    for headers in (buffer.headers, streamed.headers, create.headers):
        assert not [name for name in headers if "checksum" in name.lower()]
        assert "x-amz-trailer" not in headers
    assert isinstance(streamed, SignedChunkedBody)
    assert streamed.payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


def test_a_streamed_body_with_a_checksum_carries_a_trailer() -> None:
    signed = put_body(_stream(), size=1, sign=True, md5=False, checksum="crc32c", chunk_size=65536)
    unsigned = put_body(
        _stream(), size=1, sign=False, md5=False, checksum="crc32c", chunk_size=65536
    )
    assert isinstance(signed, TrailerChunkedBody)
    assert signed.payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    assert unsigned.payload_hash == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert signed.headers["x-amz-trailer"] == "x-amz-checksum-crc32c"
