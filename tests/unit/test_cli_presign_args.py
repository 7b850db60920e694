"""``raws3 presign`` arguments: what each option puts in the URL, and usage errors (exit 2)
before anything is signed or sent. No server: the endpoint is a closed port."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from rawS3.cli import main


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCLI")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cli-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


def test_presign_options_reach_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "presign",
            "--method",
            "GET",
            "--version-id",
            "v1",
            "--response-content-type",
            "text/plain",
            "--header",
            "x-amz-meta-a: 1",
            "--expires",
            "90",
            "s3://bkt/k",
        ]
    )
    out = capsys.readouterr().out.strip()
    assert code == 0
    params = dict(parse_qsl(urlsplit(out).query))
    assert params["versionId"] == "v1"
    assert params["response-content-type"] == "text/plain"
    assert params["X-Amz-SignedHeaders"] == "host;x-amz-meta-a"
    assert params["X-Amz-Expires"] == "90"


def test_presign_method_delete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presign", "--method", "DELETE", "--upload-id", "u1", "s3://bkt/k"]) == 0
    assert "uploadId=u1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--put", "--method", "DELETE"], "--put means --method PUT"),
        (["--method", "PUT", "--response-content-type", "text/plain"], "goes with GET"),
        (["--header", "no-colon"], "NAME:VALUE"),
        (["--method", "PUT", "--upload-id", "u"], "give part_number too"),
        (["--header", "Host: x"], "set by the signature"),
    ],
)
def test_presign_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["presign", *args, "s3://bkt/k"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_presign_method_must_be_known() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["presign", "--method", "PATCH", "s3://bkt/k"])
    assert caught.value.code == 2
