"""``rawS3.concurrency``: the parts-in-flight controller, driven by synthetic throughput curves.

A simulated transfer runs at the aggregate rate a curve gives for the current limit: with
``limit`` parts in flight at ``rate(limit)`` bytes per second, one part of ``PART`` bytes is
answered every ``PART / rate(limit)`` seconds. The controller only sees those answer times.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3.concurrency import AdaptiveConcurrency, bound_for_memory

PART = 8 * 1024 * 1024
Curve = Callable[[int], float]


def simulate(controller: AdaptiveConcurrency, rate: Curve, parts: int = 400) -> list[int]:
    """Feed ``parts`` answers to ``controller``; return the limit after each one."""
    now = 0.0
    limits = []
    for _ in range(parts):
        now += PART / rate(controller.limit)
        limits.append(controller.completed(now, PART))
    return limits


def capped(per_connection: float, link: float) -> Curve:
    """Each connection gets ``per_connection`` until the link's ``link`` is full."""
    return lambda n: min(n * per_connection, link)


maxima = st.integers(min_value=1, max_value=64)
starts = st.integers(min_value=1, max_value=8)
rates = st.floats(min_value=1e5, max_value=1e10)


@given(maxima, starts, st.lists(st.tuples(st.floats(0, 10), st.integers(0, 2 * PART))))
def test_the_limit_stays_between_one_and_the_maximum_whatever_the_answers(
    maximum: int, start: int, answers: list[tuple[float, int]]
) -> None:
    controller = AdaptiveConcurrency(start=start, maximum=maximum)
    now = 0.0
    for gap, size in answers:
        now += gap
        assert 1 <= controller.completed(now, size) <= maximum


@given(maxima, starts, rates, st.integers(min_value=1, max_value=64))
def test_it_climbs_to_the_knee_of_a_capped_link_and_no_further_than_needed(
    maximum: int, start: int, per_connection: float, knee: int
) -> None:
    controller = AdaptiveConcurrency(start=start, maximum=maximum)
    limits = simulate(controller, capped(per_connection, knee * per_connection))
    assert controller.settled
    assert max(limits) <= maximum
    final = limits[-1]
    first = min(start, maximum)
    reachable = min(maximum, knee)
    if first < reachable:
        # It stops within 20 % of the best rate it could reach (the last step's gain it asks
        # for is at most a fifth of +100 %) ...
        assert min(final, knee) * 1.2 >= reachable
        # ... and, once the link is full, keeps at most twice the parts it needs.
        assert final <= 2 * knee
    else:
        assert final == first


@given(maxima, starts, rates)
def test_a_flat_curve_keeps_the_starting_limit(maximum: int, start: int, rate: float) -> None:
    controller = AdaptiveConcurrency(start=start, maximum=maximum)
    limits = simulate(controller, lambda n: rate)
    assert limits[-1] == min(start, maximum)


@given(maxima, starts, rates)
def test_a_curve_that_keeps_growing_reaches_the_maximum(
    maximum: int, start: int, per_connection: float
) -> None:
    controller = AdaptiveConcurrency(start=start, maximum=maximum)
    limits = simulate(controller, lambda n: n * per_connection)
    assert limits[-1] == maximum


@given(maxima, starts, rates)
def test_when_more_parts_slow_the_transfer_it_goes_back(
    maximum: int, start: int, rate: float
) -> None:
    controller = AdaptiveConcurrency(start=start, maximum=maximum)
    limits = simulate(controller, lambda n: rate / n)
    assert limits[-1] == min(start, maximum)


def test_a_typical_wan_link_settles_where_the_rate_stops_growing() -> None:
    # 10 MiB/s per connection and a 60 MiB/s link: 4 (40 MiB/s) → 8 (60: +50 %, more than
    # the 20 % asked) → 16 (60: no better) → back to 8.
    controller = AdaptiveConcurrency(maximum=32)
    limits = simulate(controller, capped(10 * 2**20, 60 * 2**20))
    assert sorted(set(limits)) == [4, 8, 16]
    assert limits[-1] == 8
    assert controller.best_rate == pytest.approx(60 * 2**20)


def test_time_standing_still_is_no_measurement() -> None:
    controller = AdaptiveConcurrency(start=2, maximum=8)
    for _ in range(10):
        assert controller.completed(5.0, PART) == 2
    assert not controller.settled


@pytest.mark.parametrize(
    ("max_memory", "maximum", "bound"),
    [(None, 16, 16), (PART, 16, 1), (3 * PART - 1, 16, 2), (100 * PART, 16, 16)],
)
def test_the_memory_budget_bounds_the_parts_in_flight(
    max_memory: int | None, maximum: int, bound: int
) -> None:
    assert bound_for_memory(PART, max_memory, maximum) == bound


def test_a_budget_below_one_part_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold one part"):
        bound_for_memory(PART, PART - 1, 16)
