"""AWS Signature Version 4 for S3, one function per step of the published algorithm.

The flow for a header-signed request (``sign``):

1. ``request_headers`` adds ``x-amz-date``, ``x-amz-content-sha256`` and, with temporary
   credentials, ``x-amz-security-token``; ``with_host`` adds the Host taken from the URL.
2. ``canonical_request`` (``rawS3.canonical``): method, the URL path exactly as sent, the
   query pairs sorted, the signed headers and the payload hash.
3. ``string_to_sign``: algorithm, ``amz_date``, ``credential_scope`` and the SHA-256 of the
   canonical request.
4. ``signing_key``: the HMAC chain over date, region, service and ``aws4_request`` (cached).
5. ``signature``: HMAC of the string to sign; ``authorization_header`` formats the result.

``presign`` puts the same information in the query (``X-Amz-*`` parameters, payload
``UNSIGNED-PAYLOAD``). For aws-chunked uploads the seed signature comes from ``sign`` with
``STREAMING_PAYLOAD``; each chunk is then signed by ``sign_chunk`` over the previous
signature and framed by ``chunk_frame``.

Nothing here reads a clock or does I/O: the time and the credentials are arguments.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

# The payload-hash values are defined beside the check that accepts them; they are exported
# here too because a caller picks one when it signs.
from rawS3.canonical import STREAMING_PAYLOAD, UNSIGNED_PAYLOAD, canonical_request, split_url
from rawS3.urls import encode_query, host_for_url
from rawS3.validation import MAX_PRESIGN_SECONDS

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "STREAMING_PAYLOAD",
    "UNSIGNED_PAYLOAD",
    "Credentials",
    "amz_date",
    "authorization_header",
    "chunk_frame",
    "chunk_string_to_sign",
    "credential_scope",
    "date_stamp",
    "encoded_length",
    "presign",
    "presign_parameters",
    "request_headers",
    "sign",
    "sign_chunk",
    "signature",
    "signature_from_authorization",
    "signing_key",
    "string_to_sign",
    "with_host",
]

ALGORITHM = "AWS4-HMAC-SHA256"
CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PRESIGN_EXPIRES = MAX_PRESIGN_SECONDS

# Stale values from an earlier signing must not survive a re-sign (retries use a fresh date).
_REPLACED_HEADERS = frozenset(
    {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
)
_PRESIGN_NAMES = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signedheaders",
        "x-amz-signature",
    }
)
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """An access key pair, optionally with a session token (temporary credentials).

    ``repr`` and ``str`` show the access key only; the secret and the token print as ``***``.

    Attributes:
        access_key: the access key id; must not contain ``/``.
        secret_key: the secret access key.
        session_token: the session token of temporary credentials, else ``None``.
        expiry: when temporary credentials stop working (aware UTC), else ``None``: a
            provider's credentials are fetched again before this time.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: the access key or the secret is empty, or the access key contains ``/``.
    """

    access_key: str
    secret_key: str
    session_token: str | None = None
    expiry: datetime.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("access_key", "secret_key"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"Credentials.{name} must be a str, not {type(value).__name__}")
            if not value:
                raise ValueError(f"Credentials.{name} must not be empty")
        if "/" in self.access_key:
            raise ValueError("Credentials.access_key must not contain '/'")
        if self.session_token is not None and not isinstance(self.session_token, str):
            raise TypeError("Credentials.session_token must be a str or None")
        if self.expiry is not None:
            if not isinstance(self.expiry, datetime.datetime):
                raise TypeError("Credentials.expiry must be a datetime.datetime or None")
            object.__setattr__(self, "expiry", _utc(self.expiry))

    def __repr__(self) -> str:
        token = "None" if self.session_token is None else "'***'"
        expiry = "" if self.expiry is None else f", expiry={self.expiry.isoformat()!r}"
        return (
            f"Credentials(access_key={self.access_key!r}, secret_key='***', "
            f"session_token={token}{expiry})"
        )


# --- dates and scope -----------------------------------------------------------------------


def _utc(now: datetime.datetime) -> datetime.datetime:
    if not isinstance(now, datetime.datetime):
        raise TypeError(f"now must be a datetime.datetime, not {type(now).__name__}")
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.timezone.utc)
    return now.astimezone(datetime.timezone.utc)


def amz_date(now: datetime.datetime) -> str:
    """The ISO 8601 basic timestamp of now in UTC.

    Args:
        now: The signing time; a naive datetime is taken as UTC.

    Returns:
        For example ``"20130524T000000Z"``.

    Raises:
        TypeError: now is not a datetime.
    """
    return _stamps(now)[0]


def date_stamp(now: datetime.datetime) -> str:
    """The UTC date of now as used in the credential scope.

    Args:
        now: The signing time; a naive datetime is taken as UTC.

    Returns:
        For example ``"20130524"``.

    Raises:
        TypeError: now is not a datetime.
    """
    return _stamps(now)[1]


# One request asks for its timestamp and date four times; the last few answers are kept.
@functools.lru_cache(maxsize=4)
def _stamps(now: datetime.datetime) -> tuple[str, str]:
    t = _utc(now)
    # f-string formatting: strftime costs several times more, on every request.
    day = f"{t.year:04d}{t.month:02d}{t.day:02d}"
    return f"{day}T{t.hour:02d}{t.minute:02d}{t.second:02d}Z", day


def credential_scope(now: datetime.datetime, region: str, service: str) -> str:
    """The credential scope ``date/region/service/aws4_request``.

    Args:
        now: The signing time.
        region: Region name, e.g. ``"us-east-1"``.
        service: Service name, ``"s3"`` for S3.

    Returns:
        The scope string.

    Raises:
        ValueError: region or service is empty or contains ``/``.
        TypeError: now is not a datetime.
    """
    for name, value in (("region", region), ("service", service)):
        if not isinstance(value, str) or not value or "/" in value:
            raise ValueError(f"{name} must be a non-empty str without '/', got {value!r}")
    return f"{date_stamp(now)}/{region}/{service}/aws4_request"


# --- string to sign, key, signature --------------------------------------------------------


def string_to_sign(now: datetime.datetime, scope: str, canonical_request: str) -> str:
    """The string to sign: algorithm, timestamp, scope and the canonical request's SHA-256.

    Args:
        now: The signing time.
        scope: The credential scope (see ``credential_scope``).
        canonical_request: The canonical request text.

    Returns:
        Four lines joined by newlines.

    Raises:
        TypeError: now is not a datetime.
    """
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date(now)}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


# Deriving the key costs four HMACs; it only changes once a day per region and service.
@functools.lru_cache(maxsize=32)
def _derived_signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def signing_key(secret_key: str, now: datetime.datetime, region: str, service: str) -> bytes:
    """The signing key for a day, region and service (cached per that tuple).

    Args:
        secret_key: The secret access key.
        now: The signing time (only its UTC date matters).
        region: Region name.
        service: Service name.

    Returns:
        The 32-byte key.

    Raises:
        TypeError: now is not a datetime.
    """
    return _derived_signing_key(secret_key, date_stamp(now), region, service)


def signature(signing_key: bytes, string_to_sign: str) -> str:
    """The signature: hex HMAC-SHA256 of the string to sign under the signing key.

    Args:
        signing_key: From ``signing_key``.
        string_to_sign: From ``string_to_sign`` or ``chunk_string_to_sign``.

    Returns:
        64 lower-case hex digits.
    """
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(access_key: str, scope: str, signed_headers: str, signature: str) -> str:
    """The Authorization header value.

    Args:
        access_key: The access key id.
        scope: The credential scope.
        signed_headers: From ``rawS3.canonical.signed_headers``.
        signature: From ``signature``.

    Returns:
        ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``.
    """
    return (
        f"{ALGORITHM} Credential={access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


def signature_from_authorization(authorization: str) -> str:
    """Extract the signature from an Authorization header (the seed of a chunked upload).

    Args:
        authorization: An Authorization value as made by ``authorization_header``.

    Returns:
        The 64-hex-digit signature.

    Raises:
        ValueError: the header has no ``Signature=`` with 64 lower-case hex digits.
    """
    for part in authorization.split(","):
        name, _, value = part.strip().partition("=")
        if name == "Signature" and _HEX_SIGNATURE.fullmatch(value):
            return value
    raise ValueError("authorization header carries no Signature=<64 lower-case hex digits>")


# --- header signing ------------------------------------------------------------------------


def request_headers(
    headers: Mapping[str, str],
    *,
    now: datetime.datetime,
    payload_hash: str,
    credentials: Credentials,
) -> dict[str, str]:
    """The headers to send, before the Authorization header is added.

    Args:
        headers: The caller's headers; earlier ``authorization``/``x-amz-date``/
            ``x-amz-content-sha256``/``x-amz-security-token`` values are dropped.
        now: The signing time.
        payload_hash: The ``x-amz-content-sha256`` value.
        credentials: Supplies the session token, if any.

    Returns:
        A new dict: the caller's headers plus ``x-amz-date``, ``x-amz-content-sha256`` and,
        with a session token, ``x-amz-security-token``.

    Raises:
        TypeError: now is not a datetime.
    """
    result = {
        k: v
        for k, v in headers.items()
        if not (isinstance(k, str) and k.lower() in _REPLACED_HEADERS)
    }
    result["x-amz-date"] = amz_date(now)
    result["x-amz-content-sha256"] = payload_hash
    if credentials.session_token is not None:
        result["x-amz-security-token"] = credentials.session_token
    return result


def with_host(url: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers plus ``host`` from the URL unless a Host header is already there.

    Args:
        url: The request URL.
        headers: The headers to send.

    Returns:
        A new dict (default ports 80/443 are left out of the host, as clients send it).

    Raises:
        ValueError: the URL has no usable host.
    """
    result = dict(headers)
    if not any(name.lower() == "host" for name in result):
        result["host"] = host_for_url(url)
    return result


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    payload_hash: str,
    credentials: Credentials,
    region: str,
    now: datetime.datetime,
    service: str = "s3",
) -> dict[str, str]:
    """Sign a request with the Authorization header.

    Args:
        method: Upper-case HTTP method.
        url: The URL exactly as it is sent (path and query already encoded S3-style).
        headers: Headers to send; not modified.
        payload_hash: Hex SHA-256 of the body, ``UNSIGNED_PAYLOAD`` or ``STREAMING_PAYLOAD``.
        credentials: The key pair (and session token).
        region: Region name.
        now: The signing time (aware, or naive UTC).
        service: Service name.

    Returns:
        A new dict: the given headers plus ``x-amz-date``, ``x-amz-content-sha256``,
        ``x-amz-security-token`` (with a token) and ``Authorization``. Host is signed but not
        added: the HTTP client derives the same value from the URL.

    Raises:
        ValueError: a bad method, URL, header, payload hash, region or service.
        TypeError: now is not a datetime, or a header value or the payload hash is not a str.
    """
    result = request_headers(headers, now=now, payload_hash=payload_hash, credentials=credentials)
    to_sign = with_host(url, result)
    scope = credential_scope(now, region, service)
    canonical = canonical_request(method, url, to_sign, payload_hash)
    text = string_to_sign(now, scope, canonical)
    key = signing_key(credentials.secret_key, now, region, service)
    # The signed-header line is the canonical request's fifth: reading it back spares
    # normalizing every header a second time.
    names = canonical.rsplit("\n", 2)[1]
    result["Authorization"] = authorization_header(
        credentials.access_key, scope, names, signature(key, text)
    )
    return result


