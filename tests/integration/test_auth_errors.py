"""Refusals as typed errors: bad credentials, missing keys and buckets, and no secret in sight."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from rawS3 import (
    InvalidAccessKeyId,
    NoSuchBucket,
    NoSuchKey,
    RetryPolicy,
    S3Client,
    S3Error,
    SignatureDoesNotMatch,
)
from tests.conftest import TestServer, fresh_name

WRONG_SECRET = "wr0ng/Secret+Value-do-not-print-0123456789"


def secrets_of(server: TestServer) -> list[str]:
    return [WRONG_SECRET, server.secret_key]


def assert_no_secret(error: BaseException, server: TestServer) -> None:
    shown = f"{error}\n{error!r}\n{error.args!r}"
    for secret in secrets_of(server):
        assert secret not in shown


@pytest.fixture
async def wrong_secret(s3_server: TestServer) -> AsyncIterator[S3Client]:
    async with S3Client(
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=WRONG_SECRET,
        region=s3_server.region,
        retry=RetryPolicy(attempts=1),
    ) as client:
        yield client


async def test_a_wrong_secret_is_signature_does_not_match(
    wrong_secret: S3Client, s3_server: TestServer, bucket: str
) -> None:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        await wrong_secret.put_object(bucket, "k", b"data")

    error = caught.value
    assert (error.code, error.status, error.bucket, error.key) == (
        "SignatureDoesNotMatch",
        403,
        bucket,
        "k",
    )
    assert error.request_id
    assert_no_secret(error, s3_server)


async def drain(items: AsyncIterator[object]) -> list[object]:
    return [item async for item in items]


Operation = Callable[[S3Client, str], Awaitable[object]]

READS: dict[str, Operation] = {
    "get": lambda c, b: c.get_object(b, "any key"),
    "list": lambda c, b: drain(c.list_objects(b, prefix="a b+")),
    "list_buckets": lambda c, b: c.list_buckets(),
}

BUCKET_OPERATIONS: dict[str, Operation] = {
    "put": lambda c, b: c.put_object(b, "k", b"x"),
    "get": lambda c, b: c.get_object(b, "k"),
    "list": lambda c, b: drain(c.list_objects(b)),
    "head_bucket": lambda c, b: c.head_bucket(b),
    "head_object": lambda c, b: c.head_object(b, "k"),
    "delete_objects": lambda c, b: c.delete_objects(b, ["k"]),
    "copy_into": lambda c, b: c.copy_object(b, "k", b, "k2"),
}


@pytest.mark.parametrize("operation", list(READS))
async def test_a_wrong_secret_fails_every_kind_of_request(
    wrong_secret: S3Client, s3_server: TestServer, bucket: str, operation: str
) -> None:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        await READS[operation](wrong_secret, bucket)

    assert caught.value.status == 403
    assert_no_secret(caught.value, s3_server)


async def test_a_wrong_secret_on_head_is_a_bodiless_403(
    wrong_secret: S3Client, s3_server: TestServer, bucket: str
) -> None:
    # HEAD answers carry no error document, so only the status says what went wrong.
    with pytest.raises(S3Error) as caught:
        await wrong_secret.head_object(bucket, "k")

    assert caught.value.status == 403
    assert caught.value.code in ("AccessDenied", "SignatureDoesNotMatch")
    assert_no_secret(caught.value, s3_server)


@pytest.mark.unsupported(
    "swift",
    reason="Swift's s3api with tempauth answers an unknown access key 403 "
    "SignatureDoesNotMatch, not InvalidAccessKeyId",
)
async def test_an_unknown_access_key_is_invalid_access_key_id(
    s3_server: TestServer, bucket: str
) -> None:
    async with S3Client(
        endpoint_url=s3_server.endpoint,
        aws_access_key_id="AKIANOBODYHASTHISKEY",
        aws_secret_access_key=WRONG_SECRET,
        region=s3_server.region,
    ) as stranger:
        with pytest.raises(InvalidAccessKeyId) as caught:
            await stranger.get_object(bucket, "k")

    error = caught.value
    assert (error.status, error.bucket, error.key) == (403, bucket, "k")
    assert_no_secret(error, s3_server)


async def test_get_of_a_missing_key_is_no_such_key(
    client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    with pytest.raises(NoSuchKey) as caught:
        await client.get_object(bucket, "no such/key+1")

    error = caught.value
    assert (error.code, error.status, error.bucket, error.key) == (
        "NoSuchKey",
        404,
        bucket,
        "no such/key+1",
    )
    assert error.request_id
    assert "no such/key+1" in str(error)
    assert_no_secret(error, s3_server)


async def test_head_of_a_missing_key_is_no_such_key(
    client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    with pytest.raises(NoSuchKey) as caught:
        await client.head_object(bucket, "no such/key+1")

    error = caught.value
    assert (error.code, error.status, error.bucket, error.key) == (
        "NoSuchKey",
        404,
        bucket,
        "no such/key+1",
    )
    assert_no_secret(error, s3_server)


async def test_a_missing_key_in_a_streamed_get(client: S3Client, bucket: str) -> None:
    with pytest.raises(NoSuchKey):
        async with client.open_object(bucket, "absent"):
            pytest.fail("opened an object that does not exist")


@pytest.mark.parametrize("operation", list(BUCKET_OPERATIONS))
async def test_a_missing_bucket_is_no_such_bucket(
    client: S3Client, s3_server: TestServer, operation: str
) -> None:
    missing = fresh_name("missing")

    with pytest.raises(NoSuchBucket) as caught:
        await BUCKET_OPERATIONS[operation](client, missing)

    assert (caught.value.status, caught.value.bucket) == (404, missing)
    assert_no_secret(caught.value, s3_server)


async def test_the_client_repr_hides_the_secret(client: S3Client, s3_server: TestServer) -> None:
    shown = f"{client!r} {client}"

    assert s3_server.access_key in shown
    assert s3_server.secret_key not in shown
