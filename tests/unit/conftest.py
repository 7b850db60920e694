"""Fixtures of the unit tests that talk to the in-process fake server (``tests.fakes3``).

``client`` here replaces the suite-wide one, which needs a real server: a unit test's client
is the fake's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from rawS3 import S3Client
from tests.fakes3 import FakeS3, running


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeS3]:
    with running() as server:
        yield server


@pytest.fixture
async def client(fake: FakeS3) -> AsyncIterator[S3Client]:
    fake.reset()
    async with S3Client(fake.endpoint, "AKIDUNIT", "secret-unit") as made:
        yield made
