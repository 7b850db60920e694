"""S3Client's file upload: ``upload_path`` (``rawS3.client.S3Client`` inherits it).

The work is done in ``rawS3.file_upload``, loaded on the first call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, cast

from rawS3.multipart_calls import Facade

if TYPE_CHECKING:
    from rawS3.client import S3Client
    from rawS3.progress import ProgressCallback
    from rawS3.results import PutResult

__all__ = ["UploadCalls"]


class UploadCalls(Facade):
    """Uploading local files."""

    async def upload_path(
        self,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        *,
        part_size: int | None = None,
        concurrency: int | Literal["auto"] = "auto",
        max_memory: int | None = None,
        resume: str | None = None,
        keep_on_failure: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> PutResult:
        """Upload the local file at ``path`` as ``bucket``/``key``, each part read where it lies.

        A file no longer than one part is one PutObject; a longer one is a multipart upload
        whose part tasks each read their own part at its offset (``os.pread``, no threads) and
        send it, with at most ``concurrency`` parts (so ``concurrency × part_size`` bytes) in
        flight. Without ``part_size`` a file above 8 MiB is cut into 16 parts of 5 to 8 MiB
        where it can be. ``concurrency="auto"`` sends every part at once when they fit within
        ``max_memory`` (default 128 MiB: 16 parts of 8 MiB); a larger file starts at 8 parts
        and doubles to 16 if the aggregate throughput grows, within ``max_memory``. Any
        failure or cancellation aborts the upload, unless ``keep_on_failure`` keeps it to be
        resumed.

        Args:
            bucket: the bucket.
            key: the object's key.
            path: the local file.
            part_size: bytes per part, 5 MiB to 5 GiB (default: 5 to 8 MiB from the file's
                size alone, grown so that the file fits in 10,000 parts). A resumed upload
                needs the part size it began with.
            concurrency: parts in flight, 1 to 1000, or ``"auto"`` (the default).
            max_memory: a budget in bytes for part data: at most ``max_memory // part_size``
                parts are ever in flight (``ValueError`` if it cannot hold one part). ``None``:
                with ``"auto"``, 128 MiB (or 4 parts, for parts above 32 MiB); with a number,
                ``concurrency`` parts.
            resume: the id of an interrupted multipart upload of this file (as
                ``UploadInterrupted`` or ``UploadNotAborted`` gave it): the parts the server
                holds are checked against the file (size and MD5) and only the others are
                sent, then the upload is completed.
            keep_on_failure: on failure or cancellation keep the multipart upload instead of
                aborting it; a failure then raises ``UploadInterrupted`` carrying its id. A
                cancellation stays a ``CancelledError``: the id is then only logged (warning,
                logger ``rawS3``) and listed by ``list_multipart_uploads``.
            content_type: stored with the object.
            metadata: user metadata stored with the object (as ``x-amz-meta-*``).
            on_progress: called with a ``TransferProgress`` (of the file's size) as each part
                is acknowledged by the server, or found already held when resuming: a part
                retried counts once.
            headers: extra headers, signed, on the request that defines the object (the
                PutObject, or CreateMultipartUpload), e.g. ``x-amz-meta-*``; parts and
                Complete do not carry them.
            query: extra query parameters, signed, on that same request.

        Returns:
            The object's ETag, part count (0 for one PutObject) and size.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            OSError: the file cannot be opened (nothing is sent) or read.
            SourceChanged: the file changed size or was modified while it was read; the
                upload was aborted (or kept, with ``keep_on_failure``).
            UploadInterrupted: the upload failed and was kept, as ``keep_on_failure`` asked.
            UploadNotAborted: the upload failed and could not be aborted.
            NoSuchUpload: the upload to resume is gone (RGW answers ``NoSuchKey``).
            RawS3Error: the upload failed; it was aborted.
        """
        from rawS3.file_upload import upload_path

        return await upload_path(
            cast("S3Client", self),
            bucket,
            key,
            path,
            part_size=part_size,
            concurrency=concurrency,
            max_memory=max_memory,
            resume=resume,
            keep_on_failure=keep_on_failure,
            content_type=content_type,
            metadata=metadata,
            on_progress=on_progress,
            headers=headers,
            query=query,
        )
