"""``raws3 probe``: run the conformance catalogue against the endpoint and print the report.

The table goes to stdout; ``--json`` and ``--markdown`` also write the report to files (their
folders checked before anything is sent, so a bad path fails first; each file written whole
once the probe has run, so a run that fails or is interrupted leaves an earlier report as it
was, not emptied). The exit status is 0 whenever the probe
ran, whatever the verdicts; 1 when it could not run (the bucket could not be made, the server
could not be reached) or could not delete everything it made; 2 for usage errors.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
from pathlib import Path

from rawS3.cli.app import EXIT_FAILED, EXIT_OK, App
from rawS3.download import _write_atomically
from rawS3.probe.checks import GROUPS, select
from rawS3.probe.report import to_json, to_markdown, to_table
from rawS3.probe.runner import run_probe

__all__ = ["add_arguments", "parse_groups", "probe"]


def parse_groups(text: str) -> list[str]:
    """Read ``--only``: group names separated by commas.

    Args:
        text: e.g. ``auth,payload``.

    Returns:
        The names.

    Raises:
        argparse.ArgumentTypeError: an unknown or empty name.
    """
    names = [name.strip() for name in text.split(",")]
    try:
        select(names)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return names


def add_arguments(sub: argparse.ArgumentParser) -> None:
    """Add the probe's options to its subcommand parser.

    Args:
        sub: the ``probe`` subcommand's parser.
    """
    sub.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    sub.add_argument("--markdown", metavar="FILE",
                     help="also write the report as a Markdown table to FILE")
    sub.add_argument("--only", metavar="GROUP,...", type=parse_groups,
                     help=f"run only these groups of checks: {', '.join(GROUPS)}")
    sub.add_argument("--label", metavar="NAME",
                     help="name the server in the reports (e.g. minio); default: the endpoint")
    sub.add_argument("--concurrency", type=int, default=4, choices=range(1, 17),
                     metavar="N", help="checks run at once (1-16, default 4)")


async def probe(app: App, args: argparse.Namespace) -> int:
    """``raws3 probe``: run the checks, print the table, write the files, clean up.

    Args:
        app: the client and the output streams.
        args: ``json``, ``markdown``, ``only``, ``label`` and ``concurrency``.

    Returns:
        The exit status.
    """
    for path in (args.json, args.markdown):
        if path is not None:
            _check_writable(path)
    report = await run_probe(app.client, select(args.only), concurrency=args.concurrency)
    print(to_table(report), end="", file=app.stdout)
    if args.json is not None:
        document = json.dumps(to_json(report, name=args.label), indent=1, ensure_ascii=False)
        _write_atomically(args.json, (document + "\n").encode("utf-8"))
    if args.markdown is not None:
        _write_atomically(args.markdown, to_markdown(report, name=args.label).encode("utf-8"))
    if report.left_behind:
        print("raws3: the probe could not delete: " + "; ".join(report.left_behind),
              file=app.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _check_writable(path: str) -> None:
    """Raise the ``OSError`` writing ``path`` would meet, without touching it."""
    folder = Path(path).parent
    if Path(path).is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))
    if not os.access(folder, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
