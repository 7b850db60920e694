"""SigV4 step 2: the canonical request, the exact text whose SHA-256 a signature covers.

A request is signed as it travels, so nothing is normalized here: ``canonical_uri`` is the
path exactly as sent and ``canonical_query_string`` the encoded pairs sorted by name then
value. Both refuse a URL that is not already encoded S3-style rather than encode it
themselves: the signature must cover the bytes that are sent. ``canonical_headers`` and
``signed_headers`` list the headers lower-case and trimmed, leaving out those a proxy or the
HTTP stack may rewrite. ``canonical_request`` joins it all with the method and the payload
hash: a hex SHA-256, ``UNSIGNED_PAYLOAD`` or one of the ``STREAMING-*`` values.

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

from rawS3.validation import check_header

__all__ = [
    "STREAMING_PAYLOAD",
    "UNSIGNED_PAYLOAD",
    "canonical_headers",
    "canonical_query_string",
    "canonical_request",
    "canonical_request_from_parts",
    "canonical_uri",
    "signed_headers",
    "split_url",
]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

# Proxies and the HTTP stack may rewrite or drop these, so a signature over them breaks.
_UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
    }
)
_ENCODED_PATH = re.compile(r"(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*")
_ENCODED_QUERY_PART = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_METHOD = re.compile(r"[A-Z]+")
_STREAMING_HASHES = frozenset(
    {
        STREAMING_PAYLOAD,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
)


def split_url(url: str) -> SplitResult:
    """Split a request URL, refusing one that cannot be signed as sent.

    Args:
        url: The request URL as it is to be sent.

    Returns:
        The URL's parts.

    Raises:
        ValueError: the URL is not absolute http(s), or it carries a fragment.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url must be an absolute http(s) URL, got {url!r}")
    if parts.fragment or url.endswith("#"):
        raise ValueError(f"url must not contain a fragment ('#' is %23 in keys), got {url!r}")
    return parts


def canonical_uri(url: str) -> str:
    """The canonical URI: the URL's path exactly as sent (S3 never normalizes it).

    Args:
        url: The request URL, path already percent-encoded (see ``urls.encode_key``).

    Returns:
        The path, or ``"/"`` when the URL has none.

    Raises:
        ValueError: the URL is not absolute http(s), or the path holds a character that
            should have been percent-encoded (allowed: A-Z a-z 0-9 - _ . ~ / and %XX).
    """
    return _checked_path(split_url(url))


def _checked_path(parts: SplitResult) -> str:
    return _checked_path_text(parts.path or "/")


def _checked_path_text(path: str) -> str:
    if not _ENCODED_PATH.fullmatch(path):
        raise ValueError(
            f"url path {path!r} is not percent-encoded S3-style "
            "(allowed: A-Z a-z 0-9 - _ . ~ / and %XX with upper-case hex)"
        )
    return path


def canonical_query_string(url: str) -> str:
    """The canonical query string: the URL's encoded pairs sorted by name, then value.

    Args:
        url: The request URL, query already encoded (see ``urls.encode_query``).

    Returns:
        ``name=value`` pairs joined by ``&``; a name without ``=`` gets an empty value.

    Raises:
        ValueError: the URL is not absolute http(s), or a name or value is not encoded
            (allowed: A-Z a-z 0-9 - _ . ~ and %XX with upper-case hex).
    """
    return _sorted_query(split_url(url))


def _sorted_query(parts: SplitResult) -> str:
    return _sorted_query_text(parts.query)


def _sorted_query_text(query: str) -> str:
    if not query:  # most object requests
        return ""
    pairs = [_query_pair(part) for part in query.split("&") if part]
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _query_pair(part: str) -> tuple[str, str]:
    name, _, value = part.partition("=")
    for text in (name, value):
        if not _ENCODED_QUERY_PART.fullmatch(text):
            raise ValueError(
                f"query parameter {part!r} is not percent-encoded "
                "(allowed: A-Z a-z 0-9 - _ . ~ and %XX with upper-case hex)"
            )
    return name, value


def _signable(headers: Mapping[str, str], made: frozenset[str] = frozenset()) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.items():
        # A header the signer itself made is well-formed by construction: checking it
        # again on every request costs more than the rest of its canonical line.
        key = name.lower() if name in made else _header_key(name, value)
        if key in result:
            raise ValueError(f"header {name!r} is given twice (names are case-insensitive)")
        if key not in _UNSIGNED_HEADERS:
            result[key] = " ".join(value.split())
    return dict(sorted(result.items()))


