"""Transfer progress for the command line: sizes, rates and ETAs as text, and a status line.

Nothing here reads a clock. Every time is an argument (seconds from any fixed origin, e.g.
``time.monotonic()``), so the arithmetic and the redraw limits can be tested without waiting.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO, TypeVar

__all__ = [
    "Acknowledged",
    "ProgressBar",
    "ProgressCallback",
    "RateMeter",
    "TransferProgress",
    "eta_seconds",
    "format_bytes",
    "format_duration",
    "format_rate",
    "render_line",
]



@dataclass(frozen=True)
class TransferProgress:
    """Where a transfer stands, as given to an ``on_progress`` callback.

    Attributes:
        done: bytes the server has acknowledged (uploads) or written where they belong
            (downloads); it never goes back, so a retried part counts once.
        total: the transfer's size, or ``None`` while it is not known (a stream).
    """

    done: int
    total: int | None


# Called in the transfer's own task after each step; it should return quickly.
ProgressCallback = Callable[[TransferProgress], None]

R = TypeVar("R")


class Acknowledged:
    """Bytes a server has acknowledged, told to an ``on_progress`` callback as they add up.

    Args:
        callback: the callback, or ``None`` to count without telling.
        total: the transfer's size, or ``None`` when not known.

    Attributes:
        done: the bytes acknowledged so far.
    """

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self._total = total
        self.done = 0

    def add(self, count: int) -> None:
        """Count ``count`` more bytes acknowledged (a part, once) and tell the callback.

        Args:
            count: the bytes just acknowledged.
        """
        self.done += count
        if self._callback is not None:
            self._callback(TransferProgress(self.done, self._total))

    def whole(self, result: R) -> R:
        """Count the whole transfer acknowledged at once (one request) and pass ``result`` on.

        Args:
            result: what the request returned.

        Returns:
            ``result``.
        """
        self.add((self._total or 0) - self.done)
        return result


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_BAR_MIN = 10
_BAR_MAX = 30


def format_bytes(count: float) -> str:
    """Return a byte count for people: ``"512 B"``, ``"1.5 KiB"``, ``"23.8 MiB"``.

    Args:
        count: bytes, zero or more (a float is fine, e.g. a rate).

    Returns:
        Whole bytes below 1 KiB, else one decimal in the largest binary unit below 1024.

    Raises:
        ValueError: ``count`` is negative or not finite.
    """
    if not math.isfinite(count) or count < 0:
        raise ValueError(f"a byte count must be a finite number >= 0, got {count!r}")
    if count < 1024:
        return f"{int(count)} B"
    unit = 0
    while count >= 1024 and unit < len(_UNITS) - 1:
        count /= 1024
        unit += 1
    # 1023.96 KiB would print as "1024.0 KiB"; show it in the next unit instead.
    if round(count, 1) >= 1024 and unit < len(_UNITS) - 1:
        count /= 1024
        unit += 1
    return f"{count:.1f} {_UNITS[unit]}"


def format_rate(bytes_per_second: float | None) -> str:
    """Return a transfer rate such as ``"8.1 MiB/s"``, or ``"-- B/s"`` when unknown.

    Args:
        bytes_per_second: the rate, or ``None`` when it cannot be measured yet.

    Returns:
        The rate as text.

    Raises:
        ValueError: a negative or non-finite rate.
    """
    if bytes_per_second is None:
        return "-- B/s"
    return f"{format_bytes(bytes_per_second)}/s"


def format_duration(seconds: float | None) -> str:
    """Return a duration as ``"M:SS"`` (``"H:MM:SS"`` from an hour on), ``"--:--"`` if unknown.

    Args:
        seconds: zero or more, rounded up to whole seconds (an ETA should not promise early);
            ``None`` when unknown.

    Returns:
        The duration as text.

    Raises:
        ValueError: negative or not finite.
    """
    if seconds is None:
        return "--:--"
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite number >= 0, got {seconds!r}")
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def eta_seconds(done: int, total: int | None, rate: float | None) -> float | None:
    """Return the seconds left to move the rest of ``total`` bytes at ``rate``.

    Args:
        done: bytes moved so far.
        total: the whole size, or ``None`` when unknown.
        rate: bytes per second, or ``None`` when not measured yet.

    Returns:
        Seconds (``0.0`` once ``done`` reaches ``total``), or ``None`` when the size or a
        positive rate is unknown.
    """
    if total is None:
        return None
    left = max(0, total - done)
    if left == 0:
        return 0.0
    if rate is None or rate <= 0:
        return None
    return left / rate


class RateMeter:
    """The recent transfer rate, from ``(time, bytes so far)`` samples over a sliding window.

    A window (rather than the average since the start) lets the rate follow a transfer that
    speeds up or stalls; the ETA then reflects the current speed.

    Args:
        window: seconds of history the rate is measured over (greater than 0).

    Raises:
        ValueError: ``window`` is not a positive number.
    """

    def __init__(self, window: float = 3.0) -> None:
        if not window > 0:
            raise ValueError(f"window must be a positive number of seconds, got {window!r}")
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> None:
        """Record that ``done`` bytes had moved at time ``now``.

        Args:
            now: seconds on the caller's clock; never earlier than the previous sample.
            done: bytes moved so far (a running total, not an increment).

        Raises:
            ValueError: ``now`` is earlier than the previous sample's time.
        """
        if self._samples and now < self._samples[-1][0]:
            raise ValueError(f"time went backwards: {now} after {self._samples[-1][0]}")
        self._samples.append((now, done))
        # Keep one sample at or before the window's start, so the window stays full.
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window:
            self._samples.popleft()

    def rate(self) -> float | None:
        """Return the rate over the window.

        Returns:
            Bytes per second, or ``None`` until samples at two distinct times exist.
        """
        if len(self._samples) < 2:
            return None
        (first_time, first_done), (last_time, last_done) = self._samples[0], self._samples[-1]
        if last_time <= first_time:
            return None
        return max(0, last_done - first_done) / (last_time - first_time)


def render_line(
    done: int,
    total: int | None,
    rate: float | None,
    *,
    width: int = 80,
    elapsed: float | None = None,
) -> str:
    """Return one status line, at most ``width - 1`` characters long.

    With a known ``total``: ``" 45% [#####.......] 10.8 MiB / 23.8 MiB  8.1 MiB/s  ETA 0:02"``.
    Without: ``"10.8 MiB  8.1 MiB/s"``. The bar is dropped first when space is short.

    Args:
        done: bytes moved so far.
        total: the whole size, or ``None`` when unknown.
        rate: bytes per second, or ``None``.
        width: the terminal's width in columns.
        elapsed: when given, ``"in M:SS"`` is shown instead of the ETA (a finished line).

    Returns:
        The line, without a line ending.

    Raises:
        ValueError: negative ``done``.
    """
    amount = format_bytes(done)
    timing = _timing(done, total, rate, elapsed)
    if total is None:
        return _fit(f"{amount}  {format_rate(rate)}{timing}", width)
    shown = min(done, total)
    percent = 100 if total == 0 else shown * 100 // total
    text = f"{format_bytes(shown)} / {format_bytes(total)}  {format_rate(rate)}{timing}"
    room = width - 1 - len(text) - len("100% [] ")
    if room < _BAR_MIN:
        return _fit(f"{percent:3d}% {text}", width)
    cells = min(room, _BAR_MAX)
    filled = cells if total == 0 else shown * cells // total
    return f"{percent:3d}% [{'#' * filled}{'.' * (cells - filled)}] {text}"


def _timing(done: int, total: int | None, rate: float | None, elapsed: float | None) -> str:
    if elapsed is not None:
        return f"  in {format_duration(elapsed)}"
    if total is None:
        return ""
    return f"  ETA {format_duration(eta_seconds(done, total, rate))}"


def _fit(text: str, width: int) -> str:
    return text[: max(0, width - 1)]


class ProgressBar:
    """A status line on a terminal, redrawn in place with a carriage return.

    Nothing is drawn until ``after`` seconds have passed since ``start`` (short transfers
    stay silent), and redraws are at least ``interval`` seconds apart.

    Args:
        stream: where to draw (a terminal; the caller decides whether there is one).
        total: the transfer's size in bytes, or ``None`` when unknown (no percentage or ETA).
        start: the transfer's start time, on the same clock as later ``now`` arguments.
        after: seconds before the first draw.
        interval: smallest gap in seconds between two draws.
        width: the terminal's width in columns.

    Raises:
        ValueError: a negative ``after`` or ``interval``.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        total: int | None,
        start: float,
        after: float = 1.0,
        interval: float = 0.1,
        width: int = 80,
    ) -> None:
        if after < 0 or interval < 0:
            raise ValueError(f"after and interval must be >= 0, got {after!r} and {interval!r}")
        self._stream = stream
        self.total = total
        self._start = start
        self._after = after
        self._interval = interval
        self._width = width
        self._meter = RateMeter()
        self._meter.add(start, 0)
        self._last_draw: float | None = None
        self._last_length = 0
        self.draws = 0
        """How many times the line has been drawn."""

    def update(self, done: int, now: float) -> bool:
        """Record progress and redraw if the line is due.

        Args:
            done: bytes moved so far.
            now: the current time on the ``start`` clock.

        Returns:
            Whether the line was drawn.

        Raises:
            ValueError: ``now`` is earlier than ``start`` or the previous call's, or
                ``done`` is negative when the line is due.
        """
        self._meter.add(now, done)
        if now - self._start < self._after:
            return False
        if self._last_draw is not None and now - self._last_draw < self._interval:
            return False
        line = render_line(done, self.total, self._meter.rate(), width=self._width)
        self._draw(line, now, end="")
        return True

    def finish(self, done: int, now: float) -> bool:
        """Draw the final line (average rate and time taken) and end it with a newline.

        Only when the transfer lasted at least ``after`` seconds; a shorter one leaves no
        trace.

        Args:
            done: bytes moved in all.
            now: the current time on the ``start`` clock.

        Returns:
            Whether anything was drawn.

        Raises:
            ValueError: ``done`` is negative.
        """
        elapsed = now - self._start
        if elapsed < self._after and self._last_draw is None:
            return False
        average = done / elapsed if elapsed > 0 else None
        line = render_line(done, self.total, average, width=self._width, elapsed=elapsed)
        self._draw(line, now, end="\n")
        return True

    def _draw(self, line: str, now: float, *, end: str) -> None:
        # Pad over the previous line's tail: a shorter line must not leave old characters.
        padding = " " * max(0, self._last_length - len(line))
        self._stream.write(f"\r{line}{padding}{end}")
        self._stream.flush()
        self._last_draw = now
        self._last_length = len(line)
        self.draws += 1
