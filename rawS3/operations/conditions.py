"""Conditional requests: the ``If-*`` headers of reads, writes and copy sources.

Reads (GET, HEAD) take all four HTTP conditions. A conditional read that does not hold raises
``PreconditionFailed`` (412, ``If-Match`` / ``If-Unmodified-Since``) or ``NotModified`` (304,
``If-None-Match`` / ``If-Modified-Since``); both are typed errors, so "not modified" is told
apart from every failure by its class. Writes (PutObject, CopyObject, CompleteMultipartUpload)
take ``If-Match`` with an ETag or ``If-None-Match: *`` ("create only"), never both: S3 refuses
the pair. A copy's source takes the ``x-amz-copy-source-if-*`` family.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rawS3.validation import check_header

__all__ = [
    "copy_source_condition_headers",
    "http_date",
    "read_condition_headers",
    "write_condition_headers",
]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(name: str, when: object) -> str:
    """Return ``when`` as an HTTP date (``Sun, 06 Nov 1994 08:49:37 GMT``).

    Args:
        name: the argument's name, for the message.
        when: an aware ``datetime`` (a naive one has no defined instant).

    Returns:
        The IMF-fixdate text, in GMT.

    Raises:
        TypeError: not a ``datetime``.
        ValueError: a naive ``datetime``.
    """
    if not isinstance(when, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc))")
    utc = when.astimezone(timezone.utc)
    return (
        f"{_WEEKDAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} GMT"
    )


def _etag(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str (an ETag or '*'), not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty: give an ETag or '*'")
    return check_header(name, value)[1]


def read_condition_headers(
    *,
    if_match: object = None,
    if_none_match: object = None,
    if_modified_since: object = None,
    if_unmodified_since: object = None,
    prefix: str = "",
) -> dict[str, str]:
    """Return the conditions of a read (or, with ``prefix``, of a copy's source).

    Args:
        if_match: an ETag (as S3 sends it, quoted) or ``"*"``.
        if_none_match: an ETag or ``"*"``.
        if_modified_since: an aware ``datetime``.
        if_unmodified_since: an aware ``datetime``.
        prefix: ``""`` for ``If-*``, ``"x-amz-copy-source-"`` for a copy's source.

    Returns:
        The headers.

    Raises:
        TypeError, ValueError: an argument of the wrong type, an empty ETag, a naive date.
    """
    pairs = (
        ("If-Match", if_match is not None and _etag("if_match", if_match)),
        ("If-None-Match", if_none_match is not None and _etag("if_none_match", if_none_match)),
        (
            "If-Modified-Since",
            if_modified_since is not None and http_date("if_modified_since", if_modified_since),
        ),
        (
            "If-Unmodified-Since",
            if_unmodified_since is not None
            and http_date("if_unmodified_since", if_unmodified_since),
        ),
    )
    return {
        f"{prefix}{name.lower()}" if prefix else name: value
        for name, value in pairs
        if isinstance(value, str)
    }


def write_condition_headers(
    *, if_match: object = None, if_none_match: object = None
) -> dict[str, str]:
    """Return the conditions of a write: ``If-Match`` an ETag, or ``If-None-Match: *``.

    Args:
        if_match: the ETag the current object must have (quoted, as S3 sends it).
        if_none_match: ``"*"``: write only if no object has the key.

    Returns:
        The headers.

    Raises:
        TypeError: an argument that is not a ``str``.
        ValueError: both given (S3 refuses the pair), an empty ETag, or an
            ``if_none_match`` other than ``"*"`` (the only value S3 takes on writes).
    """
    if if_match is not None and if_none_match is not None:
        raise ValueError("give if_match or if_none_match, not both: S3 refuses them together")
    if if_none_match is not None and _etag("if_none_match", if_none_match) != "*":
        raise ValueError(
            f'if_none_match on a write must be "*" (create only), got {if_none_match!r}'
        )
    return read_condition_headers(if_match=if_match, if_none_match=if_none_match)


def copy_source_condition_headers(
    *,
    if_match: object = None,
    if_none_match: object = None,
    if_modified_since: object = None,
    if_unmodified_since: object = None,
) -> dict[str, str]:
    """Return the ``x-amz-copy-source-if-*`` conditions on a copy's source.

    Args:
        if_match: the ETag the source must have.
        if_none_match: an ETag the source must not have.
        if_modified_since: copy only if the source changed since then.
        if_unmodified_since: copy only if the source has not changed since then.

    Returns:
        The headers.

    Raises:
        TypeError, ValueError: an argument of the wrong type, an empty ETag, a naive date.
    """
    arguments = {
        "copy_source_if_match": if_match,
        "copy_source_if_none_match": if_none_match,
    }
    for name, value in arguments.items():
        if value is not None:
            _etag(name, value)
    return read_condition_headers(
        if_match=if_match,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_unmodified_since=if_unmodified_since,
        prefix="x-amz-copy-source-",
    )
