"""``Acknowledged``: the upload side's progress count (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rawS3.progress import Acknowledged, TransferProgress


@given(parts=st.lists(st.integers(min_value=0, max_value=10**9), max_size=30))
def test_each_acknowledgement_is_told_once_and_the_count_never_goes_back(
    parts: list[int],
) -> None:
    heard: list[TransferProgress] = []
    count = Acknowledged(heard.append, sum(parts))
    for size in parts:
        count.add(size)
    assert len(heard) == len(parts)
    assert [p.done for p in heard] == sorted(p.done for p in heard)
    assert count.done == sum(parts)
    assert all(p.total == sum(parts) for p in heard)


def test_a_single_request_is_told_whole_and_its_result_passed_on() -> None:
    heard: list[TransferProgress] = []
    result = object()
    assert Acknowledged(heard.append, 42).whole(result) is result
    assert heard == [TransferProgress(42, 42)]


def test_without_a_callback_it_only_counts() -> None:
    count = Acknowledged(None, None)
    count.add(5)
    assert count.done == 5
