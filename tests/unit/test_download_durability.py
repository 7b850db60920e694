"""A finished download is made durable before it appears at its target.

The README promises that a file at the target is whole even after a crash: the data is
fsync'd before the rename, and the directory after it. Recorded here by wrapping the ``os``
calls the download makes, against the in-process fake server.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rawS3 import S3Client
from tests.fakes3 import BUCKET, FakeS3


@pytest.mark.parametrize("size", [100, 300 * 1024], ids=["one-get", "ranges"])
async def test_the_file_is_synced_before_it_is_renamed_into_place(
    fake: FakeS3, client: S3Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    fake.put_direct("obj", os.urandom(size))
    target = tmp_path / "out"
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("dir-fsync" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync")
        real_fsync(fd)

    def replace(source: str, destination: str) -> None:
        if Path(destination) == target:
            assert not target.exists()  # nothing at the target before the rename
            calls.append("replace")
        real_replace(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    await client.download(BUCKET, "obj", target, part_size=64 * 1024)
    assert calls == ["fsync", "replace", "dir-fsync"]
    assert target.stat().st_size == size
