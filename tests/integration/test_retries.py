"""Retries under injected faults: every scenario ends with the object read back or a typed error.

Each test puts a ``FaultProxy`` between a client and the server under test, scripts what goes
wrong, and checks afterwards, with a second client talking to the server directly, that the
object holds exactly the bytes sent (or does not exist) and that no multipart upload is left.
The proxy's counts prove how many attempts were made. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest

from rawS3 import (
    NoSuchUpload,
    RetryPolicy,
    S3Client,
    SlowDown,
    Timeouts,
    TransportError,
    TransportTimeout,
)
from rawS3.url_uploads import stream_upload
from tests.conftest import TestServer
from tests.faults import (
    INTERNAL_ERROR,
    RESET_AFTER_BODY,
    RESET_BEFORE_BODY,
    SLOW_DOWN,
    TALLY,
    TRUNCATE,
    Fault,
    Rule,
    delay,
    expected_etag,
    proxied,
    settle,
)
from tests.sources import MiB, SourceFiles, pattern

PART = 5 * MiB


@pytest.fixture(scope="module", autouse=True)
def fault_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    print(f"\n[{request.module.__name__}] {TALLY.summary()}")


# -- PutObject ---------------------------------------------------------------------------------

TWO_FAILURES = {
    "503-503": [SLOW_DOWN, SLOW_DOWN],
    "500-reset": [INTERNAL_ERROR, RESET_BEFORE_BODY],
    "answer-lost-then-truncated": [RESET_AFTER_BODY, TRUNCATE],
}


@pytest.mark.parametrize("faults", TWO_FAILURES.values(), ids=TWO_FAILURES.keys())
async def test_put_succeeds_on_the_third_attempt(
    s3_server: TestServer, client: S3Client, bucket: str, faults: list[Fault]
) -> None:
    data = pattern(300 * 1024, seed=1)
    rules = [Rule(faults, operation="PutObject", times=2)]
    async with proxied(s3_server, rules) as (proxy, through):
        result = await through.put_object(bucket, "three-tries", data)
    assert proxy.count("PutObject") == 3
    assert proxy.injected_total == 2
    assert result.etag.strip('"') == hashlib.md5(data).hexdigest()
    await settle(client, bucket, "three-tries", proxy, data)


GIVE_UP = {
    "slowdown": (SLOW_DOWN, SlowDown),
    "reset": (RESET_BEFORE_BODY, TransportError),
}


@pytest.mark.parametrize(("fault", "error"), GIVE_UP.values(), ids=GIVE_UP.keys())
async def test_put_gives_up_after_exactly_attempts_tries(
    s3_server: TestServer,
    client: S3Client,
    bucket: str,
    fault: Fault,
    error: type[Exception],
) -> None:
    retry = RetryPolicy(attempts=3, base=0.01, cap=0.02)
    async with proxied(s3_server, [Rule(fault, operation="PutObject")], retry=retry) as (
        proxy,
        through,
    ):
        with pytest.raises(error):
            await through.put_object(bucket, "never", b"x" * 1000)
    assert proxy.count("PutObject") == 3
    await settle(client, bucket, "never", proxy, None, recovered=False)


# -- multipart -----------------------------------------------------------------------------------


@pytest.fixture
async def source(aiohttp_server: object) -> tuple[SourceFiles, str]:
    files = SourceFiles()
    server = await aiohttp_server(files.app())  # type: ignore[operator]
    return files, str(server.make_url("/blob/"))


async def test_stream_upload_with_every_third_part_failing(
    s3_server: TestServer,
    client: S3Client,
    bucket: str,
    source: tuple[SourceFiles, str],
) -> None:
    files, base = source
    data = pattern(30 * MiB, seed=2)
    files.add("thirty", data)
    rules = [Rule([SLOW_DOWN, RESET_BEFORE_BODY], operation="UploadPart", every=3)]
    async with proxied(s3_server, rules) as (proxy, through):
        result = await stream_upload(through, bucket, "thirty", base + "thirty", part_size=PART)
    # Requests 3 and 6 of 8 fail (6 parts + 2 retries): one SlowDown, one reset.
    assert proxy.injected == {"503 SlowDown": 1, "reset-before": 1}
    assert proxy.count("UploadPart") == 8
    assert result.etag.strip('"') == expected_etag(data, PART)
    assert (await client.head_object(bucket, "thirty")).etag.strip('"') == expected_etag(data, PART)
    await settle(client, bucket, "thirty", proxy, data)


NO_SUCH_UPLOAD = Fault("error", 404, "NoSuchUpload")
LOST_COMPLETE = {
    "reset-after-complete": RESET_AFTER_BODY,
    "truncated-answer": TRUNCATE,
}


@pytest.mark.parametrize("fault", LOST_COMPLETE.values(), ids=LOST_COMPLETE.keys())
@pytest.mark.parametrize("retry_answer", ["server's own", "NoSuchUpload"])
async def test_lost_complete_answer_is_recognised(
    s3_server: TestServer, client: S3Client, bucket: str, fault: Fault, retry_answer: str
) -> None:
    """The first Complete succeeds on the server but its answer is lost; the retry must not fail.

    Servers differ in what they answer to the retry: RGW repeats its success, AWS says
    ``NoSuchUpload`` (the upload is gone). The second case is scripted at the proxy so the
    client's HEAD check is exercised on every server.
    """
    data = pattern(PART + 1000, seed=3)
    rules = [Rule(fault, operation="CompleteMultipartUpload", times=1)]
    if retry_answer == "NoSuchUpload":
        rules.append(Rule(NO_SUCH_UPLOAD, operation="CompleteMultipartUpload", times=1))
    async with proxied(s3_server, rules) as (proxy, through):
        up = through.multipart_uploader(bucket, "joined", part_size=PART)
        async with up:
            await up.write(data)
    assert proxy.count("CompleteMultipartUpload") == 2
    if retry_answer == "NoSuchUpload":
        assert proxy.count("HeadObject") == 1
    assert proxy.count("AbortMultipartUpload") == 0
    assert up.result is not None
    assert up.result.etag.strip('"') == expected_etag(data, PART)
    await settle(client, bucket, "joined", proxy, data)


async def test_no_such_upload_over_another_object_is_not_taken_for_success(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    """``NoSuchUpload`` while an older object holds the key: the HEAD check must refuse it."""
    old = b"an older object under the same key"
    await client.put_object(bucket, "contested", old)
    rules = [Rule(NO_SUCH_UPLOAD, operation="CompleteMultipartUpload")]
    async with proxied(s3_server, rules) as (proxy, through):
        up = through.multipart_uploader(bucket, "contested", part_size=PART)
        with pytest.raises(NoSuchUpload):
            async with up:
                await up.write(pattern(PART + 10, seed=7))
    assert proxy.count("HeadObject") == 1
    assert proxy.count("AbortMultipartUpload") == 1
    await settle(client, bucket, "contested", proxy, old, recovered=False)


EXHAUSTED = {"slowdown": (SLOW_DOWN, SlowDown), "reset": (RESET_BEFORE_BODY, TransportError)}


@pytest.mark.parametrize(("fault", "error"), EXHAUSTED.values(), ids=EXHAUSTED.keys())
async def test_retries_exhausted_mid_multipart_abort_the_upload(
    s3_server: TestServer,
    client: S3Client,
    bucket: str,
    source: tuple[SourceFiles, str],
    fault: Fault,
    error: type[Exception],
) -> None:
    files, base = source
    files.add("doomed", pattern(12 * MiB, seed=4))
    rules = [Rule(fault, operation="UploadPart", query={"partNumber": "2"})]
    retry = RetryPolicy(attempts=3, base=0.01, cap=0.02)
    async with proxied(s3_server, rules, retry=retry) as (proxy, through):
        with pytest.raises(error):
            await stream_upload(through, bucket, "doomed", base + "doomed", part_size=PART)
    assert proxy.count("UploadPart", partNumber="2") == 3
    assert proxy.count("AbortMultipartUpload") == 1
    assert proxy.count("CompleteMultipartUpload") == 0
    await settle(client, bucket, "doomed", proxy, None, recovered=False)


@pytest.mark.unsupported(
    "moto",
    reason="moto reports the same Initiated time (2010-11-10T20:48:33Z) for every multipart "
    "upload, so the upload a lost Create started cannot be told from older ones by its start",
)
async def test_lost_create_answer_leaves_no_upload_behind(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    """The server starts an upload but its answer is lost; the retry must not orphan it."""
    data = pattern(PART + 3000, seed=8)
    rules = [Rule(RESET_AFTER_BODY, operation="CreateMultipartUpload", times=1)]
    async with proxied(s3_server, rules) as (proxy, through):
        up = through.multipart_uploader(bucket, "created-twice", part_size=PART)
        async with up:
            await up.write(data)
    assert proxy.count("CreateMultipartUpload") == 2
    await settle(client, bucket, "created-twice", proxy, data)


async def test_stalled_part_times_out_and_is_retried(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    data = pattern(PART + 2000, seed=5)
    rules = [Rule(delay(3), operation="UploadPart", query={"partNumber": "1"}, times=1)]
    started = time.monotonic()
    async with proxied(s3_server, rules, timeouts=Timeouts(read=1)) as (proxy, through):
        up = through.multipart_uploader(bucket, "stalled", part_size=PART)
        async with up:
            await up.write(data)
    assert time.monotonic() - started < 10
    assert proxy.count("UploadPart", partNumber="1") == 2
    assert proxy.count("UploadPart", partNumber="2") == 1
    await settle(client, bucket, "stalled", proxy, data)


# -- clock skew ----------------------------------------------------------------------------------


@pytest.mark.unsupported(
    "moto",
    reason="moto does not compare x-amz-date with its clock (measured: requests dated "
    "+1 h and -3 days are accepted)",
)
async def test_skewed_clock_is_corrected_once(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    def ahead() -> float:
        return time.time() + 3600

    data = b"signed an hour ahead"
    async with proxied(s3_server, [], clock=ahead) as (proxy, through):
        await through.put_object(bucket, "skewed", data)
        assert proxy.count("PutObject") == 2
        assert abs(through.clock_offset + 3600) < 60
        await through.put_object(bucket, "skewed", data)
        assert proxy.count("PutObject") == 3
    await settle(client, bucket, "skewed", proxy, data)


# -- downloads -----------------------------------------------------------------------------------


async def test_truncated_download_is_a_typed_error(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    data = pattern(2 * MiB, seed=6)
    await client.put_object(bucket, "cut", data)
    async with proxied(s3_server, [Rule(TRUNCATE, operation="GetObject", times=1)]) as (
        proxy,
        through,
    ):
        with pytest.raises(TransportError) as caught:
            await through.get_object(bucket, "cut")
        assert not isinstance(caught.value, TransportTimeout)
        assert await through.get_object(bucket, "cut") == data
    await settle(client, bucket, "cut", proxy, data, recovered=False)


async def test_truncated_listing_is_retried(
    s3_server: TestServer, client: S3Client, bucket: str
) -> None:
    await client.put_object(bucket, "listed", b"1")
    async with proxied(s3_server, [Rule(TRUNCATE, operation="ListObjects", times=1)]) as (
        proxy,
        through,
    ):
        keys = [item.key async for item in through.list_objects(bucket)]
    assert keys == ["listed"]
    assert proxy.count("ListObjects") == 2
    await settle(client, bucket, "listed", proxy, b"1")
