"""Bad arguments are refused before anything is sent, with a message saying what is allowed.

The client borrows a session that records and refuses every request, so a case that slipped
past validation fails loudly instead of reaching a server; download sources point at a local
server whose request count must stay at zero.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from rawS3 import (
    Credentials,
    CredentialsError,
    MultipartUploader,
    RetryPolicy,
    S3Client,
    SSECustomerKey,
    Timeouts,
    UploadedPart,
    UploadOptions,
)
from rawS3.transfer import upload_stream
from rawS3.url_uploads import fetch_and_upload, stream_upload
from tests.sources import MiB, SourceFiles

GiB = 1024 * MiB
KEYS = {"aws_access_key_id": "AKIDBADINPUT", "aws_secret_access_key": "not-used-secret"}


class RefusingSession:
    """Stands in for ``aiohttp.ClientSession``: records any request and refuses it."""

    closed = False

    def __init__(self) -> None:
        self.requests: list[str] = []

    def request(self, method: str, url: object, **_: object) -> Any:
        self.requests.append(f"{method} {url}")
        raise AssertionError(f"bad input reached the network: {method} {url}")

    async def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class Env:
    client: S3Client
    source: str  # the URL of a real local download, for cases about other arguments


Call = Callable[[Env], Any]


@dataclass(frozen=True)
class Case:
    call: Call
    error: type[Exception]
    message: str  # a regex the message must match: what is wrong, and what is allowed


async def chunks() -> AsyncIterator[bytes]:
    yield b"abc"


def put(bucket: object = "bucket", key: object = "key", body: object = b"x", **kw: object) -> Call:
    return lambda env: env.client.put_object(bucket, key, body, **kw)  # type: ignore[arg-type]


def client(**options: object) -> Call:
    def make(env: Env) -> S3Client:
        settings: dict[str, object] = {"endpoint_url": "http://127.0.0.1:9", **KEYS, **options}
        return S3Client(**settings)  # type: ignore[arg-type]

    return make


def uploader(**options: object) -> Call:
    return lambda env: env.client.multipart_uploader("bucket", "key", **options)  # type: ignore[arg-type]


def upload_path(path: object = "/nonexistent/file", **kw: object) -> Call:
    return lambda env: env.client.upload_path("bucket", "key", path, **kw)  # type: ignore[arg-type]


def meta(metadata: object) -> Call:
    return put(metadata=metadata)


def get(**kw: object) -> Call:
    return lambda env: env.client.get_object("bucket", "key", **kw)  # type: ignore[arg-type]


def presign(expires: object) -> Call:
    return lambda env: env.client.presign_get("bucket", "key", expires=expires)  # type: ignore[arg-type]


def fetch(url: str | None = None, bucket: str = "bucket") -> Call:
    return lambda env: env.client.fetch_and_upload(bucket, "key", url or env.source)


def stream(url: str | None = None, **kw: object) -> Call:
    return lambda env: env.client.stream_upload(
        "bucket",
        "key",
        url or env.source,
        **kw,  # type: ignore[arg-type]
    )


BUCKET_CHARS = r"only lowercase letters, digits, '\.' and '-'"
PART_RANGE = r"part_size must be at least 5,242,880 and at most 5,368,709,120"
EXPIRES_RANGE = r"expires must be at least 1 and at most 604,800"
SCHEME = r"must start with http:// or https://"
NOT_BYTES = r"body must be bytes, bytearray or memoryview, not "

CASES: dict[str, Case | Any] = {
    # Bucket names, by S3's naming rules.
    "bucket too short": Case(put(bucket="ab"), ValueError, r"'ab'.*3 to 63 characters long, got 2"),
    "bucket too long": Case(put(bucket="b" * 64), ValueError, r"3 to 63 characters long, got 64"),
    "bucket uppercase": Case(put(bucket="MyBucket"), ValueError, BUCKET_CHARS),
    "bucket underscore": Case(put(bucket="my_bucket"), ValueError, BUCKET_CHARS),
    "bucket starts with -": Case(
        put(bucket="-bucket"), ValueError, r"must start and end with a letter or digit"
    ),
    "bucket ends with -": Case(
        put(bucket="bucket-"), ValueError, r"must start and end with a letter or digit"
    ),
    "bucket like an IP": Case(
        put(bucket="192.168.5.4"), ValueError, r"must not be formatted as an IP address"
    ),
    "bucket with ..": Case(put(bucket="my..bucket"), ValueError, r"two adjacent periods"),
    "bucket xn-- prefix": Case(
        put(bucket="xn--bucket"), ValueError, r"S3 reserves the prefixes xn--, sthree-"
    ),
    "bucket -s3alias suffix": Case(
        put(bucket="data-s3alias"), ValueError, r"and the suffixes -s3alias, --ol-s3"
    ),
    "bucket not a str": Case(put(bucket=None), TypeError, r"bucket must be a str, not NoneType"),
    # Keys.
    "empty key": Case(put(key=""), ValueError, r"object key must not be empty"),
    "key over 1024 bytes": Case(
        put(key="k" * 1025), ValueError, r"1025 UTF-8 bytes; at most 1024 are allowed"
    ),
    "key over 1024 bytes in UTF-8 only": Case(
        put(key="é" * 513), ValueError, r"1026 UTF-8 bytes; at most 1024 are allowed"
    ),
    "key with a lone surrogate": Case(put(key="a\ud800"), ValueError, r"not valid UTF-8"),
    "key as bytes": Case(put(key=b"key"), TypeError, r"key must be a str, not bytes"),
    # Bodies.
    "body str": Case(put(body="text"), TypeError, NOT_BYTES + r"str \(encode text first"),
    "body int": Case(put(body=123), TypeError, NOT_BYTES + r"int"),
    "body None": Case(put(body=None), TypeError, NOT_BYTES + r"NoneType"),
    "part data str": Case(
        lambda env: env.client.upload_part("bucket", "key", "id", 1, "text"),  # type: ignore[arg-type]
        TypeError,
        r"data must be bytes, bytearray or memoryview, not str",
    ),
    "stream body without size": Case(
        put(body=chunks()), ValueError, r"async iterable body needs its exact size \(size=\.\.\.\)"
    ),
    "size not matching bytes": Case(
        put(body=b"abc", size=4), ValueError, r"size=4 but the body holds 3 bytes"
    ),
    # Part sizes and concurrency.
    "part_size under 5 MiB": Case(
        uploader(part_size=5 * MiB - 1), ValueError, PART_RANGE + r", got 5,242,879"
    ),
    "part_size over 5 GiB": Case(
        uploader(part_size=5 * GiB + 1), ValueError, PART_RANGE + r", got 5,368,709,121"
    ),
    "stream_upload part_size 1 KiB": Case(stream(part_size=1024), ValueError, PART_RANGE),
    "concurrency 0": Case(uploader(concurrency=0), ValueError, r"concurrency must be at least 1"),
    "stream_upload concurrency -1": Case(
        stream(concurrency=-1), ValueError, r"concurrency must be at least 1.*got -1"
    ),
    "part number 0": Case(
        lambda env: env.client.upload_part("bucket", "key", "id", 0, b"x"),
        ValueError,
        r"part_number must be at least 1 and at most 10,000, got 0",
    ),
    "part number 10001": Case(
        lambda env: env.client.upload_part("bucket", "key", "id", 10_001, b"x"),
        ValueError,
        r"part_number must be at least 1 and at most 10,000, got 10,001",
    ),
    # Source URLs.
    "source ftp://": Case(fetch("ftp://example.com/x"), ValueError, SCHEME + r", got 'ftp:"),
    "source file://": Case(fetch("file:///etc/passwd"), ValueError, SCHEME + r", got 'file:"),
    "source without scheme": Case(fetch("example.com/x"), ValueError, SCHEME),
    "source without host": Case(fetch("http:///x"), ValueError, r"has no host"),
    "stream source ftp://": Case(stream("ftp://example.com/x"), ValueError, SCHEME),
    "fetch into a bad bucket": Case(fetch(bucket="Bad_Bucket"), ValueError, BUCKET_CHARS),
    # Endpoints and client options.
    "endpoint without scheme": Case(
        client(endpoint_url="127.0.0.1:9000"), ValueError, r"has no scheme; write e\.g\. https://"
    ),
    "endpoint ftp://": Case(
        client(endpoint_url="ftp://127.0.0.1"), ValueError, r"scheme must be http or https"
    ),
    "payload_signing unknown": Case(
        client(payload_signing="sometimes"),
        ValueError,
        r"payload_signing must be one of 'auto', 'signed', 'unsigned', got 'sometimes'",
    ),
    "addressing unknown": Case(
        client(addressing="dns"),
        ValueError,
        r"addressing must be one of 'path', 'virtual', got 'dns'",
    ),
    "max_connections 0": Case(
        client(max_connections=0), ValueError, r"max_connections must be at least 1"
    ),
    "retry attempts 0": Case(
        lambda env: RetryPolicy(attempts=0), ValueError, r"attempts must be at least 1"
    ),
    "retry attempts bool": Case(
        lambda env: RetryPolicy(attempts=True), TypeError, r"attempts must be an int, not bool"
    ),
    "retry base above cap": Case(
        lambda env: RetryPolicy(base=2.0, cap=1.0), ValueError, r"need 0 <= base <= cap"
    ),
    "connect timeout as str": Case(
        lambda env: Timeouts(connect="10"),
        TypeError,
        r"connect must be seconds \(int or float\) or None",
    ),
    "negative read timeout": Case(
        lambda env: Timeouts(read=-1), ValueError, r"read.*(positive|at least|> ?0|None)"
    ),
    # Presigned URLs.
    "presign expires 0": Case(presign(0), ValueError, EXPIRES_RANGE + r", got 0"),
    "presign expires negative": Case(presign(-60), ValueError, EXPIRES_RANGE + r", got -60"),
    "presign expires over 7 days": Case(
        presign(7 * 24 * 3600 + 1), ValueError, EXPIRES_RANGE + r", got 604,801"
    ),
    "presign expires str": Case(presign("3600"), TypeError, r"expires must be an int, not str"),
    # Metadata HTTP headers cannot carry.
    "metadata key with newline": Case(
        meta({"a\nb": "v"}), ValueError, r"metadata key 'a\\nb' may hold only letters, digits"
    ),
    "metadata key with space": Case(
        meta({"my key": "v"}), ValueError, r"metadata key 'my key' may hold only letters"
    ),
    "metadata value with newline": Case(
        meta({"k": "line\r\nx-amz-acl: public-read"}),
        ValueError,
        r"metadata value for 'k' must be printable ASCII",
    ),
    "metadata value non-ASCII": Case(
        meta({"k": "café"}), ValueError, r"must be printable ASCII.*percent-encode"
    ),
    "metadata value int": Case(
        meta({"k": 5}), TypeError, r"metadata value for 'k' must be a str, not int"
    ),
    "metadata not a mapping": Case(
        meta([("k", "v")]), TypeError, r"metadata must be a mapping of str to str, not list"
    ),
    # Other headers HTTP cannot carry.
    "content_type with CRLF": Case(
        put(content_type="text/plain\r\nx-amz-acl: public-read"),
        ValueError,
        r"header 'Content-Type' value must not contain CR or LF",
    ),
    "header name with a space": Case(
        put(headers={"bad name": "v"}), ValueError, r"'bad name' is not a valid HTTP header name"
    ),
    "header value with CRLF": Case(
        put(headers={"x-amz-tagging": "a\r\nx: y"}),
        ValueError,
        r"header 'x-amz-tagging' value must not contain CR or LF",
    ),
    "create_bucket region with whitespace": Case(
        lambda env: env.client.create_bucket("bucket", region="us east-1"),
        ValueError,
        r"region must be a non-empty name without whitespace",
    ),
    "chunk_size under 8 KiB": Case(
        put(body=chunks(), size=3, chunk_size=1024),
        ValueError,
        r"chunk_size must be at least 8,192, got 1,024",
    ),
    # Multipart bookkeeping.
    "complete with no parts": Case(
        lambda env: env.client.complete_multipart_upload("bucket", "key", "id", []),
        ValueError,
        r"a multipart upload needs at least one part",
    ),
    "complete with tuples for parts": Case(
        lambda env: env.client.complete_multipart_upload("bucket", "key", "id", [(1, "e")]),
        TypeError,
        r"UploadedPart",
    ),
    "upload_part with an empty upload id": Case(
        lambda env: env.client.upload_part("bucket", "key", "", 1, b"x"),
        ValueError,
        r"upload.id must not be empty",
    ),
    "abort with an empty upload id": Case(
        lambda env: env.client.abort_multipart_upload("bucket", "key", ""),
        ValueError,
        r"upload.id must not be empty",
    ),
    # Byte ranges.
    "range start negative": Case(
        get(start=-1), ValueError, r"range start must be at least 0, got -1"
    ),
    "range end before start": Case(
        get(start=10, end=5), ValueError, r"range end \(5\) must not be before range start \(10\)"
    ),
    "range end without start": Case(
        get(end=5), ValueError, r"end given without start; pass start=0"
    ),
    "range start str": Case(get(start="0"), TypeError, r"range start must be an int, not str"),
    # Listings.
    "page_size 0": Case(
        lambda env: anext(env.client.list_objects("bucket", page_size=0)),
        ValueError,
        r"page_size must be at least 1 and at most 1,000, got 0",
    ),
    "delete_objects with an empty key": Case(
        lambda env: env.client.delete_objects("bucket", ["ok", ""]),
        ValueError,
        r"object key must not be empty",
    ),
    "upload_stream part_size too small": Case(
        lambda env: upload_stream(env.client, "bucket", "key", chunks(), part_size=MiB),
        ValueError,
        PART_RANGE,
    ),
    "fetch_and_upload module function ftp": Case(
        lambda env: fetch_and_upload(env.client, "bucket", "key", "ftp://x/y"), ValueError, SCHEME
    ),
    "stream_upload module function bad key": Case(
        lambda env: stream_upload(env.client, "bucket", "", env.source),
        ValueError,
        r"object key must not be empty",
    ),
    # Checksums (additional checksums, trailers, multipart checksum types, verified reads).
    "checksum md5": Case(put(checksum="md5"), ValueError, r"checksum must be one of .*crc32c"),
    "client checksum unknown": Case(
        client(checksum="crc16"), ValueError, r"checksum must be one of .*crc64nvme"
    ),
    "uploader FULL_OBJECT with sha256": Case(
        uploader(checksum="sha256", checksum_type="FULL_OBJECT"),
        ValueError,
        r"FULL_OBJECT needs one of \('crc32', 'crc32c', 'crc64nvme'\)",
    ),
    "uploader checksum_type without checksum": Case(
        uploader(checksum_type="COMPOSITE"), ValueError, r"checksum_type needs a checksum"
    ),
    "uploader unknown checksum_type": Case(
        uploader(checksum="crc32", checksum_type="FULL"),
        ValueError,
        r"checksum_type must be one of \('COMPOSITE', 'FULL_OBJECT'\)",
    ),
    "ranged read with checksum_mode": Case(
        get(start=0, end=9, checksum_mode=True), ValueError, r"whole-object reads only"
    ),
    "checksum_mode not a bool": Case(
        get(checksum_mode="yes"), TypeError, r"checksum_mode must be a bool, not str"
    ),
    "streamed upload_part without size": Case(
        lambda env: env.client.upload_part("bucket", "key", "id", 1, chunks(), checksum="crc32"),
        ValueError,
        r"needs its exact size",
    ),
    "complete with an unknown checksum_type": Case(
        lambda env: env.client.complete_multipart_upload(
            "bucket", "key", "id", [UploadedPart(1, '"e"', 1)], checksum_type="full"
        ),
        ValueError,
        r"checksum_type must be 'COMPOSITE', 'FULL_OBJECT' or None",
    ),
    # Credentials and profiles.
    "credentials not a provider": Case(
        lambda env: S3Client("http://127.0.0.1:9", credentials="AKID:secret"),  # type: ignore[arg-type]
        TypeError,
        r"credentials must be Credentials or a provider with an async fetch\(\) method, not str",
    ),
    "credentials and keys together": Case(
        client(credentials=Credentials("AKIDX", "secret")),
        TypeError,
        r"pass credentials= or the aws_\* key arguments, not both",
    ),
    "profile not a str": Case(client(profile=7), TypeError, r"profile must be a str, not int"),
    "credentials expiry as str": Case(
        lambda env: Credentials("AKIDX", "secret", None, "2030-01-01"),  # type: ignore[arg-type]
        TypeError,
        r"Credentials\.expiry must be a datetime\.datetime or None",
    ),
    "unknown profile": Case(
        lambda env: S3Client("http://127.0.0.1:9", profile="rawS3-no-such-profile-anywhere"),
        CredentialsError,
        r"^profile rawS3-no-such-profile-anywhere: not found in ",
    ),
    "download part_size too small": Case(
        lambda env: env.client.download("bucket", "key", "/tmp/x", part_size=1024),
        ValueError,
        r"part_size must be at least 65,536",
    ),
    "download concurrency 0": Case(
        lambda env: env.client.download("bucket", "key", "/tmp/x", concurrency=0),
        ValueError,
        r"concurrency must be at least 1 and at most 1,000",
    ),
    "download target None": Case(
        lambda env: env.client.download("bucket", "key", None),
        TypeError,
        r"target must be a path",
    ),
    "download target a directory": Case(
        lambda env: env.client.download("bucket", "key", "/"),
        ValueError,
        r"is a directory",
    ),
    "download target in a missing directory": Case(
        lambda env: env.client.download("bucket", "key", "/nonexistent-raws3-dir/x"),
        ValueError,
        r"which is not a directory",
    ),
    "download resume not bool": Case(
        lambda env: env.client.download("bucket", "key", "/tmp/x", resume="yes"),
        TypeError,
        r"resume must be True or False",
    ),
    "download on_progress not callable": Case(
        lambda env: env.client.download("bucket", "key", "/tmp/x", on_progress=5),
        TypeError,
        r"on_progress must be callable",
    ),
    "download bad key": Case(
        lambda env: env.client.download("bucket", "", "/tmp/x"),
        ValueError,
        r"object key must not be empty",
    ),
    "iter_download part_size not int": Case(
        lambda env: env.client.iter_download("bucket", "key", part_size=1.5),
        TypeError,
        r"part_size must be an int",
    ),
    "iter_download empty version": Case(
        lambda env: env.client.iter_download("bucket", "key", version_id=""),
        ValueError,
        r"version_id must be a non-empty str",
    ),
    # Files up, and resuming.
    "upload_path path an int": Case(upload_path(3), TypeError, r"path must be a str or os\."),
    "upload_path bad bucket": Case(
        lambda env: env.client.upload_path("B", "key", "f"), ValueError, r"3 to 63 characters"
    ),
    "upload_path part_size too small": Case(upload_path(part_size=MiB), ValueError, PART_RANGE),
    "upload_path concurrency 0": Case(
        upload_path(concurrency=0), ValueError, r"concurrency must be at least 1"
    ),
    "upload_path concurrency a word": Case(
        upload_path(concurrency="fast"), ValueError, r"concurrency must be an int or 'auto'"
    ),
    "upload_path max_memory below one part": Case(
        upload_path(max_memory=MiB), ValueError, r"max_memory=1,048,576 cannot hold one part"
    ),
    "upload_path max_memory 0": Case(
        upload_path(max_memory=0), ValueError, r"max_memory must be at least 1"
    ),
    "upload_path resume empty": Case(
        upload_path(resume=""), ValueError, r"upload_id must not be empty"
    ),
    "upload_path resume an int": Case(upload_path(resume=7), TypeError, r"upload_id must be"),
    "upload_path keep_on_failure a str": Case(
        upload_path(keep_on_failure="yes"), TypeError, r"keep_on_failure must be a bool"
    ),
    "upload_path on_progress not callable": Case(
        upload_path(on_progress=3), TypeError, r"on_progress must be callable"
    ),
    "upload_path a missing file": Case(upload_path(), FileNotFoundError, r"/nonexistent/file"),
    "upload_path a directory": Case(upload_path("/"), ValueError, r"/ is not a regular file"),
    "uploader resume empty": Case(uploader(resume=""), ValueError, r"upload_id must not be empty"),
    "uploader resume with a checksum": Case(
        lambda env: MultipartUploader(env.client, "bucket", "key", resume="id", checksum="crc32"),
        ValueError,
        r"a resumed upload cannot carry a checksum",
    ),
    # Versions, conditions, encryption, tags and extra headers/query.
    "version_id empty": Case(get(version_id=""), ValueError, r"version_id must not be empty"),
    "version_id int": Case(get(version_id=3), TypeError, r"version_id must be a str, not int"),
    "delete version_id without a key": Case(
        lambda env: env.client.delete_objects("bucket", [("", "v1")]),
        ValueError,
        r"object key must not be empty",
    ),
    "delete_objects entry a triple": Case(
        lambda env: env.client.delete_objects("bucket", [("k", "v", "x")]),
        TypeError,
        r"must be a str or a \(key, version_id\) tuple",
    ),
    "delete_objects empty version id": Case(
        lambda env: env.client.delete_objects("bucket", [("k", "")]),
        ValueError,
        r"version_id must not be empty",
    ),
    "copy source_version_id int": Case(
        lambda env: env.client.copy_object("b1b", "k", "b2b", "k", source_version_id=1),
        TypeError,
        r"version_id must be a str",
    ),
    "versioning status unknown": Case(
        lambda env: env.client.put_bucket_versioning("bucket", "Disabled"),
        ValueError,
        r'status must be "Enabled" or "Suspended"',
    ),
    "list versions page_size 0": Case(
        lambda env: anext(env.client.list_object_versions("bucket", page_size=0)),
        ValueError,
        r"page_size must be at least 1",
    ),
    "if_match with if_none_match on put": Case(
        put(if_match='"e"', if_none_match="*"), ValueError, r"if_match or if_none_match, not both"
    ),
    "if_none_match an ETag on put": Case(
        put(if_none_match='"e"'), ValueError, r'if_none_match on a write must be "\*"'
    ),
    "if_match empty": Case(get(if_match=""), ValueError, r"if_match must not be empty"),
    "if_match bytes": Case(get(if_match=b"e"), TypeError, r"if_match must be a str"),
    "if_modified_since naive": Case(
        get(if_modified_since=datetime(2020, 1, 1)), ValueError, r"must be timezone-aware"
    ),
    "if_unmodified_since str": Case(
        get(if_unmodified_since="yesterday"), TypeError, r"must be a datetime, not str"
    ),
    "copy_source_if_match empty": Case(
        lambda env: env.client.copy_object("b1b", "k", "b2b", "k", copy_source_if_match=""),
        ValueError,
        r"copy_source_if_match must not be empty",
    ),
    "complete with both conditions": Case(
        lambda env: env.client.complete_multipart_upload(
            "bucket", "key", "id", [UploadedPart(1, '"e"')], if_match='"e"', if_none_match="*"
        ),
        ValueError,
        r"not both",
    ),
    "uploader with both conditions": Case(
        uploader(if_match='"e"', if_none_match="*"), ValueError, r"not both"
    ),
    "SSE-C key of 31 bytes": Case(
        lambda env: SSECustomerKey(b"k" * 31), ValueError, r"exactly 32 bytes.*got 31"
    ),
    "SSE-C key as str": Case(
        lambda env: SSECustomerKey("k" * 32), TypeError, r"must be 32 bytes \(bytes-like\)"
    ),
    "sse_customer_key raw bytes": Case(
        get(sse_customer_key=b"k" * 32), TypeError, r"must be an SSECustomerKey"
    ),
    "copy_source_sse_customer_key raw bytes": Case(
        lambda env: env.client.copy_object(
            "b1b", "k", "b2b", "k", copy_source_sse_customer_key=b"k" * 32
        ),
        TypeError,
        r"copy_source_sse_customer_key must be an SSECustomerKey",
    ),
    "upload_part sse_customer_key str": Case(
        lambda env: env.client.upload_part("bucket", "key", "id", 1, b"x", sse_customer_key="k"),
        TypeError,
        r"sse_customer_key must be an SSECustomerKey",
    ),
    "SSE-C together with SSE-S3": Case(
        put(sse_customer_key=SSECustomerKey(b"k" * 32), server_side_encryption="AES256"),
        ValueError,
        r"exclude each other",
    ),
    "server_side_encryption unknown": Case(
        put(server_side_encryption="aes256"), ValueError, r"must be one of AES256, aws:kms"
    ),
    "sse_kms_key_id without aws:kms": Case(
        put(sse_kms_key_id="key-1"), ValueError, r'sse_kms_key_id needs server_side_encryption'
    ),
    "tagging not a mapping": Case(
        put(tagging=[("k", "v")]), TypeError, r"tagging must be a mapping of str to str"
    ),
    "tag value int": Case(put(tagging={"k": 1}), TypeError, r"must map a str to a str"),
    "tag key empty": Case(put(tagging={"": "v"}), ValueError, r"a tag key must be 1 to 128"),
    "eleven tags": Case(
        put(tagging={str(n): "v" for n in range(11)}), ValueError, r"at most 10 tags, got 11"
    ),
    "put_object_tagging value too long": Case(
        lambda env: env.client.put_object_tagging("bucket", "key", {"k": "v" * 257}),
        ValueError,
        r"over 256 characters",
    ),
    "get_object_tagging version_id int": Case(
        lambda env: env.client.get_object_tagging("bucket", "key", version_id=5),
        TypeError,
        r"version_id must be a str",
    ),
    "cache_control int": Case(put(cache_control=60), TypeError, r"cache_control must be a str"),
    "content_disposition with CRLF": Case(
        put(content_disposition="a\r\nx: y"), ValueError, r"must not contain CR or LF"
    ),
    "expires naive": Case(put(expires=datetime(2030, 1, 1)), ValueError, r"timezone-aware"),
    "metadata_directive unknown": Case(
        lambda env: env.client.copy_object("b1b", "k", "b2b", "k", metadata_directive="KEEP"),
        ValueError,
        r'metadata_directive must be "COPY" or "REPLACE"',
    ),
    "metadata_directive COPY with metadata": Case(
        lambda env: env.client.copy_object(
            "b1b", "k", "b2b", "k", metadata_directive="COPY", metadata={"a": "b"}
        ),
        ValueError,
        r"need REPLACE",
    ),
    "tagging_directive COPY with tags": Case(
        lambda env: env.client.copy_object(
            "b1b", "k", "b2b", "k", tagging_directive="COPY", tagging={"a": "b"}
        ),
        ValueError,
        r"tagging= needs REPLACE",
    ),
    "extra headers a list": Case(
        get(headers=[("x-amz-a", "b")]), TypeError, r"headers must be a mapping"
    ),
    "extra header Authorization": Case(
        lambda env: env.client.head_bucket("bucket", headers={"Authorization": "x"}),
        ValueError,
        r"set by rawS3 when it signs",
    ),
    "extra header repeating an argument": Case(
        get(if_match='"e"', headers={"If-Match": '"f"'}), ValueError, r"already set by this call"
    ),
    "extra query a str": Case(
        lambda env: env.client.delete_object("bucket", "key", query="versionId=1"),
        TypeError,
        r"query must be a mapping",
    ),
    "extra query repeating versionId": Case(
        get(version_id="v1", query={"versionId": "v2"}), ValueError, r"already set by this call"
    ),
    "extra query value int": Case(
        lambda env: anext(env.client.list_objects("bucket", query={"max-keys": 5})),
        TypeError,
        r"must have a str value or None",
    ),
    "extra query presign parameter": Case(
        lambda env: env.client.list_buckets(query={"X-Amz-Signature": "x"}),
        ValueError,
        r"for presigned URLs",
    ),
    "uploader options wrong type": Case(
        lambda env: MultipartUploader(env.client, "bucket", "key", options={"if_none_match": "*"}),
        TypeError,
        r"options must be an UploadOptions",
    ),
}


# -- presigning any operation, presigned POST forms, multipart copies --------------------------


def presign_any(method: object = "GET", key: object = "key", **kw: object) -> Call:
    return lambda env: env.client.presign(method, "bucket", key, **kw)  # type: ignore[arg-type]


def post(key: object = "key", **kw: object) -> Call:
    return lambda env: env.client.presign_post("bucket", key, **kw)  # type: ignore[arg-type]


def copy(source_key: object = "src", **kw: object) -> Call:
    return lambda env: env.client.copy_object("bucket", source_key, "bucket", "dst", **kw)  # type: ignore[arg-type]


RESERVED = r"is set by the signature; leave it out"
CASES.update(
    {
        "presign method lower case": Case(presign_any("get"), ValueError, r"one of GET, PUT"),
        "presign method PATCH": Case(presign_any("PATCH"), ValueError, r"not 'PATCH'"),
        "presign method None": Case(presign_any(None), TypeError, r"method must be a str"),
        "presign expires 0 on DELETE": Case(
            presign_any("DELETE", expires=0), ValueError, EXPIRES_RANGE
        ),
        "presign bad bucket": Case(
            lambda env: env.client.presign("GET", "My_Bucket"), ValueError, BUCKET_CHARS
        ),
        "presign empty key": Case(presign_any(key=""), ValueError, r"must not be empty"),
        "presign version_id without a key": Case(
            presign_any(key=None, version_id="v1"), ValueError, r"version_id addresses an object"
        ),
        "presign version_id on PUT": Case(
            presign_any("PUT", version_id="v1"), ValueError, r"version_id goes with GET or HEAD"
        ),
        "presign version_id empty": Case(
            presign_any(version_id=""), ValueError, r"version_id must not be empty"
        ),
        "presign version_id int": Case(
            presign_any(version_id=3), TypeError, r"version_id must be a str, not int"
        ),
        "presign part_number without upload_id": Case(
            presign_any("PUT", part_number=1), ValueError, r"part_number on PUT needs the upload_id"
        ),
        "presign part_number 0": Case(
            presign_any("PUT", upload_id="u", part_number=0), ValueError, r"at most 10,000, got 0"
        ),
        "presign part_number 10001": Case(
            presign_any("PUT", upload_id="u", part_number=10_001), ValueError, r"got 10,001"
        ),
        "presign part_number str": Case(
            presign_any("PUT", upload_id="u", part_number="1"), TypeError, r"must be an int"
        ),
        "presign part_number on POST": Case(
            presign_any("POST", upload_id="u", part_number=1), ValueError, r"goes with PUT or GET"
        ),
        "presign GET part_number with upload_id": Case(
            presign_any("GET", upload_id="u", part_number=1), ValueError, r"use PUT"
        ),
        "presign part_number without a key": Case(
            presign_any("GET", key=None, part_number=1), ValueError, r"give its key"
        ),
        "presign PUT upload_id without part_number": Case(
            presign_any("PUT", upload_id="u"), ValueError, r"give part_number too"
        ),
        "presign upload_id empty": Case(
            presign_any("POST", upload_id=""), ValueError, r"upload_id must not be empty"
        ),
        "presign upload_id on HEAD": Case(
            presign_any("HEAD", upload_id="u"), ValueError, r"not HEAD"
        ),
        "presign upload_id without a key": Case(
            presign_any("POST", key=None, upload_id="u"), ValueError, r"give its key"
        ),
        "presign response override on PUT": Case(
            presign_any("PUT", response_content_type="text/plain"), ValueError, r"goes with GET"
        ),
        "presign response override with CR LF": Case(
            presign_any(response_content_disposition="a\r\nb"), ValueError, r"CR or LF"
        ),
        "presign response_expires int": Case(
            presign_any(response_expires=0), TypeError, r"must have a str value, not int"
        ),
        "presign headers a list": Case(
            presign_any(headers=[("a", "b")]), TypeError, r"headers must be a mapping"
        ),
        "presign headers with Host": Case(presign_any(headers={"Host": "x"}), ValueError, RESERVED),
        "presign headers with x-amz-date": Case(
            presign_any(headers={"X-Amz-Date": "x"}), ValueError, RESERVED
        ),
        "presign header value int": Case(
            presign_any(headers={"x-amz-meta-a": 1}), TypeError, r"must have a str value"
        ),
        "presign header name with a space": Case(
            presign_any(headers={"a b": "1"}), ValueError, r"not a valid HTTP header name"
        ),
        "presign header given twice": Case(
            presign_any(headers={"x-a": "1", "X-A": "2"}), ValueError, r"given twice"
        ),
        "presign query with X-Amz-Signature": Case(
            presign_any(query={"X-Amz-Signature": "0"}), ValueError, RESERVED
        ),
        "presign query repeating versionId": Case(
            presign_any(version_id="v", query={"versionId": "w"}), ValueError, r"already set"
        ),
        "presign query value int": Case(
            presign_any(query={"a": 1}), TypeError, r"must be a str or None, not int"
        ),
        "presign query a list": Case(
            presign_any(query=[("a", "b")]), TypeError, r"query must be a mapping"
        ),
        "post key and key_prefix": Case(
            post(key_prefix="a/"), ValueError, r"exactly one of key .* and key_prefix"
        ),
        "post neither key nor key_prefix": Case(
            post(key=None), ValueError, r"exactly one of key .* and key_prefix"
        ),
        "post key_prefix int": Case(
            post(key=None, key_prefix=1), TypeError, r"key_prefix must be a str, not int"
        ),
        "post empty key": Case(post(key=""), ValueError, r"must not be empty"),
        "post bad bucket": Case(
            lambda env: env.client.presign_post("My_Bucket", "k"), ValueError, BUCKET_CHARS
        ),
        "post range reversed": Case(
            post(content_length_range=(10, 1)), ValueError, r"0 <= minimum <= maximum"
        ),
        "post range over 5 GiB": Case(
            post(content_length_range=(0, 6 * GiB)), ValueError, r"5,368,709,120 \(5 GiB\)"
        ),
        "post range a list": Case(
            post(content_length_range=[1, 2]), TypeError, r"a \(minimum, maximum\) tuple"
        ),
        "post range of str": Case(
            post(content_length_range=("1", 2)), TypeError, r"holds ints, not str"
        ),
        "post success_action_status 302": Case(
            post(success_action_status=302), ValueError, r"200, 201 or 204, not 302"
        ),
        "post success_action_status str": Case(
            post(success_action_status="201"), TypeError, r"must be an int, not str"
        ),
        "post content_type with LF": Case(post(content_type="a\nb"), ValueError, r"CR or LF"),
        "post metadata not a mapping": Case(
            post(metadata=["a"]), TypeError, r"metadata must be a mapping"
        ),
        "post expires over 7 days": Case(
            post(expires=7 * 24 * 3600 + 1), ValueError, EXPIRES_RANGE
        ),
        "copy part_size without multipart_threshold": Case(
            copy(part_size=8 * MiB), ValueError, r"take effect with multipart_threshold"
        ),
        "copy concurrency without multipart_threshold": Case(
            copy(concurrency=2), ValueError, r"take effect with multipart_threshold"
        ),
        "copy multipart_threshold negative": Case(
            copy(multipart_threshold=-1), ValueError, r"multipart_threshold must be at least 0"
        ),
        "copy multipart_threshold over 5 GiB": Case(
            copy(multipart_threshold=5 * GiB + 1), ValueError, r"at most 5,368,709,120"
        ),
        "copy multipart_threshold str": Case(
            copy(multipart_threshold="0"), TypeError, r"multipart_threshold must be an int"
        ),
        "copy part_size too small": Case(
            copy(multipart_threshold=0, part_size=MiB), ValueError, PART_RANGE
        ),
        "copy concurrency 0": Case(
            copy(multipart_threshold=0, concurrency=0), ValueError, r"concurrency must be at least"
        ),
        "copy multipart with an empty source key": Case(
            copy(source_key="", multipart_threshold=0), ValueError, r"must not be empty"
        ),
    }
)

# Multipart checksum types the parts cannot make (review of the integrity merge).
CASES.update(
    {
        "complete with a type but parts without checksums": Case(
            lambda env: env.client.complete_multipart_upload(
                "bucket", "key", "id", [UploadedPart(1, '"e"', 1)], checksum_type="FULL_OBJECT"
            ),
            ValueError,
            r"needs every part's checksum; part\(s\) 1 carry none",
        ),
        "complete COMPOSITE with crc64nvme parts": Case(
            lambda env: env.client.complete_multipart_upload(
                "bucket",
                "key",
                "id",
                [UploadedPart(1, '"e"', 1, ("crc64nvme", "AAAAAAAAAAA="))],
                checksum_type="COMPOSITE",
            ),
            ValueError,
            r"crc64nvme is FULL_OBJECT only",
        ),
        "uploader COMPOSITE with crc64nvme": Case(
            uploader(checksum="crc64nvme", checksum_type="COMPOSITE"),
            ValueError,
            r"crc64nvme is FULL_OBJECT only",
        ),
        "require_checksum without checksum_mode": Case(
            get(require_checksum=True), ValueError, r"require_checksum needs checksum_mode=True"
        ),
        "require_checksum not a bool": Case(
            get(checksum_mode=True, require_checksum=1),
            TypeError,
            r"require_checksum must be a bool, not int",
        ),
        "content_md5 with a streamed put": Case(
            put(body=chunks(), size=3, content_md5=True),
            ValueError,
            r"content_md5 needs a bytes-like body",
        ),
        "content_md5 with a streamed part": Case(
            lambda env: env.client.upload_part(
                "bucket", "key", "id", 1, chunks(), size=3, content_md5=True
            ),
            ValueError,
            r"content_md5 needs a bytes-like body",
        ),
        "uploader empty checksum name": Case(
            uploader(checksum=""), ValueError, r"checksum must be one of .*crc32c"
        ),
        "create COMPOSITE with crc64nvme": Case(
            lambda env: env.client.create_multipart_upload(
                "bucket", "key", checksum="crc64nvme", checksum_type="COMPOSITE"
            ),
            ValueError,
            r"crc64nvme is FULL_OBJECT only",
        ),
    }
)


# Parts in flight of streamed uploads: "auto" and a memory budget, as for upload_path.
CASES.update(
    {
        "uploader concurrency a word": Case(
            uploader(concurrency="fast"), ValueError, r"concurrency must be an int or 'auto'"
        ),
        "uploader concurrency a float": Case(
            uploader(concurrency=2.5), TypeError, r"concurrency must be an int"
        ),
        "uploader max_memory below one part": Case(
            uploader(max_memory=MiB), ValueError, r"max_memory=1,048,576 cannot hold one part"
        ),
        "uploader max_memory 0": Case(
            uploader(max_memory=0), ValueError, r"max_memory must be at least 1"
        ),
        "uploader max_memory a str": Case(
            uploader(max_memory="64MiB"), TypeError, r"max_memory must be an int"
        ),
        "uploader fixed concurrency max_memory below one part": Case(
            uploader(concurrency=4, max_memory=MiB), ValueError, r"cannot hold one part"
        ),
        "stream_upload max_memory below one part": Case(
            lambda env: upload_stream(env.client, "bucket", "key", chunks(), max_memory=MiB),
            ValueError,
            r"max_memory=1,048,576 cannot hold one part",
        ),
        "iter_download part_size too small": Case(
            lambda env: env.client.iter_download("bucket", "key", part_size=1024),
            ValueError,
            r"part_size must be at least 65,536",
        ),
    }
)


# Extra headers and query on the uploads and downloads made of several requests.
CASES.update(
    {
        "upload_file extra headers a list": Case(
            lambda env: env.client.upload_file("bucket", "key", b"x", headers=[("a", "b")]),
            TypeError,
            r"headers must be a mapping",
        ),
        "fetch_and_upload extra header the engine sets": Case(
            lambda env: env.client.fetch_and_upload(
                "bucket", "key", env.source, headers={"X-Amz-Date": "x"}
            ),
            ValueError,
            r"is set by rawS3 when it signs",
        ),
        "stream_upload extra query value int": Case(
            stream(query={"probe": 1}), TypeError, r"must have a str value or None"
        ),
        "uploader extra Content-Type beside content_type": Case(
            uploader(content_type="text/plain", headers={"content-type": "x/y"}),
            ValueError,
            r"already set by this call",
        ),
        "uploader extra tagging beside tagging": Case(
            uploader(tagging={"a": "b"}, headers={"X-Amz-Tagging": "c=d"}),
            ValueError,
            r"already set by this call",
        ),
        "uploader extra query repeating uploads": Case(
            uploader(query={"uploads": None}), ValueError, r"already set by this call"
        ),
        "upload_path extra If-None-Match (lost in parts)": Case(
            upload_path(headers={"If-None-Match": "*"}),
            ValueError,
            r"made in parts, S3 would check no such condition",
        ),
        "uploader extra If-Match (lost in parts)": Case(
            uploader(headers={"if-match": '"e"'}),
            ValueError,
            r"made in parts, S3 would check no such condition",
        ),
        "stream_upload extra If-Unmodified-Since (lost in parts)": Case(
            stream(headers={"If-Unmodified-Since": "Wed, 01 Jan 2025 00:00:00 GMT"}),
            ValueError,
            r"made in parts, S3 would check no such condition",
        ),
        "upload_path extra query a str": Case(
            upload_path(query="a=b"), TypeError, r"query must be a mapping"
        ),
        "upload_path extra metadata header beside metadata": Case(
            upload_path(metadata={"a": "1"}, headers={"x-amz-meta-a": "2"}),
            ValueError,
            r"already set by this call",
        ),
        "upload_stream extras given twice": Case(
            lambda env: upload_stream(
                env.client, "bucket", "key", chunks(), headers={"x-amz-meta-a": "1"},
                options=UploadOptions(headers={"x-amz-meta-b": "2"}),
            ),
            ValueError,
            r"either to upload_stream or in its options",
        ),
        "download extra Range": Case(
            lambda env: env.client.download("bucket", "key", "out", headers={"Range": "bytes=0-"}),
            ValueError,
            r"already set by this call",
        ),
        "download extra If-Match": Case(
            lambda env: env.client.download("bucket", "key", "out", headers={"if-match": '"e"'}),
            ValueError,
            r"already set by this call",
        ),
        "iter_download extra query repeating versionId": Case(
            lambda env: env.client.iter_download("bucket", "key", query={"versionId": "v"}),
            ValueError,
            r"already set by this call",
        ),
    }
)


def test_the_table_is_large() -> None:
    assert len(CASES) >= 30


@pytest.fixture
async def env(aiohttp_server: Any) -> AsyncIterator[tuple[Env, RefusingSession, SourceFiles]]:
    files = SourceFiles()
    files.add("blob", b"x" * 100)
    server = await aiohttp_server(files.app())
    session = RefusingSession()
    client = S3Client("http://127.0.0.1:9", session=session, **KEYS)  # type: ignore[arg-type]
    async with client:
        yield Env(client, str(server.make_url("/blob/blob"))), session, files


async def run(case: Case, env: Env) -> None:
    result = case.call(env)
    if inspect.isawaitable(result):
        await result


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_bad_input_is_refused_before_sending(
    env: tuple[Env, RefusingSession, SourceFiles], case: Case
) -> None:
    context, session, files = env
    with pytest.raises(case.error) as caught:
        await run(case, context)
    assert re.search(case.message, str(caught.value)), str(caught.value)
    assert session.requests == []
    assert files.requests == 0
