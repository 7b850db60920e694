"""Multipart operations: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts and
ListMultipartUploads, and what a Create that failed may have left behind. Their documents are
in ``rawS3.operations.multipart_xml``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rawS3.bodies import DEFAULT_CHUNK_SIZE, BufferBody
from rawS3.checksums import check_algorithm, check_checksum_type, checksum_element
from rawS3.errors import RawS3Error, ResponseError, S3Error
from rawS3.operations.multipart_checksums import (
    complete_checksum_headers,
    create_checksum_headers,
    object_checksum,
    reported_checksum,
)
from rawS3.operations.multipart_xml import (
    MAX_PARTS,
    build_complete_multipart_upload,
    parse_complete_multipart_upload,
    parse_initiate_multipart_upload,
)
from rawS3.operations.objects import put_body
from rawS3.operations.request import (
    Query,
    Reply,
    Request,
    check_echoed_checksum,
    check_etag,
    copy_source,
    object_headers,
    range_header,
)
from rawS3.results import PutResult, UploadedPart
from rawS3.validation import (
    check_bucket,
    check_buffer,
    check_key,
    check_positive_int,
    check_upload_id,
)

__all__ = [
    "LostCreates",
    "abort_multipart_upload",
    "complete_multipart_upload",
    "create_multipart_upload",
    "list_multipart_uploads",
    "list_parts",
    "read_complete",
    "read_upload_part",
    "upload_part",
    "upload_part_copy",
]



@dataclass
class LostCreates:
    """What a CreateMultipartUpload call knows of uploads it may have started unseen.

    Attributes:
        bucket: the upload's bucket.
        key: the upload's key.
        since: when the first attempt was signed.
        possible: whether an attempt may have created an upload whose id never arrived.
    """

    bucket: str
    key: str
    since: datetime
    possible: bool = False

    def record(self, failure: RawS3Error) -> None:
        """Note a failed attempt: a 4xx refusal created nothing, anything else may have.

        Args:
            failure: the attempt's error.
        """
        if not (isinstance(failure, S3Error) and 400 <= failure.status < 500):
            self.possible = True

    def read(self, reply: Reply) -> str:
        """Return the upload id of a Create answer; an unreadable one may hide an upload.

        Args:
            reply: the answer.

        Returns:
            The upload id.

        Raises:
            ResponseError: the answer is not a Create result.
        """
        try:
            return parse_initiate_multipart_upload(reply.body).upload_id
        except ResponseError:
            self.possible = True
            raise


def create_multipart_upload(
    bucket: str,
    key: str,
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    checksum: str | None,
    checksum_type: str | None = None,
) -> Request:
    """Build a CreateMultipartUpload (retried on a late answer: the caller cleans up).

    Args:
        bucket: the bucket.
        key: the object's key.
        content_type: stored with the object.
        metadata: user metadata.
        checksum: the algorithm every part will carry, or ``None``.
        checksum_type: ``"COMPOSITE"`` or ``"FULL_OBJECT"`` to declare the object
            checksum's type (``x-amz-checksum-type``); ``None`` declares none.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    headers = object_headers(content_type, metadata, None)
    algorithm = check_algorithm(checksum)
    if checksum_type is not None:
        check_checksum_type(checksum_type, algorithm)
    headers.update(create_checksum_headers(algorithm, checksum_type))
    query: Query = (("uploads", None),)
    target = check_bucket(bucket), check_key(key)
    return Request("POST", *target, query=query, headers=headers, retry_timeouts=True)


