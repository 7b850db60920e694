"""rawS3 with no payload hash at all: what the integrity check costs, shown beside the default.

``payload_signing="unsigned"`` leaves the body's SHA-256 out of the signature and
``content_md5=False`` sends no ``Content-MD5``, so neither the client nor the server hashes the
body for verification; only TCP's checksum guards it. Not a setting rawS3 recommends: it is
here so that the large-upload table separates the cost of rawS3's transport from the cost of
the SHA-256 that its default (signed) payload has both ends compute.
"""

from __future__ import annotations

from bench.clients import raws3
from bench.common import POOL_SIZE, Endpoint, Transfer
from rawS3 import MultipartUploader, S3Client


class Client(raws3.Client):
    def __init__(self, endpoint: Endpoint) -> None:
        self.s3 = S3Client(
            endpoint.url,
            endpoint.access_key,
            endpoint.secret_key,
            region=endpoint.region,
            max_connections=POOL_SIZE,
            payload_signing="unsigned",
        )

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        assert transfer is not None, "run in the matched rows only"
        uploader = MultipartUploader(
            self.s3, bucket, key, part_size=transfer.part_size,
            concurrency=transfer.concurrency, content_md5=False,
        )
        async with uploader:
            await uploader.write(data)
