"""A client's configuration from its arguments, the environment and the shared AWS files.

Explicit arguments win, then the environment, then the profile of ``~/.aws/config`` and
``~/.aws/credentials`` (``AWS_PROFILE``, ``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE``),
then the defaults. The credentials follow the standard chain (``rawS3.chain``); a source that
must send or run something becomes a provider, loaded with the first request, so making a
client still loads neither asyncio nor aiohttp.

I/O: the shared files are read here, once, when the client is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rawS3.chain import Fixed, Plan, plan_credentials
from rawS3.config import Settings, resolve_settings
from rawS3.credentials import CredentialsProvider
from rawS3.errors import CredentialsError
from rawS3.profiles import (
    FileSettings,
    SharedFiles,
    file_settings,
    profile_named,
    selected_profile,
)
from rawS3.refresh import CredentialsCache, PlannedProvider
from rawS3.sigv4 import Credentials

__all__ = ["Configured", "configure", "read_shared_files"]

log = logging.getLogger("rawS3")


@dataclass(frozen=True, slots=True)
class Configured:
    """What ``configure`` found.

    Attributes:
        settings: endpoint, region, addressing, payload signing (credentials if fixed).
        keys: the credentials to sign with, refreshed when they come from a provider.
        max_attempts: ``AWS_MAX_ATTEMPTS`` or the profile's ``max_attempts``, if set.
        ca_bundle: ``AWS_CA_BUNDLE`` or the profile's ``ca_bundle``, if set.
    """

    settings: Settings
    keys: CredentialsCache
    max_attempts: int | None
    ca_bundle: str | None


def read_shared_files(env: Mapping[str, str]) -> SharedFiles:
    """Read ``~/.aws/credentials`` and ``~/.aws/config`` (or the files the variables name).

    Args:
        env: the environment (``AWS_SHARED_CREDENTIALS_FILE``, ``AWS_CONFIG_FILE``, ``HOME``).

    Returns:
        Their paths and texts; a file that does not exist reads as ``None``.

    Raises:
        CredentialsError: a file exists but cannot be read.
    """
    credentials = env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    config = env.get("AWS_CONFIG_FILE") or "~/.aws/config"
    return SharedFiles(credentials, _read(credentials, env), config, _read(config, env))


def _read(path: str, env: Mapping[str, str]) -> str | None:
    home = env.get("HOME")
    full = Path(home + path[1:]) if path.startswith("~") and home else Path(path).expanduser()
    try:
        return full.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(path, f"cannot be read ({type(exc).__name__})") from None


def configure(
    *,
    credentials: Credentials | CredentialsProvider | None,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
    addressing: str | None,
    payload_signing: str,
    env: Mapping[str, str],
    read_clock: Callable[[], float],
) -> Configured:
    """Work out a client's settings and credentials source.

    Args:
        credentials: fixed ``Credentials`` or a provider, instead of the chain.
        access_key: with ``secret_key``: fixed keys (a missing half falls back to the
            environment variable).
        secret_key: the secret access key.
        session_token: the session token of temporary keys.
        profile: the shared files' profile (else ``AWS_PROFILE``, else ``default``).
        endpoint_url: as ``S3Client`` takes it.
        region: as ``S3Client`` takes it.
        addressing: as ``S3Client`` takes it.
        payload_signing: as ``S3Client`` takes it.
        env: the environment.
        read_clock: the client's clock, for expiries.

    Returns:
        The settings and the credentials cache.

    Raises:
        TypeError: ``credentials`` is neither ``Credentials`` nor a provider, or comes with
            key arguments; a key that is not a ``str``.
        ValueError: a bad option (see ``resolve_settings``).
        CredentialsError: a shared file cannot be read or parsed (with keys passed as
            arguments and no profile, it is only logged), a named profile does not exist, or
            a configured source is unusable.
    """
    if profile is not None and not isinstance(profile, str):
        raise TypeError(f"profile must be a str, not {type(profile).__name__}")
    if credentials is not None and (access_key or secret_key or session_token):
        raise TypeError("pass credentials= or the aws_* key arguments, not both")
    if credentials is not None and not isinstance(credentials, (Credentials, CredentialsProvider)):
        raise TypeError(
            "credentials must be Credentials or a provider with an async fetch() method, "
            f"not {type(credentials).__name__}"
        )
    # Key arguments are checked (a missing half from the environment) as before the chain.
    passed_keys = bool(access_key or secret_key or session_token)
    files, from_files = _shared_settings(env, profile, credentials is not None or passed_keys)
    settings = resolve_settings(
        endpoint_url=endpoint_url,
        access_key=access_key,
        secret_key=secret_key,
        session_token=session_token,
        region=region,
        addressing=addressing,
        payload_signing=payload_signing,
        env=env,
        files=from_files,
        chained=not passed_keys,
    )
    keys = _keys(
        credentials,
        settings.credentials,
        profile,
        env,
        files,
        settings.region,
        read_clock,
    )
    fixed = keys.last if keys.provider is None else None
    return Configured(
        Settings(
            settings.endpoint, fixed, settings.region, settings.addressing, settings.sign_payload
        ),
        keys,
        _max_attempts(env) or from_files.max_attempts,
        env.get("AWS_CA_BUNDLE") or from_files.ca_bundle,
    )


def _shared_settings(
    env: Mapping[str, str], profile: str | None, keys_given: bool
) -> tuple[SharedFiles, FileSettings]:
    try:
        files = read_shared_files(env)
        return files, file_settings(profile_named(files, selected_profile(profile, env)[0]))
    except CredentialsError as exc:
        if not keys_given or profile is not None:
            raise
        # Keys passed as arguments need no file: a broken one does not stop the client (it
        # did not before the files were read); it is named in the log, its text never is.
        log.warning("%s; the shared files' settings are not used", exc)
        return SharedFiles(), FileSettings()


def _keys(
    credentials: Credentials | CredentialsProvider | None,
    explicit: Credentials | None,
    profile: str | None,
    env: Mapping[str, str],
    files: SharedFiles,
    region: str,
    read_clock: Callable[[], float],
) -> CredentialsCache:
    if credentials is not None:
        name = "arguments" if isinstance(credentials, Credentials) else None
        return CredentialsCache(credentials, read_clock, name=name)
    plan: Plan = plan_credentials(env, files, explicit=explicit, profile=profile)
    if isinstance(plan, Fixed):
        return CredentialsCache(plan.credentials, read_clock, name=plan.source)
    return CredentialsCache(PlannedProvider(plan, dict(env), region), read_clock, name=plan.source)


def _max_attempts(env: Mapping[str, str]) -> int | None:
    text = env.get("AWS_MAX_ATTEMPTS")
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"AWS_MAX_ATTEMPTS must be a whole number >= 1, got {text!r}")
    return int(text)
