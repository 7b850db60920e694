"""``RetryPolicy`` (backoff bounds, what is retryable, validation) and how the client applies it.

The client tests use a local scripted server: each request takes the next answer of a script
(an S3 error, a reset, a stall, success) and its headers are kept, so the number of attempts
and what each one carried can be checked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

from rawS3 import (
    RequestTimeTooSkewed,
    RetryPolicy,
    S3Client,
    S3Error,
    SlowDown,
    Timeouts,
    TransportError,
    TransportTimeout,
    UploadedPart,
)
from rawS3.errors import make_s3_error
from rawS3.retry import RETRYABLE_STATUSES

PART_ONE = UploadedPart(1, '"' + "0" * 32 + '"', 1)
POLICIES = [RetryPolicy(), RetryPolicy(attempts=10, base=0.05, cap=1.0), RetryPolicy(base=0, cap=0)]


# -- backoff -------------------------------------------------------------------------------------


def ceiling(policy: RetryPolicy, retry_number: int) -> float:
    return min(policy.cap, policy.base * 2 ** (retry_number - 1))


@pytest.mark.parametrize("policy", POLICIES)
def test_backoff_stays_within_full_jitter_bounds(policy: RetryPolicy) -> None:
    rng = random.Random(7)
    for retry_number in range(1, 30):
        for draw in [0.0, 0.5, 1 - 1e-12, *(rng.random() for _ in range(50))]:
            wait = policy.backoff(retry_number, draw)
            assert 0 <= wait <= ceiling(policy, retry_number)


def test_backoff_is_the_draw_scaled_to_the_ceiling() -> None:
    policy = RetryPolicy(base=0.1, cap=5.0)
    assert policy.backoff(1, 0.0) == 0
    assert policy.backoff(1, 0.5) == pytest.approx(0.05)
    assert policy.backoff(3, 0.5) == pytest.approx(0.2)
    ceilings = [policy.backoff(n, 1 - 1e-12) for n in range(1, 10)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])


def test_backoff_never_exceeds_the_cap_even_after_many_retries() -> None:
    policy = RetryPolicy(attempts=100, base=1.0, cap=2.5)
    assert max(policy.backoff(n, 1 - 1e-12) for n in range(1, 100)) <= 2.5


# -- what is retryable ---------------------------------------------------------------------------

RETRYABLE = [
    ("SlowDown", 503),
    ("InternalError", 500),
    ("ServiceUnavailable", 503),
    ("RequestTimeout", 400),
    ("HTTP502", 502),
    ("BadGateway", 502),
    ("GatewayTimeout", 504),
    ("SomethingNew", 500),
]
FINAL = [
    ("NoSuchKey", 404),
    ("NoSuchBucket", 404),
    ("AccessDenied", 403),
    ("SignatureDoesNotMatch", 403),
    ("InvalidAccessKeyId", 403),
    ("BadDigest", 400),
    ("XAmzContentSHA256Mismatch", 400),
    ("InvalidPart", 400),
    ("EntityTooSmall", 400),
    ("MalformedXML", 400),
    ("PreconditionFailed", 412),
    ("InvalidRange", 416),
    ("NotImplemented", 501),
    ("HTTP418", 418),
]


def error(code: str, status: int) -> S3Error:
    return make_s3_error(code=code, message="", status=status)


@pytest.mark.parametrize(("code", "status"), RETRYABLE)
def test_retryable_errors(code: str, status: int) -> None:
    assert RetryPolicy().is_retryable(error(code, status))


@pytest.mark.parametrize(("code", "status"), FINAL)
def test_other_errors_are_final(code: str, status: int) -> None:
    assert not RetryPolicy().is_retryable(error(code, status))


def test_retryable_statuses_are_the_documented_ones() -> None:
    assert frozenset({500, 502, 503, 504}) == RETRYABLE_STATUSES


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("attempts", [0, -1, 101])
def test_attempts_out_of_range(attempts: int) -> None:
    with pytest.raises(ValueError, match=r"attempts must be at least 1 and at most 100"):
        RetryPolicy(attempts=attempts)


@pytest.mark.parametrize("attempts", [True, 1.5, "3", None])
def test_attempts_of_the_wrong_type(attempts: object) -> None:
    with pytest.raises(TypeError, match=r"attempts must be an int"):
        RetryPolicy(attempts=attempts)  # type: ignore[arg-type]


@pytest.mark.parametrize(("base", "cap"), [(-0.1, 1.0), (2.0, 1.0), (0.1, -1.0)])
def test_base_and_cap_must_be_ordered(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match=r"need 0 <= base <= cap"):
        RetryPolicy(base=base, cap=cap)


def test_limits_that_are_allowed() -> None:
    assert RetryPolicy(attempts=1).attempts == 1
    assert RetryPolicy(attempts=100).attempts == 100
    assert RetryPolicy(base=0, cap=0).backoff(5, 0.9) == 0


def test_policy_is_immutable() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.attempts = 9  # type: ignore[misc]


# -- the client applying it ----------------------------------------------------------------------

Answer = Callable[[web.Request], Any]


def s3_error(status: int, code: str, **extra: str) -> Answer:
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in extra.items())
    body = f"<Error><Code>{code}</Code><Message>scripted</Message>{fields}</Error>"

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/xml")

    return answer


async def ok(request: web.Request) -> web.Response:
    if request.method == "POST":
        body = (
            "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
            "<UploadId>u-1</UploadId></InitiateMultipartUploadResult>"
        )
        return web.Response(text=body, content_type="application/xml")
    if request.method == "GET":
        body = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
        return web.Response(text=body + "</ListBucketResult>", content_type="application/xml")
    return web.Response(headers={"ETag": '"e"'})


async def reset(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.abort()
    await asyncio.sleep(0.01)
    return web.Response()


async def stall(request: web.Request) -> web.Response:
    await asyncio.Event().wait()
    return web.Response()


class Scripted:
    """Answers request ``n`` with ``script[n]`` (the last one repeats) and keeps the headers."""

    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.requests: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests.append(dict(request.headers))
        answer = self.script[min(len(self.requests), len(self.script)) - 1]
        response: web.StreamResponse = await answer(request)
        return response


@pytest.fixture
def serve(aiohttp_server: Any) -> Callable[..., Any]:
    async def start(*script: Answer) -> tuple[Scripted, str]:
        fake = Scripted(*script)
        server = await aiohttp_server(fake.app())
        return fake, f"http://127.0.0.1:{server.port}"

    return start


QUICK = RetryPolicy(attempts=4, base=0.001, cap=0.002)


def client_for(endpoint: str, **options: Any) -> S3Client:
    options.setdefault("retry", QUICK)
    return S3Client(endpoint, "AKIDRETRY", "retry-test-secret", **options)


async def test_retries_are_on_by_default(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(503, "SlowDown"), s3_error(500, "InternalError"), ok)
    async with S3Client(endpoint, "AKIDRETRY", "retry-test-secret") as client:
        await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 3


async def test_one_attempt_turns_retries_off(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(503, "SlowDown"), ok)
    async with client_for(endpoint, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(SlowDown):
            await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 1


async def test_gives_up_after_exactly_attempts(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(503, "SlowDown"))
    async with client_for(endpoint) as client:
        with pytest.raises(SlowDown):
            await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 4


async def test_request_timeout_400_is_retried(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(400, "RequestTimeout"), ok)
    async with client_for(endpoint) as client:
        await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "code"), [(403, "AccessDenied"), (400, "BadDigest"), (404, "NoSuchKey")]
)
async def test_other_4xx_are_never_retried(
    serve: Callable[..., Any], status: int, code: str
) -> None:
    fake, endpoint = await serve(s3_error(status, code), ok)
    async with client_for(endpoint) as client:
        with pytest.raises(S3Error) as caught:
            await client.put_object("bucket", "key", b"x")
    assert caught.value.code == code
    assert len(fake.requests) == 1


async def test_every_attempt_is_signed_afresh(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(503, "SlowDown"), s3_error(503, "SlowDown"), ok)
    ticks = iter(range(1_700_000_000, 1_800_000_000, 7))
    async with client_for(endpoint, clock=lambda: float(next(ticks))) as client:
        await client.put_object("bucket", "key", b"x")
    dates = [headers["x-amz-date"] for headers in fake.requests]
    signatures = [headers["Authorization"] for headers in fake.requests]
    assert len(set(dates)) == 3
    assert len(set(signatures)) == 3


async def test_connection_reset_is_retried(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(reset, reset, ok)
    async with client_for(endpoint) as client:
        await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 3


async def test_resets_give_up_after_exactly_attempts(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(reset)
    async with client_for(endpoint) as client:
        with pytest.raises(TransportError):
            await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 4


async def test_one_shot_stream_is_not_retried(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(503, "SlowDown"), ok)

    async def body() -> AsyncIterator[bytes]:
        yield b"streamed once"

    async with client_for(endpoint) as client:
        with pytest.raises(SlowDown):
            await client.put_object("bucket", "key", body(), size=13)
    assert len(fake.requests) == 1


async def test_timeout_of_an_idempotent_request_is_retried(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(stall, ok)
    async with client_for(endpoint, timeouts=Timeouts(read=0.2)) as client:
        assert [item async for item in client.list_objects("bucket")] == []
    assert len(fake.requests) == 2


async def test_timeout_of_a_post_is_not_retried(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(stall, ok)
    async with client_for(endpoint, timeouts=Timeouts(read=0.2)) as client:
        with pytest.raises(TransportTimeout):
            await client.complete_multipart_upload("bucket", "key", "up-1", [PART_ONE])
    assert len(fake.requests) == 1


def server_time(offset: timedelta = timedelta()) -> str:
    return (datetime.now(timezone.utc) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_clock_skew_is_corrected_once(serve: Callable[..., Any]) -> None:
    skewed = s3_error(403, "RequestTimeTooSkewed", ServerTime=server_time())
    fake, endpoint = await serve(skewed, ok, ok)

    def ahead() -> float:
        return datetime.now(timezone.utc).timestamp() + 3600

    async with client_for(endpoint, clock=ahead) as client:
        await client.put_object("bucket", "key", b"x")
        assert client.clock_offset == pytest.approx(-3600, abs=60)
        await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 3
    late = datetime.strptime(fake.requests[-1]["x-amz-date"], "%Y%m%dT%H%M%SZ")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert abs((late - now).total_seconds()) < 60


async def test_clock_skew_twice_in_a_row_is_raised(serve: Callable[..., Any]) -> None:
    fake, endpoint = await serve(s3_error(403, "RequestTimeTooSkewed", ServerTime=server_time()))
    async with client_for(endpoint) as client:
        with pytest.raises(RequestTimeTooSkewed):
            await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 2


async def test_clock_skew_without_a_server_time_is_raised(serve: Callable[..., Any]) -> None:
    async def skew_without_time(request: web.Request) -> web.Response:
        body = "<Error><Code>RequestTimeTooSkewed</Code></Error>"
        response = web.Response(status=403, text=body, content_type="application/xml")
        response.headers["Date"] = "not a date"
        return response

    fake, endpoint = await serve(skew_without_time, ok)
    async with client_for(endpoint) as client:
        with pytest.raises(RequestTimeTooSkewed):
            await client.put_object("bucket", "key", b"x")
    assert len(fake.requests) == 1
