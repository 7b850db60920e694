"""The standard credentials chain, decided: which source supplies the credentials, in AWS's
documented order.

1. explicit arguments; 2. ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN``; 3. web identity (``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ROLE_ARN``)
(2 and 3 skipped when a profile is passed as an argument, as the AWS CLI's ``--profile`` does);
4. the shared files' profile: ``role_arn`` with ``source_profile`` (STS AssumeRole),
``web_identity_token_file``, static keys, ``credential_process``; 5. the container endpoint
(``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` / ``_FULL_URI``); 6. EC2 instance metadata (IMDSv2)
unless ``AWS_EC2_METADATA_DISABLED=true``.

Pure: the environment and the files' texts are arguments; the result is a plan, a frozen value
saying what to fetch and from where (``rawS3.providers`` carries it out). A source that is not
configured passes to the next; one that is configured but wrong raises
:class:`~rawS3.errors.CredentialsError` naming it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from rawS3.errors import CredentialsError
from rawS3.profiles import Profile, SharedFiles, profile_named, selected_profile
from rawS3.sigv4 import Credentials

__all__ = [
    "CONTAINER_HOST",
    "IMDS_ENDPOINT",
    "AssumeRole",
    "Container",
    "Fixed",
    "InstanceMetadata",
    "Plan",
    "Process",
    "WebIdentity",
    "plan_credentials",
]

CONTAINER_HOST = "http://169.254.170.2"
IMDS_ENDPOINT = "http://169.254.169.254"
# Plain http is allowed for a full container URI only to these hosts (ECS and EKS agents) and
# to loopback, as AWS's SDKs allow it: anywhere else the token would cross a network in clear.
_CONTAINER_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23"})
_DEFAULT_SESSION = "rawS3-session"


@dataclass(frozen=True, slots=True)
class Fixed:
    """Credentials known already (arguments, environment, static keys in a profile).

    Attributes:
        credentials: the keys.
        source: where they were found, e.g. ``"environment"``.
    """

    credentials: Credentials
    source: str


@dataclass(frozen=True, slots=True)
class WebIdentity:
    """STS ``AssumeRoleWithWebIdentity`` with the token read from ``token_file`` each time.

    Attributes:
        token_file: the file holding the OIDC token.
        role_arn: the role to assume.
        session_name: names the role session.
        source: ``"web identity"`` or the profile.
    """

    token_file: str
    role_arn: str
    session_name: str
    source: str


@dataclass(frozen=True, slots=True)
class Process:
    """``credential_process``: run ``command`` (a shell command line), read its JSON output.

    Attributes:
        command: the command line.
        source: the profile.
    """

    command: str
    source: str


@dataclass(frozen=True, slots=True)
class AssumeRole:
    """STS ``AssumeRole`` of ``role_arn``, signed with what ``base`` supplies.

    Attributes:
        role_arn: the role to assume.
        session_name: names the role session.
        external_id: the external id the role's trust policy may ask for.
        duration: the session's length in seconds, or ``None`` for STS's default.
        base: the source profile's plan.
        source: the profile.
    """

    role_arn: str
    session_name: str
    external_id: str | None
    duration: int | None
    base: Plan
    source: str


@dataclass(frozen=True, slots=True, repr=False)
class Container:
    """The container credentials endpoint at ``url``, with an authorization token if set.

    Attributes:
        url: the endpoint.
        token: ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` (``repr`` hides it).
        token_file: ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``, read at each fetch.
        source: ``"container endpoint"``.
    """

    url: str
    token: str | None
    token_file: str | None
    source: str = "container endpoint"

    def __repr__(self) -> str:
        token = "None" if self.token is None else "'***'"
        return f"Container(url={self.url!r}, token={token}, token_file={self.token_file!r})"


@dataclass(frozen=True, slots=True)
class InstanceMetadata:
    """EC2 instance metadata (IMDSv2) at ``endpoint``.

    Attributes:
        endpoint: ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` or ``http://169.254.169.254``.
        source: ``"instance metadata"``.
    """

    endpoint: str
    source: str = "instance metadata"


Plan = Fixed | WebIdentity | Process | AssumeRole | Container | InstanceMetadata


def plan_credentials(
    env: Mapping[str, str],
    files: SharedFiles,
    *,
    explicit: Credentials | None = None,
    profile: str | None = None,
) -> Plan:
    """Decide where the credentials come from.

    Args:
        env: the environment.
        files: the shared files as read.
        explicit: credentials passed as arguments.
        profile: the profile passed as an argument (else ``AWS_PROFILE``, else ``default``).

    Returns:
        The plan of the first source configured.

    Raises:
        CredentialsError: a source is configured but unusable (e.g. a profile named that
            neither file has, a ``source_profile`` loop, half a key pair), or none is
            configured and instance metadata is disabled.
    """
    if explicit is not None:
        return Fixed(explicit, "arguments")
    if profile is None:
        # A profile passed as an argument overrides the variables, web identity's too, as the
        # AWS CLI's --profile does (botocore turns both environment sources off for it).
        found = _from_environment(env) or _web_identity(env)
        if found is not None:
            return found
    name, named = selected_profile(profile, env)
    chosen = profile_named(files, name)
    if chosen is None and named:
        raise CredentialsError(
            f"profile {name}", f"not found in {files.credentials_path} or {files.config_path}"
        )
    if chosen is not None:
        plan = _from_profile(chosen, files, (), env)
        if plan is not None:
            return plan
    container = _container(env)
    if container is not None:
        return container
    if env.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() == "true":
        raise CredentialsError(
            "credentials chain",
            "no credentials: none passed, none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, no "
            f"web identity, no usable profile {name!r}, no container endpoint, and instance "
            "metadata is disabled (AWS_EC2_METADATA_DISABLED)",
        )
    endpoint = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS_ENDPOINT
    return InstanceMetadata(endpoint.rstrip("/"))


def _pair(env: Mapping[str, str], first: str, second: str, source: str) -> tuple[str, str] | None:
    """Two variables that go together: both set, neither (``None``), or an error naming one."""
    one, other = env.get(first), env.get(second)
    if not one and not other:
        return None
    if not one or not other:
        missing = second if one else first
        raise CredentialsError(source, f"no credentials: {missing} is not set, though its pair is")
    return one, other


def _from_environment(env: Mapping[str, str]) -> Fixed | None:
    source = "environment"
    found = _pair(env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", source)
    if found is None:
        return None
    return Fixed(_keys(source, *found, env.get("AWS_SESSION_TOKEN")), source)


def _keys(source: str, access: str, secret: str, token: str | None) -> Credentials:
    try:
        return Credentials(access, secret, token or None)
    except (TypeError, ValueError) as exc:
        raise CredentialsError(source, str(exc)) from None


def _web_identity(env: Mapping[str, str]) -> WebIdentity | None:
    source = "web identity"
    found = _pair(env, "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", source)
    if found is None:
        return None
    session = env.get("AWS_ROLE_SESSION_NAME") or _DEFAULT_SESSION
    return WebIdentity(*found, session, source)


def _from_profile(
    profile: Profile, files: SharedFiles, visited: tuple[str, ...], env: Mapping[str, str]
) -> Plan | None:
    """The plan a profile configures, or ``None`` when it configures no credentials."""
    values, where = profile.values, profile.where()
    if "role_arn" in values and "web_identity_token_file" not in values:
        return _assume_role(profile, files, visited, env)
    if "web_identity_token_file" in values:
        session = values.get("role_session_name") or _DEFAULT_SESSION
        if "role_arn" not in values:
            raise CredentialsError(where, "web_identity_token_file needs role_arn")
        return WebIdentity(values["web_identity_token_file"], values["role_arn"], session, where)
    access, secret = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
    if access or secret:
        if not access or not secret:
            missing = "aws_secret_access_key" if access else "aws_access_key_id"
            raise CredentialsError(where, f"has no {missing}, though its pair is set")
        return Fixed(_keys(where, access, secret, values.get("aws_session_token")), where)
    if values.get("credential_process", "").strip():
        return Process(values["credential_process"].strip(), where)
    return None


def _assume_role(
    profile: Profile, files: SharedFiles, visited: tuple[str, ...], env: Mapping[str, str]
) -> AssumeRole:
    values, where = profile.values, profile.where()
    chain = (*visited, profile.name)
    source_name = values.get("source_profile")
    named_source = values.get("credential_source")
    if source_name and named_source:
        raise CredentialsError(where, "has both source_profile and credential_source")
    if named_source:
        base: Plan = _credential_source(named_source, env, where)
    elif not source_name:
        raise CredentialsError(where, "role_arn needs source_profile or credential_source")
    elif source_name == profile.name:
        # A profile may be its own source: its static keys sign the AssumeRole.
        base = _static_only(profile)
    elif source_name in chain:
        loop = " -> ".join((*chain, source_name))
        raise CredentialsError(where, f"source_profile loop: {loop}")
    else:
        source = profile_named(files, source_name)
        if source is None:
            raise CredentialsError(where, f"source_profile {source_name!r} is not in the files")
        found = _from_profile(source, files, chain, env)
        if found is None:
            raise CredentialsError(source.where(), "configures no credentials (source_profile)")
        base = found
    duration = values.get("duration_seconds")
    if duration is not None and not duration.strip().isdigit():
        raise CredentialsError(where, "duration_seconds must be a whole number")
    return AssumeRole(
        values["role_arn"],
        values.get("role_session_name") or _DEFAULT_SESSION,
        values.get("external_id") or None,
        int(duration) if duration else None,
        base,
        where,
    )


def _credential_source(name: str, env: Mapping[str, str], where: str) -> Plan:
    """The base of a role whose ``credential_source`` names where its signing keys are."""
    found: Plan | None = None
    if name == "Environment":
        found = _from_environment(env)
    elif name == "EcsContainer":
        found = _container(env)
    elif name == "Ec2InstanceMetadata":
        endpoint = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS_ENDPOINT
        found = InstanceMetadata(endpoint.rstrip("/"))
    else:
        raise CredentialsError(
            where,
            f"credential_source {name!r} is not Environment, Ec2InstanceMetadata or EcsContainer",
        )
    if found is None:
        raise CredentialsError(where, f"credential_source {name} supplies no credentials here")
    return found


def _static_only(profile: Profile) -> Fixed:
    values, where = profile.values, profile.where()
    access, secret = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
    if not access or not secret:
        raise CredentialsError(where, "is its own source_profile but has no static keys")
    return Fixed(_keys(where, access, secret, values.get("aws_session_token")), where)


def _container(env: Mapping[str, str]) -> Container | None:
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") or None
    token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") or None
    if relative:
        return Container(f"{CONTAINER_HOST}/{relative.lstrip('/')}", token, token_file)
    if not full:
        return None
    parts = urlsplit(full)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(
            "container endpoint", "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL"
        )
    if parts.scheme == "http" and not _allowed_http_host(parts.hostname):
        raise CredentialsError(
            "container endpoint",
            f"plain http to {parts.hostname} is refused: only loopback and the ECS/EKS agent "
            "addresses may be reached without TLS",
        )
    return Container(full, token, token_file)


def _allowed_http_host(host: str) -> bool:
    if host in _CONTAINER_HOSTS or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
