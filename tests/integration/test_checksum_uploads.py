"""Additional checksums on a real server: every algorithm, every way of sending it.

On moto (which stores the value sent with ``x-amz-sdk-checksum-algorithm``, decodes trailers
and computes multipart object checksums itself) each object is read back by **boto3 with
``ChecksumMode="ENABLED"``**: botocore validates the stored value against the bytes, an
opinion independent of rawS3's code. A deliberately wrong checksum makes that read fail.

On RGW 16.2.15 and Swift 2.30 (which verify no checksum) the point is that checksum options
never break an upload that works without them, and that what a server refuses (RGW: trailers;
Swift: aws-chunked bodies and part checksums in Complete) comes back as a typed ``S3Error``
rather than a hang or a misleading success. Sizes stay small: moto is slow with big bodies.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.exceptions import FlexibleChecksumError

from rawS3 import IntegrityError, MultipartUploader, S3Client, S3Error
from rawS3.checksums import CHECKSUM_ALGORITHMS, CRC_ALGORITHMS, checksum_value
from tests.conftest import TestServer, make_client
from tests.sources import MiB, pattern

PART = 5 * MiB
SMALL = 100_000  # two 64 KiB aws-chunked frames and a short one
MOTO_ONLY_READS = "no checksum is stored or returned there (measured); moto's are checked"


async def pieces_of(data: bytes, size: int = 40_000) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def boto_read_verified(boto: Any, bucket: str, key: str) -> tuple[bytes, dict[str, Any]]:
    """Read with boto3's checksum validation on; return the bytes and the response."""
    response = boto.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return response["Body"].read(), response


def stored(response: dict[str, Any], algorithm: str) -> str | None:
    return response.get(f"Checksum{algorithm.upper()}")


@pytest.fixture(params=["signed", "unsigned"])
async def trailer_client(
    request: pytest.FixtureRequest, s3_server: TestServer
) -> AsyncIterator[S3Client]:
    """A client whose streamed uploads send a signed, or an unsigned, checksum trailer."""
    async with make_client(s3_server, payload_signing=request.param) as client:
        yield client


# -- moto: every algorithm, verified by boto3 --------------------------------------------------


@pytest.mark.unsupported("rgw", reason=MOTO_ONLY_READS)
@pytest.mark.unsupported("swift", reason=MOTO_ONLY_READS)
@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
async def test_put_bytes_with_checksum_is_verified_by_boto3(
    client: S3Client, boto: Any, bucket: str, algorithm: str
) -> None:
    data = pattern(SMALL, seed=1)
    result = await client.put_object(bucket, "k", data, checksum=algorithm)
    assert result.checksum == (algorithm, checksum_value(algorithm, data))
    body, response = boto_read_verified(boto, bucket, "k")
    assert body == data
    assert stored(response, algorithm) == result.checksum[1]
    assert await client.get_object(bucket, "k", checksum_mode=True) == data


@pytest.mark.unsupported("rgw", reason=MOTO_ONLY_READS)
@pytest.mark.unsupported("swift", reason=MOTO_ONLY_READS)
@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
async def test_streamed_put_with_trailer_is_verified_by_boto3(
    trailer_client: S3Client, boto: Any, bucket: str, algorithm: str
) -> None:
    data = pattern(SMALL, seed=2)
    result = await trailer_client.put_object(
        bucket, "k", pieces_of(data), size=len(data), checksum=algorithm
    )
    assert result.checksum == (algorithm, checksum_value(algorithm, data))
    body, response = boto_read_verified(boto, bucket, "k")
    assert body == data
    assert stored(response, algorithm) == result.checksum[1]
    async with trailer_client.open_object(bucket, "k", checksum_mode=True) as stream:
        assert await stream.read() == data
        assert stream.verifier is not None
        assert stream.verifier.verified


@pytest.mark.unsupported("rgw", reason=MOTO_ONLY_READS)
@pytest.mark.unsupported("swift", reason=MOTO_ONLY_READS)
@pytest.mark.parametrize(
    ("algorithm", "checksum_type"),
    [(a, "COMPOSITE") for a in CHECKSUM_ALGORITHMS] + [(a, "FULL_OBJECT") for a in CRC_ALGORITHMS],
)
async def test_multipart_object_checksum_agrees_with_the_server_and_boto3(
    client: S3Client, boto: Any, bucket: str, algorithm: str, checksum_type: str
) -> None:
    data = pattern(PART + 1000, seed=3)
    async with MultipartUploader(
        client, bucket, "k", part_size=PART, checksum=algorithm, checksum_type=checksum_type
    ) as upload:
        await upload.write(data)
    result = upload.result
    assert result is not None
    assert result.parts == 2
    assert result.checksum is not None
    # moto computed its own object checksum from the bytes it received and returns it on GET
    # (not in the Complete answer); it must equal the one rawS3 made from the part checksums.
    body, response = boto_read_verified(boto, bucket, "k")
    assert body == data
    assert response.get("ChecksumType") == checksum_type
    if checksum_type == "FULL_OBJECT":
        # boto3 validated the whole-object CRC against the bytes as it read them.
        assert result.checksum == (algorithm, checksum_value(algorithm, data))
        assert stored(response, algorithm) == result.checksum[1]
        assert await client.get_object(bucket, "k", checksum_mode=True) == data
    else:
        parts = [data[:PART], data[PART:]]
        digests = b"".join(base64.b64decode(checksum_value(algorithm, p)) for p in parts)
        assert result.checksum == (algorithm, f"{checksum_value(algorithm, digests)}-2")
        assert stored(response, algorithm) == result.checksum[1]


