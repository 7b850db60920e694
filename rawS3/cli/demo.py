"""``raws3 demo``: the three one-call uploads against the endpoint, each checked.

``upload_file``, ``fetch_and_upload`` and ``stream_upload`` run one after the other; every
object is read back and compared with its source, byte for byte and by the ETag computed
here, and the objects (and a bucket created for the demo) are deleted afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

from rawS3.cli.app import EXIT_FAILED, EXIT_OK, App, describe_error
from rawS3.cli.demo_source import DemoSource, demo_source
from rawS3.client import S3Client
from rawS3.errors import NoSuchBucket, RawS3Error
from rawS3.parts import DEFAULT_PART_SIZE, multipart_etag, split
from rawS3.progress import format_bytes
from rawS3.validation import check_bucket, check_source_url
from rawS3.xml import strip_etag

__all__ = ["demo"]


@dataclass(frozen=True, slots=True)
class _Call:
    text: str
    key: str
    expected: bytes
    multipart: bool
    run: Callable[[], Awaitable[None]]


async def demo(app: App, args: argparse.Namespace) -> int:
    """``raws3 demo``: run the three calls, read every object back, compare, clean up.

    Args:
        app: the client and the output streams.
        args: ``bucket`` (``None``: a fresh one), ``url`` (``None``: a local server)
            and ``keep``.

    Returns:
        The exit status: 1 when any call or check failed.
    """
    client, out = app.client, app.stdout
    bucket = check_bucket(args.bucket or f"raws3-demo-{secrets.token_hex(6)}")
    if args.url is not None:
        check_source_url(args.url)
    print(f"rawS3 demo against {client.endpoint_url} (region {client.region})", file=out)
    async with demo_source(args.url) as source:
        print(f"source: {source.note}", file=out)
        created = await _ensure_bucket(client, bucket)
        print(f"bucket: {bucket} ({'created' if created else 'already there'})\n", file=out)
        failures = 0
        try:
            for call in _calls(client, bucket, source):
                failures += not await _run_call(client, bucket, call, out)
        finally:
            failures += not await _cleanup(app, bucket, created)
    verdict = "all three calls verified" if not failures else f"{failures} check(s) FAILED"
    print(f"\n{verdict}", file=out, flush=True)
    return EXIT_FAILED if failures else EXIT_OK


def _calls(client: S3Client, bucket: str, source: DemoSource) -> list[_Call]:
    return [
        _Call(
            f"upload_file({bucket!r}, 'metaclass.txt', b'test')",
            "metaclass.txt", b"test", False,
            lambda: client.upload_file(bucket, "metaclass.txt", b"test"),
        ),
        _Call(
            f"fetch_and_upload({bucket!r}, 'dog.gif', {source.dog_url!r})",
            "dog.gif", source.dog, False,
            lambda: client.fetch_and_upload(bucket, "dog.gif", source.dog_url),
        ),
        _Call(
            f"stream_upload({bucket!r}, 'big.bin', {source.big_url!r})",
            "big.bin", source.big, True,
            lambda: client.stream_upload(bucket, "big.bin", source.big_url),
        ),
    ]


async def _ensure_bucket(client: S3Client, bucket: str) -> bool:
    """Make sure the bucket exists; return whether it was created here."""
    try:
        await client.head_bucket(bucket)
    except NoSuchBucket:
        await client.create_bucket(bucket)
        return True
    return False


async def _run_call(client: S3Client, bucket: str, call: _Call, out: TextIO) -> bool:
    """Run one call, read its object back, print what happened; return whether all held."""
    print(call.text, file=out, flush=True)
    started = time.perf_counter()
    try:
        await call.run()
        took = time.perf_counter() - started
        head = await client.head_object(bucket, call.key)
        body = await client.get_object(bucket, call.key)
    except RawS3Error as exc:
        print(f"  FAILED  {describe_error(exc, debug=False)}", file=out)
        return False
    expected_etag = _expected_etag(call.expected, multipart=call.multipart)
    problems = _problems(call.expected, body, head.size, head.etag, expected_etag)
    parts = _etag_parts(head.etag)
    how = f"{parts} parts of up to {format_bytes(DEFAULT_PART_SIZE)}" if parts else "1 PUT"
    print(f"  {format_bytes(head.size)} ({head.size:,} bytes) in {how}, {took:.3f} s", file=out)
    print(f"  ETag {head.etag}", file=out)
    verdict = "; ".join(problems) or "byte-exact, ETag as computed"
    print(f"  read back: {verdict}", file=out, flush=True)
    return not problems


def _problems(
    expected: bytes, body: bytes, size: int, etag: str, expected_etag: str
) -> list[str]:
    problems = []
    if body != expected:
        problems.append(f"FAILED: got {len(body):,} bytes that differ from the source")
    if size != len(expected):
        problems.append(f"FAILED: HEAD says {size:,} bytes, the source has {len(expected):,}")
    if strip_etag(etag) != expected_etag:
        problems.append(f"FAILED: ETag should be \"{expected_etag}\"")
    return problems


def _expected_etag(data: bytes, *, multipart: bool) -> str:
    if not multipart:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    pieces = list(split(len(data), DEFAULT_PART_SIZE)) or [(0, 0)]
    view = memoryview(data)
    return multipart_etag(
        hashlib.md5(view[start : start + length], usedforsecurity=False).digest()
        for start, length in pieces
    )


def _etag_parts(etag: str) -> int:
    _, dash, count = strip_etag(etag).rpartition("-")
    return int(count) if dash and count.isdigit() else 0


async def _cleanup(app: App, bucket: str, created: bool) -> bool:
    out = app.stdout
    if app.args.keep:
        print(f"\nkept: s3://{bucket}/metaclass.txt, dog.gif, big.bin", file=out)
        return True
    try:
        result = await app.client.delete_objects(bucket, ["metaclass.txt", "dog.gif", "big.bin"])
        if created:
            await app.client.delete_bucket(bucket)
    except RawS3Error as exc:
        print(f"\ncleanup FAILED: {describe_error(exc, debug=False)}", file=out)
        return False
    for error in result.errors:
        print(f"\ncleanup FAILED: {error.code}: {error.message} ({error.key})", file=out)
    removed = " and the bucket" if created else ""
    print(f"\ncleanup: deleted the three objects{removed}", file=out)
    return not result.errors
