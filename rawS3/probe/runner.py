"""Running the catalogue: one bucket of the probe's own, the checks with bounded concurrency
and a time limit each, and cleanup that runs whatever happened (failure, Ctrl-C, cancellation).

Cleanup deletes every object version and delete marker, aborts every multipart upload, and
deletes every bucket the probe made, in passes (an upload a cancelled request started may
appear a moment late); what it could not delete is reported, never hidden.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timezone

from rawS3.client import S3Client
from rawS3.errors import RawS3Error
from rawS3.probe.context import Context, texts
from rawS3.probe.model import Check, Observation, Result, StepRefusedError, feature
from rawS3.probe.report import Report

__all__ = ["cleanup", "run_probe"]

CLEANUP_PASSES = 3
DELETE_CONCURRENCY = 8


async def run_probe(
    client: S3Client,
    checks: Sequence[Check],
    *,
    concurrency: int = 4,
    check_timeout: float = 30.0,
    on_result: Callable[[Result], None] | None = None,
) -> Report:
    """Run ``checks`` against the client's server and delete everything they made.

    Args:
        client: the client (endpoint and credentials of the server under test).
        checks: the checks to run.
        concurrency: how many checks run at once.
        check_timeout: seconds a check may take before it counts as an error.
        on_result: called with each result as it comes.

    Returns:
        The report (results in catalogue order).

    Raises:
        RawS3Error: the probe's bucket could not be created (nothing else was sent).
    """
    started = client._clock.now().astimezone(timezone.utc)
    bucket = f"raws3-probe-{uuid.uuid4().hex[:12]}"
    buckets = [bucket]
    clock = time.monotonic()
    results: list[Result] = []
    left: list[str] = []
    try:
        first = await client.request("PUT", bucket, expect=200)
        server = first.headers.get("Server", "")
        results = await _run_all(client, bucket, buckets, checks, concurrency, check_timeout,
                                 on_result)
    finally:
        left = await cleanup(client, buckets)
    return Report(
        endpoint=client.endpoint_url,
        server=server,
        started=started.isoformat(timespec="seconds"),
        seconds=round(time.monotonic() - clock, 2),
        results=tuple(results),
        left_behind=tuple(left),
    )


async def _run_all(
    client: S3Client,
    bucket: str,
    buckets: list[str],
    checks: Sequence[Check],
    concurrency: int,
    check_timeout: float,
    on_result: Callable[[Result], None] | None,
) -> list[Result]:
    limit = asyncio.Semaphore(concurrency)

    async def one(index: int, check: Check) -> Result:
        async with limit:
            context = Context(client, bucket, f"{index:03d}-{check.id}/", buckets)
            result = await _run_one(check, context, check_timeout)
        if on_result is not None:
            on_result(result)
        return result

    tasks = [asyncio.ensure_future(one(i, check)) for i, check in enumerate(checks)]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        # On cancellation gather returns at once; wait for every check to have stopped,
        # so that cleanup does not race a request still in flight.
        for task in tasks:
            task.cancel()
        if tasks:  # asyncio.wait refuses an empty list
            await asyncio.wait(tasks)


async def _run_one(check: Check, context: Context, check_timeout: float) -> Result:
    clock = time.monotonic()
    try:
        observation = await asyncio.wait_for(check.run(context), check_timeout)
    except StepRefusedError as refused:
        judged = feature(refused.answer)
        detail = f"{refused.what}: {judged.detail}" if refused.what else judged.detail
        observation = Observation(judged.verdict, judged.status, judged.code, detail)
    except asyncio.TimeoutError:
        observation = Observation("error", detail=f"no answer within {check_timeout:g} s")
    except Exception as exc:  # a check that crashed is reported, and the others still run
        observation = Observation("error", detail=f"{type(exc).__name__}: {exc}"[:200])
    return Result(check, observation, round(time.monotonic() - clock, 3))


async def cleanup(client: S3Client, buckets: Sequence[str]) -> list[str]:
    """Delete the buckets and everything in them: versions, markers, uploads.

    Runs to the end even when the task is cancelled meanwhile (the cancellation is raised
    afterwards).

    Args:
        client: the client.
        buckets: the buckets to delete (some may not exist: a create that never landed).

    Returns:
        The buckets that could not be deleted, with the reason.

    Raises:
        asyncio.CancelledError: the task was cancelled meanwhile (after cleanup finished).
    """
    task = asyncio.ensure_future(_cleanup_all(client, list(buckets)))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return task.result()


async def _cleanup_all(client: S3Client, buckets: list[str]) -> list[str]:
    problems: dict[str, str] = {}
    # The shared bucket first: it holds the most, which gives a CreateBucket cut short by a
    # cancellation time to land before the checks' own buckets are looked for.
    for bucket in buckets:
        problems[bucket] = await _delete_bucket(client, bucket) or ""
    for late in await _late_buckets(client, buckets):
        if not problems.get(late):
            problems[late] = await _delete_bucket(client, late) or ""
    return [f"{bucket}: {problem}" for bucket, problem in problems.items() if problem]


async def _late_buckets(client: S3Client, buckets: list[str]) -> list[str]:
    """Buckets named after the probe's that exist though cleanup deleted them (or never saw
    them created): a create the server carried out after its request was cancelled."""
    prefix = buckets[0][:40] + "-"
    try:
        answer = await client.request("GET")
    except RawS3Error:
        return []
    names = texts(answer.body, "Buckets", "Bucket", "Name")
    return [name for name in names if name == buckets[0] or name.startswith(prefix)]


async def _delete_bucket(client: S3Client, bucket: str) -> str | None:
    problem = "not tried"
    for attempt in range(CLEANUP_PASSES):
        try:
            await _empty(client, bucket)
            answer = await client.request("DELETE", bucket)
        except RawS3Error as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status in (204, 200, 404):
                return None
            code = " ".join(texts(answer.body, "Code"))
            problem = f"DeleteBucket answered {answer.status} {code}".strip()
        if attempt + 1 < CLEANUP_PASSES:
            await asyncio.sleep(0.2 * (attempt + 1))
    return problem


async def _empty(client: S3Client, bucket: str) -> None:
    uploads = await client.request("GET", bucket, query={"uploads": None})
    if uploads.status == 404:
        return
    for key, upload_id in zip(texts(uploads.body, "Upload", "Key"),
                              texts(uploads.body, "Upload", "UploadId"), strict=False):
        await client.request("DELETE", bucket, key, query={"uploadId": upload_id})
    for _ in range(100):  # pages of 1000: far more than a probe writes
        if not await _delete_a_page(client, bucket):
            return


async def _delete_a_page(client: S3Client, bucket: str) -> bool:
    """Delete one page of versions (or of objects, where versions cannot be listed).

    Returns whether anything was deleted."""
    answer = await client.request("GET", bucket, query={"versions": None})
    found: list[tuple[str, str | None]] = []
    keys: list[str]
    versions: list[str]
    if answer.status == 200:
        for kind in ("Version", "DeleteMarker"):
            keys = texts(answer.body, kind, "Key")
            versions = texts(answer.body, kind, "VersionId")
            found += list(zip(keys, versions, strict=False))
    # "null" names the unversioned object only where versioning is on; elsewhere a plain
    # DELETE removes it (and some servers refuse versionId=null in an unversioned bucket).
    versioned = any(version not in ("", "null") for _, version in found)
    found = [(key, version if versioned and version else None) for key, version in found]
    if not found:
        listing = await client.request("GET", bucket, query={"list-type": "2"})
        found = [(key, None) for key in texts(listing.body, "Contents", "Key")]
    if not found:
        return False
    plain = [key for key, version in found if version is None]
    if plain:
        try:  # one DeleteObjects request per 1000 keys, where the server has it
            await client.delete_objects(bucket, plain, quiet=True)
            found = [(key, version) for key, version in found if version is not None]
        except (RawS3Error, ValueError):
            pass  # not offered, or a key the client would not send (over 1024 bytes): then
            # one DELETE per key
    limit = asyncio.Semaphore(DELETE_CONCURRENCY)

    async def delete(key: str, version: str | None) -> None:
        async with limit:
            query = {"versionId": version} if version else None
            await client.request("DELETE", bucket, key, query=query)

    await asyncio.gather(*(delete(key, version) for key, version in found))
    return True
