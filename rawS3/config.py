"""Client settings from arguments, falling back to the standard AWS environment variables.

Pure: the environment is passed in as a mapping.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from rawS3.profiles import FileSettings
from rawS3.sigv4 import Credentials
from rawS3.urls import Addressing, Endpoint, parse_endpoint
from rawS3.xml import parse_http_date

__all__ = [
    "DEFAULT_REGION",
    "MAX_CLOCK_CORRECTION",
    "Settings",
    "SigningClock",
    "Timeouts",
    "resolve_settings",
]

DEFAULT_REGION = "us-east-1"
_ADDRESSING = ("path", "virtual")
_PAYLOAD_SIGNING = ("auto", "signed", "unsigned")
# S3 refuses requests 15 minutes off; a clock this far off is not a clock to follow.
MAX_CLOCK_CORRECTION = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Time limits in seconds for one HTTP exchange (``None``: no limit).

    Attributes:
        connect: to open a connection (TCP and TLS).
        read: between two reads of the response; a stalled transfer fails after this.
        total: for the whole exchange; off by default since large parts legitimately take long.

    Raises:
        TypeError: a limit is neither a number of seconds nor ``None`` (``bool`` included).
        ValueError: a limit is 0 or less.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Timeouts.{name} must be seconds (int or float) or None")
            if not value > 0:
                raise ValueError(
                    f"Timeouts.{name} must be more than 0 seconds or None, got {value}"
                )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the client needs to address and sign requests.

    Attributes:
        endpoint: where requests go.
        credentials: what they are signed with, when fixed; ``None`` when a provider
            supplies them (the client's ``CredentialsCache`` holds the current ones).
        region: the signing region.
        addressing: ``"path"`` or ``"virtual"``.
        sign_payload: whether bodies are hashed into the signature (else ``UNSIGNED-PAYLOAD``).
    """

    endpoint: Endpoint
    credentials: Credentials | None
    region: str
    addressing: Addressing
    sign_payload: bool


def resolve_settings(
    *,
    endpoint_url: str | None,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    region: str | None,
    addressing: str | None,
    payload_signing: str,
    env: Mapping[str, str],
    files: FileSettings | None = None,
    chained: bool = False,
) -> Settings:
    """Combine arguments with ``env`` (arguments win) into validated ``Settings``.

    Args:
        endpoint_url: the endpoint; else ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, the
            profile's (``files``), else AWS's endpoint for the region.
        access_key: else ``AWS_ACCESS_KEY_ID``.
        secret_key: else ``AWS_SECRET_ACCESS_KEY``.
        session_token: else ``AWS_SESSION_TOKEN``; none at all is fine.
        region: else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's, else
            ``us-east-1``.
        addressing: ``"path"`` or ``"virtual"``; ``None``: the profile's
            ``s3.addressing_style`` (``auto`` is ``path``), else ``"path"``.
        payload_signing: ``"signed"``, ``"unsigned"`` or ``"auto"`` (sign bodies over
            http only).
        env: the environment to fall back on, e.g. ``os.environ``.
        files: what the shared config files' profile sets, below the environment.
        chained: the credentials come from the chain (``rawS3.chain``): the three key
            arguments are then ignored and ``Settings.credentials`` is ``None``.

    Returns:
        The settings, endpoint parsed and credentials checked.

    Raises:
        TypeError: an endpoint URL or a credential that is not a ``str``.
        ValueError: no credentials anywhere, an unknown ``addressing`` or ``payload_signing``,
            or an endpoint URL that is not http(s)://host[:port].
    """
    files = files or FileSettings()
    if addressing is None:
        addressing = "path" if files.addressing_style in (None, "auto") else files.addressing_style
    _check_choice("addressing", addressing, _ADDRESSING)
    _check_choice("payload_signing", payload_signing, _PAYLOAD_SIGNING)
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or files.region
    region = region or DEFAULT_REGION
    url = endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    endpoint = parse_endpoint(url or files.endpoint_url or f"https://s3.{region}.amazonaws.com")
    credentials = (
        None if chained else _credentials(access_key, secret_key, session_token, env)
    )
    signed = payload_signing == "signed" or (
        payload_signing == "auto" and endpoint.scheme == "http"
    )
    style: Addressing = "virtual" if addressing == "virtual" else "path"
    return Settings(endpoint, credentials, region, style, signed)


def _credentials(
    access_key: str | None, secret_key: str | None, token: str | None, env: Mapping[str, str]
) -> Credentials:
    access_key = access_key or env.get("AWS_ACCESS_KEY_ID")
    secret_key = secret_key or env.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        raise ValueError(
            "no credentials: pass aws_access_key_id and aws_secret_access_key, "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    return Credentials(access_key, secret_key, token or env.get("AWS_SESSION_TOKEN") or None)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


class SigningClock:
    """The time requests are signed with: a clock, plus the offset a server's time taught.

    Args:
        read: seconds since the epoch, e.g. ``time.time``; called, never stored as a value.

    Attributes:
        offset: seconds added to ``read()`` since a server said our time was off.
    """

    def __init__(self, read: Callable[[], float]) -> None:
        self.read = read
        self.offset = 0.0
        self._second = 0
        self._at_second = datetime.fromtimestamp(0, tz=timezone.utc)

    def now(self) -> datetime:
        """Return the time to sign with.

        Returns:
            ``read() + offset`` as an aware UTC time.
        """
        return datetime.fromtimestamp(self.read() + self.offset, tz=timezone.utc)

    def signing_time(self) -> datetime:
        """Return the time to sign with, to the whole second (all that SigV4 signs).

        The same object is returned throughout a second, so the signer's caches of date
        stamps and keys serve every request of that second.

        Returns:
            ``read() + offset`` rounded down to the second, as an aware UTC time.
        """
        second = math.floor(self.read() + self.offset)
        if second != self._second:
            self._second = second
            self._at_second = datetime.fromtimestamp(second, tz=timezone.utc)
        return self._at_second

    def follow(self, server_time: str | None) -> bool:
        """Adopt the time a ``RequestTimeTooSkewed`` answer gave, if it is believable.

        Args:
            server_time: ``ServerTime`` (ISO 8601) or an HTTP ``Date`` value.

        Returns:
            Whether the offset changed: not for a missing or unreadable time, nor one more
            than a day away (wrong or hostile; dates past year 9999 cannot even be signed).
        """
        server = _parse_server_time(server_time)
        if server is None or abs(server - self.read()) > MAX_CLOCK_CORRECTION:
            return False
        self.offset = server - self.read()
        return True


def _parse_server_time(text: str | None) -> float | None:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    with contextlib.suppress(ValueError):
        return parse_http_date(text).timestamp()
    return None
