"""aioboto3: ``upload_fileobj`` / ``download_file``, its managed transfers, on aiobotocore.

Matched rows: ``when_required`` checksums as aiobotocore's, and ``max_io_queue_size=1``: its
upload reads whole parts into a queue of ``max_io_queue_size`` (default 100) ahead of the
senders, which rawS3 and the other clients do not (they hold the parts in flight plus one).
"""

from __future__ import annotations

import contextlib
import io
from types import TracebackType
from typing import Any

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from boto3.s3.transfer import TransferConfig

from bench.clients.aiobotocore_client import WHEN_REQUIRED, checksum_settings
from bench.clients.parts import ResponseReader
from bench.common import POOL_SIZE, Endpoint, Transfer

READ_AHEAD = 1
"""Parts its upload may queue ahead of the senders in the matched rows."""


def transfer_config(transfer: Transfer) -> TransferConfig:
    """The matched part size, concurrency and read-ahead as boto3's ``TransferConfig``."""
    return TransferConfig(
        multipart_threshold=transfer.part_size,
        multipart_chunksize=transfer.part_size,
        max_concurrency=transfer.concurrency,
        max_io_queue=READ_AHEAD,
    )


class Client:
    blocking = False

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
        self._endpoint = endpoint
        self._matched = matched
        self._stack = contextlib.AsyncExitStack()
        self.s3: Any = None

    @staticmethod
    def settings(transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        if transfer is None:
            return f"TransferConfig() defaults; {checksum_settings(False)}; pool {POOL_SIZE}"
        return (
            f"TransferConfig({transfer.part_size >> 20} MiB parts and threshold, "
            f"max_concurrency={transfer.concurrency}, max_io_queue_size={READ_AHEAD}); "
            f"{checksum_settings(True)}; pool {POOL_SIZE}"
        )

    async def __aenter__(self) -> Client:
        e = self._endpoint
        checksums: dict[str, Any] = WHEN_REQUIRED if self._matched else {}
        config = AioConfig(
            max_pool_connections=POOL_SIZE, s3={"addressing_style": "path"}, **checksums
        )
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

    async def upload_file(
        self, bucket: str, key: str, path: str, transfer: Transfer | None
    ) -> None:
        config = None if transfer is None else transfer_config(transfer)
        await self.s3.upload_file(path, bucket, key, Config=config)

    async def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        config = None if transfer is None else transfer_config(transfer)
        await self.s3.download_file(bucket, key, path, Config=config)

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        answer = await self.s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            return bytes(await body.read())