@pytest.mark.unsupported("rgw", reason=MOTO_ONLY_READS)
@pytest.mark.unsupported("swift", reason=MOTO_ONLY_READS)
async def test_streamed_parts_with_trailers_make_a_full_object_crc(
    trailer_client: S3Client, boto: Any, bucket: str
) -> None:
    data = pattern(PART + 3000, seed=4)
    parts = [data[:PART], data[PART:]]
    client = trailer_client
    upload_id = await client.create_multipart_upload(
        bucket, "k", checksum="crc64nvme", checksum_type="FULL_OBJECT"
    )
    uploaded = [
        await client.upload_part(
            bucket,
            "k",
            upload_id,
            number,
            pieces_of(part, 70_000),
            size=len(part),
            checksum="crc64nvme",
            chunk_size=256 * 1024,
        )
        for number, part in enumerate(parts, start=1)
    ]
    assert [p.checksum for p in uploaded] == [
        ("crc64nvme", checksum_value("crc64nvme", p)) for p in parts
    ]
    result = await client.complete_multipart_upload(
        bucket, "k", upload_id, uploaded, checksum_type="FULL_OBJECT"
    )
    assert result.checksum == ("crc64nvme", checksum_value("crc64nvme", data))
    body, response = boto_read_verified(boto, bucket, "k")
    assert body == data
    assert response["ChecksumCRC64NVME"] == result.checksum[1]


@pytest.mark.unsupported("rgw", reason=MOTO_ONLY_READS)
@pytest.mark.unsupported("swift", reason=MOTO_ONLY_READS)
@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "sha256"])
async def test_a_wrong_stored_checksum_fails_boto3_and_raws3_reads(
    client: S3Client, boto: Any, bucket: str, algorithm: str
) -> None:
    data = pattern(SMALL, seed=5)
    wrong = checksum_value(algorithm, data + b"!")
    # moto stores what it is sent, unverified: the wrong value is stored, as measured.
    headers = {f"x-amz-checksum-{algorithm}": wrong, "x-amz-sdk-checksum-algorithm": algorithm}
    await client.put_object(bucket, "k", data, headers=headers)
    with pytest.raises(FlexibleChecksumError):
        boto_read_verified(boto, bucket, "k")
    with pytest.raises(IntegrityError) as caught:
        await client.get_object(bucket, "k", checksum_mode=True)
    assert caught.value.expected == wrong
    assert caught.value.actual == checksum_value(algorithm, data)
    assert await client.get_object(bucket, "k") == data  # unverified reads still work


# -- every server: checksum options never break what works without them -----------------------


@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
async def test_put_bytes_with_any_checksum_succeeds_everywhere(
    client: S3Client, bucket: str, algorithm: str
) -> None:
    data = pattern(1000, seed=6)
    await client.put_object(bucket, "k", data, checksum=algorithm)
    assert await client.get_object(bucket, "k", checksum_mode=True) == data


async def test_a_checksum_client_reads_and_writes_everywhere(
    s3_server: TestServer, bucket: str
) -> None:
    async with make_client(s3_server, checksum="crc32c") as client:
        result = await client.put_object(bucket, "k", b"per-client default")
        assert result.checksum == ("crc32c", checksum_value("crc32c", b"per-client default"))
        async with client.open_object(bucket, "k", checksum_mode=True) as stream:
            assert await stream.read() == b"per-client default"
            # moto stores and returns it; RGW and Swift return none, so nothing is verified.
            assert (stream.verifier is not None) == (s3_server.name == "moto")


# Measured: RGW 16.2.15 answers 400 XAmzContentSHA256Mismatch to both trailer forms; Swift 2.30
# answers 501 NotImplemented to any aws-chunked body; moto stores the object.
REFUSES_TRAILERS = {"rgw": "XAmzContentSHA256Mismatch", "swift": "NotImplemented"}
# Measured: Swift 2.30 refuses part checksums in CompleteMultipartUpload (400 MalformedXML).
REFUSES_PART_CHECKSUMS = {"swift": "MalformedXML"}


async def test_a_trailer_is_stored_or_refused_with_a_typed_error(
    trailer_client: S3Client, s3_server: TestServer, bucket: str
) -> None:
    data = pattern(SMALL, seed=7)
    upload = trailer_client.put_object(
        bucket, "k", pieces_of(data), size=len(data), checksum="crc32"
    )
    code = REFUSES_TRAILERS.get(s3_server.name)
    if code is None:
        await upload
        assert await trailer_client.get_object(bucket, "k") == data
        return
    with pytest.raises(S3Error) as refused:
        await upload
    assert refused.value.code == code
    assert [obj.key async for obj in trailer_client.list_objects(bucket)] == []


@pytest.mark.parametrize("checksum_type", ["COMPOSITE", "FULL_OBJECT"])
async def test_multipart_with_checksums_completes_or_is_refused_typed(
    client: S3Client, s3_server: TestServer, bucket: str, checksum_type: str
) -> None:
    data = pattern(PART + 10, seed=8)
    upload = MultipartUploader(
        client, bucket, "k", part_size=PART, checksum="crc32", checksum_type=checksum_type
    )
    code = REFUSES_PART_CHECKSUMS.get(s3_server.name)
    if code is None:
        async with upload:
            await upload.write(data)
        assert await client.get_object(bucket, "k") == data
        return
    with pytest.raises(S3Error) as refused:
        async with upload:
            await upload.write(data)
    assert refused.value.code == code
    assert await client.list_multipart_uploads(bucket) == []  # the uploader aborted it


async def test_a_ranged_read_cannot_be_verified(client: S3Client, bucket: str) -> None:
    with pytest.raises(ValueError, match="whole-object"):
        await client.get_object(bucket, "k", start=0, end=9, checksum_mode=True)
