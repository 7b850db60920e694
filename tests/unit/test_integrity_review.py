"""Integrity promises kept at the edges: an empty upload's fallback, without a server."""

from __future__ import annotations

from typing import Any

from rawS3 import EntityTooSmall, MultipartUploader, PutResult, UploadedPart
from rawS3.checksums import checksum_value

PART = 5 * 1024 * 1024


class RefusesOneEmptyPart:
    """A server that will not complete a multipart upload of one empty part; records the Put."""

    def __init__(self) -> None:
        self.put_options: list[dict[str, Any]] = []

    async def create_multipart_upload(self, *args: Any, **kwargs: Any) -> str:
        return "upload-1"

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: Any, **kwargs: Any
    ) -> UploadedPart:
        return UploadedPart(number, '"d41d8cd98f00b204e9800998ecf8427e"', len(data))

    async def complete_multipart_upload(self, *args: Any, **kwargs: Any) -> PutResult:
        raise EntityTooSmall(code="EntityTooSmall", message="", status=400)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        return None

    async def put_object(self, bucket: str, key: str, body: bytes, **kwargs: Any) -> PutResult:
        self.put_options.append(kwargs)
        algorithm = kwargs.get("checksum")
        checksum = (algorithm, checksum_value(algorithm, body)) if algorithm else None
        return PutResult('"d41d8cd98f00b204e9800998ecf8427e"', checksum=checksum)


async def test_an_empty_upload_put_instead_still_carries_the_checksum() -> None:
    client = RefusesOneEmptyPart()

    async with MultipartUploader(  # type: ignore[arg-type]
        client, "bucket", "key", part_size=PART, checksum="crc32c", checksum_type="FULL_OBJECT"
    ) as up:
        await up.write(b"")

    assert [options.get("checksum") for options in client.put_options] == ["crc32c"]
    assert up.result is not None
    assert up.result.checksum == ("crc32c", checksum_value("crc32c", b""))
