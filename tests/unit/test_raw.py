"""The raw API's prepared requests, with no server: each option changes exactly what it should.

Signatures are checked against botocore's signer (``S3SigV4Auth``, ``S3SigV4QueryAuth``) given
the same method, URL, headers and time; botocore has no signed aws-chunked framing, so the chunk
signatures are recomputed here from the published algorithm.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import inspect
from collections.abc import AsyncIterator, Mapping
from types import SimpleNamespace
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from rawS3 import Credentials, PreparedRequest, S3Client
from rawS3.raw import ChunkedBody, PrepareOptions, prepare_request
from rawS3.rawio import expected_statuses

ENDPOINT = "http://127.0.0.1:9000"
KEYS = Credentials("AKIDRAWTEST", "raw/test+secret-0123456789")
OTHER = Credentials("AKIDOTHER", "another-secret", "the-session-token")
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
LATER = NOW + datetime.timedelta(days=1, seconds=5)
KEY = "dir/a b+c!é~.txt"
DATA = b"hello, raw world\n" * 100
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SIGNING_HEADERS = {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}


def make_client(**options: Any) -> S3Client:
    return S3Client(ENDPOINT, KEYS.access_key, KEYS.secret_key, **options)


def prepare(method: str, bucket: str | None = "bkt", key: str | None = KEY, **options: Any) -> Any:
    options.setdefault("now", NOW)
    return make_client().prepare(method, bucket, key, **options)


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def signed_names(prepared: PreparedRequest) -> list[str]:
    authorization = lower(prepared.headers)["authorization"]
    return authorization.split("SignedHeaders=")[1].split(",")[0].split(";")


# -- an independent signer ------------------------------------------------------------------


class FixedPayloadAuth(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer, told which x-amz-content-sha256 to sign (as for a wrong hash)."""

    def __init__(self, credentials: Any, payload_hash: str) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self.payload_hash = payload_hash

    def payload(self, request: Any) -> str:
        return self.payload_hash


def botocore_headers(
    prepared: PreparedRequest,
    keys: Credentials = KEYS,
    *,
    payload_hash: str | None = None,
    sign_payload: bool = True,
    now: datetime.datetime = NOW,
    unsigned: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Sign the prepared request's method, URL, body and own headers again, with botocore."""
    kept = {
        name: value
        for name, value in prepared.headers.items()
        if name.lower() not in SIGNING_HEADERS | unsigned
    }
    body = prepared.body if isinstance(prepared.body, bytes) else None
    request = botocore.awsrequest.AWSRequest(
        method=prepared.method, url=prepared.url, headers=kept, data=body
    )
    request.context["client_config"] = SimpleNamespace(s3={"payload_signing_enabled": sign_payload})
    credentials = botocore.credentials.Credentials(
        keys.access_key, keys.secret_key, keys.session_token
    )
    signer = (
        botocore.auth.S3SigV4Auth(credentials, "s3", "us-east-1")
        if payload_hash is None
        else FixedPayloadAuth(credentials, payload_hash)
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=_naive(now)):
        signer.add_auth(request)
    return lower(dict(request.headers.items()))


def botocore_presigned(url: str, expires: int, now: datetime.datetime = NOW) -> str:
    request = botocore.awsrequest.AWSRequest(method="GET", url=url, headers={})
    credentials = botocore.credentials.Credentials(KEYS.access_key, KEYS.secret_key)
    signer = botocore.auth.S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=expires)
    with mock.patch("botocore.auth.get_current_datetime", return_value=_naive(now)):
        signer.add_auth(request)
    return str(request.url)


