"""Argument checks that run before anything is sent.

Every check raises ``TypeError`` for a value of the wrong type and ``ValueError`` for a value
S3 would refuse, with a message that says what was given and what is allowed. The checks are
pure: they read no clock, touch no network, and return the value they accept.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_PRESIGN_SECONDS",
    "check_bucket",
    "check_buffer",
    "check_byte_range",
    "check_expires",
    "check_header",
    "check_key",
    "check_metadata",
    "check_positive_int",
    "check_source_url",
    "check_upload_id",
]

MAX_KEY_BYTES = 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # S3's limit for a SigV4 presigned URL
_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
# RFC 9110 token characters: what an HTTP header name may hold.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@functools.lru_cache(maxsize=256)
def _cached_bucket_problem(name: str) -> str:
    # A client names the same few buckets on every request; the rules need checking once.
    return _bucket_problem(name)


def check_bucket(bucket: object) -> str:
    """Return ``bucket`` if it follows S3's bucket naming rules.

    Args:
        bucket: the bucket name.

    Returns:
        ``bucket`` unchanged.

    Raises:
        TypeError: ``bucket`` is not a ``str``.
        ValueError: the name breaks a rule; the message names the rule.
    """
    name = _require_str("bucket", bucket)
    problem = _cached_bucket_problem(name)
    if problem:
        raise ValueError(f"invalid bucket name {name!r}: {problem}")
    return name


def _bucket_problem(name: str) -> str:
    if not 3 <= len(name) <= 63:
        return f"must be 3 to 63 characters long, got {len(name)}"
    if not _BUCKET_CHARS.fullmatch(name):
        return (
            "may hold only lowercase letters, digits, '.' and '-', "
            "and must start and end with a letter or digit"
        )
    if ".." in name:
        return "must not contain two adjacent periods"
    if _looks_like_ip(name):
        return "must not be formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return (
            f"S3 reserves the prefixes {', '.join(_RESERVED_PREFIXES)} "
            f"and the suffixes {', '.join(_RESERVED_SUFFIXES)}"
        )
    return ""


def _looks_like_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_key(key: object) -> str:
    """Return ``key`` if S3 can store an object under it (1 to 1024 UTF-8 bytes).

    Args:
        key: the object key.

    Returns:
        ``key`` unchanged.

    Raises:
        TypeError: ``key`` is not a ``str``.
        ValueError: the key is empty, too long, or not encodable as UTF-8.
    """
    text = _require_str("key", key)
    if not text:
        raise ValueError("object key must not be empty")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValueError(f"object key {text!r} is not valid UTF-8 text: {exc.reason}") from None
    if size > MAX_KEY_BYTES:
        raise ValueError(f"object key is {size} UTF-8 bytes; at most {MAX_KEY_BYTES} are allowed")
    return text


def check_buffer(name: str, data: object) -> memoryview:
    """Return a byte view of ``data``, any contiguous buffer (bytes, bytearray, array, ...).

    Args:
        name: the argument's name, for the error message.
        data: the value given.

    Returns:
        A one-dimensional view of ``data``'s bytes, not a copy: ``view.obj`` is ``data``'s
        exporter, which tells whether the bytes can change.

    Raises:
        TypeError: not a buffer (``str`` included: encode it first).
        ValueError: a buffer whose bytes are not contiguous (e.g. a strided view).
    """
    if isinstance(data, str):
        raise TypeError(
            f"{name} must be bytes, bytearray or memoryview, not str "
            "(encode text first, e.g. text.encode())"
        )
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{name} must be bytes, bytearray or memoryview, not {_kind(data)}"
        ) from None
    if not view.c_contiguous:
        raise ValueError(f"{name} must be a contiguous buffer; copy a strided view first")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def check_header(name: object, value: object) -> tuple[str, str]:
    """Return a request header ``(name, value)`` if HTTP can carry it exactly as signed.

    Args:
        name: the header's name.
        value: the header's value.

    Returns:
        ``(name, value)`` unchanged.

    Raises:
        TypeError: a value that is not a ``str``.
        ValueError: a name that is not an HTTP token, or a value with a line break, another
            control character, or text UTF-8 cannot encode (a lone surrogate).
    """
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid HTTP header name")
    if not isinstance(value, str):
        raise TypeError(f"header {name!r} must have a str value, not {_kind(value)}")
    if value.isascii() and value.isprintable():
        return name, value  # the common case, checked once per header of every request
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} value must not contain CR or LF")
    if _CONTROL.search(value):
        raise ValueError(f"header {name!r} value {value!r} holds a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"header {name!r} value is not valid text: {exc.reason}") from None
    return name, value


def check_metadata(metadata: object) -> dict[str, str]:
    """Return ``metadata`` as a dict whose items HTTP headers can carry unchanged.

    Keys must be HTTP token characters; values printable ASCII (S3 stores user metadata
    as US-ASCII and would otherwise sign and store something other than what was given).

    Args:
        metadata: user metadata, names without the ``x-amz-meta-`` prefix.

    Returns:
        A new dict with the same items.

    Raises:
        TypeError: not a mapping of ``str`` to ``str``.
        ValueError: a key or value HTTP cannot carry.
    """
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str to str, not {_kind(metadata)}")
    if len({key.lower() for key in metadata if isinstance(key, str)}) < len(metadata):
        raise ValueError("metadata keys differ only in case; S3 stores them lowercased as one")
    checked: dict[str, str] = {}
    for key, value in metadata.items():
        _require_str("metadata key", key)
        _require_str(f"metadata value for {key!r}", value)
        if not _TOKEN.fullmatch(key):
            raise ValueError(
                f"metadata key {key!r} may hold only letters, digits and !#$%&'*+.^_`|~-"
            )
        if not value.isascii() or not value.isprintable():
            raise ValueError(
                f"metadata value for {key!r} must be printable ASCII (no line breaks or "
                "control characters); percent-encode other text"
            )
        if value != value.strip(" "):
            raise ValueError(
                f"metadata value for {key!r} has leading or trailing spaces, which S3 would "
                "drop (storing another value than the one given)"
            )
        checked[key] = value
    return checked


def check_positive_int(
    name: str, value: object, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """Return ``value`` if it is an ``int`` within ``minimum..maximum``.

    Args:
        name: the argument's name, for the error message.
        value: the value given.
        minimum: the smallest value allowed.
        maximum: the largest value allowed, or ``None`` for no limit.

    Returns:
        ``value`` unchanged.

    Raises:
        TypeError: not an ``int`` (``bool`` is refused too).
        ValueError: out of range; the message gives the range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {_kind(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:,}" if maximum is not None else ""
        raise ValueError(f"{name} must be at least {minimum:,}{upper}, got {value:,}")
    return value


def check_upload_id(upload_id: object) -> str:
    """Return ``upload_id`` if it can name a multipart upload (a non-empty ``str``).

    Args:
        upload_id: the id ``create_multipart_upload`` returned.

    Returns:
        ``upload_id`` unchanged.

    Raises:
        TypeError: not a ``str``.
        ValueError: empty.
    """
    text = _require_str("upload_id", upload_id)
    if not text:
        raise ValueError("upload_id must not be empty: use the id create_multipart_upload returned")
    return text


def check_expires(expires: object) -> int:
    """Return ``expires`` (seconds) if a presigned URL may last that long: 1 s to 7 days.

    Args:
        expires: the URL's validity in seconds.

    Returns:
        ``expires`` unchanged.

    Raises:
        TypeError: not an ``int``.
        ValueError: out of range.
    """
    return check_positive_int("expires", expires, minimum=1, maximum=MAX_PRESIGN_SECONDS)


def check_byte_range(start: object, end: object) -> tuple[int, int | None]:
    """Return an inclusive byte range ``(start, end)``; ``end=None`` reads to the end.

    Args:
        start: the first byte's offset, from 0.
        end: the last byte's offset (inclusive), or ``None`` for the end of the object.

    Returns:
        ``(start, end)`` unchanged.

    Raises:
        TypeError: not ints.
        ValueError: negative, or ``end`` before ``start``.
    """
    first = check_positive_int("range start", start, minimum=0)
    if end is None:
        return first, None
    last = check_positive_int("range end", end, minimum=0)
    if last < first:
        raise ValueError(f"range end ({last}) must not be before range start ({first})")
    return first, last


def check_source_url(url: object) -> str:
    """Return ``url`` if it is an absolute http(s) URL to download from.

    Args:
        url: the source URL.

    Returns:
        ``url`` unchanged.

    Raises:
        TypeError: not a ``str``.
        ValueError: another scheme, or no host.
    """
    text = _require_str("url", url)
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ValueError(f"source url must start with http:// or https://, got {text!r}")
    if not rest or rest[0] in "/?#":
        raise ValueError(f"source url {text!r} has no host")
    return text


def _require_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {_kind(value)}")
    return value


def _kind(value: object) -> str:
    return type(value).__name__
