"""aiobotocore: botocore's S3 client on aiohttp.

It has no transfer manager, so multipart uploads are the user's loop (``bench.clients.parts``)
over ``create_multipart_upload`` / ``upload_part`` / ``complete_multipart_upload``; its
"defaults" row is the one call it offers for bytes in memory, ``put_object``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from bench.clients.parts import buffer_parts, response_parts, send_parts
from bench.common import POOL_SIZE, Endpoint, Transfer


def client_context(endpoint: Endpoint) -> Any:
    """``create_client("s3", ...)`` for ``endpoint``, path-style, pool of ``POOL_SIZE``."""
    config = AioConfig(max_pool_connections=POOL_SIZE, s3={"addressing_style": "path"})
    return get_session().create_client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=config,
    )


class Client:
    blocking = False

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._stack = contextlib.AsyncExitStack()
        self.s3: Any = None

    async def __aenter__(self) -> Client:
        self.s3 = await self._stack.enter_async_context(client_context(self._endpoint))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            await self.s3.put_object(Bucket=bucket, Key=key, Body=data)
            return
        await self._multipart(bucket, key, buffer_parts(data, transfer.part_size), transfer)

    async def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            response.raise_for_status()
            await self._multipart(
                bucket, key, response_parts(response, transfer.part_size), transfer
            )

    async def _multipart(
        self, bucket: str, key: str, parts: AsyncIterator[bytes], transfer: Transfer
    ) -> None:
        created = await self.s3.create_multipart_upload(Bucket=bucket, Key=key)
        upload_id = created["UploadId"]

        async def send(number: int, body: bytes) -> str:
            answer = await self.s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            return str(answer["ETag"])

        try:
            done = await send_parts(parts, send, transfer.concurrency)
        except BaseException:
            await self.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        listing = [{"PartNumber": number, "ETag": etag} for number, etag in done]
        await self.s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listing}
        )

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        answer = await self.s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            return bytes(await body.read())
