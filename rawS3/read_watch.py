"""The read limit of an engine's short exchanges, kept by one coarse timer.

aiohttp's ``sock_read`` re-arms an event-loop timer on every packet that arrives and cancels
it at the end: for a small request that is most of the time limits' cost. A short exchange
(a small body sent in one write, an answer read whole) needs no such precision, so the
engine's watch keeps one deadline per exchange in a dict and a single timer that wakes every
``limit / 8`` seconds while exchanges are in flight. An exchange past its deadline has its
task cancelled, and that cancellation leaves the exchange as the ``TransportTimeout`` aiohttp's
own read timeout would have raised; the caller's own cancellation still propagates as such.

The deadline starts with the exchange and restarts with every block of the answer read, so a
stalled server fails after between ``limit`` and ``limit * 9 / 8`` seconds of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from types import TracebackType
from typing import Any

import aiohttp

from rawS3.errors import TransportTimeout

__all__ = ["UNWATCHED", "ReadWatch"]

_TICKS = 8  # wake-ups per limit: a stalled exchange fails at most limit / 8 late


class ReadWatch:
    """Deadlines for the exchanges in flight, checked by one timer per event loop.

    Args:
        limit: seconds an exchange may wait for its answer, or between two of its blocks.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._cancelled: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def exchange(self) -> _Exchange:
        """Watch the current task's exchange for the ``with`` block that follows.

        Returns:
            A context manager: leaving it by the watch's cancellation raises
            ``TransportTimeout``.
        """
        return _Exchange(self)

    def renew(self) -> None:
        """Restart the current task's deadline: a block of its answer has arrived."""
        task = asyncio.current_task()
        if task is not None and task in self._deadlines:
            self._deadlines[task] = task.get_loop().time() + self.limit

    def _start(self, task: asyncio.Task[Any]) -> None:
        loop = task.get_loop()
        self._deadlines[task] = loop.time() + self.limit
        # A timer left on an event loop that has ended never fires: start one on this loop.
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(self.limit / _TICKS, self._check)

    def _stop(self, task: asyncio.Task[Any]) -> bool:
        """Forget the task's exchange; tell whether the watch cancelled it."""
        self._deadlines.pop(task, None)
        if task in self._cancelled:
            self._cancelled.discard(task)
            return True
        return False

    def _check(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        for task, deadline in list(self._deadlines.items()):
            if deadline <= now:
                del self._deadlines[task]
                self._cancelled.add(task)
                task.cancel()
        self._timer = loop.call_later(self.limit / _TICKS, self._check) if self._deadlines else None


class _Exchange:
    """One exchange under the watch (a plain ``with``: cheaper than an async one)."""

    __slots__ = ("_task", "_watch")

    def __init__(self, watch: ReadWatch) -> None:
        self._watch = watch
        self._task: asyncio.Task[Any] | None = None

    def __enter__(self) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("an S3 request must run in an asyncio task")
        self._task = task
        self._watch._start(task)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        if not self._watch._stop(self._task):
            return
        # Python 3.11+ counts cancellations: one besides ours is the caller's, and wins.
        if sys.version_info >= (3, 11) and self._task.uncancel() > 0:
            return
        if not isinstance(exc, asyncio.CancelledError):
            return  # the exchange ended otherwise all the same (its own error, if any)
        cause = aiohttp.ServerTimeoutError(
            f"no answer within the read limit of {self._watch.limit:g} s"
        )
        raise TransportTimeout(f"timed out: {cause}") from cause


UNWATCHED = contextlib.nullcontext()
"""What an exchange the watch does not time is run under (aiohttp's sock_read times it)."""
