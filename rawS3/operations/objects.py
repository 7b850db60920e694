"""Object operations: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject.

Each builder checks its arguments (``TypeError``/``ValueError``, nothing sent) and returns a
:class:`Request`; each reader turns the :class:`Reply` into a result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rawS3.bodies import BufferBody, SignedChunkedBody
from rawS3.operations.request import (
    Body,
    Query,
    Reply,
    Request,
    check_echoed_checksum,
    check_etag,
    copy_source,
    object_headers,
    range_header,
)
from rawS3.results import ObjectHead, PutResult, head_from_headers, put_from_headers
from rawS3.trailers import TrailerChunkedBody
from rawS3.urls import encode_component
from rawS3.validation import check_bucket, check_buffer, check_key, check_positive_int
from rawS3.xml import Node, check_xml_text, document, element, strip_etag

__all__ = [
    "MAX_DELETE_KEYS",
    "CopyResult",
    "DeleteError",
    "DeleteResult",
    "DeletedObject",
    "build_delete_objects",
    "copy_object",
    "delete_object",
    "delete_objects",
    "get_object",
    "head_object",
    "keys_to_delete",
    "parse_copy_result",
    "parse_delete_objects",
    "put_body",
    "put_object",
    "read_head_object",
    "read_put_object",
]

MAX_DELETE_KEYS = 1000


@dataclass(frozen=True, slots=True)
class DeletedObject:
    """A key a DeleteObjects request removed.

    Attributes:
        key: the key.
        version_id: ``VersionId``, if sent.
        delete_marker: whether the delete made or removed a delete marker.
        delete_marker_version_id: the version id of that delete marker, if sent.
    """

    key: str
    version_id: str | None
    delete_marker: bool = False
    delete_marker_version_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteError:
    """A key a DeleteObjects request could not remove.

    Attributes:
        key: the key.
        code: the S3 error code, e.g. ``"AccessDenied"`` (``""`` if none was sent).
        message: the server's message (``""`` if none was sent).
        version_id: the version that could not be removed, if one was named.
    """

    key: str
    code: str
    message: str
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """A DeleteObjects answer.

    Attributes:
        deleted: the keys removed (in quiet mode the server may leave them out).
        errors: the keys that could not be removed, with why.
    """

    deleted: tuple[DeletedObject, ...]
    errors: tuple[DeleteError, ...]


@dataclass(frozen=True, slots=True)
class CopyResult:
    """A CopyObject or UploadPartCopy answer.

    Attributes:
        etag: the copy's ETag, quoted as S3 quotes it (servers that leave the quotes off
            get them added).
        last_modified: when the copy was written, in UTC.
        version_id: the copy's ``x-amz-version-id``, in a versioned bucket.
        source_version_id: ``x-amz-copy-source-version-id``: the version copied.
    """

    etag: str
    last_modified: datetime
    version_id: str | None = None
    source_version_id: str | None = None


def put_body(
    body: object, *, size: int | None, sign: bool, md5: bool, checksum: str | None, chunk_size: int
) -> Body:
    """Describe a PutObject body: bytes-like in memory, or an async iterable of known size.

    Args:
        body: any contiguous buffer, or an async iterable of bytes.
        size: the exact length of an iterable ``body`` (for a buffer, checked if given).
        sign: put a buffer's SHA-256 in the signature (else ``UNSIGNED-PAYLOAD``).
        md5: send ``Content-MD5``.
        checksum: an ``x-amz-checksum-*`` algorithm, or ``None``. A buffer sends it as a
            header; an iterable as a trailer after aws-chunked frames (signed frames and
            trailer when ``sign``, else ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``).
        chunk_size: the aws-chunked frame size for an iterable.

    Returns:
        A replayable ``BufferBody``, or a one-shot aws-chunked body.

    Raises:
        TypeError, ValueError: a body of another kind, a wrong or missing size, or ``md5``
            asked for an iterable.
    """
    if not hasattr(body, "__aiter__"):
        view = check_buffer("body", body)
        if size is not None and size != view.nbytes:
            raise ValueError(f"size={size} but the body holds {view.nbytes} bytes")
        return BufferBody(view, sign=sign, md5=md5, checksum=checksum)
    if size is None:
        raise ValueError("an async iterable body needs its exact size (size=...)")
    if md5:  # silently dropped, the check asked for would not happen
        raise ValueError(
            "content_md5 needs a bytes-like body: a stream's MD5 is known only once it is "
            "sent; use checksum=..., sent in a trailer"
        )
    check_positive_int("size", size, minimum=0)
    check_positive_int("chunk_size", chunk_size, minimum=8 * 1024)
    if checksum is not None:
        # Computed as the body streams and sent in a trailer: one pass, no second read.
        return TrailerChunkedBody(
            body, size=size, chunk_size=chunk_size, algorithm=checksum, signed=sign
        )
    return SignedChunkedBody(body, size=size, chunk_size=chunk_size)


def put_object(
    bucket: str,
    key: str,
    body: Body,
    *,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """Build a PutObject.

    Args:
        bucket: the bucket.
        key: the object's key.
        body: what :func:`put_body` described.
        content_type: stored with the object.
        metadata: user metadata.
        headers: further headers, signed.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    extra = object_headers(content_type, metadata, headers)
    return Request("PUT", check_bucket(bucket), check_key(key), headers=extra, body=body)


