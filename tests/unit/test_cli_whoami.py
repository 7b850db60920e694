"""``raws3 whoami`` and ``--profile``: the source, access key id and region of the credentials
the chain found, never the secret or the token (``--debug`` included)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest

from rawS3.cli import main

SECRET = "cli-profile-secret-never-shown"
TOKEN = "cli-process-token-never-shown"


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    document = {
        "Version": 1,
        "AccessKeyId": "AKIDPROCESS",
        "SecretAccessKey": SECRET,
        "SessionToken": TOKEN,
        "Expiration": "2099-01-01T00:00:00Z",
    }
    command = f"printf '%s\\n' {shlex.quote(json.dumps(document))}"
    (tmp_path / "credentials").write_text(
        f"[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = {SECRET}\n"
    )
    (tmp_path / "config").write_text(
        "[profile work]\nregion = eu-north-1\n"
        f"[profile tool]\ncredential_process = {command}\nregion = ap-south-1\n"
        "endpoint_url = http://127.0.0.1:9\n"
    )
    return tmp_path


def test_whoami_names_the_profile_key_and_region(
    aws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["whoami", "--profile", "work", "--endpoint-url", "http://127.0.0.1:9"]) == 0
    out, err = capsys.readouterr()
    assert (
        f"source      profile work in {aws_home / 'credentials'} and {aws_home / 'config'}" in out
    )
    assert "access key  AKIDWORK" in out
    assert "region      eu-north-1" in out
    assert "temporary   no" in out
    assert SECRET not in out + err


def test_whoami_with_credential_process_and_debug_shows_no_secret(
    aws_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "tool")
    assert main(["--debug", "whoami"]) == 0
    out, err = capsys.readouterr()
    assert "access key  AKIDPROCESS" in out
    assert "region      ap-south-1" in out
    assert "endpoint    http://127.0.0.1:9" in out
    assert "expires     2099-01-01 00:00:00 UTC" in out
    for secret in (SECRET, TOKEN):
        assert secret not in out + err


def test_an_unknown_profile_is_a_usage_error_naming_it(
    aws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["whoami", "--profile", "nope"]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("raws3: error: profile nope: not found in ")
