"""The benchmark harness's mechanics that its figures rest on: order, intervals, checks, pacing."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from bench.clients import MODULES
from bench.common import MiB
from bench.relay import Pacer
from bench.run import WORKLOADS, Plan, Profile, order_for, runs_of, williams
from bench.stats import Ratio, bootstrap, ratio
from bench.verify import etag_of_cut, etag_problem, expected, multipart_etag


@pytest.mark.parametrize("n", range(1, 10))
def test_williams_rows_put_every_client_in_every_position_equally_often(n: int) -> None:
    rows = williams(n)
    assert all(sorted(row) == list(range(n)) for row in rows)
    for position in range(n):
        counts = Counter(row[position] for row in rows)
        assert set(counts) == set(range(n))
        assert len(set(counts.values())) == 1


@pytest.mark.parametrize("n", [2, 4, 6, 8])
def test_williams_rows_put_every_client_after_every_other_once(n: int) -> None:
    pairs = Counter((row[i], row[i + 1]) for row in williams(n) for i in range(n - 1))
    assert len(pairs) == n * (n - 1)
    assert set(pairs.values()) == {1}


def test_order_for_cycles_through_the_rows() -> None:
    clients = ["a", "b", "c", "d"]
    firsts = [order_for(clients, rep)[0] for rep in range(4)]
    assert sorted(firsts) == clients
    assert order_for(clients, 4) == order_for(clients, 0)


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("minimum", [1, 5, 6])
def test_every_workload_of_a_run_puts_every_client_in_every_position_equally_often(
    scheme: str, minimum: int
) -> None:
    prof = Profile("p", "loopback", scheme, None, None, list(WORKLOADS))
    runs = runs_of(prof, Plan(list(MODULES), list(WORKLOADS), minimum, 1.0, smoke=False))
    for workload in WORKLOADS:
        mine = [r for r in runs if r.workload == workload]
        reps = {r.rep for r in mine}
        assert len(reps) >= minimum
        counts = Counter((r.client, r.position) for r in mine)
        clients = {r.client for r in mine}
        assert len(counts) == len(clients) ** 2, workload
        assert len(set(counts.values())) == 1, (workload, counts)


def test_bootstrap_is_seeded_and_brackets_the_median() -> None:
    values = [0.9, 1.0, 1.05, 1.1, 1.3]
    low, high = bootstrap(values, "seed")
    assert (low, high) == bootstrap(values, "seed")
    assert low <= 1.05 <= high
    assert min(values) <= low
    assert high <= max(values)


def test_a_target_is_met_only_when_the_whole_interval_clears_it() -> None:
    assert Ratio(1.2, 1.1, 1.3, 1.15, 1.25, 5).verdict(1.1, higher=True) == "met"
    assert Ratio(1.12, 0.9, 1.3, 1.0, 1.25, 5).verdict(1.1, higher=True) == "at the edge"
    assert Ratio(1.0, 0.9, 1.3, 0.95, 1.25, 5).verdict(1.1, higher=True) == "not met"
    assert Ratio(0.3, 0.2, 0.4, 0.25, 0.32, 5).verdict(1 / 3, higher=False) == "met"
    assert Ratio(0.3, 0.2, 0.4, 0.25, 0.36, 5).verdict(1 / 3, higher=False) == "at the edge"
    q = ratio([1.0, 1.2, 1.1], "x")
    assert q is not None
    assert q.median == 1.1
    assert q.count == 3


def test_etag_checks_accept_the_right_bytes_and_refuse_others() -> None:
    size = 11 * MiB + 5
    data = expected("large", size)
    assert etag_problem(f'"{hashlib.md5(data).hexdigest()}"', "large", size) is None
    good = multipart_etag("large", size, 8 * MiB)
    assert etag_problem(f'"{good}"', "large", size, (8 * MiB,)) is None
    assert etag_problem(f'"{good}"', "large", size) is None  # found among the common sizes
    wrong = hashlib.md5(b"other").hexdigest()
    assert etag_problem(f'"{wrong}"', "large", size) is not None
    assert etag_problem(f'"{wrong}-2"', "large", size) is not None
    uneven = etag_of_cut("large", size, [6 * MiB, 5 * MiB + 5])
    assert etag_problem(f'"{uneven}"', "large", size, part_lengths=[6 * MiB, 5 * MiB + 5]) is None
    assert etag_problem(f'"{uneven}"', "large", size, part_lengths=[size, size]) is not None


def test_the_pacer_holds_a_connection_to_its_rate() -> None:
    pacer = Pacer(rate=1000.0)
    starts = [pacer.due(100, now=0.0) for _ in range(10)]
    assert starts == pytest.approx([i * 0.1 for i in range(10)])
    assert pacer.due(100, now=5.0) == 5.0
