"""Copies above 5 GiB: the refusal that turns a CopyObject into a copy in parts, the plan of
its parts, and which request of a copy in parts carries which option.

The client's own ``copy_object`` runs against a stub engine that answers like S3: a
CopyObject of a source over 5 GiB gets 400 ``InvalidRequest``, HEAD answers the source's
size, the other requests succeed. Every request is kept, so the test reads where each option
went. No 5 GiB object is made: only its size is told.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from rawS3 import S3Client, SSECustomerKey
from rawS3.errors import InvalidRequest, NotModified, PreconditionFailed, S3Error
from rawS3.operations.copy_spec import is_too_large_to_copy, plan_copy_parts
from rawS3.operations.request import Reply, Request
from rawS3.parts import MAX_PART_SIZE, MAX_PARTS

MiB = 1024 * 1024
GiB = 1024 * MiB
REFUSAL = (
    "The specified copy source is larger than the maximum allowable size for a copy source: "
    "5368709120"
)
COPIED = (
    b"<CopyObjectResult><ETag>\"e\"</ETag>"
    b"<LastModified>2026-11-30T22:00:00.000Z</LastModified></CopyObjectResult>"
)
CREATED = (
    b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>dst</Key>"
    b"<UploadId>up-1</UploadId></InitiateMultipartUploadResult>"
)
TAGS = b"<Tagging><TagSet><Tag><Key>t</Key><Value>1</Value></Tag></TagSet></Tagging>"


def completed(parts: int) -> bytes:
    return (
        "<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>dst</Key>"
        f"<ETag>\"x-{parts}\"</ETag>"
        "</CompleteMultipartUploadResult>"
    ).encode()


def test_the_plan_of_a_source_one_byte_over_5_gib() -> None:
    plan = plan_copy_parts(5 * GiB + 1, 64 * MiB)
    assert len(plan) == 81  # 80 parts of 64 MiB and one of a byte
    assert plan[-1] == (5 * GiB, 1)
    assert sum(length for _, length in plan) == 5 * GiB + 1
    assert all(offset == index * 64 * MiB for index, (offset, _) in enumerate(plan))


def test_the_plan_grows_its_parts_to_stay_within_10000() -> None:
    for size in (10_000 * 64 * MiB + 1, 5 * 1024 * GiB):
        plan = plan_copy_parts(size, 64 * MiB)
        assert len(plan) <= MAX_PARTS
        assert max(length for _, length in plan) <= MAX_PART_SIZE
        assert sum(length for _, length in plan) == size
    assert len(plan_copy_parts(10_000 * 64 * MiB, 64 * MiB)) == MAX_PARTS
    with pytest.raises(ValueError, match="at most"):
        plan_copy_parts(5 * 1024 * GiB + 1, 64 * MiB)


def error(code: str, message: str, status: int = 400) -> S3Error:
    return InvalidRequest(code=code, message=message, status=status)


def test_only_the_size_refusal_turns_a_copy_into_parts() -> None:
    assert is_too_large_to_copy(error("InvalidRequest", REFUSAL))
    assert not is_too_large_to_copy(error("InvalidRequest", "This copy request is illegal"))
    assert not is_too_large_to_copy(error("InvalidArgument", REFUSAL))
    assert not is_too_large_to_copy(error("InvalidRequest", REFUSAL, status=500))
    assert is_too_large_to_copy(error("EntityTooLarge", "Your proposed upload exceeds the limit"))
    assert not is_too_large_to_copy(error("EntityTooLarge", "", status=413))


@dataclass
class S3Like:
    """The engine's ``send``: answers as S3 does for a source of ``size`` bytes."""

    size: int
    etag: str = '"src-1"'
    tag_count: int = 0
    not_modified: bool = False
    made_version: str = "v-copy"
    sent: list[Request] = field(default_factory=list)

    async def send(self, request: Request, on_failure: object = None) -> Reply:
        self.sent.append(request)
        await asyncio.sleep(0)
        query = dict(request.query)
        copying = "x-amz-copy-source" in request.headers
        if request.method == "PUT" and copying and "partNumber" not in query:
            if self.size > 5 * GiB:
                raise error("InvalidRequest", REFUSAL)
            return Reply(200, {}, COPIED)
        if request.method == "HEAD":
            if self.not_modified and "If-None-Match" in request.headers:
                raise NotModified(code="NotModified", message="", status=304)
            return Reply(200, self.head_headers(), b"")
        if request.method == "GET":
            return Reply(200, {}, TAGS)
        if request.method == "POST" and "uploads" in query:
            return Reply(200, {}, CREATED)
        if request.method == "PUT":
            return Reply(200, {}, COPIED)
        if request.method == "POST":
            answer = {"x-amz-version-id": self.made_version}
            return Reply(200, answer, completed(len(self.parts())))
        return Reply(204, {}, b"")

    def head_headers(self) -> dict[str, str]:
        headers = {
            "Content-Length": str(self.size),
            "ETag": self.etag,
            "Last-Modified": "Mon, 30 Nov 2026 22:00:00 GMT",
            "Content-Type": "video/mp4",
            "x-amz-meta-a": "1",
            "Cache-Control": "no-cache",
        }
        if self.tag_count:
            headers["x-amz-tagging-count"] = str(self.tag_count)
        return headers

    def parts(self) -> list[Request]:
        return [r for r in self.sent if "partNumber" in dict(r.query)]

    def operations(self) -> list[str]:
        names = []
        for r in self.sent:
            query = dict(r.query)
            if "partNumber" in query:
                names.append("UploadPartCopy")
            elif r.method == "POST":
                names.append("Create" if "uploads" in query else "Complete")
            elif r.method == "PUT":
                names.append("CopyObject")
            else:
                names.append("GetObjectTagging" if r.method == "GET" else r.method)
        return names


