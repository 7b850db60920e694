"""The request an operation describes and the reply it reads, and helpers the families share."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rawS3.bodies import BufferBody, SignedChunkedBody
from rawS3.checksums import checksum_header
from rawS3.diagnosis import redact_details
from rawS3.errors import (
    IntegrityError,
    ResponseError,
    S3Error,
    code_for_status,
    make_s3_error,
)
from rawS3.trailers import TrailerChunkedBody
from rawS3.urls import encode_key
from rawS3.validation import check_byte_range, check_header, check_metadata
from rawS3.xml import ErrorDocument, parse_error, strip_etag

__all__ = [
    "Body",
    "Query",
    "Reply",
    "Request",
    "check_echoed_checksum",
    "check_etag",
    "copy_source",
    "error_from_document",
    "object_headers",
    "range_header",
    "read_error",
]

Body = BufferBody | SignedChunkedBody | TrailerChunkedBody
Query = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Request:
    """One S3 request before signing: what is sent, and how the engine is to treat it.

    Attributes:
        method: the HTTP method.
        bucket: the bucket addressed, if any.
        key: the object key addressed, if any.
        query: query parameters in order; ``None`` values are sent as bare names.
        headers: request headers, signed as given.
        body: the body, if any.
        ok: the statuses that mean success.
        retry: whether a failed attempt may be sent again.
        retry_timeouts: retry a POST that timed out (only where an attempt that took effect
            unseen is cleaned up, as CreateMultipartUpload's is).
        embedded_errors: S3 may answer 200 and report failure in the body (Complete, Copy).
    """

    method: str
    bucket: str | None = None
    key: str | None = None
    query: Query = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Body | None = None
    ok: frozenset[int] = frozenset({200})
    retry: bool = True
    retry_timeouts: bool = False
    embedded_errors: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer, read whole.

    Attributes:
        status: the HTTP status.
        headers: the response headers (case-insensitive where the engine built them).
        body: the body's bytes.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes


def object_headers(
    content_type: str | None, metadata: Mapping[str, str] | None, headers: Mapping[str, str] | None
) -> dict[str, str]:
    """Return the headers that store an object's type, user metadata and extra headers.

    Args:
        content_type: the ``Content-Type`` to store, if any.
        metadata: user metadata, names without ``x-amz-meta-``.
        headers: further headers, sent and signed as given.

    Returns:
        A new dict of headers.

    Raises:
        TypeError, ValueError: a header, type or metadata item HTTP cannot carry as signed.
    """
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, not {type(headers).__name__}")
    if content_type is None and metadata is None and not headers:
        return {}  # the usual object request: nothing to check
    out = dict(check_header(name, value) for name, value in (headers or {}).items())
    if content_type is not None:
        out["Content-Type"] = check_header("Content-Type", content_type)[1]
    for name, value in (check_metadata(metadata) if metadata is not None else {}).items():
        out[f"x-amz-meta-{name}"] = value
    return out


def range_header(start: int | None, end: int | None) -> str:
    """Return a ``Range`` value for the inclusive byte range ``start``..``end``.

    Args:
        start: the first byte, from 0.
        end: the last byte (inclusive), or ``None`` for the end of the object.

    Returns:
        ``bytes=start-end``.

    Raises:
        TypeError, ValueError: not a valid range.
    """
    first, last = check_byte_range(start, end)
    return f"bytes={first}-{'' if last is None else last}"


def copy_source(bucket: str, key: str) -> str:
    """Return an ``x-amz-copy-source`` value naming ``bucket``/``key``.

    Args:
        bucket: the source's bucket.
        key: the source's key.

    Returns:
        ``/bucket/encoded-key``.
    """
    return f"/{bucket}/{encode_key(key)}"


def check_etag(headers: Mapping[str, str], md5: bytes | None, bucket: str, key: str) -> None:
    """Compare the answer's ETag to the MD5 of what was sent, where the ETag is an MD5.

    It is not for objects encrypted with SSE-KMS or SSE-C, as S3 documents.

    Args:
        headers: the answer's headers.
        md5: the MD5 of the bytes sent, or ``None`` when it was not computed.
        bucket: for the message.
        key: for the message.

    Raises:
        IntegrityError: the ETag is an MD5 and not the one sent.
    """
    etag = headers.get("ETag", "")
    if md5 is None or not etag or _etag_is_not_md5(headers):
        return
    if strip_etag(etag) != md5.hex():
        raise IntegrityError(
            f"ETag {etag} of {bucket}/{key} is not the MD5 of the bytes sent ({md5.hex()})"
        )


def _etag_is_not_md5(headers: Mapping[str, str]) -> bool:
    encryption = headers.get("x-amz-server-side-encryption", "")
    return encryption.startswith("aws:kms") or (
        "x-amz-server-side-encryption-customer-algorithm" in headers
    )


def check_echoed_checksum(
    headers: Mapping[str, str], sent: tuple[str, str] | None, bucket: str, key: str
) -> None:
    """Compare a checksum the server echoes with the one sent: a difference is corruption.

    Args:
        headers: the answer's headers.
        sent: ``(algorithm, value)`` sent, or ``None``.
        bucket: for the message.
        key: for the message.

    Raises:
        IntegrityError: the server echoed another value.
    """
    if sent is None:
        return
    echoed = headers.get(checksum_header(sent[0]))
    if echoed is not None and echoed != sent[1]:
        raise IntegrityError(
            f"the server computed {sent[0]} {echoed} for {bucket}/{key}; rawS3 sent {sent[1]}"
        )


def read_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request: Request,
    secrets: Iterable[str] = (),
) -> S3Error:
    """Turn an error answer into the ``S3Error`` its code names (from the status if no body).

    Args:
        status: the HTTP status.
        headers: the response headers.
        body: the (capped) body; may be empty (HEAD) or not S3's XML.
        request: what was sent, for the bucket and key.
        secrets: what the request carried (session token, signature), masked wherever the
            answer echoes it.

    Returns:
        The error to raise.
    """
    if body.strip():
        try:
            doc = parse_error(body)
        except ResponseError as exc:
            message = f"unreadable error body ({exc})"
        else:
            doc = dataclasses.replace(doc, details=redact_details(doc.details, secrets))
            return error_from_document(doc, status, headers, request)
    else:
        message = ""
    return make_s3_error(
        code=code_for_status(status, has_key=request.key is not None),
        message=message,
        status=status,
        request_id=headers.get("x-amz-request-id"),
        host_id=headers.get("x-amz-id-2"),
        bucket=request.bucket,
        key=request.key,
        details={"Date": headers.get("Date", "")},
    )


def error_from_document(
    doc: ErrorDocument, status: int, headers: Mapping[str, str], request: Request
) -> S3Error:
    """Return the ``S3Error`` an ``<Error>`` document names.

    Args:
        doc: the parsed document.
        status: the HTTP status (200 for an error inside a 200 answer).
        headers: the response headers.
        request: what was sent, for the bucket and key.

    Returns:
        The error to raise.
    """
    return make_s3_error(
        code=doc.code,
        message=doc.message,
        status=status,
        request_id=doc.request_id or headers.get("x-amz-request-id"),
        host_id=doc.host_id or headers.get("x-amz-id-2"),
        bucket=request.bucket,
        key=request.key,
        resource=doc.resource,
        # The Date header lets a RequestTimeTooSkewed answer without ServerTime fix the clock.
        details={**doc.details, "Date": headers.get("Date", "")},
    )
