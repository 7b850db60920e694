"""Part planning: sizes within S3's limits, growth for streams of unknown length, ETags."""

from __future__ import annotations

import hashlib

import pytest

from rawS3.parts import (
    DEFAULT_PART_SIZE,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    PARTS_PER_SIZE_STEP,
    capacity,
    check_part_size,
    multipart_etag,
    part_size_at,
    part_size_for_total,
    split,
)

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB


def test_limits_are_s3s() -> None:
    limits = (MIN_PART_SIZE, MAX_PART_SIZE, MAX_PARTS, MAX_OBJECT_SIZE)
    assert limits == (5 * MiB, 5 * GiB, 10_000, 5 * TiB)
    assert MIN_PART_SIZE <= DEFAULT_PART_SIZE <= MAX_PART_SIZE


@pytest.mark.parametrize("size", [MIN_PART_SIZE, 8 * MiB, MAX_PART_SIZE])
def test_check_part_size_accepts_s3_range(size: int) -> None:
    assert check_part_size(size) == size


@pytest.mark.parametrize("size", [0, 1, MIN_PART_SIZE - 1, MAX_PART_SIZE + 1, -MIN_PART_SIZE])
def test_check_part_size_refuses_out_of_range(size: int) -> None:
    with pytest.raises(ValueError, match="part_size"):
        check_part_size(size)


@pytest.mark.parametrize("size", [5.0 * MiB, "8388608", None, True])
def test_check_part_size_refuses_non_int(size: object) -> None:
    with pytest.raises(TypeError, match="part_size"):
        check_part_size(size)


# -- part_size_for_total --------------------------------------------------------------------


@pytest.mark.parametrize(
    "total",
    [0, 1, DEFAULT_PART_SIZE, MAX_PARTS * DEFAULT_PART_SIZE - 1, MAX_PARTS * DEFAULT_PART_SIZE],
)
def test_part_size_kept_when_the_total_fits(total: int) -> None:
    assert part_size_for_total(total, DEFAULT_PART_SIZE) == DEFAULT_PART_SIZE


def test_part_size_grows_to_whole_mib_just_past_the_limit() -> None:
    total = MAX_PARTS * DEFAULT_PART_SIZE + 1
    # ceil(total / 10,000) is 8 MiB + 1 byte, rounded up to the next whole MiB.
    assert part_size_for_total(total, DEFAULT_PART_SIZE) == 9 * MiB