def _naive(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def assert_signed_as_botocore(prepared: PreparedRequest, **options: Any) -> None:
    ours = lower(prepared.headers)
    theirs = botocore_headers(prepared, **options)
    for name in ("x-amz-date", "x-amz-content-sha256", "authorization"):
        assert ours[name] == theirs[name], name


# -- header-signed requests -------------------------------------------------------------------


def test_a_plain_get_is_signed_as_botocore_signs_it() -> None:
    prepared = prepare("GET")

    assert prepared.method == "GET"
    assert prepared.url == f"{ENDPOINT}/bkt/dir/a%20b%2Bc%21%C3%A9~.txt"
    assert prepared.body is None
    assert lower(prepared.headers)["x-amz-content-sha256"] == EMPTY_SHA256
    assert lower(prepared.headers)["host"] == "127.0.0.1:9000"
    assert_signed_as_botocore(prepared)


def test_a_bytes_body_with_query_and_headers_is_signed_as_botocore_signs_it() -> None:
    prepared = prepare(
        "PUT",
        body=bytearray(DATA),
        query={"tagging": None, "versionId": "v 1/2"},
        headers={"Content-Type": "text/plain", "x-amz-meta-Owner": "  ann   b  "},
    )

    assert prepared.url.endswith("?tagging=&versionId=v%201%2F2")
    assert prepared.body == DATA
    assert type(prepared.body) is bytes
    assert lower(prepared.headers)["content-length"] == str(len(DATA))
    assert lower(prepared.headers)["x-amz-content-sha256"] == hashlib.sha256(DATA).hexdigest()
    assert_signed_as_botocore(prepared)


def test_unsigned_payload_is_signed_as_botocore_signs_it_without_a_body_hash() -> None:
    prepared = prepare("PUT", body=DATA, payload="unsigned")

    assert lower(prepared.headers)["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert prepared.body == DATA
    assert_signed_as_botocore(prepared, sign_payload=False)


def test_content_sha256_is_sent_and_signed_instead_of_the_body_hash() -> None:
    other = hashlib.sha256(b"other bytes").hexdigest()
    honest = prepare("PUT", body=DATA)
    tampered = prepare("PUT", body=DATA, content_sha256=other)

    assert lower(tampered.headers)["x-amz-content-sha256"] == other
    assert tampered.body == honest.body == DATA
    assert tampered.url == honest.url
    assert lower(tampered.headers)["authorization"] != lower(honest.headers)["authorization"]
    assert_signed_as_botocore(tampered, payload_hash=other)


def test_unsigned_headers_are_sent_but_not_signed() -> None:
    plain = prepare("PUT", body=DATA)
    extra = prepare("PUT", body=DATA, unsigned_headers={"x-amz-meta-note": "added later"})

    assert extra.headers["x-amz-meta-note"] == "added later"
    assert "x-amz-meta-note" not in signed_names(extra)
    assert extra.headers["Authorization"] == plain.headers["Authorization"]
    assert_signed_as_botocore(extra, unsigned=frozenset({"x-amz-meta-note"}))


def test_an_unsigned_header_named_like_a_signed_one_replaces_its_value_on_the_wire() -> None:
    signed = prepare("PUT", body=DATA, headers={"Content-Type": "text/plain"})
    tampered = prepare(
        "PUT",
        body=DATA,
        headers={"Content-Type": "text/plain"},
        unsigned_headers={"content-type": "image/png"},
    )

    assert lower(tampered.headers)["content-type"] == "image/png"
    assert list(lower(tampered.headers)).count("content-type") == 1
    assert "content-type" in signed_names(tampered)
    assert tampered.headers["Authorization"] == signed.headers["Authorization"]


def test_now_changes_the_date_and_the_signature_and_nothing_else() -> None:
    first, second = prepare("PUT", body=DATA), prepare("PUT", body=DATA, now=LATER)

    assert lower(second.headers)["x-amz-date"] == "20240502T120005Z"
    assert "/20240502/us-east-1/s3/aws4_request" in second.headers["Authorization"]
    changed = {
        n for n in lower(first.headers) if lower(first.headers)[n] != lower(second.headers)[n]
    }
    assert changed == {"x-amz-date", "authorization"}
    assert (first.url, first.body) == (second.url, second.body)
    assert_signed_as_botocore(second, now=LATER)


def test_credentials_sign_one_request_with_other_keys() -> None:
    prepared = prepare("GET", credentials=OTHER)

    assert "Credential=AKIDOTHER/" in prepared.headers["Authorization"]
    assert lower(prepared.headers)["x-amz-security-token"] == "the-session-token"
    assert "x-amz-security-token" in signed_names(prepared)
    assert_signed_as_botocore(prepared, keys=OTHER)
    assert "AKIDRAWTEST" in prepare("GET").headers["Authorization"]


def test_virtual_host_addressing_puts_the_bucket_in_host() -> None:
    client = S3Client("http://s3.example.test:9000", "AKIDRAWTEST", "s", addressing="virtual")
    prepared = client.prepare("GET", "bkt", "k", now=NOW)

    assert prepared.url == "http://bkt.s3.example.test:9000/k"
    assert prepared.headers["Host"] == "bkt.s3.example.test:9000"


# -- aws-chunked -----------------------------------------------------------------------------


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def chunk_signatures(seed: str, chunks: list[bytes], now: datetime.datetime = NOW) -> list[str]:
    """The chain of chunk signatures, from the published STREAMING-AWS4-HMAC-SHA256 rules."""
    day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    key = f"AWS4{KEYS.secret_key}".encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    scope = f"{day}/us-east-1/s3/aws4_request"
    signatures, previous = [], seed
    for chunk in [*chunks, b""]:
        text = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                stamp,
                scope,
                previous,
                EMPTY_SHA256,
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        signatures.append(previous)
    return signatures


def unframe(framed: bytes) -> list[tuple[bytes, str]]:
    """Split an aws-chunked body into (data, chunk-signature) frames, the empty last one too."""
    frames, rest = [], framed
    while rest:
        head, _, rest = rest.partition(b"\r\n")
        size_hex, _, signature = head.decode().partition(";chunk-signature=")
        size = int(size_hex, 16)
        frames.append((rest[:size], signature))
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    return frames


async def frames_of(body: ChunkedBody) -> bytes:
    return b"".join([frame async for frame in body])


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "async-iterable"])
async def test_chunked_frames_are_signed_in_a_chain_from_the_seed(streamed: bool) -> None:
    data = bytes(range(256)) * 100  # 25,600 bytes: two full 10,000-byte frames and a short one
    body = pieces(data, 777) if streamed else data
    prepared = prepare("PUT", body=body, size=len(data), payload="chunked", chunk_size=10_000)
    headers = lower(prepared.headers)
    assert isinstance(prepared.body, ChunkedBody)

    framed = await frames_of(prepared.body)

    assert headers["x-amz-content-sha256"] == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    assert headers["content-encoding"] == "aws-chunked"
    assert headers["x-amz-decoded-content-length"] == str(len(data))
    assert headers["content-length"] == str(len(framed))
    assert_signed_as_botocore(prepared, payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    frames = unframe(framed)
    chunks = [data[:10_000], data[10_000:20_000], data[20_000:]]
    assert [frame for frame, _ in frames] == [*chunks, b""]
    seed = headers["authorization"].rsplit("Signature=", 1)[1]
    assert prepared.body.seed_signature == seed
    assert [signature for _, signature in frames] == chunk_signatures(seed, chunks)


async def test_an_async_iterable_body_is_chunked_by_default_and_framed_once() -> None:
    prepared = prepare("PUT", body=pieces(DATA, 100), size=len(DATA))
    assert isinstance(prepared.body, ChunkedBody)

    assert not prepared.body.replayable
    assert len(unframe(await frames_of(prepared.body))) == 2
    with pytest.raises(ValueError, match="yielded 0 bytes"):
        await frames_of(prepared.body)


async def test_a_bytes_body_sent_chunked_can_be_framed_again() -> None:
    prepared = prepare("PUT", body=DATA, payload="chunked")
    assert isinstance(prepared.body, ChunkedBody)

    assert prepared.body.replayable
    assert await frames_of(prepared.body) == await frames_of(prepared.body)


async def test_a_source_yielding_the_wrong_size_fails_the_framing() -> None:
    prepared = prepare("PUT", body=pieces(DATA, 100), size=len(DATA) + 1)
    assert isinstance(prepared.body, ChunkedBody)

    with pytest.raises(ValueError, match="size="):
        await frames_of(prepared.body)


# -- anonymous and presigned -------------------------------------------------------------------


def test_anonymous_sends_no_authentication_at_all() -> None:
    prepared = prepare("GET", anonymous=True)

    assert prepared.url == f"{ENDPOINT}/bkt/dir/a%20b%2Bc%21%C3%A9~.txt"
    assert set(lower(prepared.headers)) == {"host"}
    assert "X-Amz-" not in prepared.url


def test_anonymous_sends_an_explicit_content_sha256_as_given() -> None:
    prepared = prepare("PUT", body=DATA, anonymous=True, content_sha256=EMPTY_SHA256)

    assert lower(prepared.headers) == {
        "host": "127.0.0.1:9000",
        "content-length": str(len(DATA)),
        "x-amz-content-sha256": EMPTY_SHA256,
    }


def test_presign_puts_the_signature_in_the_query_as_botocore_does() -> None:
    prepared = prepare("GET", presign=300, headers={"Range": "bytes=0-1"})

    assert set(lower(prepared.headers)) == {"host", "range"}
    query = dict(parse_qsl(urlsplit(prepared.url).query))
    assert query["X-Amz-Expires"] == "300"
    assert query["X-Amz-SignedHeaders"] == "host"
    plain = f"{ENDPOINT}/bkt/dir/a%20b%2Bc%21%C3%A9~.txt"
    theirs = dict(parse_qsl(urlsplit(botocore_presigned(plain, 300)).query))
    assert query == theirs
    assert prepared.url.startswith(plain + "?")


def test_presign_with_now_in_the_past_makes_an_expired_url() -> None:
    prepared = prepare("GET", presign=60, now=NOW - datetime.timedelta(hours=2))

    assert "X-Amz-Date=20240501T100000Z" in prepared.url


# -- values and refusals -----------------------------------------------------------------------


def test_a_prepared_request_is_a_read_only_value() -> None:
    prepared = prepare("PUT", body=DATA)

    with pytest.raises(AttributeError):
        prepared.url = "http://elsewhere/"  # type: ignore[misc]
    with pytest.raises(TypeError):
        prepared.headers["x-sneaky"] = "1"  # type: ignore[index]
    assert prepared == prepare("PUT", body=DATA)


def test_a_prepared_request_made_by_hand_copies_its_headers() -> None:
    headers = {"Host": "h"}
    prepared = PreparedRequest("GET", "http://h/", headers)
    headers["Host"] = "changed"

    assert prepared.headers == {"Host": "h"}


def test_repr_hides_the_signatures_and_the_token() -> None:
    header_signed = prepare("PUT", body=DATA, credentials=OTHER)
    presigned = prepare("GET", presign=60)
    signature = header_signed.headers["Authorization"].rsplit("=", 1)[1]
    query_signature = dict(parse_qsl(urlsplit(presigned.url).query))["X-Amz-Signature"]

    shown = repr(header_signed) + repr(presigned)

    assert signature not in shown
    assert query_signature not in shown
    assert "the-session-token" not in shown
    assert "Signature=***" in shown
    assert "X-Amz-Signature=***" in shown
    assert f"<{len(DATA)} bytes>" in shown


def test_prepare_needs_no_event_loop_and_signs_with_the_client_clock() -> None:
    client = make_client(clock=lambda: LATER.timestamp())

    prepared = client.prepare("GET", "bkt", "k")

    assert prepared.headers["x-amz-date"] == "20240502T120005Z"


def test_now_none_means_the_client_clock() -> None:
    client = make_client(clock=lambda: LATER.timestamp())

    assert client.prepare("GET", "bkt", "k", now=None).headers["x-amz-date"] == "20240502T120005Z"  # type: ignore[arg-type]


def test_prepare_works_on_a_closed_client_since_nothing_is_sent() -> None:
    import asyncio

    client = make_client()
    asyncio.run(client.close())

    assert client.prepare("GET", "bkt", "k").method == "GET"


def test_a_service_level_request_has_no_bucket_and_no_key() -> None:
    prepared = prepare("GET", None, None)

    assert prepared.url == f"{ENDPOINT}/"
    assert (prepared.bucket, prepared.key) == (None, None)


def test_bucket_names_are_not_held_to_s3_rules_so_servers_can_be_tested() -> None:
    assert prepare("GET", "Not_A_Valid.Bucket", None).url == f"{ENDPOINT}/Not_A_Valid.Bucket"


REFUSED: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "lower-case method": ({"method": "get"}, ValueError, "upper-case"),
    "anonymous presigned": ({"anonymous": True, "presign": 60}, ValueError, "exclude"),
    "anonymous with keys": ({"anonymous": True, "credentials": OTHER}, ValueError, "anonymous"),
    "presigned payload": ({"presign": 60, "payload": "unsigned"}, ValueError, "presigned"),
    "anonymous payload": ({"anonymous": True, "payload": "signed"}, ValueError, "anonymous"),
    "presigned stream": ({"presign": 60, "body": "stream", "size": 3}, ValueError, "stream"),
    "unknown payload": ({"payload": "UNSIGNED-PAYLOAD"}, ValueError, "payload must be"),
    "signed stream": ({"payload": "signed", "body": "stream", "size": 3}, ValueError, "bytes"),
    "stream without size": ({"body": "stream"}, ValueError, "size"),
    "size mismatch": ({"body": b"abc", "size": 4}, ValueError, "holds 3"),
    "size without body": ({"size": 4}, ValueError, "no body"),
    "str body": ({"body": "text"}, TypeError, "encode"),
    "expires too long": ({"presign": 604801}, ValueError, "expires"),
    "chunk size zero": (
        {"body": b"x", "payload": "chunked", "chunk_size": 0},
        ValueError,
        "chunk_size",
    ),
    "header with newline": ({"headers": {"x-a": "1\r\nx-b: 2"}}, ValueError, "CR or LF"),
    "unsigned not a mapping": ({"unsigned_headers": [("a", "b")]}, TypeError, "mapping"),
    "key not a str": ({"key": b"k"}, TypeError, "key must be"),
    "key without bucket": ({"bucket": None}, ValueError, "bucket"),
    "bad hash": ({"content_sha256": "not-a-hash"}, ValueError, "payload_hash"),
}


