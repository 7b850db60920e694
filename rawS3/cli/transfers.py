"""The ``raws3`` commands that move object bodies: put, get, cat and cp.

Local files are read and written with plain blocking calls of at most 1 MiB, each followed by
a yield to the event loop. Reading 1 MiB from a local file takes well under a millisecond from
the page cache, so the part uploads sharing the loop barely notice, and without threads a
Ctrl-C cancels cleanly (the multipart upload is aborted, nothing is left behind). Only a pipe
on stdin, which may block for as long as its writer likes, is read through the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import mimetypes
import os
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from typing import BinaryIO, TextIO

from rawS3.cli.app import EXIT_OK, App
from rawS3.cli.locations import S3Location, UsageError, object_location, parse_s3_url
from rawS3.cli.meter import Counter
from rawS3.file_upload import FileUpload
from rawS3.operations.options import UploadOptions
from rawS3.progress import TransferProgress, format_bytes
from rawS3.results import PutResult
from rawS3.transfer import upload_stream
from rawS3.transfer_calls import DEFAULT_DOWNLOAD_CONCURRENCY, DEFAULT_ITER_CONCURRENCY
from rawS3.url_uploads import stream_upload
from rawS3.validation import check_key, check_source_url

__all__ = ["READ_SIZE", "cat", "cp", "get", "put"]

READ_SIZE = 1024 * 1024


async def put(app: App, args: argparse.Namespace) -> int:
    """``raws3 put``: upload a local file or stdin, in parts when it is larger than one.

    Args:
        app: the client and the output streams.
        args: ``file`` (``-`` for stdin), ``url``, ``part_size``, ``concurrency`` (a number or
            ``"auto"``), ``max_memory``, ``content_type``, ``metadata``, ``resume``,
            ``keep_on_failure`` and ``if_none_match`` (create only).

    Returns:
        The exit status.

    Raises:
        UsageError: ``--resume`` or ``--keep-on-failure`` with stdin or another stream, or
            with ``--if-none-match``.
    """
    location = parse_s3_url(args.url)
    key = _upload_key(location, args.file)
    content_type = args.content_type
    if content_type is None and args.file != "-":
        content_type = mimetypes.guess_type(args.file)[0]
    # A create-only upload streams the file: the resumable file upload sends no conditions.
    if _is_regular_file(args.file) and not args.if_none_match:
        return await _put_file(app, args, location.bucket, key, content_type)
    if args.resume is not None or args.keep_on_failure:
        raise UsageError("--resume and --keep-on-failure need a regular FILE (and no "
                         "--if-none-match)")
    # The bar counts what the server acknowledged (on_progress), not bytes put on the socket:
    # a part sent twice, or the framing around it, is not progress.
    async with _reading(args.file) as (chunks, size), app.meter(size, Counter()) as meter:
        result = await upload_stream(
            app.client,
            location.bucket,
            key,
            chunks,
            size=size,
            part_size=args.part_size,
            concurrency=args.concurrency,
            max_memory=args.max_memory,
            content_type=content_type,
            metadata=dict(args.metadata),
            options=UploadOptions(if_none_match="*" if args.if_none_match else None),
            on_progress=meter.follow,
        )
    app.say(f"upload: {args.file} -> s3://{location.bucket}/{key} ({_summary(result)})")
    return EXIT_OK


async def _put_file(
    app: App, args: argparse.Namespace, bucket: str, key: str, content_type: str | None
) -> int:
    """Upload a local file with its parts read where they lie; resumable by upload id."""
    size = os.stat(args.file).st_size
    meter = app.meter(size, Counter())  # parts acknowledged (or found stored), as file bytes
    upload = FileUpload(
        app.client,
        bucket,
        key,
        args.file,
        part_size=args.part_size,
        concurrency=args.concurrency,
        max_memory=args.max_memory,
        resume=args.resume,
        keep_on_failure=args.keep_on_failure,
        content_type=content_type,
        metadata=dict(args.metadata),
        on_progress=meter.follow,
    )
    try:
        async with meter:
            result = await upload.run()
    except BaseException:
        if args.keep_on_failure and upload.upload_id is not None:
            # Said on stderr whatever the failure: Ctrl-C included, the id is all that resumes.
            print(
                f"upload kept; resume it with: --resume {upload.upload_id}",
                file=app.stderr,
                flush=True,
            )
        raise
    plural = "s" if upload.reused > 1 else ""
    resumed = f", {upload.reused} part{plural} already stored" if upload.reused else ""
    app.say(f"upload: {args.file} -> s3://{bucket}/{key} ({_summary(result)}{resumed})")
    return EXIT_OK


def _is_regular_file(path: str) -> bool:
    # Blocking on purpose, like the reads: a local stat returns at once. Pipes, terminals
    # and other streams cannot be read at offsets: they take the streaming path.
    return path != "-" and os.path.isfile(path)


def _upload_key(location: S3Location, path: str) -> str:
    key = location.key
    if not key or key.endswith("/"):
        if path == "-":
            raise UsageError("uploading stdin needs a full key: s3://bucket/key")
        key += os.path.basename(path)
    return check_key(key)


def _summary(result: PutResult) -> str:
    how = f"{result.parts} parts" if result.parts else "1 request"
    return f"{format_bytes(result.size)} in {how}, ETag {result.etag}"


@contextlib.asynccontextmanager
async def _reading(path: str) -> AsyncIterator[tuple[AsyncIterator[bytes], int | None]]:
    """Open a local file (or stdin for ``-``): its chunks, and its size when it has one."""
    if path != "-":
        with _open_local(path) as handle:
            yield _file_chunks(handle), os.fstat(handle.fileno()).st_size
        return
    stdin = sys.stdin.buffer
    info = os.fstat(stdin.fileno())
    if stat.S_ISREG(info.st_mode):
        yield _file_chunks(stdin), info.st_size - stdin.tell()
        return
    async with _pipe_chunks(stdin) as chunks:
        yield chunks, None


def _open_local(path: str) -> BinaryIO:
    # Blocking on purpose, like the reads: a local open returns at once.
    return open(path, "rb")


async def _file_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    # Blocking reads of a local file are short (see the module docstring); the sleep(0)
    # lets part uploads run between them.
    while chunk := handle.read(READ_SIZE):
        yield chunk
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def _pipe_chunks(stream: BinaryIO) -> AsyncIterator[AsyncIterator[bytes]]:
    """Read a pipe or terminal through the event loop: its writer may take any time."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_SIZE)
    descriptor = os.dup(stream.fileno())
    pipe = os.fdopen(descriptor, "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), pipe
    )

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await reader.read(READ_SIZE):
            yield chunk

    try:
        yield chunks()
    finally:
        # The pipe transport made the shared file description non-blocking; a shell reading
        # the same terminal afterwards expects blocking reads.
        with contextlib.suppress(OSError):
            os.set_blocking(stream.fileno(), True)
        transport.close()


