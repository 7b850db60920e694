"""The progress arithmetic and drawing, driven by explicit times instead of a clock."""

from __future__ import annotations

import io
import math

import pytest

from rawS3.progress import (
    ProgressBar,
    RateMeter,
    eta_seconds,
    format_bytes,
    format_duration,
    format_rate,
    render_line,
)

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1023.9, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (MiB - 1, "1.0 MiB"),  # not "1024.0 KiB"
        (int(23.8 * MiB), "23.8 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**4, "3.0 TiB"),
        (2048 * 1024**6, "2048.0 EiB"),  # the largest unit simply grows
    ],
)
def test_format_bytes(count: float, text: str) -> None:
    assert format_bytes(count) == text


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan])
def test_format_bytes_refuses_impossible_counts(bad: float) -> None:
    with pytest.raises(ValueError, match="byte count"):
        format_bytes(bad)


def test_format_rate() -> None:
    assert format_rate(None) == "-- B/s"
    assert format_rate(0) == "0 B/s"
    assert format_rate(8.1 * MiB) == "8.1 MiB/s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "--:--"),
        (0, "0:00"),
        (0.2, "0:01"),  # rounded up: an ETA should not promise early
        (59.0, "0:59"),
        (61, "1:01"),
        (3599.5, "1:00:00"),
        (3600 + 62, "1:01:02"),
        (100 * 3600, "100:00:00"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError, match="duration"):
        format_duration(-1)


def test_eta() -> None:
    assert eta_seconds(0, 100, 10.0) == 10.0
    assert eta_seconds(40, 100, 20.0) == 3.0
    assert eta_seconds(100, 100, None) == 0.0  # done needs no rate
    assert eta_seconds(120, 100, 5.0) == 0.0  # overshoot (retried bytes) is clamped
    assert eta_seconds(10, None, 5.0) is None  # size unknown
    assert eta_seconds(10, 100, None) is None  # rate unknown
    assert eta_seconds(10, 100, 0.0) is None  # stalled: no finite estimate


def test_rate_needs_two_distinct_times() -> None:
    meter = RateMeter()
    assert meter.rate() is None
    meter.add(5.0, 100)
    assert meter.rate() is None
    meter.add(5.0, 200)
    assert meter.rate() is None
    meter.add(6.0, 300)
    assert meter.rate() == 200.0


def test_rate_follows_the_window_not_the_whole_history() -> None:
    meter = RateMeter(window=2.0)
    # 10 s at 100 B/s, then 1000 B/s: the average since the start would be ~182 B/s.
    for second in range(11):
        meter.add(float(second), second * 100)
    for second in range(11, 15):
        meter.add(float(second), 1000 + (second - 10) * 1000)
    assert meter.rate() == pytest.approx(1000.0)


def test_rate_drops_during_a_stall() -> None:
    meter = RateMeter(window=2.0)
    meter.add(0.0, 0)
    meter.add(1.0, 1000)
    meter.add(2.0, 2000)
    assert meter.rate() == pytest.approx(1000.0)
    meter.add(3.0, 2000)
    meter.add(4.0, 2000)
    assert meter.rate() == 0.0


def test_rate_meter_rejects_time_going_backwards_and_bad_windows() -> None:
    meter = RateMeter()
    meter.add(2.0, 10)
    with pytest.raises(ValueError, match="backwards"):
        meter.add(1.0, 20)
    with pytest.raises(ValueError, match="window"):
        RateMeter(window=0)


def test_line_with_known_total() -> None:
    line = render_line(10 * MiB, 40 * MiB, 5.0 * MiB, width=100)
    assert line == (
        " 25% [#######.......................] 10.0 MiB / 40.0 MiB  5.0 MiB/s  ETA 0:06"
    )


def test_line_without_total_shows_bytes_and_rate_only() -> None:
    assert render_line(3 * MiB, None, 1.5 * MiB, width=100) == "3.0 MiB  1.5 MiB/s"


def test_finished_line_shows_time_taken() -> None:
    line = render_line(40 * MiB, 40 * MiB, 8.0 * MiB, width=100, elapsed=5.0)
    assert line.startswith("100% [##############################] 40.0 MiB / 40.0 MiB")
    assert line.endswith("8.0 MiB/s  in 0:05")


def test_line_clamps_overshoot() -> None:
    line = render_line(50, 40, None, width=100)
    assert line.startswith("100% [")
    assert "40 B / 40 B" in line


def test_empty_transfer_is_complete() -> None:
    assert render_line(0, 0, None, width=100).startswith("100% [")


@pytest.mark.parametrize("width", [20, 40, 60, 80, 200])
def test_line_fits_the_terminal(width: int) -> None:
    line = render_line(123 * MiB, 4096 * MiB, 12.3 * MiB, width=width)
    assert len(line) <= width - 1
    if width >= 80:
        assert "[" in line
        assert "ETA" in line
    if width < 60:
        assert "[" not in line  # the bar goes first when space is short


def test_bar_stays_silent_before_the_threshold() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, total=100, start=10.0, after=1.0, interval=0.1)
    assert not bar.update(50, 10.5)
    assert not bar.finish(100, 10.9)  # a short transfer leaves no trace
    assert stream.getvalue() == ""


def test_bar_redraws_in_place_at_most_once_per_interval() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, total=1000, start=0.0, after=1.0, interval=0.1, width=80)
    drawn = [bar.update(done, now) for done, now in [(100, 1.0), (150, 1.05), (200, 1.1)]]
    assert drawn == [True, False, True]
    assert bar.draws == 2
    text = stream.getvalue()
    assert text.count("\r") == 2
    assert "\n" not in text
    assert " 20% [" in text.rsplit("\r", 1)[1]
    assert "ETA" in text


def test_bar_finish_ends_the_line_with_the_average_rate() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, total=4 * MiB, start=0.0, after=1.0, width=100)
    bar.update(MiB, 1.0)
    assert bar.finish(4 * MiB, 2.0)
    last = stream.getvalue().rsplit("\r", 1)[1]
    assert last.endswith("\n")
    # Padded with spaces over what the longer previous line left behind.
    assert last.rstrip("\n").rstrip(" ").endswith("2.0 MiB/s  in 0:02")
    assert last.startswith("100% [")


def test_bar_finish_draws_a_long_transfer_even_if_no_update_was_due() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, total=None, start=0.0, after=1.0)
    assert bar.finish(3 * MiB, 1.5)
    assert stream.getvalue() == "\r3.0 MiB  2.0 MiB/s  in 0:02\n"


def test_a_shorter_line_erases_the_previous_one() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, total=None, start=0.0, after=0.0, interval=0.0)
    bar.update(1023 * MiB, 1.0)  # "1023.0 MiB  ..."
    bar.update(1023 * MiB, 5.0)  # the rate falls to 0: a shorter line
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second) == len(first)
    assert second.rstrip(" ") != second


def test_bar_refuses_negative_settings() -> None:
    with pytest.raises(ValueError, match="after"):
        ProgressBar(io.StringIO(), total=None, start=0.0, after=-1.0)
