"""URL uploads: ``fetch_and_upload`` (whole, in memory) and ``stream_upload`` (through
a ``MultipartUploader``), and the source download both read from.

asyncio and aiohttp are imported on first use, as in ``rawS3.client``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from rawS3.config import Timeouts
from rawS3.errors import SourceError
from rawS3.operations.options import UploadOptions
from rawS3.results import PutResult
from rawS3.transfer import MultipartUploader
from rawS3.validation import check_bucket, check_key, check_positive_int, check_source_url

if TYPE_CHECKING:
    from rawS3.client import S3Client

__all__ = ["fetch_and_upload", "stream_upload"]

SOURCE_CHUNK = 256 * 1024


async def fetch_and_upload(
    client: S3Client,
    bucket: str,
    key: str,
    url: str,
    *,
    max_size: int | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | None] | None = None,
) -> None:
    """Download ``url`` whole, then PutObject it. See ``S3Client.fetch_and_upload``.

    Args:
        client: the ``S3Client`` to send with.
        bucket: the bucket the object goes in.
        key: the object's key.
        url: the http(s) URL to download.
        max_size: refuse a download larger than this many bytes (``None``: no limit).
        headers: extra headers, signed, on the PutObject.
        query: extra query parameters, signed, on the PutObject.

    Raises:
        TypeError, ValueError: a bad bucket, key or URL (nothing is downloaded).
        SourceError: the download failed, answered non-2xx, or exceeded ``max_size``;
            nothing is sent to S3 then.
        S3Error, TransportError, IntegrityError: the upload failed.
    """
    check_bucket(bucket)
    check_key(key)
    check_source_url(url)
    if max_size is not None:
        check_positive_int("max_size", max_size, minimum=0)
    body = bytearray()
    async for chunk in _download(url, client.timeouts):
        body += chunk
        if max_size is not None and len(body) > max_size:
            raise SourceError(
                url=url, status=None, message=f"larger than max_size={max_size:,} bytes"
            )
    await client.put_object(bucket, key, body, headers=headers, query=query)


async def stream_upload(
    client: S3Client,
    bucket: str,
    key: str,
    url: str,
    *,
    part_size: int | None = None,
    concurrency: int = 4,
    checksum: str | None = None, checksum_type: str | None = None,
    options: UploadOptions | None = None,
) -> PutResult:
    """Stream ``url`` into a ``MultipartUploader``. See ``S3Client.stream_upload``.

    Args:
        client: the ``S3Client`` to send with.
        bucket: the bucket the object goes in.
        key: the object's key.
        url: the http(s) URL to download.
        part_size: bytes per part, 5 MiB to 5 GiB (default 8 MiB).
        concurrency: parts uploading at once (default 4).
        checksum: an algorithm every part carries, as in ``MultipartUploader``.
        checksum_type: as in ``MultipartUploader``.
        options: as in ``MultipartUploader`` (extra headers and query go on Create).

    Returns:
        The object's ETag, part count and size.

    Raises:
        TypeError, ValueError: bad arguments (nothing is downloaded or sent).
        SourceError: the download failed, answered non-2xx, or ended early.
        RawS3Error: the upload failed. The upload is aborted in every case.
    """
    check_source_url(url)
    async with MultipartUploader(
        client, bucket, key, part_size=part_size, concurrency=concurrency,
        checksum=checksum, checksum_type=checksum_type, options=options,
    ) as uploader:
        async for chunk in _download(url, client.timeouts):
            await uploader.write(chunk)
    assert uploader.result is not None
    return uploader.result


async def _download(url: str, timeouts: Timeouts) -> AsyncIterator[bytes]:
    """Yield the body of ``url``; any failure, a non-2xx answer or a short body is a SourceError.

    The client's connect and read limits apply; there is no limit on the whole download, which
    may rightly take as long as the upload it feeds.
    """
    import asyncio

    import aiohttp

    limits = aiohttp.ClientTimeout(
        total=None, sock_connect=timeouts.connect, sock_read=timeouts.read
    )
    try:
        async with (
            aiohttp.ClientSession(auto_decompress=False, timeout=limits) as session,
            session.get(url) as response,
        ):
            if not 200 <= response.status < 300:
                raise SourceError(url=url, status=response.status, message=response.reason or "")
            async for chunk in response.content.iter_chunked(SOURCE_CHUNK):
                yield chunk
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise SourceError(url=url, status=None, message=f"{type(exc).__name__}: {exc}") from exc