# --- query signing (presigned URLs) --------------------------------------------------------


def presign_parameters(
    credentials: Credentials,
    now: datetime.datetime,
    region: str,
    expires: int,
    service: str = "s3",
) -> list[tuple[str, str]]:
    """The ``X-Amz-*`` query parameters that go into a presigned URL before its signature.

    Args:
        credentials: The key pair; a session token adds ``X-Amz-Security-Token``.
        now: The signing time.
        region: Region name.
        expires: Validity in seconds, 1 to 604800 (7 days).
        service: Service name.

    Returns:
        Unencoded ``(name, value)`` pairs.

    Raises:
        TypeError: expires is not an int, or now is not a datetime.
        ValueError: expires is out of range, or a bad region or service.
    """
    _check_expires(expires)
    params = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key}/{credential_scope(now, region, service)}"),
        ("X-Amz-Date", amz_date(now)),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.session_token is not None:
        params.append(("X-Amz-Security-Token", credentials.session_token))
    return params


def _check_expires(expires: int) -> None:
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise TypeError(f"expires must be an int number of seconds, not {type(expires).__name__}")
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise ValueError(
            f"expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds (7 days), got {expires}"
        )


def presign(
    method: str,
    url: str,
    *,
    credentials: Credentials,
    region: str,
    now: datetime.datetime,
    expires: int,
    service: str = "s3",
) -> str:
    """Presign a URL: authentication in the query, payload ``UNSIGNED-PAYLOAD``.

    Args:
        method: Upper-case HTTP method the URL will be used with.
        url: The URL as it is to be sent, optionally with its own encoded query.
        credentials: The key pair; a session token is put in the signed query.
        region: Region name.
        now: The signing time.
        expires: Validity in seconds, 1 to 604800 (7 days).
        service: Service name.

    Returns:
        The URL with ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
        ``X-Amz-Expires``, ``X-Amz-SignedHeaders`` (and ``X-Amz-Security-Token``) and, last,
        ``X-Amz-Signature``.

    Raises:
        TypeError: expires is not an int, or now is not a datetime.
        ValueError: expires out of range, the URL already carries ``X-Amz-*`` auth
            parameters, or a bad method, URL, region or service.
    """
    existing = split_url(url).query
    if any(part.partition("=")[0].lower() in _PRESIGN_NAMES for part in existing.split("&")):
        raise ValueError("url already carries X-Amz-* authentication parameters")
    query = encode_query(presign_parameters(credentials, now, region, expires, service))
    unsigned = f"{url}&{query}" if existing else f"{url.rstrip('?')}?{query}"
    request = canonical_request(method, unsigned, {"host": host_for_url(url)}, UNSIGNED_PAYLOAD)
    text = string_to_sign(now, credential_scope(now, region, service), request)
    key = signing_key(credentials.secret_key, now, region, service)
    return f"{unsigned}&X-Amz-Signature={signature(key, text)}"


