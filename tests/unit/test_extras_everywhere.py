"""``headers=`` and ``query=`` on every public operation, and where multi-request calls send them.

The walk over ``S3Client`` is the proof of "every public operation": a new public method
without both keyword-only parameters fails it unless it is one of the few named below with
the reason it takes none. The fake server (``tests/fakes3.py``) logs each request's query, which
shows which requests of an upload or a download carry the caller's parameters.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from pathlib import Path
from typing import get_type_hints

import pytest

from rawS3 import S3Client, UploadOptions, upload_stream
from rawS3.raw import PrepareOptions
from tests.fakes3 import BUCKET, MIN_PART, FakeS3

# Public methods that send no S3 operation of their own, or take the extras another way.
WITHOUT_EXTRAS = {
    "close": "sends nothing",
    "fetch_credentials": "asks the credentials source, not S3",
    "prepare": "the raw API: headers and query are PrepareOptions (checked below)",
    "request": "the raw API: headers and query are PrepareOptions (checked below)",
    "stream": "the raw API: headers and query are PrepareOptions (checked below)",
    "presign_get": "a shorthand of presign, which takes both",
    "presign_put": "a shorthand of presign, which takes both",
    "presign_post": "a browser form: its fields are the policy's, not request headers",
}


def public_operations() -> Iterator[tuple[str, inspect.Signature]]:
    for name, member in inspect.getmembers(S3Client):
        if name.startswith("_") or isinstance(inspect.getattr_static(S3Client, name), property):
            continue
        if callable(member):
            yield name, inspect.signature(member)


def test_every_public_operation_takes_headers_and_query_keyword_only() -> None:
    names = dict(public_operations())
    assert len(names) > 30  # the walk found the facade, not an empty class
    lacking = set()
    for name, signature in names.items():
        parameters = signature.parameters
        if "headers" not in parameters or "query" not in parameters:
            lacking.add(name)
            continue
        for option in ("headers", "query"):
            assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY, (name, option)
            assert parameters[option].default is None, (name, option)
    assert lacking == set(WITHOUT_EXTRAS), sorted(lacking ^ set(WITHOUT_EXTRAS))
    assert {"headers", "query"} <= set(get_type_hints(PrepareOptions))


def test_upload_stream_and_upload_options_take_them_too() -> None:
    parameters = inspect.signature(upload_stream).parameters
    for option in ("headers", "query"):
        assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY
    fields = UploadOptions.__dataclass_fields__
    assert {"headers", "query"} <= set(fields)


def test_upload_options_refuse_an_extra_header_an_option_sets() -> None:
    with pytest.raises(ValueError, match="already set by this call"):
        UploadOptions(tagging={"a": "b"}, headers={"x-amz-tagging": "c=d"})
    with pytest.raises(ValueError, match="is set by rawS3 when it signs"):
        UploadOptions(headers={"Authorization": "x"})


def carrying(fake: FakeS3, name: str) -> list[str]:
    """The operations, in order, whose query held the parameter ``name``."""
    return [entry.operation for entry in fake.log if name in entry.query]


async def test_a_multipart_upload_sends_its_extras_on_create_only(
    fake: FakeS3, client: S3Client
) -> None:
    async with client.multipart_uploader(
        BUCKET, "mp", part_size=MIN_PART, query={"probe": "1"}, headers={"x-amz-meta-a": "b"}
    ) as uploader:
        await uploader.write(b"x" * (MIN_PART + 1))
    operations = [entry.operation for entry in fake.log]
    assert operations.count("UploadPart") == 2
    assert carrying(fake, "probe") == ["CreateMultipartUpload"]


async def test_upload_path_sends_its_extras_on_put_or_create(
    fake: FakeS3, client: S3Client, tmp_path: Path
) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.write_bytes(b"s" * 10)
    large.write_bytes(os.urandom(MIN_PART + 1))
    await client.upload_path(BUCKET, "small", small, query={"probe": None})
    await client.upload_path(BUCKET, "large", large, part_size=MIN_PART, query={"probe": None})
    assert carrying(fake, "probe") == ["PutObject", "CreateMultipartUpload"]


async def test_every_ranged_get_of_a_download_carries_the_extras(
    fake: FakeS3, client: S3Client, tmp_path: Path
) -> None:
    fake.put_direct("obj", os.urandom(300 * 1024))
    result = await client.download(
        BUCKET, "obj", tmp_path / "out", part_size=64 * 1024, query={"probe": "d"}
    )
    pieces = [
        piece
        async for piece in client.iter_download(
            BUCKET, "obj", part_size=64 * 1024, query={"probe": "i"}
        )
    ]
    gets = [entry for entry in fake.log if entry.operation == "GetObject"]
    assert result.requests == 5
    assert len(gets) == 10
    assert [entry.query.get("probe") for entry in gets] == ["d"] * 5 + ["i"] * 5
    assert b"".join(pieces) == (tmp_path / "out").read_bytes() == fake.stored("obj")
