"""SigV4 header signing of a request whose URL is already known as host, path and query.

``sigv4.sign`` takes a whole URL and splits it to find the path and query to sign; the engine
builds every URL from those very pieces (``urls.url_parts``), so ``sign_parts`` takes them as
they are and signs the same canonical request without joining and splitting a string again.
The date and payload-hash headers it adds, and the Host it is given, are built here and in
``urls`` from checked values, so they are not checked again; every other header is.

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from rawS3.canonical import canonical_request_from_parts
from rawS3.sigv4 import (
    Credentials,
    authorization_header,
    credential_scope,
    request_headers,
    signature,
    signing_key,
    string_to_sign,
)

__all__ = ["sign_parts"]

_MADE_HERE = frozenset({"x-amz-date", "x-amz-content-sha256"})
_MADE_WITH_HOST = _MADE_HERE | {"Host"}


def sign_parts(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    *,
    payload_hash: str,
    credentials: Credentials,
    region: str,
    now: datetime.datetime,
    service: str = "s3",
) -> dict[str, str]:
    """Sign a request with the Authorization header, given its URL's pieces.

    For ``url = scheme://host + path + ("?" + query if query else "")`` the result equals
    ``sigv4.sign(method, url, {"Host": host, **headers}, ...)`` (a Host in ``headers`` wins).

    Args:
        method: Upper-case HTTP method.
        host: The Host header value (``urls.host_header``).
        path: The URL's path exactly as sent, percent-encoded S3-style.
        query: The URL's query exactly as sent, without ``?`` (``""`` for none).
        headers: Further headers to send; not modified.
        payload_hash: Hex SHA-256 of the body, ``UNSIGNED_PAYLOAD`` or a ``STREAMING-*`` value.
        credentials: The key pair (and session token).
        region: Region name.
        now: The signing time (aware, or naive UTC).
        service: Service name.

    Returns:
        A new dict: ``Host``, the given headers, ``x-amz-date``, ``x-amz-content-sha256``,
        ``x-amz-security-token`` (with a token) and ``Authorization``.

    Raises:
        ValueError: a bad method, path, query, header, payload hash, region or service.
        TypeError: now is not a datetime, or a header value or the payload hash is not a str.
    """
    own_host = "Host" not in headers
    given = {"Host": host, **headers} if own_host else headers
    result = request_headers(given, now=now, payload_hash=payload_hash, credentials=credentials)
    scope = credential_scope(now, region, service)
    made = _MADE_WITH_HOST if own_host else _MADE_HERE
    canonical = canonical_request_from_parts(method, path, query, result, payload_hash, made=made)
    key = signing_key(credentials.secret_key, now, region, service)
    # The signed-header line is the canonical request's fifth (as in sigv4.sign).
    names = canonical.rsplit("\n", 2)[1]
    result["Authorization"] = authorization_header(
        credentials.access_key, scope, names, signature(key, string_to_sign(now, scope, canonical))
    )
    return result