# --- aws-chunked uploads -------------------------------------------------------------------


def chunk_string_to_sign(
    now: datetime.datetime, scope: str, previous_signature: str, chunk: bytes
) -> str:
    """The string to sign for one aws-chunked chunk.

    Args:
        now: The signing time of the seed request.
        scope: The seed request's credential scope.
        previous_signature: The seed signature for the first chunk, else the previous chunk's.
        chunk: The chunk's data (empty for the final chunk).

    Returns:
        ``AWS4-HMAC-SHA256-PAYLOAD``, timestamp, scope, previous signature, SHA-256 of the
        empty string and SHA-256 of the chunk, joined by newlines.

    Raises:
        ValueError: previous_signature is not 64 lower-case hex digits.
        TypeError: now is not a datetime.
    """
    if not _HEX_SIGNATURE.fullmatch(previous_signature):
        raise ValueError("previous_signature must be 64 lower-case hex digits")
    digest = hashlib.sha256(chunk).hexdigest()
    return "\n".join(
        [CHUNK_ALGORITHM, amz_date(now), scope, previous_signature, EMPTY_SHA256, digest]
    )


def sign_chunk(
    chunk: bytes,
    previous_signature: str,
    *,
    credentials: Credentials,
    region: str,
    now: datetime.datetime,
    service: str = "s3",
) -> str:
    """The signature of one aws-chunked chunk.

    Args:
        chunk: The chunk's data (empty for the final chunk).
        previous_signature: The seed signature for the first chunk, else the previous chunk's.
        credentials: The key pair used for the seed request.
        region: Region name of the seed request.
        now: The signing time of the seed request.
        service: Service name of the seed request.

    Returns:
        64 lower-case hex digits.

    Raises:
        ValueError: previous_signature is malformed, or a bad region or service.
        TypeError: now is not a datetime.
    """
    scope = credential_scope(now, region, service)
    text = chunk_string_to_sign(now, scope, previous_signature, chunk)
    return signature(signing_key(credentials.secret_key, now, region, service), text)


