"""Presigned URLs for any method and operation: the query an operation needs, and the signature.

``presign_query`` turns the options of a presigned request (a version, an upload and part
number, ``response-*`` overrides on GET, further query parameters) into query pairs, refusing
combinations S3 would not accept. ``presign_with_headers`` signs a URL like ``sigv4.presign``
but also signs the headers given: whoever uses the URL must then send exactly those headers,
or the server refuses it. The payload is always ``UNSIGNED-PAYLOAD``: the URL is made before
the body exists.

Nothing here reads a clock or does I/O: the time and the credentials are arguments.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from rawS3 import sigv4
from rawS3.canonical import UNSIGNED_PAYLOAD, canonical_request, signed_headers, split_url
from rawS3.urls import encode_query
from rawS3.validation import check_header, check_positive_int, check_upload_id

__all__ = [
    "PRESIGN_METHODS",
    "RESPONSE_OVERRIDES",
    "check_method",
    "check_presign_headers",
    "presign_query",
    "presign_with_headers",
]

PRESIGN_METHODS = ("GET", "PUT", "HEAD", "DELETE", "POST")

# Keyword argument → the query parameter S3 reads to set that header on a GET's answer.
RESPONSE_OVERRIDES = {
    "response_cache_control": "response-cache-control",
    "response_content_disposition": "response-content-disposition",
    "response_content_encoding": "response-content-encoding",
    "response_content_language": "response-content-language",
    "response_content_type": "response-content-type",
    "response_expires": "response-expires",
}

MAX_PART_NUMBER = 10_000

# The signature and its inputs are set by the signer; a caller's value would contradict it.
_RESERVED_HEADERS = frozenset(
    {"host", "authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
)


def check_method(method: object) -> str:
    """Return ``method`` if a presigned URL can be made for it.

    Args:
        method: ``"GET"``, ``"PUT"``, ``"HEAD"``, ``"DELETE"`` or ``"POST"``.

    Returns:
        ``method`` unchanged.

    Raises:
        TypeError: not a ``str``.
        ValueError: another method (lower case included: methods are case-sensitive).
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, not {type(method).__name__}")
    if method not in PRESIGN_METHODS:
        raise ValueError(f"method must be one of {', '.join(PRESIGN_METHODS)}, not {method!r}")
    return method


def presign_query(
    method: str,
    *,
    key: str | None,
    version_id: str | None = None,
    upload_id: str | None = None,
    part_number: int | None = None,
    overrides: Mapping[str, object] | None = None,
    query: Mapping[str, str | None] | None = None,
) -> list[tuple[str, str | None]]:
    """The query pairs of a presigned request, before the ``X-Amz-*`` authentication.

    Args:
        method: the method, already checked by ``check_method``.
        key: the object's key, or ``None`` for a bucket-level request.
        version_id: ``versionId``: one version of the object (GET, HEAD, DELETE).
        upload_id: ``uploadId``: a multipart upload (UploadPart with ``part_number`` on PUT,
            CompleteMultipartUpload on POST, AbortMultipartUpload on DELETE, ListParts on GET).
        part_number: ``partNumber``, 1 to 10,000: UploadPart (PUT, with ``upload_id``), or
            one part of a multipart object (GET, HEAD).
        overrides: ``RESPONSE_OVERRIDES`` keyword → value (``None``: not sent); GET only.
        query: further parameters, e.g. ``{"uploads": None}`` for CreateMultipartUpload.

    Returns:
        ``(name, value)`` pairs; a ``None`` value is sent as ``name=``.

    Raises:
        TypeError: a value of the wrong type.
        ValueError: an option without the key or method it needs, or a ``query`` name that
            another option or the signature sets.
    """
    pairs: list[tuple[str, str | None]] = []
    if version_id is not None:
        _need_key("version_id", key)
        _need_method("version_id", method, ("GET", "HEAD", "DELETE"))
        pairs.append(("versionId", _nonempty("version_id", version_id)))
    pairs.extend(_upload_pairs(method, key, upload_id, part_number))
    pairs.extend(_override_pairs(method, key, overrides or {}))
    return pairs + _extra_pairs(query, {name for name, _ in pairs})


def _upload_pairs(
    method: str, key: str | None, upload_id: str | None, part_number: int | None
) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    if upload_id is not None:
        _need_key("upload_id", key)
        check_upload_id(upload_id)
        if method == "PUT" and part_number is None:
            raise ValueError("a PUT with upload_id is UploadPart: give part_number too")
        if method == "HEAD":
            raise ValueError("upload_id goes with PUT, POST, DELETE or GET, not HEAD")
        pairs.append(("uploadId", upload_id))
    if part_number is not None:
        check_positive_int("part_number", part_number, maximum=MAX_PART_NUMBER)
        _need_key("part_number", key)
        _need_method("part_number", method, ("PUT", "GET", "HEAD"))
        if method == "PUT" and upload_id is None:
            raise ValueError("part_number on PUT needs the upload_id of its multipart upload")
        if method != "PUT" and upload_id is not None:
            raise ValueError("part_number with upload_id is UploadPart: use PUT")
        pairs.append(("partNumber", str(part_number)))
    return pairs


