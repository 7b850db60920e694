"""The raw API against a real server: requests signed wrongly on purpose, and calls rawS3 does
not wrap, sent through ``S3Client.request`` and read back.

What was stored is read back with boto3 (an independent client) where bytes matter.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from rawS3 import (
    AccessDenied,
    Credentials,
    NoSuchKey,
    S3Client,
    S3Error,
    SignatureDoesNotMatch,
)
from rawS3.errors import XAmzContentSHA256Mismatch
from tests.conftest import TestServer
from tests.faults import SLOW_DOWN, Rule, proxied
from tests.sources import pattern

VERSIONING_ON = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Status>Enabled</Status></VersioningConfiguration>"
)


def code_of(body: bytes) -> str:
    return body.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode()


def stored(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


# -- signed wrongly on purpose -----------------------------------------------------------------


async def test_a_wrong_secret_is_signature_does_not_match(
    client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    wrong = Credentials(s3_server.access_key, "wr0ng/secret+for-this-one-request")

    answer = await client.request("PUT", bucket, "k", body=b"never", credentials=wrong)
    with pytest.raises(SignatureDoesNotMatch) as caught:
        await client.request("GET", bucket, "k", credentials=wrong, expect=200)

    assert answer.status == 403
    assert code_of(answer.body) == "SignatureDoesNotMatch"
    assert (caught.value.status, caught.value.bucket, caught.value.key) == (403, bucket, "k")
    assert (await client.request("GET", bucket, "k")).status == 404  # nothing was stored


@pytest.mark.unsupported("moto", reason="moto does not verify the payload hash")
async def test_a_body_that_is_not_the_signed_hash_is_refused(
    client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    other = hashlib.sha256(b"other bytes").hexdigest()

    answer = await client.request("PUT", bucket, "t", body=b"the real bytes", content_sha256=other)

    assert answer.status == 400
    # RGW names it as AWS does; Swift's s3api says BadDigest.
    expected = "BadDigest" if s3_server.name == "swift" else "XAmzContentSHA256Mismatch"
    assert code_of(answer.body) == expected
    with pytest.raises(NoSuchKey):
        await client.head_object(bucket, "t")
    if expected == "XAmzContentSHA256Mismatch":
        with pytest.raises(XAmzContentSHA256Mismatch):
            await client.request("PUT", bucket, "t", body=b"x", content_sha256=other, expect=200)


MOTO_500 = "with signatures enforced moto answers 500 (KeyError 'HTTP_AUTHORIZATION') to "


@pytest.mark.unsupported("moto", reason=MOTO_500 + "every presigned URL")
async def test_an_expired_presigned_url_is_refused(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "shared", b"shared bytes")
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)

    fresh = await client.request("GET", bucket, "shared", presign=60)
    expired = await client.request("GET", bucket, "shared", presign=60, now=two_hours_ago)

    assert (fresh.status, fresh.body) == (200, b"shared bytes")
    assert "Authorization" not in fresh.request.headers
    assert expired.status == 403
    assert code_of(expired.body) == "AccessDenied"


@pytest.mark.unsupported(
    "swift",
    reason="Swift's s3api answers a request with no authentication 400 with an HTML "
    "'Bad Request' page, not 403 AccessDenied",
)
async def test_an_anonymous_get_of_a_private_object_is_access_denied(
    client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    await client.put_object(bucket, "private", b"not for everyone")

    answer = await client.request("GET", bucket, "private", anonymous=True)
    with pytest.raises(AccessDenied) as caught:
        await client.request("GET", bucket, "private", anonymous=True, expect=200)

    assert answer.status == 403
    assert b"not for everyone" not in answer.body
    assert caught.value.code == "AccessDenied"
    if s3_server.name == "moto":
        assert answer.body == b""  # measured: moto sends no error document, only the 403
    else:
        assert code_of(answer.body) == "AccessDenied"


# -- payload modes and unsigned headers, read back -------------------------------------------------


SWIFT_CHUNKED = pytest.mark.unsupported(
    "swift", reason="Swift's s3api answers aws-chunked bodies 501 NotImplemented"
)
PAYLOADS = [
    pytest.param({"payload": "signed"}, id="signed"),
    pytest.param({"payload": "unsigned"}, id="unsigned"),
    pytest.param({"payload": "chunked"}, id="chunked-bytes", marks=SWIFT_CHUNKED),
    pytest.param({"stream": True}, id="chunked-stream", marks=SWIFT_CHUNKED),
]


@pytest.mark.parametrize("options", PAYLOADS)
async def test_every_payload_mode_stores_the_bytes_exactly(
    client: S3Client, bucket: str, boto: Any, options: dict[str, Any]
) -> None:
    data = pattern(200_000, seed=11)  # several 64 KiB aws-chunked frames and a short one
    options = dict(options)
    body: Any = pieces(data, 4099) if options.pop("stream", False) else data

    answer = await client.request(
        "PUT", bucket, "mode", body=body, size=len(data), expect=200, **options
    )

    assert answer.headers["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    assert stored(boto, bucket, "mode") == data


async def test_a_header_added_unsigned_is_sent_and_the_request_still_verifies(
    client: S3Client, bucket: str, boto: Any
) -> None:
    prepared = client.prepare(
        "PUT", bucket, "typed", body=b"<p/>", unsigned_headers={"Content-Type": "text/x-unsigned"}
    )

    answer = await client.request(prepared, expect=200)

    assert "content-type" not in prepared.headers["Authorization"]
    assert answer.status == 200
    assert boto.head_object(Bucket=bucket, Key="typed")["ContentType"] == "text/x-unsigned"


async def test_a_signed_header_changed_after_signing_is_refused(
    client: S3Client, bucket: str
) -> None:
    answer = await client.request(
        "PUT",
        bucket,
        "tampered",
        body=b"x",
        headers={"Content-Type": "text/plain"},
        unsigned_headers={"Content-Type": "image/png"},
    )

    assert answer.status == 403
    assert code_of(answer.body) == "SignatureDoesNotMatch"


# -- calls rawS3 does not wrap ---------------------------------------------------------------


async def test_bucket_versioning_is_set_and_read_back(client: S3Client, bucket: str) -> None:
    before = await client.request("GET", bucket, query={"versioning": None}, expect=200)
    await client.request("PUT", bucket, query={"versioning": None}, body=VERSIONING_ON, expect=200)
    after = await client.request("GET", bucket, query={"versioning": None}, expect=200)

    assert b"<Status>" not in before.body
    assert b"<Status>Enabled</Status>" in after.body
    versions = []
    try:
        for body in (b"one", b"two"):
            put = await client.request("PUT", bucket, "v", body=body, expect=200)
            versions.append(put.headers["x-amz-version-id"])
        first = {"versionId": versions[0]}
        old = await client.request("GET", bucket, "v", query=first, expect=200)
        assert old.body == b"one"
        assert versions[0] != versions[1]
    finally:
        # The bucket fixture deletes current objects only; versions would keep the bucket.
        for version in versions:
            query = {"versionId": version}
            await client.request("DELETE", bucket, "v", query=query, expect=204)


def public_read(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ],
    }


SWIFT_POLICY = "Swift's s3api answers PutBucketPolicy 501 NotImplemented"


@pytest.mark.unsupported("swift", reason=SWIFT_POLICY)
async def test_a_bucket_policy_is_set_read_back_and_deleted(client: S3Client, bucket: str) -> None:
    policy = json.dumps(public_read(bucket)).encode()

    put = await client.request("PUT", bucket, query={"policy": None}, body=policy)
    read_back = await client.request("GET", bucket, query={"policy": None}, expect=200)
    deleted = await client.request("DELETE", bucket, query={"policy": None})
    gone = await client.request("GET", bucket, query={"policy": None})

    assert put.status in (200, 204)
    assert json.loads(read_back.body)["Statement"] == public_read(bucket)["Statement"]
    assert deleted.status in (200, 204)  # measured: RGW 16 answers 200, AWS and moto 204
    assert gone.status == 404
    assert code_of(gone.body) == "NoSuchBucketPolicy"


@pytest.mark.unsupported("moto", reason=MOTO_500 + "anonymous requests once a bucket has a policy")
@pytest.mark.unsupported("swift", reason=SWIFT_POLICY)
async def test_a_bucket_policy_lets_anonymous_readers_in(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "public/readme", b"for everyone")
    await client.put_object(bucket, "private", b"for us")
    before = await client.request("GET", bucket, "public/readme", anonymous=True)

    policy = json.dumps(public_read(bucket)).encode()
    await client.request("PUT", bucket, query={"policy": None}, body=policy, expect={200, 204})
    public = await client.request("GET", bucket, "public/readme", anonymous=True)
    private = await client.request("GET", bucket, "private", anonymous=True)
    await client.request("DELETE", bucket, query={"policy": None}, expect={200, 204})

    assert before.status == 403
    assert (public.status, public.body) == (200, b"for everyone")
    assert private.status == 403


# -- answers: typed on request, streamed, retried on request ------------------------------------


async def test_expect_raises_the_error_the_engine_would_raise(
    client: S3Client, bucket: str
) -> None:
    with pytest.raises(NoSuchKey) as raw_error:
        await client.request("GET", bucket, "missing", expect=200)
    with pytest.raises(NoSuchKey) as engine_error:
        await client.get_object(bucket, "missing")

    assert type(raw_error.value) is type(engine_error.value)
    raw_fields = (raw_error.value.code, raw_error.value.status, raw_error.value.bucket)
    assert raw_fields == (engine_error.value.code, engine_error.value.status, bucket)


async def test_a_large_body_is_streamed_in_pieces(client: S3Client, bucket: str, boto: Any) -> None:
    data = pattern(3 * 1024 * 1024, seed=5)
    boto.put_object(Bucket=bucket, Key="large", Body=data)

    async with client.stream("GET", bucket, "large", expect=200) as answer:
        got = [piece async for piece in answer.iter_chunks(256 * 1024)]

    assert answer.headers["Content-Length"] == str(len(data))
    assert max(len(piece) for piece in got) <= 256 * 1024
    assert b"".join(got) == data


class Ticking:
    """The real time, a second further on at each read: each signature gets its own date."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return time.time() + self.reads


async def test_retries_happen_only_when_asked_each_attempt_signed_afresh(
    s3_server: TestServer, bucket: str, boto: Any
) -> None:
    rules = [Rule(SLOW_DOWN, operation="PutObject", times=3)]
    async with proxied(s3_server, rules, clock=Ticking()) as (proxy, through):
        once = await through.request("PUT", bucket, "retried", body=b"first")
        retried = await through.request("PUT", bucket, "retried", body=b"second", retry=True)

    assert once.status == 503
    assert code_of(once.body) == "SlowDown"
    assert retried.status == 200
    attempts = [request for request, _ in proxy.seen if request.operation == "PutObject"]
    assert len(attempts) == 4
    assert len({request.headers["x-amz-date"] for request in attempts[1:]}) == 3
    assert retried.request.headers["x-amz-date"] == attempts[-1].headers["x-amz-date"]
    assert stored(boto, bucket, "retried") == b"second"


async def test_any_status_can_count_as_success(client: S3Client, bucket: str) -> None:
    answer = await client.request("GET", bucket, "missing", expect=404)

    assert answer.status == 404
    with pytest.raises(S3Error):
        await client.request("GET", bucket, query={"versioning": None}, expect=404)