def chunk_frame(chunk: bytes, signature: str) -> bytes:
    """Frame one chunk for an aws-chunked body.

    Args:
        chunk: The chunk's data (empty for the final chunk).
        signature: The chunk's signature.

    Returns:
        ``hex(len);chunk-signature=SIG\\r\\n`` + chunk + ``\\r\\n``.
    """
    header = f"{len(chunk):x};chunk-signature={signature}\r\n".encode("ascii")
    return header + bytes(chunk) + b"\r\n"


def encoded_length(decoded_length: int, chunk_size: int) -> int:
    """The Content-Length of an aws-chunked body, final zero-length chunk included.

    Args:
        decoded_length: The payload size in bytes (``x-amz-decoded-content-length``).
        chunk_size: The size of every chunk but the last.

    Returns:
        The total size of all chunk frames.

    Raises:
        ValueError: decoded_length is negative or chunk_size is not positive.
    """
    if decoded_length < 0 or chunk_size <= 0:
        raise ValueError(
            f"need decoded_length >= 0 and chunk_size > 0, got {decoded_length}, {chunk_size}"
        )
    full, rest = divmod(decoded_length, chunk_size)
    total = full * _framed_size(chunk_size) + _framed_size(0)
    return total + (_framed_size(rest) if rest else 0)


def _framed_size(size: int) -> int:
    return len(f"{size:x};chunk-signature=\r\n\r\n") + 64 + size
