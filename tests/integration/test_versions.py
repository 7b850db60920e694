"""Versions on a real server: writing, reading, copying, listing and deleting by version id.

A versioned bucket keeps every version and delete marker, so the fixture removes each one by
id (the plain bucket fixture only deletes current objects).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rawS3 import NoSuchKey, S3Client
from rawS3.errors import S3Error
from tests.conftest import TestServer, fresh_name, make_client


async def remove_every_version(client: S3Client, bucket: str) -> None:
    entries = [(v.key, v.version_id) async for v in client.list_object_versions(bucket)]
    if entries:
        result = await client.delete_objects(bucket, entries)
        assert result.errors == ()


@pytest.fixture
async def versioned(s3_server: TestServer) -> AsyncIterator[tuple[S3Client, str]]:
    name = fresh_name("rawS3-versions")
    async with make_client(s3_server) as client:
        await client.create_bucket(name)
        try:
            await client.put_bucket_versioning(name, "Enabled")
            yield client, name
        finally:
            await remove_every_version(client, name)
            await client.delete_bucket(name)


async def test_versioning_state_round_trip(versioned: tuple[S3Client, str]) -> None:
    client, bucket = versioned
    assert (await client.get_bucket_versioning(bucket)).status == "Enabled"
    await client.put_bucket_versioning(bucket, "Suspended")
    assert (await client.get_bucket_versioning(bucket)).status == "Suspended"
    await client.put_bucket_versioning(bucket, "Enabled")


async def test_a_bucket_never_versioned_has_no_status(client: S3Client, bucket: str) -> None:
    assert (await client.get_bucket_versioning(bucket)).status is None


async def test_each_version_is_read_copied_and_deleted_by_its_id(
    versioned: tuple[S3Client, str], s3_server: TestServer
) -> None:
    client, bucket = versioned
    first = await client.put_object(bucket, "doc", b"first")
    second = await client.put_object(bucket, "doc", b"second")
    assert first.version_id
    assert second.version_id
    assert first.version_id != second.version_id

    assert await client.get_object(bucket, "doc", version_id=first.version_id) == b"first"
    assert await client.get_object(bucket, "doc") == b"second"
    head = await client.head_object(bucket, "doc", version_id=first.version_id)
    assert (head.version_id, head.size) == (first.version_id, 5)
    async with client.open_object(bucket, "doc", version_id=first.version_id) as stream:
        assert await stream.read() == b"first"

    copied = await client.copy_object(
        bucket, "doc", bucket, "copy", source_version_id=first.version_id
    )
    assert await client.get_object(bucket, "copy") == b"first"
    copies = [v.version_id async for v in client.list_object_versions(bucket, prefix="copy")]
    if s3_server.name == "rgw":
        # Measured on RGW 16.2.15: CopyObject into a versioned bucket sends no x-amz-version-id.
        assert copied.version_id is None
    else:
        assert [copied.version_id] == copies

    marker = await client.delete_object(bucket, "doc")
    assert marker.is_delete_marker
    assert marker.version_id
    with pytest.raises(NoSuchKey):
        await client.get_object(bucket, "doc")
    assert await client.get_object(bucket, "doc", version_id=second.version_id) == b"second"

    removed = await client.delete_object(bucket, "doc", version_id=first.version_id)
    assert removed.version_id == first.version_id
    assert not removed.is_delete_marker
    with pytest.raises(S3Error) as gone:
        await client.get_object(bucket, "doc", version_id=first.version_id)
    assert gone.value.status in (400, 404)  # NoSuchVersion on AWS and RGW


SWIFT_VERSION_PAGES = (
    "measured on Swift 2.30.1: a truncated ListObjectVersions page names NextVersionIdMarker "
    "'null', and the page it asks for is empty and not truncated, so later keys are lost"
)


@pytest.mark.parametrize(
    "page_size",
    [1000, pytest.param(2, marks=pytest.mark.unsupported("swift", reason=SWIFT_VERSION_PAGES))],
)
async def test_listing_versions_shows_delete_markers_and_follows_both_markers(
    versioned: tuple[S3Client, str], page_size: int
) -> None:
    client, bucket = versioned
    written = {}
    for key in ("a", "b", "c"):
        for n in range(2):
            written[(key, (await client.put_object(bucket, key, b"%d" % n)).version_id)] = n
    marker = await client.delete_object(bucket, "b")

    listed = [v async for v in client.list_object_versions(bucket, page_size=page_size)]
    versions = {(v.key, v.version_id) for v in listed if not v.is_delete_marker}
    markers = [(v.key, v.version_id, v.is_latest) for v in listed if v.is_delete_marker]
    assert versions == set(written)
    assert markers == [("b", marker.version_id, True)]
    assert len(listed) == 7
    latest = {v.key for v in listed if v.is_latest and not v.is_delete_marker}
    assert latest == {"a", "c"}
    assert all(v.etag for v in listed if not v.is_delete_marker)

    only_a = [v.key async for v in client.list_object_versions(bucket, prefix="a")]
    assert only_a == ["a", "a"]


async def test_delete_objects_takes_keys_and_versions(
    versioned: tuple[S3Client, str], s3_server: TestServer
) -> None:
    client, bucket = versioned
    old = await client.put_object(bucket, "k", b"old")
    await client.put_object(bucket, "k", b"new")
    await client.put_object(bucket, "other", b"x")

    result = await client.delete_objects(bucket, [("k", old.version_id), "other"])
    assert result.errors == ()
    by_key = {d.key: d for d in result.deleted}
    if s3_server.name != "swift":
        # Measured on Swift 2.30.1: <Deleted> entries carry neither VersionId nor DeleteMarker.
        assert by_key["k"].version_id == old.version_id
        assert by_key["other"].delete_marker
    remaining = [(v.key, v.is_delete_marker) async for v in client.list_object_versions(bucket)]
    assert sorted(remaining) == [("k", False), ("other", False), ("other", True)]
