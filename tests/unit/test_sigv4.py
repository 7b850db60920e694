"""SigV4 against published vectors, stage by stage, plus the signer's own rules."""

from __future__ import annotations

import datetime
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import botocore.auth as botocore_auth
import botocore.awsrequest as botocore_awsrequest
import botocore.credentials as botocore_credentials
import pytest

from rawS3 import canonical, sigv4
from rawS3.sigv4 import Credentials
from rawS3.urls import build_url, encode_query, parse_endpoint

VECTORS = Path(__file__).parent / "vectors"
S3 = json.loads((VECTORS / "s3_signing_examples.json").read_text(encoding="utf-8"))
SUITE = json.loads((VECTORS / "sigv4_test_suite.json").read_text(encoding="utf-8"))

S3_CREDENTIALS = Credentials(**S3["credentials"])
S3_NOW = datetime.datetime.fromisoformat(S3["now"])
SUITE_CREDENTIALS = Credentials(**SUITE["credentials"])
SUITE_NOW = datetime.datetime.fromisoformat(SUITE["now"])

STAGES = ("canonical_request", "string_to_sign", "signature", "authorization")


def _lines(value: list[str] | str) -> str:
    return "\n".join(value) if isinstance(value, list) else value


def _published_authorization(value: str) -> str:
    # The S3 reference prints the three components joined by "," while the SigV4 suite and
    # the SDKs use ", "; S3 accepts both and rawS3 emits the latter.
    return value.replace(",SignedHeaders=", ", SignedHeaders=").replace(
        ",Signature=", ", Signature="
    )


def _stage_params(cases: list[dict[str, Any]]) -> list[Any]:
    return [
        pytest.param(case, stage, id=f"{case['id']}:{stage}")
        for case in cases
        for stage in STAGES
        if case.get(stage) is not None
    ]


# --- Amazon S3 API reference examples --------------------------------------------------------


def _s3_header_stages(case: dict[str, Any]) -> dict[str, str]:
    common = {"now": S3_NOW, "payload_hash": case["payload_hash"], "credentials": S3_CREDENTIALS}
    headers = sigv4.with_host(case["url"], sigv4.request_headers(case["headers"], **common))
    creq = canonical.canonical_request(case["method"], case["url"], headers, case["payload_hash"])
    scope = sigv4.credential_scope(S3_NOW, S3["region"], S3["service"])
    sts = sigv4.string_to_sign(S3_NOW, scope, creq)
    key = sigv4.signing_key(S3_CREDENTIALS.secret_key, S3_NOW, S3["region"], S3["service"])
    signed = sigv4.sign(
        case["method"],
        case["url"],
        case["headers"],
        payload_hash=case["payload_hash"],
        credentials=S3_CREDENTIALS,
        region=S3["region"],
        now=S3_NOW,
    )
    return {
        "canonical_request": creq,
        "string_to_sign": sts,
        "signature": sigv4.signature(key, sts),
        "authorization": signed["Authorization"],
    }


S3_HEADER_CASES = [*S3["header_signed"], S3["chunked"]]


@pytest.mark.parametrize(("case", "stage"), _stage_params(S3_HEADER_CASES))
def test_s3_reference_example_stage(case: dict[str, Any], stage: str) -> None:
    expected = _lines(case[stage])
    if stage == "authorization":
        expected = _published_authorization(expected)
    assert _s3_header_stages(case)[stage] == expected


@pytest.mark.parametrize("case", S3["header_signed"], ids=lambda case: case["id"])
def test_s3_reference_example_payload_hash_matches_its_body(case: dict[str, Any]) -> None:
    assert hashlib.sha256(case["body"].encode()).hexdigest() == case["payload_hash"]


def _presign_stages(case: dict[str, Any]) -> dict[str, str]:
    params = sigv4.presign_parameters(S3_CREDENTIALS, S3_NOW, S3["region"], case["expires"])
    unsigned = f"{case['url']}?{encode_query(params)}"
    host = {"host": "examplebucket.s3.amazonaws.com"}
    creq = canonical.canonical_request(case["method"], unsigned, host, sigv4.UNSIGNED_PAYLOAD)
    scope = sigv4.credential_scope(S3_NOW, S3["region"], "s3")
    sts = sigv4.string_to_sign(S3_NOW, scope, creq)
    key = sigv4.signing_key(S3_CREDENTIALS.secret_key, S3_NOW, S3["region"], "s3")
    url = sigv4.presign(
        case["method"],
        case["url"],
        credentials=S3_CREDENTIALS,
        region=S3["region"],
        now=S3_NOW,
        expires=case["expires"],
    )
    return {
        "canonical_request": creq,
        "string_to_sign": sts,
        "signature": sigv4.signature(key, sts),
        "presigned_url": url,
    }