async def get(app: App, args: argparse.Namespace) -> int:
    """``raws3 get``: download an object to a local file, or to stdout for ``-``.

    A file is downloaded with parallel ranged GETs (``S3Client.download``): written into a
    temporary file that replaces FILE only when complete; with ``--resume`` an interrupted
    download is kept as ``FILE.raws3-part`` and continued from there by the next ``--resume``.
    Stdout gets the bytes in order (``S3Client.iter_download``).

    Args:
        app: the client and the output streams.
        args: ``url``, ``file`` (``None``: the key's last segment), ``part_size``,
            ``concurrency``, ``resume`` and ``version_id`` (all four may be absent, as for
            ``cat``).

    Returns:
        The exit status.
    """
    location = object_location(args.url, "get")
    target = _local_target(args.file, location.key)
    version = getattr(args, "version_id", None)  # cat has none
    part_size = getattr(args, "part_size", None)
    concurrency = getattr(args, "concurrency", None)
    received = Counter()
    async with app.meter(None, received) as meter:

        def follow(progress: TransferProgress) -> None:
            meter.follow(progress)

        if target == "-":
            pieces = app.client.iter_download(
                location.bucket,
                location.key,
                version_id=version,
                part_size=part_size,
                concurrency=concurrency or DEFAULT_ITER_CONCURRENCY,
                on_progress=follow,
            )
            with _writing(app.stdout) as out:
                async with contextlib.aclosing(pieces):
                    async for piece in pieces:
                        out.write(piece)
            return EXIT_OK
        resume = bool(getattr(args, "resume", False))
        result = await app.client.download(
            location.bucket,
            location.key,
            target,
            version_id=version,
            part_size=part_size,
            concurrency=concurrency or DEFAULT_DOWNLOAD_CONCURRENCY,
            resume=resume,
            on_progress=follow,
        )
    resumed = f", {format_bytes(result.resumed)} resumed" if result.resumed else ""
    app.say(f"download: {location} -> {target} ({format_bytes(result.size)}{resumed})")
    return EXIT_OK


async def cat(app: App, args: argparse.Namespace) -> int:
    """``raws3 cat``: write an object to stdout; ``get URL -`` by another name.

    Args:
        app: the client and the output streams.
        args: ``url``.

    Returns:
        The exit status.
    """
    args.file = "-"
    return await get(app, args)


def _local_target(given: str | None, key: str) -> str:
    """The file to download into: as given, or the key's last segment (inside a directory)."""
    if given is None:
        return _last_segment(key)
    if given != "-" and os.path.isdir(given):
        return os.path.join(given, _last_segment(key))
    return given


def _last_segment(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if not name:
        raise UsageError(f"cannot name a local file after the key {key!r}; give FILE")
    return name


@contextlib.contextmanager
def _writing(stdout: TextIO) -> Iterator[BinaryIO]:
    """Stdout's bytes, flushed when the object is written whole (a file goes through
    ``S3Client.download``, which owns its temporary file)."""
    yield stdout.buffer
    stdout.buffer.flush()


async def cp(app: App, args: argparse.Namespace) -> int:
    """``raws3 cp``: stream an http(s) URL into an object, part by part (``stream_upload``).

    Args:
        app: the client and the output streams.
        args: ``source``, ``url``, ``part_size`` and ``concurrency``.

    Returns:
        The exit status.
    """
    check_source_url(args.source)
    location = object_location(args.url, "cp")
    async with app.meter(None):
        result = await stream_upload(
            app.client,
            location.bucket,
            location.key,
            args.source,
            part_size=args.part_size,
            concurrency=args.concurrency,
        )
    app.say(f"copy: {args.source} -> {location} ({_summary(result)})")
    return EXIT_OK
