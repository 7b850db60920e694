"""S3 XML documents to frozen dataclasses, and the request bodies S3 expects.

Parsing is namespace-tolerant: elements are matched on their local names, so documents with
the S3 namespace (AWS, MinIO, Ceph RGW) and without one parse alike. Any document that
declares a DTD or entities is refused before the parser could expand anything, and every
malformed or non-XML body raises :class:`~rawS3.errors.ResponseError`.

Values keep the server's spelling where it matters: ETags keep their quotes (see
:func:`strip_etag`), keys are never stripped of whitespace. Sizes are ``int``, flags ``bool``,
timestamps timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote_plus

from rawS3.errors import ResponseError

__all__ = [
    "MAX_DELETE_KEYS",
    "MAX_PARTS",
    "S3_NAMESPACE",
    "Bucket",
    "CompleteResult",
    "CopyResult",
    "DeleteError",
    "DeleteResult",
    "DeletedObject",
    "ErrorDocument",
    "InitiateResult",
    "ListBucketsResult",
    "ListObjectsPage",
    "ListPartsPage",
    "ListUploadsPage",
    "ObjectInfo",
    "PartInfo",
    "UploadInfo",
    "build_complete_multipart_upload",
    "build_create_bucket_configuration",
    "build_delete_objects",
    "find_error",
    "parse_complete_multipart_upload",
    "parse_copy_result",
    "parse_delete_objects",
    "parse_error",
    "parse_http_date",
    "parse_initiate_multipart_upload",
    "parse_list_buckets",
    "parse_list_multipart_uploads",
    "parse_list_objects_v2",
    "parse_list_parts",
    "strip_etag",
]

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_DELETE_KEYS = 1000
MAX_PARTS = 10000

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_DTD_MARKUP = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DTD_REFUSED = "refused: the response declares a DTD or entities, which S3 never sends"
# Characters outside XML 1.0's Char production (lone surrogates included), listed rather than
# negated: the negated class spans all of Unicode and took 7 ms to compile at import.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ErrorDocument:
    """An S3 ``<Error>`` document.

    Attributes:
        code: ``Code``, e.g. ``"NoSuchKey"``; never empty.
        message: ``Message``; ``""`` when the server sent none.
        request_id: ``RequestId``, if sent.
        host_id: ``HostId``, if sent.
        resource: ``Resource``, if sent.
        bucket: ``BucketName`` (or ``Bucket``), if sent.
        key: ``Key``, if sent.
        details: every child element not given a field of its own (e.g. ``StringToSign``,
            ``CanonicalRequest``, ``ArgumentName``), by local name.
    """

    code: str
    message: str
    request_id: str | None
    host_id: str | None
    resource: str | None
    bucket: str | None
    key: str | None
    details: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket of a ListBuckets answer.

    Attributes:
        name: the bucket's name.
        creation_date: when it was created, in UTC.
    """

    name: str
    creation_date: datetime


