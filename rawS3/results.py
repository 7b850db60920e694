"""Results read from response headers rather than XML bodies (PutObject, HeadObject, UploadPart)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DeleteObjectResult",
    "ObjectHead",
    "PutResult",
    "UploadedPart",
    "delete_from_headers",
    "head_from_headers",
    "put_from_headers",
]

_META_PREFIX = "x-amz-meta-"


@dataclass(frozen=True, slots=True)
class PutResult:
    """What S3 answered to a PutObject or a completed upload.

    Attributes:
        etag: the ETag as the server sent it, quotes included.
        version_id: ``x-amz-version-id``, when the bucket keeps versions.
        parts: 0 for a single PutObject, else the number of parts of the multipart upload.
        size: the object's size in bytes, as sent.
        checksum: ``(algorithm, base64 value)`` of the object's additional checksum: for a
            PutObject the value sent (a trailer's as computed while streaming), for a
            multipart upload the one the parts make (COMPOSITE values end in ``-N``), else
            ``None``.
    """

    etag: str
    version_id: str | None = None
    parts: int = 0
    size: int = 0
    checksum: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class UploadedPart:
    """One uploaded part: what CompleteMultipartUpload needs back, plus its size.

    Attributes:
        part_number: the part's number, 1 to 10,000.
        etag: the part's ETag as the server sent it, quotes included.
        size: the part's length in bytes.
        checksum: ``(algorithm, base64 value)`` when the part was sent with an additional
            checksum, else ``None``.
    """

    part_number: int
    etag: str
    size: int = 0
    checksum: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """An object's metadata, as HeadObject (or GetObject) returns it in headers.

    Attributes:
        size: ``Content-Length``: the object's size, or for a ranged GET the range's length.
        etag: the ETag as the server sent it, quotes included (``""`` if none was sent).
        content_type: ``Content-Type``, if sent.
        last_modified: ``Last-Modified``, the HTTP date text as sent, if any.
        metadata: user metadata (``x-amz-meta-*``) by lower-case name without the prefix.
        version_id: ``x-amz-version-id``, if sent.
        content_range: ``Content-Range`` of a ranged GET, if any.
        is_delete_marker: ``x-amz-delete-marker: true`` was sent.
        server_side_encryption: ``x-amz-server-side-encryption`` (``AES256``, ``aws:kms``).
        sse_kms_key_id: the KMS key the object is encrypted with, if sent.
        sse_customer_algorithm: the SSE-C algorithm (``AES256``) when the object uses SSE-C.
        sse_customer_key_md5: the base64 MD5 of that SSE-C key (not the key).
        tag_count: ``x-amz-tagging-count``: how many tags the object has, if sent.
        cache_control: ``Cache-Control``, if sent.
        content_disposition: ``Content-Disposition``, if sent.
        content_encoding: ``Content-Encoding``, if sent.
        content_language: ``Content-Language``, if sent.
        expires: ``Expires``, the HTTP date text as sent, if any.
    """

    size: int
    etag: str
    content_type: str | None
    last_modified: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    version_id: str | None = None
    content_range: str | None = None
    is_delete_marker: bool = False
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    tag_count: int | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    expires: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteObjectResult:
    """What S3 answered to a DeleteObject.

    Attributes:
        version_id: ``x-amz-version-id``: the version removed, or the delete marker made.
        is_delete_marker: ``x-amz-delete-marker: true``: a delete marker was made (or the
            version removed was one).
    """

    version_id: str | None = None
    is_delete_marker: bool = False


def _flag(headers: Mapping[str, str], name: str) -> bool:
    return headers.get(name, "").strip().lower() == "true"


def delete_from_headers(headers: Mapping[str, str]) -> DeleteObjectResult:
    """Build a ``DeleteObjectResult`` from a DeleteObject response's headers.

    Args:
        headers: the response headers.

    Returns:
        The version id and delete-marker flag, where sent.
    """
    return DeleteObjectResult(
        version_id=headers.get("x-amz-version-id"),
        is_delete_marker=_flag(headers, "x-amz-delete-marker"),
    )


def head_from_headers(headers: Mapping[str, str]) -> ObjectHead:
    """Build an ``ObjectHead`` from response headers.

    Args:
        headers: the response headers, a case-insensitive mapping such as aiohttp's.

    Returns:
        The object's size, ETag, type, date, metadata, version and range.
    """
    metadata = {
        name.lower()[len(_META_PREFIX) :]: value
        for name, value in headers.items()
        if name.lower().startswith(_META_PREFIX)
    }
    return ObjectHead(
        size=int(headers.get("Content-Length", "0")),
        etag=headers.get("ETag", ""),
        content_type=headers.get("Content-Type"),
        last_modified=headers.get("Last-Modified"),
        metadata=metadata,
        version_id=headers.get("x-amz-version-id"),
        content_range=headers.get("Content-Range"),
        is_delete_marker=_flag(headers, "x-amz-delete-marker"),
        server_side_encryption=headers.get("x-amz-server-side-encryption"),
        sse_kms_key_id=headers.get("x-amz-server-side-encryption-aws-kms-key-id"),
        sse_customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-MD5"),
        tag_count=_count(headers.get("x-amz-tagging-count")),
        cache_control=headers.get("Cache-Control"),
        content_disposition=headers.get("Content-Disposition"),
        content_encoding=headers.get("Content-Encoding"),
        content_language=headers.get("Content-Language"),
        expires=headers.get("Expires"),
    )


def _count(text: str | None) -> int | None:
    # A count that is not a number says nothing; the object's data is not at stake.
    return int(text) if text is not None and text.strip().isdigit() else None


def put_from_headers(headers: Mapping[str, str], *, size: int) -> PutResult:
    """Build a ``PutResult`` from a PutObject response's headers.

    Args:
        headers: the response headers, a case-insensitive mapping such as aiohttp's.
        size: the number of bytes sent.

    Returns:
        The ETag and version id the server gave, with ``size``.
    """
    return PutResult(
        etag=headers.get("ETag", ""), version_id=headers.get("x-amz-version-id"), size=size
    )
