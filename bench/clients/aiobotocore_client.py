"""aiobotocore: botocore's S3 client on aiohttp.

It has no transfer manager, so multipart uploads are the user's loop (``bench.clients.parts``)
over ``create_multipart_upload`` / ``upload_part`` / ``complete_multipart_upload``; its
"defaults" row is the one call it offers for bytes in memory, ``put_object``. Downloads:
one streamed ``get_object`` (defaults) or the user's ranged-GET loop (matched).

Matched rows set ``request_checksum_calculation`` and ``response_checksum_validation`` to
``"when_required"`` (the usual setting for servers other than AWS): botocore's default adds a
CRC32 of every body on top of the signed SHA-256, work no other client here does. Defaults
rows keep botocore's defaults.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from bench.clients.parts import (
    buffer_parts,
    fetch_ranges,
    file_parts,
    response_parts,
    send_parts,
    write_at,
)
from bench.common import POOL_SIZE, Endpoint, Transfer

CHUNK = 256 * 1024
WHEN_REQUIRED = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
}
"""The checksum settings of the matched rows (botocore's defaults are "when_supported")."""


def checksum_settings(matched: bool) -> str:
    """The checksum part of a botocore client's settings, for the report."""
    if matched:
        return "checksums when_required (no CRC32 beside the signed SHA-256)"
    return "checksums when_supported (botocore default: CRC32 on every body)"


def client_context(endpoint: Endpoint, matched: bool = True) -> Any:
    """``create_client("s3", ...)`` for ``endpoint``, path-style, pool of ``POOL_SIZE``."""
    checksums: dict[str, Any] = WHEN_REQUIRED if matched else {}
    config = AioConfig(
        max_pool_connections=POOL_SIZE, s3={"addressing_style": "path"}, **checksums
    )
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

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
        self._endpoint = endpoint
        self._matched = matched
        self._stack = contextlib.AsyncExitStack()
        self.s3: Any = None

    @staticmethod
    def settings(transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        if transfer is None:
            return (
                f"put_object (upload), one streamed get_object (download); "
                f"{checksum_settings(False)}; pool {POOL_SIZE}"
            )
        return (
            f"user's loop of upload_part / ranged get_object, {transfer.part_size >> 20} MiB × "
            f"{transfer.concurrency}; {checksum_settings(True)}; pool {POOL_SIZE}"
        )

    async def __aenter__(self) -> Client:
        self.s3 = await self._stack.enter_async_context(
            client_context(self._endpoint, self._matched)
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

    async def upload_file(
        self, bucket: str, key: str, path: str, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            with open(path, "rb") as file:  # noqa: ASYNC230 (as a user writes it)
                await self.s3.put_object(Bucket=bucket, Key=key, Body=file)
            return
        await self._multipart(bucket, key, file_parts(path, transfer.part_size), transfer)

    async def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        if transfer is None:
            answer = await self.s3.get_object(Bucket=bucket, Key=key)
            body = answer["Body"]
            async with body:
                with open(path, "wb") as file:  # noqa: ASYNC230 (as a user writes it)
                    async for chunk in body.iter_chunks(CHUNK):
                        file.write(chunk)
            return
        size = int((await self.s3.head_object(Bucket=bucket, Key=key))["ContentLength"])

        async def fetch(fd: int, start: int, end: int) -> None:
            answer = await self.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")
            body = answer["Body"]
            async with body:
                async for chunk in body.iter_chunks(CHUNK):
                    write_at(fd, chunk, start)
                    start += len(chunk)

        await fetch_ranges(path, size, transfer.part_size, transfer.concurrency, fetch)

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        answer = await self.s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            return bytes(await body.read())
