"""Checks that what a client stored (or downloaded) is byte for byte what it was given.

An upload is checked twice, outside the clock: its ETag must be the MD5 of the bytes (one
PUT) or the multipart ETag of the bytes cut into parts of some size that gives the ETag's part
count, and the SHA-256 of the object read back must be the source's. A download is checked by
the SHA-256 of the file written.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

from bench.common import MiB, pattern

STREAM_BLOCK = 4 * MiB
"""``bench.source`` repeats ``pattern(STREAM_BLOCK, seed=2)``."""
SEEDS = {"large": 1, "download": 4}


@functools.lru_cache(maxsize=8)
def expected(kind: str, size: int) -> bytes:
    """The bytes a workload hands the client: ``kind`` is large, stream or download."""
    if kind == "stream":
        block = pattern(STREAM_BLOCK, seed=2)
        whole, rest = divmod(size, len(block))
        return block * whole + block[:rest]
    return pattern(size, seed=SEEDS[kind])


@functools.lru_cache(maxsize=8)
def sha256_of(kind: str, size: int) -> str:
    return hashlib.sha256(expected(kind, size)).hexdigest()


@functools.lru_cache(maxsize=64)
def multipart_etag(kind: str, size: int, part_size: int) -> str:
    """The ETag S3 gives an object of ``expected(kind, size)`` uploaded in ``part_size`` parts."""
    data = memoryview(expected(kind, size))
    digests = b"".join(
        hashlib.md5(data[offset : offset + part_size]).digest()
        for offset in range(0, size, part_size)
    )
    count = -(-size // part_size)
    return f"{hashlib.md5(digests).hexdigest()}-{count}"


COMMON_PARTS = (5 * MiB, 8 * MiB, 16 * MiB, 64 * MiB)
"""Part sizes libraries default to, tried before the others."""
MOST_TRIED = 12


def part_sizes(size: int, count: int, hints: Iterable[int]) -> list[int]:
    """Part sizes that cut ``size`` bytes into exactly ``count`` parts: the hints and the
    common defaults, then MiB multiples from 5 MiB (the S3 minimum) up; at most ``MOST_TRIED``.
    Every size from ``size`` up cuts one part alike, so one stands for them all."""
    if count == 1:
        return [size]
    candidates = [*hints, *COMMON_PARTS, *(k * MiB for k in range(5, 5 * 1024))]
    seen: list[int] = []
    for part in candidates:
        if part > 0 and -(-size // part) == count and part not in seen:
            seen.append(part)
            if len(seen) == MOST_TRIED:
                break
    return seen


def etag_of_cut(kind: str, size: int, part_lengths: Iterable[int]) -> str:
    """The multipart ETag of the expected bytes cut into parts of the given lengths."""
    data = memoryview(expected(kind, size))
    digests, offset, count = b"", 0, 0
    for length in part_lengths:
        digests += hashlib.md5(data[offset : offset + length]).digest()
        offset, count = offset + length, count + 1
    return f"{hashlib.md5(digests).hexdigest()}-{count}"


def part_count(etag: str) -> int:
    """The part count of a multipart ETag, 0 for a single PUT's."""
    bare = etag.strip('"')
    tail = bare.rsplit("-", 1)[1] if "-" in bare else ""
    return int(tail) if tail.isdigit() else 0


def etag_problem(
    etag: str, kind: str, size: int, hints: Iterable[int] = (),
    part_lengths: Iterable[int] | None = None,
) -> str | None:
    """Why ``etag`` is not the ETag of the expected bytes, or ``None`` if it is.

    ``part_lengths``: the parts' lengths as the server reports them (``HEAD ?partNumber=``),
    for clients whose parts are not all one size; else uniform cuts are tried."""
    if part_lengths is not None:
        lengths = list(part_lengths)
        if sum(lengths) == size and etag_of_cut(kind, size, lengths) == etag.strip('"'):
            return None
        return (f"ETag {etag} is not the multipart ETag of the bytes sent, cut as stored "
                f"(part lengths {lengths})")
    bare = etag.strip('"')
    if "-" not in bare:
        if bare == hashlib.md5(expected(kind, size)).hexdigest():
            return None
        return f"ETag {etag} is not the MD5 of the bytes sent"
    try:
        count = int(bare.rsplit("-", 1)[1])
    except ValueError:
        return f"ETag {etag} is neither an MD5 nor a multipart ETag"
    for part in part_sizes(size, count, hints):
        if multipart_etag(kind, size, part) == bare:
            return None
    return f"ETag {etag} matches no cut of the bytes sent into {count} parts"