@dataclass(frozen=True, slots=True)
class ListBucketsResult:
    """A ListBuckets answer.

    Attributes:
        buckets: the buckets, in the server's order.
        owner_id: the owner's ``ID``, if sent.
        owner_name: the owner's ``DisplayName``, if sent.
    """

    buckets: tuple[Bucket, ...]
    owner_id: str | None
    owner_name: str | None


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object of a listing.

    Attributes:
        key: the object's key (url-decoded when the answer was encoded).
        size: its size in bytes.
        etag: its ETag as sent, quotes included.
        last_modified: when it was last written, in UTC.
        storage_class: ``StorageClass``, if sent.
    """

    key: str
    size: int
    etag: str
    last_modified: datetime
    storage_class: str | None


@dataclass(frozen=True, slots=True)
class ListObjectsPage:
    """One page of a ListObjectsV2 answer, keys and prefixes already url-decoded.

    Attributes:
        contents: the objects on this page.
        common_prefixes: the keys grouped by the delimiter, each once (``"dir/"``).
        is_truncated: whether more pages follow.
        next_continuation_token: the token that asks for the next page; set when truncated.
        key_count: ``KeyCount``, or the number of objects and prefixes when not sent.
        prefix: the prefix the listing was asked for (``""`` for none).
    """

    contents: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_continuation_token: str | None
    key_count: int
    prefix: str


@dataclass(frozen=True, slots=True)
class InitiateResult:
    """A CreateMultipartUpload answer.

    Attributes:
        bucket: the bucket, as the server names it.
        key: the key, as the server names it.
        upload_id: the new upload's id; never empty.
    """

    bucket: str
    key: str
    upload_id: str


@dataclass(frozen=True, slots=True)
class CompleteResult:
    """A CompleteMultipartUpload answer.

    Attributes:
        location: ``Location``, the object's URL, if sent.
        bucket: the bucket, as the server names it.
        key: the key, as the server names it.
        etag: the object's ETag as sent, quotes included.
    """

    location: str | None
    bucket: str
    key: str
    etag: str


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One part of a ListParts answer.

    Attributes:
        part_number: the part's number.
        etag: its ETag as sent, quotes included.
        size: its size in bytes.
        last_modified: when it was uploaded, in UTC.
    """

    part_number: int
    etag: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ListPartsPage:
    """One page of a ListParts answer.

    Attributes:
        parts: the parts on this page, in the server's order.
        is_truncated: whether more pages follow.
        next_part_number_marker: where the next page starts; set when truncated.
    """

    parts: tuple[PartInfo, ...]
    is_truncated: bool
    next_part_number_marker: int | None


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """One in-progress multipart upload of a ListMultipartUploads answer.

    Attributes:
        key: the key the upload is for (url-decoded when the answer was encoded).
        upload_id: the upload's id.
        initiated: when the upload was created, in UTC.
    """

    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True, slots=True)
