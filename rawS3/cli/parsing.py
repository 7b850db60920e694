"""The ``raws3`` argument parser: its subcommands, their options, option types and help text.

Nothing here runs a command: each subcommand's parser leaves its coroutine in ``handler``,
for ``rawS3.cli.app.run`` to call.
"""

from __future__ import annotations

import argparse
import re
from typing import TypeAlias

from rawS3.cli.app import Handler
from rawS3.cli.commands import DELETE_BATCH, head, ls, mb, presign, rb, rm
from rawS3.cli.demo import demo
from rawS3.cli.identity import whoami
from rawS3.cli.probe import add_arguments as add_probe_arguments
from rawS3.cli.probe import probe
from rawS3.cli.transfers import cat, cp, get, put
from rawS3.presigning import PRESIGN_METHODS, RESPONSE_OVERRIDES

__all__ = ["EPILOG", "PROG", "build_parser", "parse_size"]

PROG = "raws3"
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

EPILOG = """\
configuration (a flag wins over the environment):
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
        the endpoint, like --endpoint-url (default: https://s3.REGION.amazonaws.com)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
        the credentials (there are no flags for them, so that they never show up in a
        process listing or a shell history); else the rest of the standard chain: web
        identity, the --profile (AWS_PROFILE) of ~/.aws/credentials and ~/.aws/config,
        the container endpoint, EC2 instance metadata; `raws3 whoami` shows which
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


# -- option types ----------------------------------------------------------------------------


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
    group.add_argument("--addressing", choices=("path", "virtual"), default=default(None),
                       help="host/bucket/key (path, the default) or bucket.host/key (virtual)")
    group.add_argument("--profile", metavar="NAME", default=default(None),
                       help="the profile of ~/.aws/config and ~/.aws/credentials to use "
                            "(default: AWS_PROFILE, else default)")
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
                _add_presign, _add_head, _add_demo, _add_whoami, _add_probe):
        add(commands, common)
    return parser


def _command(
    commands: _Commands,
    common: argparse.ArgumentParser,
    name: str,
    summary: str,
    handler: Handler,
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
                   "list buckets, or the objects and prefixes under s3://bucket[/prefix]", ls)
    sub.add_argument("url", nargs="?", metavar="s3://bucket[/prefix]")
    sub.add_argument("-r", "--recursive", action="store_true",
                     help="list every key under the prefix instead of grouping by '/'")
    sub.add_argument("--versions", action="store_true",
                     help="list every version and delete marker under the prefix")


def _add_mb(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "mb", "make a bucket", mb)
    sub.add_argument("url", metavar="s3://bucket")


def _add_rb(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "rb", "remove an empty bucket", rb)
    sub.add_argument("url", metavar="s3://bucket")
    sub.add_argument("--force", action="store_true",
                     help="first delete every object and abort every unfinished upload in it")


def _add_put(commands: _Commands,
             common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "put",
                   "upload a local file ('-' for stdin); files larger than one part go up "
                   "in parts", put)
    sub.add_argument("file", metavar="FILE")
    sub.add_argument("url", metavar="s3://bucket/key",
                     help="a URL ending in '/' appends the file's name")
    _add_upload_options(sub, files=True)
    sub.add_argument("--content-type", metavar="TYPE",
                     help="default: guessed from the file name")
    sub.add_argument("--metadata", metavar="NAME=VALUE", type=_metadata_item, action="append",
                     default=[], help="user metadata (x-amz-meta-NAME); repeatable")
    sub.add_argument("--if-none-match", action="store_true",
                     help="create only: fail with PreconditionFailed if the key exists")
    sub.add_argument("--resume", metavar="UPLOAD_ID",
                     help="finish an interrupted multipart upload of FILE: parts the server "
                     "holds that match the file are not sent again")
    sub.add_argument("--keep-on-failure", action="store_true",
                     help="on failure or Ctrl-C keep the multipart upload and print the id "
                     "to --resume it with, instead of aborting it")


def _add_upload_options(sub: argparse.ArgumentParser, *, files: bool = False) -> None:
    sub.add_argument("--part-size", metavar="SIZE", type=_size_argument,
                     help="bytes per part, 5MiB to 5GiB (default 8MiB; grows for huge files)")
    if not files:
        sub.add_argument("--concurrency", metavar="N", type=int, default=4,
                         help="parts uploading at once (default 4)")
        return
    sub.add_argument("--concurrency", metavar="N|auto", type=_concurrency_argument,
                     default="auto",
                     help="parts uploading at once; 'auto' (the default) sends a FILE's "
                     "parts all at once if they fit --max-memory, else starts at 8 and "
                     "doubles to 16 while the throughput grows")
    sub.add_argument("--max-memory", metavar="SIZE", type=_size_argument,
                     help="at most this much part data in flight (default with 'auto': "
                     "128MiB)")


def _concurrency_argument(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


def _add_get(commands: _Commands,
             common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "get",
                   "download an object to FILE (default: the key's last segment), "
                   "or to stdout with '-'", get)
    sub.add_argument("url", metavar="s3://bucket/key")
    sub.add_argument("file", nargs="?", metavar="FILE|-")
    sub.add_argument("--part-size", metavar="SIZE", type=_size_argument,
                     help="bytes per ranged GET, 64KiB or more (default: the object "
                     "spread over the ranges in flight, 1MiB to 8MiB each)")
    sub.add_argument("--concurrency", metavar="N", type=int,
                     help="ranges in flight (default 16 into a file, 4 to stdout)")
    sub.add_argument("--resume", action="store_true",
                     help="keep an interrupted download as FILE.raws3-part and continue it "
                          "next time, if the object is unchanged")
    _add_version_id(sub)


def _add_version_id(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--version-id", metavar="ID", help="this version of the object")


def _add_cat(commands: _Commands,
             common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "cat", "write an object to stdout", cat)
    sub.add_argument("url", metavar="s3://bucket/key")


def _add_rm(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "rm",
                   "delete an object, or with --recursive every key starting with a prefix",
                   rm)
    sub.add_argument("url", metavar="s3://bucket/key")
    sub.add_argument("-r", "--recursive", action="store_true",
                     help="delete every key that starts with the URL's key (end it with '/' "
                          "to stay inside one 'directory')")
    sub.add_argument("--batch-size", metavar="N", type=_batch_size, default=DELETE_BATCH,
                     help=f"keys per DeleteObjects request with --recursive, 1 to "
                          f"{DELETE_BATCH} (default {DELETE_BATCH})")
    _add_version_id(sub)


def _add_cp(commands: _Commands,
            common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "cp",
                   "stream an http(s) URL into an object, part by part (stream_upload)", cp)
    sub.add_argument("source", metavar="URL")
    sub.add_argument("url", metavar="s3://bucket/key")
    _add_upload_options(sub)


def _add_presign(commands: _Commands,
                 common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "presign",
                   "print a URL that performs one request on an object for a while "
                   "(GET unless --method or --put)", presign)
    sub.add_argument("url", metavar="s3://bucket/key")
    sub.add_argument("--put", action="store_true", help="a URL to upload with (--method PUT)")
    sub.add_argument("--method", choices=PRESIGN_METHODS,
                     help="the method the URL is for (default GET)")
    sub.add_argument("--expires", metavar="SECONDS", type=int, default=3600,
                     help="validity, 1 to 604800 seconds (default 3600)")
    sub.add_argument("--version-id", metavar="ID", help="one version of the object")
    sub.add_argument("--upload-id", metavar="ID",
                     help="a multipart upload: UploadPart (PUT, with --part-number), Complete "
                          "(POST), Abort (DELETE) or ListParts (GET)")
    sub.add_argument("--part-number", metavar="N", type=int, help="the part to upload, 1-10000")
    sub.add_argument("--header", metavar="NAME:VALUE", action="append",
                     help="a header the URL's user must send exactly (signed); repeatable")
    for argument in RESPONSE_OVERRIDES:
        header = argument.removeprefix("response_").replace("_", "-")
        sub.add_argument(f"--{argument.replace('_', '-')}", metavar="VALUE",
                         help=f"GET only: the answer's {header} header")


def _add_head(commands: _Commands,
              common: argparse.ArgumentParser) -> None:
    sub = _command(commands, common, "head",
                   "show an object's size, ETag, type, date, metadata, tags and encryption",
                   head)
    sub.add_argument("url", metavar="s3://bucket/key")
    _add_version_id(sub)


def _add_demo(commands: _Commands,
              common: argparse.ArgumentParser) -> None:
    sub = _command(
        commands, common, "demo",
        "run the three one-call uploads (upload_file, fetch_and_upload, stream_upload) "
        "against the endpoint, read every object back and compare", demo)
    sub.add_argument("--bucket", metavar="NAME",
                     help="use (or create) this bucket; default: a fresh raws3-demo-... bucket")
    sub.add_argument("--url", metavar="URL",
                     help="download this URL for dog.gif and big.bin; default: a local HTTP "
                          "server started on 127.0.0.1 with generated files")
    sub.add_argument("--keep", action="store_true",
                     help="leave the objects (and a bucket created here) in place")


def _add_whoami(commands: _Commands,
                common: argparse.ArgumentParser) -> None:
    _command(commands, common, "whoami",
             "show which source supplied the credentials, their access key id and the region "
             "(never the secret)", whoami)


def _add_probe(commands: _Commands,
               common: argparse.ArgumentParser) -> None:
    sub = _command(
        commands, common, "probe",
        "run a catalogue of protocol checks against the endpoint in a bucket of its own, "
        "delete everything it made, and report what the server enforces", probe)
    add_probe_arguments(sub)