@pytest.mark.parametrize(("options", "error", "match"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_arguments(options: dict[str, Any], error: type[Exception], match: str) -> None:
    options = dict(options)
    if options.get("body") == "stream":
        options["body"] = pieces(b"abc", 1)
    method = options.pop("method", "PUT")
    bucket = options.pop("bucket", "bkt")
    key = options.pop("key", "k")

    with pytest.raises(error, match=match):
        prepare(method, bucket, key, **options)


def test_prepare_options_are_exactly_the_options_of_prepare_request() -> None:
    parameters = inspect.signature(prepare_request).parameters
    keyword_only = {n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY}

    assert set(PrepareOptions.__annotations__) == keyword_only


EXPECT = {
    "none": (None, None),
    "one": (200, frozenset({200})),
    "several": ({200, 204}, frozenset({200, 204})),
    "a list": ([404], frozenset({404})),
}


@pytest.mark.parametrize(("expect", "statuses"), EXPECT.values(), ids=EXPECT.keys())
def test_expect_is_normalized(expect: Any, statuses: frozenset[int] | None) -> None:
    assert expected_statuses(expect) == statuses


@pytest.mark.parametrize(
    ("expect", "error"),
    [(True, TypeError), ("200", TypeError), (99, ValueError), (600, ValueError), ([], ValueError)],
)
def test_expect_refuses_what_is_not_a_status(expect: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        expected_statuses(expect)
