"""aiohttp-s3-client: aiohttp plus a third-party signer.

Defaults row: ``put_multipart`` (its high-level call for data in memory: it spools the data to
a temporary file, then sends it in 5 MiB parts). Its default ``workers_count=1`` makes no
semaphore at all (version 1.2.0's ``_upload_parts`` bounds parts only when ``workers_count`` is
above 1), so every part is sent at once: 13 parts in flight for 64 MiB. Matched rows: its
documented manual ``multipart_upload`` with ``put_part``, driven by the same bounded loop as
aiobotocore, since ``put_multipart`` takes only a synchronous iterable and so cannot read an
async source.
Downloads: ``get_file_parallel`` (one worker by default; matched: the matched part size as
its ``range_step`` and the concurrency as its ``workers_count``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from types import TracebackType

import aiohttp
from aiohttp_s3_client import S3Client

from bench.clients.parts import buffer_parts, response_parts, send_parts, slices
from bench.common import POOL_SIZE, Endpoint, MiB, Transfer


class Client:
    blocking = False

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
        self._endpoint = endpoint
        self._http: aiohttp.ClientSession | None = None
        self.s3: S3Client | None = None

    @staticmethod
    def settings(transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        if transfer is None:
            return (
                "put_multipart (5 MiB parts, all in flight at once: workers_count=1 sets no "
                "bound); get_file_parallel() (one worker); "
                f"pool {POOL_SIZE}"
            )
        return (
            f"multipart_upload + put_part in the user's loop, {transfer.part_size >> 20} MiB × "
            f"{transfer.concurrency}; get_file_parallel(range_step={transfer.part_size >> 20} MiB, "
            f"workers_count={transfer.concurrency}); pool {POOL_SIZE}"
        )

    async def __aenter__(self) -> Client:
        e = self._endpoint
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL_SIZE))
        self.s3 = S3Client(
            session=self._http,
            url=e.url,
            access_key_id=e.access_key,
            secret_access_key=e.secret_key,
            region=e.region,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()

    def _client(self) -> S3Client:
        assert self.s3 is not None
        return self.s3

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            chunks = (bytes(view) for view in slices(data, MiB))
            await self._client().put_multipart(f"{bucket}/{key}", chunks)
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
        async with self._client().multipart_upload(f"{bucket}/{key}") as uploader:

            async def send(number: int, body: bytes) -> str:
                # put_part numbers parts in call order; the loop calls it in part order.
                await uploader.put_part(body, content_sha256=hashlib.sha256(body).hexdigest())
                return ""

            await send_parts(parts, send, transfer.concurrency)

    async def upload_file(
        self, bucket: str, key: str, path: str, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            await self._client().put_file_multipart(f"{bucket}/{key}", path)
            return
        await self._client().put_file_multipart(
            f"{bucket}/{key}", path, part_size=transfer.part_size,
            workers_count=transfer.concurrency,
        )

    async def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        if transfer is None:
            await self._client().get_file_parallel(f"{bucket}/{key}", path)
            return
        await self._client().get_file_parallel(
            f"{bucket}/{key}", path, range_step=transfer.part_size,
            workers_count=transfer.concurrency,
        )

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        async with self._client().put(f"{bucket}/{key}", data) as response:
            response.raise_for_status()

    async def get_small(self, bucket: str, key: str) -> bytes:
        async with self._client().get(f"{bucket}/{key}") as response:
            response.raise_for_status()
            return await response.read()