class ListUploadsPage:
    """One page of a ListMultipartUploads answer.

    Attributes:
        uploads: the uploads on this page.
        common_prefixes: the keys grouped by the delimiter, each once.
        is_truncated: whether more pages follow.
        next_key_marker: the key the next page starts after; set when truncated.
        next_upload_id_marker: the upload id the next page starts after, if sent.
    """

    uploads: tuple[UploadInfo, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


@dataclass(frozen=True, slots=True)
class DeletedObject:
    """A key a DeleteObjects request removed.

    Attributes:
        key: the key.
        version_id: ``VersionId``, if sent.
    """

    key: str
    version_id: str | None


@dataclass(frozen=True, slots=True)
class DeleteError:
    """A key a DeleteObjects request could not remove.

    Attributes:
        key: the key.
        code: the S3 error code, e.g. ``"AccessDenied"`` (``""`` if none was sent).
        message: the server's message (``""`` if none was sent).
    """

    key: str
    code: str
    message: str


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
    """

    etag: str
    last_modified: datetime


# ---------------------------------------------------------------------------------------
# Reading documents


class _NoDoctypeBuilder(ET.TreeBuilder):
    # ElementTree's C parser calls target.doctype from expat's start-of-DOCTYPE handler,
    # before the internal subset is read, so raising here stops every entity declaration
    # (and any external DTD) from being processed, whatever the body's encoding.
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ResponseError(_DTD_REFUSED)


def _parse_document(body: bytes) -> ET.Element:
    data = _document_bytes(body)
    if _DTD_MARKUP.search(data):
        raise ResponseError(_DTD_REFUSED)
    parser = ET.XMLParser(target=_NoDoctypeBuilder())
    try:
        parser.feed(data)
        root = parser.close()
    except ET.ParseError as exc:
        detail = f"the response is not well-formed XML ({exc}): {_excerpt(data)}"
        raise ResponseError(detail) from exc
    if not isinstance(root, ET.Element):
        raise ResponseError("the response holds no XML element")
    return root


def _document_bytes(body: bytes) -> bytes:
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be bytes, not {type(body).__name__}")
    # AWS pads long-running answers (CompleteMultipartUpload, CopyObject) with leading
    # whitespace, which would put the XML declaration where expat refuses it.
    data = bytes(body).removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not data:
        raise ResponseError("the response body is empty where S3 sends an XML document")
    return data


def _excerpt(data: bytes) -> str:
    return repr(data[:80].decode("utf-8", "replace")) + ("..." if len(data) > 80 else "")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _expect_root(root: ET.Element, *names: str) -> None:
    found = _local(root.tag)
    if found in names:
        return
    code = f" (code {_text(root, 'Code')})" if found == "Error" else ""
    expected = " or ".join(f"<{name}>" for name in names)
    raise ResponseError(f"expected {expected} but the response holds <{found}>{code}")


def _children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in parent if _local(child.tag) == name]


def _child(parent: ET.Element, name: str) -> ET.Element | None:
    return next((child for child in parent if _local(child.tag) == name), None)


def _text(parent: ET.Element, name: str) -> str | None:
    child = _child(parent, name)
    return None if child is None else child.text or ""


def _optional(parent: ET.Element, name: str) -> str | None:
    return _text(parent, name) or None


def _required(parent: ET.Element, name: str) -> str:
    text = _text(parent, name)
    if text is None:
        raise ResponseError(f"<{_local(parent.tag)}> lacks its <{name}> element")
    return text


def _required_int(parent: ET.Element, name: str) -> int:
    return _to_int(name, _required(parent, name))


def _optional_int(parent: ET.Element, name: str) -> int | None:
    text = _optional(parent, name)
    return None if text is None else _to_int(name, text)


def _to_int(name: str, text: str) -> int:
    value = text.strip()
    if not value.isdigit():
        raise ResponseError(f"<{name}> must hold a non-negative integer, got {text!r}")
    return int(value)


def _flag(parent: ET.Element, name: str) -> bool:
    text = (_text(parent, name) or "false").strip().lower()
    if text not in ("true", "false"):
        raise ResponseError(f"<{name}> must be 'true' or 'false', got {text!r}")
    return text == "true"


def parse_http_date(text: str) -> datetime:
    """Read an HTTP date (RFC 9110, e.g. ``Tue, 24 Nov 2026 16:18:21 GMT``) as an aware UTC time.

    Args:
        text: the date as sent.

    Returns:
        The time in UTC.

    Raises:
        ValueError: ``text`` is not an HTTP date.
    """
    # email.utils (with socket and the email package) would add a tenth to rawS3's import time.
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).astimezone(timezone.utc)
    except TypeError:  # some Python versions raise it for text that is no date at all
        raise ValueError(f"not an HTTP date: {text!r}") from None


def _timestamp(parent: ET.Element, name: str) -> datetime:
    text = _required(parent, name).strip()
    match = _TIMESTAMP.fullmatch(text)
    if match:
        return _iso_timestamp(match)
    try:
        # Some S3-compatible servers send the HTTP date format in listings.
        return parse_http_date(text)
    except ValueError:
        raise ResponseError(f"<{name}> must hold an ISO 8601 timestamp, got {text!r}") from None


def _iso_timestamp(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micro,
            tzinfo=timezone.utc,
        )
    except ValueError:
        raise ResponseError(f"invalid timestamp {match.group(0)!r}") from None
    return moment - _utc_offset(offset)


def _utc_offset(offset: str | None) -> timedelta:
    if offset is None or offset.upper() == "Z":
        return timedelta(0)
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return -delta if offset[0] == "-" else delta


def _url_decoder(root: ET.Element) -> Callable[[str], str]:
    # Decode only when the answer says it is encoded: servers that ignore the request's
    # encoding-type return raw keys, and decoding those would corrupt keys holding '%'.
    if (_text(root, "EncodingType") or "").strip().lower() == "url":
        return _url_decode
    return str


def _url_decode(text: str) -> str:
    # '+' means space here. AWS and MinIO encode a space as '+' (form style), Ceph RGW as
    # '%20', and all three encode a literal '+' as '%2B', so a bare '+' is always a space.
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError:
        raise ResponseError(f"url-encoded value {text!r} is not UTF-8") from None


def _prefixes(root: ET.Element, decode: Callable[[str], str]) -> tuple[str, ...]:
    return tuple(
        decode(prefix.text or "")
        for group in _children(root, "CommonPrefixes")
        for prefix in _children(group, "Prefix")
    )


# ---------------------------------------------------------------------------------------
# Parsers


def parse_error(body: bytes) -> ErrorDocument:
    """Parse an S3 ``<Error>`` document.

    Args:
        body: the response body.

    Returns:
        The error's fields; ``message`` is ``""`` when the server sent none (Ceph RGW).

    Raises:
        ResponseError: the body is not XML, declares a DTD, is not an ``<Error>``, or has
            no ``<Code>``.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "Error")
    return _error_document(root)


