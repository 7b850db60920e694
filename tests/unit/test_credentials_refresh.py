"""Credentials from a provider are fetched once, refreshed before they expire by one task
however many requests wait, kept when a refresh fails while they still work, and every attempt
of a retried request is signed with the credentials current at that attempt.

A local aiohttp server on 127.0.0.1 stands in for S3 and records the access key of each
request's Authorization header; the client's clock is a fake that the tests move.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from rawS3 import Credentials, CredentialsError, CredentialsProvider, RetryPolicy, S3Client
from rawS3.refresh import CredentialsCache

START = 1_800_000_000.0
SECRET = "provider-secret-never-shown"
TOKEN = "provider-session-token-never-shown"


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@dataclass
class RotatingProvider:
    """Hands out key n on its n-th fetch, valid ``lifetime`` seconds from the fake clock."""

    clock: FakeClock
    lifetime: float = 900.0
    delay: float = 0.01
    fail: bool = False
    calls: int = 0
    source: str = "rotating test provider"

    async def fetch(self) -> Credentials:
        self.calls += 1
        await asyncio.sleep(self.delay)  # a real source takes time: others pile up meanwhile
        if self.fail:
            raise CredentialsError(self.source, "the source is down")
        expiry = datetime.fromtimestamp(self.clock.now + self.lifetime, tz=timezone.utc)
        return Credentials(f"AKIDROTATING{self.calls:04d}", SECRET, TOKEN, expiry)


@dataclass
class Recorder:
    keys: list[str] = field(default_factory=list)
    fail_first: int = 0
    on_first: object = None

    async def handle(self, request: web.Request) -> web.Response:
        found = re.search(r"Credential=([^/]+)/", request.headers.get("Authorization", ""))
        self.keys.append(found.group(1) if found else "")
        if len(self.keys) <= self.fail_first:
            if callable(self.on_first):
                self.on_first()
            return web.Response(status=503, body=b"<Error><Code>SlowDown</Code></Error>")
        return web.Response(status=200, headers={"ETag": '"e"', "Content-Length": "0"})


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", recorder
    finally:
        await runner.cleanup()


def test_a_provider_is_recognised_by_its_fetch_method() -> None:
    assert isinstance(RotatingProvider(FakeClock()), CredentialsProvider)
    assert not isinstance(object(), CredentialsProvider)


async def test_200_requests_at_the_moment_of_expiry_cause_exactly_one_refresh(
    server: tuple[str, Recorder],
) -> None:
    endpoint, recorder = server
    clock = FakeClock()
    provider = RotatingProvider(clock)
    async with S3Client(endpoint, credentials=provider, clock=clock, max_connections=50) as s3:
        await s3.put_object("bucket", "warm-up", b"x")
        assert provider.calls == 1
        clock.now += provider.lifetime  # the very moment the credentials expire
        await asyncio.gather(*(s3.put_object("bucket", f"k{i}", b"x") for i in range(200)))
    assert provider.calls == 2
    assert recorder.keys[0] == "AKIDROTATING0001"
    assert set(recorder.keys[1:]) == {"AKIDROTATING0002"}
    assert len(recorder.keys) == 201


async def test_credentials_are_refreshed_within_the_margin_not_before() -> None:
    clock = FakeClock()
    provider = RotatingProvider(clock, delay=0)
    cache = CredentialsCache(provider, clock, margin=300)
    first = await cache.current()
    clock.now += provider.lifetime - 301
    assert await cache.current() is first
    clock.now += 2  # now 299 s before expiry: inside the margin
    second = await cache.current()
    assert second.access_key == "AKIDROTATING0002"
    assert cache.refreshes == 2


async def test_a_failed_refresh_keeps_valid_credentials_until_they_expire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    provider = RotatingProvider(clock, delay=0)
    cache = CredentialsCache(provider, clock, margin=300)
    first = await cache.current()
    provider.fail = True
    clock.now += provider.lifetime - 100  # inside the margin, still valid
    with caplog.at_level(logging.DEBUG, logger="rawS3"):
        assert await cache.current() is first
        # Failed once: no new attempt for a while, so a dead source is not hammered.
        assert await cache.current() is first
    assert provider.calls == 2
    assert "refreshing credentials from rotating test provider failed" in caplog.text
    clock.now += 100  # expired now: nothing valid is left
    with pytest.raises(CredentialsError, match="rotating test provider: the source is down"):
        await cache.current()
    provider.fail = False
    assert (await cache.current()).access_key == "AKIDROTATING0004"
    assert SECRET not in caplog.text
    assert TOKEN not in caplog.text


async def test_a_provider_raising_anything_else_becomes_a_credentials_error() -> None:
    class Broken:
        source = "broken provider"

        async def fetch(self) -> Credentials:
            raise RuntimeError(f"leaked {SECRET}")

    cache = CredentialsCache(Broken(), FakeClock())
    with pytest.raises(CredentialsError) as caught:
        await cache.current()
    assert str(caught.value) == "broken provider: fetching credentials failed: RuntimeError"


async def test_each_retry_is_signed_with_the_credentials_current_at_that_attempt(
    server: tuple[str, Recorder],
) -> None:
    endpoint, recorder = server
    clock = FakeClock()
    provider = RotatingProvider(clock, delay=0)

    def expire() -> None:
        clock.now += provider.lifetime  # the first attempt outlived its credentials

    recorder.fail_first, recorder.on_first = 1, expire
    retry = RetryPolicy(attempts=3, base=0.0, cap=0.0)
    async with S3Client(endpoint, credentials=provider, clock=clock, retry=retry) as s3:
        await s3.put_object("bucket", "key", b"x")
    assert recorder.keys == ["AKIDROTATING0001", "AKIDROTATING0002"]


async def test_presigning_with_a_provider_needs_fetched_credentials(
    server: tuple[str, Recorder],
) -> None:
    endpoint, _ = server
    clock = FakeClock()
    provider = RotatingProvider(clock, delay=0)
    s3 = S3Client(endpoint, credentials=provider, clock=clock)
    with pytest.raises(CredentialsError, match=r"await client\.fetch_credentials\(\) first"):
        s3.presign_get("bucket", "key")
    with pytest.raises(CredentialsError, match="presigning and prepare"):
        s3.prepare("GET", "bucket", "key")
    await s3.fetch_credentials()
    assert "X-Amz-Credential=AKIDROTATING0001" in s3.presign_get("bucket", "key")
    assert s3.prepare("GET", "bucket", "key").headers["x-amz-security-token"] == TOKEN
    assert "AKIDROTATING0001" in repr(s3)
    assert SECRET not in repr(s3)
    assert TOKEN not in repr(s3)
    await s3.close()


def test_credentials_keep_working_without_an_expiry_and_show_it_when_set() -> None:
    plain = Credentials("AKIDPLAIN", SECRET)
    assert plain.expiry is None
    naive = Credentials("AKIDX", SECRET, TOKEN, datetime(2030, 1, 2, 3, 4, 5))
    assert naive.expiry == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert "expiry='2030-01-02T03:04:05+00:00'" in repr(naive)
    assert TOKEN not in repr(naive)
    with pytest.raises(TypeError, match="expiry must be a datetime"):
        Credentials("AKIDX", SECRET, None, "2030-01-01")  # type: ignore[arg-type]


@dataclass
class Flaky:
    """A provider whose source is up or down as the test says, watching its own concurrency."""

    clock: FakeClock
    down: bool = False
    calls: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    source: str = "flaky test provider"

    async def fetch(self) -> Credentials:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if self.down:
                raise CredentialsError(self.source, "down")
            expiry = datetime.fromtimestamp(self.clock.now + 900, tz=timezone.utc)
            return Credentials(f"AKIDFLAKY{self.calls:04d}", SECRET, None, expiry)
        finally:
            self.in_flight -= 1


STEPS = st.lists(
    st.tuples(
        st.sampled_from([0.0, 5.0, 300.0, 599.0, 601.0, 900.0]), st.booleans(), st.integers(1, 30)
    ),
    min_size=1,
    max_size=10,
)


@given(steps=STEPS)
def test_refresh_property_one_fetch_at_a_time_and_only_valid_credentials(
    steps: list[tuple[float, bool, int]],
) -> None:
    """Whatever the clock and the source do: never two fetches at once, at most one fetch per
    burst of concurrent requests, and every request gets unexpired credentials or a
    CredentialsError when none are valid."""

    async def run() -> None:
        clock = FakeClock()
        provider = Flaky(clock)
        cache = CredentialsCache(provider, clock, margin=300)
        for advance, down, burst in steps:
            clock.now += advance
            provider.down = down
            before = provider.calls
            held_before = cache.last
            results = await asyncio.gather(
                *(cache.current() for _ in range(burst)), return_exceptions=True
            )
            assert provider.calls - before <= 1
            for result in results:
                if isinstance(result, Credentials):
                    assert result.expiry is not None
                    assert result.expiry.timestamp() > clock.now
                else:
                    assert isinstance(result, CredentialsError)
                    assert down
                    valid = held_before is not None and held_before.expiry is not None
                    assert not (valid and held_before.expiry.timestamp() > clock.now)  # type: ignore[union-attr]
        assert provider.most_in_flight <= 1

    asyncio.run(run())
