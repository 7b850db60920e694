"""Resuming a multipart upload by its id, and keeping one on failure so that it can be resumed.

A resumed upload starts with ListParts instead of CreateMultipartUpload. A part the server
already holds is not sent again when it is the part the caller has now: the same size, and an
ETag equal to the MD5 of the bytes at hand (the caller has them: a stream writes them again, a
file is read again, and reading is far cheaper than sending). Anything else is sent, and the
server replaces the part of that number. An ETag that is not an MD5 (SSE-KMS, SSE-C) proves
nothing, so such a part is sent again too.

By default an upload that fails is aborted, leaving nothing behind; with ``keep_on_failure`` it
is kept and ``UploadInterrupted`` carries its id, to pass as ``resume=`` later.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Protocol

from rawS3.cleanup import abort_or_hand_over, run_to_end
from rawS3.errors import NoSuchKey, NoSuchUpload, RawS3Error, UploadInterrupted
from rawS3.operations.multipart_xml import PartInfo
from rawS3.operations.options import headers_argument
from rawS3.results import UploadedPart
from rawS3.validation import check_upload_id
from rawS3.xml import strip_etag

__all__ = ["Resumption", "part_matches"]

log = logging.getLogger("rawS3")
_MD5_HEX = re.compile(r"[0-9a-f]{32}")


class _Client(Protocol):
    """What resuming needs of a client: ``S3Client`` is one."""

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksum: str | None = None,
        checksum_type: str | None = None,
    ) -> str:
        """Start an upload; see ``S3Client.create_multipart_upload``."""

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        """The parts of an upload; see ``S3Client.list_parts``."""

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort an upload; see ``S3Client.abort_multipart_upload``."""


def part_matches(stored: PartInfo, data: bytes | bytearray | memoryview) -> bool:
    """Whether the part the server holds is ``data``: the same size and MD5.

    Args:
        stored: the part as ListParts described it.
        data: the bytes that part should hold.

    Returns:
        ``True`` when the sizes agree and the ETag is the MD5 of ``data``.
    """
    etag = strip_etag(stored.etag).lower()
    if stored.size != memoryview(data).nbytes or not _MD5_HEX.fullmatch(etag):
        return False
    return hashlib.md5(data).hexdigest() == etag