def upload_part(
    bucket: str,
    key: str,
    upload_id: str,
    part_number: int,
    data: object,
    *,
    sign: bool,
    md5: bool,
    checksum: str | None,
    size: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Request:
    """Build an UploadPart.

    Args:
        bucket: the bucket.
        key: the object's key.
        upload_id: the upload.
        part_number: 1 to 10,000.
        data: the part's bytes, any contiguous buffer, or an async iterable of exactly
            ``size`` bytes, streamed as aws-chunked frames (with ``checksum``, in a trailer).
        sign: put the part's SHA-256 in the signature (for a stream: sign its frames).
        md5: send ``Content-MD5`` (buffers only).
        checksum: an ``x-amz-checksum-*`` algorithm, or ``None``.
        size: the exact size of an iterable ``data``.
        chunk_size: the aws-chunked frame size for an iterable ``data``.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    check_positive_int("part_number", part_number, maximum=MAX_PARTS)
    query = (("partNumber", str(part_number)), ("uploadId", check_upload_id(upload_id)))
    algorithm = check_algorithm(checksum)
    if hasattr(data, "__aiter__"):
        body = put_body(
            data, size=size, sign=sign, md5=False, checksum=algorithm, chunk_size=chunk_size
        )
    else:
        body = BufferBody(check_buffer("data", data), sign=sign, md5=md5, checksum=algorithm)
    return Request("PUT", check_bucket(bucket), check_key(key), query=query, body=body)


def read_upload_part(reply: Reply, request: Request) -> UploadedPart:
    """Read an UploadPart answer, checking the ETag and any echoed checksum.

    Args:
        reply: the answer.
        request: what :func:`upload_part` built.

    Returns:
        The part as Complete takes it.

    Raises:
        IntegrityError: the server reports other bytes than those sent.
    """
    body, bucket, key = request.body, request.bucket or "", request.key or ""
    assert body is not None
    check_etag(reply.headers, body.md5, bucket, key)
    check_echoed_checksum(reply.headers, body.checksum, bucket, key)
    number = int(dict(request.query)["partNumber"] or 0)
    return UploadedPart(number, reply.headers.get("ETag", ""), body.size, body.checksum)


def upload_part_copy(
    bucket: str,
    key: str,
    upload_id: str,
    part_number: int,
    source: tuple[str, str],
    *,
    start: int | None,
    end: int | None,
) -> Request:
    """Build an UploadPartCopy of an object, or of its inclusive range ``start``..``end``.

    Args:
        bucket: the bucket.
        key: the object's key.
        upload_id: the upload.
        part_number: 1 to 10,000.
        source: ``(bucket, key)`` of the object to copy from.
        start: the source's first byte, with ``end``.
        end: the source's last byte, inclusive, with ``start``.

    Returns:
        The request (a 200 may still carry an error).

    Raises:
        TypeError, ValueError: bad arguments, e.g. only one of ``start`` and ``end``.
    """
    check_positive_int("part_number", part_number, maximum=MAX_PARTS)
    headers = {"x-amz-copy-source": copy_source(check_bucket(source[0]), check_key(source[1]))}
    query = (("partNumber", str(part_number)), ("uploadId", check_upload_id(upload_id)))
    if (start is None) != (end is None):
        raise ValueError("upload_part_copy takes start and end together (a closed range)")
    if start is not None:
        headers["x-amz-copy-source-range"] = range_header(start, end)
    target = check_bucket(bucket), check_key(key)
    return Request("PUT", *target, query=query, headers=headers, embedded_errors=True)


def complete_multipart_upload(
    bucket: str,
    key: str,
    upload_id: str,
    parts: Iterable[object],
    *,
    checksum_type: str | None = None,
) -> tuple[Request, list[UploadedPart]]:
    """Build a CompleteMultipartUpload of ``parts`` (in any order; sent in ascending order).

    Args:
        bucket: the bucket.
        key: the object's key.
        upload_id: the upload.
        parts: what UploadPart gave for each part.
        checksum_type: the type declared at creation; with it, the object checksum the
            parts make is stated (FULL_OBJECT: the combined CRC is sent for the server to
            compare; see ``rawS3.operations.multipart_checksums``).

    Returns:
        The request, and the parts in part-number order.

    Raises:
        TypeError: a part is not an ``UploadedPart``.
        ValueError: no parts, a number given twice, bad names, or parts whose checksums
            cannot make the ``checksum_type`` asked for.
    """
    check_bucket(bucket)
    check_key(key)
    query = (("uploadId", check_upload_id(upload_id)),)
    ordered = sorted(_uploaded_parts(parts), key=lambda part: part.part_number)
    if checksum_type is not None and checksum_type not in ("COMPOSITE", "FULL_OBJECT"):
        raise ValueError("checksum_type must be 'COMPOSITE', 'FULL_OBJECT' or None")
    expected = object_checksum(ordered, checksum_type)
    headers = complete_checksum_headers(expected, checksum_type)
    checksums = {
        p.part_number: (checksum_element(p.checksum[0]), p.checksum[1])
        for p in ordered
        if p.checksum is not None
    }
    xml = build_complete_multipart_upload(
        ((p.part_number, p.etag) for p in ordered), checksums=checksums
    )
    body = BufferBody(xml, sign=True, md5=False)
    request = Request(
        "POST", bucket, key, query=query, headers=headers, body=body, embedded_errors=True
    )
    return request, ordered


def read_complete(reply: Reply, parts: list[UploadedPart]) -> PutResult:
    """Read a CompleteMultipartUpload answer.

    Args:
        reply: the answer.
        parts: the parts completed, in order.

    Returns:
        The object's ETag as the server sent it, version id, part count, size, and the
        object checksum the server reports (if any).

    Raises:
        ResponseError: the answer is not a Complete result.
    """
    result = parse_complete_multipart_upload(reply.body)
    size = sum(p.size for p in parts)
    version = reply.headers.get("x-amz-version-id")
    return PutResult(result.etag, version, len(parts), size, reported_checksum(reply.body))


def _uploaded_parts(parts: Iterable[object]) -> list[UploadedPart]:
    checked: list[UploadedPart] = []
    for index, part in enumerate(parts):
        if not isinstance(part, UploadedPart):
            raise TypeError(
                f"parts[{index}] must be an UploadedPart (as upload_part returns), "
                f"not {type(part).__name__}"
            )
        checked.append(part)
    return checked


def abort_multipart_upload(bucket: str, key: str, upload_id: str) -> Request:
    """Build an AbortMultipartUpload.

    Args:
        bucket: the bucket.
        key: the object's key.
        upload_id: the upload.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    query = (("uploadId", check_upload_id(upload_id)),)
    target = check_bucket(bucket), check_key(key)
    return Request("DELETE", *target, query=query, ok=frozenset({204, 200}))


def list_parts(bucket: str, key: str, upload_id: str, *, marker: int) -> Request:
    """Build one ListParts request, starting after part ``marker``.

    Args:
        bucket: the bucket.
        key: the object's key.
        upload_id: the upload.
        marker: the last part number of the previous page (0 first).

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    query = (("part-number-marker", str(marker)), ("uploadId", check_upload_id(upload_id)))
    return Request("GET", check_bucket(bucket), check_key(key), query=query)


def list_multipart_uploads(bucket: str, *, prefix: str | None, markers: Query) -> Request:
    """Build one ListMultipartUploads request.

    Args:
        bucket: the bucket.
        prefix: only uploads of keys that start with this.
        markers: the key and upload-id markers of the previous page, if any.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad bucket name.
    """
    query: Query = (("uploads", None),) + ((("prefix", prefix),) if prefix else ()) + markers
    return Request("GET", check_bucket(bucket), query=query)


