"""Bucket operations and the typed errors servers answer them with."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rawS3 import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    NoSuchBucket,
    S3Client,
)
from tests.conftest import TestServer, fresh_name

SWIFT_ONE_REGION = (
    "Swift's s3api accepts only the region it is configured with (us-east-1): a request "
    "signed for eu-west-1 gets 400 AuthorizationHeaderMalformed"
)


def other_region(server: TestServer) -> str:
    # RGW accepts only its zonegroup's api name as a location constraint (the test gateway
    # has one zonegroup, "default"; eu-west-1 is refused with InvalidLocationConstraint).
    return "default" if server.name == "rgw" else "eu-west-1"


def regional_client(server: TestServer) -> S3Client:
    """A client that signs for, and creates buckets in, a region other than us-east-1."""
    return S3Client(
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region=other_region(server),
    )


@pytest.fixture
async def spare_name(client: S3Client) -> AsyncIterator[str]:
    """A bucket name no test has used; whatever a test leaves under it is removed after."""
    name = fresh_name()
    yield name
    with contextlib.suppress(NoSuchBucket):
        await client.delete_bucket(name)


async def test_create_head_list_delete(client: S3Client, boto: Any, spare_name: str) -> None:
    await client.create_bucket(spare_name)

    await client.head_bucket(spare_name)
    buckets = await client.list_buckets()
    assert spare_name in [b.name for b in buckets]
    [ours] = [b for b in buckets if b.name == spare_name]
    assert ours.creation_date.tzinfo is not None
    assert spare_name in [b["Name"] for b in boto.list_buckets()["Buckets"]]

    await client.delete_bucket(spare_name)

    with pytest.raises(NoSuchBucket):
        await client.head_bucket(spare_name)
    assert spare_name not in [b.name for b in await client.list_buckets()]


@pytest.mark.unsupported("swift", reason=SWIFT_ONE_REGION)
async def test_create_with_a_location_constraint(
    s3_server: TestServer, boto: Any, spare_name: str
) -> None:
    async with regional_client(s3_server) as regional:
        await regional.create_bucket(spare_name)
        await regional.head_bucket(spare_name)

    location = boto.get_bucket_location(Bucket=spare_name)["LocationConstraint"]
    assert location == other_region(s3_server)


async def test_head_bucket_of_a_missing_bucket(client: S3Client) -> None:
    missing = fresh_name("missing")

    with pytest.raises(NoSuchBucket) as caught:
        await client.head_bucket(missing)

    # A HEAD answer has no body: the code comes from the 404 and the request had no key.
    error = caught.value
    assert (error.code, error.status, error.bucket, error.key) == (
        "NoSuchBucket",
        404,
        missing,
        None,
    )


async def test_get_object_from_a_missing_bucket(client: S3Client) -> None:
    missing = fresh_name("missing")

    with pytest.raises(NoSuchBucket) as caught:
        await client.get_object(missing, "some/key")

    error = caught.value
    assert (error.code, error.status, error.bucket, error.key) == (
        "NoSuchBucket",
        404,
        missing,
        "some/key",
    )


async def test_listing_a_missing_bucket(client: S3Client) -> None:
    missing = fresh_name("missing")

    with pytest.raises(NoSuchBucket):
        [obj async for obj in client.list_objects(missing)]


async def test_deleting_a_missing_bucket(client: S3Client) -> None:
    with pytest.raises(NoSuchBucket):
        await client.delete_bucket(fresh_name("missing"))


@pytest.mark.unsupported(
    "rgw",
    reason="RGW answers 200 when the owner re-creates its bucket, in any zonegroup "
    "(BucketAlreadyExists only comes for another user's bucket)",
)
@pytest.mark.unsupported("swift", reason=SWIFT_ONE_REGION)
async def test_creating_an_owned_bucket_again(s3_server: TestServer, spare_name: str) -> None:
    # Outside us-east-1: there AWS (and moto) keep the legacy answer of 200 to the owner.
    async with regional_client(s3_server) as regional:
        await regional.create_bucket(spare_name)

        with pytest.raises((BucketAlreadyOwnedByYou, BucketAlreadyExists)) as caught:
            await regional.create_bucket(spare_name)

        assert caught.value.status == 409
        assert caught.value.bucket == spare_name


async def test_deleting_a_bucket_that_is_not_empty(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "still here", b"x")

    with pytest.raises(BucketNotEmpty) as caught:
        await client.delete_bucket(bucket)

    assert (caught.value.status, caught.value.bucket) == (409, bucket)
    await client.head_bucket(bucket)


async def test_invalid_bucket_names_are_refused_before_sending(client: S3Client) -> None:
    for name in ("ab", "Upper", "under_score", "192.168.0.1", "a..b", "-dash"):
        with pytest.raises(ValueError, match="invalid bucket name"):
            await client.create_bucket(name)