def client_on(stub: S3Like) -> S3Client:
    client = S3Client("http://127.0.0.1:9", "AKIDCOPY", "secret-copy")
    client._made = stub  # type: ignore[assignment]  # the stub stands in for the engine
    return client


def lower(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


async def test_a_small_copy_is_one_request() -> None:
    stub = S3Like(5 * GiB)
    result = await client_on(stub).copy_object("bkt", "src", "bkt", "dst")
    assert stub.operations() == ["CopyObject"]
    assert result.etag == '"e"'


async def test_a_refused_copy_over_5_gib_is_made_in_parts() -> None:
    stub = S3Like(5 * GiB + 1)
    result = await client_on(stub).copy_object("bkt", "src", "bkt", "dst")
    operations = stub.operations()
    assert operations[:3] == ["CopyObject", "HEAD", "Create"]
    assert operations.count("UploadPartCopy") == 81  # 64 MiB parts
    assert operations[-3:] == ["HEAD", "Complete", "HEAD"]  # re-check source, complete, read
    assert dict(stub.sent[-1].query).get("versionId") == "v-copy"  # the version Complete made
    ranges = sorted(lower(r)["x-amz-copy-source-range"] for r in stub.parts())
    assert f"bytes={5 * GiB}-{5 * GiB}" in ranges
    assert all(lower(r)["x-amz-copy-source-if-match"] == '"src-1"' for r in stub.parts())
    assert result.version_id == "v-copy"
    create = lower(stub.sent[2])
    assert (create["content-type"], create["x-amz-meta-a"]) == ("video/mp4", "1")
    assert create["cache-control"] == "no-cache"


async def test_other_refusals_are_raised_as_they_are() -> None:
    class Refusing(S3Like):
        async def send(self, request: Request, on_failure: object = None) -> Reply:
            self.sent.append(request)
            raise error("InvalidRequest", "This copy request is illegal")

    stub = Refusing(6 * GiB)
    with pytest.raises(InvalidRequest, match="illegal"):
        await client_on(stub).copy_object("bkt", "src", "bkt", "dst")
    assert stub.operations() == ["CopyObject"]


KEY = SSECustomerKey(bytes(range(32)))
SOURCE_KEY = SSECustomerKey(bytes(range(1, 33)))
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


async def test_a_copy_in_parts_carries_every_option_on_its_requests() -> None:
    stub = S3Like(11 * MiB, tag_count=1)
    await client_on(stub).copy_object(
        "bkt", "src", "bkt", "dst", multipart_threshold=0, part_size=5 * MiB,
        source_version_id="v1", copy_source_if_match='"src-1"',
        copy_source_if_unmodified_since=WHEN, if_none_match="*",
        sse_customer_key=KEY, copy_source_sse_customer_key=SOURCE_KEY,
        headers={"x-amz-meta-extra": "e", "x-amz-storage-class": "STANDARD"},
        query={"probe": "1"},
    )
    assert stub.operations() == [
        "HEAD", "GetObjectTagging", "Create", *["UploadPartCopy"] * 3, "HEAD", "Complete", "HEAD",
    ]
    head = lower(stub.sent[0])
    assert dict(stub.sent[0].query) == {"versionId": "v1"}
    assert head["if-match"] == '"src-1"'
    assert "if-unmodified-since" in head
    assert head["x-amz-server-side-encryption-customer-key-md5"] == SOURCE_KEY.key_md5
    create = lower(stub.sent[2])
    assert create["x-amz-tagging"] == "t=1"  # the source's tags: COPY
    assert create["x-amz-meta-a"] == "1"  # the source's metadata: COPY
    assert create["x-amz-meta-extra"] == "e"
    assert create["x-amz-server-side-encryption-customer-key-md5"] == KEY.key_md5
    assert dict(stub.sent[2].query)["probe"] == "1"
    for part in stub.parts():
        headers = lower(part)
        assert headers["x-amz-copy-source"].endswith("?versionId=v1")
        assert headers["x-amz-copy-source-if-match"] == '"src-1"'
        assert headers["x-amz-server-side-encryption-customer-key-md5"] == KEY.key_md5
        assert (
            headers["x-amz-copy-source-server-side-encryption-customer-key-md5"]
            == SOURCE_KEY.key_md5
        )
        assert "probe" not in dict(part.query)
        assert "x-amz-meta-extra" not in headers
    complete = lower(stub.sent[-2])
    assert complete["if-none-match"] == "*"
    assert "probe" not in dict(stub.sent[-2].query)


async def test_replace_states_only_the_new_metadata_and_tags() -> None:
    stub = S3Like(6 * MiB, tag_count=2)
    await client_on(stub).copy_object(
        "bkt", "src", "bkt", "dst", multipart_threshold=0, part_size=5 * MiB,
        metadata={"n": "2"}, tagging_directive="REPLACE", server_side_encryption="AES256",
        cache_control="max-age=1",
    )
    assert "GetObjectTagging" not in stub.operations()
    create = lower(stub.sent[1])
    assert create["x-amz-meta-n"] == "2"
    assert "x-amz-meta-a" not in create
    assert "x-amz-tagging" not in create
    assert create["cache-control"] == "max-age=1"
    assert create["x-amz-server-side-encryption"] == "AES256"
    assert "content-type" not in create


async def test_a_source_condition_that_fails_is_a_412_and_nothing_is_created() -> None:
    stub = S3Like(6 * GiB, not_modified=True)
    with pytest.raises(PreconditionFailed):
        await client_on(stub).copy_object(
            "bkt", "src", "bkt", "dst", copy_source_if_none_match='"src-1"'
        )
    assert "Create" not in stub.operations()


async def test_a_part_that_fails_after_the_refusal_aborts_the_upload() -> None:
    class FailingPart(S3Like):
        async def send(self, request: Request, on_failure: object = None) -> Reply:
            if len(self.parts()) == 2 and "partNumber" in dict(request.query):
                self.sent.append(request)
                raise error("AccessDenied", "no", status=403)
            return await super().send(request, on_failure)

    stub = FailingPart(5 * GiB + 1)
    with pytest.raises(S3Error, match="no"):
        await client_on(stub).copy_object("bkt", "src", "bkt", "dst")
    operations = stub.operations()
    assert operations[0] == "CopyObject"
    assert "Complete" not in operations
    assert operations.count("DELETE") == 1  # AbortMultipartUpload, once
    delete = next(r for r in stub.sent if r.method == "DELETE")
    assert dict(delete.query) == {"uploadId": "up-1"}


@pytest.mark.parametrize(
    "condition",
    [{"If-None-Match": "*"}, {"x-amz-copy-source-if-match": '"src-0"'}, {"If-Match": '"d"'}],
)
async def test_a_copy_whose_extras_hold_a_condition_is_never_made_in_parts(
    condition: dict[str, str],
) -> None:
    # In parts the condition would go on Create, where S3 checks none: refused instead.
    refused = S3Like(5 * GiB + 1)
    with pytest.raises(InvalidRequest, match="larger than the maximum"):
        await client_on(refused).copy_object("bkt", "src", "bkt", "dst", headers=condition)
    assert refused.operations() == ["CopyObject"]
    asked = S3Like(5 * GiB + 1)
    with pytest.raises(ValueError, match="made in parts, S3 would check no such condition"):
        await client_on(asked).copy_object(
            "bkt", "src", "bkt", "dst", headers=condition, multipart_threshold=0
        )
    assert asked.operations() == []


async def test_an_unversioned_copy_in_parts_is_read_back_without_a_version() -> None:
    # "null" is an unversioned bucket's version id: asking for it by name is refused (moto).
    stub = S3Like(5 * GiB + 1, made_version="null")
    await client_on(stub).copy_object("bkt", "src", "bkt", "dst")
    assert stub.operations()[-1] == "HEAD"
    assert "versionId" not in dict(stub.sent[-1].query)