@pytest.mark.parametrize(
    "stage", ["canonical_request", "string_to_sign", "signature", "presigned_url"]
)
def test_s3_reference_presigned_url_stage(stage: str) -> None:
    case = S3["presigned"]
    assert _presign_stages(case)[stage] == _lines(case[stage])


CHUNKED = S3["chunked"]
CHUNK_PARAMS = [
    pytest.param(index, chunk, id=f"chunk{index + 1}-{chunk['size']}B")
    for index, chunk in enumerate(CHUNKED["chunks"])
]


def _chunk_data(size: int) -> bytes:
    return CHUNKED["fill_byte"].encode() * size


def _previous_signature(index: int) -> str:
    return CHUNKED["signature"] if index == 0 else CHUNKED["chunks"][index - 1]["signature"]


@pytest.mark.parametrize(("index", "chunk"), CHUNK_PARAMS)
def test_s3_reference_chunk_string_to_sign(index: int, chunk: dict[str, Any]) -> None:
    scope = sigv4.credential_scope(S3_NOW, S3["region"], "s3")
    text = sigv4.chunk_string_to_sign(
        S3_NOW, scope, _previous_signature(index), _chunk_data(chunk["size"])
    )
    assert text == _lines(chunk["string_to_sign"])


@pytest.mark.parametrize(("index", "chunk"), CHUNK_PARAMS)
def test_s3_reference_chunk_signature(index: int, chunk: dict[str, Any]) -> None:
    got = sigv4.sign_chunk(
        _chunk_data(chunk["size"]),
        _previous_signature(index),
        credentials=S3_CREDENTIALS,
        region=S3["region"],
        now=S3_NOW,
    )
    assert got == chunk["signature"]


@pytest.mark.parametrize(("index", "chunk"), CHUNK_PARAMS)
def test_s3_reference_chunk_frame_header(index: int, chunk: dict[str, Any]) -> None:
    frame = sigv4.chunk_frame(_chunk_data(chunk["size"]), chunk["signature"])
    header, _, rest = frame.partition(b"\r\n")
    assert header.decode() == chunk["frame_header"]
    assert rest == _chunk_data(chunk["size"]) + b"\r\n"


def test_s3_reference_chunked_content_length() -> None:
    frames = [
        sigv4.chunk_frame(_chunk_data(chunk["size"]), chunk["signature"])
        for chunk in CHUNKED["chunks"]
    ]
    assert sum(map(len, frames)) == CHUNKED["content_length"]
    length = sigv4.encoded_length(CHUNKED["decoded_length"], CHUNKED["chunk_size"])
    assert length == CHUNKED["content_length"]


def test_seed_signature_is_read_back_from_the_authorization_header() -> None:
    seed = sigv4.signature_from_authorization(_published_authorization(CHUNKED["authorization"]))
    assert seed == CHUNKED["signature"]


# --- generic AWS SigV4 test suite ------------------------------------------------------------


def _suite_stages(case: dict[str, Any]) -> dict[str, str]:
    payload = hashlib.sha256(case["body"].encode()).hexdigest()
    creq = canonical.canonical_request(case["method"], case["url"], case["headers"], payload)
    scope = sigv4.credential_scope(SUITE_NOW, SUITE["region"], SUITE["service"])
    sts = sigv4.string_to_sign(SUITE_NOW, scope, creq)
    key = sigv4.signing_key(
        SUITE_CREDENTIALS.secret_key, SUITE_NOW, SUITE["region"], SUITE["service"]
    )
    sig = sigv4.signature(key, sts)
    authz = sigv4.authorization_header(
        SUITE_CREDENTIALS.access_key, scope, canonical.signed_headers(case["headers"]), sig
    )
    return {
        "canonical_request": creq,
        "string_to_sign": sts,
        "signature": sig,
        "authorization": authz,
    }


