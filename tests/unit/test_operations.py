"""Every operation's builder and reader, with no server: values in, values out.

A builder must name the method, bucket, key, query, headers and body S3 documents, say which
statuses are success and whether a retry is safe, and refuse bad arguments; a reader must turn
an answer into the result, or into the typed error.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from rawS3 import (
    IntegrityError,
    NoSuchBucket,
    NoSuchKey,
    PutResult,
    ResponseError,
    SignatureDoesNotMatch,
    UploadedPart,
)
from rawS3.bodies import BufferBody, SignedChunkedBody
from rawS3.errors import RawS3Error
from rawS3.operations import buckets, listing, multipart, objects
from rawS3.operations.request import Reply, Request, read_error

MD5_OF_DATA = hashlib.md5(b"data").hexdigest()
PART = UploadedPart(1, f'"{MD5_OF_DATA}"', 4)


def reply(status: int = 200, body: bytes = b"", **headers: str) -> Reply:
    return Reply(status, {name.replace("_", "-"): value for name, value in headers.items()}, body)


def body(data: bytes = b"data", *, md5: bool = True, checksum: str | None = None) -> BufferBody:
    return BufferBody(data, sign=True, md5=md5, checksum=checksum)


# -- objects ------------------------------------------------------------------------------------


def test_put_object_request() -> None:
    sent = body()
    request = objects.put_object(
        "bucket",
        "a/b c",
        sent,
        content_type="text/plain",
        metadata={"owner": "ann"},
        headers={"x-amz-acl": "private"},
    )
    assert (request.method, request.bucket, request.key, request.query) == (
        "PUT",
        "bucket",
        "a/b c",
        (),
    )
    assert request.headers == {
        "x-amz-acl": "private",
        "Content-Type": "text/plain",
        "x-amz-meta-owner": "ann",
    }
    assert request.body is sent
    assert request.ok == frozenset({200})
    assert request.retry


def test_put_body_kinds() -> None:
    in_memory = objects.put_body(
        b"abc", size=None, sign=False, md5=True, checksum=None, chunk_size=65536
    )
    assert isinstance(in_memory, BufferBody)
    assert in_memory.payload_hash == "UNSIGNED-PAYLOAD"
    assert (
        in_memory.headers["Content-MD5"] == base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    )

    async def source() -> Any:
        yield b"x"

    streamed = objects.put_body(
        source(), size=1, sign=True, md5=False, checksum=None, chunk_size=65536
    )
    assert isinstance(streamed, SignedChunkedBody)
    assert not streamed.replayable


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"body": "text", "size": None}, TypeError),
        ({"body": b"abc", "size": 4}, ValueError),
        ({"body": memoryview(b"abcd")[::2], "size": None}, ValueError),
    ],
    ids=["str", "wrong size", "strided"],
)
def test_put_body_refuses(arguments: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        objects.put_body(**arguments, sign=True, md5=False, checksum=None, chunk_size=65536)


def test_read_put_object_checks_the_etag_against_the_md5_sent() -> None:
    result = objects.read_put_object(reply(ETag=f'"{MD5_OF_DATA}"'), body(), "b", "k")
    assert result == PutResult(f'"{MD5_OF_DATA}"', None, 0, 4)
    with pytest.raises(IntegrityError):
        objects.read_put_object(reply(ETag='"' + "0" * 32 + '"'), body(), "b", "k")
    # SSE-C ETags are not MD5s: not compared.
    sse = Reply(200, {"ETag": '"x"', "x-amz-server-side-encryption-customer-algorithm": "AES"}, b"")
    assert objects.read_put_object(sse, body(), "b", "k").etag == '"x"'


def test_read_put_object_compares_an_echoed_checksum() -> None:
    sent = body(checksum="crc32")
    assert sent.checksum is not None
    header = "x-amz-checksum-crc32"
    objects.read_put_object(Reply(200, {header: sent.checksum[1]}, b""), sent, "b", "k")
    with pytest.raises(IntegrityError):
        objects.read_put_object(Reply(200, {header: "AAAAAA=="}, b""), sent, "b", "k")


def test_get_object_requests() -> None:
    whole = objects.get_object("bucket", "k", start=None, end=None)
    assert (whole.method, whole.headers, whole.ok) == ("GET", {}, frozenset({200, 206}))
    ranged = objects.get_object("bucket", "k", start=10, end=19)
    assert ranged.headers == {"Range": "bytes=10-19"}
    assert objects.get_object("bucket", "k", start=5, end=None).headers == {"Range": "bytes=5-"}
    with pytest.raises(ValueError, match="end given without start"):
        objects.get_object("bucket", "k", start=None, end=5)


def test_head_and_delete_object() -> None:
    head = objects.head_object("bucket", "k")
    assert (head.method, head.bucket, head.key) == ("HEAD", "bucket", "k")
    found = objects.read_head_object(
        reply(
            ETag='"e"',
            Content_Length="12",
            x_amz_meta_owner="ann",
            Last_Modified="Tue, 24 Nov 2026 16:18:21 GMT",
        )
    )
    assert (found.size, found.etag, found.metadata) == (12, '"e"', {"owner": "ann"})
    delete = objects.delete_object("bucket", "k")
    assert (delete.method, delete.ok) == ("DELETE", frozenset({200, 204}))


def test_delete_objects_request_and_answer() -> None:
    keys = objects.keys_to_delete(["a", "b", "a"])
    assert keys == ["a", "b"]
    request = objects.delete_objects("bucket", keys, quiet=True)
    assert (request.method, request.query) == ("POST", (("delete", None),))
    assert isinstance(request.body, BufferBody)
    assert request.body.md5 is not None  # S3 requires Content-MD5 on DeleteObjects
    xml = bytes(request.body.data)
    assert b"<Quiet>true</Quiet>" in xml
    assert xml.count(b"<Object>") == 2
    answer = (
        b"<DeleteResult><Deleted><Key>a</Key></Deleted>"
        b"<Error><Key>b</Key><Code>AccessDenied</Code></Error></DeleteResult>"
    )
    result = objects.parse_delete_objects(answer)
    assert [d.key for d in result.deleted] == ["a"]
    assert [(e.key, e.code) for e in result.errors] == [("b", "AccessDenied")]


def test_copy_object_request() -> None:
    plain = objects.copy_object("src", "a b", "dst", "k", metadata=None, content_type=None)
    assert plain.headers == {"x-amz-copy-source": "/src/a%20b"}
    assert plain.embedded_errors
    replaced = objects.copy_object("src", "a", "dst", "k", metadata={"m": "1"}, content_type=None)
    assert replaced.headers["x-amz-metadata-directive"] == "REPLACE"
    assert replaced.headers["x-amz-meta-m"] == "1"


# -- multipart ----------------------------------------------------------------------------------


def test_create_multipart_upload_request() -> None:
    request = multipart.create_multipart_upload(
        "bucket", "k", content_type="video/mp4", metadata=None, checksum="crc32"
    )
    assert (request.method, request.query) == ("POST", (("uploads", None),))
    assert request.headers == {"Content-Type": "video/mp4", "x-amz-checksum-algorithm": "CRC32"}
    # Retried on a late answer because the caller cleans up what a lost attempt created.
    assert request.retry_timeouts


def test_lost_creates_records_what_may_have_created_an_upload() -> None:
    lost = multipart.LostCreates("b", "k", datetime(2026, 1, 1, tzinfo=timezone.utc))
    lost.record(NoSuchBucket(code="NoSuchBucket", message="", status=404))
    assert not lost.possible
    lost.record(RawS3Error("connection reset"))
    assert lost.possible
    fresh = multipart.LostCreates("b", "k", lost.since)
    with pytest.raises(ResponseError):
        fresh.read(reply(body=b"<InitiateMultipartUploadResult/>"))
    assert fresh.possible
    answer = (
        b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
        b"<UploadId>u-1</UploadId></InitiateMultipartUploadResult>"
    )
    assert multipart.LostCreates("b", "k", lost.since).read(reply(body=answer)) == "u-1"


def test_upload_part_request_and_answer() -> None:
    request = multipart.upload_part(
        "bucket", "k", "u-1", 3, bytearray(b"data"), sign=False, md5=True, checksum=None
    )
    assert request.query == (("partNumber", "3"), ("uploadId", "u-1"))
    assert isinstance(request.body, BufferBody)
    assert request.body.payload_hash == "UNSIGNED-PAYLOAD"
    part = multipart.read_upload_part(reply(ETag=f'"{MD5_OF_DATA}"'), request)
    assert part == UploadedPart(3, f'"{MD5_OF_DATA}"', 4, None)
    with pytest.raises(IntegrityError):
        multipart.read_upload_part(reply(ETag='"' + "1" * 32 + '"'), request)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"part_number": 0}, ValueError),
        ({"part_number": 10_001}, ValueError),
        ({"upload_id": ""}, ValueError),
        ({"data": "text"}, TypeError),
    ],
    ids=["part 0", "part 10001", "empty upload id", "str data"],
)
def test_upload_part_refuses(arguments: dict[str, Any], error: type[Exception]) -> None:
    given: dict[str, Any] = {"upload_id": "u-1", "part_number": 1, "data": b"x", **arguments}
    with pytest.raises(error):
        multipart.upload_part("bucket", "k", sign=True, md5=False, checksum=None, **given)


def test_upload_part_copy_request() -> None:
    ranged = multipart.upload_part_copy("bucket", "k", "u-1", 2, ("src", "s"), start=0, end=9)
    assert ranged.headers == {"x-amz-copy-source": "/src/s", "x-amz-copy-source-range": "bytes=0-9"}
    assert ranged.embedded_errors
    whole = multipart.upload_part_copy("bucket", "k", "u-1", 2, ("src", "s"), start=None, end=None)
    assert "x-amz-copy-source-range" not in whole.headers
    with pytest.raises(ValueError, match="start and end together"):
        multipart.upload_part_copy("bucket", "k", "u-1", 2, ("src", "s"), start=0, end=None)


def test_complete_request_and_answer() -> None:
    second = UploadedPart(2, '"' + "2" * 32 + '"', 1)
    request, ordered = multipart.complete_multipart_upload("bucket", "k", "u-1", [second, PART])
    assert ordered == [PART, second]
    assert request.query == (("uploadId", "u-1"),)
    assert request.embedded_errors
    assert isinstance(request.body, BufferBody)
    xml = bytes(request.body.data)
    assert xml.index(b"<PartNumber>1</PartNumber>") < xml.index(b"<PartNumber>2</PartNumber>")
    answer = (
        b"<CompleteMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key>"
        b'<ETag>"e-2"</ETag></CompleteMultipartUploadResult>'
    )
    result = multipart.read_complete(reply(body=answer, x_amz_version_id="v1"), ordered)
    assert result == PutResult('"e-2"', "v1", 2, 5)
    with pytest.raises(TypeError, match="UploadedPart"):
        multipart.complete_multipart_upload("bucket", "k", "u-1", [(1, '"e"')])
    with pytest.raises(ValueError, match="at least one part"):
        multipart.complete_multipart_upload("bucket", "k", "u-1", [])


def test_abort_and_listing_requests() -> None:
    abort = multipart.abort_multipart_upload("bucket", "k", "u-1")
    assert (abort.method, abort.query, abort.ok) == (
        "DELETE",
        (("uploadId", "u-1"),),
        frozenset({200, 204}),
    )
    parts = multipart.list_parts("bucket", "k", "u-1", marker=7)
    assert parts.query == (("part-number-marker", "7"), ("uploadId", "u-1"))
    uploads = multipart.list_multipart_uploads(
        "bucket", prefix="p/", markers=(("key-marker", "a"), ("upload-id-marker", "u"))
    )
    assert uploads.query == (
        ("uploads", None),
        ("prefix", "p/"),
        ("key-marker", "a"),
        ("upload-id-marker", "u"),
    )


# -- listing ------------------------------------------------------------------------------------


def test_list_objects_v2_request() -> None:
    first = listing.list_objects_v2(
        "bucket", prefix="a/", delimiter="/", start_after=None, page_size=10, token=None
    )
    assert first.query == (
        ("list-type", "2"),
        ("encoding-type", "url"),
        ("max-keys", "10"),
        ("prefix", "a/"),
        ("delimiter", "/"),
    )
    later = listing.list_objects_v2(
        "bucket", prefix=None, delimiter=None, start_after="k", page_size=1000, token="t"
    )
    assert later.query[-2:] == (("start-after", "k"), ("continuation-token", "t"))
    with pytest.raises(ValueError, match="page_size"):
        listing.list_objects_v2(
            "bucket", prefix=None, delimiter=None, start_after=None, page_size=1001, token=None
        )


def test_next_marker_refuses_a_listing_that_would_not_end() -> None:
    seen: set[str] = set()
    assert listing.next_marker("t1", seen, "token") == "t1"
    with pytest.raises(ResponseError, match="same token twice"):
        listing.next_marker("t1", seen, "token")
    with pytest.raises(ResponseError, match="sent no next token"):
        listing.next_marker(None, seen, "token")


# -- buckets ------------------------------------------------------------------------------------


def test_bucket_requests() -> None:
    here = buckets.create_bucket("bucket", region="us-east-1")
    assert (here.method, here.body) == ("PUT", None)
    there = buckets.create_bucket("bucket", region="eu-west-1")
    assert isinstance(there.body, BufferBody)
    assert b"<LocationConstraint>eu-west-1</LocationConstraint>" in bytes(there.body.data)
    assert buckets.head_bucket("bucket").method == "HEAD"
    assert buckets.delete_bucket("bucket").ok == frozenset({200, 204})
    assert buckets.list_buckets() == Request("GET")


BUILDERS: dict[str, Callable[[], object]] = {
    "put_object": lambda: objects.put_object("Bad_Bucket", "k", body()),
    "get_object": lambda: objects.get_object("bucket", "", start=None, end=None),
    "head_object": lambda: objects.head_object("bucket", ""),
    "delete_object": lambda: objects.delete_object("b", "k"),
    "copy_object": lambda: objects.copy_object(
        "src", "", "dst", "k", metadata=None, content_type=None
    ),
    "create_multipart_upload": lambda: multipart.create_multipart_upload(
        "bucket", "k", content_type="a\nb", metadata=None, checksum=None
    ),
    "create_bucket": lambda: buckets.create_bucket("ab", region="us-east-1"),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_builders_refuse_bad_names(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"bucket|key|header|CR or LF|empty"):
        build()


# -- error answers ------------------------------------------------------------------------------


def test_read_error_from_a_document_a_status_or_garbage() -> None:
    request = objects.get_object("bucket", "k", start=None, end=None)
    doc = b"<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>r1</RequestId></Error>"
    error = read_error(404, {}, doc, request)
    assert isinstance(error, NoSuchKey)
    assert (error.message, error.request_id, error.bucket, error.key) == (
        "gone",
        "r1",
        "bucket",
        "k",
    )
    bodiless = read_error(404, {"x-amz-request-id": "r2"}, b"", objects.head_object("bucket", "k"))
    assert isinstance(bodiless, NoSuchKey)
    assert bodiless.request_id == "r2"
    garbage = read_error(503, {}, b"<html>busy</html>", request)
    assert garbage.status == 503
    assert "unreadable error body" in garbage.message


def test_read_error_masks_the_secrets_a_server_echoes() -> None:
    canonical = (
        "GET\n/bucket/k\n\nx-amz-security-token:TOKEN123\n\nx-amz-security-token\nUNSIGNED-PAYLOAD"
    )
    doc = (
        "<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>abcdef</SignatureProvided>"
        f"<CanonicalRequest>{canonical}</CanonicalRequest></Error>"
    ).encode()
    request = objects.get_object("bucket", "k", start=None, end=None)
    error = read_error(403, {}, doc, request, ("TOKEN123", "abcdef"))
    assert isinstance(error, SignatureDoesNotMatch)
    assert "TOKEN123" not in repr(error.details)
    assert "abcdef" not in repr(error.details)
