"""What a multipart server-side copy carries, request by request, and when one is needed.

A copy in parts is CreateMultipartUpload, UploadPartCopy of byte ranges of the source, and
CompleteMultipartUpload. A ``CopySpec`` holds every option ``S3Client.copy_object`` took, and
says which request carries which:

- the source's HEAD (size and ETag): the source's version, its SSE-C key, and the caller's
  ``copy_source_if_*`` conditions, so they are checked once against the object copied;
- Create: the copy's metadata, content type and content headers (or, without any, the
  source's, read from the HEAD: S3 does not copy them into a multipart upload), its tags (or
  the source's, read with GetObjectTagging when the HEAD counts some), its encryption
  (SSE-C, SSE-S3, SSE-KMS) and the caller's extra ``headers`` and ``query``;
- every UploadPartCopy: the source's version and SSE-C key, the copy's SSE-C key, and the
  pin ``x-amz-copy-source-if-match`` on the HEAD's ETag;
- Complete: ``if_match`` / ``if_none_match`` on the copy's key.

Pure: no I/O. ``rawS3.copying`` sends the requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rawS3.encryption import SSECustomerKey
from rawS3.errors import S3Error
from rawS3.parts import part_size_for_total, split

__all__ = [
    "CONTENT_HEADERS",
    "CopySpec",
    "content_headers",
    "is_too_large_to_copy",
    "plan_copy_parts",
]

# The headers a copy stores besides its type and metadata, replaced with them.
CONTENT_HEADERS = (
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
)

# S3 copies at most 5 GiB in one CopyObject; above that it answers 400 InvalidRequest
# "The specified copy source is larger than the maximum allowable size for a copy source:
# 5368709120" and the copy must be made in parts.
_TOO_LARGE = "copy source is larger than the maximum allowable size"


def is_too_large_to_copy(error: S3Error) -> bool:
    """Whether a CopyObject was refused only because its source is over 5 GiB.

    Args:
        error: the CopyObject's error.

    Returns:
        ``True`` for S3's 400 ``InvalidRequest`` naming the copy source's size limit, and for
        a 400 ``EntityTooLarge`` (reported by users of AWS copying a 6.3 GB source: a
        CopyObject sends no body, so only its source can be too large).
    """
    if error.status != 400:
        return False
    if error.code == "EntityTooLarge":
        return True
    return error.code == "InvalidRequest" and _TOO_LARGE in (error.message or "").lower()


def content_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return the content headers (``CONTENT_HEADERS``) among a copy's option headers.

    Args:
        headers: the headers the copy's options make.

    Returns:
        Those of them that are content headers.
    """
    return {name: headers[name] for name in CONTENT_HEADERS if name in headers}


def plan_copy_parts(size: int, part_size: int) -> list[tuple[int, int]]:
    """Cut a source of ``size`` bytes into the ranges its UploadPartCopy requests copy.

    Args:
        size: the source's size in bytes (1 or more; 5 TiB at most).
        part_size: the wished bytes per part, 5 MiB to 5 GiB; raised when 10,000 parts
            would not hold the source.

    Returns:
        ``(offset, length)`` of each part in order: at most 10,000, each but the last of
        one size, none above 5 GiB.

    Raises:
        ValueError: a size above S3's 5 TiB object limit (10,000 parts of 550 MiB hold 5 TiB,
            so no part ever needs more than 5 GiB).
    """
    return list(split(size, part_size_for_total(size, part_size)))


@dataclass(frozen=True)
class CopySpec:
    """One copy's names and options, as ``S3Client.copy_object`` checked them.

    Attributes:
        source: ``(bucket, key)`` of the object copied.
        bucket: the copy's bucket.
        key: the copy's key.
        source_version_id: the version copied (``None``: the current one).
        metadata: new user metadata, or ``None`` to keep the source's.
        content_type: a new content type, or ``None``.
        content_headers: new ``Cache-Control`` ... ``Expires`` as header values.
        replace_metadata: whether the copy's metadata is replaced (``REPLACE``), not copied.
        tagging: new tags, or ``None``.
        copy_tags: whether the source's tags are copied (``COPY``, the default).
        if_match: Complete only if the copy's key holds this ETag.
        if_none_match: ``"*"``: Complete only if the copy's key is free.
        copy_source_if_match: the source must have this ETag (checked with the HEAD).
        copy_source_if_none_match: the source must not have this ETag.
        copy_source_if_modified_since: the source must have changed since.
        copy_source_if_unmodified_since: the source must not have changed since.
        sse_customer_key: the copy's SSE-C key (Create and every part).
        copy_source_sse_customer_key: the source's SSE-C key (HEAD and every part).
        server_side_encryption: ``"AES256"`` or ``"aws:kms"`` for the copy (Create).
        sse_kms_key_id: the KMS key (Create).
        headers: the caller's extra headers (Create).
        query: the caller's extra query parameters (Create).
    """

    source: tuple[str, str]
    bucket: str
    key: str
    source_version_id: str | None = None
    metadata: Mapping[str, str] | None = None
    content_type: str | None = None
    content_headers: Mapping[str, str] = field(default_factory=dict)
    replace_metadata: bool = False
    tagging: Mapping[str, str] | None = None
    copy_tags: bool = True
    if_match: str | None = None
    if_none_match: str | None = None
    copy_source_if_match: str | None = None
    copy_source_if_none_match: str | None = None
    copy_source_if_modified_since: datetime | None = None
    copy_source_if_unmodified_since: datetime | None = None
    sse_customer_key: SSECustomerKey | None = None
    copy_source_sse_customer_key: SSECustomerKey | None = None
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    headers: Mapping[str, str] | None = None
    query: Mapping[str, str | None] | None = None
