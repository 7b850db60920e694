"""Cleanup that must finish: running it through cancellation, and aborting uploads given up.

asyncio is imported on first use, as in ``rawS3.client``: importing rawS3 stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Protocol

from rawS3.errors import NoSuchUpload, RawS3Error, UploadNotAborted

__all__ = ["abort_or_hand_over", "run_to_end"]

log = logging.getLogger("rawS3")


class _Aborter(Protocol):
    """What aborting needs of a client: ``S3Client`` is one."""

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort the upload ``upload_id`` of ``bucket``/``key``.

        Args:
            bucket: the upload's bucket.
            key: the upload's key.
            upload_id: the upload to abort.

        Raises:
            NoSuchUpload: it is gone already; RawS3Error: the abort failed.
        """


async def run_to_end(cleanup: Awaitable[None]) -> None:
    """Await ``cleanup`` to its end even if the calling task is cancelled meanwhile.

    A cancellation that arrives during the cleanup is raised once the cleanup is done, so a
    caller being cancelled still leaves nothing behind.

    Args:
        cleanup: the work to finish.

    Raises:
        asyncio.CancelledError: the caller was cancelled meanwhile (a failure of the cleanup
            is then logged, since only one of the two can be raised).
        BaseException: whatever ``cleanup`` raised, when the caller was not cancelled.
    """
    import asyncio

    task = asyncio.ensure_future(cleanup)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # Still running: it is the caller being cancelled, not the cleanup.
            cancelled = cancelled or not task.done()
        except BaseException:  # the cleanup's own failure: raised below
            pass
    if cancelled:
        if not task.cancelled() and task.exception() is not None:
            log.warning("cleanup failed while its task was being cancelled: %s", task.exception())
        raise asyncio.CancelledError
    task.result()


async def abort_or_hand_over(client: _Aborter, bucket: str, key: str, upload_id: str) -> None:
    """Abort an upload being given up; when the server cannot be told, raise its id.

    Args:
        client: sends the AbortMultipartUpload.
        bucket: the upload's bucket.
        key: the upload's key.
        upload_id: the upload to abort.

    Raises:
        UploadNotAborted: the abort failed (raised from its error); the upload is still there.
    """
    try:
        await client.abort_multipart_upload(bucket, key, upload_id)
    except NoSuchUpload:
        log.debug("upload %s of %s/%s is already gone", upload_id, bucket, key)
    except RawS3Error as exc:
        log.warning("could not abort upload %s of %s/%s: %s", upload_id, bucket, key, exc)
        raise UploadNotAborted(bucket, key, upload_id) from exc