@pytest.mark.parametrize(("case", "stage"), _stage_params(SUITE["cases"]))
def test_sigv4_suite_stage(case: dict[str, Any], stage: str) -> None:
    assert _suite_stages(case)[stage] == _lines(case[stage])


# --- dates, scope, credentials ---------------------------------------------------------------


def test_dates_are_rendered_in_utc() -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2013, 5, 24, 2, 0, 0, 999, tzinfo=plus_two)
    naive = datetime.datetime(2013, 5, 24, 0, 0, 0)
    assert sigv4.amz_date(aware) == sigv4.amz_date(naive) == "20130524T000000Z"
    assert sigv4.date_stamp(aware) == "20130524"


def test_now_must_be_a_datetime() -> None:
    with pytest.raises(TypeError, match="datetime"):
        sigv4.amz_date("20130524T000000Z")  # type: ignore[arg-type]


@pytest.mark.parametrize("region", ["", "us/east"])
def test_scope_parts_are_checked(region: str) -> None:
    with pytest.raises(ValueError, match="region"):
        sigv4.credential_scope(S3_NOW, region, "s3")


def test_credentials_repr_and_str_hide_the_secret_and_token() -> None:
    creds = Credentials("AKIDEXAMPLE", "very-secret-key", "very-secret-token")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "AKIDEXAMPLE" in text
        assert "very-secret" not in text
        assert "***" in text
    assert "session_token=None" in repr(Credentials("AKIDEXAMPLE", "very-secret-key"))


def test_credentials_are_frozen() -> None:
    creds = Credentials("AKIDEXAMPLE", "secret")
    with pytest.raises(AttributeError):
        creds.secret_key = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", "secret"), ValueError),
        (("AKID", ""), ValueError),
        (("AK/ID", "secret"), ValueError),
        ((b"AKID", "secret"), TypeError),
        (("AKID", "secret", 5), TypeError),
    ],
)
def test_credentials_are_checked(args: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        Credentials(*args)


def test_signing_key_is_cached_per_day_region_and_service() -> None:
    sigv4._derived_signing_key.cache_clear()
    morning = datetime.datetime(2013, 5, 24, 1, 0, tzinfo=datetime.timezone.utc)
    evening = datetime.datetime(2013, 5, 24, 23, 0, tzinfo=datetime.timezone.utc)
    first = sigv4.signing_key("secret", morning, "us-east-1", "s3")
    second = sigv4.signing_key("secret", evening, "us-east-1", "s3")
    info = sigv4._derived_signing_key.cache_info()
    assert first == second
    assert (info.hits, info.misses) == (1, 1)
    sigv4.signing_key("secret", evening, "eu-west-1", "s3")
    assert sigv4._derived_signing_key.cache_info().misses == 2


# --- sign() ----------------------------------------------------------------------------------


def _sign(url: str, headers: dict[str, str], creds: Credentials = S3_CREDENTIALS) -> dict[str, str]:
    return sigv4.sign(
        "GET",
        url,
        headers,
        payload_hash=sigv4.EMPTY_SHA256,
        credentials=creds,
        region="us-east-1",
        now=S3_NOW,
    )


def _signed_names(signed: dict[str, str]) -> list[str]:
    authorization = signed["Authorization"]
    return authorization.split("SignedHeaders=")[1].split(",")[0].split(";")


def test_sign_returns_a_new_dict_and_leaves_its_input_alone() -> None:
    headers = {"Range": "bytes=0-9"}
    signed = _sign("https://examplebucket.s3.amazonaws.com/test.txt", headers)
    assert headers == {"Range": "bytes=0-9"}
    assert signed is not headers
    assert signed["x-amz-date"] == "20130524T000000Z"
    assert signed["x-amz-content-sha256"] == sigv4.EMPTY_SHA256
    assert "x-amz-security-token" not in signed


def test_sign_skips_hop_by_hop_and_client_headers() -> None:
    headers = {
        "User-Agent": "rawS3/1",
        "Expect": "100-continue",
        "Transfer-Encoding": "chunked",
        "Connection": "keep-alive",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Upgrade": "h2c",
        "Content-Type": "text/plain",
    }
    signed = _sign("https://examplebucket.s3.amazonaws.com/k", headers)
    assert _signed_names(signed) == [
        "content-type",
        "host",
        "x-amz-content-sha256",
        "x-amz-date",
    ]
    assert signed["User-Agent"] == "rawS3/1"


def test_resigning_replaces_the_earlier_authentication_headers() -> None:
    first = _sign("https://examplebucket.s3.amazonaws.com/k", {"X-Amz-Meta-A": "1"})
    later = S3_NOW + datetime.timedelta(minutes=5)
    second = sigv4.sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com/k",
        first,
        payload_hash=sigv4.EMPTY_SHA256,
        credentials=S3_CREDENTIALS,
        region="us-east-1",
        now=later,
    )
    assert second["x-amz-date"] == "20130524T000500Z"
    assert second["Authorization"] != first["Authorization"]
    assert sorted(second) == sorted(first)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://s3.example.com/b/k", "s3.example.com"),
        ("https://s3.example.com:443/b/k", "s3.example.com"),
        ("http://s3.example.com:80/b/k", "s3.example.com"),
        ("http://S3.Example.COM:9000/b/k", "s3.example.com:9000"),
        ("https://s3.example.com:80/b/k", "s3.example.com:80"),
        ("http://[::1]:9000/b/k", "[::1]:9000"),
        ("http://[::1]/b/k", "[::1]"),
    ],
)
def test_host_is_taken_from_the_url_without_default_port(url: str, host: str) -> None:
    headers = sigv4.with_host(url, {})
    assert headers == {"host": host}
    signed = _sign(url, {})
    assert "host" in _signed_names(signed)
    assert "host" not in signed


