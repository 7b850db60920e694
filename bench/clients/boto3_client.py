"""boto3: the synchronous SDK; s3transfer's ``upload_fileobj`` uses threads."""

from __future__ import annotations

import io
import urllib.request
from types import TracebackType
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from bench.common import POOL_SIZE, Endpoint, Transfer


def transfer_config(transfer: Transfer) -> TransferConfig:
    """The matched part size and concurrency as boto3's ``TransferConfig``."""
    return TransferConfig(
        multipart_threshold=transfer.part_size,
        multipart_chunksize=transfer.part_size,
        max_concurrency=transfer.concurrency,
    )


class Client:
    blocking = True

    def __init__(self, endpoint: Endpoint) -> None:
        config = Config(max_pool_connections=POOL_SIZE, s3={"addressing_style": "path"})
        self.s3: Any = boto3.client(
            "s3",
            endpoint_url=endpoint.url,
            region_name=endpoint.region,
            aws_access_key_id=endpoint.access_key,
            aws_secret_access_key=endpoint.secret_key,
            config=config,
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.s3.close()

    def upload_buffer(self, bucket: str, key: str, data: bytes, transfer: Transfer | None) -> None:
        config = None if transfer is None else transfer_config(transfer)
        self.s3.upload_fileobj(io.BytesIO(data), bucket, key, Config=config)

    def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        with urllib.request.urlopen(url) as response:
            self.s3.upload_fileobj(response, bucket, key, Config=transfer_config(transfer))

    def put_small(self, bucket: str, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def get_small(self, bucket: str, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
