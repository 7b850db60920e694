"""Credentials that come from somewhere: the provider interface, when to fetch them again, and
the documents the sources answer with.

Pure: the time is an argument (seconds since the epoch), the documents are bytes already
received. The sources that send and run things are in ``rawS3.providers``; the cache that
refreshes them under concurrency is ``rawS3.refresh``.

Every reader here raises :class:`~rawS3.errors.CredentialsError` naming its source, and no
message holds a secret: a field's value never goes into an error, only its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable
from urllib.parse import quote, quote_plus, urlencode

from rawS3.errors import CredentialsError, ResponseError
from rawS3.sigv4 import Credentials
from rawS3.xml import Node

__all__ = [
    "REFRESH_MARGIN",
    "RETRY_AFTER_FAILURE",
    "STS_VERSION",
    "CredentialsProvider",
    "assume_role_form",
    "parse_expiration",
    "read_metadata_credentials",
    "read_process_credentials",
    "read_sts_credentials",
    "refresh_due",
    "still_valid",
    "sts_endpoint",
    "sts_error",
    "web_identity_form",
]

# AWS's SDKs start refreshing 15 minutes ahead; 5 minutes leaves room for a slow source and
# for the longest request in flight, and still suits 15-minute role sessions.
REFRESH_MARGIN = 300.0
# After a failed refresh with old credentials still valid, wait this long before trying again,
# so a source that is down is not asked once per request.
RETRY_AFTER_FAILURE = 10.0
STS_VERSION = "2011-06-15"


@runtime_checkable
class CredentialsProvider(Protocol):
    """Anything that can fetch credentials: ``S3Client(credentials=provider)``.

    ``fetch`` is awaited when the client has no credentials yet and again before the last
    ones expire (``Credentials.expiry``; never, for credentials without one). The client
    calls it from one task at a time.

    Args:
        args: nothing: the protocol itself is not made; any class with ``fetch`` will do.
        kwargs: nothing, likewise.

    Raises:
        TypeError: on making the protocol itself.
    """

    async def fetch(self) -> Credentials:
        """Return fresh credentials.

        Returns:
            The credentials, with their ``expiry`` if they have one.

        Raises:
            CredentialsError: none can be had (any other exception is wrapped in one).
        """
        ...


def refresh_due(credentials: Credentials | None, now: float, margin: float) -> bool:
    """Tell whether credentials should be fetched (again) before signing at ``now``.

    Args:
        credentials: the credentials held, or ``None``.
        now: seconds since the epoch.
        margin: seconds before the expiry at which a refresh is due.

    Returns:
        True with none held, or when they expire within ``margin``.
    """
    if credentials is None:
        return True
    if credentials.expiry is None:
        return False
    return credentials.expiry.timestamp() - now <= margin


def still_valid(credentials: Credentials | None, now: float) -> bool:
    """Tell whether credentials can still sign at ``now`` (not expired).

    Args:
        credentials: the credentials held, or ``None``.
        now: seconds since the epoch.

    Returns:
        True when held and not past their expiry.
    """
    if credentials is None:
        return False
    return credentials.expiry is None or credentials.expiry.timestamp() > now


def parse_expiration(text: object, source: str) -> datetime:
    """Read an ISO 8601 expiry such as ``2026-11-30T23:00:00Z``.

    Args:
        text: the value found in the document.
        source: named in the error.

    Returns:
        An aware UTC time.

    Raises:
        CredentialsError: not a str, or not an ISO 8601 time.
    """
    if not isinstance(text, str):
        raise CredentialsError(source, "Expiration is not a string")
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CredentialsError(
            source, f"Expiration {text[:40]!r} is not an ISO 8601 time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def _json_object(body: bytes, source: str) -> Mapping[str, object]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        # The text is not shown: it may be credentials with one character wrong.
        raise CredentialsError(source, "the answer is not JSON") from None
    if not isinstance(data, dict):
        raise CredentialsError(source, "the answer is not a JSON object")
    return data


def _field(data: Mapping[str, object], name: str, source: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise CredentialsError(source, f"the answer has no {name}")
    return value


def _credentials(
    source: str, access_key: str, secret_key: str, token: str | None, expiry: datetime | None
) -> Credentials:
    try:
        return Credentials(access_key, secret_key, token, expiry)
    except (TypeError, ValueError) as exc:
        raise CredentialsError(source, f"unusable credentials: {exc}") from None


def read_metadata_credentials(body: bytes, source: str) -> Credentials:
    """Read the JSON the container endpoint and EC2 instance metadata answer with.

    ``{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}``; instance metadata adds
    ``"Code": "Success"``, and any other code is a failure.

    Args:
        body: the answer's body.
        source: named in errors.

    Returns:
        The credentials with their expiry.

    Raises:
        CredentialsError: not JSON, a failure code, a missing field or a bad expiry.
    """
    data = _json_object(body, source)
    code = data.get("Code", "Success")
    if code != "Success":
        raise CredentialsError(source, f"the answer's Code is {str(code)[:60]!r}")
    expiry = data.get("Expiration")
    return _credentials(
        source,
        _field(data, "AccessKeyId", source),
        _field(data, "SecretAccessKey", source),
        data.get("Token") if isinstance(data.get("Token"), str) else None,  # type: ignore[arg-type]
        None if expiry is None else parse_expiration(expiry, source),
    )


def read_process_credentials(stdout: bytes, source: str) -> Credentials:
    """Read what a ``credential_process`` printed: JSON with ``"Version": 1``.

    Args:
        stdout: the process's standard output.
        source: named in errors.

    Returns:
        The credentials (``SessionToken`` and ``Expiration`` are optional).

    Raises:
        CredentialsError: not JSON, another version, a missing field or a bad expiry.
    """
    data = _json_object(stdout, source)
    if data.get("Version") != 1:
        raise CredentialsError(source, "the output's Version is not 1")
    token = data.get("SessionToken")
    if token is not None and not isinstance(token, str):
        raise CredentialsError(source, "the output's SessionToken is not a string")
    expiry = data.get("Expiration")
    return _credentials(
        source,
        _field(data, "AccessKeyId", source),
        _field(data, "SecretAccessKey", source),
        token or None,
        None if expiry is None else parse_expiration(expiry, source),
    )


# --- STS -----------------------------------------------------------------------------------


def sts_endpoint(env: Mapping[str, str], region: str) -> str:
    """Return the STS endpoint: ``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``, else regional.

    Args:
        env: the environment.
        region: the region, for AWS's regional endpoint.

    Returns:
        The endpoint URL, without a trailing ``/``.
    """
    url = env.get("AWS_ENDPOINT_URL_STS") or env.get("AWS_ENDPOINT_URL")
    return (url or f"https://sts.{region}.amazonaws.com").rstrip("/")


def assume_role_form(
    role_arn: str,
    session_name: str,
    *,
    external_id: str | None = None,
    duration: int | None = None,
) -> bytes:
    """Build the form body of STS ``AssumeRole`` (POSTed, SigV4-signed for service ``sts``).

    Args:
        role_arn: the role to assume.
        session_name: names the session in the role's ARN.
        external_id: the external id the role's trust policy may ask for.
        duration: the session's length in seconds.

    Returns:
        The ``application/x-www-form-urlencoded`` body.
    """
    fields = {
        "Action": "AssumeRole",
        "Version": STS_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
    }
    if external_id:
        fields["ExternalId"] = external_id
    if duration:
        fields["DurationSeconds"] = str(duration)
    return urlencode(fields).encode()


def web_identity_form(role_arn: str, session_name: str, token: str) -> bytes:
    """Build the form body of STS ``AssumeRoleWithWebIdentity`` (POSTed unsigned).

    Args:
        role_arn: the role to assume.
        session_name: names the session.
        token: the OIDC token read from ``AWS_WEB_IDENTITY_TOKEN_FILE``.

    Returns:
        The form body (it holds the token: never log it).
    """
    fields = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": STS_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "WebIdentityToken": token,
    }
    return urlencode(fields).encode()


def read_sts_credentials(body: bytes, source: str) -> Credentials:
    """Read the temporary credentials of an ``AssumeRole*Response`` (stdlib XML, DTDs refused).

    Args:
        body: the answer's body.
        source: named in errors.

    Returns:
        The credentials with their expiry.

    Raises:
        CredentialsError: not such a document, or a field missing.
    """
    try:
        root = Node.parse(body)
    except (ResponseError, TypeError):
        # Not the parser's message: it quotes the document, which may hold the secret key.
        raise CredentialsError(source, "STS answered with a document that is not XML") from None
    if root.name not in ("AssumeRoleResponse", "AssumeRoleWithWebIdentityResponse"):
        raise CredentialsError(source, f"STS answered with <{root.name[:60]}>, not credentials")
    result = root.child("AssumeRoleResult") or root.child("AssumeRoleWithWebIdentityResult")
    found = result.child("Credentials") if result is not None else None
    if found is None:
        raise CredentialsError(source, "STS's answer holds no Credentials")
    values = {name: found.text(name) for name in ("AccessKeyId", "SecretAccessKey")}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise CredentialsError(source, f"STS's answer has no {missing[0]}")
    expiry = found.text("Expiration")
    return _credentials(
        source,
        values["AccessKeyId"] or "",
        values["SecretAccessKey"] or "",
        found.text("SessionToken") or None,
        parse_expiration(expiry, source) if expiry else None,
    )


def sts_error(status: int, body: bytes, secrets: tuple[str, ...] = ()) -> str:
    """Describe an STS error answer by its code and message, with ``secrets`` masked.

    Args:
        status: the HTTP status.
        body: the ``ErrorResponse`` document, or anything else.
        secrets: strings that must not appear (e.g. a web identity token a server echoes).

    Returns:
        ``"HTTP 403 AccessDenied: message"``, or just the status for an unreadable body.
    """
    try:
        root = Node.parse(body)
        # AWS nests <Error> in <ErrorResponse>; moto adds an <Errors> level between.
        listed = root.child("Errors")
        error = (listed or root).child("Error")
    except (ResponseError, TypeError):
        error = None
    if error is None:
        return f"HTTP {status}"
    text = f"HTTP {status} {error.text('Code') or ''}: {(error.text('Message') or '')[:300]}"
    for secret in secrets:
        # As sent (the form body holds it URL-encoded) and as it is.
        for form in {secret, quote_plus(secret), quote(secret, safe="")} - {""}:
            text = text.replace(form, "***")
    return text
