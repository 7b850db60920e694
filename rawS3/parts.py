"""Multipart arithmetic: part sizes within S3's limits, and the ETags parts add up to.

S3 limits (documented): every part but the last is 5 MiB to 5 GiB, at most 10,000 parts,
an object at most 5 TiB. When the total is known one part size is chosen up front; when it
is not, part sizes grow with the part number so that even a 5 TiB stream fits in 10,000 parts
while the first parts (and so every ordinary upload) keep the size that was asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from rawS3.errors import IntegrityError
from rawS3.validation import check_positive_int
from rawS3.xml import strip_etag

__all__ = [
    "DEFAULT_PART_SIZE",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "PARTS_PER_SIZE_STEP",
    "capacity",
    "check_part_size",
    "is_whole_immutable_part",
    "multipart_etag",
    "part_size_at",
    "part_size_for_total",
    "split",
    "verified_etag",
]

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB
DEFAULT_PART_SIZE = 8 * MiB
# After this many parts of one size the size doubles. 900 rather than 1000 so that even
# 5 MiB parts reach 5 TiB before part 10,000 (1000 would stop at about 4.9 TiB).
PARTS_PER_SIZE_STEP = 900


def check_part_size(part_size: object) -> int:
    """Return ``part_size`` if S3 accepts parts of that size (5 MiB to 5 GiB).

    Args:
        part_size: bytes per part.

    Returns:
        ``part_size`` unchanged.

    Raises:
        TypeError: not an ``int``.
        ValueError: out of range.
    """
    return check_positive_int("part_size", part_size, minimum=MIN_PART_SIZE, maximum=MAX_PART_SIZE)


def part_size_for_total(total: int, part_size: int) -> int:
    """Return the part size to use for an object of ``total`` bytes.

    ``part_size`` is kept when ``total`` fits in 10,000 parts of it; otherwise the smallest
    whole number of MiB that fits is returned.

    Args:
        total: the object's size in bytes.
        part_size: the part size asked for.

    Returns:
        The part size in bytes.

    Raises:
        TypeError: ``total`` is not an ``int``.
        ValueError: ``total`` is negative or exceeds S3's 5 TiB object limit.
    """
    check_positive_int("size", total, minimum=0, maximum=MAX_OBJECT_SIZE)
    needed = -(-total // MAX_PARTS)
    if needed <= part_size:
        return part_size
    return -(-needed // MiB) * MiB


def part_size_at(part_number: int, base: int) -> int:
    """Return the size of part ``part_number`` (1-based) of a stream of unknown length.

    Args:
        part_number: the part's number, from 1.
        base: the size of the first parts.

    Returns:
        ``base``, doubled once for every ``PARTS_PER_SIZE_STEP`` parts before this one,
        capped at 5 GiB.
    """
    step = (part_number - 1) // PARTS_PER_SIZE_STEP
    return min(MAX_PART_SIZE, base << step)


def capacity(base: int, parts: int = MAX_PARTS) -> int:
    """Return how many bytes ``parts`` parts hold when sizes grow as ``part_size_at`` says.

    Args:
        base: the size of the first parts.
        parts: how many parts (S3's limit of 10,000 by default).

    Returns:
        The total size in bytes.
    """
    return sum(part_size_at(number, base) for number in range(1, parts + 1))


def split(total: int, part_size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(offset, length)`` for each part of a ``total``-byte object; none when empty.

    Args:
        total: the object's size in bytes.
        part_size: bytes per part; the last part holds the rest.

    Yields:
        The part's offset in the object and its length, in order.
    """
    for offset in range(0, total, part_size):
        yield offset, min(part_size, total - offset)


def multipart_etag(part_md5_digests: Iterable[bytes]) -> str:
    """Return the ETag S3 gives a completed multipart upload: ``md5(md5s)-N``, unquoted.

    Args:
        part_md5_digests: the 16-byte MD5 digest of each part, in part-number order.

    Returns:
        The hex MD5 of the concatenated digests, ``-`` and the number of parts.
    """
    digests = list(part_md5_digests)
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def is_whole_immutable_part(view: memoryview, size: int) -> bool:
    """Tell whether ``view`` may be sent without a copy: the whole of a ``bytes`` of one part.

    ``bytes`` cannot change after ``write`` returns, and a view of exactly one whole
    ``bytes`` keeps nothing alive beyond the part itself (a slice would keep its whole source
    chunk, and a read-only view of a ``bytearray`` can still change under the part task).

    Args:
        view: the data handed to ``MultipartUploader.write``.
        size: the size of the part it would become.

    Returns:
        Whether it is exactly one whole ``bytes`` object of ``size`` bytes.
    """
    source = view.obj
    return isinstance(source, bytes) and len(source) == size == view.nbytes


_MD5_HEX = re.compile(r"[0-9a-f]{32}")


def verified_etag(etag: str, part_etags: Iterable[str], where: str) -> str:
    """Check a completed upload's ETag against the one its parts' ETags make.

    RGW's first Complete answer carries an empty ETag: the parts determine it anyway, and it
    is filled in. Part ETags that are not MD5s (SSE-KMS, SSE-C) prove nothing: the server's
    ETag is then kept as it is.

    Args:
        etag: the ETag Complete answered, quoted or not, possibly empty.
        part_etags: the parts' ETags, in part-number order.
        where: ``bucket/key``, for the error.

    Returns:
        The object's ETag, quoted.

    Raises:
        IntegrityError: the server's ETag is not the one the parts make.
    """
    digests = [strip_etag(part).lower() for part in part_etags]
    if not all(_MD5_HEX.fullmatch(part) for part in digests):
        return etag
    expected = multipart_etag(bytes.fromhex(part) for part in digests)
    got = strip_etag(etag)
    if got and got != expected:
        raise IntegrityError(f"ETag {etag} of {where}; the parts sent make {expected}")
    return etag if got else f'"{expected}"'
