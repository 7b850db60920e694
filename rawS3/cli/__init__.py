"""The ``raws3`` command line (also ``python -m rawS3``): buckets and objects from a shell.

Each subcommand is a small coroutine over one ``S3Client``. Expected failures never end in a
traceback: S3 errors, transport and source errors exit with 1, bad arguments, URLs or
configuration with 2, each with a one-line message on stderr; ``main`` maps them.

The pieces:

- ``parsing``: the argument parser, its option types and help text;
- ``locations``: ``s3://bucket/key`` URLs, and ``UsageError``;
- ``app``: what a running command gets (client, options, output), and how errors read;
- ``meter``: the progress bar kept current while bytes move (drawn by ``rawS3.progress``);
- ``commands``: ls, mb, rb, rm, presign and head;
- ``transfers``: put, get, cat and cp, with local files, stdin and stdout;
- ``demo``: the demo command; ``demo_source``: its files and their local web server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, TextIO

from rawS3.cli.app import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, describe_error, run
from rawS3.cli.locations import S3Location, UsageError, parse_s3_url
from rawS3.cli.parsing import PROG, build_parser, parse_size
from rawS3.errors import CredentialsError, RawS3Error

__all__ = ["S3Location", "UsageError", "build_parser", "main", "parse_s3_url", "parse_size"]


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
        return asyncio.run(_interruptible(run(args, stdout, stderr)))
    except (UsageError, ValueError, TypeError, CredentialsError) as exc:
        # No credentials is a matter of configuration, as a bad option is.
        print(f"{PROG}: error: {exc}", file=stderr)
        return EXIT_USAGE
    except RawS3Error as exc:
        print(describe_error(exc, debug=args.debug), file=stderr)
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


async def _interruptible(command: Coroutine[Any, Any, int]) -> int:
    """Run ``command`` so that Ctrl-C cancels it, and its cleanup (aborts, deletes) still runs.

    Python 3.11's ``asyncio.run`` does this itself; on 3.10 a ``KeyboardInterrupt`` lands in
    whatever callback is running and ``asyncio.run`` then cancels every task, cleanups too.
    """
    task = asyncio.ensure_future(command)
    loop = asyncio.get_running_loop()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (ValueError, RuntimeError, NotImplementedError):
        return await task  # not the main thread (or no signals here): Ctrl-C is not ours
    try:
        return await task
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _log_to(stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("rawS3")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
