"""The shared AWS files (``~/.aws/credentials``, ``~/.aws/config``) read into profiles, and the
settings a profile holds.

Pure: the files' texts are arguments (``None`` for a file that does not exist); reading them
is ``rawS3.providers.read_shared_files``. In the credentials file a section is a profile's
name; in the config file it is ``[default]`` or ``[profile NAME]``, and ``[services NAME]``
holds per-service settings that a profile's ``services = NAME`` selects. A value that starts on
the next line, indented, is a nested section (``s3 =`` then ``addressing_style = virtual``).

Errors are :class:`~rawS3.errors.CredentialsError` naming the file and the profile; no value is
ever quoted in one (a value may be a secret).
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass, field

from rawS3.errors import CredentialsError

__all__ = [
    "FileSettings",
    "Profile",
    "SharedFiles",
    "file_settings",
    "parse_ini",
    "profile_named",
    "selected_profile",
]


@dataclass(frozen=True, slots=True)
class SharedFiles:
    """The two shared files as read: their paths, and their texts (``None``: no such file).

    Attributes:
        credentials_path: ``AWS_SHARED_CREDENTIALS_FILE`` or ``~/.aws/credentials``.
        credentials_text: its content.
        config_path: ``AWS_CONFIG_FILE`` or ``~/.aws/config``.
        config_text: its content.
    """

    credentials_path: str = "~/.aws/credentials"
    # The texts hold secret keys: repr shows the paths only.
    credentials_text: str | None = field(default=None, repr=False)
    config_path: str = "~/.aws/config"
    config_text: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, repr=False)
class Profile:
    """One profile's values, the credentials file's over the config file's.

    ``repr`` shows the name and where it came from, never the values (keys are secrets).

    Attributes:
        name: the profile's name.
        values: its flat ``key = value`` settings.
        nested: its nested sections, e.g. ``{"s3": {"addressing_style": "virtual"}}``.
        services: the ``[services NAME]`` section it selects, by service, e.g.
            ``{"s3": {"endpoint_url": ...}}``.
        origin: the file or files it was read from.
    """

    name: str
    values: Mapping[str, str]
    nested: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    services: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    origin: str = ""

    def __repr__(self) -> str:
        return f"Profile(name={self.name!r}, origin={self.origin!r})"

    def where(self) -> str:
        """Name the profile and its file for messages, e.g. ``profile dev in ~/.aws/config``.

        Returns:
            The description.
        """
        return f"profile {self.name} in {self.origin}"


@dataclass(frozen=True, slots=True)
class FileSettings:
    """The client settings a profile holds (``None``: not set there).

    Attributes:
        region: ``region``.
        endpoint_url: the ``services`` section's ``s3`` ``endpoint_url``, else the profile's.
        addressing_style: ``s3`` → ``addressing_style`` (``path``, ``virtual`` or ``auto``).
        max_attempts: ``max_attempts``.
        ca_bundle: ``ca_bundle``.
    """

    region: str | None = None
    endpoint_url: str | None = None
    addressing_style: str | None = None
    max_attempts: int | None = None
    ca_bundle: str | None = None


def parse_ini(text: str, path: str) -> dict[str, dict[str, str]]:
    """Parse one shared file into its sections (names as written, keys lower-case).

    No interpolation (``%`` is an ordinary character), ``#`` and ``;`` start comments.

    Args:
        text: the file's content.
        path: named in errors.

    Returns:
        ``{section: {key: value}}``; nested values keep their lines, unparsed.

    Raises:
        CredentialsError: not INI (a line outside any section, a section without ``]``, a
            line without ``=``, a key twice in one section).
    """
    parser = configparser.RawConfigParser(
        interpolation=None, default_section="\x00no default section\x00"
    )
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        # Only the kind of error: its text would quote the line, which may hold a secret.
        raise CredentialsError(
            path, f"not a valid INI file{where} ({type(exc).__name__})"
        ) from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _nested(value: str, where: str) -> dict[str, str] | None:
    if not value.startswith("\n"):
        return None
    out: dict[str, str] = {}
    for line in value.splitlines():
        if not line.strip():
            continue
        name, sep, inner = line.partition("=")
        if not sep:
            raise CredentialsError(where, "a nested setting has no '='")
        out[name.strip().lower()] = inner.strip()
    return out


def _split(
    values: Mapping[str, str], where: str
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    flat: dict[str, str] = {}
    nested: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        inner = _nested(value, where)
        if inner is None:
            flat[key] = value
        else:
            nested[key] = inner
    return flat, nested


def _config_sections(
    files: SharedFiles,
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The config file's profiles by name, and its ``[services NAME]`` sections."""
    profiles: dict[str, dict[str, str]] = {}
    services: dict[str, dict[str, str]] = {}
    if files.config_text is None:
        return profiles, services
    for section, values in parse_ini(files.config_text, files.config_path).items():
        kind, _, name = section.strip().partition(" ")
        if section.strip() == "default":
            profiles["default"] = values
        elif kind == "profile" and name.strip():
            profiles[name.strip()] = values
        elif kind == "services" and name.strip():
            services[name.strip()] = values
        # Other sections (sso-session, a bare non-default name) are not profiles: ignored,
        # as AWS's tools ignore them.
    return profiles, services


