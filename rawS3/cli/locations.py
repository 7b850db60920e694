"""``s3://bucket/key`` URLs as the ``raws3`` commands take them, and the error for bad ones."""

from __future__ import annotations

from dataclasses import dataclass

from rawS3.validation import check_bucket, check_key

__all__ = ["S3Location", "UsageError", "bucket_name", "object_location", "parse_s3_url"]


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


def object_location(text: str, command: str) -> S3Location:
    """Parse a URL that must name an object: ``s3://bucket/key`` with a valid key.

    Args:
        text: the URL as typed.
        command: how to name the command in the error message.

    Returns:
        The location, its key not empty.

    Raises:
        UsageError: not an ``s3://`` URL, no bucket, or no key.
        ValueError: the bucket name or the key breaks S3's rules.
    """
    location = parse_s3_url(text)
    if not location.key:
        raise UsageError(f"{command} needs an object URL s3://bucket/key, got {text!r}")
    check_key(location.key)
    return location


def bucket_name(text: str, command: str) -> str:
    """Parse a URL that must name a bucket alone: ``s3://bucket`` (or ``s3://bucket/``).

    Args:
        text: the URL as typed.
        command: how to name the command in the error message.

    Returns:
        The bucket name.

    Raises:
        UsageError: not an ``s3://`` URL, no bucket, or a key after it.
        ValueError: the bucket name breaks S3's naming rules.
    """
    location = parse_s3_url(text)
    if location.key:
        raise UsageError(f"{command} takes a bucket URL s3://bucket, got {text!r}")
    return location.bucket
