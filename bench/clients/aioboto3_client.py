"""aioboto3: ``upload_fileobj``, its managed transfer, on an aiobotocore client."""

from __future__ import annotations

import contextlib
import io
from types import TracebackType
from typing import Any

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from boto3.s3.transfer import TransferConfig

from bench.clients.parts import ResponseReader
from bench.common import POOL_SIZE, Endpoint, Transfer


def transfer_config(transfer: Transfer) -> TransferConfig:
    """The matched part size and concurrency as boto3's ``TransferConfig``."""
    return TransferConfig(
        multipart_threshold=transfer.part_size,
        multipart_chunksize=transfer.part_size,
        max_concurrency=transfer.concurrency,
    )


class Client:
    blocking = False

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._stack = contextlib.AsyncExitStack()
        self.s3: Any = None

    async def __aenter__(self) -> Client:
        e = self._endpoint
        config = AioConfig(max_pool_connections=POOL_SIZE, s3={"addressing_style": "path"})
        self.s3 = await self._stack.enter_async_context(
            aioboto3.Session().client(
                "s3",
                endpoint_url=e.url,
                region_name=e.region,
                aws_access_key_id=e.access_key,
                aws_secret_access_key=e.secret_key,
                config=config,
            )
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        config = None if transfer is None else transfer_config(transfer)
        await self.s3.upload_fileobj(io.BytesIO(data), bucket, key, Config=config)

    async def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            response.raise_for_status()
            await self.s3.upload_fileobj(
                ResponseReader(response), bucket, key, Config=transfer_config(transfer)
            )

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        answer = await self.s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            return bytes(await body.read())
