"""The shared files, table-driven: each pair of files (credentials, config) with the plan the
chain makes of it, or the typed error, which names the file and the profile and never a value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from rawS3 import CredentialsError, RetryPolicy, S3Client
from rawS3.chain import (
    AssumeRole,
    Fixed,
    InstanceMetadata,
    Plan,
    Process,
    WebIdentity,
    plan_credentials,
)
from rawS3.profiles import FileSettings, SharedFiles, file_settings, profile_named

CREDS = "/home/u/.aws/credentials"
CONFIG = "/home/u/.aws/config"
SECRET = "SECRETVALUE/never+shown"
KEYS = f"aws_access_key_id = AKIDFILE\naws_secret_access_key = {SECRET}\n"


@dataclass(frozen=True)
class Row:
    credentials: str | None
    config: str | None
    profile: str | None = None  # as an argument (--profile)
    env_profile: str | None = None  # as AWS_PROFILE
    expect: str = ""  # a description of the plan, or "error: <regex>"


ROWS = {
    "no files at all": Row(None, None, expect="imds"),
    "default in credentials": Row(
        f"[default]\n{KEYS}", None, expect="fixed AKIDFILE profile default"
    ),
    "default in config": Row(None, f"[default]\n{KEYS}", expect="fixed AKIDFILE profile default"),
    "named profile in config needs the prefix": Row(
        None, f"[profile dev]\n{KEYS}", env_profile="dev", expect="fixed AKIDFILE profile dev"
    ),
    "a bare section in config is no profile": Row(
        None,
        f"[dev]\n{KEYS}",
        env_profile="dev",
        expect=f"error: ^profile dev: not found in {CREDS} or {CONFIG}$",
    ),
    "credentials file wins over config": Row(
        "[dev]\naws_access_key_id = AKIDCREDS\n",
        f"[profile dev]\n{KEYS}",
        profile="dev",
        expect="fixed AKIDCREDS profile dev",
    ),
    "unknown profile by argument": Row(
        f"[default]\n{KEYS}", None, profile="nope", expect="error: ^profile nope: not found in"
    ),
    "unknown profile by AWS_PROFILE": Row(
        f"[default]\n{KEYS}", None, env_profile="nope", expect="error: ^profile nope: not found"
    ),
    "missing secret": Row(
        "[default]\naws_access_key_id = AKIDFILE\n",
        None,
        expect=f"error: ^profile default in {CREDS}: has no aws_secret_access_key",
    ),
    "missing access key id": Row(
        f"[default]\naws_secret_access_key = {SECRET}\n",
        None,
        expect=f"error: ^profile default in {CREDS}: has no aws_access_key_id",
    ),
    "profile with no credentials falls through": Row(
        None, "[default]\nregion = eu-west-1\n", expect="imds"
    ),
    "bad INI: a line before any section": Row(
        f"aws_secret_access_key = {SECRET}\n[default]\n",
        None,
        expect=f"error: ^{CREDS}: not a valid INI file at line 1 \\(MissingSectionHeaderError\\)$",
    ),
    "bad INI: a key twice": Row(
        None,
        f"[default]\nregion = a\nregion = {SECRET}\n",
        expect=f"error: ^{CONFIG}: not a valid INI file at line 3 \\(DuplicateOptionError\\)$",
    ),
    "bad INI: a line without =": Row(
        f"[default]\n{SECRET}\n", None, expect=f"error: ^{CREDS}: not a valid INI file"
    ),
    "role with source_profile": Row(
        f"[base]\n{KEYS}",
        "[profile ops]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
        "external_id = ext\nduration_seconds = 900\n",
        profile="ops",
        expect="assume arn:aws:iam::1:role/r ext 900 <- fixed AKIDFILE profile base",
    ),
    "role chain of two": Row(
        f"[base]\n{KEYS}",
        "[profile a]\nrole_arn = arn:a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:b\nsource_profile = base\n",
        profile="a",
        expect="assume arn:a None None <- assume arn:b None None <- fixed AKIDFILE profile base",
    ),
    "role that is its own source": Row(
        None,
        f"[profile me]\nrole_arn = arn:me\nsource_profile = me\n{KEYS}",
        profile="me",
        expect="assume arn:me None None <- fixed AKIDFILE profile me",
    ),
    "source_profile loop": Row(
        None,
        "[profile a]\nrole_arn = arn:a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:b\nsource_profile = a\n",
        profile="a",
        expect=f"error: ^profile b in {CONFIG}: source_profile loop: a -> b -> a$",
    ),
    "source_profile missing": Row(
        None,
        "[profile a]\nrole_arn = arn:a\nsource_profile = ghost\n",
        profile="a",
        expect=f"error: ^profile a in {CONFIG}: source_profile 'ghost' is not in the files$",
    ),
    "role_arn without a source": Row(
        None,
        "[profile a]\nrole_arn = arn:a\n",
        profile="a",
        expect="error: role_arn needs source_profile or credential_source",
    ),
    "role with credential_source Ec2InstanceMetadata": Row(
        None,
        "[profile a]\nrole_arn = arn:a\ncredential_source = Ec2InstanceMetadata\n",
        profile="a",
        expect="assume arn:a None None <- imds",
    ),
    "role with credential_source Environment but no keys there": Row(
        None,
        "[profile a]\nrole_arn = arn:a\ncredential_source = Environment\n",
        profile="a",
        expect="error: credential_source Environment supplies no credentials here",
    ),
    "role with an unknown credential_source": Row(
        None,
        "[profile a]\nrole_arn = arn:a\ncredential_source = Somewhere\n",
        profile="a",
        expect="error: credential_source 'Somewhere' is not Environment",
    ),
    "role with both sources": Row(
        f"[b]\n{KEYS}",
        "[profile a]\nrole_arn = arn:a\nsource_profile = b\ncredential_source = Environment\n",
        profile="a",
        expect="error: has both source_profile and credential_source",
    ),
    "source profile without credentials": Row(
        None,
        "[profile a]\nrole_arn = arn:a\nsource_profile = b\n[profile b]\nregion = x\n",
        profile="a",
        expect=f"error: ^profile b in {CONFIG}: configures no credentials",
    ),
    "credential_process": Row(
        None,
        "[profile tool]\ncredential_process = /bin/tool --json\n",
        profile="tool",
        expect="process /bin/tool --json",
    ),
    "web identity in a profile": Row(
        None,
        "[profile k8s]\nweb_identity_token_file = /var/run/token\nrole_arn = arn:k\n",
        profile="k8s",
        expect="web /var/run/token arn:k",
    ),
    "static keys come before credential_process": Row(
        f"[default]\n{KEYS}",
        "[default]\ncredential_process = /bin/tool\n",
        expect="fixed AKIDFILE profile default",
    ),
}


def describe(plan: Plan) -> str:
    if isinstance(plan, Fixed):
        return f"fixed {plan.credentials.access_key} {plan.source.split(' in ')[0]}"
    if isinstance(plan, AssumeRole):
        return f"assume {plan.role_arn} {plan.external_id} {plan.duration} <- {describe(plan.base)}"
    if isinstance(plan, Process):
        return f"process {plan.command}"
    if isinstance(plan, WebIdentity):
        return f"web {plan.token_file} {plan.role_arn}"
    if isinstance(plan, InstanceMetadata):
        return "imds"
    return repr(plan)


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_shared_files(row: Row) -> None:
    files = SharedFiles(CREDS, row.credentials, CONFIG, row.config)
    env = {"AWS_PROFILE": row.env_profile} if row.env_profile else {}
    if row.expect.startswith("error: "):
        with pytest.raises(CredentialsError, match=row.expect.removeprefix("error: ")) as caught:
            plan_credentials(env, files, profile=row.profile)
        assert SECRET not in str(caught.value)
        assert caught.value.__cause__ is None
    else:
        plan = plan_credentials(env, files, profile=row.profile)
        assert describe(plan) == row.expect
        assert SECRET not in repr(plan)


CONFIG_WITH_SERVICES = """\
[profile dev]
region = eu-central-1
endpoint_url = http://global.example:9000
max_attempts = 7
ca_bundle = /etc/ssl/dev.pem
services = local
s3 =
    addressing_style = virtual

