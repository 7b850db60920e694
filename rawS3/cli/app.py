"""What a running ``raws3`` command works with, and how its errors read.

``run`` opens one aiohttp session, whose request body bytes are counted for the progress bar,
puts an ``S3Client`` on it, and hands that, the options and the output streams to the
command's coroutine as an ``App``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TextIO, TypeAlias

import aiohttp

from rawS3.cli.meter import Counter, Meter, terminal_bar
from rawS3.client import S3Client
from rawS3.config import Timeouts
from rawS3.errors import RawS3Error, S3Error, SignatureDoesNotMatch
from rawS3.progress import ProgressBar

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "App",
    "Handler",
    "describe_error",
    "run",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class App:
    """What every command needs: the client, the options, and where output goes.

    Attributes:
        client: the S3 client, on a session that counts the request body bytes it sends.
        args: the parsed command line.
        stdout: where results go.
        stderr: where errors and the progress bar go.
        sent: the request body bytes sent so far.
    """

    client: S3Client
    args: argparse.Namespace
    stdout: TextIO
    stderr: TextIO
    sent: Counter = field(default_factory=Counter)

    def say(self, text: str) -> None:
        """Print a result line, unless ``--quiet``.

        Args:
            text: the line, without its line ending.
        """
        if not self.args.quiet:
            print(text, file=self.stdout, flush=True)

    def meter(self, total: int | None, counter: Counter | None = None) -> Meter:
        """A progress meter over ``counter`` (default: bytes sent in request bodies).

        Args:
            total: the transfer's size in bytes, or ``None`` when unknown.
            counter: where the transfer counts its bytes; default ``sent``.

        Returns:
            The meter, to enter around the transfer; it draws only on a terminal, and not
            with ``--quiet`` or ``--debug``.
        """
        return Meter(self._bar(total), self.sent if counter is None else counter)

    def _bar(self, total: int | None) -> ProgressBar | None:
        # Log lines would tear a line being redrawn in place: --debug turns the bar off.
        if self.args.quiet or self.args.debug or not self.stderr.isatty():
            return None
        return terminal_bar(self.stderr, total, after=self.args.progress_after)


Handler: TypeAlias = Callable[[App, argparse.Namespace], Awaitable[int]]


async def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run the command that ``args`` names (its ``handler``) with a client of its own.

    Args:
        args: the parsed command line.
        stdout: where results go.
        stderr: where errors and the progress bar go.

    Returns:
        The command's exit status.
    """
    counter = Counter()
    session = _session(counter)
    try:
        client = S3Client(
            endpoint_url=args.endpoint_url,
            region=args.region,
            addressing=args.addressing,
            verify_tls=not args.no_verify_tls,
            ca_file=args.ca_file,
            session=session,
            profile=getattr(args, "profile", None),
        )
        app = App(client, args, stdout, stderr, counter)
        result: int = await args.handler(app, args)
        return result
    finally:
        await session.close()


def _session(counter: Counter) -> aiohttp.ClientSession:
    limits = Timeouts()
    return aiohttp.ClientSession(
        auto_decompress=False,
        trust_env=True,  # HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as AWS's tools honour them
        timeout=aiohttp.ClientTimeout(
            total=limits.total, sock_connect=limits.connect, sock_read=limits.read
        ),
        trace_configs=[_tracing(counter)],
    )


def _tracing(counter: Counter) -> aiohttp.TraceConfig:
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


def describe_error(exc: RawS3Error, *, debug: bool) -> str:
    """One line for an error (``Code: message (request id X)``), plus the diagnosis if asked.

    Args:
        exc: the error.
        debug: whether ``--debug`` was given: a signature mismatch then shows what was
            signed on both sides, instead of a hint to ask for that.

    Returns:
        The text to print, without a final line ending.
    """
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