def find_error(body: bytes) -> ErrorDocument | None:
    """Return the ``<Error>`` a 200 answer carries instead of its result, if it does.

    CompleteMultipartUpload, CopyObject and UploadPartCopy can fail after the 200 status
    was sent; the failure then arrives as the body.

    Args:
        body: the response body.

    Returns:
        The error document, or ``None`` when the root element is not ``<Error>``.

    Raises:
        ResponseError: the body is not XML or declares a DTD.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    return _error_document(root) if _local(root.tag) == "Error" else None


_ERROR_FIELDS = frozenset(
    {"Code", "Message", "RequestId", "HostId", "Resource", "BucketName", "Bucket", "Key"}
)


def _error_document(root: ET.Element) -> ErrorDocument:
    code = (_text(root, "Code") or "").strip()
    if not code:
        raise ResponseError("the <Error> document has no <Code>")
    return ErrorDocument(
        code=code,
        message=_text(root, "Message") or "",
        request_id=_optional(root, "RequestId"),
        host_id=_optional(root, "HostId"),
        resource=_optional(root, "Resource"),
        bucket=_optional(root, "BucketName") or _optional(root, "Bucket"),
        key=_optional(root, "Key"),
        details=_error_details(root),
    )


def _error_details(root: ET.Element) -> dict[str, str]:
    return {
        _local(child.tag): child.text or ""
        for child in root
        if _local(child.tag) not in _ERROR_FIELDS
    }


def parse_list_buckets(body: bytes) -> ListBucketsResult:
    """Parse a ListBuckets (``<ListAllMyBucketsResult>``) answer.

    Args:
        body: the response body.

    Returns:
        The buckets in the server's order and the owner, if named.

    Raises:
        ResponseError: the body is not that document, or a bucket lacks a field.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "ListAllMyBucketsResult")
    owner = _child(root, "Owner")
    holder = _child(root, "Buckets")
    entries = [] if holder is None else _children(holder, "Bucket")
    return ListBucketsResult(
        buckets=tuple(_bucket(entry) for entry in entries),
        owner_id=None if owner is None else _optional(owner, "ID"),
        owner_name=None if owner is None else _optional(owner, "DisplayName"),
    )


def _bucket(entry: ET.Element) -> Bucket:
    return Bucket(name=_required(entry, "Name"), creation_date=_timestamp(entry, "CreationDate"))


