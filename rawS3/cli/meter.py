"""Keeping a progress bar current while a ``raws3`` command moves bytes.

``rawS3.progress`` does the arithmetic and the drawing, given the time; this module reads the
clock. A ``Counter`` is what the bytes are counted in (by request tracing for uploads, by the
download loop for downloads), and a ``Meter`` redraws the bar from it on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from types import TracebackType
from typing import TextIO

from rawS3.progress import ProgressBar, TransferProgress

__all__ = ["TICK_SECONDS", "Counter", "Meter", "terminal_bar"]

TICK_SECONDS = 0.1


class Counter:
    """A running byte count that request tracing or a download loop adds to."""

    def __init__(self) -> None:
        self.value = 0


class Meter:
    """Keeps a ``ProgressBar`` current while a transfer runs: ``async with app.meter(...)``.

    Args:
        bar: the bar to draw, or ``None`` to draw nothing.
        counter: the bytes moved; only what is added after this point counts.
    """

    def __init__(self, bar: ProgressBar | None, counter: Counter) -> None:
        self._bar = bar
        self._counter = counter
        self._base = counter.value
        self._ticker: asyncio.Task[None] | None = None

    def follow(self, progress: TransferProgress) -> None:
        """Take a transfer's ``on_progress`` report: its bytes, and its size once known.

        Args:
            progress: where the transfer stands.
        """
        self._counter.value = self._base + progress.done
        if self._bar is not None and self._bar.total is None:
            self._bar.total = progress.total

    @property
    def done(self) -> int:
        """Bytes moved since the meter was made."""
        return self._counter.value - self._base

    async def __aenter__(self) -> Meter:
        if self._bar is not None:
            self._ticker = asyncio.ensure_future(self._tick(self._bar))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._bar is not None:
            self._bar.finish(self.done, time.monotonic())

    async def _tick(self, bar: ProgressBar) -> None:
        # A timer rather than per-chunk updates: the rate and ETA stay current during a stall.
        while True:
            bar.update(self.done, time.monotonic())
            await asyncio.sleep(TICK_SECONDS)


def terminal_bar(stream: TextIO, total: int | None, *, after: float) -> ProgressBar:
    """Return a progress bar for a transfer starting now, as wide as the terminal.

    Args:
        stream: the terminal to draw on.
        total: the transfer's size in bytes, or ``None`` when unknown.
        after: seconds before the bar first shows.

    Returns:
        The bar, redrawn at most every ``TICK_SECONDS``.
    """
    return ProgressBar(
        stream,
        total=total,
        start=time.monotonic(),
        after=after,
        interval=TICK_SECONDS,
        width=_terminal_width(stream),
    )


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError):
        return 80
