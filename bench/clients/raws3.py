"""rawS3, used as its README shows."""

from __future__ import annotations

from types import TracebackType

from bench.common import POOL_SIZE, Endpoint, Transfer
from rawS3 import MultipartUploader, S3Client


class Client:
    blocking = False
    payload_signing = "auto"
    content_md5: bool | None = None

    def __init__(self, endpoint: Endpoint) -> None:
        self.s3 = S3Client(
            endpoint.url,
            endpoint.access_key,
            endpoint.secret_key,
            region=endpoint.region,
            max_connections=POOL_SIZE,
            payload_signing=self.payload_signing,
        )

    async def __aenter__(self) -> Client:
        # As the README's ``async with S3Client(...)``: the session (and aiohttp, which rawS3
        # imports on first use) is made here, outside the timed workload, as every peer's is.
        await self.s3.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.s3.close()

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            uploader = MultipartUploader(self.s3, bucket, key, content_md5=self.content_md5)
        else:
            uploader = MultipartUploader(
                self.s3, bucket, key, part_size=transfer.part_size,
                concurrency=transfer.concurrency, content_md5=self.content_md5,
            )
        async with uploader:
            await uploader.write(data)

    async def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        await self.s3.stream_upload(
            bucket, key, url, part_size=transfer.part_size, concurrency=transfer.concurrency
        )

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self.s3.put_object(bucket, key, data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        return await self.s3.get_object(bucket, key)
