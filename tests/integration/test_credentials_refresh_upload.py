"""Credentials that expire in the middle of a long multipart upload are refreshed between parts,
and no part fails for it (retries are off, so a single failed part would fail the upload).

The client's clock runs ahead of real time by a few seconds per part written, so the short-lived
credentials fall within the refresh margin several times during the upload while the signing
date stays well inside the 15 minutes a server accepts.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from rawS3 import Credentials, MultipartUploader, RetryPolicy, S3Client
from rawS3.credentials import REFRESH_MARGIN
from tests.conftest import TestServer

MiB = 1024 * 1024
PART = 5 * MiB
PARTS = 4
STEP = 5.0  # seconds the clock moves on for each part written
LIFETIME = REFRESH_MARGIN + 2 * STEP - 1  # due for a refresh after about two parts


class AheadClock:
    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@dataclass
class ShortLived:
    """The server's keys, handed out as temporary credentials that expire soon."""

    keys: Credentials
    clock: AheadClock
    fetched_at: list[float] = field(default_factory=list)
    source: str = "short-lived test provider"

    async def fetch(self) -> Credentials:
        now = self.clock()
        self.fetched_at.append(now)
        expiry = datetime.fromtimestamp(now + LIFETIME, tz=timezone.utc)
        return Credentials(self.keys.access_key, self.keys.secret_key, None, expiry)


async def parts(clock: AheadClock) -> AsyncIterator[bytes]:
    for number in range(PARTS):
        yield bytes([number + 1]) * PART
        clock.ahead += STEP


async def test_credentials_expiring_during_an_upload_are_refreshed_without_a_failed_part(
    s3_server: TestServer, bucket: str
) -> None:
    clock = AheadClock()
    provider = ShortLived(Credentials(s3_server.access_key, s3_server.secret_key), clock)
    expected = hashlib.md5(usedforsecurity=False)
    async with S3Client(
        s3_server.endpoint,
        credentials=provider,
        region=s3_server.region,
        clock=clock,
        retry=RetryPolicy(attempts=1),
    ) as s3:
        async with MultipartUploader(
            s3, bucket, "refreshed.bin", part_size=PART, concurrency=2
        ) as up:
            async for chunk in parts(clock):
                expected.update(chunk)
                await up.write(chunk)
        assert up.result is not None
        assert up.result.parts == PARTS
        body = await s3.get_object(bucket, "refreshed.bin")
    assert hashlib.md5(body, usedforsecurity=False).hexdigest() == expected.hexdigest()
    # Fetched first, then again each time the clock carried them into the margin.
    assert len(provider.fetched_at) >= 3
    gaps = [b - a for a, b in zip(provider.fetched_at, provider.fetched_at[1:], strict=False)]
    assert all(gap >= LIFETIME - REFRESH_MARGIN for gap in gaps)
