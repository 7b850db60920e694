"""S3Client's parallel downloads: ``download`` into a file and ``iter_download`` as ordered bytes.

The work is in ``rawS3.download`` (loaded on first use, with the engine); here the arguments
are checked before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING

from rawS3.multipart_calls import Facade
from rawS3.operations.extras import check_range_extras
from rawS3.validation import check_bucket, check_key, check_positive_int

if TYPE_CHECKING:
    from rawS3.operations.ranged import DownloadResult
    from rawS3.progress import ProgressCallback

__all__ = [
    "DEFAULT_DOWNLOAD_CONCURRENCY",
    "DEFAULT_ITER_CONCURRENCY",
    "MIN_DOWNLOAD_PART_SIZE",
    "TransferCalls",
]

# Into a file, a range in flight holds one received piece (256 KiB), not a part: concurrency
# costs sockets, not memory. One S3 connection carries tens of MB/s at best on a real network
# (about 10 MiB/s through the 20 ms relay of issue 13, where boto3's 10 reached 67 MiB/s), so
# 16 ranges fill a link one connection cannot, within the client's pool of 64.
DEFAULT_DOWNLOAD_CONCURRENCY = 16
# As ordered bytes, ranges ahead of the reader are held in memory: at most 4 x 8 MiB (the
# default part size is at most 8 MiB), the same bound as the uploader's.
DEFAULT_ITER_CONCURRENCY = 4
MIN_DOWNLOAD_PART_SIZE = 64 * 1024


class TransferCalls(Facade):
    """Parallel ranged downloads pinned to one version of the object."""

    async def download(
        self,
        bucket: str,
        key: str,
        target: str | os.PathLike[str],
        *,
        part_size: int | None = None,
        concurrency: int = DEFAULT_DOWNLOAD_CONCURRENCY,
        resume: bool = False,
        on_progress: ProgressCallback | None = None,
        version_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> DownloadResult:
        """Download an object into the file ``target`` with parallel ranged GETs.

        The first answer pins the object's ETag; later ranges are asked for with ``If-Match``,
        so an object replaced meanwhile raises ``ObjectChanged`` rather than mixing versions.
        An object of at most ``part_size`` bytes (by default 1 MiB) is one GET. Bytes are
        written at their offsets into a temporary file next to ``target``, which is checked
        (size; the MD5, where the ETag is one, for an object of at most 8 MiB or of one
        range), fsync'd and renamed over ``target`` only when complete. A failure or
        cancellation leaves ``target`` untouched and removes the temporary file; with
        ``resume`` it is kept instead as ``<target>.raws3-part``, with
        ``<target>.raws3-part.json`` saying which ranges it holds (not after an
        ``IntegrityError``: wrong bytes are not worth resuming), and the next
        ``download(..., resume=True)`` fetches only the rest if the object's ETag is
        unchanged (else it starts over), in the part size it began with.

        Args:
            bucket: the bucket.
            key: the object's key.
            target: the file to write; replaced if it exists.
            part_size: bytes per ranged GET, 64 KiB or more. ``None`` (the default) spreads
                the object over ``concurrency`` ranges of 1 to 8 MiB (see
                ``rawS3.transfer_sizing.download_part_size``).
            concurrency: ranges in flight, 1 to 1000 (default 16; each holds one 256 KiB
                piece at a time, not a part).
            resume: keep a partial file on failure, and resume from one.
            on_progress: called with a ``TransferProgress`` as bytes are written.
            version_id: a version of a versioned bucket (default: the current one).
            headers: extra request headers, signed, sent with every ranged GET (``Range``
                and ``If-Match`` are the download's own).
            query: extra query parameters, signed, sent with every ranged GET.

        Returns:
            The path, size, ETag, number of GETs, bytes resumed and whether the MD5 was checked.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            ObjectChanged: the object was replaced during the download.
            IntegrityError: the bytes received are not the object's.
            NoSuchKey, NoSuchBucket, other S3Error; TransportError: a range kept breaking.
            OSError: the file could not be written. BlockingIOError (an ``OSError``), with
                ``resume``: another download is resuming into the same target; nothing was
                sent and its partial file is left as it was.
        """
        check_bucket(bucket)
        check_key(key)
        path = _check_target(target)
        part_size, concurrency = _check_sizes(part_size, concurrency)
        _check_flag("resume", resume)
        _check_callback(on_progress)
        version_id = _check_version(version_id)
        check_range_extras(bucket, key, headers, query)
        from rawS3.download import download_file

        return await download_file(
            self._engine,
            bucket,
            key,
            path,
            part_size=part_size,
            concurrency=concurrency,
            resume=resume,
            on_progress=on_progress,
            version_id=version_id,
            extras=(headers, query),
        )

    def iter_download(
        self,
        bucket: str,
        key: str,
        *,
        part_size: int | None = None,
        concurrency: int = DEFAULT_ITER_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        version_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """Yield an object's bytes in order, fetched with parallel ranged GETs.

        ::

            async with contextlib.aclosing(client.iter_download(b, k)) as pieces:
                async for piece in pieces:
                    out.write(piece)

        Ranges are pinned to the first answer's ETag as in ``download``. Ranges ahead of the
        reader are held in memory: at most ``concurrency`` ranges of ``part_size`` bytes.
        Closing the iterator (as ``aclosing`` does) stops the ranges in flight at once; a loop
        broken off without it leaves that to the iterator's finalizer. The size (and, where
        the ETag is one, the MD5 of an object of at most 8 MiB or of one range) is checked at
        the end: a mismatch raises after the bytes were yielded, so treat them as unconfirmed
        until the loop ends.

        Args:
            bucket: the bucket.
            key: the object's key.
            part_size: bytes per ranged GET, 64 KiB or more. ``None`` (the default) spreads
                the object over ``concurrency`` ranges of 1 to 8 MiB, so at most 8 MiB each.
            concurrency: ranges in flight, 1 to 1000 (default 4).
            on_progress: called with a ``TransferProgress`` as bytes are yielded.
            version_id: a version of a versioned bucket (default: the current one).
            headers: extra request headers, signed, sent with every ranged GET (``Range``
                and ``If-Match`` are the download's own).
            query: extra query parameters, signed, sent with every ranged GET.

        Returns:
            An async iterator of the object's bytes.

        Raises:
            TypeError, ValueError: bad arguments (at the call, nothing sent).
            ObjectChanged, IntegrityError, S3Error, TransportError: while iterating.
        """
        check_bucket(bucket)
        check_key(key)
        part_size, concurrency = _check_sizes(part_size, concurrency)
        _check_callback(on_progress)
        version_id = _check_version(version_id)
        check_range_extras(bucket, key, headers, query)
        from rawS3.download_stream import iter_object

        return iter_object(
            self._engine,
            bucket,
            key,
            part_size=part_size,
            concurrency=concurrency,
            on_progress=on_progress,
            version_id=version_id,
            extras=(headers, query),
        )


def _check_target(target: object) -> str:
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"target must be a path (str or os.PathLike), not {type(target).__name__}")
    path = os.fspath(target)
    if not isinstance(path, str) or not path:
        raise ValueError("target must be a non-empty file path")
    if os.path.isdir(path):
        raise ValueError(f"target {path!r} is a directory; name the file to write")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"target {path!r} is in {parent!r}, which is not a directory")
    return path


def _check_sizes(part_size: object, concurrency: object) -> tuple[int | None, int]:
    part = None if part_size is None else check_positive_int(
        "part_size", part_size, minimum=MIN_DOWNLOAD_PART_SIZE
    )
    return part, check_positive_int("concurrency", concurrency, maximum=1000)


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}")


def _check_callback(on_progress: object) -> None:
    if on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be callable or None, not {type(on_progress).__name__}")


def _check_version(version_id: object) -> str | None:
    if version_id is not None and (not isinstance(version_id, str) or not version_id):
        raise ValueError("version_id must be a non-empty str or None")
    return version_id
