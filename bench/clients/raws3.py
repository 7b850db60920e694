"""rawS3, used as its README shows.

Downloads use ``S3Client.download`` (the parallel download engine) where this checkout has it;
without it, the matched row is the ranged-GET loop a user writes over ``open_object`` and the
defaults row one streamed GET, and ``settings`` says which was measured.
"""

from __future__ import annotations

from types import TracebackType

from bench.clients.parts import fetch_ranges, write_at
from bench.common import POOL_SIZE, Endpoint, Transfer
from rawS3 import MultipartUploader, S3Client

CHUNK = 256 * 1024


def has_engine() -> bool:
    """True where this rawS3 has the download engine."""
    return callable(getattr(S3Client, "download", None))


def has_upload_path() -> bool:
    """True where this rawS3 has ``upload_path`` (parts read where they lie in the file)."""
    return callable(getattr(S3Client, "upload_path", None))


class Client:
    blocking = False
    payload_signing: str | None = None
    """``None``: the library's default ("signed"); subclasses name another mode."""
    content_md5: bool | None = None

    def __init__(self, endpoint: Endpoint, *, matched: bool = True) -> None:
        where = (endpoint.url, endpoint.access_key, endpoint.secret_key)
        if self.payload_signing is None:
            self.s3 = S3Client(*where, region=endpoint.region, max_connections=POOL_SIZE)
        else:
            self.s3 = S3Client(*where, region=endpoint.region, max_connections=POOL_SIZE,
                               payload_signing=self.payload_signing)

    @classmethod
    def settings(cls, transfer: Transfer | None) -> str:
        """What this row sets, for the report."""
        md5 = {None: "default", True: "on", False: "off"}[cls.content_md5]
        where = f"{transfer.part_size >> 20} MiB × {transfer.concurrency}" if transfer else (
            "library defaults"
        )
        download = "download engine" if has_engine() else (
            "no download engine in this checkout: ranged GETs over open_object (matched), "
            "one streamed GET (defaults)"
        )
        files = "upload_path" if has_upload_path() else (
            "no upload_path in this checkout: the file read in parts into MultipartUploader")
        return (
            f"{where}; payload_signing={cls.payload_signing or 'default (signed)'!s}, "
            f"Content-MD5 {md5}; "
            f"pool {POOL_SIZE}; download: {download}; file upload: {files}"
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

    async def upload_file(
        self, bucket: str, key: str, path: str, transfer: Transfer | None
    ) -> None:
        if has_upload_path():
            calls = self.s3.upload_path
            if transfer is None:
                await calls(bucket, key, path)
            else:
                await calls(bucket, key, path, part_size=transfer.part_size,
                            concurrency=transfer.concurrency)
            return
        part = (transfer.part_size if transfer else 8 << 20)
        options = {} if transfer is None else {
            "part_size": transfer.part_size, "concurrency": transfer.concurrency}
        async with MultipartUploader(self.s3, bucket, key, content_md5=self.content_md5,
                                     **options) as uploader:  # type: ignore[arg-type]
            with open(path, "rb") as file:  # noqa: ASYNC230 (as a user writes it)
                while chunk := file.read(part):
                    await uploader.write(chunk)

    async def download(self, bucket: str, key: str, path: str, transfer: Transfer | None) -> None:
        if has_engine():
            engine = self.s3.download
            if transfer is None:
                await engine(bucket, key, path)
            else:
                await engine(
                    bucket, key, path, part_size=transfer.part_size,
                    concurrency=transfer.concurrency,
                )
            return
        if transfer is None:
            await self._streamed(bucket, key, path)
            return
        size = (await self.s3.head_object(bucket, key)).size

        async def fetch(fd: int, start: int, end: int) -> None:
            async with self.s3.open_object(bucket, key, start=start, end=end) as stream:
                async for chunk in stream.iter_chunks(CHUNK):
                    write_at(fd, chunk, start)
                    start += len(chunk)

        await fetch_ranges(path, size, transfer.part_size, transfer.concurrency, fetch)

    async def _streamed(self, bucket: str, key: str, path: str) -> None:
        async with self.s3.open_object(bucket, key) as stream:
            with open(path, "wb") as file:  # noqa: ASYNC230 (as a user writes it)
                async for chunk in stream.iter_chunks(CHUNK):
                    file.write(chunk)

    async def put_small(self, bucket: str, key: str, data: bytes) -> None:
        await self.s3.put_object(bucket, key, data)

    async def get_small(self, bucket: str, key: str) -> bytes:
        return await self.s3.get_object(bucket, key)