class Resumption:
    """Where an upload starts (a new one, or one resumed by id) and how a failed one ends.

    Args:
        upload_id: the upload to resume, or ``None`` to create one.
        keep_on_failure: keep a failed upload (``UploadInterrupted``) instead of aborting it.
        checksum: the additional checksum asked for, which a resumed upload cannot carry.

    Attributes:
        upload_id: the upload resumed, or ``None``.
        stored: the parts the server held when the upload was resumed, by number.
        reused: how many of them matched and were not sent again.

    Raises:
        TypeError, ValueError: a bad upload id, or ``checksum`` with ``upload_id``.
    """

    def __init__(
        self, upload_id: str | None, *, keep_on_failure: bool = False, checksum: str | None = None
    ) -> None:
        if upload_id is not None:
            check_upload_id(upload_id)
            if checksum is not None:
                # ListParts does not give the parts' checksums, which Complete would need.
                raise ValueError("a resumed upload cannot carry a checksum; leave checksum unset")
        if not isinstance(keep_on_failure, bool):
            raise TypeError(f"keep_on_failure must be a bool, got {keep_on_failure!r}")
        self.upload_id = upload_id
        self.keep_on_failure = keep_on_failure
        self.stored: dict[int, PartInfo] = {}
        self.reused = 0
        self._interrupted = False

    async def start(
        self,
        client: _Client,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksum: str | None = None,
        checksum_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> str:
        """Create the upload, or list the parts of the one resumed; return its id.

        Args:
            client: sends the requests.
            bucket: the upload's bucket.
            key: the object's key.
            content_type: stored with a new upload's object.
            metadata: user metadata of a new upload's object.
            checksum: the additional checksum of a new upload's parts.
            checksum_type: ``"COMPOSITE"`` or ``"FULL_OBJECT"`` with ``checksum``.
            headers: further headers of a new upload (encryption, tags), none if empty.
            query: extra query parameters of a new upload's Create, none if empty.

        Returns:
            The upload id.

        Raises:
            NoSuchUpload (RGW: NoSuchKey): the resumed upload is gone.
            UploadInterrupted: ListParts failed and ``keep_on_failure`` keeps the upload.
            RawS3Error: otherwise; a resumed upload is then aborted, as any failed upload.
        """
        if self.upload_id is None:
            return await client.create_multipart_upload(
                bucket,
                key,
                content_type=content_type,
                metadata=metadata,
                checksum=checksum,
                checksum_type=checksum_type,
                **headers_argument(headers or {}),
                **({"query": dict(query)} if query else {}),
            )
        try:
            parts = await client.list_parts(bucket, key, self.upload_id)
        except (NoSuchUpload, NoSuchKey):
            raise  # nothing to abort or keep
        except BaseException as exc:
            self.failed(exc)
            await run_to_end(self.give_up(client, bucket, key, self.upload_id))
            raise
        self.stored = {part.part_number: part for part in parts}
        log.debug("resuming upload %s: the server holds %d parts", self.upload_id, len(parts))
        return self.upload_id

    def reuse(self, number: int, data: bytes | bytearray | memoryview) -> UploadedPart | None:
        """The stored part ``number`` if it holds ``data``, else ``None`` (send it).

        Args:
            number: the part's number.
            data: the bytes the part must hold.

        Returns:
            The part as Complete takes it, or ``None``.
        """
        stored = self.stored.get(number)
        if stored is None or not part_matches(stored, data):
            return None
        self.reused += 1
        return UploadedPart(number, stored.etag, stored.size)

    def failed(self, failure: BaseException) -> None:
        """Note why the upload is being given up, before ``give_up``.

        A cancellation (or KeyboardInterrupt, SystemExit: any ``BaseException`` that is not an
        ``Exception``) must stay what it is: a kept upload then raises nothing of its own.

        Args:
            failure: the exception that ends the upload.
        """
        self._interrupted = not isinstance(failure, Exception)

    async def give_up(self, client: _Client, bucket: str, key: str, upload_id: str) -> None:
        """End a failed upload: abort it, or keep it when asked to.

        Args:
            client: sends the abort.
            bucket: the upload's bucket.
            key: the upload's key.
            upload_id: the upload.

        Raises:
            UploadInterrupted: kept, as ``keep_on_failure`` asked; it carries the id. Not
                when ``failed`` was told of a cancellation (the caller re-raises that, and
                the id is logged), nor when the upload is gone (a Complete whose answer was
                lost may have taken effect): the caller re-raises its failure then.
            UploadNotAborted: the abort failed; the upload is still there.
        """
        if not self.keep_on_failure:
            await abort_or_hand_over(client, bucket, key, upload_id)
            return
        if self._interrupted:
            log.warning("upload %s of %s/%s kept to be resumed", upload_id, bucket, key)
            return
        if await _gone(client, bucket, key, upload_id):
            log.warning("upload %s of %s/%s is gone: nothing to keep", upload_id, bucket, key)
            return
        log.warning("upload %s of %s/%s kept to be resumed", upload_id, bucket, key)
        raise UploadInterrupted(bucket, key, upload_id)


async def _gone(client: _Client, bucket: str, key: str, upload_id: str) -> bool:
    """Whether the server says the upload no longer exists; ``False`` when it cannot tell."""
    try:
        await client.list_parts(bucket, key, upload_id)
    except (NoSuchUpload, NoSuchKey):  # RGW answers NoSuchKey for an unknown upload
        return True
    except RawS3Error:
        return False
    return False
