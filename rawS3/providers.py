"""The credentials sources that send or run something: STS (AssumeRole, AssumeRoleWithWebIdentity),
``credential_process``, the container endpoint and EC2 instance metadata (IMDSv2); and the
reading of the shared files.

Each provider carries out one plan of ``rawS3.chain`` (the decisions are there, the documents'
readers in ``rawS3.credentials``) with a short-lived aiohttp session of its own. Every failure
is a :class:`~rawS3.errors.CredentialsError` naming the source; no token, secret or process
output is put in a message or a log line. Endpoints follow the AWS variables, so tests can
point them at local servers: ``AWS_ENDPOINT_URL_STS``, ``AWS_EC2_METADATA_SERVICE_ENDPOINT``,
``AWS_CONTAINER_CREDENTIALS_FULL_URI``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from rawS3 import sigv4
from rawS3.chain import (
    AssumeRole,
    Container,
    Fixed,
    InstanceMetadata,
    Plan,
    Process,
    WebIdentity,
)
from rawS3.credentials import (
    CredentialsProvider,
    assume_role_form,
    read_metadata_credentials,
    read_process_credentials,
    read_sts_credentials,
    sts_endpoint,
    sts_error,
    web_identity_form,
)
from rawS3.errors import CredentialsError
from rawS3.proxies import proxy_for, proxy_options
from rawS3.sigv4 import Credentials

__all__ = [
    "AssumeRoleProvider",
    "ContainerProvider",
    "InstanceMetadataProvider",
    "ProcessProvider",
    "WebIdentityProvider",
    "provider_for",
]

# Instance metadata is link-local: an answer comes in milliseconds or not at all (AWS's SDKs
# wait 1 s); STS and a process may take longer.
METADATA_TIMEOUT = 1.0
STS_TIMEOUT = 10.0
PROCESS_TIMEOUT = 60.0
IMDS_TOKEN_TTL = "21600"
_ANSWER_LIMIT = 64 * 1024
_FORM = "application/x-www-form-urlencoded; charset=utf-8"


def provider_for(
    plan: Plan, env: Mapping[str, str], region: str
) -> Credentials | CredentialsProvider:
    """Return what carries out ``plan``: the fixed credentials, or a provider.

    Args:
        plan: where the credentials come from.
        env: the environment (the STS endpoint).
        region: the region STS is called in.

    Returns:
        ``Credentials`` for a fixed plan, else a provider with a ``source`` attribute.
    """
    if isinstance(plan, Fixed):
        return plan.credentials
    if isinstance(plan, WebIdentity):
        return WebIdentityProvider(plan, sts_endpoint(env, region))
    if isinstance(plan, AssumeRole):
        base = provider_for(plan.base, env, region)
        return AssumeRoleProvider(plan, base, sts_endpoint(env, region), region)
    if isinstance(plan, Process):
        return ProcessProvider(plan)
    if isinstance(plan, Container):
        return ContainerProvider(plan)
    return InstanceMetadataProvider(plan)


def _session(timeout: float) -> aiohttp.ClientSession:
    # No trust_env: link-local sources are never reached through a proxy, and STS gets its
    # proxy chosen explicitly (proxy_for), so ~/.netrc never adds credentials of its own.
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), auto_decompress=False
    )


async def _answer(response: aiohttp.ClientResponse, source: str) -> bytes:
    # read(n) gives what has arrived, up to n bytes, not the whole body: read to the end.
    body = bytearray()
    while piece := await response.content.read(_ANSWER_LIMIT + 1 - len(body)):
        body += piece
        if len(body) > _ANSWER_LIMIT:
            raise CredentialsError(source, f"answered with more than {_ANSWER_LIMIT:,} bytes")
    return bytes(body)


def _read_token(path: str, source: str, what: str) -> str:
    # A token file is a few kilobytes on a local disk: read synchronously.
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            source, f"{what} {path} cannot be read ({type(exc).__name__})"
        ) from None


def _unreachable(source: str, where: str, exc: BaseException) -> CredentialsError:
    return CredentialsError(source, f"{where} could not be reached ({type(exc).__name__})")


async def _post_sts(
    url: str, body: bytes, headers: Mapping[str, str], source: str, secrets: tuple[str, ...]
) -> Credentials:
    via, login = proxy_options(proxy_for(url, os.environ), url)
    try:
        async with (
            _session(STS_TIMEOUT) as session,
            session.post(
                url, data=body, headers={**headers, **login}, allow_redirects=False, **via
            ) as response,
        ):
            answer = await _answer(response, source)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise _unreachable(source, f"STS at {url}", exc) from None
    if response.status != 200:
        raise CredentialsError(
            source, f"STS refused: {sts_error(response.status, answer, secrets)}"
        )
    return read_sts_credentials(answer, source)


class WebIdentityProvider:
    """STS ``AssumeRoleWithWebIdentity``, the token read from its file at each fetch.

    Args:
        plan: the token file, role and session name.
        endpoint: the STS endpoint.
    """

    def __init__(self, plan: WebIdentity, endpoint: str) -> None:
        self.plan = plan
        self.endpoint = endpoint
        self.source = plan.source

    async def fetch(self) -> Credentials:
        """Exchange the web identity token for temporary credentials.

        Returns:
            The role's temporary credentials.

        Raises:
            CredentialsError: the token file cannot be read, STS cannot be reached or refuses.
        """
        token = _read_token(self.plan.token_file, self.source, "the token file")
        if not token:
            raise CredentialsError(self.source, f"the token file {self.plan.token_file} is empty")
        form = web_identity_form(self.plan.role_arn, self.plan.session_name, token)
        headers = {"Content-Type": _FORM, "Accept": "application/xml"}
        return await _post_sts(self.endpoint + "/", form, headers, self.source, (token,))


class AssumeRoleProvider:
    """STS ``AssumeRole``, signed (SigV4, service ``sts``) with what ``base`` supplies.

    Args:
        plan: the role, session name, external id and duration.
        base: the source profile's credentials, or its provider.
        endpoint: the STS endpoint.
        region: the region STS requests are signed for.
        clock: seconds since the epoch.
    """

    def __init__(
        self,
        plan: AssumeRole,
        base: Credentials | CredentialsProvider,
        endpoint: str,
        region: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan = plan
        self.base = base
        self.endpoint = endpoint
        self.region = region
        self.clock = clock
        self.source = plan.source

    async def fetch(self) -> Credentials:
        """Assume the role.

        Returns:
            The role's temporary credentials.

        Raises:
            CredentialsError: the source credentials cannot be had, STS cannot be reached or
                refuses.
        """
        base = self.base if isinstance(self.base, Credentials) else await self.base.fetch()
        plan = self.plan
        form = assume_role_form(
            plan.role_arn, plan.session_name, external_id=plan.external_id, duration=plan.duration
        )
        url = self.endpoint + "/"
        now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        signed = sigv4.sign(
            "POST",
            url,
            {"Content-Type": _FORM},
            payload_hash=hashlib.sha256(form).hexdigest(),
            credentials=base,
            region=self.region,
            now=now,
            service="sts",
        )
        secrets = (base.secret_key, base.session_token or "")
        return await _post_sts(url, form, signed, self.source, secrets)


class ProcessProvider:
    """``credential_process``: runs the command through the shell, reads its JSON output.

    The output is never logged nor put in an error; nor is the standard error stream, which
    a helper program may fill with anything.

    Args:
        plan: the command.
    """

    def __init__(self, plan: Process) -> None:
        self.plan = plan
        self.source = plan.source

    async def fetch(self) -> Credentials:
        """Run the command once.

        Returns:
            The credentials it printed.

        Raises:
            CredentialsError: it cannot be started, fails, takes over a minute, or prints no
                valid ``Version: 1`` JSON.
        """
        source = f"credential_process of {self.source}"
        try:
            process = await asyncio.create_subprocess_shell(
                self.plan.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise CredentialsError(source, f"could not be started ({type(exc).__name__})") from None
        try:
            stdout, _ = await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT)
        except asyncio.TimeoutError:
            raise CredentialsError(source, f"ran over {PROCESS_TIMEOUT:.0f} s") from None
        finally:
            # Timed out or cancelled (the request that wanted credentials was): not left running.
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    process.kill()
                await asyncio.shield(process.wait())
        if process.returncode != 0:
            raise CredentialsError(source, f"exited with status {process.returncode}")
        return read_process_credentials(stdout, source)


class ContainerProvider:
    """The ECS/EKS container credentials endpoint.

    Args:
        plan: the URL and the authorization token (or the file holding it).
    """

    def __init__(self, plan: Container) -> None:
        self.plan = plan
        self.source = plan.source

    async def fetch(self) -> Credentials:
        """GET the credentials, with the ``Authorization`` token when one is configured.

        Returns:
            The task's credentials.

        Raises:
            CredentialsError: the token file cannot be read, the endpoint cannot be reached or
                does not answer 200 with credentials.
        """
        headers = {"Accept": "application/json"}
        token = self._token()
        if token:
            headers["Authorization"] = token
        try:
            async with (
                _session(METADATA_TIMEOUT * 2) as session,
                session.get(self.plan.url, headers=headers, allow_redirects=False) as response,
            ):
                body = await _answer(response, self.source)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _unreachable(self.source, self.plan.url, exc) from None
        if response.status != 200:
            raise CredentialsError(self.source, f"{self.plan.url} answered HTTP {response.status}")
        return read_metadata_credentials(body, self.source)

    def _token(self) -> str | None:
        if self.plan.token_file:
            what = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
            return _read_token(self.plan.token_file, self.source, what)
        return self.plan.token


class InstanceMetadataProvider:
    """EC2 instance metadata with IMDSv2 session tokens.

    A PUT of ``/latest/api/token`` (``X-aws-ec2-metadata-token-ttl-seconds``) gives a token;
    with it (``X-aws-ec2-metadata-token``) a GET of ``/latest/meta-data/iam/security-credentials/``
    names the role, and a GET of that path plus the role gives the credentials.

    Args:
        plan: the metadata endpoint.
    """

    def __init__(self, plan: InstanceMetadata) -> None:
        self.plan = plan
        self.source = plan.source

    async def fetch(self) -> Credentials:
        """Fetch the instance role's credentials.

        Returns:
            The role's temporary credentials.

        Raises:
            CredentialsError: no metadata service answers (not on EC2: the end of the chain),
                it refuses, or it names no role.
        """
        base = self.plan.endpoint
        try:
            async with _session(METADATA_TIMEOUT * 3) as session:
                token = await self._get(
                    session,
                    "PUT",
                    f"{base}/latest/api/token",
                    {"X-aws-ec2-metadata-token-ttl-seconds": IMDS_TOKEN_TTL},
                )
                headers = {"X-aws-ec2-metadata-token": token.decode("ascii", "replace")}
                path = f"{base}/latest/meta-data/iam/security-credentials/"
                roles = (await self._get(session, "GET", path, headers)).decode("utf-8", "replace")
                role = roles.strip().splitlines()[0].strip() if roles.strip() else ""
                if not role:
                    raise CredentialsError(self.source, "the instance has no IAM role")
                body = await self._get(session, "GET", path + role, headers)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise CredentialsError(
                self.source,
                f"no credentials: no source is configured and the instance metadata service "
                f"at {base} could not be reached ({type(exc).__name__})",
            ) from None
        return read_metadata_credentials(body, self.source)

    async def _get(
        self, session: aiohttp.ClientSession, method: str, url: str, headers: Mapping[str, str]
    ) -> bytes:
        timeout = aiohttp.ClientTimeout(total=METADATA_TIMEOUT)
        async with session.request(
            method, url, headers=headers, allow_redirects=False, timeout=timeout
        ) as response:
            body = await _answer(response, self.source)
        if response.status != 200:
            path = url.removeprefix(self.plan.endpoint)
            raise CredentialsError(self.source, f"{method} {path} answered HTTP {response.status}")
        return body
