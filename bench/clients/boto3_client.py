"""boto3: the synchronous SDK; s3transfer's ``upload_fileobj`` / ``download_fileobj`` use threads.

Matched rows: ``when_required`` checksums, and ``max_in_memory_upload_chunks`` equal to the
concurrency (default 10): a non-seekable upload reads that many parts ahead of the senders.
"""

from __future__ import annotations

import io
import urllib.request
from types import TracebackType
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from bench.common import POOL_SIZE, Endpoint, Transfer

WHEN_REQUIRED = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
}


def transfer_config(transfer: Transfer) -> TransferConfig:
    """The matched part size, concurrency and read-ahead as boto3's ``TransferConfig``."""
    config = TransferConfig(
        multipart_threshold=transfer.part_size,
        multipart_chunksize=transfer.part_size,
        max_concurrency=transfer.concurrency,
    )
    # Not an argument of boto3's TransferConfig, but an attribute s3transfer reads.
    config.max_in_memory_upload_chunks = transfer.concurrency
    return config


class Client:
    blocking = True

    @staticmethod
    def settings(transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        if transfer is None:
            return (
                "TransferConfig() defaults; checksums when_supported (botocore default: CRC32 "
                f"on every body); pool {POOL_SIZE}"
            )
        return (
            f"TransferConfig({transfer.part_size >> 20} MiB parts and threshold, "
            f"max_concurrency={transfer.concurrency}, max_in_memory_upload_chunks="
            f"{transfer.concurrency}); checksums when_required; pool {POOL_SIZE}"
        )

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
        config = Config(
            max_pool_connections=POOL_SIZE, s3={"addressing_style": "path"},
            **(WHEN_REQUIRED if matched else {}),
        )
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

    def upload_file(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        config = None if transfer is None else transfer_config(transfer)
        self.s3.upload_file(path, bucket, key, Config=config)

    def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        config = None if transfer is None else transfer_config(transfer)
        with open(path, "wb") as file:
            self.s3.download_fileobj(bucket, key, file, Config=config)

    def put_small(self, bucket: str, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def get_small(self, bucket: str, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