def parse_list_objects_v2(body: bytes) -> ListObjectsPage:
    """Parse a ListObjectsV2 (``<ListBucketResult>``) answer.

    When the answer's ``EncodingType`` is ``url``, keys, the prefix and the common
    prefixes are percent-decoded (``+`` read as a space).

    Args:
        body: the response body.

    Returns:
        The page; ``key_count`` falls back to the number of entries when not sent.

    Raises:
        ResponseError: the body is not that document, an entry lacks a field, or the page
            is truncated without a continuation token.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "ListBucketResult")
    decode = _url_decoder(root)
    contents = tuple(_object_info(entry, decode) for entry in _children(root, "Contents"))
    prefixes = _prefixes(root, decode)
    page = ListObjectsPage(
        contents=contents,
        common_prefixes=prefixes,
        is_truncated=_flag(root, "IsTruncated"),
        next_continuation_token=_optional(root, "NextContinuationToken"),
        key_count=_key_count(root, len(contents) + len(prefixes)),
        prefix=decode(_text(root, "Prefix") or ""),
    )
    if page.is_truncated and page.next_continuation_token is None:
        raise ResponseError("the listing is truncated but carries no <NextContinuationToken>")
    return page


def _key_count(root: ET.Element, entries: int) -> int:
    count = _optional_int(root, "KeyCount")
    return entries if count is None else count


def _object_info(entry: ET.Element, decode: Callable[[str], str]) -> ObjectInfo:
    return ObjectInfo(
        key=decode(_required(entry, "Key")),
        size=_required_int(entry, "Size"),
        etag=_required(entry, "ETag"),
        last_modified=_timestamp(entry, "LastModified"),
        storage_class=_optional(entry, "StorageClass"),
    )


def parse_initiate_multipart_upload(body: bytes) -> InitiateResult:
    """Parse a CreateMultipartUpload (``<InitiateMultipartUploadResult>``) answer.

    Args:
        body: the response body.

    Returns:
        The bucket, key and upload id.

    Raises:
        ResponseError: the body is not that document or the upload id is missing or empty.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "InitiateMultipartUploadResult")
    upload_id = _required(root, "UploadId")
    if not upload_id:
        raise ResponseError("the <UploadId> of the new multipart upload is empty")
    return InitiateResult(
        bucket=_required(root, "Bucket"), key=_required(root, "Key"), upload_id=upload_id
    )


def parse_complete_multipart_upload(body: bytes) -> CompleteResult:
    """Parse a CompleteMultipartUpload (``<CompleteMultipartUploadResult>``) answer.

    Call :func:`find_error` first: this answer can be a 200 carrying an ``<Error>``.

    Args:
        body: the response body.

    Returns:
        The location (if sent), bucket, key and ETag of the assembled object.

    Raises:
        ResponseError: the body is not that document or lacks a field.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "CompleteMultipartUploadResult")
    return CompleteResult(
        location=_optional(root, "Location"),
        bucket=_required(root, "Bucket"),
        key=_required(root, "Key"),
        etag=_required(root, "ETag"),
    )


def parse_list_parts(body: bytes) -> ListPartsPage:
    """Parse a ListParts (``<ListPartsResult>``) answer.

    Args:
        body: the response body.

    Returns:
        The page of parts in the server's order.

    Raises:
        ResponseError: the body is not that document, a part lacks a field, or the page
            is truncated without a ``NextPartNumberMarker``.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    # moto names the root ListPartsResponse; the content is the same.
    _expect_root(root, "ListPartsResult", "ListPartsResponse")
    page = ListPartsPage(
        parts=tuple(_part_info(entry) for entry in _children(root, "Part")),
        is_truncated=_flag(root, "IsTruncated"),
        next_part_number_marker=_optional_int(root, "NextPartNumberMarker"),
    )
    if page.is_truncated and page.next_part_number_marker is None:
        raise ResponseError("the part listing is truncated but carries no <NextPartNumberMarker>")
    return page


def _part_info(entry: ET.Element) -> PartInfo:
    return PartInfo(
        part_number=_required_int(entry, "PartNumber"),
        etag=_required(entry, "ETag"),
        size=_required_int(entry, "Size"),
        last_modified=_timestamp(entry, "LastModified"),
    )


