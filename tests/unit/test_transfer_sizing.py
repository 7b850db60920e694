"""Default part sizes and parts in flight for transfers of known size (``rawS3.transfer_sizing``).

Properties: download ranges cover the object exactly, no more ranges than the concurrency where
the object allows, no range under 1 MiB (but the last) nor over 8 MiB; upload plans keep S3's
part rules (5 MiB minimum, 10,000 parts), stay within the memory budget, and put every part of
a file that fits the budget in flight at once.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3.operations.ranged import spans
from rawS3.parts import (
    MAX_OBJECT_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    MiB,
    part_size_for_total,
    split,
)
from rawS3.transfer_sizing import (
    DEFAULT_MAX_MEMORY,
    DOWNLOAD_MAX_PART,
    DOWNLOAD_MIN_PART,
    MIN_PARTS_IN_FLIGHT,
    SPREAD_PARTS,
    default_budget,
    download_part_size,
    stream_limits,
    upload_part_size,
    upload_plan,
)

SIZES = st.one_of(
    st.integers(0, 4 * DOWNLOAD_MAX_PART),
    st.integers(0, 1 << 40),
    st.sampled_from([0, 1, MiB - 1, MiB, MiB + 1, 20 * MiB, 64 * MiB, 128 * MiB + 1]),
)


@given(size=SIZES, concurrency=st.integers(1, 1000))
def test_download_ranges_cover_the_object_within_bounds(size: int, concurrency: int) -> None:
    part = download_part_size(size, concurrency)
    assert DOWNLOAD_MIN_PART <= part <= DOWNLOAD_MAX_PART
    ranges = spans(size, part)
    assert sum(span.size for span in ranges) == size
    assert all(a.end == b.start for a, b in itertools.pairwise(ranges))
    assert not ranges or (ranges[0].start, ranges[-1].end) == (0, size)
    if size <= concurrency * DOWNLOAD_MAX_PART:
        assert len(ranges) <= concurrency
    if size >= concurrency * DOWNLOAD_MIN_PART and size <= concurrency * DOWNLOAD_MAX_PART:
        # Every connection gets a range: ceil(size / ceil(size / c)) > c - c² / size >= c - 1.
        assert len(ranges) == concurrency
    assert all(span.size >= DOWNLOAD_MIN_PART for span in ranges[:-1])


@pytest.mark.parametrize(
    ("size", "concurrency", "ranges"),
    [
        (0, 16, 0),
        (1, 16, 1),
        (MiB, 16, 1),
        (MiB + 1, 16, 2),
        (20 * MiB, 16, 16),  # 1.25 MiB each
        (64 * MiB, 16, 16),  # 4 MiB each: 16 connections, not 8
        (64 * MiB, 4, 8),  # capped at 8 MiB
        (1 << 30, 16, 128),
    ],
)
def test_download_examples(size: int, concurrency: int, ranges: int) -> None:
    assert len(spans(size, download_part_size(size, concurrency))) == ranges


@pytest.mark.parametrize(("size", "concurrency"), [(-1, 4), (1, 0)])
def test_download_sizing_refuses_nonsense(size: int, concurrency: int) -> None:
    with pytest.raises(ValueError, match="cannot spread"):
        download_part_size(size, concurrency)


@given(
    size=st.integers(0, MAX_OBJECT_SIZE),
    part_size=st.one_of(st.none(), st.integers(MIN_PART_SIZE, 64 * MiB)),
    max_memory=st.one_of(st.none(), st.integers(64 * MiB, 1 << 34)),
    maximum=st.integers(1, 64),
    start=st.integers(1, 16),
)
def test_upload_plans_keep_s3_rules_and_the_budget(
    size: int, part_size: int | None, max_memory: int | None, maximum: int, start: int
) -> None:
    chosen = part_size_for_total(size, upload_part_size(size) if part_size is None else part_size)
    if max_memory is not None and max_memory < chosen:
        with pytest.raises(ValueError, match="cannot hold one part"):
            upload_plan(size, part_size=part_size, max_memory=max_memory, maximum=maximum, start=1)
        return
    plan = upload_plan(
        size, part_size=part_size, max_memory=max_memory, maximum=maximum, start=start
    )
    assert plan.part_size >= MIN_PART_SIZE
    assert plan.parts == max(1, len(list(split(size, plan.part_size))))
    if part_size is None and size <= 8 * MiB:
        assert plan.parts == 1  # one PutObject
    assert plan.parts <= MAX_PARTS
    budget = default_budget(plan.part_size) if max_memory is None else max_memory
    assert 1 <= plan.start <= plan.maximum <= maximum
    assert plan.maximum * plan.part_size <= budget
    if plan.parts <= plan.maximum:
        assert plan.start == plan.maximum  # the whole file in flight at once
    else:
        assert plan.start == min(start, plan.maximum)
    if part_size is None:
        assert plan.part_size == part_size_for_total(size, upload_part_size(size))
        if size <= SPREAD_PARTS * 8 * MiB:
            # Spread over 16 parts, or fewer where parts would be under S3's 5 MiB minimum.
            assert plan.parts <= SPREAD_PARTS


def test_upload_plan_examples() -> None:
    plan = upload_plan(64 * MiB, part_size=None, max_memory=None, maximum=16, start=8)
    assert (plan.part_size, plan.parts, plan.maximum, plan.start) == (5 * MiB, 13, 16, 16)
    plan = upload_plan(1 << 30, part_size=None, max_memory=None, maximum=16, start=8)
    assert (plan.part_size, plan.parts, plan.maximum, plan.start) == (8 * MiB, 128, 16, 8)
    plan = upload_plan(1 << 30, part_size=None, max_memory=32 * MiB, maximum=16, start=8)
    assert (plan.maximum, plan.start) == (4, 4)
    # Parts of a 1 TiB file are ~105 MiB: the default budget still keeps four in flight.
    plan = upload_plan(1 << 40, part_size=None, max_memory=None, maximum=16, start=8)
    assert plan.maximum == MIN_PARTS_IN_FLIGHT
    assert default_budget(8 * MiB) == DEFAULT_MAX_MEMORY


def test_upload_plan_refuses_a_budget_below_one_part() -> None:
    with pytest.raises(ValueError, match="cannot hold one part"):
        upload_plan(1 << 30, part_size=16 * MiB, max_memory=8 * MiB, maximum=16, start=4)


@given(
    part=st.integers(MIN_PART_SIZE, 64 * MiB),
    concurrency=st.one_of(st.just("auto"), st.integers(1, 64)),
    max_memory=st.one_of(st.none(), st.integers(64 * MiB, 1 << 31)),
    size=st.one_of(st.none(), st.integers(0, 1 << 32)),
)
def test_stream_limits_keep_the_budget(
    part: int, concurrency: int | str, max_memory: int | None, size: int | None
) -> None:
    controller, budget = stream_limits(part, concurrency, max_memory, size, start=8)
    if concurrency != "auto":
        assert budget == max_memory  # kept where a long stream's parts grow
        assert controller.settled
        assert controller.limit == min(concurrency, (max_memory or 1 << 62) // part)
        return
    assert budget == (default_budget(part) if max_memory is None else max_memory)
    assert 1 <= controller.limit <= controller.maximum <= min(16, budget // part)
    if size is not None and -(-size // part) <= controller.maximum:
        assert controller.limit == controller.maximum  # every part in flight at once
