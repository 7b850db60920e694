"""Default part sizes and parts in flight for a transfer whose size is known. Pure.

On a real network one connection is capped (by its round trip and per-connection limits), so
a transfer is only as fast as the number of parts it has in flight. A fixed 8 MiB part size
cuts a 64 MiB object into 8 parts: whatever the concurrency, no more than 8 connections can
work. These functions spread an object of known size over the connections a transfer may
use, within bounds that keep small objects cheap and memory bounded:

- downloads: ``download_part_size`` cuts the object into at most ``concurrency`` ranges, each
  at least ``DOWNLOAD_MIN_PART`` (one range costs a request and a first-byte wait, which on
  loopback is worth about 1 MiB of transfer) and at most ``DOWNLOAD_MAX_PART``;
- uploads of a file: ``upload_plan`` picks parts of at least S3's 5 MiB minimum, at most
  8 MiB unless 10,000 parts need more, and as many parts in flight as the memory budget holds
  (``DEFAULT_MAX_MEMORY`` when the caller sets none).
"""

from __future__ import annotations

from dataclasses import dataclass

from rawS3.concurrency import DEFAULT_MAXIMUM, AdaptiveConcurrency, bound_for_memory
from rawS3.parts import DEFAULT_PART_SIZE, MIN_PART_SIZE, MiB, part_size_for_total
from rawS3.validation import check_positive_int

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "DOWNLOAD_MAX_PART",
    "DOWNLOAD_MIN_PART",
    "MD5_CHECKED_MAX",
    "MIN_PARTS_IN_FLIGHT",
    "SPREAD_PARTS",
    "UploadPlan",
    "default_budget",
    "download_part_size",
    "stream_limits",
    "upload_part_size",
    "upload_plan",
]

DOWNLOAD_MIN_PART = 1 * MiB
DOWNLOAD_MAX_PART = DEFAULT_PART_SIZE
# A download of at most this many bytes has its MD5 checked (where its ETag is one) even when
# its ranges come out of order: reading the finished 8 MiB file back costs ~15 ms here, while
# for larger objects a second pass would cost a large share of the transfer itself.
MD5_CHECKED_MAX = DOWNLOAD_MAX_PART
# Part data an upload may hold when the caller sets no max_memory: 16 parts of 8 MiB.
DEFAULT_MAX_MEMORY = 128 * MiB
# Without a budget of their own, parts so large (files above ~312 GiB) that 128 MiB holds
# fewer than this many still get this many in flight: one part at a time would crawl.
MIN_PARTS_IN_FLIGHT = 4
# A file is cut into this many parts when they can be 5 to 8 MiB: as many as the default budget
# holds in flight, and as many as an adaptive limit reaches (``concurrency.DEFAULT_MAXIMUM``).
SPREAD_PARTS = 16


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def download_part_size(size: int, concurrency: int) -> int:
    """Return the bytes per ranged GET that spread ``size`` bytes over ``concurrency`` ranges.

    Args:
        size: the object's size, 0 or more.
        concurrency: ranges in flight, 1 or more.

    Returns:
        ``ceil(size / concurrency)`` kept within ``DOWNLOAD_MIN_PART`` and
        ``DOWNLOAD_MAX_PART``: an object of at most ``concurrency × DOWNLOAD_MAX_PART`` bytes
        is cut into at most ``concurrency`` ranges, and none is smaller than 1 MiB (but the
        last).

    Raises:
        ValueError: a negative size or a concurrency below 1.
    """
    if size < 0 or concurrency < 1:
        raise ValueError(f"cannot spread {size} bytes over {concurrency} ranges")
    return min(DOWNLOAD_MAX_PART, max(DOWNLOAD_MIN_PART, _ceil_div(size, concurrency)))


def default_budget(part_size: int) -> int:
    """Return the memory budget of an upload whose caller set no ``max_memory``.

    Args:
        part_size: bytes per part.

    Returns:
        ``DEFAULT_MAX_MEMORY``, or ``MIN_PARTS_IN_FLIGHT`` parts when that is more.
    """
    return max(DEFAULT_MAX_MEMORY, MIN_PARTS_IN_FLIGHT * part_size)


