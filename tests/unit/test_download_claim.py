"""A partial download file belongs to one download at a time (no server: nothing is sent).

Two downloads resuming into the same target would share ``<target>.raws3-part``: one could
trust ranges the other is still writing, or truncate them when its object changed, and the
file renamed into place would mix two versions. The second one is refused before it sends.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from rawS3 import RetryPolicy, S3Client, TransportError
from rawS3.download import PARTIAL_SUFFIX, STATE_SUFFIX
from rawS3.operations.ranged import ResumeState

# Nothing listens on port 1: a request sent would fail at once with a TransportError.
NOWHERE = "http://127.0.0.1:1"


def client() -> S3Client:
    return S3Client(NOWHERE, "AKIDCLAIM", "claim-secret", retry=RetryPolicy(attempts=1))


async def test_a_partial_file_another_download_holds_is_refused_untouched(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.bin"
    partial = tmp_path / ("out.bin" + PARTIAL_SUFFIX)
    state_file = tmp_path / ("out.bin" + PARTIAL_SUFFIX + STATE_SUFFIX)
    held, state = b"first range" + bytes(9), ResumeState('"e"', 20, 11, frozenset({0}))
    partial.write_bytes(held)
    state_file.write_bytes(state.to_json())
    other = os.open(partial, os.O_RDWR)  # the download already writing it
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        async with client() as s3:
            with pytest.raises(BlockingIOError) as caught:
                await s3.download("bucket", "key", target, part_size=64 * 1024, resume=True)
        assert caught.value.filename == str(partial)
    finally:
        os.close(other)
    assert partial.read_bytes() == held
    assert ResumeState.from_json(state_file.read_bytes()) == state
    assert not target.exists()


async def test_a_claimed_partial_file_never_written_is_not_left_behind(tmp_path: Path) -> None:
    async with client() as s3:
        with pytest.raises(TransportError):
            await s3.download("bucket", "key", tmp_path / "out.bin", resume=True)
    assert os.listdir(tmp_path) == []


async def test_a_file_system_without_locks_still_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", unsupported)
    async with client() as s3:
        # The download goes on to send its request (and fails there: nothing listens).
        with pytest.raises(TransportError):
            await s3.download("bucket", "key", tmp_path / "out.bin", resume=True)
    assert os.listdir(tmp_path) == []