def _header_key(name: object, value: object) -> str:
    return check_header(name, value)[0].lower()


def canonical_headers(headers: Mapping[str, str]) -> str:
    """The canonical headers block: ``name:value\\n`` per signed header, sorted by name.

    Args:
        headers: The headers to sign (Host included). Hop-by-hop headers, ``user-agent``,
            ``expect`` and ``authorization`` are left out.

    Returns:
        The block, ending with a newline.

    Raises:
        ValueError: a bad header name, a CR/LF in a value, or a name given twice.
        TypeError: a value is not a str.
    """
    return _header_block(_signable(headers))


def _header_block(signable: Mapping[str, str]) -> str:
    return "".join(f"{name}:{value}\n" for name, value in signable.items())


def signed_headers(headers: Mapping[str, str]) -> str:
    """The signed header names, lower-case, sorted, joined by ``;``.

    Args:
        headers: The headers to sign (same filtering as ``canonical_headers``).

    Returns:
        For example ``"host;range;x-amz-content-sha256;x-amz-date"``.

    Raises:
        ValueError: as for ``canonical_headers``.
        TypeError: as for ``canonical_headers``.
    """
    return ";".join(_signable(headers))


def canonical_request(method: str, url: str, headers: Mapping[str, str], payload_hash: str) -> str:
    """The canonical request text whose SHA-256 goes into the string to sign.

    Args:
        method: Upper-case HTTP method.
        url: The request URL as sent.
        headers: The headers to sign, Host included (see ``with_host``).
        payload_hash: Hex SHA-256 of the body, ``UNSIGNED_PAYLOAD`` or a ``STREAMING-*`` value.

    Returns:
        The six canonical-request lines joined by newlines.

    Raises:
        ValueError: a bad method, URL, header or payload hash.
        TypeError: a header value or the payload hash is not a str.
    """
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise ValueError(f"method must be an upper-case HTTP method such as 'GET', not {method!r}")
    _check_payload_hash(payload_hash)
    signable = _signable(headers)
    parts = split_url(url)
    return "\n".join(
        [
            method,
            _checked_path(parts),
            _sorted_query(parts),
            _header_block(signable),
            ";".join(signable),
            payload_hash,
        ]
    )


def _check_payload_hash(payload_hash: str) -> None:
    if not isinstance(payload_hash, str):
        raise TypeError(f"payload_hash must be a str, not {type(payload_hash).__name__}")
    if payload_hash in _STREAMING_HASHES or payload_hash == UNSIGNED_PAYLOAD:
        return
    if not _HEX_SHA256.fullmatch(payload_hash):
        raise ValueError(
            "payload_hash must be a lower-case hex SHA-256, UNSIGNED-PAYLOAD or a "
            f"STREAMING-* value, not {payload_hash!r}"
        )


def canonical_request_from_parts(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    payload_hash: str,
    *,
    made: frozenset[str] = frozenset(),
) -> str:
    """The canonical request of a URL given as its encoded path and query, not split again.

    For ``url = scheme://host + path + ("?" + query if query else "")`` this returns what
    ``canonical_request(method, url, headers, payload_hash)`` does.

    Args:
        method: Upper-case HTTP method.
        path: The URL's path exactly as sent (``"/"`` when empty).
        query: The URL's query exactly as sent, without ``?``.
        headers: The headers to sign, Host included.
        payload_hash: As for ``canonical_request``.
        made: Names of headers the caller built itself from checked values (its own date,
            payload hash and Host): not checked again. Every other header is.

    Returns:
        The six canonical-request lines joined by newlines.

    Raises:
        ValueError: a bad method, path, query, header or payload hash.
        TypeError: a header value or the payload hash is not a str.
    """
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise ValueError(f"method must be an upper-case HTTP method such as 'GET', not {method!r}")
    _check_payload_hash(payload_hash)
    signable = _signable(headers, made)
    return "\n".join(
        [
            method,
            _checked_path_text(path or "/"),
            _sorted_query_text(query),
            _header_block(signable),
            ";".join(signable),
            payload_hash,
        ]
    )
