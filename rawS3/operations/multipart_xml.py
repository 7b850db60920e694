"""The documents of the multipart operations: their answers as frozen values, and the
CompleteMultipartUpload body."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rawS3.errors import ResponseError
from rawS3.xml import Node, check_xml_text, document, element

__all__ = [
    "MAX_PARTS",
    "CompleteResult",
    "InitiateResult",
    "ListPartsPage",
    "ListUploadsPage",
    "PartInfo",
    "UploadInfo",
    "build_complete_multipart_upload",
    "parse_complete_multipart_upload",
    "parse_initiate_multipart_upload",
    "parse_list_multipart_uploads",
    "parse_list_parts",
]

MAX_PARTS = 10000


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
        f"<Part><PartNumber>{number}</PartNumber>{element('ETag', etag)}"
        f"{element(*extra[number]) if number in extra else ''}</Part>"
        for number, etag in checked
    )
    return document("CompleteMultipartUpload", body)


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
    check_xml_text(f"the ETag of parts[{index}]", etag)
    return number, etag


def _require_ascending(parts: list[tuple[int, str]]) -> None:
    for index in range(1, len(parts)):
        if parts[index][0] <= parts[index - 1][0]:
            raise ValueError(
                f"part numbers must be strictly ascending: parts[{index}] has "
                f"{parts[index][0]} after {parts[index - 1][0]}"
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
    root = Node.parse(body, "InitiateMultipartUploadResult")
    upload_id = root.required("UploadId")
    if not upload_id:
        raise ResponseError("the <UploadId> of the new multipart upload is empty")
    return InitiateResult(
        bucket=root.required("Bucket"), key=root.required("Key"), upload_id=upload_id
    )


def parse_complete_multipart_upload(body: bytes) -> CompleteResult:
    """Parse a CompleteMultipartUpload (``<CompleteMultipartUploadResult>``) answer.

    Call :func:`rawS3.xml.find_error` first: this answer can be a 200 carrying an ``<Error>``.

    Args:
        body: the response body.

    Returns:
        The location (if sent), bucket, key and ETag of the assembled object.

    Raises:
        ResponseError: the body is not that document or lacks a field.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body, "CompleteMultipartUploadResult")
    return CompleteResult(
        location=root.optional("Location"),
        bucket=root.required("Bucket"),
        key=root.required("Key"),
        etag=root.required("ETag"),
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
    # moto names the root ListPartsResponse; the content is the same.
    root = Node.parse(body, "ListPartsResult", "ListPartsResponse")
    page = ListPartsPage(
        parts=tuple(
            PartInfo(
                part_number=entry.integer("PartNumber"),
                etag=entry.required("ETag"),
                size=entry.integer("Size"),
                last_modified=entry.timestamp("LastModified"),
            )
            for entry in root.children("Part")
        ),
        is_truncated=root.flag("IsTruncated"),
        next_part_number_marker=root.optional_integer("NextPartNumberMarker"),
    )
    if page.is_truncated and page.next_part_number_marker is None:
        raise ResponseError("the part listing is truncated but carries no <NextPartNumberMarker>")
    return page


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
    root = Node.parse(body, "ListMultipartUploadsResult")
    decode = root.url_decoder()
    next_key = root.optional("NextKeyMarker")
    page = ListUploadsPage(
        uploads=tuple(
            UploadInfo(
                key=decode(entry.required("Key")),
                upload_id=entry.required("UploadId"),
                initiated=entry.timestamp("Initiated"),
            )
            for entry in root.children("Upload")
        ),
        common_prefixes=root.prefixes(decode),
        is_truncated=root.flag("IsTruncated"),
        next_key_marker=None if next_key is None else decode(next_key),
        next_upload_id_marker=root.optional("NextUploadIdMarker"),
    )
    if page.is_truncated and page.next_key_marker is None:
        raise ResponseError("the upload listing is truncated but carries no <NextKeyMarker>")
    return page
