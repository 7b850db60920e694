"""Credentials sources under conditions that are easy to get wrong: a broken document that
holds a secret, a proxy's password, a cancelled fetch, a refresh cancelled while others wait.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web

from rawS3 import RetryPolicy, S3Client
from rawS3.chain import Fixed, Process, WebIdentity, plan_credentials
from rawS3.credentials import read_sts_credentials
from rawS3.errors import CredentialsError, RawS3Error
from rawS3.profiles import SharedFiles, profile_named
from rawS3.providers import ProcessProvider, WebIdentityProvider
from rawS3.refresh import CredentialsCache
from rawS3.sigv4 import Credentials

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


@pytest.mark.parametrize(
    "body",
    [
        # Cut off after the secret: not well-formed, and the secret comes first.
        b"<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>"
        + SECRET.encode()
        + b"</SecretAccessKey><SessionToken>"
        + TOKEN.encode(),
        # Well-formed but another root, holding the same.
        b"<Other><SecretAccessKey>" + SECRET.encode() + b"</SecretAccessKey></Other>",
    ],
)
def test_an_unreadable_sts_answer_is_reported_without_its_text(body: bytes) -> None:
    with pytest.raises(CredentialsError) as caught:
        read_sts_credentials(body, "profile dev")
    text = f"{caught.value} {caught.value!r}"
    assert SECRET not in text
    assert SECRET[:12] not in text
    assert TOKEN[:12] not in text
    assert caught.value.source == "profile dev"


@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_a_proxy_password_is_sent_but_never_shown(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    seen: list[bytes] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", f"{scheme}_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(f"{scheme.upper()}_PROXY", f"http://proxyuser:pr%40xy-pw@127.0.0.1:{port}")
    client = S3Client(
        endpoint_url=f"{scheme}://s3.example.invalid",
        aws_access_key_id="AKIDPROXY",
        aws_secret_access_key=SECRET,
        retry=RetryPolicy(attempts=1),
    )
    try:
        # https: the CONNECT is refused (TransportError); http: the proxy's 407 is the answer.
        with pytest.raises(RawS3Error) as caught:
            await client.list_buckets()
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    shown = "".join(traceback.format_exception(caught.value))
    assert "pr@xy-pw" not in shown
    assert "pr%40xy-pw" not in shown
    assert "407" in shown
    # The proxy was still given the login, decoded as the URL spelled it.
    login = base64.b64encode(b"proxyuser:pr@xy-pw").decode()
    assert f"Proxy-Authorization: Basic {login}".encode() in seen[0]
    assert seen[0].startswith(b"CONNECT " if scheme == "https" else b"GET http://")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_cancelled_credential_process_is_not_left_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    provider = ProcessProvider(Process(f"echo $$ > {pid_file}; exec sleep 30", "profile slow"))
    fetching = asyncio.create_task(provider.fetch())
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the command did not start"
        await asyncio.sleep(0.02)
    pid = int(pid_file.read_text())
    try:
        fetching.cancel()
        with pytest.raises(asyncio.CancelledError):
            await fetching
        assert not _alive(pid)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


now = [1_800_000_000.0]  # the cache's clock, moved by the test


class Flaky:
    """Fails its first fetch, hangs on its second until cancelled, then works."""

    source = "flaky test source"

    def __init__(self) -> None:
        self.calls = 0
        self.hanging = asyncio.Event()

    async def fetch(self) -> Credentials:
        self.calls += 1
        if self.calls == 1:
            raise CredentialsError(self.source, "down for a moment")
        if self.calls == 2:
            self.hanging.set()
            await asyncio.sleep(3600)
        expiry = datetime.fromtimestamp(now[0] + 900, tz=timezone.utc)
        return Credentials("AKIDFLAKY", SECRET, TOKEN, expiry)


async def test_a_refresh_cancelled_does_not_hand_an_old_failure_to_its_waiters() -> None:
    provider = Flaky()
    cache = CredentialsCache(provider, lambda: now[0])
    with pytest.raises(CredentialsError, match="down for a moment"):
        await cache.current()
    now[0] += 60  # past the rest after a failure: the next request asks again
    first = asyncio.create_task(cache.current())
    await asyncio.wait_for(provider.hanging.wait(), 5)
    waiting = asyncio.create_task(cache.current())
    await asyncio.sleep(0)  # it queues on the lock behind the first
    first.cancel()
    fetched = await asyncio.wait_for(waiting, 5)
    assert fetched.access_key == "AKIDFLAKY"
    assert provider.calls == 3


def test_the_shared_files_as_read_show_no_key_in_their_repr() -> None:
    text = f"[default]\naws_access_key_id = AKIDFILES\naws_secret_access_key = {SECRET}\n"
    files = SharedFiles("/home/u/.aws/credentials", text, "/home/u/.aws/config", text)
    profile = profile_named(files, "default")
    shown = f"{files!r} {profile!r}"
    assert SECRET not in shown
    assert "/home/u/.aws/credentials" in shown


def test_the_seed_call_signs_with_the_keys_passed_whatever_else_is_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "not-in-any-file")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    client = S3Client(
        endpoint_url="http://127.0.0.1:9000",
        aws_access_key_id="AKIDSEED",
        aws_secret_access_key=SECRET,
    )
    assert client.credentials_source == "arguments"
    assert client._signing_credentials() == Credentials("AKIDSEED", SECRET)
    # Half a pair passed: the other half comes from the environment, as it always has.
    half = S3Client(endpoint_url="http://127.0.0.1:9000", aws_access_key_id="AKIDSEED")
    assert half._signing_credentials() == Credentials("AKIDSEED", "environment-secret")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ValueError, match="no credentials"):
        S3Client(endpoint_url="http://127.0.0.1:9000", aws_access_key_id="AKIDSEED")


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIDHALF"}, "environment: no credentials: AWS_SECRET_ACCESS_KEY"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET}, "environment: no credentials: AWS_ACCESS_KEY_ID"),
        ({"AWS_ROLE_ARN": "arn:r"}, "web identity: no credentials: AWS_WEB_IDENTITY_TOKEN_FILE"),
        ({"AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, "web identity: no credentials: AWS_ROLE_ARN"),
    ],
)
def test_half_a_pair_of_variables_names_the_missing_one(env: dict[str, str], said: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        plan_credentials(env, SharedFiles())
    assert str(caught.value).startswith(said)
    assert SECRET not in str(caught.value)


class ShortLived:
    """Hands out credentials that expire two minutes on: within the refresh margin already."""

    source = "short-lived test source"

    def __init__(self) -> None:
        self.calls = 0

    async def fetch(self) -> Credentials:
        self.calls += 1
        expiry = datetime.fromtimestamp(now[0] + 120, tz=timezone.utc)
        return Credentials(f"AKIDSHORT{self.calls:04d}", SECRET, TOKEN, expiry)


async def test_credentials_fetched_within_the_margin_are_not_fetched_again_per_request() -> None:
    provider = ShortLived()
    cache = CredentialsCache(provider, lambda: now[0])
    for _ in range(100):
        assert (await cache.current()).access_key == "AKIDSHORT0001"
    assert provider.calls == 1
    now[0] += 11  # past the rest: asked again, once
    for _ in range(10):
        assert (await cache.current()).access_key == "AKIDSHORT0002"
    assert provider.calls == 2


def test_a_profile_passed_as_an_argument_wins_over_web_identity_variables() -> None:
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"}
    text = f"[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = {SECRET}\n"
    files = SharedFiles("/nonexistent/credentials", None, "/home/u/.aws/config", text)
    chosen = plan_credentials(env, files, profile="dev")
    assert isinstance(chosen, Fixed)
    assert chosen.credentials.access_key == "AKIDDEV"
    # Named by AWS_PROFILE instead, the variables come first, as in AWS's SDKs.
    assert isinstance(plan_credentials({**env, "AWS_PROFILE": "dev"}, files), WebIdentity)


STS_ANSWER = (
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleWithWebIdentityResult><Credentials>"
    "<AccessKeyId>ASIASTREAMED</AccessKeyId>"
    f"<SecretAccessKey>{SECRET}</SecretAccessKey>"
    f"<SessionToken>{TOKEN * 20}</SessionToken>"
    "<Expiration>2030-01-01T00:00:00Z</Expiration>"
    "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
).encode()


@pytest.mark.parametrize("padding", [0, 70_000])
async def test_an_sts_answer_that_arrives_in_pieces_is_read_whole(
    aiohttp_server: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, padding: int
) -> None:
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    document = b" " * padding + STS_ANSWER  # padded: over the 64 KiB an answer may have

    async def sts(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Type": "text/xml"})
        answer.enable_chunked_encoding()
        await answer.prepare(request)
        for start in range(0, len(document), 500):  # as a slow network delivers it
            await answer.write(document[start : start + 500])
            await asyncio.sleep(0.001)
        await answer.write_eof()
        return answer

    app = web.Application()
    app.router.add_post("/", sts)
    server = await aiohttp_server(app)  # type: ignore[operator]
    token = tmp_path / "token"
    token.write_text("oidc-token")
    plan = WebIdentity(str(token), "arn:aws:iam::1:role/r", "s", "web identity")
    provider = WebIdentityProvider(plan, f"http://127.0.0.1:{server.port}")
    if padding:
        with pytest.raises(CredentialsError, match="answered with more than 65,536 bytes"):
            await asyncio.wait_for(provider.fetch(), 10)
        return
    fetched = await asyncio.wait_for(provider.fetch(), 10)
    assert fetched.access_key == "ASIASTREAMED"
    assert fetched.session_token == TOKEN * 20


def test_keys_passed_as_arguments_are_not_stopped_by_a_broken_shared_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "config"
    # A key twice in one section: configparser refuses the file (botocore would too).
    config.write_text(f"[default]\nregion = eu-west-1\nregion = eu-west-2\nsecret = {SECRET}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    seed = {
        "endpoint_url": "http://127.0.0.1:9000",
        "aws_access_key_id": "AKIDSEED",
        "aws_secret_access_key": "seed-secret",
    }
    with caplog.at_level(logging.WARNING, logger="rawS3"):
        client = S3Client(**seed)  # type: ignore[arg-type]
    assert client.region == "us-east-1"
    assert str(config) in caplog.text
    assert SECRET not in caplog.text
    # Asked for by name, or needed for the credentials, the file's fault is an error.
    with pytest.raises(CredentialsError, match="not a valid INI file"):
        S3Client(**seed, profile="default")  # type: ignore[arg-type]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    with pytest.raises(CredentialsError, match="not a valid INI file"):
        S3Client(endpoint_url="http://127.0.0.1:9000")
