"""Endpoint parsing, S3 URI encoding and request URL building.

Everything here is pure string work. The URLs produced are exactly the bytes to put on the
wire and to sign: keys are percent-encoded byte by byte (UTF-8), keeping only ``A-Z a-z 0-9
- _ . ~`` and ``/``; query names and values keep only the unreserved set. Nothing is ever
normalized: ``a//b``, ``./x`` and ``..`` stay as the caller wrote them, because S3 treats them
as literal key bytes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple
from urllib.parse import SplitResult, quote, urlsplit

__all__ = [
    "Addressing",
    "Endpoint",
    "build_url",
    "encode_component",
    "encode_key",
    "encode_query",
    "host_for_url",
    "host_header",
    "parse_endpoint",
    "url_parts",
]

Addressing = Literal["path", "virtual"]
QueryParams = Mapping[str, str | None] | Iterable[tuple[str, str | None]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ENCODED_PATH = re.compile(r"(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*")
_DNS_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
# Text that encodes to itself (the unreserved set, plus "/" where it is kept): most bucket
# names and keys, which then skip urllib's encode-and-scan on every request.
_UNRESERVED = {"": re.compile(r"[A-Za-z0-9\-._~]*"), "/": re.compile(r"[A-Za-z0-9\-._~/]*")}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed S3 endpoint.

    Attributes:
        scheme: ``"http"`` or ``"https"``.
        host: Lower-case host name or IP address, without IPv6 brackets.
        port: The port, or None when absent or the scheme's default.
        path: Path prefix without a trailing slash (usually ``""``).
    """

    scheme: str
    host: str
    port: int | None
    path: str


def parse_endpoint(url: str) -> Endpoint:
    """Parse an endpoint URL such as ``https://s3.eu-west-1.amazonaws.com``.

    Args:
        url: Absolute http(s) URL; an optional path prefix is kept, already percent-encoded.

    Returns:
        The parsed endpoint (a default port is dropped).

    Raises:
        TypeError: url is not a string.
        ValueError: no scheme, scheme other than http/https, no host, user info, a bad port,
            a query or fragment, or a path prefix that is not percent-encoded.
    """
    if not isinstance(url, str):
        raise TypeError(f"endpoint must be a str URL, not {type(url).__name__}")
    parts = _split_endpoint(url)
    port = _endpoint_port(parts, url)
    path = parts.path.rstrip("/")
    if not _ENCODED_PATH.fullmatch(path):
        raise ValueError(
            f"endpoint path {path!r} must be percent-encoded (A-Z a-z 0-9 - _ . ~ / and %XX only)"
        )
    return Endpoint(scheme=parts.scheme, host=parts.hostname or "", port=port, path=path)


def _split_endpoint(url: str) -> SplitResult:
    if "://" not in url:
        raise ValueError(f"endpoint {url!r} has no scheme; write e.g. https://{url}")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ValueError(f"endpoint {url!r} is not a valid URL: {exc}") from exc
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"endpoint scheme must be http or https, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"endpoint {url!r} has no host")
    if "@" in parts.netloc:
        raise ValueError("endpoint must not carry user info; pass Credentials instead")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint {url!r} must not have a query or fragment")
    return parts


def _endpoint_port(parts: SplitResult, url: str) -> int | None:
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"endpoint {url!r} has an invalid port (allowed: 1-65535)") from exc
    if port == 0:
        raise ValueError(f"endpoint {url!r} has port 0 (allowed: 1-65535)")
    return None if port == _DEFAULT_PORTS[parts.scheme] else port


def encode_component(text: str) -> str:
    """Percent-encode text keeping only the unreserved set ``A-Z a-z 0-9 - _ . ~``.

    Args:
        text: Any string; it is encoded as UTF-8 byte by byte (``/`` becomes ``%2F``).

    Returns:
        The encoded string, with upper-case hex digits.

    Raises:
        ValueError: text holds a lone surrogate and so has no UTF-8 form.
    """
    return _quote(text, safe="")


def encode_key(key: str) -> str:
    """Percent-encode an object key for the URL path, the way S3 canonicalizes it.

    Args:
        key: The object key; ``/`` is kept, every other byte outside the unreserved set is
            ``%XX`` (space is ``%20``, ``+`` is ``%2B``). Nothing is normalized.

    Returns:
        The encoded key.

    Raises:
        ValueError: key holds a lone surrogate and so has no UTF-8 form.
    """
    return _quote(key, safe="/")


def _quote(text: str, *, safe: str) -> str:
    plain = _UNRESERVED.get(safe)
    if plain is not None and isinstance(text, str) and plain.fullmatch(text):
        return text
    try:
        return quote(text, safe=safe, encoding="utf-8", errors="strict")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{text!r} is not valid Unicode text (lone surrogate)") from exc


def encode_query(params: QueryParams) -> str:
    """Build a canonical query string: encoded pairs sorted by encoded name, then value.

    Args:
        params: A mapping or an iterable of ``(name, value)`` pairs; a None value renders as
            ``name=`` (S3 subresources such as ``?uploads``).

    Returns:
        The query string without a leading ``?`` (``""`` when there are no parameters).

    Raises:
        TypeError: a name is not a str or a value is neither str nor None.
        ValueError: a name is empty or text holds a lone surrogate.
    """
    items = params.items() if isinstance(params, Mapping) else params
    pairs = sorted(_encode_pair(name, value) for name, value in items)
    return "&".join(f"{name}={value}" for name, value in pairs)


