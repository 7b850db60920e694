"""Refusals as typed errors: bad credentials, missing keys and buckets, and no secret in sight."""

from __future__ import annotations

from collections.abc import AsyncIterator

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


@pytest.mark.parametrize("operation", ["get", "list", "list_buckets"])
async def test_a_wrong_secret_fails_every_kind_of_request(
    wrong_secret: S3Client, s3_server: TestServer, bucket: str, operation: str
) -> None:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        if operation == "get":
            await wrong_secret.get_object(bucket, "any key")
        elif operation == "list":
            [obj async for obj in wrong_secret.list_objects(bucket, prefix="a b+")]
        else:
            await wrong_secret.list_buckets()

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


@pytest.mark.parametrize("operation", ["put", "get", "list", "head_bucket", "delete_objects"])
async def test_a_missing_bucket_is_no_such_bucket(
    client: S3Client, s3_server: TestServer, operation: str
) -> None:
    missing = fresh_name("missing")

    with pytest.raises(NoSuchBucket) as caught:
        if operation == "put":
            await client.put_object(missing, "k", b"x")
        elif operation == "get":
            await client.get_object(missing, "k")
        elif operation == "list":
            [obj async for obj in client.list_objects(missing)]
        elif operation == "head_bucket":
            await client.head_bucket(missing)
        else:
            await client.delete_objects(missing, ["k"])

    assert (caught.value.status, caught.value.bucket) == (404, missing)
    assert_no_secret(caught.value, s3_server)


async def test_the_client_repr_hides_the_secret(client: S3Client, s3_server: TestServer) -> None:
    shown = f"{client!r} {client}"

    assert s3_server.access_key in shown
    assert s3_server.secret_key not in shown
