"""A stateful property test of MultipartUploader: Hypothesis drives one uploader through random
writes, overwrites of the caller's last buffer, faults scheduled a few requests ahead,
cancelled writes, complete() and abort(), against the fake S3 of tests/fakes3.py.

The machine plays the caller of ``async with MultipartUploader(...)``: a failed or cancelled
write makes it abort, as leaving the block would. Once the upload is over, the key holds
exactly the bytes written or nothing, no multipart upload is left, and at the end no task
or connection is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Iterator
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rawS3 import MultipartUploader
from tests.fakes3 import (
    BUCKET,
    FAULTS,
    KINDS,
    MUST_ACCEPT,
    PART,
    TALLY,
    TYPED,
    WRITE_SIZES,
    FakeS3,
    Inject,
    Verdict,
    buffer_of,
    client_for,
    examples,
    fitted,
    running,
    scribble,
    sessions_opened,
    settle,
)

KEY = "machine/object"
DATA = random.Random(7).randbytes(4 * PART + 12_345)
STEP_LIMIT = 20.0
# The rules that end the upload act one time in three, so that most runs get some way first.
ONE_IN_THREE = st.sampled_from([False, False, True])
T = TypeVar("T")


class UploaderMachine(RuleBasedStateMachine):
    fake: ClassVar[FakeS3]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.fake.reset()
        self.client = client_for(self.fake)
        self.cleanup = contextlib.ExitStack()
        self.sessions = self.cleanup.enter_context(sessions_opened())
        self.before = asyncio.all_tasks(self.loop)
        self.up: MultipartUploader | None = None
        self.expected = bytearray()
        self.at = 0
        self.last: Any = None
        self.state = "open"
        self.found = Verdict()
        self.checked = False
        self.cancels = 0
        TALLY.runs += 1

    # -- driving the loop ---------------------------------------------------------------------

    def wait(self, work: Awaitable[T]) -> tuple[T | None, BaseException | None]:
        """Run ``work`` to its end in the machine's loop: its result, or what it raised."""

        async def bounded() -> T:
            task = asyncio.ensure_future(work)
            if not (await asyncio.wait({task}, timeout=STEP_LIMIT))[0]:
                self.found.hung.append(f"a step did not end within {STEP_LIMIT:g} s")
                task.cancel()
                if not (await asyncio.wait({task}, timeout=5))[0]:
                    raise AssertionError(f"a step ignored its cancellation: {self.account()}")
            return task.result()

        try:
            return self.loop.run_until_complete(bounded()), None
        except (asyncio.CancelledError, Exception) as exc:
            return None, exc

    def failed(self, exc: BaseException, doing: str) -> None:
        """A write or complete failed: typed errors end the upload, anything else is a bug."""
        if not isinstance(exc, TYPED):
            self.found.untyped.append(f"{doing} raised {type(exc).__qualname__}: {exc}")
        self.close_by_abort()

    def close_by_abort(self) -> None:
        assert self.up is not None
        _, exc = self.wait(self.up.abort())
        if exc is not None:
            self.found.untyped.append(f"abort() raised {exc!r}")
        self.state = "aborted"

    def next_data(self, size: int, kind: str) -> bytes:
        data = DATA[self.at : self.at + size]
        data = data[: fitted(kind, len(data))]
        self.at += len(data)
        return data

    # -- rules ---------------------------------------------------------------------------------
    # No preconditions: which rules may run would then depend on how earlier steps ended,
    # which timing decides, and Hypothesis could not replay a failing run. A rule that does
    # not apply in the current state returns.

    def ended(self) -> bool:
        assert self.up is not None
        return self.state != "open"

    @initialize(concurrency=st.integers(1, 3))
    def start(self, concurrency: int) -> None:
        self.up = MultipartUploader(
            self.client, BUCKET, KEY, part_size=PART, concurrency=concurrency
        )

    @rule(size=WRITE_SIZES, kind=st.sampled_from(KINDS))
    def write(self, size: int, kind: str) -> None:
        if self.ended():
            return
        data = self.next_data(size, kind)
        buffer, owner = buffer_of(kind, data)
        _, exc = self.wait(self.up.write(buffer))  # type: ignore[arg-type]
        if exc is None:
            self.expected += data
            self.last = owner
        elif isinstance(exc, (TypeError, ValueError)):
            # Refused before anything was taken: the upload goes on.
            if kind in MUST_ACCEPT:
                self.found.other.append(f"a {kind} was refused: {exc}")
        else:
            self.failed(exc, f"write({kind} of {len(data)})")

    @rule()
    def overwrite_last_buffer(self) -> None:
        if self.last is not None:
            scribble(self.last)

    @rule(fault=FAULTS, ahead=st.integers(1, 3))
    def schedule_fault(self, fault: Any, ahead: int) -> None:
        if not self.ended():
            self.fake.add(Inject(fault, at=self.fake.count() + ahead))

    @rule(size=WRITE_SIZES, steps=st.integers(0, 60), now=ONE_IN_THREE)
    def cancelled_write(self, size: int, steps: int, now: bool) -> None:
        """A write whose task is cancelled after ``steps`` loop turns; the caller then aborts."""
        if self.ended() or not now:
            return
        data = self.next_data(size, "bytes")
        up = self.up

        async def write_then_cancel() -> bool:
            task = asyncio.ensure_future(up.write(data))
            for _ in range(steps):
                if task.done():
                    break
                await asyncio.sleep(0)
            cancelled = task.cancel()
            await asyncio.wait({task})
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
            return cancelled and task.cancelled()

        cancelled, exc = self.wait(write_then_cancel())
        if exc is not None:
            self.failed(exc, "a write being cancelled")
        elif cancelled:
            self.cancels += 1
            TALLY.cancellations += 1
            self.close_by_abort()
        else:
            self.expected += data

    @rule(now=ONE_IN_THREE)
    def complete(self, now: bool) -> None:
        if self.ended() or not now:
            return
        _, exc = self.wait(self.up.complete())
        if exc is None:
            self.state = "completed"
        else:
            self.failed(exc, "complete()")

    @rule(now=ONE_IN_THREE)
    def abort(self, now: bool) -> None:
        if not self.ended() and now:
            self.close_by_abort()

    @rule(size=st.integers(0, 10))
    def write_after_the_end(self, size: int) -> None:
        if not self.ended():
            return
        _, exc = self.wait(self.up.write(b"x" * size))
        if not isinstance(exc, RuntimeError):
            self.found.other.append(f"a write after the end gave {exc!r}, not RuntimeError")

    # -- properties ----------------------------------------------------------------------------

    @invariant()
    def an_ended_upload_leaves_the_object_whole_or_absent_and_no_upload(self) -> None:
        """Checked once the upload is over; what is found is raised at teardown, so that every
        run draws its steps alike however early timing makes a problem show."""
        if self.state == "open" or self.checked:
            return
        self.checked = True
        self.wait(self.fake.quiet(connections=False))  # the client keeps its pool open
        stored, left = self.fake.stored(KEY), self.fake.live_uploads()
        if self.state == "completed" and stored != bytes(self.expected):
            self.found.lost.append("completed, but the key does not hold the bytes written")
        elif stored not in (None, bytes(self.expected)):
            self.found.lost.append("the key holds bytes never written")
        if left:
            TALLY.leftovers += len(left)
            self.found.leftovers.append(f"multipart uploads left on the server: {left}")

    def teardown(self) -> None:
        try:
            if self.state == "open" and self.up is not None:
                self.complete(now=True)  # leaving the ``async with`` block normally
                self.an_ended_upload_leaves_the_object_whole_or_absent_and_no_upload()
            self.found.leaks += self.loop.run_until_complete(
                settle(self.fake, self.client, self.sessions, self.before)
            )
            TALLY.leaked += bool(self.found.leaks)
            TALLY.lost += bool(self.found.lost)
            TALLY.untyped += bool(self.found.untyped)
            self.found.check(self.account())
        finally:
            TALLY.faults += len(self.fake.injected)
            TALLY.outcomes[f"machine {self.state}"] += 1
            self.loop.run_until_complete(asyncio.wait_for(self.client.close(), 10))
            self.loop.close()
            self.cleanup.close()

    def account(self) -> str:
        injected = [f"{e.number} {e.operation}: {e.fault}" for e in self.fake.injected]
        return (
            f"state {self.state}; {len(self.expected):,} bytes written; faults {injected}; "
            f"requests {[e.operation for e in self.fake.log]}"
        )


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeS3]:
    with running() as server:
        yield server


def test_uploader_as_a_state_machine(fake: FakeS3) -> None:
    UploaderMachine.fake = fake
    run_state_machine_as_test(
        UploaderMachine,
        settings=settings(max_examples=examples(3), stateful_step_count=20),
    )
