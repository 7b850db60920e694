"""``sign_parts`` (the engine's signer) signs exactly what ``sigv4.sign`` and botocore sign."""

from __future__ import annotations

import datetime
import hashlib
import random

import botocore.auth as botocore_auth
import botocore.awsrequest as botocore_awsrequest
import botocore.credentials as botocore_credentials
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3 import sigv4
from rawS3.part_signing import sign_parts
from rawS3.sigv4 import Credentials
from rawS3.urls import build_url, parse_endpoint, url_parts

NOW = datetime.datetime(2013, 5, 24, tzinfo=datetime.timezone.utc)
ENDPOINTS = ["http://127.0.0.1:9000", "https://s3.example.com", "http://[::1]:8080/prefix"]
KEY_TEXT = st.text(
    alphabet=st.sampled_from("aZ09-_.~/ +=&?#%!*'()$@,;:\u0416\u00e9\U0001f600"), min_size=1,
    max_size=30,
)
QUERY = st.lists(
    st.tuples(
        st.sampled_from(["prefix", "x-id", "uploads", "partNumber", "a b"]),
        st.sampled_from([None, "", "a b", "\u0416/+", "1"]),
    ),
    max_size=4,
)
HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Cache-Control", "X-Amz-Meta-Note", "Content-Length"]),
    st.sampled_from(["  v 1   x ", "text/plain", "0", "a\tb"]),
    max_size=3,
)


def _both(
    endpoint: str, bucket: str, key: str | None, query: list[tuple[str, str | None]],
    headers: dict[str, str], creds: Credentials, addressing: str = "path",
) -> tuple[dict[str, str], dict[str, str], str]:
    end = parse_endpoint(endpoint)
    parts = url_parts(end, bucket, key, query, addressing=addressing)  # type: ignore[arg-type]
    common = {
        "payload_hash": sigv4.EMPTY_SHA256, "credentials": creds, "region": "eu-central-1",
        "now": NOW,
    }
    ours = sign_parts("PUT", parts.host, parts.path, parts.query, headers, **common)  # type: ignore[arg-type]
    reference = sigv4.sign("PUT", parts.url, {"Host": parts.host, **headers}, **common)  # type: ignore[arg-type]
    return ours, reference, parts.url


@given(
    endpoint=st.sampled_from(ENDPOINTS), key=st.none() | KEY_TEXT, query=QUERY, headers=HEADERS,
    token=st.sampled_from([None, "tok/en+="]),
)
def test_sign_parts_equals_sign_over_the_joined_url(
    endpoint: str, key: str | None, query: list[tuple[str, str | None]],
    headers: dict[str, str], token: str | None,
) -> None:
    ours, reference, _ = _both(
        endpoint, "bucket", key, query, headers, Credentials("AKIDEXAMPLE", "secret", token)
    )
    assert ours == reference


def test_sign_parts_virtual_host_equals_sign() -> None:
    creds = Credentials("AKIDEXAMPLE", "secret")
    ours, reference, url = _both(
        "https://s3.example.com", "bucket", "a b", [("uploads", None)], {}, creds, "virtual"
    )
    assert url.startswith("https://bucket.s3.example.com/a%20b?")
    assert ours == reference


@pytest.mark.parametrize("seed", range(6))
def test_sign_parts_matches_botocore(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    key = "".join(rng.choice("aZ09-_.~/ +=&?#%!*'()\u0416") for _ in range(rng.randint(1, 30)))
    headers = {"Content-Type": f" v {seed}  x ", "X-Amz-Meta-Note": "n"}
    creds = Credentials("AKIDEXAMPLE", "secret/key+1", "token" if seed % 2 else None)
    ours, _, url = _both(
        rng.choice(ENDPOINTS[:2]), "bucket", key, [("partNumber", "1")], headers, creds
    )
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    request = botocore_awsrequest.AWSRequest(method="PUT", url=url, headers=headers, data=b"")
    boto_creds = botocore_credentials.Credentials(
        creds.access_key, creds.secret_key, creds.session_token
    )
    botocore_auth.S3SigV4Auth(boto_creds, "s3", "eu-central-1").add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    assert hashlib.sha256(b"").hexdigest() == ours["x-amz-content-sha256"]


def test_url_parts_make_the_url_build_url_makes() -> None:
    end = parse_endpoint("http://[::1]:8080/prefix")
    query = [("b", "2"), ("a", None)]
    assert url_parts(end, "bk", "k/ é", query).url == build_url(end, "bk", "k/ é", query)
    assert url_parts(end, None).url == build_url(end, None)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"X-Note": "a\r\nb"}, ValueError),  # a caller's header is still checked
        ({"Bad Name": "v"}, ValueError),
        ({"X-Note": 3}, TypeError),
        ({"host": "other"}, ValueError),  # given twice with the signer's own Host
    ],
)
def test_sign_parts_still_checks_headers_it_did_not_make(
    headers: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        sign_parts(
            "PUT", "h", "/b/k", "", headers,  # type: ignore[arg-type]
            payload_hash=sigv4.EMPTY_SHA256, credentials=Credentials("a", "s"),
            region="r", now=NOW,
        )


def test_sign_parts_checks_a_host_the_caller_gave() -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        sign_parts(
            "PUT", "h", "/b/k", "", {"Host": "x\r\ny"}, payload_hash=sigv4.EMPTY_SHA256,
            credentials=Credentials("a", "s"), region="r", now=NOW,
        )


@pytest.mark.parametrize(("path", "query"), [("/b/k?x", ""), ("/b/k#", ""), ("/b/ k", ""),
                                             ("/b/k", "a=#"), ("/b/k", "a b=1")])
def test_sign_parts_refuses_a_path_or_query_not_encoded(path: str, query: str) -> None:
    with pytest.raises(ValueError, match="percent-encoded"):
        sign_parts(
            "PUT", "h", path, query, {}, payload_hash=sigv4.EMPTY_SHA256,
            credentials=Credentials("a", "s"), region="r", now=NOW,
        )
