"""The object checksum of a multipart upload: what Create declares, Complete sends and checks.

S3 offers two kinds, declared with ``x-amz-checksum-type`` on CreateMultipartUpload:

- ``COMPOSITE``: the checksum of the parts' binary checksums, concatenated in part order,
  reported as ``value-N``; any algorithm.
- ``FULL_OBJECT``: the CRC of the whole object, as if it had been sent in one piece; CRCs only.
  rawS3 combines it from the part CRCs and sizes (``rawS3.crc.combine``) and sends it on
  Complete, so the server can compare it with its own, and the data is never read twice.

Either way, a value the server reports in the Complete answer is compared with the one the
parts make: a difference is corruption (``IntegrityError``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rawS3.checksums import (
    CHECKSUM_ALGORITHMS,
    checksum_element,
    checksum_header,
    composite_checksum,
    full_object_checksum,
)
from rawS3.errors import IntegrityError, ResponseError
from rawS3.results import UploadedPart
from rawS3.xml import Node

__all__ = [
    "check_reported_checksum",
    "complete_checksum_headers",
    "create_checksum_headers",
    "object_checksum",
    "reported_checksum",
]


def create_checksum_headers(algorithm: str | None, checksum_type: str | None) -> dict[str, str]:
    """The CreateMultipartUpload headers that declare the upload's checksum.

    Args:
        algorithm: the algorithm every part carries, or ``None``.
        checksum_type: ``"COMPOSITE"``, ``"FULL_OBJECT"``, or ``None`` to declare no type.

    Returns:
        ``x-amz-checksum-algorithm`` (and ``x-amz-checksum-type``), or nothing.
    """
    if algorithm is None:
        return {}
    headers = {"x-amz-checksum-algorithm": algorithm.upper()}
    if checksum_type is not None:
        headers["x-amz-checksum-type"] = checksum_type
    return headers


def object_checksum(
    parts: Sequence[UploadedPart], checksum_type: str | None
) -> tuple[str, str] | None:
    """The object checksum the parts make, if every part carries one of the same algorithm.

    Args:
        parts: the parts, in part-number order.
        checksum_type: ``"COMPOSITE"`` or ``"FULL_OBJECT"``; ``None`` means none is wanted.

    Returns:
        ``(algorithm, value)``: a COMPOSITE value ends in ``-N``. ``None`` when no type is
        wanted or a part has no checksum.

    Raises:
        ValueError: parts with different algorithms, or FULL_OBJECT with a hash.
    """
    if checksum_type is None or not parts or any(p.checksum is None for p in parts):
        return None
    algorithms = {p.checksum[0] for p in parts if p.checksum is not None}
    if len(algorithms) != 1:
        raise ValueError(f"the parts carry different checksum algorithms: {sorted(algorithms)}")
    algorithm = algorithms.pop()
    values = [p.checksum[1] for p in parts if p.checksum is not None]
    if checksum_type == "FULL_OBJECT":
        sizes = [p.size for p in parts]
        return algorithm, full_object_checksum(algorithm, zip(values, sizes, strict=True))
    return algorithm, composite_checksum(algorithm, values)


def complete_checksum_headers(
    expected: tuple[str, str] | None, checksum_type: str | None
) -> dict[str, str]:
    """The CompleteMultipartUpload headers that state the object checksum.

    Args:
        expected: what ``object_checksum`` gave, or ``None``.
        checksum_type: the upload's type.

    Returns:
        For FULL_OBJECT, the type and the whole object's CRC, for the server to compare; for
        COMPOSITE the type only (its value is reported back, then compared here).
    """
    if expected is None or checksum_type is None:
        return {}
    headers = {"x-amz-checksum-type": checksum_type}
    if checksum_type == "FULL_OBJECT":
        headers[checksum_header(expected[0])] = expected[1]
    return headers


def reported_checksum(body: bytes) -> tuple[str, str] | None:
    """The object checksum a CompleteMultipartUpload answer reports, if any.

    Args:
        body: the answer's ``<CompleteMultipartUploadResult>`` document.

    Returns:
        ``(algorithm, value)`` as reported, or ``None``.
    """
    try:
        root = Node.parse(body, "CompleteMultipartUploadResult")
    except ResponseError:
        return None
    for algorithm in CHECKSUM_ALGORITHMS:
        value = root.optional(checksum_element(algorithm))
        if value:
            return algorithm, value.strip()
    return None


def check_reported_checksum(
    reported: tuple[str, str] | None, expected: tuple[str, str] | None, what: str
) -> None:
    """Compare the object checksum a server reported with the one the parts make.

    Only the value is compared, not a ``-N`` suffix (servers differ in adding it).

    Args:
        reported: what the server reported, or ``None`` (nothing to compare).
        expected: what ``object_checksum`` gave, or ``None``.
        what: names the object in the message.

    Raises:
        IntegrityError: the server reports another value for the same algorithm.
    """
    if reported is None or expected is None or reported[0] != expected[0]:
        return
    got, want = reported[1].partition("-")[0], expected[1].partition("-")[0]
    if got != want:
        raise IntegrityError(
            f"the server reports {reported[0]} {reported[1]} for {what}; "
            f"the parts sent make {expected[1]}",
            expected=expected[1],
            actual=reported[1],
        )
