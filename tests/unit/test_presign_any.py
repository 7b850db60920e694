"""Presigned URLs for any operation, and presigned POST policies, checked against botocore.

botocore's own signers (``S3SigV4QueryAuth``, ``generate_presigned_post``) are given the same
operation URL, headers, credentials and time; their signatures must equal ours. No server.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3 import PresignedPost, S3Client, sigv4

ENDPOINT = "http://127.0.0.1:9000"
ACCESS, SECRET = "AKIDPRESIGN", "presign/secret+0123456789"
NOW = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)


def client_at(now: datetime.datetime = NOW, token: str | None = None) -> S3Client:
    return S3Client(
        ENDPOINT, ACCESS, SECRET, aws_session_token=token, clock=lambda: now.timestamp()
    )


def auth(url: str) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(urlsplit(url).query) if k.startswith("X-Amz-")}


def operation_url(url: str) -> str:
    """The presigned URL without its X-Amz-* parameters, as encoded."""
    base, _, query = url.partition("?")
    kept = [part for part in query.split("&") if not part.startswith("X-Amz-")]
    return f"{base}?{'&'.join(kept)}" if kept else base


def botocore_presign(
    method: str, url: str, headers: dict[str, str], expires: int, token: str | None
) -> dict[str, str]:
    request = botocore.awsrequest.AWSRequest(method=method, url=url, headers=headers)
    credentials = botocore.credentials.Credentials(ACCESS, SECRET, token)
    signer = botocore.auth.S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=expires)
    naive = NOW.replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
        signer.add_auth(request)
    return auth(str(request.url))


HEADER_NAMES = ["x-amz-meta-owner", "Content-Type", "x-amz-acl", "If-Match", "Content-MD5"]
printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF), min_size=1, max_size=30)


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["get", "head", "delete", "part", "complete", "abort", "put"]))
    options: dict[str, Any] = {"key": draw(keys)}
    method = {
        "get": "GET",
        "head": "HEAD",
        "delete": "DELETE",
        "part": "PUT",
        "complete": "POST",
        "abort": "DELETE",
        "put": "PUT",
    }[kind]
    if kind in ("get", "head", "delete") and draw(st.booleans()):
        options["version_id"] = draw(printable)
    if kind in ("part", "complete", "abort"):
        options["upload_id"] = draw(printable)
    if kind == "part" or (kind in ("get", "head") and draw(st.booleans())):
        options["part_number"] = draw(st.integers(1, 10_000))
    if kind == "get":
        options["response_content_disposition"] = draw(st.none() | printable)
        options["response_content_type"] = draw(st.none() | printable)
    names = draw(st.lists(st.sampled_from(HEADER_NAMES), unique=True, max_size=3))
    options["headers"] = {name: draw(printable) for name in names}
    options["expires"] = draw(st.integers(1, 604800))
    return method, options


@given(operations(), st.none() | printable)
def test_any_presigned_operation_is_signed_as_botocore_signs_it(
    operation: tuple[str, dict[str, Any]], token: str | None
) -> None:
    method, options = operation
    url = client_at(token=token).presign(method, "bkt", **options)

    theirs = botocore_presign(
        method, operation_url(url), dict(options["headers"]), options["expires"], token
    )
    ours = auth(url)
    assert ours["X-Amz-SignedHeaders"] == theirs["X-Amz-SignedHeaders"]
    assert ours["X-Amz-Signature"] == theirs["X-Amz-Signature"]
    assert url.endswith(f"&X-Amz-Signature={ours['X-Amz-Signature']}")


def test_the_operation_parameters_are_in_the_query() -> None:
    client = client_at()
    part = client.presign("PUT", "bkt", "k", upload_id="up/1", part_number=7)
    assert dict(parse_qsl(urlsplit(part).query))["partNumber"] == "7"
    assert dict(parse_qsl(urlsplit(part).query))["uploadId"] == "up/1"
    get = client.presign(
        "GET",
        "bkt",
        "k",
        version_id="v1",
        response_content_disposition='attachment; filename="a b.txt"',
        response_expires="Thu, 01 Dec 2094 16:00:00 GMT",
    )
    params = dict(parse_qsl(urlsplit(get).query))
    assert params["versionId"] == "v1"
    assert params["response-content-disposition"] == 'attachment; filename="a b.txt"'
    assert params["response-expires"] == "Thu, 01 Dec 2094 16:00:00 GMT"
    create = client.presign("POST", "bkt", "k", query={"uploads": None})
    assert "?uploads=&X-Amz-Algorithm=" in create


def test_signed_headers_are_named_in_the_url() -> None:
    url = client_at().presign(
        "PUT", "bkt", "k", headers={"Content-Type": "text/plain", "x-amz-meta-a": "1"}
    )
    assert auth(url)["X-Amz-SignedHeaders"] == "content-type;host;x-amz-meta-a"


def test_the_old_presign_calls_give_the_same_urls_as_presign() -> None:
    client = client_at()
    assert client.presign_get("bkt", "a b", expires=60) == client.presign(
        "GET", "bkt", "a b", expires=60
    )
    assert client.presign_put("bkt", "a b") == client.presign("PUT", "bkt", "a b")


# -- presigned POST --------------------------------------------------------------------------


def botocore_post(
    key: str, conditions: list[Any], fields: dict[str, str], expires: int, token: str | None
) -> dict[str, Any]:
    session = botocore.session.get_session()
    s3 = session.create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    naive = NOW.replace(tzinfo=None)
    with (
        mock.patch("botocore.signers.get_current_datetime", return_value=naive),
        mock.patch("botocore.auth.get_current_datetime", return_value=naive),
    ):
        result: dict[str, Any] = s3.generate_presigned_post(
            "bkt", key, Fields=fields, Conditions=conditions, ExpiresIn=expires
        )
    return result


@pytest.mark.parametrize("token", [None, "the-session-token"])
@pytest.mark.parametrize("prefix", [False, True])
def test_a_presigned_post_is_signed_as_botocore_signs_it(prefix: bool, token: str | None) -> None:
    options: dict[str, Any] = {"key_prefix": "uploads/"} if prefix else {"key": "up/é x.bin"}
    post = client_at(token=token).presign_post(
        "bkt",
        **options,
        expires=900,
        content_length_range=(1, 1000),
        content_type="image/png",
        success_action_status=201,
        metadata={"owner": "ann"},
    )
    conditions = [
        ["content-length-range", 1, 1000],
        {"Content-Type": "image/png"},
        {"success_action_status": "201"},
        {"x-amz-meta-owner": "ann"},
    ]
    fields = {
        "Content-Type": "image/png",
        "success_action_status": "201",
        "x-amz-meta-owner": "ann",
    }
    key = "uploads/${filename}" if prefix else "up/é x.bin"

    theirs = botocore_post(key, conditions, fields, 900, token)

    assert post.url == theirs["url"] == f"{ENDPOINT}/bkt"
    assert post.field_map() == theirs["fields"]
    assert isinstance(post, PresignedPost)


def test_the_post_signature_is_the_hmac_of_the_policy_text() -> None:
    post = client_at().presign_post("bkt", key_prefix="a/", expires=60)
    fields = post.field_map()
    day_key = b"AWS4" + SECRET.encode()
    for part in ("20260304", "us-east-1", "s3", "aws4_request"):
        day_key = hmac.new(day_key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(day_key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert fields["x-amz-signature"] == expected
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert policy["expiration"] == "2026-03-04T05:07:07Z"
    assert ["starts-with", "$key", "a/"] in policy["conditions"]
    assert {"bucket": "bkt"} in policy["conditions"]
    assert post.expiration == NOW + datetime.timedelta(seconds=60)


def test_a_presigned_post_repr_shows_no_token_or_policy() -> None:
    post = client_at(token="very-secret-token").presign_post("bkt", key="k")
    assert "very-secret-token" not in repr(post)
    assert post.field_map()["policy"] not in repr(post)
    assert "x-amz-security-token" in repr(post)


def test_presign_headers_equal_to_none_gives_the_plain_url() -> None:
    client = client_at()
    assert client.presign("DELETE", "bkt", "k", headers={}) == sigv4.presign(
        "DELETE",
        f"{ENDPOINT}/bkt/k",
        credentials=sigv4.Credentials(ACCESS, SECRET),
        region="us-east-1",
        now=NOW,
        expires=3600,
    )


def test_virtual_addressing_puts_the_bucket_in_the_host() -> None:
    client = S3Client(
        "https://s3.example.com",
        ACCESS,
        SECRET,
        addressing="virtual",
        clock=lambda: NOW.timestamp(),
    )
    url = client.presign("HEAD", "bkt", "a/b")
    assert url.startswith("https://bkt.s3.example.com/a/b?X-Amz-Algorithm=")
    assert (
        auth(url)["X-Amz-Signature"]
        == botocore_presign("HEAD", "https://bkt.s3.example.com/a/b", {}, 3600, None)[
            "X-Amz-Signature"
        ]
    )
    assert client.presign_post("bkt", key="k").url == "https://bkt.s3.example.com/"