def parse_list_multipart_uploads(body: bytes) -> ListUploadsPage:
    """Parse a ListMultipartUploads (``<ListMultipartUploadsResult>``) answer.

    When the answer's ``EncodingType`` is ``url``, keys, common prefixes and the next key
    marker are percent-decoded.

    Args:
        body: the response body.

    Returns:
        The page of in-progress uploads.

    Raises:
        ResponseError: the body is not that document, an upload lacks a field, or the page
            is truncated without a ``NextKeyMarker``.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "ListMultipartUploadsResult")
    decode = _url_decoder(root)
    next_key = _optional(root, "NextKeyMarker")
    page = ListUploadsPage(
        uploads=tuple(_upload_info(entry, decode) for entry in _children(root, "Upload")),
        common_prefixes=_prefixes(root, decode),
        is_truncated=_flag(root, "IsTruncated"),
        next_key_marker=None if next_key is None else decode(next_key),
        next_upload_id_marker=_optional(root, "NextUploadIdMarker"),
    )
    if page.is_truncated and page.next_key_marker is None:
        raise ResponseError("the upload listing is truncated but carries no <NextKeyMarker>")
    return page


def _upload_info(entry: ET.Element, decode: Callable[[str], str]) -> UploadInfo:
    return UploadInfo(
        key=decode(_required(entry, "Key")),
        upload_id=_required(entry, "UploadId"),
        initiated=_timestamp(entry, "Initiated"),
    )


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
    root = _parse_document(body)
    _expect_root(root, "DeleteResult")
    return DeleteResult(
        deleted=tuple(_deleted_object(entry) for entry in _children(root, "Deleted")),
        errors=tuple(_delete_error(entry) for entry in _children(root, "Error")),
    )


def _deleted_object(entry: ET.Element) -> DeletedObject:
    return DeletedObject(key=_required(entry, "Key"), version_id=_optional(entry, "VersionId"))


def _delete_error(entry: ET.Element) -> DeleteError:
    return DeleteError(
        key=_required(entry, "Key"),
        code=_text(entry, "Code") or "",
        message=_text(entry, "Message") or "",
    )


def parse_copy_result(body: bytes) -> CopyResult:
    """Parse a CopyObject or UploadPartCopy answer (``<CopyObjectResult>``/``<CopyPartResult>``).

    Call :func:`find_error` first: this answer can be a 200 carrying an ``<Error>``.

    Args:
        body: the response body.

    Returns:
        The new ETag and modification time.

    Raises:
        ResponseError: the body is not one of those documents or lacks a field.
        TypeError: ``body`` is not bytes.
    """
    root = _parse_document(body)
    _expect_root(root, "CopyObjectResult", "CopyPartResult")
    # Servers differ on quoting a copy's ETag (RGW leaves the quotes off); keep S3's form.
    etag = f'"{strip_etag(_required(root, "ETag"))}"'
    return CopyResult(etag=etag, last_modified=_timestamp(root, "LastModified"))


def strip_etag(etag: str) -> str:
    """Return an ETag without its surrounding double quotes.

    Args:
        etag: an ETag as a server sent it, e.g. ``'"9b2cf535f27731c974343645a3985328"'``;
            a doubly escaped ``&quot;`` pair is removed as well.

    Returns:
        The bare ETag; a value without surrounding quotes is returned unchanged.

    Raises:
        TypeError: ``etag`` is not a ``str``.
    """
    if not isinstance(etag, str):
        raise TypeError(f"etag must be a str, not {type(etag).__name__}")
    for quote in ('"', "&quot;"):
        if len(etag) >= 2 * len(quote) and etag.startswith(quote) and etag.endswith(quote):
            return etag[len(quote) : -len(quote)]
    return etag


# ---------------------------------------------------------------------------------------
# Builders


def build_complete_multipart_upload(
    parts: Iterable[tuple[int, str]], *, checksums: Mapping[int, tuple[str, str]] | None = None
) -> bytes:
    """Build the CompleteMultipartUpload request body.

    Args:
        parts: ``(part_number, etag)`` pairs in strictly ascending part-number order, as
            S3 requires; ETags as the server returned them (quotes may stay).
        checksums: part number -> ``(element name, base64 value)``, e.g.
            ``("ChecksumCRC32", "...")``, for uploads that declared a checksum algorithm.

    Returns:
        The UTF-8 XML document.

    Raises:
        TypeError: a pair is not ``(int, str)``.
        ValueError: no parts, a part number outside 1..10,000, numbers not strictly
            ascending, or an ETag XML cannot carry.
    """
    checked = [_checked_part(index, part) for index, part in enumerate(parts)]
    if not checked:
        raise ValueError("a multipart upload needs at least one part")
    # Ascending numbers within 1..MAX_PARTS also bound the count to MAX_PARTS.
    _require_ascending(checked)
    extra = checksums or {}
    body = "".join(
        f"<Part><PartNumber>{number}</PartNumber>{_element('ETag', etag)}"
        f"{_element(*extra[number]) if number in extra else ''}</Part>"
        for number, etag in checked
    )
    return _document("CompleteMultipartUpload", body)


def _checked_part(index: int, part: object) -> tuple[int, str]:
    if not isinstance(part, tuple) or len(part) != 2:
        raise TypeError(f"parts[{index}] must be a (part_number, etag) tuple, got {part!r}")
    number, etag = part
    if isinstance(number, bool) or not isinstance(number, int) or not isinstance(etag, str):
        raise TypeError(f"parts[{index}] must be (int, str), got {part!r}")
    if not 1 <= number <= MAX_PARTS:
        raise ValueError(f"parts[{index}] has part number {number}; allowed are 1 to {MAX_PARTS:,}")
    if not etag:
        raise ValueError(f"parts[{index}] has an empty ETag")
    _check_xml_text(f"the ETag of parts[{index}]", etag)
    return number, etag


def _require_ascending(parts: list[tuple[int, str]]) -> None:
    for index in range(1, len(parts)):
        if parts[index][0] <= parts[index - 1][0]:
            raise ValueError(
                f"part numbers must be strictly ascending: parts[{index}] has "
                f"{parts[index][0]} after {parts[index - 1][0]}"
            )


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
    objects = "".join(f"<Object>{_element('Key', key)}</Object>" for key in checked)
    return _document("Delete", f"<Quiet>{'true' if quiet else 'false'}</Quiet>{objects}")


def _checked_key(index: int, key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"keys[{index}] must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError(f"keys[{index}] is empty")
    _check_xml_text(f"keys[{index}]", key)
    return key


def build_create_bucket_configuration(region: str) -> bytes:
    """Build the CreateBucket body that places the bucket in ``region``.

    AWS refuses a ``LocationConstraint`` of ``us-east-1``; send no body there.

    Args:
        region: the region (AWS) or zonegroup/location name (other servers).

    Returns:
        The UTF-8 XML document.

    Raises:
        TypeError: ``region`` is not a ``str``.
        ValueError: ``region`` is empty, holds whitespace or a character XML cannot carry.
    """
    if not isinstance(region, str):
        raise TypeError(f"region must be a str, not {type(region).__name__}")
    if not region or any(char.isspace() for char in region):
        raise ValueError(f"region must be a non-empty name without whitespace, got {region!r}")
    _check_xml_text("region", region)
    return _document("CreateBucketConfiguration", _element("LocationConstraint", region))


def _check_xml_text(what: str, text: str) -> None:
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise ValueError(
            f"{what} holds {bad.group()!r} at position {bad.start()}, "
            "which an XML 1.0 document cannot carry"
        )


def _element(name: str, text: str) -> str:
    return f"<{name}>{_escape(text)}</{name}>"


def _escape(text: str) -> str:
    # A raw CR would reach the server as LF (XML end-of-line normalisation), naming a
    # different key; a character reference survives.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\r", "&#13;")


def _document(root: str, content: str) -> bytes:
    return f'{_XML_DECLARATION}<{root} xmlns="{S3_NAMESPACE}">{content}</{root}>'.encode()
