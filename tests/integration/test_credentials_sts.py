"""Temporary credentials from STS (AssumeRole, AssumeRoleWithWebIdentity), found by the chain
from a profile or the environment, then used against S3 with signatures enforced.

moto serves STS on the same port as S3: ``AWS_ENDPOINT_URL_STS`` points the chain at it. The
AssumeRole request is SigV4-signed for service ``sts`` with the profile's source keys, and moto
checks that signature and the user's policy before it answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rawS3 import Credentials, CredentialsError, S3Client, SignatureDoesNotMatch
from tests.conftest import TestServer

pytestmark = [
    pytest.mark.unsupported(
        "rgw",
        reason="measured on the RGW 16.2.15 these tests start (rgw_s3_auth_use_sts and "
        "rgw_sts_key unset, no IAM roles): a signed AssumeRole gets HTTP 404; STS is proven on "
        "moto",
    ),
    pytest.mark.unsupported(
        "swift", reason="Swift's s3api has no STS API (no AssumeRole, no web identity)"
    ),
]

ROLE = "rawS3-sts-role"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}
S3_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
STS_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
}
WEB_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyYXdTMy10ZXN0In0.web-identity-token-secret"


@pytest.fixture
def role_arn(s3_server: TestServer) -> str:
    """A role that allows s3:*, and leave for the tests' IAM user to assume it."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    if ROLE not in {role.name for role in iam.roles.values()}:
        iam.create_role(
            role_name=ROLE,
            assume_role_policy_document=json.dumps(TRUST),
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=3600,
            linked_service=None,
        )
        iam.put_role_policy(ROLE, "s3-all", json.dumps(S3_ALL))
        iam.put_user_policy("rawS3-tests", "sts-all", json.dumps(STS_ALL))
    return str(iam.get_role(ROLE).arn)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, s3_server: TestServer) -> Path:
    """No credentials in the environment; the STS endpoint is the test server."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", s3_server.endpoint)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.fixture
def unsigned_sts_allowed() -> Iterator[None]:
    """Let the unsigned AssumeRoleWithWebIdentity through moto's enforcement, S3 calls not.

    Measured with moto 5: with enforcement on, its authorizer reads the Authorization header
    of every request, so the (rightly unsigned) AssumeRoleWithWebIdentity gets a 500
    (KeyError 'HTTP_AUTHORIZATION'). Enforcement is lifted while the client fetches only.
    """
    from moto import settings

    previous = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = previous


async def round_trip(s3: S3Client, key: str) -> bytes:
    bucket = "raws3-sts-" + key
    await s3.create_bucket(bucket)
    try:
        await s3.put_object(bucket, key, b"temporary " + key.encode())
        return await s3.get_object(bucket, key)
    finally:
        await s3.delete_objects(bucket, [key])
        await s3.delete_bucket(bucket)


async def test_a_profile_with_role_arn_assumes_the_role_and_uses_it_on_s3(
    s3_server: TestServer, role_arn: str, clean_env: Path
) -> None:
    (clean_env / "credentials").write_text(
        f"[base]\naws_access_key_id = {s3_server.access_key}\n"
        f"aws_secret_access_key = {s3_server.secret_key}\n"
    )
    (clean_env / "config").write_text(
        f"[profile ops]\nrole_arn = {role_arn}\nsource_profile = base\n"
        "role_session_name = rawS3-ops\nregion = us-east-1\n"
    )
    async with S3Client(s3_server.endpoint, profile="ops") as s3:
        assert s3.credentials_source.startswith("profile ops")
        assert await round_trip(s3, "assumed") == b"temporary assumed"
        held = await s3.fetch_credentials()
    # Temporary credentials: not the source keys, with a token and an expiry from STS.
    assert held.access_key != s3_server.access_key
    assert held.session_token
    assert held.expiry is not None


async def test_assume_role_with_wrong_source_keys_is_a_credentials_error_without_secrets(
    s3_server: TestServer, role_arn: str, clean_env: Path
) -> None:
    (clean_env / "credentials").write_text(
        f"[base]\naws_access_key_id = {s3_server.access_key}\n"
        "aws_secret_access_key = not-the-secret-at-all\n"
    )
    (clean_env / "config").write_text(
        f"[profile ops]\nrole_arn = {role_arn}\nsource_profile = base\n"
    )
    async with S3Client(s3_server.endpoint, profile="ops") as s3:
        with pytest.raises(CredentialsError) as caught:
            await s3.list_buckets()
    text = f"{caught.value}{caught.value!r}"
    assert "profile ops" in text
    assert "STS refused: HTTP 403" in text
    assert "not-the-secret-at-all" not in text


async def test_web_identity_from_the_environment_gets_credentials_used_on_s3(
    s3_server: TestServer,
    role_arn: str,
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    unsigned_sts_allowed: None,
) -> None:
    token_file = clean_env / "token"
    token_file.write_text(WEB_TOKEN)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", role_arn)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "rawS3-web")
    client = S3Client(s3_server.endpoint)
    assert client.credentials_source == "web identity"
    held = await client.fetch_credentials()
    from moto import settings

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # S3 calls below: signatures enforced again
    try:
        async with client as s3:
            assert await round_trip(s3, "web") == b"temporary web"
        wrong = Credentials(held.access_key, "wrong-secret", held.session_token)
        async with S3Client(s3_server.endpoint, credentials=wrong) as s3:
            with pytest.raises(SignatureDoesNotMatch):
                await s3.put_object("raws3-nowhere", "k", b"x")
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    assert WEB_TOKEN not in repr(client)
    assert WEB_TOKEN not in repr(held)