def upload_part_size(size: int) -> int:
    """Return the default part size of a file of ``size`` bytes.

    It depends on the size alone, so an upload resumed with other settings cuts the file as
    the first attempt did.

    Args:
        size: the file's size, 0 or more.

    Returns:
        8 MiB for a file of at most 8 MiB (one part: one PutObject); above,
        ``ceil(size / SPREAD_PARTS)`` kept within S3's 5 MiB minimum and 8 MiB: a file of up
        to 128 MiB is cut into at most 16 parts (fewer when parts would be under 5 MiB).
    """
    if size <= DEFAULT_PART_SIZE:
        return DEFAULT_PART_SIZE  # one PutObject: fewer round trips than Create, parts, Complete
    return min(DEFAULT_PART_SIZE, max(MIN_PART_SIZE, _ceil_div(size, SPREAD_PARTS)))


@dataclass(frozen=True)
class UploadPlan:
    """How a file of known size is sent.

    Attributes:
        part_size: bytes per part (the last one may be shorter).
        parts: how many parts.
        maximum: parts in flight at most (within the memory budget).
        start: parts in flight at first; an adaptive limit grows from here up to ``maximum``.
    """

    part_size: int
    parts: int
    maximum: int
    start: int


def upload_plan(
    size: int, *, part_size: int | None, max_memory: int | None, maximum: int, start: int
) -> UploadPlan:
    """Choose the part size and parts in flight for an upload of ``size`` bytes.

    Without a ``part_size`` of the caller's, the part size is ``upload_part_size(size)``; a
    file with no more parts than ``maximum`` and the budget allow in flight sends them all at
    once. Either size is grown to fit 10,000 parts.

    Args:
        size: the file's size, 0 to 5 TiB.
        part_size: the caller's part size, or ``None`` to choose one.
        max_memory: the caller's budget for part data, or ``None`` for ``default_budget``.
        maximum: parts in flight at most before the budget (e.g. 16).
        start: the first limit of an adaptive controller for a file with more parts than
            fit in flight.

    Returns:
        The plan; ``start`` is ``maximum`` when every part fits in flight at once.

    Raises:
        ValueError: ``max_memory`` cannot hold one part.
    """
    asked = upload_part_size(size) if part_size is None else part_size
    part_size = part_size_for_total(size, asked)
    budget = default_budget(part_size) if max_memory is None else max_memory
    if budget < part_size:
        raise ValueError(
            f"max_memory={budget:,} cannot hold one part of {part_size:,} bytes; "
            "raise it or lower part_size"
        )
    bound = min(maximum, budget // part_size)
    parts = max(1, _ceil_div(size, part_size))
    first = bound if parts <= bound else min(bound, start)
    return UploadPlan(part_size, parts, bound, first)


def stream_limits(
    part_size: int, concurrency: object, max_memory: int | None, size: int | None, *, start: int
) -> tuple[AdaptiveConcurrency, int | None]:
    """Return a stream upload's controller of parts in flight and its memory budget.

    Args:
        part_size: bytes per part.
        concurrency: a number of parts (the controller is then settled at it, lowered to fit
            ``max_memory``), or ``"auto"``.
        max_memory: the caller's budget for part data, or ``None``.
        size: the object's size if known (or a lower bound of it), else ``None``.
        start: where ``"auto"`` starts when not every part fits in flight.

    Returns:
        The controller, and the budget kept to (``None`` for a number without
        ``max_memory``).

    Raises:
        TypeError, ValueError: a bad ``concurrency`` or ``max_memory``, or one that cannot
            hold a part.
    """
    if concurrency != "auto":
        if isinstance(concurrency, str):
            raise ValueError(f"concurrency must be an int or 'auto', got {concurrency!r}")
        fixed = check_positive_int("concurrency", concurrency, maximum=1000)
        limit = bound_for_memory(part_size, max_memory, fixed)
        # A budget given with a number still holds where a long stream's parts grow.
        return AdaptiveConcurrency(start=limit, maximum=limit), max_memory
    budget = default_budget(part_size) if max_memory is None else max_memory
    maximum = bound_for_memory(part_size, budget, DEFAULT_MAXIMUM)
    parts = _ceil_div(size, part_size) if size is not None else maximum + 1
    first = maximum if parts <= maximum else start
    return AdaptiveConcurrency(start=first, maximum=maximum), budget
