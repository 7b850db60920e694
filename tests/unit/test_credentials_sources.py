"""The chain's sources that answer over HTTP or from a process, each against a local stand-in
that follows the documented protocol exactly, bound to 127.0.0.1:

- EC2 instance metadata, IMDSv2: ``PUT /latest/api/token`` with
  ``X-aws-ec2-metadata-token-ttl-seconds`` gives a token; every GET without a valid
  ``X-aws-ec2-metadata-token`` is 401; ``/latest/meta-data/iam/security-credentials/`` names the
  role, and ``.../ROLE`` answers the credentials JSON with ``Expiration``.
- the container endpoint: GET with ``Authorization`` set to the token, JSON with ``Expiration``.
- ``credential_process``: a Python one-liner printing ``Version: 1`` JSON.

Each is reached through the chain from environment variables, as on a real machine, and no
secret, token or process output shows in errors, reprs or logs (the secret scan).
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from rawS3 import CredentialsError, S3Client
from rawS3.chain import Container, plan_credentials
from rawS3.configuration import Configured, configure
from rawS3.profiles import SharedFiles

SECRET = "metadata-secret-key-never-shown"
TOKEN = "metadata-session-token-never-shown"
IMDS_SESSION = "imds-session-token-never-shown"
CONTAINER_AUTH = "container-authorization-token-never-shown"
PROCESS_SECRET = "process-secret-never-shown"
ROLE = "rawS3-instance-role"
EXPIRATION = "2099-01-01T00:00:00Z"
SECRETS = (SECRET, TOKEN, IMDS_SESSION, CONTAINER_AUTH, PROCESS_SECRET)


def credentials_json(**extra: str) -> bytes:
    document = {
        "AccessKeyId": "ASIAMETADATA",
        "SecretAccessKey": SECRET,
        "Token": TOKEN,
        "Expiration": EXPIRATION,
        **extra,
    }
    return json.dumps(document).encode()


@dataclass
class Metadata:
    """IMDSv2 and the container endpoint as documented; records what it was asked."""

    log: list[str] = field(default_factory=list)
    ttl_seen: list[str] = field(default_factory=list)
    container_status: int = 200

    async def token(self, request: web.Request) -> web.Response:
        ttl = request.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self.log.append(f"PUT {request.path}")
        if request.method != "PUT" or not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return web.Response(status=400)
        self.ttl_seen.append(ttl)
        return web.Response(text=IMDS_SESSION)

    async def metadata(self, request: web.Request) -> web.Response:
        self.log.append(f"GET {request.path}")
        if request.headers.get("X-aws-ec2-metadata-token") != IMDS_SESSION:
            return web.Response(status=401)
        prefix = "/latest/meta-data/iam/security-credentials/"
        if request.path == prefix:
            return web.Response(text=ROLE)
        if request.path == prefix + ROLE:
            body = credentials_json(Code="Success", Type="AWS-HMAC")
            return web.Response(body=body, content_type="text/plain")
        return web.Response(status=404)

    async def container(self, request: web.Request) -> web.Response:
        self.log.append(
            f"GET {request.path} auth={request.headers.get('Authorization') == CONTAINER_AUTH}"
        )
        if request.headers.get("Authorization") != CONTAINER_AUTH:
            return web.Response(status=401)
        return web.Response(status=self.container_status, body=credentials_json())


@pytest.fixture
async def metadata() -> AsyncIterator[tuple[str, Metadata]]:
    state = Metadata()
    app = web.Application()
    app.router.add_route("*", "/latest/api/token", state.token)
    app.router.add_get("/latest/meta-data/{tail:.*}", state.metadata)
    app.router.add_get("/v2/credentials/{id}", state.container)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        await runner.cleanup()


BASE_ENV = {"HOME": "/nonexistent-home", "AWS_CONFIG_FILE": "/nonexistent/config"}


def client_from(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> S3Client:
    for name in list(__import__("os").environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in {**BASE_ENV, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/c", **env}.items():
        monkeypatch.setenv(name, value)
    return S3Client("http://127.0.0.1:9")


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


async def test_imds_v2_token_then_role_then_credentials(
    metadata: tuple[str, Metadata],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint, state = metadata
    s3 = client_from({"AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint}, monkeypatch)
    assert s3.credentials_source == "instance metadata"
    with caplog.at_level(logging.DEBUG):
        held = await s3.fetch_credentials()
    assert held.access_key == "ASIAMETADATA"
    assert held.session_token == TOKEN
    assert held.expiry is not None
    assert held.expiry.isoformat() == "2099-01-01T00:00:00+00:00"
    assert state.ttl_seen == ["21600"]
    assert state.log == [
        "PUT /latest/api/token",
        "GET /latest/meta-data/iam/security-credentials/",
        f"GET /latest/meta-data/iam/security-credentials/{ROLE}",
    ]
    assert_no_secret(repr(s3), repr(held), caplog.text)


async def test_imds_without_a_token_is_refused_by_the_stand_in(
    metadata: tuple[str, Metadata],
) -> None:
    # The stand-in is strict as IMDSv2 is: no token, 401. (What keeps the test above honest.)
    import aiohttp

    endpoint, _ = metadata
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{endpoint}/latest/meta-data/iam/security-credentials/") as response,
    ):
        assert response.status == 401


async def test_imds_unreachable_ends_the_chain_with_no_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = client_from({"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"}, monkeypatch)
    with pytest.raises(
        CredentialsError, match=r"instance metadata: no credentials: .* could not be reached"
    ):
        await s3.fetch_credentials()


async def test_imds_disabled_is_no_credentials_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(
        CredentialsError, match=r"no credentials: none passed.*AWS_EC2_METADATA_DISABLED"
    ):
        client_from({"AWS_EC2_METADATA_DISABLED": "true"}, monkeypatch)


async def test_container_endpoint_with_token_from_a_file(
    metadata: tuple[str, Metadata],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint, state = metadata
    token_file = tmp_path / "token"
    token_file.write_text(CONTAINER_AUTH + "\n")
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint}/v2/credentials/task-1",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
    }
    s3 = client_from(env, monkeypatch)
    assert s3.credentials_source == "container endpoint"
    with caplog.at_level(logging.DEBUG):
        held = await s3.fetch_credentials()
    assert held.access_key == "ASIAMETADATA"
    assert held.expiry is not None
    assert state.log == ["GET /v2/credentials/task-1 auth=True"]
    assert_no_secret(repr(s3), repr(held), caplog.text)


async def test_container_endpoint_refusal_names_the_source_not_the_token(
    metadata: tuple[str, Metadata], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, state = metadata
    state.container_status = 500
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint}/v2/credentials/task-1",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_AUTH,
    }
    s3 = client_from(env, monkeypatch)
    with pytest.raises(
        CredentialsError, match=r"^container endpoint: .* answered HTTP 500$"
    ) as caught:
        await s3.fetch_credentials()
    assert_no_secret(str(caught.value), repr(caught.value), repr(s3))


def test_container_relative_uri_goes_to_the_ecs_agent_address() -> None:
    env = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_AUTH,
    }
    plan = plan_credentials(env, SharedFiles())
    assert isinstance(plan, Container)
    assert plan.url == "http://169.254.170.2/v2/credentials/abc"
    assert CONTAINER_AUTH not in repr(plan)


def test_container_full_uri_over_plain_http_elsewhere_is_refused() -> None:
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example.com/creds"}
    with pytest.raises(CredentialsError, match=r"plain http to evil\.example\.com is refused"):
        plan_credentials(env, SharedFiles())


def process_command(document: dict[str, object], exit_code: int = 0) -> str:
    # The shell's printf, not a Python interpreter: it starts in a millisecond.
    return f"printf '%s\\n' {shlex.quote(json.dumps(document))}; exit {exit_code}"


async def test_credential_process_output_is_read_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = {
        "Version": 1,
        "AccessKeyId": "AKIDPROCESS",
        "SecretAccessKey": PROCESS_SECRET,
        "SessionToken": TOKEN,
        "Expiration": EXPIRATION,
    }
    config = tmp_path / "config"
    config.write_text(f"[profile tool]\ncredential_process = {process_command(document)}\n")
    s3 = client_from({"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "tool"}, monkeypatch)
    assert s3.credentials_source == f"profile tool in {config}"
    with caplog.at_level(logging.DEBUG):
        held = await s3.fetch_credentials()
    assert held.access_key == "AKIDPROCESS"
    assert held.session_token == TOKEN
    assert_no_secret(repr(s3), repr(held), caplog.text)


@pytest.mark.parametrize(
    ("document", "exit_code", "message"),
    [
        (
            {"Version": 2, "AccessKeyId": "A", "SecretAccessKey": PROCESS_SECRET},
            0,
            "Version is not 1",
        ),
        ({"Version": 1, "AccessKeyId": "A"}, 0, "the answer has no SecretAccessKey"),
        (
            {"Version": 1, "AccessKeyId": "A", "SecretAccessKey": PROCESS_SECRET},
            3,
            "exited with status 3",
        ),
        (
            {
                "Version": 1,
                "AccessKeyId": "A",
                "SecretAccessKey": PROCESS_SECRET,
                "Expiration": "soon",
            },
            0,
            "Expiration 'soon' is not an ISO 8601 time",
        ),
    ],
    ids=["version 2", "no secret", "exit 3", "bad expiration"],
)
async def test_credential_process_failures_name_the_profile_never_the_output(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    document: dict[str, object],
    exit_code: int,
    message: str,
) -> None:
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {process_command(document, exit_code)}\n")
    s3 = client_from({"AWS_CONFIG_FILE": str(config)}, monkeypatch)
    with pytest.raises(CredentialsError) as caught:
        await s3.fetch_credentials()
    text = str(caught.value)
    assert text.startswith(f"credential_process of profile default in {config}: ")
    assert message in text
    assert_no_secret(text)


async def test_credential_process_that_prints_no_json_shows_nothing_of_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    command = f"echo {PROCESS_SECRET} oops"
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {command}\n")
    s3 = client_from({"AWS_CONFIG_FILE": str(config)}, monkeypatch)
    with pytest.raises(CredentialsError, match="the answer is not JSON") as caught:
        await s3.fetch_credentials()
    assert PROCESS_SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def _configured(
    env: dict[str, str], *, profile: str | None = None, access_key: str | None = None,
    secret_key: str | None = None,
) -> Configured:
    return configure(
        credentials=None,
        access_key=access_key,
        secret_key=secret_key,
        session_token=None,
        profile=profile,
        endpoint_url="http://127.0.0.1:9",
        region=None,
        addressing=None,
        payload_signing="auto",
        env=env,
        read_clock=lambda: 0.0,
    )


def test_environment_keys_come_before_the_profile_and_explicit_arguments_before_both(
    tmp_path: Path,
) -> None:
    files = SharedFiles(
        str(tmp_path / "c"), "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n"
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "e"}
    with_file = {**BASE_ENV, **env, "AWS_SHARED_CREDENTIALS_FILE": files.credentials_path}
    found = _configured(with_file)
    assert found.keys.name == "environment"
    (tmp_path / "c").write_text(files.credentials_text or "")
    by_file = _configured(with_file, profile="default")
    # A profile passed as an argument wins over the environment's keys, as --profile does.
    assert by_file.settings.credentials is not None
    assert by_file.settings.credentials.access_key == "AKIDFILE"
    explicit = _configured({**BASE_ENV, **env}, access_key="AKIDARG", secret_key="a")
    assert explicit.keys.name == "arguments"
    assert explicit.settings.credentials is not None
    assert explicit.settings.credentials.access_key == "AKIDARG"
