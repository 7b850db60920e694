"""Conditional requests on a real server: reads, writes, copies and completes that hold or not.

A read whose condition fails raises ``PreconditionFailed`` (412) or ``NotModified`` (304);
a write with ``if_none_match="*"`` creates only. Servers differ, and the marks say how.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from rawS3 import NotModified, PreconditionFailed, S3Client
from rawS3.errors import S3Error
from rawS3.xml import strip_etag
from tests.conftest import TestServer
from tests.faults import RESET_AFTER_BODY, Fault, Rule, proxied

PAST = datetime(2001, 1, 1, tzinfo=timezone.utc)
SWIFT_NO_CONDITIONAL_PUT = "measured on Swift 2.30.1: a PUT with If-None-Match or If-Match gets 501"
RGW_QUOTED_IF_MATCH = (
    "measured on RGW 16.2.15: PutObject with If-Match and the object's correct quoted ETag "
    "answers 412 (only the unquoted ETag matches)"
)


def future() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1)


@pytest.mark.parametrize("call", ["get", "head", "open"])
async def test_read_conditions_hold_or_raise_typed_errors(
    client: S3Client, bucket: str, call: str
) -> None:
    etag = (await client.put_object(bucket, "k", b"data")).etag

    async def read(**conditions: object) -> object:
        if call == "get":
            return await client.get_object(bucket, "k", **conditions)  # type: ignore[arg-type]
        if call == "head":
            return (await client.head_object(bucket, "k", **conditions)).etag  # type: ignore[arg-type]
        async with client.open_object(bucket, "k", **conditions) as stream:  # type: ignore[arg-type]
            return await stream.read()

    wanted = b"data" if call != "head" else etag
    assert await read(if_match=etag) == wanted
    assert await read(if_none_match='"0123456789abcdef0123456789abcdef"') == wanted
    assert await read(if_modified_since=PAST) == wanted
    assert await read(if_unmodified_since=future()) == wanted
    with pytest.raises(PreconditionFailed) as failed:
        await read(if_match='"0123456789abcdef0123456789abcdef"')
    assert failed.value.status == 412
    with pytest.raises(PreconditionFailed):
        await read(if_unmodified_since=PAST)
    with pytest.raises(NotModified) as unchanged:
        await read(if_none_match=etag)
    assert unchanged.value.status == 304
    with pytest.raises(NotModified):
        await read(if_modified_since=future())


@pytest.mark.unsupported("swift", reason=SWIFT_NO_CONDITIONAL_PUT)
async def test_put_if_none_match_creates_only(client: S3Client, bucket: str) -> None:
    first = await client.put_object(bucket, "once", b"first", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        await client.put_object(bucket, "once", b"second", if_none_match="*")
    assert await client.get_object(bucket, "once") == b"first"
    assert (await client.head_object(bucket, "once")).etag == first.etag


@pytest.mark.unsupported("swift", reason=SWIFT_NO_CONDITIONAL_PUT)
async def test_put_if_match_refuses_a_stale_etag(client: S3Client, bucket: str) -> None:
    await client.put_object(bucket, "k", b"v1")
    with pytest.raises(PreconditionFailed):
        await client.put_object(bucket, "k", b"v2", if_match='"0123456789abcdef0123456789abcdef"')
    assert await client.get_object(bucket, "k") == b"v1"


@pytest.mark.unsupported("swift", reason=SWIFT_NO_CONDITIONAL_PUT)
@pytest.mark.unsupported("rgw", reason=RGW_QUOTED_IF_MATCH)
async def test_put_if_match_with_the_current_etag_replaces(client: S3Client, bucket: str) -> None:
    etag = (await client.put_object(bucket, "k", b"v1")).etag
    await client.put_object(bucket, "k", b"v2", if_match=etag)
    assert await client.get_object(bucket, "k") == b"v2"


@pytest.mark.unsupported("swift", reason=SWIFT_NO_CONDITIONAL_PUT)
async def test_put_if_match_with_the_unquoted_etag_replaces(client: S3Client, bucket: str) -> None:
    etag = (await client.put_object(bucket, "k", b"v1")).etag
    await client.put_object(bucket, "k", b"v2", if_match=strip_etag(etag))
    assert await client.get_object(bucket, "k") == b"v2"


@pytest.mark.unsupported("swift", reason=SWIFT_NO_CONDITIONAL_PUT)
async def test_two_racing_creators_exactly_one_wins(client: S3Client, bucket: str) -> None:
    for round_number in range(5):
        key = f"race-{round_number}"
        bodies = [b"writer-a" * 1000, b"writer-b" * 1000]
        results = await asyncio.gather(
            *(client.put_object(bucket, key, body, if_none_match="*") for body in bodies),
            return_exceptions=True,
        )
        pairs = zip(bodies, results, strict=True)
        won = [body for body, r in pairs if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1, results
        assert len(lost) == 1
        assert isinstance(lost[0], S3Error)
        assert lost[0].status in (409, 412)  # ConditionalRequestConflict or PreconditionFailed
        assert await client.get_object(bucket, key) == won[0]


RGW_COPY_NAMES = (
    "measured on RGW 16.2.15: it ignores x-amz-copy-source-if-* and reads x-amz-copy-if-* "
    "instead (send those with headers=)"
)
MOTO_COPY = "measured on moto 5: only x-amz-copy-source-if-none-match is checked on CopyObject"
WRONG_ETAG = '"0123456789abcdef0123456789abcdef"'


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param(
            "copy_source_if_match",
            marks=[
                pytest.mark.unsupported("rgw", reason=RGW_COPY_NAMES),
                pytest.mark.unsupported("moto", reason=MOTO_COPY),
            ],
        ),
        pytest.param(
            "copy_source_if_none_match",
            marks=pytest.mark.unsupported("rgw", reason=RGW_COPY_NAMES),
        ),
        pytest.param(
            "copy_source_if_modified_since",
            marks=[
                pytest.mark.unsupported("rgw", reason=RGW_COPY_NAMES),
                pytest.mark.unsupported("moto", reason=MOTO_COPY),
            ],
        ),
        pytest.param(
            "copy_source_if_unmodified_since",
            marks=[
                pytest.mark.unsupported("rgw", reason=RGW_COPY_NAMES),
                pytest.mark.unsupported("moto", reason=MOTO_COPY),
            ],
        ),
    ],
)
async def test_copy_source_conditions(client: S3Client, bucket: str, condition: str) -> None:
    etag = (await client.put_object(bucket, "src", b"source")).etag
    holds = {
        "copy_source_if_match": etag,
        "copy_source_if_none_match": WRONG_ETAG,
        "copy_source_if_modified_since": PAST,
        "copy_source_if_unmodified_since": future(),
    }
    fails = {
        "copy_source_if_match": WRONG_ETAG,
        "copy_source_if_none_match": etag,
        "copy_source_if_modified_since": future(),
        "copy_source_if_unmodified_since": PAST,
    }
    copied = await client.copy_object(bucket, "src", bucket, "dst", **{condition: holds[condition]})  # type: ignore[arg-type]
    assert strip_etag(copied.etag) == strip_etag(etag)
    with pytest.raises(PreconditionFailed):
        await client.copy_object(bucket, "src", bucket, "refused", **{condition: fails[condition]})  # type: ignore[arg-type]
    assert [o.key async for o in client.list_objects(bucket)] == ["dst", "src"]


@pytest.mark.unsupported(
    "rgw",
    reason="measured on RGW 16.2.15: CompleteMultipartUpload ignores If-None-Match: * "
    "and overwrites the object",
)
async def test_a_create_only_multipart_upload_refuses_an_existing_key(
    client: S3Client, bucket: str
) -> None:
    await client.put_object(bucket, "taken", b"original")
    with pytest.raises(S3Error) as refused:
        async with client.multipart_uploader(bucket, "taken", if_none_match="*") as upload:
            await upload.write(b"replacement")
    assert refused.value.status == 412
    # Measured on Swift 2.30.1: its 412 here carries the code InvalidRequest.
    assert isinstance(refused.value, PreconditionFailed) or refused.value.code == "InvalidRequest"
    assert await client.get_object(bucket, "taken") == b"original"
    assert await client.list_multipart_uploads(bucket) == []

    async with client.multipart_uploader(bucket, "free", if_none_match="*") as upload:
        await upload.write(b"new object")
    assert await client.get_object(bucket, "free") == b"new object"


@pytest.mark.unsupported("swift", reason=SWIFT_NO_CONDITIONAL_PUT)
async def test_a_create_only_put_whose_answer_was_lost_is_recognised(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    """The first attempt writes but its answer is lost; the retry's 412 refuses our own write."""
    data = b"mine" * 1000
    rules = [Rule(RESET_AFTER_BODY, operation="PutObject", times=1)]
    async with proxied(s3_server, rules) as (proxy, through):
        result = await through.put_object(bucket, "lost", data, if_none_match="*")
        assert proxy.count("PutObject") == 2
        assert result.etag == (await client.head_object(bucket, "lost")).etag
        with pytest.raises(PreconditionFailed):  # someone else's bytes: a real refusal
            await through.put_object(bucket, "lost", b"theirs", if_none_match="*")
    assert await client.get_object(bucket, "lost") == data


@pytest.mark.parametrize("retry_answer", ["server's own", "PreconditionFailed"])
async def test_a_create_only_complete_whose_answer_was_lost_is_recognised(
    s3_server: TestServer, client: S3Client, bucket: str, retry_answer: str
) -> None:
    # moto and Swift answer the retry NoSuchUpload, RGW its success again; a server that
    # checks the condition first answers 412 (the key now exists): injected here.
    faults = [RESET_AFTER_BODY]
    if retry_answer == "PreconditionFailed":
        faults.append(Fault("error", 412, "PreconditionFailed"))
    rules = [Rule(faults, operation="CompleteMultipartUpload", times=len(faults))]
    async with proxied(s3_server, rules) as (proxy, through):
        async with through.multipart_uploader(bucket, "lost", if_none_match="*") as upload:
            await upload.write(b"all of it")
        assert proxy.count("CompleteMultipartUpload") == 2  # the lost one and its retry
    assert await client.get_object(bucket, "lost") == b"all of it"
    assert await client.list_multipart_uploads(bucket) == []
