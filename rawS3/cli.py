"""The ``raws3`` command line (also ``python -m rawS3``): buckets and objects from a shell.

Each subcommand is a small coroutine over one ``S3Client``. Expected failures never end in a
traceback: S3 errors, transport and source errors exit with 1, bad arguments, URLs or
configuration with 2, each with a one-line message on stderr.

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
import hashlib
import logging
import mimetypes
import os
import random
import re
import secrets
import stat
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace, TracebackType
from typing import BinaryIO, TextIO, TypeAlias

import aiohttp

from rawS3.client import S3Client
from rawS3.config import Timeouts
from rawS3.errors import NoSuchBucket, RawS3Error, S3Error, SignatureDoesNotMatch, SourceError
from rawS3.parts import DEFAULT_PART_SIZE, multipart_etag, split
from rawS3.progress import ProgressBar, format_bytes
from rawS3.results import PutResult
from rawS3.transfer import stream_upload, upload_stream
from rawS3.validation import check_bucket, check_key, check_source_url
from rawS3.xml import strip_etag

__all__ = ["S3Location", "UsageError", "build_parser", "main", "parse_s3_url", "parse_size"]

PROG = "raws3"
READ_SIZE = 1024 * 1024
DELETE_BATCH = 1000
TICK_SECONDS = 0.1
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MiB = 1024 * 1024
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

EPILOG = """\
configuration (a flag wins over the environment):
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
        the endpoint, like --endpoint-url (default: https://s3.REGION.amazonaws.com)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
        the credentials (required; there are no flags for them, so that they never
        show up in a process listing or a shell history)
  AWS_SESSION_TOKEN
        the session token of temporary credentials
  AWS_REGION, AWS_DEFAULT_REGION
        the signing region, like --region (default: us-east-1)

exit status:
  0  success
  1  the server refused (printed as "Code: message (request id ...)"), it could not be
     reached, a source URL failed, or a local file could not be read or written
  2  usage error: bad arguments, a malformed s3:// URL, no credentials, a bad endpoint
"""


class UsageError(ValueError):
    """The command line asks for something impossible; reported like argparse, exit status 2."""


@dataclass(frozen=True, slots=True)
class S3Location:
    """A parsed ``s3://bucket/key`` URL.

    Attributes:
        bucket: the bucket name (validated).
        key: everything after the first ``/`` after the bucket; ``""`` when absent.
    """

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(text: str) -> S3Location:
    """Split ``s3://bucket[/key]`` into bucket and key.

    Args:
        text: the URL as typed.

    Returns:
        The location; ``key`` is ``""`` for ``s3://bucket`` and ``s3://bucket/``.

    Raises:
        UsageError: not an ``s3://`` URL, or no bucket.
        ValueError: the bucket name breaks S3's naming rules.
    """
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "s3":
        raise UsageError(f"expected an s3://bucket/key URL, got {text!r}")
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise UsageError(f"no bucket in {text!r}; write s3://bucket/key")
    return S3Location(check_bucket(bucket), key)


_SIZE = re.compile(r"(\d+)\s*([kmg](?:ib)?)?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """Read a byte count such as ``5242880``, ``8M``, ``8MiB`` or ``1G`` (powers of 1024).

    Args:
        text: digits, optionally followed by ``K``, ``M``, ``G``, ``KiB``, ``MiB`` or ``GiB``.

    Returns:
        The number of bytes.

    Raises:
        ValueError: anything else.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected a size like 8388608, 8M or 8MiB, got {text!r}")
    unit = (match.group(2) or "")[:1].lower()
    return int(match.group(1)) * _SIZE_UNITS[unit]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def _size_argument(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= DELETE_BATCH:
        raise argparse.ArgumentTypeError(f"expected 1 to {DELETE_BATCH}, got {text!r}")
    return value


def _metadata_item(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


# -- the parser ------------------------------------------------------------------------------


def _common_options(*, for_subcommand: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the subcommand.

    A subcommand's copy has no defaults (SUPPRESS), so it only overrides what was given there.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if for_subcommand else value

    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection and output")
    group.add_argument("--endpoint-url", metavar="URL", default=default(None),
                       help="the S3 endpoint, e.g. http://127.0.0.1:9000")
    group.add_argument("--region", default=default(None), help="the signing region")
    group.add_argument("--addressing", choices=("path", "virtual"), default=default("path"),
                       help="host/bucket/key (path, the default) or bucket.host/key (virtual)")
    group.add_argument("--ca-file", metavar="PEM", default=default(None),
                       help="trust the CA certificates in this PEM file instead of the system's")
    group.add_argument("--no-verify-tls", action="store_true", default=default(False),
                       help="do not check the server's TLS certificate (testing only)")
    group.add_argument("--debug", action="store_true", default=default(False),
                       help="log every request (signature redacted) and explain signature "
                            "mismatches on stderr; no progress bar")
    group.add_argument("-q", "--quiet", action="store_true", default=default(False),
                       help="no progress bar and no result lines; errors are still printed")
    group.add_argument("--progress-after", metavar="SECONDS", type=_seconds,
                       default=default(1.0),
                       help="show the progress bar (stderr must be a terminal) for transfers "
                            "that last longer than this (default 1)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``raws3`` with all its subcommands.

    Returns:
        The parser; ``parse_args`` leaves the coroutine to run in ``handler``.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Work with S3 buckets and objects through rawS3.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(for_subcommand=False)],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options(for_subcommand=True)
    for add in (_add_ls, _add_mb, _add_rb, _add_put, _add_get, _add_cat, _add_rm, _add_cp,
                _add_presign, _add_head, _add_demo):
        add(commands, common)
    return parser


def _command(
    commands: _Commands,
    common: argparse.ArgumentParser,
    name: str,
    summary: str,
    handler: Callable[[_App, argparse.Namespace], Awaitable[int]],
) -> argparse.ArgumentParser:
    sub = commands.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub.set_defaults(handler=handler)
    return sub


def _add_ls(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "ls",
                   "list buckets, or the objects and prefixes under s3://bucket[/prefix]", _ls)
    sub.add_argument("url", nargs="?", metavar="s3://bucket[/prefix]")
    sub.add_argument("-r", "--recursive", action="store_true",
                     help="list every key under the prefix instead of grouping by '/'")


def _add_mb(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "mb", "make a bucket", _mb)
    sub.add_argument("url", metavar="s3://bucket")


def _add_rb(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "rb", "remove an empty bucket", _rb)
    sub.add_argument("url", metavar="s3://bucket")
    sub.add_argument("--force", action="store_true",
                     help="first delete every object and abort every unfinished upload in it")


def _add_put(commands: _Commands,
             common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "put",
                   "upload a local file ('-' for stdin); files larger than one part go up "
                   "in parts", _put)
    sub.add_argument("file", metavar="FILE")
    sub.add_argument("url", metavar="s3://bucket/key",
                     help="a URL ending in '/' appends the file's name")
    _add_upload_options(sub)
    sub.add_argument("--content-type", metavar="TYPE",
                     help="default: guessed from the file name")
    sub.add_argument("--metadata", metavar="NAME=VALUE", type=_metadata_item, action="append",
                     default=[], help="user metadata (x-amz-meta-NAME); repeatable")


def _add_upload_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--part-size", metavar="SIZE", type=_size_argument,
                     help="bytes per part, 5MiB to 5GiB (default 8MiB; grows for huge files)")
    sub.add_argument("--concurrency", metavar="N", type=int, default=4,
                     help="parts uploading at once (default 4)")


def _add_get(commands: _Commands,
             common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "get",
                   "download an object to FILE (default: the key's last segment), "
                   "or to stdout with '-'", _get)
    sub.add_argument("url", metavar="s3://bucket/key")
    sub.add_argument("file", nargs="?", metavar="FILE|-")


def _add_cat(commands: _Commands,
             common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "cat", "write an object to stdout", _cat)
    sub.add_argument("url", metavar="s3://bucket/key")


def _add_rm(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "rm",
                   "delete an object, or with --recursive every key starting with a prefix",
                   _rm)
    sub.add_argument("url", metavar="s3://bucket/key")
    sub.add_argument("-r", "--recursive", action="store_true",
                     help="delete every key that starts with the URL's key (end it with '/' "
                          "to stay inside one 'directory')")
    sub.add_argument("--batch-size", metavar="N", type=_batch_size, default=DELETE_BATCH,
                     help=f"keys per DeleteObjects request with --recursive, 1 to "
                          f"{DELETE_BATCH} (default {DELETE_BATCH})")


def _add_cp(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "cp",
                   "stream an http(s) URL into an object, part by part (stream_upload)", _cp)
    sub.add_argument("source", metavar="URL")
    sub.add_argument("url", metavar="s3://bucket/key")
    _add_upload_options(sub)


def _add_presign(commands: _Commands,
                 common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "presign",
                   "print a URL that grants GET (or PUT) on an object for a while", _presign)
    sub.add_argument("url", metavar="s3://bucket/key")
    sub.add_argument("--put", action="store_true", help="a URL to upload with, not download")
    sub.add_argument("--expires", metavar="SECONDS", type=int, default=3600,
                     help="validity, 1 to 604800 seconds (default 3600)")


def _add_head(commands: _Commands,
              common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "head",
                   "show an object's size, ETag, type, date and metadata", _head)
    sub.add_argument("url", metavar="s3://bucket/key")


def _add_demo(commands: _Commands,
              common: argparse.ArgumentParser) -> None:
    sub = _command(
        commands, common, "demo",
        "run the original task's three calls (upload_file, fetch_and_upload, stream_upload) "
        "against the endpoint, read every object back and compare", _demo)
    sub.add_argument("--bucket", metavar="NAME",
                     help="use (or create) this bucket; default: a fresh raws3-demo-... bucket")
    sub.add_argument("--url", metavar="URL",
                     help="download this URL for dog.gif and big.bin; default: a local HTTP "
                          "server started on 127.0.0.1 with generated files")
    sub.add_argument("--keep", action="store_true",
                     help="leave the objects (and a bucket created here) in place")


# -- running ---------------------------------------------------------------------------------


class _Counter:
    """A running byte count that request tracing or a download loop adds to."""

    def __init__(self) -> None:
        self.value = 0


class _Meter:
    """Keeps a ``ProgressBar`` current while a transfer runs: ``async with app.meter(...)``."""

    def __init__(self, bar: ProgressBar | None, counter: _Counter) -> None:
        self._bar = bar
        self._counter = counter
        self._base = counter.value
        self._ticker: asyncio.Task[None] | None = None

    @property
    def done(self) -> int:
        return self._counter.value - self._base

    async def __aenter__(self) -> _Meter:
        if self._bar is not None:
            self._ticker = asyncio.ensure_future(self._tick(self._bar))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._bar is not None:
            self._bar.finish(self.done, time.monotonic())

    async def _tick(self, bar: ProgressBar) -> None:
        # A timer rather than per-chunk updates: the rate and ETA stay current during a stall.
        while True:
            bar.update(self.done, time.monotonic())
            await asyncio.sleep(TICK_SECONDS)


@dataclass
class _App:
    """What every command needs: the client, the options, and where output goes."""

    client: S3Client
    args: argparse.Namespace
    stdout: TextIO
    stderr: TextIO
    sent: _Counter = field(default_factory=_Counter)

    def say(self, text: str) -> None:
        """Print a result line, unless ``--quiet``."""
        if not self.args.quiet:
            print(text, file=self.stdout, flush=True)

    def meter(self, total: int | None, counter: _Counter | None = None) -> _Meter:
        """A progress meter over ``counter`` (default: bytes sent in request bodies)."""
        return _Meter(self._bar(total), self.sent if counter is None else counter)

    def _bar(self, total: int | None) -> ProgressBar | None:
        # Log lines would tear a line being redrawn in place: --debug turns the bar off.
        if self.args.quiet or self.args.debug or not self.stderr.isatty():
            return None
        return ProgressBar(
            self.stderr,
            total=total,
            start=time.monotonic(),
            after=self.args.progress_after,
            interval=TICK_SECONDS,
            width=_terminal_width(self.stderr),
        )


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError):
        return 80


def _tracing(counter: _Counter) -> aiohttp.TraceConfig:
    """Count request body bytes as aiohttp hands them to the socket: upload progress."""
    trace = aiohttp.TraceConfig()

    async def on_chunk(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        counter.value += len(params.chunk)

    trace.on_request_chunk_sent.append(on_chunk)
    return trace


def _session(counter: _Counter) -> aiohttp.ClientSession:
    limits = Timeouts()
    return aiohttp.ClientSession(
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(
            total=limits.total, sock_connect=limits.connect, sock_read=limits.read
        ),
        trace_configs=[_tracing(counter)],
    )


async def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    counter = _Counter()
    session = _session(counter)
    try:
        client = S3Client(
            endpoint_url=args.endpoint_url,
            region=args.region,
            addressing=args.addressing,
            verify_tls=not args.no_verify_tls,
            ca_file=args.ca_file,
            session=session,
        )
        app = _App(client, args, stdout, stderr, counter)
        result: int = await args.handler(app, args)
        return result
    finally:
        await session.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``raws3`` with ``argv`` (default: the process's arguments).

    Args:
        argv: the arguments after the program name.

    Returns:
        The exit status: 0 success, 1 failure (S3, transport, source or local file),
        2 usage error, 130 interrupted.

    Raises:
        SystemExit: from argparse, for ``--help`` and malformed command lines (status 2).
    """
    args = build_parser().parse_args(argv)
    stdout, stderr = sys.stdout, sys.stderr
    if args.debug:
        _log_to(stderr)
    try:
        return asyncio.run(_run(args, stdout, stderr))
    except (UsageError, ValueError, TypeError) as exc:
        print(f"{PROG}: error: {exc}", file=stderr)
        return EXIT_USAGE
    except RawS3Error as exc:
        print(_describe_error(exc, debug=args.debug), file=stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`raws3 cat ... | head`); say nothing, and keep the
        # interpreter from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{PROG}: {where}{exc.strerror or exc}", file=stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return EXIT_INTERRUPTED


def _log_to(stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("rawS3")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)


def _describe_error(exc: RawS3Error, *, debug: bool) -> str:
    """One line for an error (``Code: message (request id X)``), plus the diagnosis if asked."""
    if not isinstance(exc, S3Error):
        return f"{type(exc).__name__}: {exc}"
    line = f"{exc.code}: {_s3_message(exc)}"
    if exc.request_id:
        line += f" (request id {exc.request_id})"
    if isinstance(exc, SignatureDoesNotMatch):
        if debug and exc.diagnosis:
            line += f"\n{exc.diagnosis}"
        elif not debug:
            line += "\n(check the secret key; --debug compares what was signed on both sides)"
    return line


def _s3_message(exc: S3Error) -> str:
    # HEAD answers carry no body, so no message: say what the code means instead.
    if exc.message:
        return exc.message
    if type(exc) is not S3Error and type(exc).__doc__:
        return (type(exc).__doc__ or "").strip().splitlines()[0]
    return f"HTTP status {exc.status}"


# -- commands --------------------------------------------------------------------------------


def _object(text: str, command: str) -> S3Location:
    location = parse_s3_url(text)
    if not location.key:
        raise UsageError(f"{command} needs an object URL s3://bucket/key, got {text!r}")
    check_key(location.key)
    return location


def _bucket_only(text: str, command: str) -> str:
    location = parse_s3_url(text)
    if location.key:
        raise UsageError(f"{command} takes a bucket URL s3://bucket, got {text!r}")
    return location.bucket


async def _ls(app: _App, args: argparse.Namespace) -> int:
    if args.url is None:
        for bucket in await app.client.list_buckets():
            print(f"{bucket.creation_date:%Y-%m-%d %H:%M:%S}  {bucket.name}", file=app.stdout)
        return EXIT_OK
    location = parse_s3_url(args.url)
    pages = app.client.list_pages(
        location.bucket,
        prefix=location.key or None,
        delimiter=None if args.recursive else "/",
    )
    async for page in pages:
        for prefix in page.common_prefixes:
            print(f"{'':19}  {'PRE':>12}  {prefix}", file=app.stdout)
        for item in page.contents:
            print(f"{item.last_modified:%Y-%m-%d %H:%M:%S}  {item.size:>12}  {item.key}",
                  file=app.stdout)
    return EXIT_OK


async def _mb(app: _App, args: argparse.Namespace) -> int:
    bucket = _bucket_only(args.url, "mb")
    await app.client.create_bucket(bucket)
    app.say(f"make_bucket: s3://{bucket}")
    return EXIT_OK


async def _rb(app: _App, args: argparse.Namespace) -> int:
    bucket = _bucket_only(args.url, "rb")
    if args.force:
        for upload in await app.client.list_multipart_uploads(bucket):
            await app.client.abort_multipart_upload(bucket, upload.key, upload.upload_id)
        if await _delete_prefix(app, bucket, "", DELETE_BATCH):
            return EXIT_FAILED
    await app.client.delete_bucket(bucket)
    app.say(f"remove_bucket: s3://{bucket}")
    return EXIT_OK


async def _rm(app: _App, args: argparse.Namespace) -> int:
    if args.recursive:
        location = parse_s3_url(args.url)
        failures = await _delete_prefix(app, location.bucket, location.key, args.batch_size)
        return EXIT_FAILED if failures else EXIT_OK
    location = _object(args.url, "rm (without --recursive)")
    await app.client.delete_object(location.bucket, location.key)
    app.say(f"delete: {location}")
    return EXIT_OK


async def _delete_prefix(app: _App, bucket: str, prefix: str, batch_size: int) -> int:
    """Delete every key under ``prefix`` in batches as the listing goes; return the failures."""
    failures = 0
    batch: list[str] = []
    async for item in app.client.list_objects(bucket, prefix=prefix or None):
        batch.append(item.key)
        if len(batch) == batch_size:
            failures += await _delete_batch(app, bucket, batch)
            batch = []
    if batch:
        failures += await _delete_batch(app, bucket, batch)
    return failures


async def _delete_batch(app: _App, bucket: str, keys: list[str]) -> int:
    result = await app.client.delete_objects(bucket, keys)
    failed = {error.key for error in result.errors}
    for error in result.errors:
        print(f"{error.code}: {error.message} (s3://{bucket}/{error.key})", file=app.stderr)
    for key in keys:
        if key not in failed:
            app.say(f"delete: s3://{bucket}/{key}")
    return len(failed)


async def _put(app: _App, args: argparse.Namespace) -> int:
    location = parse_s3_url(args.url)
    key = _upload_key(location, args.file)
    content_type = args.content_type
    if content_type is None and args.file != "-":
        content_type = mimetypes.guess_type(args.file)[0]
    async with _reading(args.file) as (chunks, size), app.meter(size):
        result = await upload_stream(
            app.client,
            location.bucket,
            key,
            chunks,
            size=size,
            part_size=args.part_size,
            concurrency=args.concurrency,
            content_type=content_type,
            metadata=dict(args.metadata),
        )
    app.say(f"upload: {args.file} -> s3://{location.bucket}/{key} ({_summary(result)})")
    return EXIT_OK


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


async def _get(app: _App, args: argparse.Namespace) -> int:
    location = _object(args.url, "get")
    target = _local_target(args.file, location.key)
    received = _Counter()
    async with app.client.open_object(location.bucket, location.key) as stream:
        with _writing(target, app.stdout) as out:
            async with app.meter(stream.head.size, received):
                async for chunk in stream.iter_chunks(READ_SIZE):
                    out.write(chunk)
                    received.value += len(chunk)
    if target != "-":
        app.say(f"download: {location} -> {target} ({format_bytes(received.value)})")
    return EXIT_OK


async def _cat(app: _App, args: argparse.Namespace) -> int:
    args.file = "-"
    return await _get(app, args)


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
def _writing(target: str, stdout: TextIO) -> Iterator[BinaryIO]:
    """Write to stdout, or to a temporary file that replaces ``target`` only when complete."""
    if target == "-":
        yield stdout.buffer
        stdout.buffer.flush()
        return
    partial = f"{target}.raws3-{os.getpid()}.part"
    try:
        with open(partial, "xb") as handle:
            yield handle
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


async def _cp(app: _App, args: argparse.Namespace) -> int:
    check_source_url(args.source)
    location = _object(args.url, "cp")
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


async def _presign(app: _App, args: argparse.Namespace) -> int:
    location = _object(args.url, "presign")
    sign = app.client.presign_put if args.put else app.client.presign_get
    print(sign(location.bucket, location.key, expires=args.expires), file=app.stdout)
    return EXIT_OK


async def _head(app: _App, args: argparse.Namespace) -> int:
    location = _object(args.url, "head")
    head = await app.client.head_object(location.bucket, location.key)
    fields = [
        ("url", str(location)),
        ("size", str(head.size)),
        ("etag", head.etag),
        ("content-type", head.content_type or ""),
        ("last-modified", head.last_modified or ""),
    ]
    if head.version_id:
        fields.append(("version-id", head.version_id))
    fields.extend((f"meta-{name}", value) for name, value in sorted(head.metadata.items()))
    for name, value in fields:
        print(f"{name + ':':<15}{value}", file=app.stdout)
    return EXIT_OK


# -- demo ------------------------------------------------------------------------------------

DEMO_DOG_SIZE = 3 * MiB
DEMO_STREAM_SIZE = 24 * MiB + 512 * 1024
# Irregular write sizes for the streamed file, so the uploader must assemble its parts.
_DEMO_PIECES = (1, 4093, 65536, 262147, 1000003, 77)


@dataclass(frozen=True, slots=True)
class _DemoSource:
    dog_url: str
    big_url: str
    dog: bytes
    big: bytes
    note: str


@dataclass(frozen=True, slots=True)
class _DemoCall:
    text: str
    key: str
    expected: bytes
    multipart: bool
    run: Callable[[], Awaitable[None]]


async def _demo(app: _App, args: argparse.Namespace) -> int:
    client, out = app.client, app.stdout
    bucket = check_bucket(args.bucket or f"raws3-demo-{secrets.token_hex(6)}")
    if args.url is not None:
        check_source_url(args.url)
    print(f"rawS3 demo against {client.endpoint_url} (region {client.region})", file=out)
    async with _demo_source(args.url) as source:
        print(f"source: {source.note}", file=out)
        created = await _demo_bucket(client, bucket)
        print(f"bucket: {bucket} ({'created' if created else 'already there'})\n", file=out)
        failures = 0
        try:
            for call in _demo_calls(client, bucket, source):
                failures += not await _demo_call(client, bucket, call, out)
        finally:
            failures += not await _demo_cleanup(app, bucket, created)
    verdict = "all three calls verified" if not failures else f"{failures} check(s) FAILED"
    print(f"\n{verdict}", file=out, flush=True)
    return EXIT_FAILED if failures else EXIT_OK


def _demo_calls(client: S3Client, bucket: str, source: _DemoSource) -> list[_DemoCall]:
    return [
        _DemoCall(
            f"upload_file({bucket!r}, 'metaclass.txt', b'test')",
            "metaclass.txt", b"test", False,
            lambda: client.upload_file(bucket, "metaclass.txt", b"test"),
        ),
        _DemoCall(
            f"fetch_and_upload({bucket!r}, 'dog.gif', {source.dog_url!r})",
            "dog.gif", source.dog, False,
            lambda: client.fetch_and_upload(bucket, "dog.gif", source.dog_url),
        ),
        _DemoCall(
            f"stream_upload({bucket!r}, 'big.bin', {source.big_url!r})",
            "big.bin", source.big, True,
            lambda: client.stream_upload(bucket, "big.bin", source.big_url),
        ),
    ]


async def _demo_bucket(client: S3Client, bucket: str) -> bool:
    """Make sure the bucket exists; return whether it was created here."""
    try:
        await client.head_bucket(bucket)
    except NoSuchBucket:
        await client.create_bucket(bucket)
        return True
    return False


async def _demo_call(client: S3Client, bucket: str, call: _DemoCall, out: TextIO) -> bool:
    """Run one call, read its object back, print what happened; return whether all held."""
    print(call.text, file=out, flush=True)
    started = time.perf_counter()
    try:
        await call.run()
        took = time.perf_counter() - started
        head = await client.head_object(bucket, call.key)
        body = await client.get_object(bucket, call.key)
    except RawS3Error as exc:
        print(f"  FAILED  {_describe_error(exc, debug=False)}", file=out)
        return False
    expected_etag = _expected_etag(call.expected, multipart=call.multipart)
    problems = _demo_problems(call.expected, body, head.size, head.etag, expected_etag)
    parts = _etag_parts(head.etag)
    how = f"{parts} parts of up to {format_bytes(DEFAULT_PART_SIZE)}" if parts else "1 PUT"
    print(f"  {format_bytes(head.size)} ({head.size:,} bytes) in {how}, {took:.3f} s", file=out)
    print(f"  ETag {head.etag}", file=out)
    verdict = "; ".join(problems) or "byte-exact, ETag as computed"
    print(f"  read back: {verdict}", file=out, flush=True)
    return not problems


def _demo_problems(
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


async def _demo_cleanup(app: _App, bucket: str, created: bool) -> bool:
    out = app.stdout
    if app.args.keep:
        print(f"\nkept: s3://{bucket}/metaclass.txt, dog.gif, big.bin", file=out)
        return True
    try:
        result = await app.client.delete_objects(bucket, ["metaclass.txt", "dog.gif", "big.bin"])
        if created:
            await app.client.delete_bucket(bucket)
    except RawS3Error as exc:
        print(f"\ncleanup FAILED: {_describe_error(exc, debug=False)}", file=out)
        return False
    for error in result.errors:
        print(f"\ncleanup FAILED: {error.code}: {error.message} ({error.key})", file=out)
    removed = " and the bucket" if created else ""
    print(f"\ncleanup: deleted the three objects{removed}", file=out)
    return not result.errors


@contextlib.asynccontextmanager
async def _demo_source(url: str | None) -> AsyncIterator[_DemoSource]:
    """The files to fetch: from ``url`` (downloaded once here to compare), else served locally."""
    if url is not None:
        body = await _download(url)
        yield _DemoSource(url, url, body, body, f"{url} ({format_bytes(len(body))})")
        return
    rng = random.Random(2024)
    dog = b"GIF89a" + rng.randbytes(DEMO_DOG_SIZE - 6)
    big = rng.randbytes(DEMO_STREAM_SIZE)
    async with _serving(dog, big) as base:
        note = (
            f"local HTTP server {base} (dog.gif {format_bytes(len(dog))}; big.bin "
            f"{format_bytes(len(big))}, chunked, in irregular pieces)"
        )
        yield _DemoSource(f"{base}/dog.gif", f"{base}/big.bin", dog, big, note)


async def _download(url: str) -> bytes:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url) as response,
        ):
            if not 200 <= response.status < 300:
                raise SourceError(url=url, status=response.status, message=response.reason or "")
            return await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise SourceError(url=url, status=None, message=f"{type(exc).__name__}: {exc}") from exc


@contextlib.asynccontextmanager
async def _serving(dog: bytes, big: bytes) -> AsyncIterator[str]:
    """Serve ``/dog.gif`` and ``/big.bin`` on a free 127.0.0.1 port; yield the base URL."""
    from aiohttp import web

    async def serve_dog(request: web.Request) -> web.Response:
        return web.Response(body=dog, content_type="image/gif")

    async def serve_big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        offset, turn = 0, 0
        while offset < len(big):
            size = _DEMO_PIECES[turn % len(_DEMO_PIECES)]
            await response.write(big[offset : offset + size])
            offset, turn = offset + size, turn + 1
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/dog.gif", serve_dog)
    app.router.add_get("/big.bin", serve_big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