def test_explicit_host_header_wins() -> None:
    assert sigv4.with_host("http://127.0.0.1:9000/b", {"Host": "s3.local"}) == {"Host": "s3.local"}


def test_session_token_is_sent_and_signed() -> None:
    creds = Credentials("AKIDEXAMPLE", "secret", "the-token")
    signed = _sign("https://examplebucket.s3.amazonaws.com/k", {}, creds)
    assert signed["x-amz-security-token"] == "the-token"
    assert "x-amz-security-token" in _signed_names(signed)
    plain = _sign(
        "https://examplebucket.s3.amazonaws.com/k", {}, Credentials("AKIDEXAMPLE", "secret")
    )
    assert plain["Authorization"] != signed["Authorization"]


def test_header_values_are_trimmed_and_folded() -> None:
    assert canonical.canonical_headers({"X-Amz-Meta-A": "  a   b \t c  "}) == "x-amz-meta-a:a b c\n"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Range": "bytes=0-1", "range": "bytes=0-2"}, "twice"),
        ({"X-Amz-Meta-A": "a\r\nInjected: 1"}, "CR or LF"),
        ({"Bad Name": "v"}, "header name"),
    ],
)
def test_bad_headers_are_refused(headers: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        canonical.canonical_headers(headers)


@pytest.mark.parametrize(
    "url",
    [
        "https://h/b/a b",  # space must be %20
        "https://h/b/test$file",  # '$' must be %24
        "https://h/b/%e2%82%ac",  # S3 compares upper-case hex
        "https://h/b/caf\u00e9",  # raw non-ASCII
        "https://h/b/k#frag",
        "/b/k",
    ],
)
def test_unencoded_or_relative_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        canonical.canonical_uri(url)


@pytest.mark.parametrize("query", ["a=b c", "prefix=a/b", "a=1+2", "k=%2f"])
def test_unencoded_query_is_refused(query: str) -> None:
    with pytest.raises(ValueError, match="not percent-encoded"):
        canonical.canonical_query_string(f"https://h/b?{query}")


def test_canonical_uri_keeps_the_path_exactly() -> None:
    assert canonical.canonical_uri("https://h") == "/"
    assert canonical.canonical_uri("https://h/b/a//b/./x/../y") == "/b/a//b/./x/../y"
    assert canonical.canonical_uri("https://h/b/%2B%20~") == "/b/%2B%20~"


def test_canonical_query_sorts_by_name_then_value_and_fills_empty_values() -> None:
    url = "https://h/b?uploads&prefix=b&max-keys=2&prefix=a&&acl="
    assert canonical.canonical_query_string(url) == "acl=&max-keys=2&prefix=a&prefix=b&uploads="


@pytest.mark.parametrize("payload_hash", ["", "E3B0", "x" * 64, "STREAMING-FOO"])
def test_payload_hash_is_checked(payload_hash: str) -> None:
    with pytest.raises(ValueError, match="payload_hash"):
        canonical.canonical_request("GET", "https://h/", {"host": "h"}, payload_hash)


@pytest.mark.parametrize("method", ["get", "", "GET "])
def test_method_is_checked(method: str) -> None:
    with pytest.raises(ValueError, match="method"):
        canonical.canonical_request(method, "https://h/", {"host": "h"}, sigv4.EMPTY_SHA256)


# --- presign() -------------------------------------------------------------------------------


def _presign(url: str, expires: Any, creds: Credentials = S3_CREDENTIALS) -> str:
    return sigv4.presign(
        "GET", url, credentials=creds, region="us-east-1", now=S3_NOW, expires=expires
    )


@pytest.mark.parametrize("expires", [1, 604800])
def test_presign_accepts_expires_bounds(expires: int) -> None:
    assert f"X-Amz-Expires={expires}&" in _presign("https://h/b/k", expires)


@pytest.mark.parametrize("expires", [0, -1, 604801])
def test_presign_refuses_expires_out_of_range(expires: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 604800 seconds"):
        _presign("https://h/b/k", expires)


@pytest.mark.parametrize("expires", [True, 60.0, "60"])
def test_presign_refuses_expires_of_wrong_type(expires: Any) -> None:
    with pytest.raises(TypeError, match="expires"):
        _presign("https://h/b/k", expires)


def test_presign_signs_the_session_token_in_the_query() -> None:
    creds = Credentials("AKIDEXAMPLE", "secret", "tok/en+=")
    url = _presign("https://h/b/k", 60, creds)
    query = url.split("?", 1)[1]
    assert "X-Amz-Security-Token=tok%2Fen%2B%3D&" in query
    assert query.index("X-Amz-Security-Token") < query.index("X-Amz-Signature")
    assert _presign("https://h/b/k", 60, Credentials("AKIDEXAMPLE", "secret")) != url


def test_presign_keeps_the_callers_query() -> None:
    url = _presign("https://h/b/k?response-content-type=text%2Fplain", 60)
    assert url.startswith("https://h/b/k?response-content-type=text%2Fplain&X-Amz-Algorithm=")
    assert url.count("X-Amz-Signature=") == 1


def test_presign_refuses_an_already_presigned_url() -> None:
    with pytest.raises(ValueError, match="already carries"):
        _presign("https://h/b/k?X-Amz-Signature=abc", 60)


# --- aws-chunked helpers ---------------------------------------------------------------------


# Each frame costs len(hex size) + len(";chunk-signature=") 17 + 64 + 2 x CRLF 4 = hex + 85.
@pytest.mark.parametrize(
    ("decoded", "chunk_size", "expected"),
    [
        (0, 65536, 86),
        (65536, 65536, (65536 + 5 + 85) + 86),
        (10, 8, (8 + 1 + 85) + (2 + 1 + 85) + 86),
    ],
)
def test_encoded_length(decoded: int, chunk_size: int, expected: int) -> None:
    assert sigv4.encoded_length(decoded, chunk_size) == expected


@pytest.mark.parametrize(("decoded", "chunk_size"), [(-1, 8), (8, 0)])
def test_encoded_length_refuses_bad_sizes(decoded: int, chunk_size: int) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        sigv4.encoded_length(decoded, chunk_size)


@pytest.mark.parametrize(
    "header",
    [
        "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=A/x, SignedHeaders=host, Signature=ABC",
    ],
)
def test_signature_from_authorization_refuses_headers_without_one(header: str) -> None:
    with pytest.raises(ValueError, match="Signature"):
        sigv4.signature_from_authorization(header)


def test_sign_chunk_checks_the_previous_signature() -> None:
    with pytest.raises(ValueError, match="previous_signature"):
        sigv4.sign_chunk(b"x", "seed", credentials=S3_CREDENTIALS, region="us-east-1", now=S3_NOW)


# --- cross-check with botocore ---------------------------------------------------------------

KEY_ALPHABET = "aZ09-_.~/ +=&?#%!*'()$@,;:\u0416\u00e9\U0001f600"
HEADER_NAMES = ["Content-Type", "Cache-Control", "X-Amz-Meta-Note", "X-Amz-Acl", "Content-MD5"]
ENDPOINTS = ["http://127.0.0.1:9000", "https://s3.example.com", "http://[::1]:8080"]


def _random_request(rng: random.Random) -> tuple[str, dict[str, str], bytes]:
    key = "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randint(1, 40)))
    query = [
        (
            rng.choice(["prefix", "marker", "x-id", "uploads", "partNumber"]),
            rng.choice([None, "", "a b", "\u0416/+", "1"]),
        )
        for _ in range(rng.randint(0, 4))
    ]
    endpoint = parse_endpoint(rng.choice(ENDPOINTS))
    url = build_url(endpoint, "bucket", key, query)
    headers = {name: f"  v {rng.randint(0, 9)}   x " for name in rng.sample(HEADER_NAMES, 3)}
    headers["User-Agent"] = "rawS3-test"
    return url, headers, rng.randbytes(rng.randint(0, 64))


def _botocore_authorization(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    headers: dict[str, str],
    body: bytes,
    creds: Credentials,
) -> str:
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: S3_NOW.replace(tzinfo=None))
    request = botocore_awsrequest.AWSRequest(method="PUT", url=url, headers=headers, data=body)
    boto_creds = botocore_credentials.Credentials(
        creds.access_key, creds.secret_key, creds.session_token
    )
    botocore_auth.S3SigV4Auth(boto_creds, "s3", "eu-central-1").add_auth(request)
    return str(request.headers["Authorization"])


# Keys with "./" or "../" segments and "//" are included on purpose: botocore's S3 signer does
# not normalize paths either. Left out of the random headers: a Date header (botocore rewrites
# it from its own clock) and the trace headers botocore skips (baggage, traceparent,
# x-amzn-trace-id), which rawS3 never sends; user-agent is in, both skip it.
@pytest.mark.parametrize("seed", range(12))
def test_authorization_matches_botocore(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    url, headers, body = _random_request(rng)
    creds = Credentials("AKIDEXAMPLE", "secret/key+1", "token" if seed % 3 == 0 else None)
    ours = sigv4.sign(
        "PUT",
        url,
        headers,
        payload_hash=hashlib.sha256(body).hexdigest(),
        credentials=creds,
        region="eu-central-1",
        now=S3_NOW,
    )
    assert ours["Authorization"] == _botocore_authorization(monkeypatch, url, headers, body, creds)


@pytest.mark.parametrize(
    "key", ["plain", "a//b", "./x/../y", "a b+c~", "\u0416/\U0001f600", "!*'()$@"]
)
def test_authorization_matches_botocore_for_awkward_keys(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    url = build_url(parse_endpoint("https://s3.example.com"), "bucket", key, {"uploads": None})
    ours = sigv4.sign(
        "PUT",
        url,
        {},
        payload_hash=sigv4.EMPTY_SHA256,
        credentials=S3_CREDENTIALS,
        region="eu-central-1",
        now=S3_NOW,
    )
    assert ours["Authorization"] == _botocore_authorization(
        monkeypatch, url, {}, b"", S3_CREDENTIALS
    )


@pytest.mark.parametrize("token", [None, "tok/en+="])
def test_presigned_signature_matches_botocore(
    monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: S3_NOW.replace(tzinfo=None))
    url = build_url(parse_endpoint("http://127.0.0.1:9000"), "bucket", "a b/\u0416~")
    creds = Credentials("AKIDEXAMPLE", "secret", token)
    request = botocore_awsrequest.AWSRequest(method="GET", url=url)
    boto_creds = botocore_credentials.Credentials(creds.access_key, creds.secret_key, token)
    botocore_auth.S3SigV4QueryAuth(boto_creds, "s3", "us-east-1", expires=900).add_auth(request)
    ours = sigv4.presign("GET", url, credentials=creds, region="us-east-1", now=S3_NOW, expires=900)
    assert ours.rsplit("X-Amz-Signature=", 1)[1] == request.url.rsplit("X-Amz-Signature=", 1)[1]