def _override_pairs(
    method: str, key: str | None, overrides: Mapping[str, object]
) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for argument, value in overrides.items():
        if value is None:
            continue
        if argument not in RESPONSE_OVERRIDES:
            raise ValueError(f"{argument!r} is not a response override")
        _need_key(argument, key)
        _need_method(argument, method, ("GET",))
        check_header(RESPONSE_OVERRIDES[argument], value)  # it comes back as a header
        pairs.append((RESPONSE_OVERRIDES[argument], _nonempty(argument, value)))
    return pairs


def _extra_pairs(
    query: Mapping[str, str | None] | None, taken: set[str]
) -> list[tuple[str, str | None]]:
    if query is None:
        return []
    if not isinstance(query, Mapping):
        raise TypeError(f"query must be a mapping of str to str or None, not {_kind(query)}")
    pairs = list(query.items())
    encode_query(pairs)  # checks names and value types
    for name, _ in pairs:
        if name in taken:
            raise ValueError(f"query parameter {name!r} is already set by its own argument")
        if name.lower().startswith("x-amz-"):
            raise ValueError(f"query parameter {name!r} is set by the signature; leave it out")
    return pairs


def _kind(value: object) -> str:
    return type(value).__name__


def _need_key(argument: str, key: str | None) -> None:
    if key is None:
        raise ValueError(f"{argument} addresses an object: give its key")


def _need_method(argument: str, method: str, methods: tuple[str, ...]) -> None:
    if method not in methods:
        raise ValueError(f"{argument} goes with {' or '.join(methods)}, not {method}")


def _nonempty(argument: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{argument} must not be empty")
    return value


def check_presign_headers(headers: object) -> dict[str, str]:
    """Return the extra headers a presigned URL is to require, if they can be signed.

    Args:
        headers: a mapping of header name to value, or ``None``.

    Returns:
        A new dict (empty for ``None``).

    Raises:
        TypeError: not a mapping, or a value that is not a ``str``.
        ValueError: a name that is not an HTTP token, a value HTTP cannot carry, a name given
            twice (names are case-insensitive), or a header the signer sets itself (``Host``,
            ``Authorization``, ``x-amz-date``, ``x-amz-content-sha256``,
            ``x-amz-security-token``).
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, not {type(headers).__name__}")
    result: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        check_header(name, value)
        lower = name.lower()
        if lower in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the signature; leave it out")
        if lower in seen:
            raise ValueError(f"header {name!r} is given twice (names are case-insensitive)")
        seen.add(lower)
        result[name] = value
    return result


def presign_with_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    credentials: sigv4.Credentials,
    region: str,
    now: datetime.datetime,
    expires: int,
    service: str = "s3",
) -> str:
    """Presign a URL whose signature also covers ``headers`` (Host is always covered).

    Args:
        method: Upper-case HTTP method the URL will be used with.
        url: The URL as it is to be sent, optionally with its own encoded query.
        headers: Headers the user of the URL must send, exactly (see
            ``check_presign_headers``); empty gives the same URL as ``sigv4.presign``.
        credentials: The key pair; a session token is put in the signed query.
        region: Region name.
        now: The signing time.
        expires: Validity in seconds, 1 to 604800 (7 days).
        service: Service name.

    Returns:
        The URL with the ``X-Amz-*`` parameters (``X-Amz-SignedHeaders`` naming ``host`` and
        every header given) and, last, ``X-Amz-Signature``.

    Raises:
        TypeError: expires is not an int, now is not a datetime, or a header value is not
            a str.
        ValueError: as ``sigv4.presign``, or a bad header.
    """
    if not headers:
        return sigv4.presign(
            method,
            url,
            credentials=credentials,
            region=region,
            now=now,
            expires=expires,
            service=service,
        )
    checked = check_presign_headers(headers)
    existing = split_url(url).query
    if any(part.partition("=")[0].lower().startswith("x-amz-") for part in existing.split("&")):
        raise ValueError("url already carries X-Amz-* authentication parameters")
    to_sign = sigv4.with_host(url, checked)
    names = signed_headers(to_sign)
    params = [
        (name, names if name == "X-Amz-SignedHeaders" else value)
        for name, value in sigv4.presign_parameters(credentials, now, region, expires, service)
    ]
    query = encode_query(params)
    unsigned = f"{url}&{query}" if existing else f"{url.rstrip('?')}?{query}"
    request = canonical_request(method, unsigned, to_sign, UNSIGNED_PAYLOAD)
    text = sigv4.string_to_sign(now, sigv4.credential_scope(now, region, service), request)
    key = sigv4.signing_key(credentials.secret_key, now, region, service)
    return f"{unsigned}&X-Amz-Signature={sigv4.signature(key, text)}"
