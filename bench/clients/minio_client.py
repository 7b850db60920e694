"""miniopy-async: the asyncio port of MinIO's SDK; ``put_object`` does multipart itself.

Downloads are ``fget_object``, one streamed GET into a temporary file renamed into place: it
has no parallel download, so its matched and defaults download rows are the same call.
"""

from __future__ import annotations

import io
from types import TracebackType

import aiohttp
from miniopy_async import Minio  # type: ignore[attr-defined]

from bench.clients.parts import ResponseReader
from bench.common import POOL_SIZE, Endpoint, Transfer

UNKNOWN_LENGTH = -1


class Client:
    blocking = False

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
        self._endpoint = endpoint
        self._http: aiohttp.ClientSession | None = None
        self.minio: Minio | None = None

    @staticmethod
    def settings(transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        if transfer is None:
            return f"put_object with its computed part size; fget_object; pool {POOL_SIZE}"
        return (
            f"put_object(part_size={transfer.part_size >> 20} MiB, num_parallel_uploads="
            f"{transfer.concurrency}); fget_object (no parallel download); pool {POOL_SIZE}"
        )

    async def __aenter__(self) -> Client:
        e = self._endpoint
        # Its own session allows 10 connections; give it the pool every client gets.
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL_SIZE))
        self.minio = Minio(
            e.hostport,
            access_key=e.access_key,
            secret_key=e.secret_key,
            secure=e.secure,
            region=e.region,
            session=self._http,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()

    def _client(self) -> Minio:
        assert self.minio is not None
        return self.minio

    async def upload_buffer(
        self, bucket: str, key: str, data: bytes, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            await self._client().put_object(bucket, key, io.BytesIO(data), len(data))
            return
        await self._client().put_object(
            bucket,
            key,
            io.BytesIO(data),
            len(data),
            part_size=transfer.part_size,
            num_parallel_uploads=transfer.concurrency,
        )

    async def upload_stream(self, bucket: str, key: str, url: str, transfer: Transfer) -> None:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            response.raise_for_status()
            await self._client().put_object(
                bucket,
                key,
                ResponseReader(response),
                UNKNOWN_LENGTH,
                part_size=transfer.part_size,
                num_parallel_uploads=transfer.concurrency,
            )

    async def upload_file(
        self, bucket: str, key: str, path: str, transfer: Transfer | None
    ) -> None:
        if transfer is None:
            await self._client().fput_object(bucket, key, path)
            return
        await self._client().fput_object(
            bucket, key, path, part_size=transfer.part_size,
            num_parallel_uploads=transfer.concurrency,
        )

    async def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        await self._client().fget_object(bucket, key, path)

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self._client().put_object(bucket, key, io.BytesIO(data), len(data))

    async def get_small(self, bucket: str, key: str) -> bytes:
        response = await self._client().get_object(bucket, key)
        try:
            return bytes(await response.read())
        finally:
            response.release()