@pytest.mark.parametrize(
    "total",
    [
        MAX_PARTS * MIN_PART_SIZE + 1,
        100 * GiB,
        TiB + 12345,
        3 * TiB - 1,
        MAX_OBJECT_SIZE,
    ],
)
def test_grown_part_size_fits_in_10000_parts(total: int) -> None:
    size = part_size_for_total(total, MIN_PART_SIZE)
    parts = -(-total // size)
    assert parts <= MAX_PARTS
    assert size % MiB == 0
    assert MIN_PART_SIZE <= size <= MAX_PART_SIZE
    # The smallest such MiB multiple: one MiB less would need more than 10,000 parts.
    assert -(-total // (size - MiB)) > MAX_PARTS


def test_five_tib_gets_525_mib_parts() -> None:
    # 5 TiB / 10,000 = 524.288 MiB, so 525 MiB parts; 9,987 of them.
    assert part_size_for_total(MAX_OBJECT_SIZE, MIN_PART_SIZE) == 525 * MiB


@pytest.mark.parametrize("total", [-1, MAX_OBJECT_SIZE + 1])
def test_part_size_for_total_refuses_impossible_totals(total: int) -> None:
    with pytest.raises(ValueError, match="size"):
        part_size_for_total(total, DEFAULT_PART_SIZE)


# -- part_size_at ---------------------------------------------------------------------------


@pytest.mark.parametrize("base", [MIN_PART_SIZE, DEFAULT_PART_SIZE, 64 * MiB])
def test_first_900_parts_are_exactly_base(base: int) -> None:
    assert PARTS_PER_SIZE_STEP == 900
    assert {part_size_at(n, base) for n in range(1, 901)} == {base}
    assert part_size_at(901, base) == 2 * base
    assert part_size_at(1800, base) == 2 * base
    assert part_size_at(1801, base) == 4 * base


def test_part_sizes_never_shrink() -> None:
    sizes = [part_size_at(n, MIN_PART_SIZE) for n in range(1, MAX_PARTS + 1)]
    assert sizes == sorted(sizes)


@pytest.mark.parametrize("base", [MIN_PART_SIZE, DEFAULT_PART_SIZE, GiB, 4 * GiB, MAX_PART_SIZE])
def test_part_size_never_above_5_gib(base: int) -> None:
    assert max(part_size_at(n, base) for n in range(1, MAX_PARTS + 1)) <= MAX_PART_SIZE
    assert part_size_at(MAX_PARTS, base) == MAX_PART_SIZE


def test_smallest_parts_reach_5_tib_within_10000_parts() -> None:
    assert capacity(MIN_PART_SIZE) >= MAX_OBJECT_SIZE
    assert capacity(DEFAULT_PART_SIZE) >= MAX_OBJECT_SIZE


def test_capacity_is_the_sum_of_the_part_sizes() -> None:
    assert capacity(MIN_PART_SIZE, 1) == MIN_PART_SIZE
    assert capacity(MIN_PART_SIZE, 900) == 900 * MIN_PART_SIZE
    assert capacity(MIN_PART_SIZE, 901) == 900 * MIN_PART_SIZE + 2 * MIN_PART_SIZE


def test_a_step_of_1000_would_not_reach_5_tib() -> None:
    # Why the step is 900: with 1000 parts per size, 5 MiB parts stop short of 5 TiB.
    total, size = 0, MIN_PART_SIZE
    for number in range(1, MAX_PARTS + 1):
        total += min(MAX_PART_SIZE, size << ((number - 1) // 1000))
    assert total < MAX_OBJECT_SIZE


# -- split ----------------------------------------------------------------------------------


def test_split_of_nothing_is_no_parts() -> None:
    assert list(split(0, MIN_PART_SIZE)) == []


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (1, [(0, 1)]),
        (5, [(0, 5)]),
        (6, [(0, 5), (5, 1)]),
        (10, [(0, 5), (5, 5)]),
        (17, [(0, 5), (5, 5), (10, 5), (15, 2)]),
    ],
)
def test_split_small(total: int, expected: list[tuple[int, int]]) -> None:
    assert list(split(total, 5)) == expected


@pytest.mark.parametrize("total", [1, MIN_PART_SIZE - 1, MIN_PART_SIZE, 3 * MIN_PART_SIZE + 7])
def test_split_is_contiguous_and_all_but_last_full(total: int) -> None:
    parts = list(split(total, MIN_PART_SIZE))
    offsets = [offset for offset, _ in parts]
    lengths = [length for _, length in parts]
    assert offsets == [sum(lengths[:i]) for i in range(len(parts))]
    assert sum(lengths) == total
    assert all(length == MIN_PART_SIZE for length in lengths[:-1])
    assert 0 < lengths[-1] <= MIN_PART_SIZE


# -- multipart_etag -------------------------------------------------------------------------


def test_multipart_etag_matches_a_hand_computation() -> None:
    # Worked out with coreutils, independently of this code:
    #   (md5sum a | xxd -r -p; md5sum b | xxd -r -p) | md5sum   where a="hello", b="world"
    digests = [hashlib.md5(b"hello").digest(), hashlib.md5(b"world").digest()]
    assert digests[0].hex() == "5d41402abc4b2a76b9719d911017c592"
    assert digests[1].hex() == "7d793037a0760186574b0282f2f435e7"
    assert multipart_etag(digests) == "065947336a2f2a95ba8899f3675c3be6-2"


def test_multipart_etag_of_one_empty_part() -> None:
    # What RGW and moto both report for a multipart upload of one empty part.
    assert multipart_etag([hashlib.md5(b"").digest()]) == "59adb24ef3cdbe0297f05b395827453f-1"


def test_multipart_etag_depends_on_order_and_count() -> None:
    a, b = hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()
    assert multipart_etag([a, b]) != multipart_etag([b, a])
    assert multipart_etag(iter([a, b])) == multipart_etag([a, b])
    assert multipart_etag([a] * 3).endswith("-3")
    assert multipart_etag([a]) != hashlib.md5(b"a").hexdigest()


def test_a_completed_etag_is_checked_against_its_parts_one_way_for_every_upload() -> None:
    from rawS3.errors import IntegrityError
    from rawS3.parts import verified_etag

    md5s = [hashlib.md5(b"a").hexdigest(), hashlib.md5(b"b").hexdigest()]
    expected = multipart_etag(bytes.fromhex(m) for m in md5s)
    # Upper-case hex is still an MD5: checked, not waved through as an SSE ETag.
    quoted = [f'"{m.upper()}"' for m in md5s]
    assert verified_etag(f'"{expected}"', quoted, "b/k") == f'"{expected}"'
    assert verified_etag("", quoted, "b/k") == f'"{expected}"'  # RGW's empty first answer
    with pytest.raises(IntegrityError):
        verified_etag('"0123456789abcdef0123456789abcdef-2"', quoted, "b/k")
    assert verified_etag('"kms-etag"', ['"not-an-md5"', quoted[1]], "b/k") == '"kms-etag"'
