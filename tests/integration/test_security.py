"""Secrets stay out of every error, log record and repr; TLS is verified unless told otherwise.

The secret scan runs failing operations (a wrong secret, an unknown access key, a session
token the server does not know, retries that give up, a dropped connection) with the ``rawS3``
logger at DEBUG, gathers every text a user could see (exception ``str``/``repr``/``args``/
attributes/tracebacks along the cause chain, log messages and arguments, the client's ``repr``)
and looks in it for the secret keys, the session token and the request signatures sent.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import traceback
import uuid
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import quote

import aiohttp
import pytest

from rawS3 import (
    RetryPolicy,
    S3Client,
    S3Error,
    SignatureDoesNotMatch,
    SlowDown,
    SSECustomerKey,
    TransportError,
)
from tests.conftest import TestServer, make_client
from tests.faults import RESET_BEFORE_BODY, SLOW_DOWN, FaultProxy, Rule
from tests.sources import pattern

QUICK = RetryPolicy(attempts=3, base=0.01, cap=0.02)
SSE_C_KEY = SSECustomerKey(bytes(range(100, 132)))  # sent with every request of the scan


def exception_texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        texts += traceback.format_exception(seen)
        seen = seen.__cause__ or seen.__context__
    return texts


def log_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    texts: list[str] = []
    for record in records:
        texts += [record.getMessage(), str(record.msg), repr(record.args), record.exc_text or ""]
    return texts


def leaks(texts: list[str], secrets: Iterable[str]) -> list[str]:
    found = []
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            found += [f"{form!r} in {text[:200]!r}" for text in texts if form in text]
    return found


def signatures(proxy: FaultProxy) -> set[str]:
    sent = {request.headers.get("authorization", "") for request, _ in proxy.seen}
    return {value.rpartition("Signature=")[2] for value in sent if "Signature=" in value}


async def test_secrets_appear_in_no_error_log_or_repr(
    s3_server: TestServer, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rawS3")
    wrong_secret = f"wrong/{uuid.uuid4().hex}+Secret"
    token = f"FQoGZXIvYXdzE-{uuid.uuid4().hex}/token+=="
    errors: list[BaseException] = []
    clients: list[S3Client] = []
    rules = [
        Rule(SLOW_DOWN, operation="PutObject", when=lambda r: "slow" in r.path),
        Rule(RESET_BEFORE_BODY, operation="PutObject", when=lambda r: "reset" in r.path),
    ]
    async with FaultProxy(s3_server.endpoint, rules) as proxy:
        through = dataclasses.replace(s3_server, endpoint=proxy.endpoint)
        variants = {
            "wrong secret": (through.access_key, wrong_secret, None),
            "wrong secret and a token": (through.access_key, wrong_secret, token),
            "unknown access key and a token": ("AKIANOBODY0000000000", through.secret_key, token),
            "real keys and a token": (through.access_key, through.secret_key, token),
        }
        for name, (access_key, secret_key, session_token) in variants.items():
            client = S3Client(
                endpoint_url=through.endpoint,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                aws_session_token=session_token,
                region=through.region,
                retry=QUICK,
            )
            clients.append(client)
            async with client:
                for key in (f"{name}/slow", f"{name}/reset", f"{name}/missing"):
                    try:
                        if key.endswith("missing"):
                            await client.get_object(bucket, key, sse_customer_key=SSE_C_KEY)
                        else:
                            await client.put_object(
                                bucket, key, b"x" * 1000, sse_customer_key=SSE_C_KEY
                            )
                    except (S3Error, TransportError) as exc:
                        errors.append(exc)
    sent_signatures = signatures(proxy)
    assert proxy.problems == []

    # Not a vacuous scan: every kind of failure happened, and the logger spoke at DEBUG.
    kinds = {type(error) for error in errors}
    assert SlowDown in kinds
    assert TransportError in kinds
    assert any(isinstance(e, S3Error) and e.status == 403 for e in errors)
    if s3_server.name in ("rgw", "moto"):
        assert SignatureDoesNotMatch in kinds
    messages = [record.getMessage() for record in caplog.records]
    assert any("Signature=***" in m and "x-amz-security-token" in m for m in messages)
    assert any(m.startswith("retry ") for m in messages)
    assert len(proxy.seen) == 4 * 7
    assert len(sent_signatures) >= 4 * 3  # retries within one second repeat a signature

    texts = [text for error in errors for text in exception_texts(error)]
    texts += [*log_texts(caplog.records), caplog.text]
    texts += [repr(c) for c in clients] + [str(c) for c in clients]
    texts += [repr(c.presign_post(bucket, key_prefix="p/")) for c in clients]
    secrets = {wrong_secret, s3_server.secret_key, token, *sent_signatures, SSE_C_KEY.secret()}
    assert leaks(texts, secrets) == []


async def test_diagnosis_of_a_wrong_secret_names_the_key_not_the_secret(
    s3_server: TestServer, bucket: str
) -> None:
    wrong_secret = f"wrong/{uuid.uuid4().hex}"
    server = dataclasses.replace(s3_server, secret_key=wrong_secret)
    async with make_client(server, retry=QUICK) as client:
        with pytest.raises(S3Error) as caught:
            await client.put_object(bucket, "k", b"x")
    text = str(caught.value)
    assert caught.value.status == 403
    assert wrong_secret not in text
    if isinstance(caught.value, SignatureDoesNotMatch):
        assert "canonical request" in text
        assert "string to sign" in text


# -- HTTPS ---------------------------------------------------------------------------------------

NO_TLS = "its launcher in tests/servers serves plain http only (no https endpoint, no CA file)"
T = TypeVar("T")


def https_only(test: T) -> T:
    """Mark a test that needs the server's https endpoint and CA file (only RGW's launcher)."""
    test = pytest.mark.unsupported("moto", reason=NO_TLS)(test)
    test = pytest.mark.unsupported("minio", reason=NO_TLS)(test)
    return pytest.mark.unsupported(  # type: ignore[no-any-return]
        "external", reason="no CA file is configured for an external server"
    )(test)


def tls_server(server: TestServer) -> tuple[str, str]:
    if not server.https_endpoint or not server.ca_file:
        pytest.fail(f"{server.name} was expected to serve https (https_endpoint and ca_file)")
    return server.https_endpoint, server.ca_file


def https_client(server: TestServer, **options: object) -> S3Client:
    endpoint, _ = tls_server(server)
    return make_client(dataclasses.replace(server, endpoint=endpoint), **options)


@https_only
async def test_https_is_refused_without_the_ca(s3_server: TestServer) -> None:
    attempts = 0

    async def count(*_: object) -> None:
        nonlocal attempts
        attempts += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        https_client(s3_server, session=session) as client,
    ):
        with pytest.raises(TransportError) as caught:
            await client.list_buckets()
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)
    assert "certificate verify failed" in str(caught.value)
    assert attempts == 1, "a refused certificate is not worth a retry"


@https_only
@pytest.mark.parametrize("trust", ["ca_file", "ssl_context"])
async def test_https_is_accepted_with_the_ca(
    s3_server: TestServer, bucket: str, trust: str
) -> None:
    _, ca_file = tls_server(s3_server)
    if trust == "ca_file":
        options: dict[str, object] = {"ca_file": ca_file}
    else:
        options = {"ssl_context": ssl.create_default_context(cafile=ca_file)}
    data = pattern(200 * 1024, seed=21)
    async with https_client(s3_server, **options) as client:
        assert client.endpoint_url.startswith("https://")
        await client.put_object(bucket, f"over-tls-{trust}", data)
        assert await client.get_object(bucket, f"over-tls-{trust}") == data


# -- the credentials chain's sources -------------------------------------------------------

WEB_TOKEN = "web-identity-token-" + uuid.uuid4().hex
CONTAINER_TOKEN = "container-authorization-" + uuid.uuid4().hex
PROCESS_SECRET = "process-output-secret-" + uuid.uuid4().hex
PROCESS_TOKEN = "process-output-token-" + uuid.uuid4().hex


async def echoing_endpoint() -> tuple[str, aiohttp.web.AppRunner]:
    """A hostile stand-in for STS, the container endpoint and IMDS: each error it answers
    quotes back every header and the body it was sent, tokens included."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        from xml.sax.saxutils import escape

        sent = escape(f"{dict(request.headers)!r} {(await request.read()).decode()}")
        if request.path == "/latest/api/token":
            return web.Response(text=WEB_TOKEN)  # an IMDS session token, refused next
        body = (
            "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
            f"<Message>refused {sent}</Message></Error></ErrorResponse>"
        )
        return web.Response(status=403, text=body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return f"http://127.0.0.1:{port}", runner


async def test_credential_sources_leak_no_token_or_process_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    import os
    import shlex
    from pathlib import Path

    from rawS3 import CredentialsError

    home = Path(str(tmp_path))
    (home / "token").write_text(WEB_TOKEN)
    (home / "container-token").write_text(CONTAINER_TOKEN)
    endpoint, runner = await echoing_endpoint()
    document = f'{{"Version": 2, "AccessKeyId": "AKIDP", "SecretAccessKey": "{PROCESS_SECRET}"}}'
    half = f'{{"Version": 1, "SessionToken": "{PROCESS_TOKEN}"}}'
    sources = {
        "web identity": {
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(home / "token"),
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
            "AWS_ENDPOINT_URL_STS": endpoint,
        },
        "container": {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(home / "container-token"),
        },
        "container, token in the environment": {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_TOKEN,
        },
        "instance metadata": {"AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint},
        "process, wrong version": {"credential_process": f"echo {shlex.quote(document)}"},
        "process, missing keys": {"credential_process": f"echo {shlex.quote(half)}"},
        "process, failing": {"credential_process": f"echo {PROCESS_SECRET}; exit 4"},
    }
    texts: list[str] = []
    try:
        for name, env in sources.items():
            for variable in list(os.environ):
                if variable.startswith("AWS_"):
                    monkeypatch.delenv(variable)
            monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "none"))
            config = home / "config"
            command = env.pop("credential_process", None)
            config.write_text(f"[default]\ncredential_process = {command}\n" if command else "")
            monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
            for variable, value in env.items():
                monkeypatch.setenv(variable, value)
            client = S3Client("http://127.0.0.1:9")
            with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsError) as caught:
                await client.list_buckets()
            texts += [*exception_texts(caught.value), repr(client), name]
    finally:
        await runner.cleanup()
    texts += log_texts(caplog.records)
    assert leaks(texts, [WEB_TOKEN, CONTAINER_TOKEN, PROCESS_SECRET, PROCESS_TOKEN]) == []
    # The scan saw the errors it was meant to see.
    joined = "\n".join(texts)
    assert "web identity: STS refused: HTTP 403 InvalidIdentityToken" in joined
    assert "container endpoint: " in joined
    imds = "instance metadata: GET /latest/meta-data/iam/security-credentials/ answered HTTP 403"
    assert imds in joined
    assert "exited with status 4" in joined