[services local]
s3 =
    endpoint_url = http://s3-only.example:9000
"""


def test_a_profile_sets_region_endpoint_addressing_attempts_and_ca_bundle() -> None:
    files = SharedFiles(CREDS, None, CONFIG, CONFIG_WITH_SERVICES)
    settings = file_settings(profile_named(files, "dev"))
    assert settings == FileSettings(
        region="eu-central-1",
        endpoint_url="http://s3-only.example:9000",  # the services section's s3 one wins
        addressing_style="virtual",
        max_attempts=7,
        ca_bundle="/etc/ssl/dev.pem",
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[default]\nservices = gone\n", f"^profile default in {CONFIG}: names services 'gone'"),
        ("[default]\nmax_attempts = many\n", "max_attempts must be a whole number >= 1"),
        ("[default]\nmax_attempts = 0\n", "max_attempts must be a whole number >= 1"),
    ],
    ids=["missing services section", "max_attempts not a number", "max_attempts 0"],
)
def test_bad_settings_in_a_profile(config: str, message: str) -> None:
    files = SharedFiles(CREDS, None, CONFIG, config)
    with pytest.raises(CredentialsError, match=message):
        file_settings(profile_named(files, "default"))


@pytest.mark.parametrize("source", ["environment", "profile"])
def test_a_found_ca_bundle_is_read_when_a_tls_connection_needs_it(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    missing = tmp_path / "missing.pem"
    config = tmp_path / "config"
    config.write_text(f"[default]\nca_bundle = {missing}\n" if source == "profile" else "")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    if source == "environment":
        monkeypatch.setenv("AWS_CA_BUNDLE", str(missing))
    keys = {"aws_access_key_id": "AKID", "aws_secret_access_key": "secret"}
    engine = S3Client("http://127.0.0.1:9000", **keys)._engine  # made: the bundle is unread
    assert engine._tls_for("http://127.0.0.1:9000/b/k", None) is True
    for url, proxy in [("https://127.0.0.1/b/k", None), ("http://127.0.0.1/b", "https://p:1")]:
        with pytest.raises(FileNotFoundError):  # a TLS connection reads it, and trusts it
            engine._tls_for(url, proxy)
    with pytest.raises(FileNotFoundError):
        S3Client("https://127.0.0.1:9000", **keys)
    with pytest.raises(FileNotFoundError):  # named by the caller: read at once, whatever scheme
        S3Client("http://127.0.0.1:9000", **keys, ca_file=str(missing))


def test_the_client_takes_settings_from_arguments_then_environment_then_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    config = tmp_path / "config"
    config.write_text(CONFIG_WITH_SERVICES.replace("/etc/ssl/dev.pem", str(tmp_path / "no.pem")))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    with pytest.raises(FileNotFoundError):  # the profile's ca_bundle is used, and read at once
        S3Client("https://tls.example")
    monkeypatch.setenv("AWS_CA_BUNDLE", "")  # empty: not set
    config.write_text(CONFIG_WITH_SERVICES.replace("ca_bundle = /etc/ssl/dev.pem\n", ""))
    from_file = S3Client()
    assert from_file.endpoint_url == "http://s3-only.example:9000"
    assert from_file.region == "eu-central-1"
    assert from_file._settings.addressing == "virtual"
    assert from_file._retry.attempts == 7
    assert from_file.credentials_source == "environment"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env.example:9000")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    from_env = S3Client()
    assert from_env.endpoint_url == "http://env.example:9000"
    assert from_env.region == "us-west-2"
    assert from_env._retry.attempts == 2
    explicit = S3Client(
        "http://arg.example:9000",
        region="ap-east-1",
        addressing="path",
        retry=RetryPolicy(attempts=1),
    )
    assert explicit.endpoint_url == "http://arg.example:9000"
    assert explicit.region == "ap-east-1"
    assert explicit._settings.addressing == "path"
    assert explicit._retry.attempts == 1