def read_put_object(reply: Reply, body: Body, bucket: str, key: str) -> PutResult:
    """Read a PutObject answer, checking the ETag and any echoed checksum against the body.

    Args:
        reply: the answer.
        body: the body sent.
        bucket: for messages.
        key: for messages.

    Returns:
        The ETag, version id and size.

    Raises:
        IntegrityError: the server reports other bytes than those sent.
    """
    check_etag(reply.headers, body.md5, bucket, key)
    check_echoed_checksum(reply.headers, body.checksum, bucket, key)
    result = put_from_headers(reply.headers, size=body.size)
    return dataclasses.replace(result, checksum=body.checksum) if body.checksum else result


def get_object(
    bucket: str,
    key: str,
    *,
    start: int | None,
    end: int | None,
    checksum_mode: bool = False,
    headers: Mapping[str, str] | None = None,
    query: Query = (),
) -> Request:
    """Build a GetObject of the whole object or of the inclusive range ``start``..``end``.

    Args:
        bucket: the bucket.
        key: the object's key.
        start: the first byte (``None``: the whole object).
        end: the last byte, inclusive (``None``: to the end); needs ``start``.
        headers: further headers (conditions, SSE-C), already checked.
        query: e.g. ``versionId``, already checked.
        checksum_mode: ask for the stored checksum (``x-amz-checksum-mode: ENABLED``), to
            verify the bytes; whole-object reads only.

    Returns:
        The request (200 and 206 are success).

    Raises:
        TypeError, ValueError: bad arguments, e.g. ``end`` without ``start``, or a range
            with ``checksum_mode`` (the stored checksum covers the whole object).
    """
    check_bucket(bucket)
    check_key(key)
    if start is None and end is not None:
        raise ValueError("end given without start; pass start=0 to read from the beginning")
    if not isinstance(checksum_mode, bool):
        raise TypeError(f"checksum_mode must be a bool, not {type(checksum_mode).__name__}")
    if checksum_mode and start is not None:
        raise ValueError(
            "checksum_mode verifies whole-object reads only: the stored checksum covers the "
            "whole object, not a range"
        )
    sent = {"Range": range_header(start, end)} if start is not None else {}
    if checksum_mode:
        sent["x-amz-checksum-mode"] = "ENABLED"
    sent.update(headers or {})
    return Request("GET", bucket, key, query=query, headers=sent, ok=frozenset({200, 206}))


def head_object(
    bucket: str, key: str, *, headers: Mapping[str, str] | None = None, query: Query = ()
) -> Request:
    """Build a HeadObject.

    Args:
        bucket: the bucket.
        key: the object's key.
        headers: further headers (conditions, SSE-C), already checked.
        query: e.g. ``versionId``, already checked.

    Returns:
        The request; read the answer with ``rawS3.results.head_from_headers``.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    return Request("HEAD", check_bucket(bucket), check_key(key), query=query, headers=headers or {})


def read_head_object(reply: Reply) -> ObjectHead:
    """Read a HeadObject answer.

    Args:
        reply: the answer.

    Returns:
        The object's size, ETag, type, modification time and metadata.
    """
    return head_from_headers(reply.headers)


def delete_object(bucket: str, key: str, *, query: Query = ()) -> Request:
    """Build a DeleteObject (a missing key is success, as S3 specifies).

    Args:
        bucket: the bucket.
        key: the object's key.
        query: e.g. ``versionId``, already checked.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    target = check_bucket(bucket), check_key(key)
    return Request("DELETE", *target, query=query, ok=frozenset({200, 204}))


def keys_to_delete(keys: Iterable[str]) -> list[str]:
    """Check the keys of a DeleteObjects call and name each once, in order.

    Args:
        keys: the keys, any number.

    Returns:
        The distinct keys.

    Raises:
        TypeError: one ``str`` or bytes object instead of keys, or a key that is not ``str``.
        ValueError: a key S3 cannot name.
    """
    if isinstance(keys, (str, bytes, bytearray, memoryview)):
        # A string is an iterable of one-letter keys: deleting those is never meant.
        raise TypeError(
            f"keys must be an iterable of keys, not one {type(keys).__name__}; "
            "wrap a single key in a list"
        )
    # A key named twice is deleted once; a request repeating keys only costs the server.
    return list(dict.fromkeys(check_key(key) for key in keys))