def profile_named(files: SharedFiles, name: str) -> Profile | None:
    """Return the profile ``name`` from both files, or ``None`` when neither has it.

    Args:
        files: the shared files.
        name: the profile.

    Returns:
        The profile; its credentials-file values win over its config-file values.

    Raises:
        CredentialsError: a file is not INI, or the ``services`` section it names is missing.
    """
    in_config, services = _config_sections(files)
    in_credentials: dict[str, dict[str, str]] = {}
    if files.credentials_text is not None:
        in_credentials = parse_ini(files.credentials_text, files.credentials_path)
    origins = [
        path
        for path, found in (
            (files.credentials_path, in_credentials),
            (files.config_path, in_config),
        )
        if name in found
    ]
    if not origins:
        return None
    origin = " and ".join(origins)
    where = f"profile {name} in {origin}"
    flat, nested = _split({**in_config.get(name, {}), **in_credentials.get(name, {})}, where)
    chosen: dict[str, dict[str, str]] = {}
    if "services" in flat:
        section = services.get(flat["services"])
        if section is None:
            raise CredentialsError(
                where, f"names services {flat['services']!r}, which {files.config_path} lacks"
            )
        chosen = _split(section, where)[1]
    return Profile(name, flat, nested, chosen, origin)


def selected_profile(explicit: str | None, env: Mapping[str, str]) -> tuple[str, bool]:
    """Return the profile to use and whether it was asked for by name.

    Args:
        explicit: the ``profile`` argument (``--profile``).
        env: the environment (``AWS_PROFILE``, then ``AWS_DEFAULT_PROFILE``).

    Returns:
        ``(name, named)``; ``("default", False)`` when nothing names one.
    """
    name = explicit or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    return (name, True) if name else ("default", False)


def file_settings(profile: Profile | None) -> FileSettings:
    """Read the client settings a profile holds.

    Args:
        profile: the profile, or ``None``.

    Returns:
        What it sets.

    Raises:
        CredentialsError: ``max_attempts`` is not a whole number of at least 1.
    """
    if profile is None:
        return FileSettings()
    values = profile.values
    s3 = profile.nested.get("s3", {})
    endpoint = profile.services.get("s3", {}).get("endpoint_url") or values.get("endpoint_url")
    attempts = values.get("max_attempts")
    count: int | None = None
    if attempts is not None:
        if not attempts.strip().isdigit() or int(attempts) < 1:
            raise CredentialsError(profile.where(), "max_attempts must be a whole number >= 1")
        count = int(attempts)
    return FileSettings(
        region=values.get("region") or None,
        endpoint_url=endpoint or None,
        addressing_style=s3.get("addressing_style") or None,
        max_attempts=count,
        ca_bundle=values.get("ca_bundle") or None,
    )
