"""Results read from response headers rather than XML bodies (PutObject, HeadObject, UploadPart)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ObjectHead", "PutResult", "UploadedPart", "head_from_headers", "put_from_headers"]

_META_PREFIX = "x-amz-meta-"


@dataclass(frozen=True, slots=True)
class PutResult:
    """What S3 answered to a PutObject or a completed upload.

    ``etag`` is as the server sent it, quotes included; ``parts`` is 0 for a single PutObject
    and the number of parts for a multipart upload.
    """

    etag: str
    version_id: str | None = None
    parts: int = 0
    size: int = 0


@dataclass(frozen=True, slots=True)
class UploadedPart:
    """One uploaded part: what CompleteMultipartUpload needs back, plus its size."""

    part_number: int
    etag: str
    size: int = 0
    checksum: tuple[str, str] | None = None
    """``(algorithm, base64 value)`` when the part was sent with an additional checksum."""


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """An object's metadata, as HeadObject (or GetObject) returns it in headers."""

    size: int
    etag: str
    content_type: str | None
    last_modified: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    version_id: str | None = None
    content_range: str | None = None


def head_from_headers(headers: Mapping[str, str]) -> ObjectHead:
    """Build an ``ObjectHead`` from response headers (case-insensitive mapping)."""
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
    )


def put_from_headers(headers: Mapping[str, str], *, size: int) -> PutResult:
    """Build a ``PutResult`` from a PutObject response's headers."""
    return PutResult(
        etag=headers.get("ETag", ""), version_id=headers.get("x-amz-version-id"), size=size
    )