def delete_objects(bucket: str, keys: list[str], *, quiet: bool) -> Request:
    """Build one DeleteObjects request (at most 1,000 keys).

    Args:
        bucket: the bucket.
        keys: what :func:`keys_to_delete` returned, a batch of at most 1,000.
        quiet: ask the server to list only failures.

    Returns:
        The request, its body with ``Content-MD5`` as S3 requires.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    body = BufferBody(build_delete_objects(keys, quiet=quiet), sign=True, md5=True)
    return Request("POST", check_bucket(bucket), query=(("delete", None),), body=body)


def copy_object(
    source_bucket: str,
    source_key: str,
    bucket: str,
    key: str,
    *,
    metadata: Mapping[str, str] | None,
    content_type: str | None,
    headers: Mapping[str, str] | None = None,
    source_version_id: str | None = None,
) -> Request:
    """Build a CopyObject; giving metadata or a type replaces both (else both are copied).

    Args:
        source_bucket: the source's bucket.
        source_key: the source's key.
        bucket: the copy's bucket.
        key: the copy's key.
        metadata: new user metadata.
        content_type: a new content type.
        headers: further headers (conditions, encryption, tags, directives), already checked.
        source_version_id: the source's version, already checked.

    Returns:
        The request (a 200 may still carry an error).

    Raises:
        TypeError, ValueError: bad arguments.
    """
    sent = object_headers(content_type, metadata, None)
    source = copy_source(check_bucket(source_bucket), check_key(source_key))
    if source_version_id is not None:
        source += f"?versionId={encode_component(source_version_id)}"
    sent["x-amz-copy-source"] = source
    if metadata is not None or content_type is not None:
        sent["x-amz-metadata-directive"] = "REPLACE"
    sent.update(headers or {})
    target = check_bucket(bucket), check_key(key)
    return Request("PUT", *target, headers=sent, embedded_errors=True)


def build_delete_objects(keys: Iterable[str], *, quiet: bool = True) -> bytes:
    """Build the DeleteObjects request body.

    Args:
        keys: 1 to 1,000 object keys.
        quiet: ask the server to report only failures.

    Returns:
        The UTF-8 XML document.

    Raises:
        TypeError: ``keys`` is a single ``str``/bytes, or holds a non-``str``.
        ValueError: no keys, more than 1,000, an empty key, or a key holding a character
            XML 1.0 cannot carry (such objects can only be deleted one by one).
    """
    if isinstance(keys, (str, bytes)):
        raise TypeError("keys must be an iterable of str, not a single str or bytes")
    checked = [_checked_key(index, key) for index, key in enumerate(keys)]
    if not checked or len(checked) > MAX_DELETE_KEYS:
        raise ValueError(f"DeleteObjects takes 1 to {MAX_DELETE_KEYS:,} keys, got {len(checked):,}")
    objects = "".join(f"<Object>{element('Key', key)}</Object>" for key in checked)
    return document("Delete", f"<Quiet>{'true' if quiet else 'false'}</Quiet>{objects}")


def _checked_key(index: int, key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"keys[{index}] must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError(f"keys[{index}] is empty")
    check_xml_text(f"keys[{index}]", key)
    return key


def parse_delete_objects(body: bytes) -> DeleteResult:
    """Parse a DeleteObjects (``<DeleteResult>``) answer.

    Args:
        body: the response body.

    Returns:
        The removed keys (none in quiet mode) and the per-key failures.

    Raises:
        ResponseError: the body is not that document or an entry lacks its key.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body, "DeleteResult")
    return DeleteResult(
        deleted=tuple(
            DeletedObject(
                key=entry.required("Key"),
                version_id=entry.optional("VersionId"),
                delete_marker=(entry.text("DeleteMarker") or "").strip() == "true",
                delete_marker_version_id=entry.optional("DeleteMarkerVersionId"),
            )
            for entry in root.children("Deleted")
        ),
        errors=tuple(
            DeleteError(
                key=entry.required("Key"),
                code=entry.text("Code") or "",
                message=entry.text("Message") or "",
                version_id=entry.optional("VersionId"),
            )
            for entry in root.children("Error")
        ),
    )


def parse_copy_result(body: bytes) -> CopyResult:
    """Parse a CopyObject or UploadPartCopy answer (``<CopyObjectResult>``/``<CopyPartResult>``).

    Call :func:`rawS3.xml.find_error` first: this answer can be a 200 carrying an ``<Error>``.

    Args:
        body: the response body.

    Returns:
        The new ETag and modification time.

    Raises:
        ResponseError: the body is not one of those documents or lacks a field.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body, "CopyObjectResult", "CopyPartResult")
    # Servers differ on quoting a copy's ETag (RGW leaves the quotes off); keep S3's form.
    etag = f'"{strip_etag(root.required("ETag"))}"'
    return CopyResult(etag=etag, last_modified=root.timestamp("LastModified"))
