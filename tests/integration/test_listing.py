"""ListObjectsV2 through rawS3: prefixes that need encoding, delimiters, pages, start-after."""

from __future__ import annotations

import asyncio
from typing import Any

from rawS3 import S3Client


async def put_keys(client: S3Client, bucket: str, keys: list[str]) -> None:
    await asyncio.gather(*(client.put_object(bucket, key, key.encode()) for key in keys))


async def listed(client: S3Client, bucket: str, **options: Any) -> list[str]:
    return [obj.key async for obj in client.list_objects(bucket, **options)]


async def test_a_prefix_with_a_space_and_a_plus(client: S3Client, boto: Any, bucket: str) -> None:
    # A "+" read as a space, or a space sent as "+", would pick the wrong directory.
    await put_keys(
        client,
        bucket,
        ["dir one+two/a", "dir one+two/b", "dir one two/c", "dir+one+two/d", "dir one+twoX"],
    )

    keys = await listed(client, bucket, prefix="dir one+two/")

    assert keys == ["dir one+two/a", "dir one+two/b"]
    theirs = boto.list_objects_v2(Bucket=bucket, Prefix="dir one+two/")
    assert [item["Key"] for item in theirs["Contents"]] == keys


async def test_a_unicode_prefix(client: S3Client, bucket: str) -> None:
    await put_keys(client, bucket, ["фото/1.jpg", "фото/2.jpg", "фонд/3.jpg"])

    assert await listed(client, bucket, prefix="фото/") == ["фото/1.jpg", "фото/2.jpg"]


async def test_a_delimiter_groups_common_prefixes(client: S3Client, bucket: str) -> None:
    await put_keys(
        client,
        bucket,
        ["top.txt", "docs/x.md", "docs/y z.md", "photos/2024/a.jpg", "photos/2025/b.jpg"],
    )

    pages = [page async for page in client.list_pages(bucket, delimiter="/")]

    assert [obj.key for page in pages for obj in page.contents] == ["top.txt"]
    assert [p for page in pages for p in page.common_prefixes] == ["docs/", "photos/"]

    inner = [page async for page in client.list_pages(bucket, prefix="photos/", delimiter="/")]
    assert [p for page in inner for p in page.common_prefixes] == ["photos/2024/", "photos/2025/"]
    assert [obj for page in inner for obj in page.contents] == []
    assert inner[0].prefix == "photos/"
    # list_objects gives only the objects: the grouped "directories" are not objects.
    assert await listed(client, bucket, delimiter="/") == ["top.txt"]


async def test_common_prefixes_with_awkward_characters(client: S3Client, bucket: str) -> None:
    await put_keys(client, bucket, ["a b+c/1", "a b+c/2", "ж?#/3", "100%/4"])

    pages = [page async for page in client.list_pages(bucket, delimiter="/")]

    assert sorted(p for page in pages for p in page.common_prefixes) == sorted(
        ["a b+c/", "ж?#/", "100%/"]
    )


async def test_pages_follow_continuation_tokens(client: S3Client, bucket: str) -> None:
    keys = [f"page/{n}" for n in range(7)]
    await put_keys(client, bucket, keys)

    pages = [page async for page in client.list_pages(bucket, page_size=2)]

    assert [len(page.contents) for page in pages] == [2, 2, 2, 1]
    assert [page.is_truncated for page in pages] == [True, True, True, False]
    assert all(page.next_continuation_token for page in pages[:-1])
    assert [obj.key for page in pages for obj in page.contents] == keys
    assert await listed(client, bucket, page_size=2) == keys


async def test_start_after(client: S3Client, bucket: str) -> None:
    keys = [f"k{n}" for n in range(7)]
    await put_keys(client, bucket, keys)

    assert await listed(client, bucket, start_after="k3") == ["k4", "k5", "k6"]
    assert await listed(client, bucket, start_after="k3", page_size=2) == ["k4", "k5", "k6"]
    # start_after need not name an existing key.
    assert await listed(client, bucket, start_after="k35") == ["k4", "k5", "k6"]
    assert await listed(client, bucket, start_after="k6") == []


async def test_listing_an_empty_bucket(client: S3Client, bucket: str) -> None:
    pages = [page async for page in client.list_pages(bucket)]

    assert len(pages) == 1
    assert (pages[0].contents, pages[0].is_truncated, pages[0].key_count) == ((), False, 0)


async def test_listed_fields(client: S3Client, boto: Any, bucket: str) -> None:
    await client.put_object(bucket, "sized", b"x" * 321)

    [obj] = [obj async for obj in client.list_objects(bucket)]
    [theirs] = boto.list_objects_v2(Bucket=bucket)["Contents"]

    assert (obj.key, obj.size, obj.etag) == ("sized", 321, theirs["ETag"])
    assert obj.last_modified == theirs["LastModified"]