def _encode_pair(name: object, value: object) -> tuple[str, str]:
    if not isinstance(name, str):
        raise TypeError(f"query parameter names must be str, not {type(name).__name__}")
    if not name:
        raise ValueError("query parameter names must not be empty")
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"query parameter {name!r} must be a str or None, not {type(value).__name__}"
        )
    return encode_component(name), encode_component(value or "")


def build_url(
    endpoint: Endpoint,
    bucket: str | None,
    key: str | None = None,
    query: QueryParams | None = None,
    *,
    addressing: Addressing = "path",
) -> str:
    """Build the request URL for a bucket and key, encoded exactly as it is to be sent.

    Args:
        endpoint: The parsed endpoint.
        bucket: Bucket name, or None for service-level requests (ListBuckets).
        key: Object key, or None for bucket-level requests.
        query: Query parameters (see ``encode_query``).
        addressing: ``"path"`` (``host/bucket/key``) or ``"virtual"`` (``bucket.host/key``).

    Returns:
        The absolute URL.

    Raises:
        ValueError: a key without a bucket, an unknown addressing style, or virtual-host
            addressing with an IP-address endpoint or a bucket name that is not a DNS name.
    """
    return url_parts(endpoint, bucket, key, query, addressing=addressing).url


class UrlParts(NamedTuple):
    """A request URL in the pieces the signer needs, each encoded exactly as sent.

    Attributes:
        scheme: ``"http"`` or ``"https"``.
        host: the Host header value (see ``host_header``).
        path: the encoded path, the endpoint's prefix included; never empty.
        query: the encoded query without ``?``, pairs sorted (``""`` when there is none).
    """

    scheme: str
    host: str
    path: str
    query: str

    @property
    def url(self) -> str:
        """The absolute URL these parts make."""
        suffix = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.host}{self.path}{suffix}"


def url_parts(
    endpoint: Endpoint,
    bucket: str | None,
    key: str | None = None,
    query: QueryParams | None = None,
    *,
    addressing: Addressing = "path",
) -> UrlParts:
    """Build a request URL's host, path and query once, for both the wire and the signer.

    Args:
        endpoint: The parsed endpoint.
        bucket: Bucket name, or None for service-level requests.
        key: Object key, or None for bucket-level requests.
        query: Query parameters (see ``encode_query``).
        addressing: ``"path"`` or ``"virtual"``.

    Returns:
        The parts; ``.url`` is what ``build_url`` returns for the same arguments.

    Raises:
        ValueError: as for ``build_url``.
    """
    _check_addressing(addressing)
    if bucket is None and key is not None:
        raise ValueError("a key needs a bucket; got bucket=None")
    host = host_header(endpoint, bucket, addressing)
    encoded_query = encode_query(query) if query is not None else ""
    path = endpoint.path + _resource_path(bucket, key, addressing)
    return UrlParts(endpoint.scheme, host, path, encoded_query)


def _resource_path(bucket: str | None, key: str | None, addressing: Addressing) -> str:
    if bucket is None:
        return "/"
    prefix = "" if addressing == "virtual" else "/" + encode_component(bucket)
    if key is None:
        return prefix or "/"
    return f"{prefix}/{encode_key(key)}"


def host_header(endpoint: Endpoint, bucket: str | None, addressing: Addressing) -> str:
    """The Host header value for a request to endpoint.

    Args:
        endpoint: The parsed endpoint.
        bucket: The bucket (used only for virtual-host addressing), or None.
        addressing: ``"path"`` or ``"virtual"``.

    Returns:
        ``host[:port]``; IPv6 addresses in brackets, the default port left out, and
        ``bucket.`` in front for virtual-host addressing.

    Raises:
        ValueError: an unknown addressing style, or virtual-host addressing that cannot work.
    """
    _check_addressing(addressing)
    host = _bracketed(endpoint.host)
    if addressing == "virtual" and bucket is not None:
        _check_virtual_host(endpoint, bucket)
        host = f"{bucket}.{host}"
    return host if endpoint.port is None else f"{host}:{endpoint.port}"


def host_for_url(url: str) -> str:
    """The Host header value a client sends for an absolute URL.

    Args:
        url: An absolute http(s) URL.

    Returns:
        Lower-case ``host[:port]`` without user info, IPv6 in brackets, default port omitted.

    Raises:
        ValueError: the URL has no host, a scheme other than http/https, or a bad port.
    """
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"URL {url!r} must be absolute http(s) with a host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"URL {url!r} has an invalid port (allowed: 1-65535)") from exc
    host = _bracketed(parts.hostname)
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return host
    return f"{host}:{port}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _check_addressing(addressing: str) -> None:
    if addressing not in ("path", "virtual"):
        raise ValueError(f"addressing must be 'path' or 'virtual', not {addressing!r}")


def _check_virtual_host(endpoint: Endpoint, bucket: str) -> None:
    if _is_ip_address(endpoint.host):
        raise ValueError(
            f"virtual-host addressing needs a DNS endpoint, not the IP address {endpoint.host}; "
            "use addressing='path'"
        )
    if not _DNS_BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError(
            f"bucket {bucket!r} cannot be a host name label (allowed: a-z 0-9 . -); "
            "use addressing='path'"
        )


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
